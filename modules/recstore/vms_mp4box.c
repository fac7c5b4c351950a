/* MP4 box iterator and trak reader (see vms_mp4.h); their own object, so that a binary that
 * reads boxes (the playback module) does not link the file scanner. */
#include "vms_mp4.h"
#include "vms_bytes.h"

#include <string.h>

int
vms_mp4_box(const unsigned char *b, size_t end, size_t *off, char type[5], size_t *ps, size_t *pe)
{
    if (*off > end || end - *off < 8) {
        return -1;
    }
    uint64_t sz = vms_be32(b + *off);
    size_t hdr = 8;
    memcpy(type, b + *off + 4, 4);
    type[4] = 0;
    if (sz == 1) {
        if (end - *off < 16) {
            return -1;
        }
        sz = vms_be64(b + *off + 8);
        hdr = 16;
    } else if (sz == 0) {
        sz = end - *off;
    }
    if (sz < hdr || sz > end - *off) {
        return -1;
    }
    *ps = *off + hdr;
    *pe = *off + (size_t) sz;
    *off = *pe;
    return 0;
}

void
vms_mp4_trak(const unsigned char *b, size_t ps, size_t pe, vms_mp4_trak_t *t)
{
    char type[5];
    size_t o2 = ps, s2, e2;

    memset(t, 0, sizeof(*t));
    while (o2 < pe && vms_mp4_box(b, pe, &o2, type, &s2, &e2) == 0) {
        if (strcmp(type, "tkhd") == 0 && e2 - s2 >= 24) {
            t->id = vms_be32(b + s2 + (b[s2] == 1 ? 20 : 12));
        } else if (strcmp(type, "mdia") == 0) {
            size_t o3 = s2, s3, e3;
            while (o3 < e2 && vms_mp4_box(b, e2, &o3, type, &s3, &e3) == 0) {
                if (strcmp(type, "mdhd") == 0 && e3 - s3 >= 24) {
                    t->timescale = vms_be32(b + s3 + (b[s3] == 1 ? 20 : 12));
                } else if (strcmp(type, "hdlr") == 0 && e3 - s3 >= 12) {
                    t->video = memcmp(b + s3 + 8, "vide", 4) == 0;
                }
            }
        }
    }
}
