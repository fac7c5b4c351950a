/*
 * vms_playback internals shared by the module's files: configuration, the
 * per-worker index reader, and the response helpers.
 */
#ifndef NGX_HTTP_VMS_PLAYBACK_H
#define NGX_HTTP_VMS_PLAYBACK_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "vms_index.h"
#include "pb_plan.h"

#define NGX_HTTP_VMS_PLAYBACK_OFF   0
#define NGX_HTTP_VMS_PLAYBACK_API   1     /* /api/playback/{camera}[/timeline|/media/...] */
#define NGX_HTTP_VMS_PLAYBACK_LIST  2     /* MediaMTX GET /list */
#define NGX_HTTP_VMS_PLAYBACK_GET   3     /* MediaMTX GET /get */

typedef struct {
    ngx_uint_t  mode;
    ngx_str_t   root;           /* recordings root: {root}/{camera}/... */
    ngx_str_t   prefix;         /* URI part before {camera} (api mode) */
    ngx_msec_t  gap;            /* holes larger than this are gaps */
    time_t      max_range;      /* longest range a request may ask for */
    time_t      closed_max_age; /* Cache-Control max-age of closed segments */
    ngx_str_t   thread_pool_name;   /* vms_playback_thread_pool (ngx_http_vms_playback_mp4.c) */
    void       *thread_pool;        /* ngx_thread_pool_t *, NULL without thread support */
    ngx_array_t *allow_origins; /* of char *: CORS origins (MediaMTX's playbackAllowOrigins) */
    ngx_str_t   base_url;       /* scheme://host[:port] of /list's URLs ("" = from Host) */
} ngx_http_vms_playback_loc_conf_t;

extern ngx_module_t ngx_http_vms_playback_module;

/* {"status":"error","error":msg} with status; logs at level when not 0 */
ngx_int_t ngx_http_vms_playback_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *msg);

/* Sends b (text) with content type; frees nothing (caller owns b). */
ngx_int_t ngx_http_vms_playback_send_text(ngx_http_request_t *r, const pb_buf_t *b,
    const char *type, ngx_flag_t cacheable);

/* A bare status a sender returned (out of memory, a failed read) as a JSON
 * error while the header is not sent yet; else rc as it is. */
ngx_int_t ngx_http_vms_playback_finish(ngx_http_request_t *r, ngx_int_t rc);

/* vms_playback_thread_pool: the directive and its merge (ngx_http_vms_playback_mp4.c) */
char *ngx_http_vms_playback_thread_pool_merge(ngx_conf_t *cf,
    ngx_http_vms_playback_loc_conf_t *prev, ngx_http_vms_playback_loc_conf_t *conf);

/* ---- between the module's files ---- */

ngx_buf_t *ngx_http_vms_playback_file_buf(ngx_http_request_t *r, ngx_fd_t fd, const char *rel,
    off_t from, off_t to);
/* video/mp4 headers (Range allowed, Cache-Control by max_age, 0 = no-cache) and the body */
ngx_int_t ngx_http_vms_playback_send_chain(ngx_http_request_t *r, ngx_chain_t *out, off_t len,
    time_t max_age);
ngx_int_t ngx_http_vms_playback_add_header(ngx_http_request_t *r, const char *key,
    const char *value);

/* A segment file as it is (Range, sendfile); an ETag when it is closed. */
ngx_int_t ngx_http_vms_playback_send_file(ngx_http_request_t *r, ngx_fd_t fd, const char *rel,
    const struct stat *st, time_t max_age, int etag);

#endif /* NGX_HTTP_VMS_PLAYBACK_H */
