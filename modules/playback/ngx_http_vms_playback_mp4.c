/*
 * vms_playback: clips cut exactly like MediaMTX's /get: format=mp4 a plain
 * MP4 (sample tables in moov), format=fmp4 a fragmented one.
 *
 * The job of ngx_http_vms_playback_rebase.c reads each file's init section
 * and every served moof in the thread pool (vms_playback_thread_pool); here,
 * still in that thread, the moofs' truns become one sample list on the
 * clip's timeline (t=0 = the asked start), cut at both ends, and the boxes
 * are written: a moov, or new moofs (core/pb_pmp4.h).  Back in the worker
 * the answer is those boxes from memory and the samples' bytes as file
 * buffers: sendfile of the original ranges, nothing copied, whatever the
 * clip's length.  nginx's range filter answers Range requests on it
 * (Content-Length is exact).
 */
#include "ngx_http_vms_playback_job.h"
#include "pb_time.h"

#include <stdlib.h>

/* The thread side: pure (malloc, the job's buffers), no nginx pool or log. */
void
ngx_http_vms_playback_mp4_build(ngx_http_vms_playback_job_t *j)
{
    pb_pmp4_init_t in;
    pb_fmp4_tracks_t tracks;
    pb_pmp4_samples_t s = { 0 };
    ngx_http_vms_playback_job_file_t *f0 = &j->files[0];
    j->pmp4_status = NGX_HTTP_INTERNAL_SERVER_ERROR;
    if (pb_pmp4_init_parse(f0->init, f0->init_size, &in) < 0
        || pb_fmp4_tracks(f0->init, f0->init_size, &tracks) < 0 || tracks.n != in.n) {
        j->failed_file = 0;
        snprintf(j->err, sizeof(j->err), "init section unreadable for a clip");
        return;
    }
    size_t nfiles = ngx_http_vms_playback_job_compatible(j);
    /* the clip's timeline starts at from_us: the first served fragment is lead_us earlier
     * (the keyframe before start) or later (start before the recording) */
    int64_t lead_us = j->from_us - j->clip_start_us;
    int64_t shift[PB_PMP4_MAX_TRACKS] = { 0 };
    int known[PB_PMP4_MAX_TRACKS] = { 0 };
    uint32_t cur_file = UINT32_MAX;
    for (size_t i = 0; i < j->nfrags; i++) {
        ngx_http_vms_playback_job_frag_t *g = &j->frags[i];
        if (g->file >= nfiles) {
            break;
        }
        if (g->file != cur_file) {
            /* each file's decode times restart (or run on): anchor them at the file's
             * first served fragment, whose output time the plan gives */
            cur_file = g->file;
            ngx_memzero(known, sizeof(known));
        }
        int64_t first[PB_FMP4_MAX_TRACKS];
        if (pb_fmp4_moof_tfdt(g->moof, g->msz, &tracks, first, NULL) < 0) {
            j->failed_file = g->file;
            snprintf(j->err, sizeof(j->err), "malformed moof at offset %llu",
                     (unsigned long long) g->offset);
            goto done;
        }
        for (int t = 0; t < tracks.n; t++) {
            if (first[t] > INT64_MAX / 2) {
                j->failed_file = g->file;
                snprintf(j->err, sizeof(j->err), "tfdt out of range in the moof at offset %llu",
                         (unsigned long long) g->offset);
                goto done;
            }
            if (!known[t] && first[t] >= 0) {
                shift[t] = first[t] - pb_pmp4_rescale(g->at_us - lead_us, tracks.timescale[t],
                                                      1000000);
                known[t] = 1;
            }
        }
        char err[128];
        size_t before = s.n;
        if (pb_pmp4_moof_samples(&in, g->moof, g->msz, g->offset, g->size, g->file, shift, &s,
                                 err, sizeof(err)) < 0) {
            j->failed_file = g->file;
            if (ngx_strcmp(err, "too many samples") == 0) {
                j->pmp4_status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
            snprintf(j->err, sizeof(j->err), "moof at offset %llu: %s",
                     (unsigned long long) g->offset, err);
            goto done;
        }
        for (size_t k = before; k < s.n; k++) {
            s.v[k].frag = (uint32_t) i;
        }
    }
    int64_t end[PB_PMP4_MAX_TRACKS];
    for (int t = 0; t < in.n; t++) {
        end[t] = pb_pmp4_rescale(j->to_us - j->from_us, in.t[t].timescale, 1000000);
    }
    pb_pmp4_cut(&s, &in, end);
    char err[128];
    if (s.n == 0) {
        j->pmp4_status = NGX_HTTP_NOT_FOUND;
        snprintf(j->err, sizeof(j->err), "no samples between start and end");
        goto done;
    }
    if ((j->fragmented ? pb_pmp4_write_fragmented(&in, &s, &j->out, err, sizeof(err))
                       : pb_pmp4_write(&in, &s, &j->out, err, sizeof(err))) < 0) {
        j->failed_file = 0;
        snprintf(j->err, sizeof(j->err), "%s", err);
        goto done;
    }
    j->pmp4_status = 0;
done:
    pb_pmp4_samples_free(&s);
}

/* The worker side: the header from memory, then every range by reference. */
ngx_int_t
ngx_http_vms_playback_mp4_send(ngx_http_vms_playback_job_t *j)
{
    ngx_http_request_t *r = j->r;
    if (j->pmp4_status == NGX_HTTP_NOT_FOUND) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_NOT_FOUND,
                                           "no recording segments found");
    }
    if (j->pmp4_status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
        char msg[200];
        snprintf(msg, sizeof(msg), "clip too long for format=mp4 (at most %d samples): ask a "
                 "shorter duration, or format=fmp4", PB_PMP4_MAX_SAMPLES);
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0, "vms_playback: plain MP4 refused: %s",
                      j->err);
        return ngx_http_vms_playback_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, msg);
    }
    if (j->pmp4_status != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: \"%s/%s\": %s",
                      j->camera_dir, j->files[j->failed_file].path, j->err);
        return ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "recording file does not match its index");
    }
    ngx_chain_t *head = NULL, **last = &head;
    for (size_t i = 0; i < j->out.nranges; i++) {
        const pb_pmp4_range_t *x = &j->out.ranges[i];
        ngx_buf_t *b;
        if (x->file == PB_PMP4_HEAD) {          /* boxes made in the thread (freed with the job) */
            b = ngx_http_vms_playback_mem_buf(r, j->out.head + x->offset, (size_t) x->length);
        } else {                                /* media: by reference, sendfile */
            ngx_http_vms_playback_job_file_t *f = &j->files[x->file];
            b = ngx_http_vms_playback_file_buf(r, f->fd, f->path, (off_t) x->offset,
                                               (off_t) (x->offset + x->length));
        }
        if (ngx_http_vms_playback_chain_add(r, &last, b) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    ngx_buf_t *tail = ngx_calloc_buf(r->pool);
    if (tail == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    tail->last_buf = (r == r->main) ? 1 : 0;
    tail->last_in_chain = 1;
    tail->sync = 1;
    if (ngx_http_vms_playback_chain_add(r, &last, tail) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    /* the clip is exactly the asked instant on: t=0 is start */
    char v[64];
    pb_time_format(v, j->from_us);
    if (ngx_http_vms_playback_add_header(r, "X-VMS-Clip-Start", v) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    pb_seconds_format(v, j->out.duration_us);
    if (ngx_http_vms_playback_add_header(r, "X-VMS-Clip-Duration", v) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    /* nginx answers several ranges at once only from a body in one buffer: here a request for
     * several ranges gets the first (RFC 9110 allows a server to ignore a multi-range request) */
    r->single_range = 1;
    return ngx_http_vms_playback_send_chain(r, head, (off_t) j->out.total,
                                            j->open_seg ? 0 : j->conf->closed_max_age);
}

char *
ngx_http_vms_playback_thread_pool_merge(ngx_conf_t *cf, ngx_http_vms_playback_loc_conf_t *prev,
    ngx_http_vms_playback_loc_conf_t *conf)
{
    ngx_conf_merge_str_value(conf->thread_pool_name, prev->thread_pool_name, "default");
#if (NGX_THREADS)
    /* the pool is declared with `thread_pool NAME threads=N;` in the main context; "default"
     * exists without it (32 threads) */
    conf->thread_pool = ngx_thread_pool_add(cf, &conf->thread_pool_name);
    if (conf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }
#endif
    return NGX_CONF_OK;
}
