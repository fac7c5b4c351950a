/*
 * On-disk layout of the segment index (internal to vms_index*.c; the
 * public API is vms_index.h, the description docs/index-format.md).
 *
 * {camera_dir}/.index/
 *   YYYY-MM-DD.seg   file header + fixed 256-byte segment records, sorted by
 *                    start, one per closed segment that starts that UTC day
 *   YYYY-MM-DD.frag  file header + one fragment block per segment record
 *                    (block header + nfrags 32-byte fragment records)
 *   open             file header + one segment record + its fragment block:
 *                    the segment being written (replaced by rename)
 *   lock             flock()ed by writers
 *
 * All integers little-endian (native on every platform we build for).
 */
#ifndef VMS_INDEX_FORMAT_H
#define VMS_INDEX_FORMAT_H

#include <stdint.h>
#include <stddef.h>
#include "vms_index.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vms_index: the on-disk format is little-endian; add byte swapping for this platform"
#endif

#define VMSI_VERSION        1
#define VMSI_MAGIC_SEG      "VMSISEG1"
#define VMSI_MAGIC_FRAG     "VMSIFRG1"
#define VMSI_MAGIC_OPEN     "VMSIOPN1"
#define VMSI_BLOCK_MAGIC    0x42524656u      /* "VFRB" */
#define VMSI_DAY_US         86400000000LL
#define VMSI_MAX_FRAGS      100000u          /* sanity bound per segment */

typedef struct {
    char      magic[8];
    uint32_t  version;
    uint32_t  record_size;     /* 256 for .seg/open, 32 for .frag */
    int64_t   day_start_us;    /* UTC midnight of the day (0 for open) */
    uint8_t   reserved[36];
    uint32_t  crc;             /* crc32 of bytes 0..59 */
} vmsi_file_header_t;          /* 64 bytes */

typedef struct {
    int64_t   start_us;
    int64_t   duration_us;
    uint64_t  bytes;
    uint64_t  frag_off;        /* offset of the fragment block in .frag */
    uint32_t  init_size;
    uint32_t  flags;
    uint32_t  nfrags;
    uint32_t  reserved0;
    char      path[VMS_INDEX_PATH_MAX];   /* NUL-terminated */
    int64_t   media_time_us;   /* with VMS_SEG_MEDIA_TIME */
    uint8_t   reserved[36];
    uint32_t  crc;             /* crc32 of bytes 0..251 */
} vmsi_seg_record_t;           /* 256 bytes */

typedef struct {
    uint32_t  magic;           /* VMSI_BLOCK_MAGIC */
    uint32_t  nfrags;
    int64_t   seg_start_us;    /* must equal the segment record's start */
    uint8_t   reserved[12];
    uint32_t  crc;             /* crc32 of the header bytes 0..27, then the fragments */
} vmsi_block_header_t;         /* 32 bytes, followed by nfrags vms_index_fragment_t */

_Static_assert(sizeof(vmsi_file_header_t) == 64, "file header is 64 bytes");
_Static_assert(sizeof(vmsi_seg_record_t) == 256, "segment record is 256 bytes");
_Static_assert(sizeof(vmsi_block_header_t) == 32, "block header is 32 bytes");
_Static_assert(sizeof(vms_index_fragment_t) == 32, "fragment record is 32 bytes");

uint32_t vmsi_crc32(uint32_t crc, const void *buf, size_t len);
uint32_t vmsi_block_crc(const vmsi_block_header_t *h, const vms_index_fragment_t *f);
void vmsi_header_init(vmsi_file_header_t *h, const char *magic, uint32_t record_size,
    int64_t day_start_us);
/* 0 when h is a valid header with this magic and record size; else a reason. */
const char *vmsi_header_check(const vmsi_file_header_t *h, const char *magic,
    uint32_t record_size);
/* NULL when r is a valid record; else a reason. */
const char *vmsi_record_check(const vmsi_seg_record_t *r);
/* A relative path with no ".." component, backslash or control byte: 1 or 0. */
int vmsi_path_ok(const char *p, size_t len);
/* "{camera_dir}/.index/YYYY-MM-DD.seg" etc.; -1 if it does not fit. */
int vmsi_day_path(char *buf, size_t len, const char *camera_dir, int64_t day,
    const char *ext);
int64_t vmsi_day_of(int64_t us);

/* Formats the reason into err (when err is not NULL) and returns rc. */
int vmsi_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif /* VMS_INDEX_FORMAT_H */
