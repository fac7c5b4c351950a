/* MP4 box iterator (see vms_mp4.h); its own object, so that a binary that reads boxes
 * (the playback module) does not link the file scanner. */
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
