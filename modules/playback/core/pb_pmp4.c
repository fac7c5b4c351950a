/* Plain MP4 clips: fragment parsing and the cut (see pb_pmp4.h). */
#include "pb_pmp4.h"
#include "vms_bytes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* trun / tfhd flags (ISO/IEC 14496-12 8.8.7, 8.8.8) */
#define TFHD_BASE_OFFSET    0x000001
#define TFHD_DESC_INDEX     0x000002
#define TFHD_DEF_DURATION   0x000008
#define TFHD_DEF_SIZE       0x000010
#define TFHD_DEF_FLAGS      0x000020
#define TFHD_BASE_IS_MOOF   0x020000
#define TRUN_DATA_OFFSET    0x000001
#define TRUN_FIRST_FLAGS    0x000004
#define TRUN_DURATION       0x000100
#define TRUN_SIZE           0x000200
#define TRUN_FLAGS          0x000400
#define TRUN_CTS            0x000800
#define SAMPLE_NON_SYNC     0x00010000

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int64_t
pb_pmp4_rescale(int64_t v, int64_t num, int64_t den)
{
    if (den <= 0) {
        return 0;
    }
    __int128 x = (__int128) v * num;
    x = x >= 0 ? (x + den / 2) / den : -((-x + den / 2) / den);
    if (x > INT64_MAX) {
        return INT64_MAX;
    }
    if (x < INT64_MIN) {
        return INT64_MIN;
    }
    return (int64_t) x;
}

int
pb_pmp4_init_parse(const unsigned char *b, size_t len, pb_pmp4_init_t *in)
{
    size_t off = 0, ps, pe;
    char type[5];
    memset(in, 0, sizeof(*in));
    in->init = b;
    in->len = len;
    while (off < len) {
        if (vms_mp4_box(b, len, &off, type, &ps, &pe) < 0) {
            return -1;
        }
        if (strcmp(type, "moov") != 0) {
            continue;
        }
        size_t o1 = ps, s1, e1;
        while (o1 < pe) {
            size_t at = o1;
            if (vms_mp4_box(b, pe, &o1, type, &s1, &e1) < 0) {
                return -1;
            }
            if (strcmp(type, "trak") == 0) {
                if (in->n == PB_PMP4_MAX_TRACKS) {
                    continue;          /* as pb_fmp4_tracks(): the first ones */
                }
                pb_pmp4_track_t *t = &in->t[in->n];
                t->trak_off = at;
                t->trak_len = e1 - at;
                vms_mp4_trak_t k;
                vms_mp4_trak(b, s1, e1, &k);
                t->id = k.id;
                t->timescale = k.timescale;
                if (t->id == 0 || t->timescale == 0) {
                    return -1;
                }
                for (int i = 0; i < in->n; i++) {
                    if (in->t[i].id == t->id) {
                        return -1;     /* two tracks with one id: fragments would be ambiguous */
                    }
                }
                in->n++;
            } else if (strcmp(type, "mvex") == 0) {
                size_t o2 = s1, s2, e2;
                while (o2 < e1 && vms_mp4_box(b, e1, &o2, type, &s2, &e2) == 0) {
                    if (strcmp(type, "trex") != 0 || e2 - s2 < 24) {
                        continue;
                    }
                    uint32_t id = vms_be32(b + s2 + 4);
                    for (int i = 0; i < in->n; i++) {
                        if (in->t[i].id == id) {
                            in->t[i].def_dur = vms_be32(b + s2 + 12);
                            in->t[i].def_size = vms_be32(b + s2 + 16);
                            in->t[i].def_flags = vms_be32(b + s2 + 20);
                        }
                    }
                }
            }
        }
    }
    return in->n > 0 ? 0 : -1;
}

static int
push(pb_pmp4_samples_t *s, const pb_pmp4_sample_t *v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        if (cap > PB_PMP4_MAX_SAMPLES) {
            cap = PB_PMP4_MAX_SAMPLES;
        }
        if (s->n >= cap) {
            return -1;
        }
        pb_pmp4_sample_t *p = realloc(s->v, cap * sizeof(*p));
        if (p == NULL) {
            return -2;
        }
        s->v = p;
        s->cap = cap;
    }
    s->v[s->n++] = *v;
    return 0;
}

