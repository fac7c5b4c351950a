/* Playback planning (see pb_plan.h). */
#include "pb_plan.h"

#include <stdlib.h>
#include <string.h>

int
pb_continuous(const vms_index_entry_t *a, const vms_index_entry_t *b)
{
    return !(b->flags & VMS_SEG_DISCONTINUITY) && b->nfrags > 0;
}

/* The byte range and times of e within c's range; 0 with *empty when none. */
static int
cut(vms_index_reader_t *r, vms_index_entry_t *e, const pb_plan_conf_t *c, pb_piece_t *p,
    int *empty, char *err, size_t errlen)
{
    int64_t end = e->start_us + e->duration_us;
    *empty = 0;
    p->seg = e;
    if (!(e->flags & VMS_SEG_OPEN) && e->start_us >= c->from_us && end <= c->to_us) {
        p->offset = e->init_size;
        p->length = e->bytes - e->init_size;
        p->start_us = e->start_us;
        p->duration_us = e->duration_us;
        *empty = p->length == 0;
        return 0;
    }
    int rc = vms_index_frags(r, e, err, errlen);
    if (rc < 0) {
        return rc;
    }
    if (e->nfrags == 0) {
        if (e->flags & VMS_SEG_OPEN) {
            *empty = 1;          /* nothing complete yet */
            return 0;
        }
        p->offset = e->init_size;
        p->length = e->bytes - e->init_size;
        p->start_us = e->start_us;
        p->duration_us = e->duration_us;
        *empty = p->length == 0;
        return 0;
    }
    const vms_index_fragment_t *f = e->frags;
    uint32_t i0 = 0, i1;
    while (i0 + 1 < e->nfrags && e->start_us + f[i0 + 1].start_us <= c->from_us) {
        i0++;
    }
    if (c->keyframe_start) {
        uint32_t k = i0;
        while (k > 0 && !(f[k].flags & VMS_FRAG_KEY)) {
            k--;
        }
        i0 = k;
    }
    i1 = i0;
    while (i1 + 1 < e->nfrags && e->start_us + f[i1 + 1].start_us < c->to_us) {
        i1++;
    }
    if (e->start_us + f[i1].start_us + f[i1].duration_us <= c->from_us
        || e->start_us + f[i0].start_us >= c->to_us) {
        *empty = 1;
        return 0;
    }
    p->offset = f[i0].offset;
    p->length = f[i1].offset + f[i1].size - f[i0].offset;
    p->start_us = e->start_us + f[i0].start_us;
    p->duration_us = f[i1].start_us + f[i1].duration_us - f[i0].start_us;
    return 0;
}

int
pb_plan_build(vms_index_reader_t *r, vms_index_result_t *res, const pb_plan_conf_t *c,
    pb_plan_t *out, char *err, size_t errlen)
{
    out->n = 0;
    out->v = res->n ? malloc(res->n * sizeof(*out->v)) : NULL;
    if (res->n && out->v == NULL) {
        return VMS_INDEX_ENOMEM;
    }
    const vms_index_entry_t *prev = NULL;
    for (size_t i = 0; i < res->n; i++) {
        pb_piece_t p;
        int empty;
        memset(&p, 0, sizeof(p));
        int rc = cut(r, &res->v[i], c, &p, &empty, err, errlen);
        if (rc < 0) {
            pb_plan_free(out);
            return rc;
        }
        if (empty) {
            continue;
        }
        if (out->n > 0) {
            const pb_piece_t *q = &out->v[out->n - 1];
            int64_t hole = p.start_us - (q->start_us + q->duration_us);
            p.gap = hole > c->gap_us;
            p.disc = p.gap || hole < -c->gap_us || !pb_continuous(prev, p.seg);
            if (c->clip && !c->skip_gaps
                && (p.gap || hole < -c->gap_us || (p.seg->flags & VMS_SEG_DISCONTINUITY))) {
                break;
            }
        }
        p.out_us = out->n ? out->v[out->n - 1].out_us + out->v[out->n - 1].duration_us : 0;
        out->v[out->n++] = p;
        prev = p.seg;
    }
    return 0;
}

void
pb_plan_free(pb_plan_t *p)
{
    free(p->v);
    p->v = NULL;
    p->n = 0;
}

size_t
pb_spans(const vms_index_result_t *res, int64_t from_us, int64_t to_us, int64_t gap_us,
    pb_span_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < res->n; i++) {
        int64_t s = res->v[i].start_us, e = s + res->v[i].duration_us;
        if (s < from_us) {
            s = from_us;
        }
        if (e > to_us) {
            e = to_us;
        }
        if (e <= s) {
            continue;
        }
        if (n > 0 && s - out[n - 1].end_us <= gap_us) {
            if (e > out[n - 1].end_us) {
                out[n - 1].end_us = e;
            }
            continue;
        }
        out[n].start_us = s;
        out[n].end_us = e;
        n++;
    }
    return n;
}
