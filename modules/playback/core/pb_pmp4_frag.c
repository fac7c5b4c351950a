/*
 * Fragmented MP4 clips cut exactly (see pb_pmp4_write_fragmented() in
 * pb_pmp4.h): the source's init section, then per source fragment a new
 * moof (one traf per track: tfhd with default-base-is-moof, tfdt v1, a trun
 * with every sample's duration, size, flags and composition offset) and the
 * mdat header in memory; the samples' bytes stay in the files (ranges).
 */
#include "pb_pmp4.h"
#include "pb_pmp4_wbuf.h"

#define SAMPLE_SYNC      0x02000000    /* sample_depends_on = 2: an I picture */
#define SAMPLE_NON_SYNC  0x01010000    /* depends on others, non-sync */

/* the decode time where a track's samples before start are stacked: its
 * first sample at or after start (MediaMTX: zero-duration pre-roll) */
static void
visible_start(const pb_pmp4_init_t *in, const pb_pmp4_samples_t *s, int64_t *v0)
{
    for (int t = 0; t < in->n; t++) {
        v0[t] = INT64_MIN;
    }
    for (size_t i = 0; i < s->n; i++) {
        const pb_pmp4_sample_t *x = &s->v[i];
        if (x->track < in->n && x->dts >= 0 && v0[x->track] == INT64_MIN) {
            v0[x->track] = x->dts;
        }
    }
}

static int
add_range(pb_pmp4_out_t *o, size_t *cap, uint32_t file, uint64_t offset, uint64_t length)
{
    if (o->nranges > 0 && file != PB_PMP4_HEAD && o->ranges[o->nranges - 1].file == file
        && o->ranges[o->nranges - 1].offset + o->ranges[o->nranges - 1].length == offset) {
        o->ranges[o->nranges - 1].length += length;
        return 0;
    }
    if (o->nranges == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        pb_pmp4_range_t *p = realloc(o->ranges, c * sizeof(*p));
        if (p == NULL) {
            return -1;
        }
        o->ranges = p;
        *cap = c;
    }
    o->ranges[o->nranges++] = (pb_pmp4_range_t) { .file = file, .offset = offset, .length = length };
    return 0;
}

int
pb_pmp4_write_fragmented(const pb_pmp4_init_t *in, const pb_pmp4_samples_t *s, pb_pmp4_out_t *out,
    char *err, size_t errlen)
{
    int64_t v0[PB_PMP4_MAX_TRACKS], last_end[PB_PMP4_MAX_TRACKS];
    size_t cap = 0;
    wbuf_t b = { 0 };
    memset(out, 0, sizeof(*out));
    if (s->n == 0) {
        return fail(err, errlen, "no samples in the clip");
    }
    visible_start(in, s, v0);
    for (int t = 0; t < in->n; t++) {
        last_end[t] = INT64_MIN;
    }
    put(&b, in->init, in->len);
    if (add_range(out, &cap, PB_PMP4_HEAD, 0, in->len) < 0) {
        goto oom;
    }
    uint32_t seq = 1;
    for (size_t g0 = 0; g0 < s->n;) {
        size_t g1 = g0;
        while (g1 < s->n && s->v[g1].frag == s->v[g0].frag) {
            g1++;
        }
        /* the moof: a traf per track present in the group, in track order */
        size_t moof_at = b.len;
        size_t mf = box_start(&b, "moof");
        size_t h = box_start(&b, "mfhd");
        full_box(&b, 0, 0);
        put32(&b, seq++);
        box_end(&b, h);
        size_t data_off_at[PB_PMP4_MAX_TRACKS];
        uint64_t payload = 0, track_payload[PB_PMP4_MAX_TRACKS];
        int present[PB_PMP4_MAX_TRACKS] = { 0 };
        for (int t = 0; t < in->n; t++) {
            uint32_t n = 0;
            int neg = 0;
            int64_t first = INT64_MIN;
            for (size_t i = g0; i < g1; i++) {
                const pb_pmp4_sample_t *x = &s->v[i];
                if (x->track == t) {
                    if (n++ == 0) {
                        first = x->dts < 0 && v0[t] != INT64_MIN ? v0[t] : x->dts;
                    }
                    neg |= x->cts < 0;
                }
            }
            if (n == 0) {
                continue;
            }
            if (first < 0 || first < last_end[t]) {
                free(b.p);
                pb_pmp4_out_free(out);
                return fail(err, errlen, "decode times of track %u go back", in->t[t].id);
            }
            present[t] = 1;
            size_t tf = box_start(&b, "traf");
            h = box_start(&b, "tfhd");
            full_box(&b, 0, 0x020000);           /* default-base-is-moof */
            put32(&b, in->t[t].id);
            box_end(&b, h);
            h = box_start(&b, "tfdt");
            full_box(&b, 1, 0);
            put64(&b, (uint64_t) first);
            box_end(&b, h);
            h = box_start(&b, "trun");
            full_box(&b, neg ? 1 : 0, 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800);
            put32(&b, n);
            data_off_at[t] = b.len;
            put32(&b, 0);
            track_payload[t] = payload;
            int64_t dts = first;
            for (size_t i = g0; i < g1; i++) {
                const pb_pmp4_sample_t *x = &s->v[i];
                if (x->track != t) {
                    continue;
                }
                /* before start: stacked at the first visible decode time, shown for no time */
                uint32_t d = x->dts < 0 && v0[t] != INT64_MIN ? 0 : x->duration;
                put32(&b, d);
                put32(&b, x->size);
                put32(&b, x->sync ? SAMPLE_SYNC : SAMPLE_NON_SYNC);
                put32(&b, (uint32_t) x->cts);
                payload += x->size;
                dts += d;
            }
            last_end[t] = dts;
            box_end(&b, h);
            box_end(&b, tf);
        }
        box_end(&b, mf);
        if (payload > UINT32_MAX - 8 || b.len - moof_at > UINT32_MAX / 2) {
            free(b.p);
            pb_pmp4_out_free(out);
            return fail(err, errlen, "fragment too large");
        }
        /* trun data offsets: from the moof, past the mdat header, to each track's bytes */
        uint64_t moof_len = b.len - moof_at;
        for (int t = 0; t < in->n; t++) {
            if (present[t]) {
                patch32(&b, data_off_at[t], (uint32_t) (moof_len + 8 + track_payload[t]));
            }
        }
        put32(&b, (uint32_t) (payload + 8));
        put(&b, "mdat", 4);
        if (b.oom || add_range(out, &cap, PB_PMP4_HEAD, moof_at, b.len - moof_at) < 0) {
            goto oom;
        }
        for (int t = 0; t < in->n; t++) {
            for (size_t i = g0; i < g1 && present[t]; i++) {
                const pb_pmp4_sample_t *x = &s->v[i];
                if (x->track == t && add_range(out, &cap, x->file, x->offset, x->size) < 0) {
                    goto oom;
                }
            }
        }
        g0 = g1;
    }
    if (b.oom) {
        goto oom;
    }
    out->head = b.p;
    out->head_len = b.len;
    for (size_t i = 0; i < out->nranges; i++) {
        out->total += out->ranges[i].length;
    }
    /* the presentation: from 0 to the end of the longest track */
    for (int t = 0; t < in->n; t++) {
        if (last_end[t] != INT64_MIN) {
            int64_t us = pb_pmp4_rescale(last_end[t], 1000000, in->t[t].timescale);
            if (us > out->duration_us) {
                out->duration_us = us;
            }
            out->ntracks++;
        }
    }
    return 0;
oom:
    free(b.p);
    pb_pmp4_out_free(out);
    return fail(err, errlen, "out of memory");
}
