/*
 * vms_playback: the read job, and segment files served with their moof
 * decode times (tfdt) rebased onto a playlist's output timeline (?s=&t=).
 *
 * Three steps.  In the worker: plan a job (files, fragments and the output
 * time of each, all copied: the index entries may change under a later
 * query).  In nginx's thread pool (vms_playback_thread_pool, else the
 * location's `aio threads` pool): the reads — each file's init section and
 * each fragment's moof, small preads at offsets the index gives — and, for
 * clips, building their boxes (ngx_http_vms_playback_mp4.c).  Back in the
 * worker: rewrite tfdt in the moofs and send init + moofs (memory) + mdat
 * bytes (file buffers, sendfile); clips send what they built.  Without a
 * thread pool the reads run in the worker. */
#include "ngx_http_vms_playback_job.h"
#include "pb_fmp4.h"

#include <stdlib.h>

#define BOX_MAX  (1 << 20)

typedef ngx_http_vms_playback_job_t job_t;
typedef ngx_http_vms_playback_job_file_t job_file_t;
typedef ngx_http_vms_playback_job_frag_t job_frag_t;

static void
job_cleanup(void *data)
{
    job_t *j = data;
    for (size_t i = 0; i < j->nfiles; i++) {
        free(j->files[i].init);
    }
    for (size_t i = 0; i < j->nfrags; i++) {
        free(j->frags[i].moof);
    }
    pb_pmp4_out_free(&j->out);
}

static int
pread_full(ngx_fd_t fd, unsigned char *p, size_t len, uint64_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, p + got, len - got, (off_t) (off + got));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        got += (size_t) n;
    }
    return 0;
}

/* The reads; runs in a pool thread (no nginx pool or log use here). */
static void
job_read(void *data, ngx_log_t *log)
{
    job_t *j = data;
    for (size_t i = 0; i < j->nfiles && !j->failed; i++) {
        job_file_t *f = &j->files[i];
        f->init = malloc(f->init_size);
        if (f->init == NULL || pread_full(f->fd, f->init, f->init_size, 0) < 0) {
            j->failed = 1;
            j->failed_file = i;
            snprintf(j->err, sizeof(j->err), "cannot read its init section");
        }
    }
    for (size_t i = 0; i < j->nfrags && !j->failed; i++) {
        job_frag_t *g = &j->frags[i];
        unsigned char h[8];
        if (pread_full(j->files[g->file].fd, h, 8, g->offset) == 0) {
            g->msz = (uint32_t) h[0] << 24 | (uint32_t) h[1] << 16 | (uint32_t) h[2] << 8 | h[3];
        }
        if (g->msz < 8 || g->msz > g->size || g->msz > BOX_MAX || memcmp(h + 4, "moof", 4) != 0
            || (g->moof = malloc(g->msz)) == NULL
            || pread_full(j->files[g->file].fd, g->moof, g->msz, g->offset) < 0) {
            j->failed = 1;
            j->failed_file = g->file;
            snprintf(j->err, sizeof(j->err), "no moof at offset %llu as indexed",
                     (unsigned long long) g->offset);
        }
    }
    if (j->pmp4 && !j->failed) {
        ngx_http_vms_playback_mp4_build(j);
    }
}

ngx_int_t
ngx_http_vms_playback_chain_add(ngx_http_request_t *r, ngx_chain_t ***last, ngx_buf_t *b)
{
    ngx_chain_t *cl = ngx_alloc_chain_link(r->pool);
    if (b == NULL || cl == NULL) {
        return NGX_ERROR;
    }
    cl->buf = b;
    cl->next = NULL;
    **last = cl;
    *last = &cl->next;
    return NGX_OK;
}

ngx_buf_t *
ngx_http_vms_playback_mem_buf(ngx_http_request_t *r, u_char *p, size_t len)
{
    ngx_buf_t *b = ngx_calloc_buf(r->pool);
    if (b != NULL) {
        b->pos = b->start = p;
        b->last = b->end = p + len;
        b->memory = 1;
    }
    return b;
}

#define chain_add  ngx_http_vms_playback_chain_add
#define mem_buf    ngx_http_vms_playback_mem_buf

