/*
 * Plain MP4 clips: the writer (see pb_pmp4.h).  ftyp + moov (sample tables)
 * + mdat, the mdat payload being the samples' bytes in their original order
 * (fragment by fragment, a run of each track's samples per fragment): each
 * run is one chunk, and runs contiguous in a file are one byte range.  From
 * the init section it copies what describes the codec (tkhd, hdlr, stsd,
 * vmhd/smhd, dinf) and writes the rest.
 */
#include "pb_pmp4.h"
#include "pb_pmp4_wbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOVIE_TIMESCALE 1000

static const uint32_t matrix[9] = { 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000 };

/* What the writer needs to know per written track. */
typedef struct {
    int       src;            /* index in pb_pmp4_init_t */
    uint32_t  id;
    size_t    nsamples;
    uint64_t  sum_dur;        /* track timescale */
    int64_t   first_dts;      /* <0: samples before start (hidden); >0: an empty edit first */
    int       non_sync, cts, cts_neg;
    int64_t   pres;           /* presentation duration, track timescale */
} wtrack_t;

static void
write_stts(wbuf_t *b, const pb_pmp4_samples_t *s, int t)
{
    size_t at = box_start(b, "stts");
    full_box(b, 0, 0);
    size_t cnt_at = b->len;
    put32(b, 0);
    uint32_t entries = 0, run = 0, delta = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].track != t) {
            continue;
        }
        if (run > 0 && s->v[i].duration == delta) {
            run++;
            continue;
        }
        if (run > 0) {
            put32(b, run);
            put32(b, delta);
            entries++;
        }
        run = 1;
        delta = s->v[i].duration;
    }
    if (run > 0) {
        put32(b, run);
        put32(b, delta);
        entries++;
    }
    patch32(b, cnt_at, entries);
    box_end(b, at);
}

static void
write_stss(wbuf_t *b, const pb_pmp4_samples_t *s, int t)
{
    size_t at = box_start(b, "stss");
    full_box(b, 0, 0);
    size_t cnt_at = b->len;
    put32(b, 0);
    uint32_t entries = 0, k = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].track != t) {
            continue;
        }
        k++;
        if (s->v[i].sync) {
            put32(b, k);
            entries++;
        }
    }
    patch32(b, cnt_at, entries);
    box_end(b, at);
}

static void
write_ctts(wbuf_t *b, const pb_pmp4_samples_t *s, int t, int version)
{
    size_t at = box_start(b, "ctts");
    full_box(b, (uint8_t) version, 0);
    size_t cnt_at = b->len;
    put32(b, 0);
    uint32_t entries = 0, run = 0;
    int32_t off = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].track != t) {
            continue;
        }
        if (run > 0 && s->v[i].cts == off) {
            run++;
            continue;
        }
        if (run > 0) {
            put32(b, run);
            put32(b, (uint32_t) off);
            entries++;
        }
        run = 1;
        off = s->v[i].cts;
    }
    if (run > 0) {
        put32(b, run);
        put32(b, (uint32_t) off);
        entries++;
    }
    patch32(b, cnt_at, entries);
    box_end(b, at);
}

/* stsc, stsz and stco/co64 (offsets relative to the mdat payload; the
 * caller adds the header's length at *chunk_at) */
