/*
 * vms-playback-router's merge (docs/scale-out.md, "Per-node storage"): the
 * answers of the nodes that each hold part of a camera's recordings, made
 * one answer.  Pure functions over the nodes' bodies; no I/O.
 */
#ifndef PBR_MERGE_H
#define PBR_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "pb_plan.h"

typedef struct {
    const char  *node;        /* the node's name, added to each media URI as node= */
    const char  *body;        /* its answer (not NUL-terminated) */
    size_t       len;
} pbr_part_t;

/*
 * One HLS VOD playlist from the nodes' playlists (vms_playback's shape:
 * docs/playback.md).  Each node playlist is cut into runs at its
 * #EXT-X-DISCONTINUITY tags; the runs of all nodes are ordered by the
 * #EXT-X-PROGRAM-DATE-TIME of their first segment and joined with a
 * discontinuity between runs.  Every media and init URI gets
 * "node=NAME" and then `extra` (e.g. "&jwt=...&vms_session=...", or "")
 * appended to its query.  A run starts with its init section's #EXT-X-MAP.
 * 0, or -1 when a body is not such a playlist (why says what).
 */
int pbr_merge_playlists(pb_buf_t *out, const pbr_part_t *parts, size_t n, const char *extra,
    char *why, size_t whylen);

/*
 * Spans of a timeline answer ({"camera_id","start","end","spans":[{start,end}]})
 * appended to *v (realloc'd; *n counts them); *from and *to are the answer's range.
 * 0 or -1.
 */
int pbr_timeline_spans(const char *body, size_t len, pb_span_t **v, size_t *n, int64_t *from,
    int64_t *to);

/* Spans of a MediaMTX /list answer ([{"start","duration"}]) appended to *v.  0 or -1. */
int pbr_list_spans(const char *body, size_t len, pb_span_t **v, size_t *n);

/* Sorts v and merges spans whose hole is at most gap_us; returns the new count. */
size_t pbr_spans_union(pb_span_t *v, size_t n, int64_t gap_us);

#endif /* PBR_MERGE_H */
