/*
 * Retention thread; see retention.h.  The decision is retention_select.c;
 * this file gathers the segments from the camera indexes, applies the
 * decision in the durable order (index first, then the file, then empty
 * directories) and publishes vms_storage_bytes.
 */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "vms_index.h"
#include "log.h"
#include "metrics.h"
#include "recfs.h"
#include "reconcile.h"
#include "retention.h"
#include "util.h"

#define RET_MAX_CAMERAS   4096

typedef struct {
    char      id[VMS_CAMERA_ID_MAX + 1];
    int64_t   days;
} ret_camera_t;                     /* known cameras: each reconciled once */

/* A segment as gathered, with its camera (index into the scan's list). */
typedef struct {
    vms_ret_item_t  it;
    int             cam;
    char            path[VMS_INDEX_PATH_MAX];
} ret_seg_t;

struct vms_retention_s {
    char               *root;
    int               (*owns)(const char *camera_id);
    int64_t           (*days)(const char *camera_id);
    int64_t             interval_ms;
    int                 daily_minute;      /* -1: no full pass */
    int64_t             max_used_pct;
    int64_t             min_free_bytes;

    pthread_t           thread;
    pthread_mutex_t     lock;
    pthread_cond_t      cond;
    int                 stop;
    int                 reconciling;        /* vms_retention_camera() busy */

    ret_camera_t       *cams;               /* configured age limits */
    size_t              ncams;

    vms_index_reader_t *reader;             /* thread's own */
    vms_metric_t       *m_bytes;
    vms_metric_t       *m_used_ratio;
    vms_metric_t       *m_deleted;
    int64_t             last_daily_day;
};

int
vms_retention_parse_daily_at(const char *s, int *minute)
{
    int h, m, n = 0;

    if (s == NULL || sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || s[n] != '\0'
        || strlen(s) != 5 || h < 0 || h > 23 || m < 0 || m > 59)
    {
        return -1;
    }
    *minute = h * 60 + m;
    return 0;
}

static int64_t
days_of(vms_retention_t *ret, const char *id)
{
    size_t  i;
    int64_t days = ret->days != NULL ? ret->days(id) : -1;

    if (days >= 0) {
        return days;
    }
    days = 0;
    pthread_mutex_lock(&ret->lock);
    for (i = 0; i < ret->ncams; i++) {
        if (strcmp(ret->cams[i].id, id) == 0) {
            days = ret->cams[i].days;
            break;
        }
    }
    pthread_mutex_unlock(&ret->lock);
    return days;
}

/* ---- gathering ---- */

typedef struct {
    char      (*ids)[VMS_CAMERA_ID_MAX + 1];
    size_t      n;
    ret_seg_t  *segs;
    size_t      nsegs, cap;
    uint64_t   *bytes;              /* per camera: indexed + open */
} ret_scan_t;

static void
scan_free(ret_scan_t *sc)
{
    free(sc->ids);
    free(sc->segs);
    free(sc->bytes);
    memset(sc, 0, sizeof(*sc));
}

/* Camera directories below the root that have an index. */
static int
list_cameras(vms_retention_t *ret, ret_scan_t *sc)
{
    DIR           *d;
    struct dirent *de;
    struct stat    st;
    char           p[PATH_MAX];
    size_t         cap = 0;

    d = opendir(ret->root);
    if (d == NULL) {
        if (errno != ENOENT) {
            vms_log_error(NULL, "retention: cannot read %s: %s", ret->root,
                          strerror(errno));
        }
        return -1;
    }
    while ((de = readdir(d)) != NULL && sc->n < RET_MAX_CAMERAS) {
        if (!vms_camera_id_valid(de->d_name, strlen(de->d_name))
            || (ret->owns != NULL && !ret->owns(de->d_name)))
        {
            continue;
        }
        snprintf(p, sizeof(p), "%s/%s/%s", ret->root, de->d_name,
                 VMS_INDEX_DIRNAME);
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
            continue;
        }
        if (sc->n == cap) {
            size_t newcap = cap ? cap * 2 : 16;
            void  *q = realloc(sc->ids, newcap * sizeof(*sc->ids));

            if (q == NULL) {
                break;
            }
            sc->ids = q;
            cap = newcap;
        }
        /* vms_camera_id_valid(): at most VMS_CAMERA_ID_MAX characters */
        memcpy(sc->ids[sc->n++], de->d_name, strlen(de->d_name) + 1);
    }
    closedir(d);
    sc->bytes = calloc(sc->n ? sc->n : 1, sizeof(uint64_t));
    return sc->bytes ? 0 : -1;
}