static ngx_buf_t *
file_buf(ngx_http_request_t *r, job_file_t *f, uint64_t from, uint64_t to)
{
    return ngx_http_vms_playback_file_buf(r, f->fd, f->path, (off_t) from, (off_t) to);
}

/* a clip ends before a file whose tracks or codec parameters differ */
size_t
ngx_http_vms_playback_job_compatible(const job_t *j)
{
    const job_file_t *f0 = &j->files[0];
    size_t nfiles = 1;
    while (nfiles < j->nfiles
           && pb_fmp4_init_compatible(f0->init, f0->init_size, j->files[nfiles].init,
                                      j->files[nfiles].init_size)) {
        nfiles++;
    }
    return nfiles;
}

/* After the reads, in the worker: rebase, build the chain, send. */
static ngx_int_t
job_send(job_t *j)
{
    ngx_http_request_t *r = j->r;
    if (j->failed) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: \"%s/%s\": %s",
                      j->camera_dir, j->files[j->failed_file].path, j->err);
        return ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "recording file does not match its index");
    }
    if (j->pmp4) {
        return ngx_http_vms_playback_mp4_send(j);
    }
    /* rebased media: one file, byte for byte, each moof's tfdt rewritten */
    pb_fmp4_tracks_t tracks;
    job_file_t *f0 = &j->files[0];
    if (pb_fmp4_tracks(f0->init, f0->init_size, &tracks) < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: \"%s/%s\": unreadable "
                      "init section", j->camera_dir, f0->path);
        return ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "recording file unreadable (see the error log)");
    }
    ngx_chain_t *head = NULL, **last = &head;
    u_char *init = ngx_pnalloc(r->pool, f0->init_size);
    if (init == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_memcpy(init, f0->init, f0->init_size);
    if (chain_add(r, &last, mem_buf(r, init, f0->init_size)) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    off_t len = f0->init_size;
    uint64_t cursor = f0->init_size;
    for (size_t i = 0; i < j->nfrags; i++) {
        job_frag_t *g = &j->frags[i];
        if (g->offset > cursor) {                   /* bytes between fragments, as they are */
            if (chain_add(r, &last, file_buf(r, f0, cursor, g->offset)) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
            len += (off_t) (g->offset - cursor);
        }
        int64_t first[PB_FMP4_MAX_TRACKS], shift[PB_FMP4_MAX_TRACKS];
        if (pb_fmp4_moof_tfdt(g->moof, g->msz, &tracks, first, NULL) < 0) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: \"%s/%s\": malformed "
                          "moof at offset %uL", j->camera_dir, f0->path, g->offset);
            return ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                               "recording file does not match its index");
        }
        for (int t = 0; t < tracks.n; t++) {
            shift[t] = first[t] < 0 ? 0 : first[t] - g->at_us * (int64_t) tracks.timescale[t] / 1000000;
        }
        u_char *moof = ngx_pnalloc(r->pool, g->msz);
        if (moof == NULL || pb_fmp4_moof_tfdt(g->moof, g->msz, &tracks, NULL, shift) < 0) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        ngx_memcpy(moof, g->moof, g->msz);
        if (chain_add(r, &last, mem_buf(r, moof, g->msz)) != NGX_OK
            || chain_add(r, &last, file_buf(r, f0, g->offset + g->msz, g->offset + g->size)) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        len += (off_t) g->size;
        cursor = g->offset + g->size;
    }
    if (cursor < f0->end) {                         /* the tail after the last fragment */
        if (chain_add(r, &last, file_buf(r, f0, cursor, f0->end)) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        len += (off_t) (f0->end - cursor);
    }
    ngx_buf_t *tail = ngx_calloc_buf(r->pool);
    if (tail == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    tail->last_buf = (r == r->main) ? 1 : 0;
    tail->last_in_chain = 1;
    tail->sync = 1;
    if (chain_add(r, &last, tail) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    r->headers_out.last_modified_time = j->mtime;
    r->single_range = 1;             /* several buffers: see ngx_http_vms_playback_mp4_send() */
    return ngx_http_vms_playback_send_chain(r, head, len, j->open_seg ? 0 : j->conf->closed_max_age);
}

static void
job_done(ngx_event_t *ev)
{
    job_t *j = ev->data;
    ngx_http_request_t *r = j->r;
    ngx_connection_t *c = r->connection;
    r->main->blocked--;
    r->aio = 0;
    ngx_http_finalize_request(r, job_send(j));
    ngx_http_run_posted_requests(c);
}

/* Runs the reads in the thread pool (vms_playback_thread_pool, else the
 * location's `aio threads` pool; here without one), then sends. */
ngx_int_t
ngx_http_vms_playback_job_run(job_t *j)
{
    ngx_http_request_t *r = j->r;
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    cln->handler = job_cleanup;
    cln->data = j;
#if (NGX_THREADS)
    ngx_http_core_loc_conf_t *clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
    ngx_thread_pool_t *pool = j->conf->thread_pool != NULL ? j->conf->thread_pool : clcf->thread_pool;
    if (pool != NULL) {
        ngx_thread_task_t *task = ngx_thread_task_alloc(r->pool, 0);
        if (task == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        task->ctx = j;
        task->handler = job_read;
        task->event.handler = job_done;
        task->event.data = j;
        if (ngx_thread_task_post(pool, task) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        r->main->blocked++;
        r->aio = 1;
        r->main->count++;
        return NGX_DONE;
    }
#endif
    job_read(j, r->connection->log);
    return job_send(j);
}

static job_t *
job_new(ngx_http_request_t *r, ngx_http_vms_playback_loc_conf_t *conf, const char *camera_dir,
    size_t nfiles, size_t nfrags)
{
    job_t *j = ngx_pcalloc(r->pool, sizeof(*j));
    if (j == NULL) {
        return NULL;
    }
    j->r = r;
    j->conf = conf;
    j->camera_dir = camera_dir;
    j->files = ngx_pcalloc(r->pool, (nfiles ? nfiles : 1) * sizeof(*j->files));
    j->frags = ngx_pcalloc(r->pool, (nfrags ? nfrags : 1) * sizeof(*j->frags));
    if (j->files == NULL || j->frags == NULL) {
        return NULL;
    }
    return j;
}

static char *
pool_strdup(ngx_http_request_t *r, const char *s)
{
    size_t len = ngx_strlen(s) + 1;
    char *p = ngx_pnalloc(r->pool, len);
    if (p != NULL) {
        ngx_memcpy(p, s, len);
    }
    return p;
}

/* Adds e's fragments within [from, to) with the file's first fragment at file0_out_us. */
static void
job_add_frags(job_t *j, uint32_t file, const vms_index_entry_t *e, uint64_t from, uint64_t to,
    int64_t file0_out_us)
{
    for (uint32_t k = 0; k < e->nfrags; k++) {
        const vms_index_fragment_t *f = &e->frags[k];
        if (f->offset < from || f->offset + f->size > to) {
            continue;
        }
        job_frag_t *g = &j->frags[j->nfrags++];
        g->file = file;
        g->offset = f->offset;
        g->size = f->size;
        g->at_us = file0_out_us + f->start_us;
    }
}

/*
 * The segment file as it is on disk, byte for byte, except that each moof's
 * decode time is rebased to the output timeline of the playlist that asked
 * for it (?s=segment start&t=output time of its first fragment): players see
 * one continuous timeline across files whose timestamps restart, and the
 * playlist's byte ranges stay valid (tfdt is rewritten in place).
 */
ngx_int_t
ngx_http_vms_playback_send_rebased(ngx_http_request_t *r, ngx_http_vms_playback_loc_conf_t *conf,
    const char *camera_dir, const char *rel, ngx_fd_t fd, const struct stat *st, int open_seg,
    int64_t seg_start_us, int64_t file0_out_us)
{
    char err[1024];
    vms_index_result_t res;
    vms_index_reader_t *rd = ngx_http_vms_playback_reader();
    int rc = rd ? vms_index_query(rd, camera_dir, seg_start_us, seg_start_us + 1, &res, err,
                                  sizeof(err))
                : VMS_INDEX_ENOMEM;
    if (rc < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: %s", err);
        return ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "recording index unreadable (see the error log)");
    }
    vms_index_entry_t *e = NULL;
    for (size_t i = 0; i < res.n; i++) {
        if (res.v[i].start_us == seg_start_us && ngx_strcmp(res.v[i].path, rel) == 0) {
            e = &res.v[i];
        }
    }
    if (e == NULL) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_NOT_FOUND, "no such segment in the index");
    }
    if (e->nfrags == 0 || e->init_size == 0 || e->init_size > BOX_MAX
        || vms_index_frags(rd, e, err, sizeof(err)) < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: \"%s/%s\": no usable "
                      "fragment table", camera_dir, rel);
        return ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "recording index unusable (see the error log)");
    }
    job_t *j = job_new(r, conf, camera_dir, 1, e->nfrags);
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    j->open_seg = open_seg;
    j->mtime = st->st_mtime;
    /* an open segment: only what its record announces (complete fragments) */
    uint64_t size = open_seg ? e->bytes : (uint64_t) st->st_size;
    if (size > (uint64_t) st->st_size) {
        size = (uint64_t) st->st_size;
    }
    j->nfiles = 1;
    j->files[0] = (job_file_t) { .fd = fd, .path = (char *) rel, .init_size = e->init_size,
                                 .end = size };
    job_add_frags(j, 0, e, e->init_size, size, file0_out_us);
    return ngx_http_vms_playback_job_run(j);
}