/* One traf: its tfhd defaults, tfdt and truns, appended as samples. */
static int
parse_traf(const pb_pmp4_init_t *in, const unsigned char *b, size_t ps, size_t pe, uint64_t moof_off,
    uint64_t frag_end, uint64_t *next_base, int first_traf, uint32_t file, const int64_t *shift,
    pb_pmp4_samples_t *out, char *err, size_t errlen)
{
    char type[5];
    size_t off = ps, s2, e2;
    int k = -1, have_tfdt = 0;
    uint32_t def_dur = 0, def_size = 0, def_flags = 0;
    uint64_t base = 0;
    int64_t dts = 0;
    /* tfhd and tfdt come before the truns (8.8.6), but do not rely on it */
    while (off < pe) {
        if (vms_mp4_box(b, pe, &off, type, &s2, &e2) < 0) {
            return fail(err, errlen, "malformed traf");
        }
        const unsigned char *p = b + s2;
        size_t n = e2 - s2;
        if (strcmp(type, "tfhd") == 0) {
            if (n < 8) {
                return fail(err, errlen, "short tfhd");
            }
            uint32_t fl = vms_be32(p) & 0xffffff, id = vms_be32(p + 4);
            size_t q = 8;
            for (int i = 0; i < in->n; i++) {
                if (in->t[i].id == id) {
                    k = i;
                }
            }
            if (k < 0) {
                return fail(err, errlen, "fragment of track %u, not in the init section", id);
            }
            def_dur = in->t[k].def_dur;
            def_size = in->t[k].def_size;
            def_flags = in->t[k].def_flags;
            size_t need = 8 + ((fl & TFHD_BASE_OFFSET) ? 8 : 0) + ((fl & TFHD_DESC_INDEX) ? 4 : 0)
                          + ((fl & TFHD_DEF_DURATION) ? 4 : 0) + ((fl & TFHD_DEF_SIZE) ? 4 : 0)
                          + ((fl & TFHD_DEF_FLAGS) ? 4 : 0);
            if (n < need) {
                return fail(err, errlen, "short tfhd");
            }
            /* the data base (8.8.7.1): explicit, else the moof for the first traf or with
             * default-base-is-moof, else where the previous traf's data ended */
            base = (first_traf || (fl & TFHD_BASE_IS_MOOF)) ? moof_off : *next_base;
            if (fl & TFHD_BASE_OFFSET) {
                base = vms_be64(p + q);
                q += 8;
            }
            if (fl & TFHD_DESC_INDEX) {
                q += 4;
            }
            if (fl & TFHD_DEF_DURATION) {
                def_dur = vms_be32(p + q);
                q += 4;
            }
            if (fl & TFHD_DEF_SIZE) {
                def_size = vms_be32(p + q);
                q += 4;
            }
            if (fl & TFHD_DEF_FLAGS) {
                def_flags = vms_be32(p + q);
            }
        } else if (strcmp(type, "tfdt") == 0) {
            if (n < 8 || (p[0] == 1 && n < 12)) {
                return fail(err, errlen, "short tfdt");
            }
            uint64_t v = p[0] == 1 ? vms_be64(p + 4) : vms_be32(p + 4);
            if (v > (uint64_t) INT64_MAX / 2) {
                return fail(err, errlen, "tfdt out of range");
            }
            have_tfdt = 1;
            dts = (int64_t) v;
        }
    }
    if (k < 0) {
        return fail(err, errlen, "traf without tfhd");
    }
    if (!have_tfdt) {
        return fail(err, errlen, "traf without tfdt");
    }
    if (shift[k] > INT64_MAX / 2 || shift[k] < -(INT64_MAX / 2)) {
        return fail(err, errlen, "decode time shift out of range");
    }
    dts -= shift[k];
    /* within +-2^61 (and at most 2^52 more from the durations of one clip's samples): steps
     * between any two decode times of a clip fit an int64 */
    if (dts > ((int64_t) 1 << 61) || dts < -((int64_t) 1 << 61)) {
        return fail(err, errlen, "decode time out of range");
    }
    uint64_t data = base;
    off = ps;
    while (off < pe) {
        if (vms_mp4_box(b, pe, &off, type, &s2, &e2) < 0) {
            return fail(err, errlen, "malformed traf");
        }
        if (strcmp(type, "trun") != 0) {
            continue;
        }
        const unsigned char *p = b + s2;
        size_t n = e2 - s2;
        if (n < 8) {
            return fail(err, errlen, "short trun");
        }
        int v1 = p[0] == 1;
        uint32_t fl = vms_be32(p) & 0xffffff, cnt = vms_be32(p + 4), first_flags = 0;
        size_t q = 8;
        if (fl & TRUN_DATA_OFFSET) {
            if (q + 4 > n) {
                return fail(err, errlen, "short trun");
            }
            int32_t d = (int32_t) vms_be32(p + q);
            if (d < 0 && (uint64_t) -(int64_t) d > base) {
                return fail(err, errlen, "trun data offset before the file");
            }
            data = base + (uint64_t) (int64_t) d;
            q += 4;
        }
        if (fl & TRUN_FIRST_FLAGS) {
            if (q + 4 > n) {
                return fail(err, errlen, "short trun");
            }
            first_flags = vms_be32(p + q);
            q += 4;
        }
        size_t per = ((fl & TRUN_DURATION) ? 4 : 0) + ((fl & TRUN_SIZE) ? 4 : 0)
                     + ((fl & TRUN_FLAGS) ? 4 : 0) + ((fl & TRUN_CTS) ? 4 : 0);
        if (q > n || (per && (n - q) / per < cnt)) {
            return fail(err, errlen, "trun shorter than its sample count");
        }
        if (!per && cnt > PB_PMP4_MAX_SAMPLES) {
            return fail(err, errlen, "too many samples");
        }
        for (uint32_t i = 0; i < cnt; i++) {
            pb_pmp4_sample_t s = { .duration = def_dur, .size = def_size, .file = file,
                                   .track = (uint8_t) k };
            uint32_t sf = (i == 0 && (fl & TRUN_FIRST_FLAGS)) ? first_flags : def_flags;
            if (fl & TRUN_DURATION) {
                s.duration = vms_be32(p + q);
                q += 4;
            }
            if (fl & TRUN_SIZE) {
                s.size = vms_be32(p + q);
                q += 4;
            }
            if (fl & TRUN_FLAGS) {
                uint32_t f = vms_be32(p + q);
                q += 4;
                if (!(i == 0 && (fl & TRUN_FIRST_FLAGS))) {
                    sf = f;
                }
            }
            if (fl & TRUN_CTS) {
                uint32_t c = vms_be32(p + q);
                q += 4;
                if (!v1 && c > INT32_MAX) {
                    return fail(err, errlen, "composition offset out of range");
                }
                s.cts = (int32_t) c;
            }
            s.sync = !(sf & SAMPLE_NON_SYNC);
            s.offset = data;
            s.dts = dts;
            /* the sample's bytes lie inside its fragment, as the index describes it */
            if (data < moof_off || data > frag_end || s.size > frag_end - data) {
                return fail(err, errlen, "sample data outside its fragment");
            }
            int rc = push(out, &s);
            if (rc < 0) {
                return fail(err, errlen, rc == -1 ? "too many samples" : "out of memory");
            }
            data += s.size;
            dts += s.duration;
        }
    }
    *next_base = data;
    return 0;
}

