/*
 * vms_playback: the request as the module reads it, parsed once
 * (ngx_http_vms_playback_request.c).
 *
 * Everything that decides on a request reads this: the early phase handler
 * (400 before vms_auth runs), $vms_playback_camera / $vms_playback_path
 * (what vms_auth_require authorizes), and the content handler (what is
 * served).  nginx's $arg_x (first match, any case) is never consulted, so
 * "?PATH=cam1&path=cam2" cannot be authorized as one camera and served as
 * another: repeated and case-variant arguments are refused.
 */

#ifndef NGX_HTTP_VMS_PLAYBACK_REQUEST_H
#define NGX_HTTP_VMS_PLAYBACK_REQUEST_H

#include "ngx_http_vms_playback.h"
#include "pb_query.h"

#define VMS_CAMERA_MAX  64

#define PB_RES_PLAYLIST 1
#define PB_RES_TIMELINE 2
#define PB_RES_MEDIA    3

typedef struct {
    ngx_uint_t   status;     /* 0 parsed; else the refusal (with why) */
    const char  *why;
    pb_args_t    args;
    char        *path;       /* list/get: the MediaMTX path name; api: the camera id */
    char         camera[VMS_CAMERA_MAX + 1];   /* authorized as ("" when none fits) */
    ngx_uint_t   resource;   /* api: PB_RES_* */
    char        *rel;        /* api media: the segment path */
    /* what it was parsed from: a location-level rewrite may change them, then it is parsed anew */
    void        *lcf;
    ngx_str_t    uri, qs;
} ngx_http_vms_playback_ctx_t;

/* This request's parse (made on first use; redone if a rewrite changed the URI or query).
 * NULL only when out of memory; ctx->status != 0 is a refusal to answer. */
ngx_http_vms_playback_ctx_t *ngx_http_vms_playback_ctx(ngx_http_request_t *r);

/* preconfiguration: $vms_playback_camera, $vms_playback_path */
ngx_int_t ngx_http_vms_playback_add_variables(ngx_conf_t *cf);
/* postconfiguration: the rewrite-phase check and the CORS header filter */
ngx_int_t ngx_http_vms_playback_init(ngx_conf_t *cf);

#endif /* NGX_HTTP_VMS_PLAYBACK_REQUEST_H */