/*
 * One fragmented MP4 for a plan: the first file's init section, then every
 * piece's fragments with decode times rebased so the clip starts at 0 and
 * runs on across files (and bridged gaps); it ends early before a file whose
 * sample descriptions differ from the first one's.
 */
job_t *
ngx_http_vms_playback_job_clip(ngx_http_request_t *r, ngx_http_vms_playback_loc_conf_t *conf,
    const char *camera_dir, const pb_plan_t *plan, ngx_int_t *status)
{
    char err[512];
    size_t nfrags = 0;
    for (size_t i = 0; i < plan->n; i++) {
        vms_index_entry_t *e = (vms_index_entry_t *) plan->v[i].seg;
        if (e->nfrags == 0 || e->init_size == 0 || e->init_size > BOX_MAX
            || vms_index_frags(ngx_http_vms_playback_reader(), e, err, sizeof(err)) < 0) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: \"%s/%s\": no usable "
                          "init section or fragment table for a clip", camera_dir, e->path);
            *status = ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                                  "recording index unusable for a clip (see the error log)");
            return NULL;
        }
        nfrags += e->nfrags;
    }
    job_t *j = job_new(r, conf, camera_dir, plan->n, nfrags);
    char *dir = pool_strdup(r, camera_dir);
    if (j == NULL || dir == NULL) {
        *status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return NULL;
    }
    j->camera_dir = dir;
    j->clip_start_us = plan->v[0].start_us;
    for (size_t i = 0; i < plan->n; i++) {
        const pb_piece_t *p = &plan->v[i];
        const vms_index_entry_t *e = p->seg;
        struct stat st;
        ngx_fd_t fd = ngx_http_vms_playback_open_confined(r, camera_dir, e->path, &st);
        if (fd < 0 || (uint64_t) st.st_size < p->offset + p->length) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: indexed segment "
                          "\"%s/%s\" is missing or shorter than its index says", camera_dir, e->path);
            if (i == 0) {
                *status = ngx_http_vms_playback_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                                      "an indexed recording file is missing");
                return NULL;
            }
            break;
        }
        char *path = pool_strdup(r, e->path);
        if (path == NULL) {
            *status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NULL;
        }
        j->files[j->nfiles] = (job_file_t) { .fd = fd, .path = path, .init_size = e->init_size };
        j->open_seg |= (e->flags & VMS_SEG_OPEN) != 0;
        /* the piece's output time, from its first served fragment back to the file's first */
        job_add_frags(j, (uint32_t) j->nfiles, e, p->offset, p->offset + p->length,
                      p->out_us - (p->start_us - e->start_us));
        j->nfiles++;
    }
    return j;
}

