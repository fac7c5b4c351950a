/*
 * Reconciliation of a camera's index with its files (docs/recording.md).
 *
 * At start-up, before the camera records (flags VMS_RECONCILE_ORPHANS):
 * the segment a crash left open is completed — its torn last fragment is
 * truncated, its fragments are read back from the moof boxes — and indexed,
 * as is any other MP4 file below the camera directory that the index lacks;
 * index entries whose files vanished are removed; empty directories go.
 * Only files vmsd does not know are parsed (vms_mp4.h).
 *
 * At run time (flags 0; retention's full pass) only the entries whose files
 * vanished and empty directories older than ten minutes are removed: a
 * segment being written is never touched.
 */

#ifndef VMS_RECONCILE_H
#define VMS_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "vms_index.h"

#define VMS_RECONCILE_ORPHANS  0x1

typedef struct {
    unsigned  removed;       /* index entries whose files vanished */
    unsigned  indexed;       /* files added to the index */
    unsigned  truncated;     /* of those, files cut at a torn fragment */
    unsigned  deleted;       /* unplayable files removed (no fragment) */
    unsigned  failed;        /* files left alone after an error */
} vms_reconcile_stats_t;

/* tmpl: the camera's path template (to date a file that carries no start
 * time; NULL: the default).  stats may be NULL.  0, or -1 when the index
 * could not be read (logged). */
int vms_reconcile_camera(const char *root, const char *camera_id,
    const char *tmpl, unsigned flags, vms_reconcile_stats_t *stats);

/*
 * Reads the fragment table of a fragmented MP4 file with the recording
 * store's scanner (vms_mp4_scan_fd, as `vms-index rebuild` does) and makes
 * its index segment (vms_mp4_segment: start_us is the start the recorder
 * stored in the file, or 0).  A torn tail (the file ends inside a fragment
 * or box) is cut off with ftruncate when truncate is set, else left out of
 * seg->bytes.  frags is malloc'ed (caller frees; also seg->frags).  Returns
 * 0, 1 when the file was truncated, or -1 with err.
 */
int vms_reconcile_scan(const char *file, int truncate, vms_index_segment_t *seg,
    vms_index_fragment_t **frags, char *err, size_t errlen);

#endif /* VMS_RECONCILE_H */
