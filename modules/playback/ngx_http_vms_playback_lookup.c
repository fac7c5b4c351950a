/*
 * vms_playback: the thread side of a job (ngx_http_vms_playback_job.h).
 *
 * Runs in nginx's thread pool, so a slow disk delays the request and not
 * the worker: the index query (stat, mmap of the day files, and a readdir
 * of the index directory for ranges over 62 days), the plan, the text of
 * timeline, /list and playlist answers, and the segment files opened and
 * confined (open, fstat, realpath).  Pure: malloc, the job's fields, no
 * nginx pool, no log (what is to be logged goes to j->log; the worker logs
 * it).  The fragments to read are copied out of the index, so the reader
 * can be handed to the next lookup as soon as this one is done.
 */
#include "ngx_http_vms_playback_job.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>

#define ERR_LEN      1024
#define READERS_MAX  64

typedef ngx_http_vms_playback_job_t job_t;

/* ---- index readers: a reader is single-threaded, so each lookup takes one ---- */

static pthread_mutex_t     readers_mu = PTHREAD_MUTEX_INITIALIZER;
static vms_index_reader_t *readers_idle[READERS_MAX];
static size_t              nidle;

static vms_index_reader_t *
reader_get(void)
{
    vms_index_reader_t *rd = NULL;
    pthread_mutex_lock(&readers_mu);
    if (nidle > 0) {
        rd = readers_idle[--nidle];
    }
    pthread_mutex_unlock(&readers_mu);
    /* 256 days of mapped index files kept per reader (maps cost address space, not memory) */
    return rd != NULL ? rd : vms_index_reader_new(256);
}

static void
reader_put(vms_index_reader_t *rd)
{
    pthread_mutex_lock(&readers_mu);
    if (nidle < READERS_MAX) {
        readers_idle[nidle++] = rd;
        rd = NULL;
    }
    pthread_mutex_unlock(&readers_mu);
    vms_index_reader_free(rd);
}

void
ngx_http_vms_playback_readers_free(void)
{
    pthread_mutex_lock(&readers_mu);
    while (nidle > 0) {
        vms_index_reader_free(readers_idle[--nidle]);
    }
    pthread_mutex_unlock(&readers_mu);
}

/* ---- answers ---- */

static int
refuse(job_t *j, ngx_uint_t status, const char *msg)
{
    j->status = status;
    j->msg = msg;
    return -1;
}

static void note(job_t *j, ngx_uint_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
note(job_t *j, ngx_uint_t level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->log, sizeof(j->log), fmt, ap);
    va_end(ap);
    j->log_level = level;
}

/*
 * {camera_dir}/{rel} opened read-only.  rel was validated (no "..", no
 * leading '.'); O_NOFOLLOW refuses a symlinked file and the realpath check
 * a symlinked directory leading out of the camera's directory.  The fd, or
 * -1 not found, -2 refused (noted).
 */
static ngx_fd_t
open_confined(job_t *j, const char *rel, struct stat *st)
{
    char full[PATH_MAX], real[PATH_MAX], base[PATH_MAX];
    if ((size_t) snprintf(full, sizeof(full), "%s/%s", j->camera_dir, rel) >= sizeof(full)) {
        return -2;
    }
    ngx_fd_t fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno != ENOENT && errno != ENOTDIR) {
            note(j, NGX_LOG_ERR, "open \"%s\" refused or failed: %s", full, strerror(errno));
            return -2;
        }
        return -1;
    }
    size_t blen;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || realpath(j->camera_dir, base) == NULL
        || realpath(full, real) == NULL || strncmp(real, base, (blen = strlen(base))) != 0
        || real[blen] != '/') {
        note(j, NGX_LOG_ERR, "\"%s\" is not a regular file inside \"%s\"; refused", full,
             j->camera_dir);
        close(fd);
        return -2;
    }
    return fd;
}