int
pb_pmp4_moof_samples(const pb_pmp4_init_t *in, const unsigned char *b, size_t len,
    uint64_t moof_off, uint64_t frag_size, uint32_t file, const int64_t *shift,
    pb_pmp4_samples_t *out, char *err, size_t errlen)
{
    size_t off = 0, ps, pe;
    char type[5];
    if (frag_size > UINT64_MAX - moof_off) {
        return fail(err, errlen, "fragment size out of range");
    }
    if (vms_mp4_box(b, len, &off, type, &ps, &pe) < 0 || strcmp(type, "moof") != 0) {
        return fail(err, errlen, "not a moof box");
    }
    uint64_t next_base = moof_off;
    int first = 1;
    size_t o1 = ps, s1, e1;
    while (o1 < pe) {
        if (vms_mp4_box(b, pe, &o1, type, &s1, &e1) < 0) {
            return fail(err, errlen, "malformed moof");
        }
        if (strcmp(type, "traf") != 0) {
            continue;
        }
        if (parse_traf(in, b, s1, e1, moof_off, moof_off + frag_size, &next_base, first, file, shift,
                       out, err, errlen) < 0) {
            return -1;
        }
        first = 0;
    }
    return 0;
}

void
pb_pmp4_cut(pb_pmp4_samples_t *s, const pb_pmp4_init_t *in, const int64_t *end)
{
    size_t first_kept[PB_PMP4_MAX_TRACKS];
    int found[PB_PMP4_MAX_TRACKS] = { 0 };
    /* per track: the sync sample at or before the first sample with dts >= 0 (MediaMTX keeps the
     * GOP that holds start); without one, the first sync sample after it */
    for (int t = 0; t < in->n; t++) {
        size_t last_sync = SIZE_MAX;
        int visible = 0;
        for (size_t i = 0; i < s->n; i++) {
            const pb_pmp4_sample_t *x = &s->v[i];
            if (x->track != t) {
                continue;
            }
            visible |= x->dts >= 0;
            if (x->sync) {
                last_sync = i;
            }
            if (visible && last_sync != SIZE_MAX) {
                first_kept[t] = last_sync;
                found[t] = 1;
                break;
            }
        }
    }
    size_t n = 0;
    int64_t prev_dts[PB_PMP4_MAX_TRACKS];
    size_t prev_at[PB_PMP4_MAX_TRACKS];
    for (int t = 0; t < in->n; t++) {
        prev_at[t] = SIZE_MAX;
        prev_dts[t] = 0;
    }
    for (size_t i = 0; i < s->n; i++) {
        pb_pmp4_sample_t x = s->v[i];
        int t = x.track;
        if (t >= in->n || !found[t] || i < first_kept[t] || x.dts >= end[t]
            || (prev_at[t] != SIZE_MAX && x.dts < prev_dts[t])) {
            continue;                  /* outside the clip, or going back in time */
        }
        if (prev_at[t] != SIZE_MAX) {
            int64_t step = x.dts - prev_dts[t];
            s->v[prev_at[t]].duration = step > UINT32_MAX ? UINT32_MAX : (uint32_t) step;
        }
        prev_at[t] = n;
        prev_dts[t] = x.dts;
        s->v[n++] = x;
    }
    s->n = n;
}

void
pb_pmp4_samples_free(pb_pmp4_samples_t *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}