static void
write_chunks(wbuf_t *b, const pb_pmp4_samples_t *s, int t, int co64, size_t *chunk_at,
    uint32_t *nchunks)
{
    /* stsc: a chunk is a run of this track's samples in the output order */
    size_t at = box_start(b, "stsc");
    full_box(b, 0, 0);
    size_t cnt_at = b->len;
    put32(b, 0);
    uint32_t entries = 0, chunk = 0, per = 0, last_per = 0;
    int prev_t = -1;
    for (size_t i = 0; i <= s->n; i++) {
        int cur = i < s->n ? s->v[i].track : -1;
        if (prev_t == t && cur != t) {          /* a chunk of t ends */
            chunk++;
            if (per != last_per) {
                put32(b, chunk);
                put32(b, per);
                put32(b, 1);
                entries++;
                last_per = per;
            }
            per = 0;
        }
        if (cur == t) {
            per++;
        }
        prev_t = cur;
    }
    patch32(b, cnt_at, entries);
    box_end(b, at);
    *nchunks = chunk;

    at = box_start(b, "stsz");
    full_box(b, 0, 0);
    uint32_t n = 0, same = 0;
    int uniform = 1;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].track == t) {
            if (n > 0 && s->v[i].size != same) {
                uniform = 0;
            }
            same = s->v[i].size;
            n++;
        }
    }
    put32(b, uniform ? same : 0);
    put32(b, n);
    if (!uniform) {
        for (size_t i = 0; i < s->n; i++) {
            if (s->v[i].track == t) {
                put32(b, s->v[i].size);
            }
        }
    }
    box_end(b, at);

    at = box_start(b, co64 ? "co64" : "stco");
    full_box(b, 0, 0);
    put32(b, chunk);
    *chunk_at = b->len;
    uint64_t pos = 0;
    prev_t = -1;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].track == t && prev_t != t) {
            if (co64) {
                put64(b, pos);
            } else {
                put32(b, (uint32_t) pos);
            }
        }
        prev_t = s->v[i].track;
        pos += s->v[i].size;
    }
    box_end(b, at);
}

/* A version-0 box when every value fits 32 bits, else version 1. */
static void
write_mdhd(wbuf_t *b, uint32_t timescale, uint64_t duration, const unsigned char *lang)
{
    size_t at = box_start(b, "mdhd");
    if (duration > UINT32_MAX) {
        full_box(b, 1, 0);
        put64(b, 0);
        put64(b, 0);
        put32(b, timescale);
        put64(b, duration);
    } else {
        full_box(b, 0, 0);
        put32(b, 0);
        put32(b, 0);
        put32(b, timescale);
        put32(b, (uint32_t) duration);
    }
    if (lang != NULL) {
        put(b, lang, 2);
    } else {
        put16(b, 0x55c4);            /* "und" */
    }
    put16(b, 0);
    box_end(b, at);
}

static void
write_elst(wbuf_t *b, const wtrack_t *w, uint32_t timescale)
{
    uint64_t sum_mv = (uint64_t) pb_pmp4_rescale((int64_t) w->sum_dur, MOVIE_TIMESCALE, timescale);
    size_t at = box_start(b, "edts");
    size_t el = box_start(b, "elst");
    full_box(b, 1, 0);
    if (w->first_dts > 0) {
        /* the track starts after the clip's start: an empty edit, then all of it */
        put32(b, 2);
        put64(b, (uint64_t) pb_pmp4_rescale(w->first_dts, MOVIE_TIMESCALE, timescale));
        put64(b, UINT64_MAX);        /* media_time -1: empty */
        put32(b, 0x00010000);
        put64(b, sum_mv);
        put64(b, 0);
        put32(b, 0x00010000);
    } else {
        /* samples before start (from their keyframe) are decoded, not shown */
        int64_t shown = pb_pmp4_rescale((int64_t) w->sum_dur + w->first_dts, MOVIE_TIMESCALE,
                                        timescale);
        put32(b, 1);
        put64(b, shown > 0 ? (uint64_t) shown : 0);
        put64(b, (uint64_t) -w->first_dts);
        put32(b, 0x00010000);
    }
    box_end(b, el);
    box_end(b, at);
}

