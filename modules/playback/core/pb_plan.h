/*
 * Playback planning: from the index entries overlapping a range to the byte
 * ranges to serve (one piece per segment file, cut at fragment boundaries),
 * with gaps and discontinuities marked; merged spans for /timeline and
 * /list; and the text of playlists and JSON answers.  nginx-free.
 */
#ifndef PB_PLAN_H
#define PB_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include "vms_index.h"

typedef struct {
    int64_t  from_us, to_us;      /* asked range [from, to) */
    int64_t  gap_us;              /* larger holes between segments are gaps */
    int      keyframe_start;      /* start at a keyframe fragment at or before from */
    int      clip;                /* one file: stop at a gap or a new connection ... */
    int      skip_gaps;           /* ... unless gaps are to be bridged (gaps=skip) */
} pb_plan_conf_t;

typedef struct {
    const vms_index_entry_t *seg;
    uint64_t  offset, length;     /* bytes of the file served (after the init section) */
    int64_t   start_us, duration_us;   /* wall clock of those bytes */
    int64_t   out_us;             /* where the piece starts on the output timeline */
    int       gap;                /* recording missing before this piece */
    int       disc;               /* HLS discontinuity before this piece */
} pb_piece_t;

typedef struct {
    pb_piece_t  *v;
    size_t       n;
} pb_plan_t;

typedef struct {
    int64_t  start_us, end_us;
} pb_span_t;

/* 0; or VMS_INDEX_E* (corrupt fragments) with err.  An empty plan is 0, n 0. */
int pb_plan_build(vms_index_reader_t *r, vms_index_result_t *res, const pb_plan_conf_t *c,
    pb_plan_t *out, char *err, size_t errlen);
void pb_plan_free(pb_plan_t *p);

/* Contiguous segments (holes <= gap_us) merged, clipped to [from, to).
 * out has room for res->n spans; returns the count. */
size_t pb_spans(const vms_index_result_t *res, int64_t from_us, int64_t to_us, int64_t gap_us,
    pb_span_t *out);

/* Whether b may follow a on one output timeline without an HLS
 * discontinuity: the same connection (so the same codec parameters), and a
 * fragment table to rebase with.  The decode times need not run on: media
 * requests carry the output time and the server rebases each moof's tfdt
 * (pb_fmp4.h). */
int pb_continuous(const vms_index_entry_t *a, const vms_index_entry_t *b);

typedef struct {
    char    *p;
    size_t   len, cap;
    int      oom;
} pb_buf_t;

void pb_buf_add(pb_buf_t *b, const char *s, size_t len);
void pb_buf_printf(pb_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pb_buf_free(pb_buf_t *b);

/* HLS v7 VOD playlist.  Media URIs are media_prefix + seg path +
 * "?s={segment start us}&t={output time of the file's first fragment, us}"
 * (the server rebases decode times to it) + "&" + extra_arg when extra_arg
 * is not empty (e.g. "jwt=..." carried over from the request); the init
 * section's URI is media_prefix + path (+ "?" + extra_arg). */
void pb_render_playlist(pb_buf_t *b, const pb_plan_t *plan, const char *media_prefix,
    const char *extra_arg);

/* {"camera_id":..,"start":..,"end":..,"spans":[{start,end,duration}],"gaps":[..]} */
void pb_render_timeline(pb_buf_t *b, const char *camera, int64_t from_us, int64_t to_us,
    const pb_span_t *s, size_t n);

/* MediaMTX /list: [{"start":..,"duration":..,"url":get_url?duration=&path=&start=}] */
void pb_render_list(pb_buf_t *b, const pb_span_t *s, size_t n, const char *get_url,
    const char *path);

#endif /* PB_PLAN_H */
