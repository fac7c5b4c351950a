/*
 * Retention: deletes recorded segments by age (days per camera) and under
 * disk pressure (recordings filesystem above max_used_pct, or less than
 * min_free_bytes available), oldest first across cameras; never the segment
 * being written.  The index stays consistent: vms_index_remove() first, then
 * the file is unlinked, then the directories it leaves empty are removed.
 * See docs/recording.md.
 *
 * One thread for all cameras.  A cheap pass runs every interval (index
 * queries, which the reader serves from mapped day files, plus one
 * statvfs); a full pass at daily_at (UTC) also drops index entries whose
 * files vanished and removes empty directories.
 *
 * Every camera directory below the root with an index takes part, also one
 * no longer configured: its recordings count for disk pressure and have no
 * age limit.  Metric: vms_storage_bytes{camera_id} (bytes of indexed and
 * open segments, after each pass).
 */

#ifndef VMS_RETENTION_H
#define VMS_RETENTION_H

#include <stddef.h>
#include <stdint.h>

typedef struct vms_retention_s vms_retention_t;

typedef struct {
    const char  *root;            /* recordings root */
    int64_t      interval_ms;     /* cheap pass; 0: 60000 */
    const char  *daily_at;        /* "HH:MM" UTC full pass; NULL: "02:00";
                                     "" or "off": none */
    int64_t      max_used_pct;    /* 1..100; 100: no percentage limit */
    int64_t      min_free_bytes;  /* 0: no floor */
    /* Cluster (docs/scale-out.md): in a shared tree a node keeps only the
     * cameras it runs under an open write fence; NULL: every camera. */
    int        (*owns)(const char *camera_id);
    /* Per-node storage (cluster_storage = local): a camera's age limit from the fleet's current
     * record, for every camera in this node's tree, run here or not; -1: no record (then the
     * limit vms_retention_camera() set applies).  NULL: only that one. */
    int64_t    (*days)(const char *camera_id);
} vms_retention_conf_t;

/* "HH:MM" -> minute of the day.  0 or -1. */
int vms_retention_parse_daily_at(const char *s, int *minute);

/* Starts the thread: the first pass after one interval, and never while
 * vms_retention_camera() reconciles.  NULL with a logged reason. */
vms_retention_t *vms_retention_start(const vms_retention_conf_t *conf);

/*
 * Sets a camera's age limit (days 0: keep until disk pressure); thread-safe,
 * takes effect at the next pass.  Call it before the camera records (vmsd
 * does, at start-up and before each camera (re)starts): the first call for a
 * camera also reconciles its index with its files (reconcile.h, with
 * VMS_RECONCILE_ORPHANS), synchronously in the caller's thread.
 */
int vms_retention_camera(vms_retention_t *ret, const char *camera_id,
    int64_t days);

/* Stops and joins the thread. */
void vms_retention_stop(vms_retention_t *ret);

/* ---- the decision, pure (unit-tested in tests/unit/test_retention_select.c) ---- */

enum {
    VMS_RET_KEEP = 0,
    VMS_RET_AGE,                  /* older than its camera's retention */
    VMS_RET_PRESSURE,             /* oldest while the disk is too full */
};

typedef struct {
    int64_t   start_us;
    int64_t   end_us;
    uint64_t  bytes;
    int64_t   max_age_us;         /* its camera's; 0: no age limit */
    int       open;               /* being written: never deleted */
    int       reason;             /* out: VMS_RET_* */
} vms_ret_item_t;

typedef struct {
    int64_t   now_us;
    uint64_t  used_bytes;         /* statvfs: (blocks - bfree) * frsize */
    uint64_t  avail_bytes;        /* statvfs: bavail * frsize */
    int64_t   max_used_pct;       /* used / (used + avail) above this: free */
    uint64_t  min_free_bytes;     /* avail below this: free */
} vms_ret_disk_t;

/* Bytes that must be freed to satisfy both disk limits (0 when none). */
uint64_t vms_retention_need(const vms_ret_disk_t *d);

/*
 * items: all cameras' segments, sorted by start_us (oldest first).  Marks
 * each item's reason: every closed segment ending before now - max_age is
 * AGE; then, while the bytes marked are short of vms_retention_need(),
 * the oldest remaining closed segments are PRESSURE.  Returns the bytes
 * marked for deletion.
 */
uint64_t vms_retention_select(vms_ret_item_t *items, size_t n,
    const vms_ret_disk_t *d);

#endif /* VMS_RETENTION_H */
