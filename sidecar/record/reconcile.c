/*
 * Index/file reconciliation; see reconcile.h.  Files are read with the
 * recording store's MP4 scanner (vms_mp4.h), the one vms-index rebuild uses:
 * both index a file the same way.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "recfs.h"
#include "reconcile.h"
#include "vms_mp4.h"
#include "vms_segpath.h"
#include "util.h"

#define RUNTIME_DIR_AGE   600           /* s: empty dirs younger are kept */

/* ---- one file ---- */

int
vms_reconcile_scan(const char *file, int truncate, vms_index_segment_t *seg,
    vms_index_fragment_t **frags_out, char *err, size_t errlen)
{
    vms_mp4_info_t  info;
    int             fd, result = 0;

    memset(seg, 0, sizeof(*seg));
    *frags_out = NULL;
    fd = open(file, (truncate ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return -1;
    }
    if (vms_mp4_scan_fd(fd, &info, err, errlen) < 0) {
        close(fd);
        return -1;
    }
    if (info.complete < info.bytes && truncate) {
        if (ftruncate(fd, (off_t) info.complete) != 0 || fsync(fd) != 0) {
            snprintf(err, errlen, "%s: truncating to %" PRIu64 ": %s", file,
                     info.complete, strerror(errno));
            vms_mp4_info_free(&info);
            close(fd);
            return -1;
        }
        result = 1;
    }
    close(fd);
    (void) vms_mp4_segment(&info, 0, seg);   /* no fragment or no start time: the caller decides */
    *frags_out = info.frags;
    return result;
}

/* ---- camera reconciliation ---- */

typedef struct {
    char    **v;
    size_t    n, cap;
} strset_t;

static int
strset_add(strset_t *s, const char *p)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 256;
        void  *q = realloc(s->v, ncap * sizeof(char *));

        if (q == NULL) {
            return -1;
        }
        s->v = q;
        s->cap = ncap;
    }
    s->v[s->n] = strdup(p);
    if (s->v[s->n] == NULL) {
        return -1;
    }
    s->n++;
    return 0;
}

static int
str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static int
strset_has(const strset_t *s, const char *p)
{
    return s->n > 0 && bsearch(&p, s->v, s->n, sizeof(char *), str_cmp) != NULL;
}

static void
strset_free(strset_t *s)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        free(s->v[i]);
    }
    free(s->v);
}

typedef struct {
    const char            *root;
    const char            *camera_id;
    const char            *tmpl;
    char                   camera_dir[PATH_MAX];
    unsigned               flags;
    strset_t               indexed;
    int64_t                open_start;       /* from the open record */
    char                   open_path[VMS_INDEX_PATH_MAX];
    vms_reconcile_stats_t *st;
} rc_ctx_t;

static void
index_orphan(rc_ctx_t *c, const char *rel, const char *full)
{
    vms_index_segment_t   seg;
    vms_index_fragment_t *frags = NULL;
    char                  err[512], name[VMS_INDEX_PATH_MAX];
    int                   rc, cut;
    size_t                n;

    rc = vms_reconcile_scan(full, 1, &seg, &frags, err, sizeof(err));
    cut = rc == 1;
    if (rc < 0) {
        vms_log_warn(c->camera_id, "reconcile: %s left unindexed: %s", rel, err);
        c->st->failed++;
        return;
    }
    if (seg.nfrags == 0) {
        vms_log_warn(c->camera_id, "reconcile: %s holds no complete fragment; "
                     "removed", rel);
        unlink(full);
        vms_fsync_parent(full);
        c->st->deleted++;
        free(frags);
        return;
    }
    if (seg.start_us <= 0 && c->open_start > 0 && strcmp(rel, c->open_path) == 0) {
        seg.start_us = c->open_start;
    }
    if (seg.start_us <= 0) {
        /* Not written by this recorder version: date it by its name. */
        n = strlen(rel);
        memcpy(name, rel, n + 1);           /* walk() checked the length */
        if (n > 4 && strcmp(name + n - 4, ".mp4") == 0) {
            name[n - 4] = '\0';
        }
        if (vms_segpath_parse(c->tmpl, c->camera_id, name, &seg.start_us) != 0) {
            vms_log_warn(c->camera_id, "reconcile: %s left unindexed: no start "
                         "time in the file and its name does not match the "
                         "path template", rel);
            c->st->failed++;
            free(frags);
            return;
        }
    }
    if (cut) {
        c->st->truncated++;
    }
    vms_fsync_parent(full);
    memcpy(seg.path, rel, strlen(rel) + 1);
    rc = vms_index_append_e(c->camera_dir, &seg, err, sizeof(err));
    if (rc != 0) {
        vms_log_error(c->camera_id, "reconcile: indexing %s failed: %s", rel, err);
        c->st->failed++;
    } else {
        vms_log_info(c->camera_id, "reconcile: indexed %s (%.3f s, %u fragments, "
                     "%" PRIu64 " bytes%s)", rel, (double) seg.duration_us / 1e6,
                     seg.nfrags, seg.bytes, cut ? ", torn fragment cut" : "");
        c->st->indexed++;
    }
    free(frags);
}