/* minf with stbl rebuilt: stsd copied, the sample tables written */
static int
write_minf(wbuf_t *b, const unsigned char *init, size_t ps, size_t pe, const pb_pmp4_samples_t *s,
    const wtrack_t *w, int co64, size_t *chunk_at, uint32_t *nchunks)
{
    char type[5];
    size_t off = ps, s1, e1;
    int have_stsd = 0;
    size_t at = box_start(b, "minf");
    while (off < pe) {
        size_t bat = off;
        if (vms_mp4_box(init, pe, &off, type, &s1, &e1) < 0) {
            return -1;
        }
        if (strcmp(type, "stbl") != 0) {
            copy_box(b, init, bat, e1);         /* vmhd/smhd/nmhd, dinf */
            continue;
        }
        size_t st = box_start(b, "stbl");
        size_t o2 = s1, s2, e2;
        while (o2 < e1) {
            size_t sat = o2;
            if (vms_mp4_box(init, e1, &o2, type, &s2, &e2) < 0) {
                return -1;
            }
            if (strcmp(type, "stsd") == 0 && !have_stsd) {
                copy_box(b, init, sat, e2);
                have_stsd = 1;
            }
        }
        if (!have_stsd) {
            return -1;
        }
        write_stts(b, s, w->src);
        if (w->non_sync) {
            write_stss(b, s, w->src);
        }
        if (w->cts) {
            write_ctts(b, s, w->src, w->cts_neg);
        }
        write_chunks(b, s, w->src, co64, chunk_at, nchunks);
        box_end(b, st);
    }
    box_end(b, at);
    return have_stsd ? 0 : -1;
}

static int
write_trak(wbuf_t *b, const pb_pmp4_init_t *in, const pb_pmp4_samples_t *s, const wtrack_t *w,
    int co64, size_t *chunk_at, uint32_t *nchunks)
{
    const pb_pmp4_track_t *tr = &in->t[w->src];
    const unsigned char *init = in->init;
    char type[5];
    size_t off = tr->trak_off, ps, pe;
    if (vms_mp4_box(init, in->len, &off, type, &ps, &pe) < 0) {
        return -1;
    }
    int have_tkhd = 0, have_minf = 0;
    uint64_t pres_mv = (uint64_t) pb_pmp4_rescale(w->pres, MOVIE_TIMESCALE, tr->timescale);
    size_t at = box_start(b, "trak");
    size_t o1 = ps, s1, e1;
    while (o1 < pe) {
        size_t bat = o1;
        if (vms_mp4_box(init, pe, &o1, type, &s1, &e1) < 0) {
            return -1;
        }
        if (strcmp(type, "tkhd") == 0) {
            /* the source's (size, matrix, volume, layer), with this clip's duration */
            size_t n = e1 - s1;
            int v1 = init[s1] == 1;
            if (n < (size_t) (v1 ? 92 : 80) || have_tkhd) {
                return -1;
            }
            size_t tk = b->len;
            copy_box(b, init, bat, e1);
            if (b->oom) {
                return -1;
            }
            unsigned char *p = b->p + tk + (s1 - bat);
            p[3] |= 0x03;                              /* enabled, in movie */
            if (v1) {
                for (int i = 0; i < 8; i++) {
                    p[28 + i] = (unsigned char) (pres_mv >> (56 - 8 * i));
                }
            } else {
                uint32_t d = pres_mv > UINT32_MAX ? UINT32_MAX : (uint32_t) pres_mv;
                p[20] = (unsigned char) (d >> 24);
                p[21] = (unsigned char) (d >> 16);
                p[22] = (unsigned char) (d >> 8);
                p[23] = (unsigned char) d;
            }
            have_tkhd = 1;
            write_elst(b, w, tr->timescale);
        } else if (strcmp(type, "mdia") == 0) {
            if (!have_tkhd) {
                return -1;
            }
            size_t md = box_start(b, "mdia");
            const unsigned char *lang = NULL;
            size_t hdlr_at = 0, hdlr_end = 0, minf_s = 0, minf_e = 0;
            size_t o2 = s1, s2, e2;
            while (o2 < e1) {
                size_t a2 = o2;
                if (vms_mp4_box(init, e1, &o2, type, &s2, &e2) < 0) {
                    return -1;
                }
                if (strcmp(type, "mdhd") == 0 && e2 - s2 >= (size_t) (init[s2] == 1 ? 34 : 22)) {
                    lang = init + s2 + (init[s2] == 1 ? 32 : 20);
                } else if (strcmp(type, "hdlr") == 0) {
                    hdlr_at = a2;
                    hdlr_end = e2;
                } else if (strcmp(type, "minf") == 0) {
                    minf_s = s2;
                    minf_e = e2;
                }
            }
            if (hdlr_end == 0 || minf_e == 0) {
                return -1;
            }
            write_mdhd(b, tr->timescale, w->sum_dur, lang);
            copy_box(b, init, hdlr_at, hdlr_end);
            if (write_minf(b, init, minf_s, minf_e, s, w, co64, chunk_at, nchunks) < 0) {
                return -1;
            }
            box_end(b, md);
            have_minf = 1;
        }
        /* edts (ours replaces it), tref, udta, meta: left out */
    }
    box_end(b, at);
    return have_tkhd && have_minf ? 0 : -1;
}

