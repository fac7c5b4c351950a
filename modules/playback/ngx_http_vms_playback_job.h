/*
 * vms_playback: a job that reads what a response needs from segment files
 * in nginx's thread pool, then answers in the worker.  Shared by
 * ngx_http_vms_playback_rebase.c (the job, rebased media) and
 * ngx_http_vms_playback_mp4.c (clips: plain MP4 and fMP4).
 */
#ifndef NGX_HTTP_VMS_PLAYBACK_JOB_H
#define NGX_HTTP_VMS_PLAYBACK_JOB_H

#include "ngx_http_vms_playback.h"
#include "pb_pmp4.h"

typedef struct {
    ngx_fd_t        fd;
    char           *path;          /* relative, for logs and file buffers */
    uint32_t        init_size;
    uint64_t        end;           /* rebased media: bytes served from this file */
    unsigned char  *init;          /* read by the thread (malloc) */
} ngx_http_vms_playback_job_file_t;

typedef struct {
    uint32_t        file;
    uint64_t        offset;        /* of the moof */
    uint32_t        size;          /* moof + mdat (+ other tracks' boxes) */
    int64_t         at_us;         /* its place on the output timeline */
    unsigned char  *moof;          /* read by the thread (malloc) */
    uint32_t        msz;
} ngx_http_vms_playback_job_frag_t;

typedef struct {
    ngx_http_request_t  *r;
    ngx_http_vms_playback_loc_conf_t *conf;
    const char          *camera_dir;
    int                  open_seg;
    time_t               mtime;
    ngx_http_vms_playback_job_file_t *files;
    size_t               nfiles;
    ngx_http_vms_playback_job_frag_t *frags;
    size_t               nfrags;
    int64_t              clip_start_us;  /* wall clock of the first fragment served */
    int                  failed;         /* set by the reads */
    size_t               failed_file;
    char                 err[160];

    /* clips cut exactly (ngx_http_vms_playback_mp4.c): built in the thread after the reads */
    int                  pmp4;           /* a clip made from samples (else tfdt rebased) */
    int                  fragmented;     /* ... written as fMP4 (else a plain MP4) */
    int64_t              from_us, to_us; /* the asked clip: t=0 is from_us */
    int                  pmp4_status;    /* 0, or the HTTP status of a failed build */
    pb_pmp4_out_t        out;
} ngx_http_vms_playback_job_t;

/* A clip job for a plan: files opened (confined), fragments and their output
 * times; NULL with *status set to what the handler returns (an error
 * response may already have been sent). */
ngx_http_vms_playback_job_t *ngx_http_vms_playback_job_clip(ngx_http_request_t *r,
    ngx_http_vms_playback_loc_conf_t *conf, const char *camera_dir, const pb_plan_t *plan,
    ngx_int_t *status);

/* Runs the reads (and the plain MP4 build) in the pool, then answers. */
ngx_int_t ngx_http_vms_playback_job_run(ngx_http_vms_playback_job_t *j);

/* How many of the job's files, from the first, share its tracks and
 * codec parameters (a clip stops before the first that does not). */
size_t ngx_http_vms_playback_job_compatible(const ngx_http_vms_playback_job_t *j);

/* ngx_http_vms_playback_mp4.c: the thread side (pure: malloc, no nginx
 * pools or logs) and the worker side of a plain MP4 job. */
void ngx_http_vms_playback_mp4_build(ngx_http_vms_playback_job_t *j);
ngx_int_t ngx_http_vms_playback_mp4_send(ngx_http_vms_playback_job_t *j);

/* helpers for building the output chain */
ngx_int_t ngx_http_vms_playback_chain_add(ngx_http_request_t *r, ngx_chain_t ***last,
    ngx_buf_t *b);
ngx_buf_t *ngx_http_vms_playback_mem_buf(ngx_http_request_t *r, u_char *p, size_t len);

#endif /* NGX_HTTP_VMS_PLAYBACK_JOB_H */
