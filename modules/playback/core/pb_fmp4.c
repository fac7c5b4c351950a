/* Serve-time fMP4 helpers (see pb_fmp4.h). */
#include "pb_fmp4.h"
#include "vms_bytes.h"

#include <string.h>

int
pb_fmp4_tracks(const unsigned char *b, size_t len, pb_fmp4_tracks_t *t)
{
    size_t off = 0, ps, pe;
    char type[5];
    t->n = 0;
    while (off < len) {
        if (vms_mp4_box(b, len, &off, type, &ps, &pe) < 0) {
            return -1;
        }
        if (strcmp(type, "moov") != 0) {
            continue;
        }
        size_t o1 = ps, s1, e1;
        while (o1 < pe) {
            if (vms_mp4_box(b, pe, &o1, type, &s1, &e1) < 0) {
                return -1;
            }
            if (strcmp(type, "trak") != 0 || t->n == PB_FMP4_MAX_TRACKS) {
                continue;
            }
            vms_mp4_trak_t k;
            vms_mp4_trak(b, s1, e1, &k);
            uint32_t id = k.id, ts = k.timescale;
            if (id == 0 || ts == 0) {
                return -1;
            }
            t->id[t->n] = id;
            t->timescale[t->n] = ts;
            t->n++;
        }
    }
    return t->n > 0 ? 0 : -1;
}

int
pb_fmp4_moof_tfdt(unsigned char *b, size_t len, const pb_fmp4_tracks_t *t, int64_t *first,
    const int64_t *shift)
{
    size_t off = 0, ps, pe;
    char type[5];
    if (first != NULL) {
        for (int i = 0; i < t->n; i++) {
            first[i] = -1;
        }
    }
    if (vms_mp4_box(b, len, &off, type, &ps, &pe) < 0 || strcmp(type, "moof") != 0) {
        return -1;
    }
    size_t o1 = ps, s1, e1;
    while (o1 < pe) {
        if (vms_mp4_box(b, pe, &o1, type, &s1, &e1) < 0) {
            return -1;
        }
        if (strcmp(type, "traf") != 0) {
            continue;
        }
        int k = -1;
        size_t o2 = s1, s2, e2, tfdt_at = 0, tfdt_end = 0;
        while (o2 < e1) {
            if (vms_mp4_box(b, e1, &o2, type, &s2, &e2) < 0) {
                return -1;
            }
            if (strcmp(type, "tfhd") == 0 && e2 - s2 >= 8) {
                uint32_t id = vms_be32(b + s2 + 4);
                for (int i = 0; i < t->n; i++) {
                    if (t->id[i] == id) {
                        k = i;
                    }
                }
            } else if (strcmp(type, "tfdt") == 0) {
                tfdt_at = s2;
                tfdt_end = e2;
            }
        }
        if (k < 0 || tfdt_at == 0) {
            continue;
        }
        int v1 = b[tfdt_at] == 1;
        if (tfdt_end - tfdt_at < (size_t) (v1 ? 12 : 8)) {
            return -1;
        }
        int64_t v = v1 ? (int64_t) vms_be64(b + tfdt_at + 4) : (int64_t) vms_be32(b + tfdt_at + 4);
        if (v < 0) {
            return -1;
        }
        if (first != NULL && first[k] < 0) {
            first[k] = v;
        }
        if (shift != NULL) {
            int64_t nv = v - shift[k];
            if (nv < 0) {
                nv = 0;
            }
            if (v1) {
                vms_put_be32(b + tfdt_at + 4, (uint32_t) ((uint64_t) nv >> 32));
                vms_put_be32(b + tfdt_at + 8, (uint32_t) nv);
            } else if (nv > (int64_t) UINT32_MAX) {
                return -1;
            } else {
                vms_put_be32(b + tfdt_at + 4, (uint32_t) nv);
            }
        }
    }
    return 0;
}

/* The n-th trak's stsd payload (moov/trak/mdia/minf/stbl/stsd); 0 or -1. */
static int
nth_stsd(const unsigned char *b, size_t len, int n, const unsigned char **out, size_t *olen)
{
    static const char *path[] = { "mdia", "minf", "stbl", "stsd" };
    size_t off = 0, ps, pe;
    char type[5];
    while (off < len) {
        if (vms_mp4_box(b, len, &off, type, &ps, &pe) < 0) {
            return -1;
        }
        if (strcmp(type, "moov") != 0) {
            continue;
        }
        size_t o1 = ps, s1, e1;
        while (o1 < pe) {
            if (vms_mp4_box(b, pe, &o1, type, &s1, &e1) < 0) {
                return -1;
            }
            if (strcmp(type, "trak") != 0 || n-- > 0) {
                continue;
            }
            for (size_t d = 0; d < 4; d++) {
                size_t o2 = s1, s2 = 0, e2 = 0;
                int found = 0;
                while (o2 < e1 && vms_mp4_box(b, e1, &o2, type, &s2, &e2) == 0) {
                    if (strcmp(type, path[d]) == 0) {
                        found = 1;
                        break;
                    }
                }
                if (!found) {
                    return -1;
                }
                s1 = s2;
                e1 = e2;
            }
            *out = b + s1;
            *olen = e1 - s1;
            return 0;
        }
    }
    return -1;
}

int
pb_fmp4_init_compatible(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
    pb_fmp4_tracks_t ta, tb;
    if (pb_fmp4_tracks(a, alen, &ta) < 0 || pb_fmp4_tracks(b, blen, &tb) < 0 || ta.n != tb.n) {
        return 0;
    }
    for (int i = 0; i < ta.n; i++) {
        const unsigned char *sa, *sb;
        size_t la, lb;
        if (ta.id[i] != tb.id[i] || ta.timescale[i] != tb.timescale[i]
            || nth_stsd(a, alen, i, &sa, &la) < 0 || nth_stsd(b, blen, i, &sb, &lb) < 0
            || la != lb || memcmp(sa, sb, la) != 0) {
            return 0;
        }
    }
    return 1;
}
