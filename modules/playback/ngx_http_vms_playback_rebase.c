/*
 * vms_playback: the job (ngx_http_vms_playback_job.h) — run, read, answer —
 * and segment files served with their moof decode times (tfdt) rebased
 * onto a playlist's output timeline (?s=&t=).
 *
 * In nginx's thread pool (vms_playback_thread_pool, else the location's
 * `aio threads` pool): the lookup (ngx_http_vms_playback_lookup.c), then
 * the reads — each file's init section and each fragment's moof, small
 * preads at offsets the index gives — and, for clips, building their boxes
 * (ngx_http_vms_playback_mp4.c).  Back in the worker: rewrite tfdt in the
 * moofs and send init + moofs (memory) + mdat bytes (file buffers,
 * sendfile); clips send what they built; text answers are sent as they
 * are.  Without a thread pool all of it runs in the worker.
 */
#include "ngx_http_vms_playback_job.h"
#include "pb_fmp4.h"
#include "vms_bytes.h"

#include <stdlib.h>

typedef ngx_http_vms_playback_job_t job_t;
typedef ngx_http_vms_playback_job_file_t job_file_t;
typedef ngx_http_vms_playback_job_frag_t job_frag_t;

static void
job_cleanup(void *data)
{
    job_t *j = data;
    for (size_t i = 0; i < j->nfiles; i++) {
        if (j->files[i].fd >= 0) {              /* -1 not opened, -2 refused */
            close(j->files[i].fd);
        }
        free(j->files[i].path);
        free(j->files[i].init);
    }
    for (size_t i = 0; i < j->nfrags; i++) {
        free(j->frags[i].moof);
    }
    free(j->files);
    free(j->frags);
    pb_buf_free(&j->text);
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

/* The thread side: the lookup, then the reads (no nginx pool or log use here). */
static void
job_work(void *data, ngx_log_t *log)
{
    job_t *j = data;
    ngx_http_vms_playback_lookup(j);
    if (j->status != 0 || j->plain || j->kind < PB_JOB_CLIP) {
        return;
    }
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
            g->msz = vms_be32(h);
        }
        if (g->msz < 8 || g->msz > g->size || g->msz > PB_BOX_MAX || memcmp(h + 4, "moof", 4) != 0
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
    ngx_log_debug6(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "vms_playback: job %d done: "
                   "status %ui, %uz files, %uz fragments, %uz bytes of text, plain %d",
                   j->kind, j->status, j->nfiles, j->nfrags, j->text.len, j->plain);
    if (j->log[0] != '\0') {
        ngx_log_error(j->log_level, r->connection->log, 0, "vms_playback: %s", j->log);
    }
    if (j->status != 0) {
        return ngx_http_vms_playback_error(r, j->status, j->msg);
    }
    switch (j->kind) {
    case PB_JOB_TIMELINE:
    case PB_JOB_LIST:
        return ngx_http_vms_playback_send_text(r, &j->text, "application/json", 0);
    case PB_JOB_PLAYLIST:
        return ngx_http_vms_playback_send_text(r, &j->text, "application/vnd.apple.mpegurl", 0);
    }
    if (j->plain) {
        return ngx_http_vms_playback_send_file(r, j->files[0].fd, j->files[0].path, &j->st,
                                               j->open_seg ? 0 : j->conf->closed_max_age,
                                               !j->open_seg);
    }
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
    r->headers_out.last_modified_time = j->st.st_mtime;
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
    ngx_http_finalize_request(r, ngx_http_vms_playback_finish(r, job_send(j)));
    ngx_http_run_posted_requests(c);
}

ngx_int_t
ngx_http_vms_playback_job_run(job_t *j)
{
    ngx_http_request_t *r = j->r;
#if (NGX_THREADS)
    ngx_http_core_loc_conf_t *clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
    ngx_thread_pool_t *pool = j->conf->thread_pool != NULL ? j->conf->thread_pool : clcf->thread_pool;
    if (pool != NULL) {
        ngx_thread_task_t *task = ngx_thread_task_alloc(r->pool, 0);
        if (task == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        task->ctx = j;
        task->handler = job_work;
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
    job_work(j, r->connection->log);
    return job_send(j);
}

job_t *
ngx_http_vms_playback_job_new(ngx_http_request_t *r, ngx_http_vms_playback_loc_conf_t *conf,
    int kind)
{
    job_t *j = ngx_pcalloc(r->pool, sizeof(*j));
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(r->pool, 0);
    if (j == NULL || cln == NULL) {
        return NULL;
    }
    j->r = r;
    j->conf = conf;
    j->kind = kind;
    j->gap_us = (int64_t) conf->gap * 1000;
    cln->handler = job_cleanup;
    cln->data = j;
    return j;
}