static int
gather_camera(vms_retention_t *ret, ret_scan_t *sc, int cam, int64_t now_us)
{
    vms_index_result_t res;
    char               dir[PATH_MAX], err[256];
    int64_t            age_us = days_of(ret, sc->ids[cam]) * 86400 * INT64_C(1000000);
    size_t             i;
    int                rc;

    snprintf(dir, sizeof(dir), "%s/%s", ret->root, sc->ids[cam]);
    rc = vms_index_query(ret->reader, dir, 1, now_us + 2 * 86400 * INT64_C(1000000),
                         &res, err, sizeof(err));
    if (rc != 0) {
        if (rc != VMS_INDEX_ENOINDEX) {
            vms_log_error(sc->ids[cam], "retention: %s", err);
        }
        return rc;
    }

    for (i = 0; i < res.n; i++) {
        const vms_index_entry_t *e = &res.v[i];
        ret_seg_t               *s;

        sc->bytes[cam] += e->bytes;
        if (sc->nsegs == sc->cap) {
            size_t newcap = sc->cap ? sc->cap * 2 : 1024;
            void  *q = realloc(sc->segs, newcap * sizeof(*sc->segs));

            if (q == NULL) {
                return VMS_INDEX_ENOMEM;
            }
            sc->segs = q;
            sc->cap = newcap;
        }
        s = &sc->segs[sc->nsegs++];
        memset(s, 0, sizeof(*s));
        s->it.start_us = e->start_us;
        s->it.end_us = e->start_us + e->duration_us;
        s->it.bytes = e->bytes;
        s->it.max_age_us = age_us;
        s->it.open = (e->flags & VMS_SEG_OPEN) != 0;
        s->cam = cam;
        snprintf(s->path, sizeof(s->path), "%s", e->path);
    }
    return 0;
}

static int
seg_cmp(const void *a, const void *b)
{
    const ret_seg_t *x = a, *y = b;

    if (x->it.start_us != y->it.start_us) {
        return x->it.start_us < y->it.start_us ? -1 : 1;
    }
    return x->cam - y->cam;
}

/* ---- deleting ---- */

static int
delete_segment(vms_retention_t *ret, const char *camera_id, const ret_seg_t *s)
{
    char dir[PATH_MAX], file[PATH_MAX * 2], err[256];
    int  rc;

    snprintf(dir, sizeof(dir), "%s/%s", ret->root, camera_id);
    rc = vms_index_remove_e(dir, s->it.start_us, err, sizeof(err));
    if (rc != 0) {
        vms_log_error(camera_id, "retention: not deleting %s: %s", s->path, err);
        return rc;
    }
    snprintf(file, sizeof(file), "%s/%s", dir, s->path);
    if (unlink(file) != 0 && errno != ENOENT) {
        /* Out of the index: no reader serves it; the next start-up's
         * reconciliation finds the file and indexes it again. */
        vms_log_error(camera_id, "retention: unlink %s: %s", file,
                      strerror(errno));
        return -errno;
    }
    vms_rmdir_empty_up(dir, file);
    return 0;
}