static void
write_mvhd(wbuf_t *b, uint64_t duration, uint32_t next_id)
{
    size_t at = box_start(b, "mvhd");
    if (duration > UINT32_MAX) {
        full_box(b, 1, 0);
        put64(b, 0);
        put64(b, 0);
        put32(b, MOVIE_TIMESCALE);
        put64(b, duration);
    } else {
        full_box(b, 0, 0);
        put32(b, 0);
        put32(b, 0);
        put32(b, MOVIE_TIMESCALE);
        put32(b, (uint32_t) duration);
    }
    put32(b, 0x00010000);            /* rate 1.0 */
    put16(b, 0x0100);                /* volume 1.0 */
    put16(b, 0);
    put64(b, 0);
    for (int i = 0; i < 9; i++) {
        put32(b, matrix[i]);
    }
    for (int i = 0; i < 6; i++) {
        put32(b, 0);
    }
    put32(b, next_id);
    box_end(b, at);
}

int
pb_pmp4_write(const pb_pmp4_init_t *in, const pb_pmp4_samples_t *s, pb_pmp4_out_t *out,
    char *err, size_t errlen)
{
    wtrack_t w[PB_PMP4_MAX_TRACKS];
    int nw = 0;
    uint64_t payload = 0;
    uint32_t max_id = 0;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].track >= in->n) {
            return fail(err, errlen, "sample of an unknown track");
        }
        payload += s->v[i].size;
    }
    for (int t = 0; t < in->n; t++) {
        wtrack_t x = { .src = t, .id = in->t[t].id };
        for (size_t i = 0; i < s->n; i++) {
            const pb_pmp4_sample_t *v = &s->v[i];
            if (v->track != t) {
                continue;
            }
            if (x.nsamples++ == 0) {
                x.first_dts = v->dts;
            }
            x.sum_dur += v->duration;
            x.non_sync |= !v->sync;
            x.cts |= v->cts != 0;
            x.cts_neg |= v->cts < 0;
        }
        if (x.nsamples == 0) {
            continue;
        }
        x.pres = (int64_t) x.sum_dur + x.first_dts;
        if (x.pres < 0) {
            x.pres = 0;
        }
        if (x.id > max_id) {
            max_id = x.id;
        }
        w[nw++] = x;
    }
    if (nw == 0) {
        return fail(err, errlen, "no samples in the clip");
    }
    /* 32-bit chunk offsets unless the file could pass 4 GiB (a generous bound on the moov) */
    uint64_t moov_bound = in->len + 4096 * (uint64_t) nw + 40 * (uint64_t) s->n;
    int co64 = payload + moov_bound > UINT32_MAX;
    int large_mdat = payload + 8 > UINT32_MAX;

    wbuf_t b = { 0 };
    size_t ft = box_start(&b, "ftyp");
    put(&b, "isom", 4);
    put32(&b, 0x200);
    put(&b, "isomiso2mp41", 12);
    box_end(&b, ft);

    size_t chunk_at[PB_PMP4_MAX_TRACKS];
    uint32_t nchunks[PB_PMP4_MAX_TRACKS];
    int64_t pres_mv = 0;
    for (int i = 0; i < nw; i++) {
        int64_t p = pb_pmp4_rescale(w[i].pres, MOVIE_TIMESCALE, in->t[w[i].src].timescale);
        if (p > pres_mv) {
            pres_mv = p;
        }
        int64_t us = pb_pmp4_rescale(w[i].pres, 1000000, in->t[w[i].src].timescale);
        if (us > out->duration_us) {
            out->duration_us = us;
        }
    }
    size_t mv = box_start(&b, "moov");
    write_mvhd(&b, (uint64_t) pres_mv, max_id + 1);
    for (int i = 0; i < nw; i++) {
        if (write_trak(&b, in, s, &w[i], co64, &chunk_at[i], &nchunks[i]) < 0) {
            free(b.p);
            return fail(err, errlen, "init section unusable for a plain MP4 (track %u)", w[i].id);
        }
    }
    box_end(&b, mv);
    if (large_mdat) {
        put32(&b, 1);
        put(&b, "mdat", 4);
        put64(&b, payload + 16);
    } else {
        put32(&b, (uint32_t) (payload + 8));
        put(&b, "mdat", 4);
    }
    if (b.oom) {
        free(b.p);
        return fail(err, errlen, "out of memory");
    }
    /* chunk offsets were relative to the payload; the header comes first */
    uint64_t head = b.len;
    for (int i = 0; i < nw; i++) {
        unsigned char *p = b.p + chunk_at[i];
        for (uint32_t c = 0; c < nchunks[i]; c++) {
            if (co64) {
                uint64_t v = vms_be64(p) + head;
                for (int k = 0; k < 8; k++) {
                    p[k] = (unsigned char) (v >> (56 - 8 * k));
                }
                p += 8;
            } else {
                uint32_t v = vms_be32(p) + (uint32_t) head;
                p[0] = (unsigned char) (v >> 24);
                p[1] = (unsigned char) (v >> 16);
                p[2] = (unsigned char) (v >> 8);
                p[3] = (unsigned char) v;
                p += 4;
            }
        }
    }
    /* the payload: the samples' bytes, runs contiguous in a file merged */
    size_t nr = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (i == 0 || s->v[i].file != s->v[i - 1].file
            || s->v[i].offset != s->v[i - 1].offset + s->v[i - 1].size) {
            nr++;
        }
    }
    out->ranges = malloc((nr + 1) * sizeof(*out->ranges));
    if (out->ranges == NULL) {
        free(b.p);
        return fail(err, errlen, "out of memory");
    }
    out->ranges[0] = (pb_pmp4_range_t) { .file = PB_PMP4_HEAD, .offset = 0, .length = b.len };
    nr = 1;
    for (size_t i = 0; i < s->n; i++) {
        const pb_pmp4_sample_t *v = &s->v[i];
        if (nr > 1 && v->file == out->ranges[nr - 1].file
            && v->offset == out->ranges[nr - 1].offset + out->ranges[nr - 1].length) {
            out->ranges[nr - 1].length += v->size;
            continue;
        }
        out->ranges[nr++] = (pb_pmp4_range_t) { .file = v->file, .offset = v->offset, .length = v->size };
    }
    out->nranges = nr;
    out->head = b.p;
    out->head_len = b.len;
    out->total = head + payload;
    out->ntracks = nw;
    return 0;
}

void
pb_pmp4_out_free(pb_pmp4_out_t *o)
{
    free(o->head);
    free(o->ranges);
    o->head = NULL;
    o->ranges = NULL;
    o->nranges = 0;
}