/* Walks dir (rel: its path below the camera directory, "" at the top). */
static void
walk(rc_ctx_t *c, const char *dir, const char *rel, int depth)
{
    DIR           *d;
    struct dirent *de;
    struct stat    st;
    char           full[PATH_MAX], sub[VMS_INDEX_PATH_MAX + 256];
    size_t         n;

    if (depth > 16 || (d = opendir(dir)) == NULL) {
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;                 /* ".", "..", ".index", temp files */
        }
        if (snprintf(full, sizeof(full), "%s/%s", dir, de->d_name) >= (int) sizeof(full)
            || snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "",
                        de->d_name) >= (int) sizeof(sub))
        {
            continue;
        }
        if (lstat(full, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            walk(c, full, sub, depth + 1);
            /* Remove it when the walk left it empty; at run time only an old
             * one (the recorder may have just made it for a new segment). */
            if (((c->flags & VMS_RECONCILE_ORPHANS)
                 || time(NULL) - st.st_mtime > RUNTIME_DIR_AGE)
                && rmdir(full) == 0)
            {
                vms_fsync_dir(dir);
            }
            continue;
        }
        n = strlen(sub);
        if (!S_ISREG(st.st_mode) || n < 4 || strcmp(sub + n - 4, ".mp4") != 0
            || !(c->flags & VMS_RECONCILE_ORPHANS) || strlen(sub) >= VMS_INDEX_PATH_MAX
            || strset_has(&c->indexed, sub))
        {
            continue;
        }
        index_orphan(c, sub, full);
    }
    closedir(d);
}

int
vms_reconcile_camera(const char *root, const char *camera_id, const char *tmpl,
    unsigned flags, vms_reconcile_stats_t *stats)
{
    vms_index_reader_t   *r;
    vms_index_result_t    res;
    vms_reconcile_stats_t local;
    rc_ctx_t              c;
    struct stat           st;
    char                  err[512], file[PATH_MAX * 2];
    size_t                i;
    int                   rc;

    memset(&c, 0, sizeof(c));
    memset(&local, 0, sizeof(local));
    c.root = root;
    c.camera_id = camera_id;
    c.tmpl = tmpl ? tmpl : VMS_SEGPATH_DEFAULT;
    c.flags = flags;
    c.st = stats ? stats : &local;
    memset(c.st, 0, sizeof(*c.st));
    snprintf(c.camera_dir, sizeof(c.camera_dir), "%s/%s", root, camera_id);

    if (stat(c.camera_dir, &st) != 0) {
        return 0;                       /* nothing recorded yet */
    }

    r = vms_index_reader_new(8);
    if (r == NULL) {
        return -1;
    }
    rc = vms_index_query(r, c.camera_dir, 1,
                         vms_now_us() + 2 * 86400 * INT64_C(1000000),
                         &res, err, sizeof(err));
    if (rc != 0 && rc != VMS_INDEX_ENOINDEX) {
        vms_log_error(camera_id, "reconcile: %s", err);
        vms_index_reader_free(r);
        return -1;
    }
    if (rc == VMS_INDEX_ENOINDEX) {
        res.n = 0;
    }

    for (i = 0; i < res.n; i++) {
        const vms_index_entry_t *e = &res.v[i];

        if (e->flags & VMS_SEG_OPEN) {
            c.open_start = e->start_us;
            snprintf(c.open_path, sizeof(c.open_path), "%s", e->path);
            continue;
        }
        snprintf(file, sizeof(file), "%s/%s", c.camera_dir, e->path);
        if (stat(file, &st) == 0 || errno != ENOENT) {
            if (strset_add(&c.indexed, e->path) != 0) {
                goto nomem;
            }
            continue;
        }
        rc = vms_index_remove_e(c.camera_dir, e->start_us, err, sizeof(err));
        if (rc != 0) {
            vms_log_error(camera_id, "reconcile: %s", err);
            continue;
        }
        vms_log_warn(camera_id, "reconcile: %s vanished; removed from the index",
                     e->path);
        c.st->removed++;
    }
    vms_index_reader_free(r);
    r = NULL;

    if (c.indexed.n > 1) {
        qsort(c.indexed.v, c.indexed.n, sizeof(char *), str_cmp);
    }
    walk(&c, c.camera_dir, "", 0);

    if (flags & VMS_RECONCILE_ORPHANS) {
        /* whatever the open record said is settled now */
        vms_index_write_open(c.camera_dir, NULL);
    }
    if (c.st->removed + c.st->indexed + c.st->deleted + c.st->failed > 0) {
        vms_log_info(camera_id, "reconcile: %u vanished entries removed, %u "
                     "files indexed (%u cut at a torn fragment), %u unplayable "
                     "removed, %u left alone", c.st->removed, c.st->indexed,
                     c.st->truncated, c.st->deleted, c.st->failed);
    }
    strset_free(&c.indexed);
    return 0;

nomem:
    vms_log_error(camera_id, "reconcile: out of memory");
    vms_index_reader_free(r);
    strset_free(&c.indexed);
    return -1;
}
