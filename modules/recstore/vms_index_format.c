/*
 * Segment index: the format helpers its reader and writer share (checksums,
 * file headers, record checks, day file names).  Layout in vms_index_format.h.
 */
#include "vms_index_format.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- format helpers ---- */

static uint32_t crc_table[256];

static void
crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        crc_table[i] = c;
    }
}

uint32_t
vmsi_crc32(uint32_t crc, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    if (crc_table[1] == 0) {
        crc_init();     /* idempotent; racing initializers write the same values */
    }
    crc = ~crc;
    while (len--) {
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

uint32_t
vmsi_block_crc(const vmsi_block_header_t *h, const vms_index_fragment_t *f)
{
    uint32_t c = vmsi_crc32(0, h, offsetof(vmsi_block_header_t, crc));
    return vmsi_crc32(c, f, (size_t) h->nfrags * sizeof(*f));
}

void
vmsi_header_init(vmsi_file_header_t *h, const char *magic, uint32_t record_size,
    int64_t day_start_us)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, magic, 8);
    h->version = VMSI_VERSION;
    h->record_size = record_size;
    h->day_start_us = day_start_us;
    h->crc = vmsi_crc32(0, h, offsetof(vmsi_file_header_t, crc));
}

const char *
vmsi_header_check(const vmsi_file_header_t *h, const char *magic, uint32_t record_size)
{
    if (memcmp(h->magic, magic, 8) != 0) {
        return "bad magic (not a vms index file of this kind)";
    }
    if (h->crc != vmsi_crc32(0, h, offsetof(vmsi_file_header_t, crc))) {
        return "header checksum mismatch";
    }
    if (h->version != VMSI_VERSION) {
        return "unsupported index version";
    }
    if (h->record_size != record_size) {
        return "unexpected record size";
    }
    return NULL;
}

int
vmsi_path_ok(const char *p, size_t len)
{
    if (len == 0 || p[0] == '/') {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char) p[i] < 0x20 || p[i] == '\\') {
            return 0;
        }
        /* ".." as a whole component */
        if (p[i] == '.' && i + 1 < len && p[i + 1] == '.'
            && (i == 0 || p[i - 1] == '/') && (i + 2 == len || p[i + 2] == '/')) {
            return 0;
        }
    }
    return 1;
}

const char *
vmsi_record_check(const vmsi_seg_record_t *r)
{
    if (r->crc != vmsi_crc32(0, r, offsetof(vmsi_seg_record_t, crc))) {
        return "record checksum mismatch";
    }
    size_t len = strnlen(r->path, VMS_INDEX_PATH_MAX);
    if (len == VMS_INDEX_PATH_MAX || !vmsi_path_ok(r->path, len)) {
        return "record has an invalid path";
    }
    if (r->duration_us < 0 || r->start_us <= 0 || r->nfrags > VMSI_MAX_FRAGS
        || r->init_size > r->bytes) {
        return "record has invalid times or sizes";
    }
    return NULL;
}

int64_t
vmsi_day_of(int64_t us)
{
    return us >= 0 ? us / VMSI_DAY_US : -((-us + VMSI_DAY_US - 1) / VMSI_DAY_US);
}

int
vmsi_day_path(char *buf, size_t len, const char *camera_dir, int64_t day, const char *ext)
{
    time_t t = (time_t) (day * 86400);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) {
        return -1;
    }
    int n = snprintf(buf, len, "%s/" VMS_INDEX_DIRNAME "/%04d-%02d-%02d.%s", camera_dir,
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, ext);
    return n < 0 || (size_t) n >= len ? -1 : 0;
}

int
vmsi_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}