static void
run_pass(vms_retention_t *ret, int full)
{
    ret_scan_t      sc;
    struct statvfs  vfs;
    vms_ret_disk_t  d;
    vms_ret_item_t *items = NULL;
    uint64_t        marked, freed = 0;
    size_t          i, nage = 0, npress = 0, failed = 0;
    char            labels[128];

    memset(&sc, 0, sizeof(sc));
    if (list_cameras(ret, &sc) != 0) {
        scan_free(&sc);
        return;
    }

    if (full) {
        for (i = 0; i < sc.n; i++) {
            vms_reconcile_camera(ret->root, sc.ids[i], NULL, 0, NULL);
        }
    }

    memset(&d, 0, sizeof(d));
    d.now_us = vms_now_us();
    for (i = 0; i < sc.n; i++) {
        gather_camera(ret, &sc, (int) i, d.now_us);
    }

    if (statvfs(ret->root, &vfs) != 0) {
        vms_log_error(NULL, "retention: statvfs %s: %s", ret->root,
                      strerror(errno));
        goto done;
    }
    d.used_bytes = (uint64_t) (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
    d.avail_bytes = (uint64_t) vfs.f_bavail * vfs.f_frsize;
    d.max_used_pct = ret->max_used_pct;
    d.min_free_bytes = (uint64_t) ret->min_free_bytes;
    /* the same used / (used + available) that disk_max_used_percent is
     * judged on; StorageCritical (conf/prometheus/alerts.yml) watches it.
     * The series appears with the first measurement, not as a 0 before. */
    if (d.used_bytes + d.avail_bytes > 0) {
        vms_series_set(vms_metric_series(ret->m_used_ratio, ""),
                       (double) d.used_bytes
                       / (double) (d.used_bytes + d.avail_bytes));
    }

    if (sc.nsegs > 0) {     /* segs is NULL then: qsort(NULL, 0) is UB */
        qsort(sc.segs, sc.nsegs, sizeof(*sc.segs), seg_cmp);
    }
    items = malloc((sc.nsegs ? sc.nsegs : 1) * sizeof(*items));
    if (items == NULL) {
        goto done;
    }
    for (i = 0; i < sc.nsegs; i++) {
        items[i] = sc.segs[i].it;
    }
    marked = vms_retention_select(items, sc.nsegs, &d);

    for (i = 0; i < sc.nsegs; i++) {
        const char *cam = sc.ids[sc.segs[i].cam];

        if (items[i].reason == VMS_RET_KEEP) {
            continue;
        }
        if (ret->owns != NULL && !ret->owns(cam)) {
            continue;                   /* moved to another node meanwhile */
        }
        if (delete_segment(ret, cam, &sc.segs[i]) != 0) {
            failed++;
            continue;
        }
        sc.bytes[sc.segs[i].cam] -= items[i].bytes;
        freed += items[i].bytes;
        if (items[i].reason == VMS_RET_AGE) {
            nage++;
        } else {
            npress++;
        }
        vms_metric_labels(labels, sizeof(labels), "camera_id", cam, "reason",
                          items[i].reason == VMS_RET_AGE ? "age" : "disk",
                          NULL);
        vms_series_add(vms_metric_series(ret->m_deleted, labels), 1);
        vms_log_debug(cam, "retention: deleted %s (%s)", sc.segs[i].path,
                      items[i].reason == VMS_RET_AGE ? "age" : "disk pressure");
    }

    if (nage + npress + failed > 0 || full) {
        vms_log_info(NULL, "retention: %s pass: %zu segments by age, %zu by "
                     "disk pressure (%" PRIu64 " of %" PRIu64 " bytes needed), "
                     "%zu failed; %" PRIu64 " bytes freed, %" PRIu64
                     " available", full ? "full" : "cheap", nage, npress,
                     freed, vms_retention_need(&d), failed, freed,
                     d.avail_bytes);
    }
    (void) marked;

done:
    for (i = 0; i < sc.n; i++) {
        vms_metric_labels(labels, sizeof(labels), "camera_id", sc.ids[i], NULL);
        vms_series_set(vms_metric_series(ret->m_bytes, labels),
                       (double) sc.bytes[i]);
    }
    free(items);
    scan_free(&sc);
}

/* ---- the thread ---- */

/* Whether the daily full pass is due at now (once per UTC day, at or after
 * daily_minute). */
static int
daily_due(vms_retention_t *ret, int64_t now_us)
{
    int64_t day, minute;

    if (ret->daily_minute < 0) {
        return 0;
    }
    day = now_us / (86400 * INT64_C(1000000));
    minute = (now_us / (60 * INT64_C(1000000))) % 1440;
    if (day == ret->last_daily_day || minute < ret->daily_minute) {
        return 0;
    }
    ret->last_daily_day = day;
    return 1;
}

static void *
ret_thread(void *arg)
{
    vms_retention_t *ret = arg;
    struct timespec  ts;
    int              full;

    /* The first pass waits an interval: vmsd registers (and so reconciles)
     * its cameras meanwhile, and a pass must see every camera's segments to
     * pick the oldest across them. */
    for (;;) {
        pthread_mutex_lock(&ret->lock);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += ret->interval_ms / 1000;
        ts.tv_nsec += (ret->interval_ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        while (!ret->stop) {
            if (pthread_cond_timedwait(&ret->cond, &ret->lock, &ts) == ETIMEDOUT) {
                break;
            }
        }
        while (!ret->stop && ret->reconciling > 0) {
            pthread_cond_wait(&ret->cond, &ret->lock);
        }
        if (ret->stop) {
            pthread_mutex_unlock(&ret->lock);
            break;
        }
        pthread_mutex_unlock(&ret->lock);

        full = daily_due(ret, vms_now_us());
        run_pass(ret, full);
    }
    return NULL;
}

vms_retention_t *
vms_retention_start(const vms_retention_conf_t *conf)
{
    vms_retention_t    *ret;
    pthread_condattr_t  ca;
    const char         *at = conf->daily_at ? conf->daily_at : "02:00";
    int                 rc;

    ret = calloc(1, sizeof(*ret));
    if (ret == NULL) {
        return NULL;
    }
    ret->root = strdup(conf->root);
    ret->owns = conf->owns;
    ret->days = conf->days;
    ret->interval_ms = conf->interval_ms > 0 ? conf->interval_ms : 60000;
    ret->max_used_pct = conf->max_used_pct > 0 ? conf->max_used_pct : 90;
    ret->min_free_bytes = conf->min_free_bytes;
    ret->daily_minute = -1;
    ret->last_daily_day = -1;
    if (at[0] != '\0' && strcmp(at, "off") != 0
        && vms_retention_parse_daily_at(at, &ret->daily_minute) != 0)
    {
        vms_log_error(NULL, "retention: daily pass time \"%s\" is not HH:MM", at);
        free(ret->root);
        free(ret);
        return NULL;
    }
    ret->reader = vms_index_reader_new(64);
    ret->m_bytes = vms_metric_new("vms_storage_bytes",
        "Bytes of recorded segments per camera (indexed and being written)",
        VMS_GAUGE, NULL, 0);
    ret->m_used_ratio = vms_metric_new("vms_storage_used_ratio",
        "Used share of the recordings filesystem (0-1), as retention judges it",
        VMS_GAUGE, NULL, 0);
    ret->m_deleted = vms_metric_new("vms_retention_deleted_total",
        "Segments deleted by retention, by reason (age, disk)",
        VMS_COUNTER, NULL, 0);
    if (ret->root == NULL || ret->reader == NULL) {
        vms_log_error(NULL, "retention: out of memory");
        vms_index_reader_free(ret->reader);
        free(ret->root);
        free(ret);
        return NULL;
    }

    pthread_mutex_init(&ret->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ret->cond, &ca);
    pthread_condattr_destroy(&ca);

    rc = pthread_create(&ret->thread, NULL, ret_thread, ret);
    if (rc != 0) {
        vms_log_error(NULL, "retention: cannot start its thread: %s",
                      strerror(rc));
        pthread_cond_destroy(&ret->cond);
        pthread_mutex_destroy(&ret->lock);
        vms_index_reader_free(ret->reader);
        free(ret->root);
        free(ret);
        return NULL;
    }
    vms_log_info(NULL, "retention: %s every %" PRId64 " ms, full pass %s, "
                 "disk limits %" PRId64 " %% used / %" PRId64 " bytes free",
                 ret->root, ret->interval_ms,
                 ret->daily_minute < 0 ? "off" : at, ret->max_used_pct,
                 ret->min_free_bytes);
    return ret;
}

int
vms_retention_camera(vms_retention_t *ret, const char *camera_id, int64_t days)
{
    size_t i;
    int    rc = 0;

    if (!vms_camera_id_valid(camera_id, strlen(camera_id)) || days < 0) {
        return -1;
    }
    pthread_mutex_lock(&ret->lock);
    for (i = 0; i < ret->ncams; i++) {
        if (strcmp(ret->cams[i].id, camera_id) == 0) {
            break;
        }
    }
    if (i < ret->ncams) {
        ret->cams[i].days = days;
        pthread_mutex_unlock(&ret->lock);
        return 0;
    }
    ret->reconciling++;             /* no pass on a half-reconciled view */
    pthread_mutex_unlock(&ret->lock);

    /* First sight of this camera in this process: nothing of it is being
     * recorded yet, so a segment a crash left open can be settled. */
    vms_reconcile_camera(ret->root, camera_id, NULL, VMS_RECONCILE_ORPHANS,
                         NULL);

    pthread_mutex_lock(&ret->lock);
    {
        void *q = realloc(ret->cams, (ret->ncams + 1) * sizeof(*ret->cams));

        if (q == NULL) {
            rc = -1;
        } else {
            ret->cams = q;
            memcpy(ret->cams[ret->ncams].id, camera_id, strlen(camera_id) + 1);
            ret->cams[ret->ncams].days = days;
            ret->ncams++;
        }
    }
    ret->reconciling--;
    pthread_cond_broadcast(&ret->cond);
    pthread_mutex_unlock(&ret->lock);
    return rc;
}

void
vms_retention_stop(vms_retention_t *ret)
{
    if (ret == NULL) {
        return;
    }
    pthread_mutex_lock(&ret->lock);
    ret->stop = 1;
    pthread_cond_broadcast(&ret->cond);
    pthread_mutex_unlock(&ret->lock);
    pthread_join(ret->thread, NULL);

    pthread_cond_destroy(&ret->cond);
    pthread_mutex_destroy(&ret->lock);
    vms_index_reader_free(ret->reader);
    free(ret->cams);
    free(ret->root);
    free(ret);
}
