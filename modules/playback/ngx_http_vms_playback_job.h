/*
 * vms_playback: every request that touches the disk is a job.  The worker
 * parses and checks the request (ngx_http_vms_playback_module.c) and fills
 * the job's inputs; nginx's thread pool does everything that may wait on a
 * disk: the index query and plan, the playlist or JSON text, opening the
 * segment files (confined to the camera's directory), reading init
 * sections and moofs, building clips (ngx_http_vms_playback_lookup.c,
 * _rebase.c, _mp4.c); back in the worker the answer is sent.  The thread
 * side uses malloc and the job's fields only: no nginx pool, no log.
 */
#ifndef NGX_HTTP_VMS_PLAYBACK_JOB_H
#define NGX_HTTP_VMS_PLAYBACK_JOB_H

#include "ngx_http_vms_playback.h"
#include "pb_pmp4.h"
#include "pb_plan.h"

#include <sys/stat.h>

/* what a job answers */
#define PB_JOB_TIMELINE  1         /* api {camera}/timeline: JSON */
#define PB_JOB_LIST      2         /* MediaMTX /list: JSON */
#define PB_JOB_PLAYLIST  3         /* api {camera}: HLS playlist */
#define PB_JOB_CLIP      4         /* api {camera}?format=mp4|fmp4 */
#define PB_JOB_GET       5         /* MediaMTX /get */
#define PB_JOB_MEDIA     6         /* api {camera}/media/{path}: a segment file (rebased with s/t) */

typedef struct {
    ngx_fd_t        fd;            /* -1 until opened; closed with the job */
    char           *path;          /* relative, for logs and file buffers (malloc) */
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

    /* inputs, set in the worker (strings in the request pool, read-only in the thread) */
    int                  kind;           /* PB_JOB_* */
    const char          *camera_dir;     /* {root}/{camera} */
    int64_t              from_us, to_us; /* the asked range [from, to); a clip's t=0 is from_us */
    int64_t              gap_us;         /* vms_playback_gap */
    int                  skip;           /* gaps=skip */
    const char          *camera;         /* timeline: the camera id */
    const char          *path;           /* list: the MediaMTX path name */
    const char          *get_url;        /* list: scheme://host/.../get */
    const char          *prefix, *query; /* playlist: media URI prefix and query */
    const char          *rel;            /* media: the segment path */
    int64_t              seg_start_us;   /* media: ?s= (0: served as it is) */
    int64_t              file0_out_us;   /* media: ?t= */

    /* outputs, set in the thread */
    ngx_uint_t           status;         /* a refusal: status and message (static text) */
    const char          *msg;
    ngx_uint_t           log_level;      /* with log[]: logged by the worker */
    char                 log[1200];
    pb_buf_t             text;           /* timeline, list, playlist */
    int                  plain;          /* media served as it is: files[0], st */
    struct stat          st;

    int                  open_seg;
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
    int                  pmp4_status;    /* 0, or the HTTP status of a failed build */
    pb_pmp4_out_t        out;
} ngx_http_vms_playback_job_t;

#define PB_BOX_MAX  (1 << 20)      /* largest init section or moof read */

/* A job for r (request pool; its files and buffers are freed with it). */
ngx_http_vms_playback_job_t *ngx_http_vms_playback_job_new(ngx_http_request_t *r,
    ngx_http_vms_playback_loc_conf_t *conf, int kind);

/* Runs the job's thread side in the pool (vms_playback_thread_pool, else the
 * location's `aio threads` pool, else here), then answers in the worker. */
ngx_int_t ngx_http_vms_playback_job_run(ngx_http_vms_playback_job_t *j);

/* ngx_http_vms_playback_lookup.c, thread side: the index query and plan,
 * the text answers, the files opened and the fragments to read.  On a
 * refusal j->status is set; then nothing is to be read. */
void ngx_http_vms_playback_lookup(ngx_http_vms_playback_job_t *j);
/* exit_process: frees the idle index readers */
void ngx_http_vms_playback_readers_free(void);

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
