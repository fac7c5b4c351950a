#include "keysize.h"

#include <string.h>

static int
is_slice(vms_keysize_codec_t codec, const uint8_t *nal, size_t len)
{
    unsigned t;

    if (codec == VMS_KEYSIZE_H264) {
        t = nal[0] & 0x1f;
        return t >= 1 && t <= 5;
    }
    t = (nal[0] >> 1) & 0x3f;
    return len >= 2 && t <= 31;            /* VCL */
}

static void
take(vms_keysize_codec_t codec, const uint8_t *nal, size_t len,
    vms_keysize_t *out)
{
    if (len > 0 && is_slice(codec, nal, len)) {
        out->slices++;
        out->bytes += len;
    }
}

/* Start of the next start code (00 00 01) at or after p, or end. */
static const uint8_t *
find_start(const uint8_t *p, const uint8_t *end)
{
    while (end - p >= 3) {
        const uint8_t *one = memchr(p + 2, 1, (size_t) (end - p - 2));
        if (one == NULL) {
            break;
        }
        if (one[-1] == 0 && one[-2] == 0) {
            return one - 2;
        }
        p = one - 1;
    }
    return end;
}

static int
walk_annexb(vms_keysize_codec_t codec, const uint8_t *p, const uint8_t *end,
    vms_keysize_t *out)
{
    p = find_start(p, end);
    while (p < end) {
        const uint8_t *nal = p + 3, *next = find_start(nal, end), *last;

        last = next;
        while (last > nal && last[-1] == 0) {
            last--;              /* trailing zeros, a 4-byte start code */
        }
        take(codec, nal, (size_t) (last - nal), out);
        p = next;
    }
    return 0;
}

static int
walk_prefixed(vms_keysize_codec_t codec, const uint8_t *p, const uint8_t *end,
    int lensize, vms_keysize_t *out)
{
    while (end - p >= lensize) {
        size_t len = 0;
        int    i;

        for (i = 0; i < lensize; i++) {
            len = len << 8 | p[i];
        }
        p += lensize;
        if (len > (size_t) (end - p)) {
            return -1;
        }
        take(codec, p, len, out);
        p += len;
    }
    return p == end ? 0 : -1;
}

int
vms_keysize(vms_keysize_codec_t codec, const uint8_t *extradata,
    size_t extralen, const uint8_t *data, size_t len, vms_keysize_t *out)
{
    int  lensize = 0, rc;

    memset(out, 0, sizeof(*out));
    if (codec != VMS_KEYSIZE_H264 && codec != VMS_KEYSIZE_H265) {
        out->slices = 1;
        out->bytes = len;
        return 0;
    }
    if (extradata != NULL && extralen > 0 && extradata[0] == 1) {
        /* avcC: lengthSizeMinusOne at byte 4; hvcC: at byte 21 */
        if (codec == VMS_KEYSIZE_H264 && extralen >= 7) {
            lensize = (extradata[4] & 3) + 1;
        } else if (codec == VMS_KEYSIZE_H265 && extralen >= 23) {
            lensize = (extradata[21] & 3) + 1;
        } else {
            return -1;
        }
    }
    rc = lensize ? walk_prefixed(codec, data, data + len, lensize, out)
                 : walk_annexb(codec, data, data + len, out);
    if (rc != 0 || out->slices == 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    return 0;
}

int
vms_keysize_may_match(const vms_keysize_t *a, const vms_keysize_t *b)
{
    uint64_t d;

    if (a->slices == 0 || a->slices != b->slices) {
        return 0;
    }
    d = a->bytes > b->bytes ? a->bytes - b->bytes : b->bytes - a->bytes;
    return d <= (uint64_t) VMS_KEYSIZE_SLACK * a->slices;
}
