/* libFuzzer: the plain MP4 path — an init section and fragments parsed into
 * samples (tfhd/trex defaults, data bases, trun), the cut, and the moov
 * writer.  Input: u16 length of the init section, the init section, then
 * moof boxes (each followed by whatever the file has, e.g. its mdat).
 * Both writers (plain and fragmented).  Checks what the server relies on:
 * every sample lies inside its fragment, the output's pieces cover the
 * boxes made and every sample once, the size announced is exact. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pb_pmp4.h"
#include "vms_bytes.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    size_t ilen = vms_be16(data);
    if (ilen > size - 2) {
        return 0;
    }
    const uint8_t *init = data + 2, *body = init + ilen;
    size_t blen = size - 2 - ilen;
    pb_pmp4_init_t in;
    if (pb_pmp4_init_parse(init, ilen, &in) < 0) {
        return 0;
    }
    pb_pmp4_samples_t s = { 0 };
    char err[128];
    int64_t shift[PB_PMP4_MAX_TRACKS], end[PB_PMP4_MAX_TRACKS];
    for (int t = 0; t < PB_PMP4_MAX_TRACKS; t++) {
        shift[t] = (int64_t) (t + 1) * 1000;
        end[t] = (int64_t) 1 << 40;
    }
    /* the body as fragments: each moof with its box size, the fragment running to the next moof */
    size_t off = 0;
    uint32_t nfile = 0;
    while (off + 8 <= blen) {
        uint32_t bsz = vms_be32(body + off);
        if (bsz < 8 || bsz > blen - off) {
            break;
        }
        size_t next = off + bsz;
        while (next + 8 <= blen && memcmp(body + next + 4, "moof", 4) != 0) {
            uint32_t n = vms_be32(body + next);
            if (n < 8 || n > blen - next) {
                next = blen;
                break;
            }
            next += n;
        }
        if (next > blen) {
            next = blen;
        }
        size_t before = s.n;
        if (memcmp(body + off + 4, "moof", 4) == 0
            && pb_pmp4_moof_samples(&in, body + off, bsz, off, next - off, nfile, shift, &s, err,
                                    sizeof(err)) == 0) {
            for (size_t i = before; i < s.n; i++) {
                if (s.v[i].offset < off || s.v[i].offset + s.v[i].size > next) {
                    __builtin_trap();
                }
                s.v[i].frag = (uint32_t) off;
            }
        }
        off = next;
        nfile = (nfile + 1) & 3;
    }
    pb_pmp4_cut(&s, &in, end);
    uint64_t samples = 0;
    for (size_t i = 0; i < s.n; i++) {
        samples += s.v[i].size;
    }
    for (int fragmented = 0; fragmented < 2; fragmented++) {
        pb_pmp4_out_t o;
        int rc = fragmented ? pb_pmp4_write_fragmented(&in, &s, &o, err, sizeof(err))
                            : pb_pmp4_write(&in, &s, &o, err, sizeof(err));
        if (rc < 0) {
            continue;
        }
        /* the pieces cover the head once and every sample's bytes once; the size is exact */
        uint64_t media = 0, head = 0, total = 0;
        for (size_t i = 0; i < o.nranges; i++) {
            const pb_pmp4_range_t *x = &o.ranges[i];
            if (x->file == PB_PMP4_HEAD) {
                if (x->offset != head || x->length > o.head_len - x->offset) {
                    __builtin_trap();
                }
                head += x->length;
            } else {
                media += x->length;
            }
            total += x->length;
        }
        if (media != samples || head != o.head_len || total != o.total || o.head_len < 16) {
            __builtin_trap();
        }
        pb_pmp4_out_free(&o);
    }
    pb_pmp4_samples_free(&s);
    return 0;
}