static int
files_alloc(job_t *j, size_t nfiles, size_t nfrags)
{
    j->files = calloc(nfiles ? nfiles : 1, sizeof(*j->files));
    j->frags = calloc(nfrags ? nfrags : 1, sizeof(*j->frags));
    if (j->files == NULL || j->frags == NULL) {
        return refuse(j, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    for (size_t i = 0; i < nfiles; i++) {
        j->files[i].fd = NGX_INVALID_FILE;
    }
    return 0;
}

/* Adds e's fragments within [from, to) with the file's first fragment at file0_out_us. */
static void
add_frags(job_t *j, uint32_t file, const vms_index_entry_t *e, uint64_t from, uint64_t to,
    int64_t file0_out_us)
{
    for (uint32_t k = 0; k < e->nfrags; k++) {
        const vms_index_fragment_t *f = &e->frags[k];
        if (f->offset < from || f->offset + f->size > to) {
            continue;
        }
        ngx_http_vms_playback_job_frag_t *g = &j->frags[j->nfrags++];
        g->file = file;
        g->offset = f->offset;
        g->size = f->size;
        g->at_us = file0_out_us + f->start_us;
    }
}

/* ---- the index ---- */

static int
query(job_t *j, vms_index_reader_t *rd, int64_t from_us, int64_t to_us, vms_index_result_t *res)
{
    char err[ERR_LEN];
    int rc = vms_index_query(rd, j->camera_dir, from_us, to_us, res, err, sizeof(err));
    if (rc == 0) {
        return 0;
    }
    if (rc == VMS_INDEX_ENOINDEX) {
        struct stat st;
        if (stat(j->camera_dir, &st) < 0) {
            return refuse(j, NGX_HTTP_NOT_FOUND, "no recording segments found"); /* nothing recorded */
        }
        note(j, NGX_LOG_ERR, "%s", err);
        return refuse(j, NGX_HTTP_SERVICE_UNAVAILABLE,
                      "recording index missing for this camera (rebuild it with vms-index rebuild)");
    }
    note(j, NGX_LOG_ERR, "%s", err);
    return refuse(j, NGX_HTTP_INTERNAL_SERVER_ERROR,
                  rc == VMS_INDEX_ECORRUPT ? "recording index is corrupt (see the error log)"
                                           : "recording index unreadable (see the error log)");
}

static int
plan(job_t *j, vms_index_reader_t *rd, vms_index_result_t *res, int clip, pb_plan_t *p)
{
    char err[ERR_LEN];
    pb_plan_conf_t c = {
        .from_us = j->from_us, .to_us = j->to_us, .gap_us = j->gap_us,
        .keyframe_start = 1, .clip = clip, .skip_gaps = clip && j->skip,
    };
    if (pb_plan_build(rd, res, &c, p, err, sizeof(err)) < 0) {
        note(j, NGX_LOG_ERR, "%s", err);
        return refuse(j, NGX_HTTP_INTERNAL_SERVER_ERROR,
                      "recording index is corrupt (see the error log)");
    }
    return 0;
}

/* Merged spans of [from, to) as JSON: a timeline, or MediaMTX's /list. */
static void
spans(job_t *j, vms_index_reader_t *rd)
{
    vms_index_result_t res;
    if (query(j, rd, j->from_us, j->to_us, &res) < 0) {
        return;
    }
    pb_span_t *s = malloc((res.n + 1) * sizeof(*s));
    if (s == NULL) {
        refuse(j, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    size_t n = pb_spans(&res, j->from_us, j->to_us, j->gap_us, s);
    if (j->kind == PB_JOB_TIMELINE) {
        pb_render_timeline(&j->text, j->camera, j->from_us, j->to_us, s, n);
    } else if (n == 0) {
        refuse(j, NGX_HTTP_NOT_FOUND, "no recording segments found");
    } else {
        pb_render_list(&j->text, s, n, j->get_url, j->path);
    }
    free(s);
}

static void
playlist(job_t *j, vms_index_reader_t *rd)
{
    vms_index_result_t res;
    pb_plan_t p;
    if (query(j, rd, j->from_us, j->to_us, &res) < 0 || plan(j, rd, &res, 0, &p) < 0) {
        return;
    }
    if (p.n == 0) {
        refuse(j, NGX_HTTP_NOT_FOUND, "nothing recorded between start and end");
    } else {
        /* relative to the playlist's URI: {prefix}{camera} -> {prefix}{camera}/media/... */
        pb_render_playlist(&j->text, &p, j->prefix, j->query);
    }
    pb_plan_free(&p);
}

/*
 * A clip's plan.  /get follows MediaMTX: when start is not recorded, the
 * clip is what is recorded in the range if start is before the path's first
 * recording, and nothing (404) in a gap after some recording.
 */
static int
clip_plan(job_t *j, vms_index_reader_t *rd, pb_plan_t *p)
{
    vms_index_result_t res;
    const char *none = j->kind == PB_JOB_GET ? "no recording segments found"
                                             : "nothing recorded between start and end";
    if (query(j, rd, j->from_us, j->to_us, &res) < 0 || plan(j, rd, &res, 1, p) < 0) {
        return -1;
    }
    if (p->n > 0 && j->kind == PB_JOB_GET && p->v[0].start_us > j->from_us + j->gap_us) {
        /* rare, so the history before start is looked up only here */
        pb_plan_free(p);
        if (query(j, rd, 1, j->from_us, &res) < 0) {
            return -1;
        }
        if (res.n > 0) {
            return refuse(j, NGX_HTTP_NOT_FOUND, none);
        }
        if (query(j, rd, j->from_us, j->to_us, &res) < 0 || plan(j, rd, &res, 1, p) < 0) {
            return -1;
        }
    }
    if (p->n == 0) {
        pb_plan_free(p);
        return refuse(j, NGX_HTTP_NOT_FOUND, none);
    }
    return 0;
}

/*
 * One fragmented timeline for a clip's plan: every piece's file opened and
 * its fragments with their output times (from the piece's first served
 * fragment back to the file's first).  A file missing after the first
 * ends the clip there.
 */
static void
clip(job_t *j, vms_index_reader_t *rd)
{
    char err[512];
    pb_plan_t p;
    if (clip_plan(j, rd, &p) < 0) {
        return;
    }
    size_t nfrags = 0;
    for (size_t i = 0; i < p.n; i++) {
        vms_index_entry_t *e = (vms_index_entry_t *) p.v[i].seg;
        if (e->nfrags == 0 || e->init_size == 0 || e->init_size > PB_BOX_MAX
            || vms_index_frags(rd, e, err, sizeof(err)) < 0) {
            note(j, NGX_LOG_ERR, "\"%s/%s\": no usable init section or fragment table for a clip",
                 j->camera_dir, e->path);
            refuse(j, NGX_HTTP_INTERNAL_SERVER_ERROR,
                   "recording index unusable for a clip (see the error log)");
            goto done;
        }
        nfrags += e->nfrags;
    }
    if (files_alloc(j, p.n, nfrags) < 0) {
        goto done;
    }
    j->clip_start_us = p.v[0].start_us;
    for (size_t i = 0; i < p.n; i++) {
        const pb_piece_t *pc = &p.v[i];
        const vms_index_entry_t *e = pc->seg;
        ngx_http_vms_playback_job_file_t *f = &j->files[j->nfiles];
        struct stat st;
        f->fd = open_confined(j, e->path, &st);
        int bad = f->fd < 0 || (uint64_t) st.st_size < pc->offset + pc->length;
        if (bad || (f->path = strdup(e->path)) == NULL) {
            if (f->fd >= 0) {
                close(f->fd);
                f->fd = NGX_INVALID_FILE;
            }
            if (!bad) {
                refuse(j, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
                break;
            }
            note(j, NGX_LOG_ERR, "indexed segment \"%s/%s\" is missing or shorter than its index "
                 "says", j->camera_dir, e->path);
            if (i == 0) {
                refuse(j, NGX_HTTP_SERVICE_UNAVAILABLE, "an indexed recording file is missing");
            }
            break;
        }
        f->init_size = e->init_size;
        j->open_seg |= (e->flags & VMS_SEG_OPEN) != 0;
        add_frags(j, (uint32_t) j->nfiles, e, pc->offset, pc->offset + pc->length,
                  pc->out_us - (pc->start_us - e->start_us));
        j->nfiles++;
    }
done:
    pb_plan_free(&p);
}

/*
 * A segment file.  As it is (sendfile; only the bytes an open segment's
 * record announces are complete), or with ?s=&t= from our playlists: its
 * fragments listed so each moof's decode time can be rebased onto the
 * playlist's timeline.
 */
static void
media(job_t *j)
{
    if (files_alloc(j, 1, 0) < 0) {
        return;
    }
    ngx_http_vms_playback_job_file_t *f = &j->files[0];
    j->nfiles = 1;
    f->fd = open_confined(j, j->rel, &j->st);
    if (f->fd < 0) {
        refuse(j, NGX_HTTP_NOT_FOUND, f->fd == -1 ? "no such recording file" : "recording file refused");
        return;
    }
    if ((f->path = strdup(j->rel)) == NULL) {
        refuse(j, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    char open_rel[VMS_INDEX_PATH_MAX];
    j->open_seg = vms_index_open_path(j->camera_dir, open_rel, sizeof(open_rel))
                  && strcmp(open_rel, j->rel) == 0;
    if (j->seg_start_us <= 0) {
        j->plain = 1;
        return;
    }
    char err[ERR_LEN];
    vms_index_result_t res;
    vms_index_reader_t *rd = reader_get();
    int rc = rd ? vms_index_query(rd, j->camera_dir, j->seg_start_us, j->seg_start_us + 1, &res,
                                  err, sizeof(err))
                : VMS_INDEX_ENOMEM;
    if (rc < 0) {
        note(j, NGX_LOG_ERR, "%s", rd ? err : "index: out of memory");
        refuse(j, NGX_HTTP_INTERNAL_SERVER_ERROR, "recording index unreadable (see the error log)");
        goto done;
    }
    vms_index_entry_t *e = NULL;
    for (size_t i = 0; i < res.n; i++) {
        if (res.v[i].start_us == j->seg_start_us && strcmp(res.v[i].path, j->rel) == 0) {
            e = &res.v[i];
        }
    }
    if (e == NULL) {
        refuse(j, NGX_HTTP_NOT_FOUND, "no such segment in the index");
        goto done;
    }
    if (e->nfrags == 0 || e->init_size == 0 || e->init_size > PB_BOX_MAX
        || vms_index_frags(rd, e, err, sizeof(err)) < 0) {
        note(j, NGX_LOG_ERR, "\"%s/%s\": no usable fragment table", j->camera_dir, j->rel);
        refuse(j, NGX_HTTP_INTERNAL_SERVER_ERROR, "recording index unusable (see the error log)");
        goto done;
    }
    free(j->frags);
    if ((j->frags = calloc(e->nfrags, sizeof(*j->frags))) == NULL) {
        refuse(j, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        goto done;
    }
    /* an open segment: only what its record announces (complete fragments) */
    uint64_t size = j->open_seg ? e->bytes : (uint64_t) j->st.st_size;
    if (size > (uint64_t) j->st.st_size) {
        size = (uint64_t) j->st.st_size;
    }
    f->init_size = e->init_size;
    f->end = size;
    add_frags(j, 0, e, e->init_size, size, j->file0_out_us);
done:
    if (rd != NULL) {
        reader_put(rd);
    }
}

void
ngx_http_vms_playback_lookup(job_t *j)
{
    if (j->kind == PB_JOB_MEDIA) {
        media(j);
        return;
    }
    vms_index_reader_t *rd = reader_get();
    if (rd == NULL) {
        refuse(j, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    switch (j->kind) {
    case PB_JOB_TIMELINE:
    case PB_JOB_LIST:
        spans(j, rd);
        break;
    case PB_JOB_PLAYLIST:
        playlist(j, rd);
        break;
    default:
        clip(j, rd);
        break;
    }
    reader_put(rd);
    if (j->status == 0 && j->text.oom) {
        refuse(j, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
}
