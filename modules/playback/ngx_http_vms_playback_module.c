/*
 * vms_playback: HLS VOD playlists, timeline JSON, MP4 clips and the
 * MediaMTX-compatible /list and /get over recorded fMP4 segments, answered
 * from the per-camera segment index (modules/recstore/vms_index.h): no
 * directory scan and no MP4 parsing in the request path.
 *
 *   location /api/playback/ { vms_playback api; }
 *       GET {prefix}{camera}?start=&end=[&format=hls|mp4]   playlist or clip
 *       GET {prefix}{camera}/timeline?start=&end=           spans and gaps
 *       GET {prefix}{camera}/media/{segment path}           segment bytes
 *   location = /list { vms_playback list; }                 MediaMTX /list
 *   location = /get  { vms_playback get; }                  MediaMTX /get
 *
 * The query and the URI are parsed once per request (ngx_http_vms_playback_ctx);
 * $vms_playback_camera is what vms_auth_require authorizes and what is served.
 */
#include "ngx_http_vms_playback_job.h"
#include "ngx_http_vms_playback_request.h"
#include "pb_query.h"
#include "pb_time.h"

#include <stdlib.h>


static void *ngx_http_vms_playback_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_vms_playback_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child);
static char *ngx_http_vms_playback_mode(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_vms_playback_origins(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static void ngx_http_vms_playback_exit_process(ngx_cycle_t *cycle);

static ngx_conf_enum_t ngx_http_vms_playback_modes[] = {
    { ngx_string("off"),  NGX_HTTP_VMS_PLAYBACK_OFF },
    { ngx_string("api"),  NGX_HTTP_VMS_PLAYBACK_API },
    { ngx_string("list"), NGX_HTTP_VMS_PLAYBACK_LIST },
    { ngx_string("get"),  NGX_HTTP_VMS_PLAYBACK_GET },
    { ngx_null_string, 0 }
};

static ngx_command_t ngx_http_vms_playback_commands[] = {
    { ngx_string("vms_playback"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_vms_playback_mode,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_playback_loc_conf_t, mode),
      ngx_http_vms_playback_modes },
    { ngx_string("vms_playback_root"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_playback_loc_conf_t, root),
      NULL },
    { ngx_string("vms_playback_prefix"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_playback_loc_conf_t, prefix),
      NULL },
    { ngx_string("vms_playback_gap"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_playback_loc_conf_t, gap),
      NULL },
    { ngx_string("vms_playback_max_range"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_playback_loc_conf_t, max_range),
      NULL },
    { ngx_string("vms_playback_cache_max_age"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_playback_loc_conf_t, closed_max_age),
      NULL },
    { ngx_string("vms_playback_allow_origins"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_vms_playback_origins,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },
    { ngx_string("vms_playback_base_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_playback_loc_conf_t, base_url),
      NULL },
    { ngx_string("vms_playback_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_playback_loc_conf_t, thread_pool_name),
      NULL },
    ngx_null_command
};

static ngx_http_module_t ngx_http_vms_playback_module_ctx = {
    ngx_http_vms_playback_add_variables, ngx_http_vms_playback_init,   /* _request.c */
    NULL, NULL, NULL, NULL,
    ngx_http_vms_playback_create_loc_conf, ngx_http_vms_playback_merge_loc_conf
};

ngx_module_t ngx_http_vms_playback_module = {
    NGX_MODULE_V1, &ngx_http_vms_playback_module_ctx, ngx_http_vms_playback_commands, NGX_HTTP_MODULE,
    NULL, NULL, NULL, NULL, NULL,
    ngx_http_vms_playback_exit_process, NULL, NGX_MODULE_V1_PADDING
};

/* after the thread pools stopped (core modules exit first): no lookup runs */
static void
ngx_http_vms_playback_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_vms_playback_readers_free();
}

/* ---- the handlers: each validates, then answers once ---- */

typedef struct {
    ngx_http_vms_playback_loc_conf_t *conf;
    ngx_http_vms_playback_ctx_t      *ctx;
    char        camera_dir[4096];
    int64_t     from_us, to_us;
    ngx_uint_t  status;          /* a refusal decided by a helper (NGX_DECLINED returned) */
    const char *msg;
    char        msgbuf[200];
} pb_req_t;

/* Records the refusal; the handler sends it, once, and stops. */
static ngx_int_t
fail(pb_req_t *q, ngx_uint_t status, const char *msg)
{
    q->status = status;
    q->msg = msg;
    return NGX_DECLINED;
}

static const char *
arg(pb_req_t *q, int k)
{
    const char *v = q->ctx->args.v[k];
    return v != NULL && v[0] != '\0' ? v : NULL;    /* empty means absent, as in MediaMTX */
}

/* 1 found and parsed, 0 absent, -1 refused (q->status set) */
static int
time_arg(pb_req_t *q, int k, int64_t *us)
{
    const char *v = arg(q, k);
    if (v == NULL) {
        return 0;
    }
    if (pb_time_parse(v, ngx_strlen(v), us) < 0) {
        snprintf(q->msgbuf, sizeof(q->msgbuf),
                 "invalid %s: expected an RFC 3339 time such as 2026-11-24T01:02:03Z",
                 pb_arg_names[k]);
        fail(q, NGX_HTTP_BAD_REQUEST, q->msgbuf);
        return -1;
    }
    return 1;
}

static ngx_int_t
range_limit(pb_req_t *q, int64_t from_us, int64_t to_us)
{
    if (to_us - from_us > (int64_t) q->conf->max_range * 1000000) {
        snprintf(q->msgbuf, sizeof(q->msgbuf), "range too long: at most %lld seconds",
                 (long long) q->conf->max_range);
        return fail(q, NGX_HTTP_BAD_REQUEST, q->msgbuf);
    }
    return NGX_OK;
}

/* gaps=skip or nothing (empty/absent) */
static ngx_int_t
gaps_arg(pb_req_t *q, int *skip)
{
    const char *v = arg(q, PB_A_GAPS);
    *skip = v != NULL;
    if (v != NULL && ngx_strcmp(v, "skip") != 0) {
        return fail(q, NGX_HTTP_BAD_REQUEST, "invalid gaps: expected skip");
    }
    return NGX_OK;
}

/* {root}/{name}: the camera's directory (name was validated: one safe path component or more) */
static ngx_int_t
camera_dir(pb_req_t *q, const char *name)
{
    if ((size_t) snprintf(q->camera_dir, sizeof(q->camera_dir), "%.*s/%s",
                          (int) q->conf->root.len, q->conf->root.data, name)
        >= sizeof(q->camera_dir)) {
        return fail(q, NGX_HTTP_BAD_REQUEST, "camera path too long");
    }
    return NGX_OK;
}

/* A job of kind over the request's camera directory and range (run by the caller). */
static ngx_http_vms_playback_job_t *
job(ngx_http_request_t *r, pb_req_t *q, int kind)
{
    ngx_http_vms_playback_job_t *j = ngx_http_vms_playback_job_new(r, q->conf, kind);
    if (j == NULL) {
        fail(q, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return NULL;
    }
    j->camera_dir = q->camera_dir;
    j->from_us = q->from_us;
    j->to_us = q->to_us;
    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "vms_playback: job %d for \"%s\" "
                   "[%L, %L) us, gaps %s", kind, q->camera_dir, q->from_us, q->to_us,
                   arg(q, PB_A_GAPS) ? "skipped" : "kept");
    return j;
}

/*
 * Appends vms_limit's signed player session ($vms_limit_session, minted when this playlist opened its
 * stream lease; docs/limit.md "Player sessions") to a media URI query, so the player's media requests
 * belong to that lease.  The variable is looked up in the hash at run time: a build or a location
 * without vms_limit leaves the query as it is and logs nothing.  The value is [A-Za-z0-9._:~-] only.
 */
static const char *
session_query(ngx_http_request_t *r, const char *query)
{
    static ngx_str_t name = ngx_string("vms_limit_session");
    ngx_http_core_main_conf_t *cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);
    ngx_http_variable_t *v = ngx_hash_find(&cmcf->variables_hash, ngx_hash_key(name.data, name.len),
                                           name.data, name.len);
    ngx_http_variable_value_t vv;

    if (query == NULL || v == NULL || v->get_handler == NULL) {
        return query;
    }
    ngx_memzero(&vv, sizeof(vv));
    if (v->get_handler(r, &vv, v->data) != NGX_OK || vv.not_found || vv.len == 0) {
        return query;
    }
    size_t qlen = ngx_strlen(query);
    char *out = ngx_pnalloc(r->pool, qlen + sizeof("&vms_session=") + vv.len);
    if (out == NULL) {
        return NULL;
    }
    sprintf(out, "%s%svms_session=%.*s", query, qlen ? "&" : "", (int) vv.len, (const char *) vv.data);
    return out;
}

/* media URI query carrying the caller's token, so segment requests pass the same auth */
static const char *
token_query(ngx_http_request_t *r, pb_req_t *q)
{
    for (int k = PB_A_JWT; k <= PB_A_TOKEN; k++) {
        const char *v = arg(q, k);
        if (v != NULL) {
            size_t len = ngx_strlen(v);
            char *out = ngx_pnalloc(r->pool, 3 * len + 8);
            if (out == NULL) {
                return NULL;
            }
            size_t n = (size_t) sprintf(out, "%s=", pb_arg_names[k]);
            pb_query_escape(out + n, v, len);
            return out;
        }
    }
    return "";
}

/* start/end of a playlist or timeline; required for playlists, the last 24 h by default. */
static ngx_int_t
range_args(pb_req_t *q, int required)
{
    int a = time_arg(q, PB_A_START, &q->from_us);
    int b = a < 0 ? 0 : time_arg(q, PB_A_END, &q->to_us);
    if (a < 0 || b < 0) {
        return NGX_DECLINED;
    }
    if (required && (!a || !b)) {
        return fail(q, NGX_HTTP_BAD_REQUEST, "start and end are required (RFC 3339 times)");
    }
    if (!b) {
        q->to_us = (int64_t) ngx_time() * 1000000 + 1000000;
    }
    if (!a) {
        q->from_us = q->to_us - 86400LL * 1000000;
    }
    if (q->to_us <= q->from_us) {
        return fail(q, NGX_HTTP_BAD_REQUEST, "end must be after start");
    }
    return range_limit(q, q->from_us, q->to_us);
}

static ngx_int_t
handle_playlist(ngx_http_request_t *r, pb_req_t *q, int timeline)
{
    const char *fmt = arg(q, PB_A_FORMAT);
    int skip, clip = 0;
    if (fmt != NULL && ngx_strcmp(fmt, "hls") != 0) {
        if (ngx_strcmp(fmt, "mp4") != 0 && ngx_strcmp(fmt, "fmp4") != 0) {
            return fail(q, NGX_HTTP_BAD_REQUEST, "invalid format: expected hls, mp4 or fmp4");
        }
        clip = 1;
    }
    if (range_args(q, !timeline) != NGX_OK || gaps_arg(q, &skip) != NGX_OK
        || camera_dir(q, q->ctx->path) != NGX_OK) {
        return NGX_DECLINED;
    }
    ngx_http_vms_playback_job_t *j = job(r, q, timeline ? PB_JOB_TIMELINE
                                               : clip ? PB_JOB_CLIP : PB_JOB_PLAYLIST);
    if (j == NULL) {
        return NGX_DECLINED;
    }
    j->skip = skip;
    if (timeline) {
        j->camera = q->ctx->camera;
    } else if (clip) {
        j->pmp4 = 1;
        j->fragmented = fmt[0] != 'm';
    } else {
        const char *tq = session_query(r, token_query(r, q));
        char *prefix = ngx_pnalloc(r->pool, ngx_strlen(q->ctx->camera) + sizeof("/media/"));
        if (prefix == NULL || tq == NULL) {
            return fail(q, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        }
        /* relative to the playlist's URI: {prefix}{camera} -> {prefix}{camera}/media/... */
        sprintf(prefix, "%s/media/", q->ctx->camera);
        j->prefix = prefix;
        j->query = tq;
    }
    return ngx_http_vms_playback_job_run(j);
}

static ngx_int_t
handle_media(ngx_http_request_t *r, pb_req_t *q)
{
    /* ?s=&t= from our playlists: rebase decode times onto the playlist's timeline */
    const char *sv = arg(q, PB_A_S), *tv = arg(q, PB_A_T);
    int64_t s_us = 0, t_us = 0;
    if ((sv == NULL) != (tv == NULL)
        || (sv != NULL && (pb_int_parse(sv, &s_us) < 0 || s_us <= 0 || pb_int_parse(tv, &t_us) < 0))) {
        return fail(q, NGX_HTTP_BAD_REQUEST, "invalid s/t: expected integers (microseconds)");
    }
    if (camera_dir(q, q->ctx->camera) != NGX_OK) {
        return NGX_DECLINED;
    }
    ngx_http_vms_playback_job_t *j = job(r, q, PB_JOB_MEDIA);
    if (j == NULL) {
        return NGX_DECLINED;
    }
    j->rel = q->ctx->rel;
    j->seg_start_us = s_us;
    j->file0_out_us = t_us;
    return ngx_http_vms_playback_job_run(j);
}

/* scheme://host[:port] of /list's URLs: vms_playback_base_url, else this request's Host when it
 * is a plain host[:port] (it is copied into JSON and into URLs a client will follow). */
static ngx_int_t
list_base(ngx_http_request_t *r, pb_req_t *q, ngx_str_t *base)
{
    if (q->conf->base_url.len) {
        *base = q->conf->base_url;
        return NGX_OK;
    }
    ngx_str_t host = r->headers_in.host ? r->headers_in.host->value : r->headers_in.server;
    if (!pb_host_ok((const char *) host.data, host.len)) {
        return fail(q, NGX_HTTP_BAD_REQUEST, "invalid Host header");
    }
    const char *scheme = "http";
#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        scheme = "https";
    }
#endif
    base->data = ngx_pnalloc(r->pool, host.len + 16);
    if (base->data == NULL) {
        return fail(q, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    base->len = ngx_sprintf(base->data, "%s://%V", scheme, &host) - base->data;
    return NGX_OK;
}

static ngx_int_t
handle_list(ngx_http_request_t *r, pb_req_t *q)
{
    int a = time_arg(q, PB_A_START, &q->from_us);
    int b = a < 0 ? 0 : time_arg(q, PB_A_END, &q->to_us);
    if (a < 0 || b < 0) {
        return NGX_DECLINED;
    }
    if (!a) {
        q->from_us = 1;
    }
    if (!b) {
        q->to_us = INT64_MAX;
    }
    if (q->to_us <= q->from_us) {
        return fail(q, NGX_HTTP_NOT_FOUND, "no recording segments found");   /* as MediaMTX */
    }
    ngx_str_t base;
    if (list_base(r, q, &base) != NGX_OK || camera_dir(q, q->ctx->path) != NGX_OK) {
        return NGX_DECLINED;
    }
    /* MediaMTX: {base}/get; here this URI with its last part "list" -> "get" */
    size_t ulen = r->uri.len;
    if (ulen >= 4 && ngx_strncmp(r->uri.data + ulen - 4, "list", 4) == 0) {
        ulen -= 4;
    }
    char *get_url = ngx_pnalloc(r->pool, base.len + ulen + 8);
    ngx_http_vms_playback_job_t *j = job(r, q, PB_JOB_LIST);
    if (get_url == NULL || j == NULL) {
        return fail(q, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    sprintf(get_url, "%.*s%.*sget", (int) base.len, base.data, (int) ulen, r->uri.data);
    j->get_url = get_url;
    j->path = q->ctx->path;
    return ngx_http_vms_playback_job_run(j);
}

static ngx_int_t
handle_get(ngx_http_request_t *r, pb_req_t *q)
{
    int a = time_arg(q, PB_A_START, &q->from_us);
    if (a < 0) {
        return NGX_DECLINED;
    }
    if (a == 0) {
        return fail(q, NGX_HTTP_BAD_REQUEST,
                    "invalid start: expected an RFC 3339 time such as 2026-11-24T01:02:03Z");
    }
    const char *v = arg(q, PB_A_DURATION);
    int64_t dur;
    if (v == NULL || pb_get_duration_parse(v, ngx_strlen(v), &dur) < 0) {
        return fail(q, NGX_HTTP_BAD_REQUEST,
                    "invalid duration: expected seconds (60, 12.5) or a Go duration (10s, 1m30s)");
    }
    if (range_limit(q, 0, dur) != NGX_OK) {
        return NGX_DECLINED;
    }
    q->to_us = q->from_us + dur;
    const char *fmt = arg(q, PB_A_FORMAT);
    if (fmt != NULL && ngx_strcmp(fmt, "fmp4") != 0 && ngx_strcmp(fmt, "mp4") != 0) {
        return fail(q, NGX_HTTP_BAD_REQUEST, "invalid format: expected fmp4 or mp4");
    }
    int skip;
    if (gaps_arg(q, &skip) != NGX_OK || camera_dir(q, q->ctx->path) != NGX_OK) {
        return NGX_DECLINED;
    }
    ngx_http_vms_playback_job_t *j = job(r, q, PB_JOB_GET);
    if (j == NULL) {
        return NGX_DECLINED;
    }
    j->skip = skip;
    j->pmp4 = 1;
    j->fragmented = fmt == NULL || fmt[0] != 'm';
    return ngx_http_vms_playback_job_run(j);
}

static ngx_int_t
ngx_http_vms_playback_handler(ngx_http_request_t *r)
{
    ngx_http_vms_playback_ctx_t *ctx = ngx_http_vms_playback_ctx(r);
    pb_req_t *q = ngx_pcalloc(r->pool, sizeof(*q));
    if (ctx == NULL || q == NULL) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    q->conf = ngx_http_get_module_loc_conf(r, ngx_http_vms_playback_module);
    q->ctx = ctx;
    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        /* the early phase answered it already unless this location was reached internally */
        if (ngx_http_vms_playback_add_header(r, "Allow", "GET, HEAD, OPTIONS") != NGX_OK) {
            return ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        }
        return ngx_http_vms_playback_error(r, NGX_HTTP_NOT_ALLOWED, "method not allowed");
    }
    ngx_int_t rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }
    if (ctx->status != 0) {
        return ngx_http_vms_playback_error(r, ctx->status, ctx->why);
    }
    switch (q->conf->mode) {
    case NGX_HTTP_VMS_PLAYBACK_API:
        rc = ctx->resource == PB_RES_MEDIA ? handle_media(r, q)
                                           : handle_playlist(r, q, ctx->resource == PB_RES_TIMELINE);
        break;
    case NGX_HTTP_VMS_PLAYBACK_LIST:
        rc = handle_list(r, q);
        break;
    case NGX_HTTP_VMS_PLAYBACK_GET:
        rc = handle_get(r, q);
        break;
    default:
        return NGX_DECLINED;
    }
    /* a helper refused: nothing was sent yet; answer once, and stop */
    if (rc == NGX_DECLINED && q->status != 0) {
        return ngx_http_vms_playback_error(r, q->status, q->msg);
    }
    /* a bare status from the senders (out of memory, a failed read): JSON too, if still possible */
    return ngx_http_vms_playback_finish(r, rc);
}

static char *
ngx_http_vms_playback_mode(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char *rv = ngx_conf_set_enum_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }
    ngx_http_vms_playback_loc_conf_t *pcf = conf;
    /* With proxy_pass (or another content handler) in the location, written before or after
     * this, the module only checks the request and sets $vms_playback_camera: the answer comes
     * from there (per-node storage, docs/scale-out.md). */
    if (pcf->mode != NGX_HTTP_VMS_PLAYBACK_OFF) {
        ngx_http_core_loc_conf_t *clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
        if (clcf->handler == NULL) {
            clcf->handler = ngx_http_vms_playback_handler;
        }
    }
    return NGX_CONF_OK;
}

static void *
ngx_http_vms_playback_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_vms_playback_loc_conf_t *conf = ngx_pcalloc(cf->pool, sizeof(*conf));
    if (conf == NULL) {
        return NULL;
    }
    conf->mode = NGX_CONF_UNSET_UINT;
    conf->gap = NGX_CONF_UNSET_MSEC;
    conf->max_range = NGX_CONF_UNSET;
    conf->closed_max_age = NGX_CONF_UNSET;
    conf->allow_origins = NGX_CONF_UNSET_PTR;
    return conf;
}

static char *
ngx_http_vms_playback_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_vms_playback_loc_conf_t *prev = parent, *conf = child;
    ngx_conf_merge_uint_value(conf->mode, prev->mode, NGX_HTTP_VMS_PLAYBACK_OFF);
    ngx_conf_merge_str_value(conf->root, prev->root, "/var/lib/vms/recordings");
    ngx_conf_merge_str_value(conf->prefix, prev->prefix, "");
    ngx_conf_merge_msec_value(conf->gap, prev->gap, 500);
    ngx_conf_merge_sec_value(conf->max_range, prev->max_range, 32 * 86400);
    ngx_conf_merge_sec_value(conf->closed_max_age, prev->closed_max_age, 7 * 86400);
    ngx_conf_merge_str_value(conf->base_url, prev->base_url, "");
    ngx_conf_merge_ptr_value(conf->allow_origins, prev->allow_origins, NGX_CONF_UNSET_PTR);
    if (conf->allow_origins == NGX_CONF_UNSET_PTR) {
        /* MediaMTX's playbackAllowOrigins default: "*" (never sent with credentials) */
        conf->allow_origins = ngx_array_create(cf->pool, 1, sizeof(char *));
        char **o = conf->allow_origins ? ngx_array_push(conf->allow_origins) : NULL;
        if (o == NULL) {
            return NGX_CONF_ERROR;
        }
        *o = "*";
    }
    while (conf->base_url.len > 0 && conf->base_url.data[conf->base_url.len - 1] == '/') {
        conf->base_url.len--;
    }
    while (conf->root.len > 1 && conf->root.data[conf->root.len - 1] == '/') {
        conf->root.len--;
    }
    return ngx_http_vms_playback_thread_pool_merge(cf, prev, conf);
}

/* vms_playback_allow_origins off | ORIGIN ...; */
static char *
ngx_http_vms_playback_origins(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_playback_loc_conf_t *pcf = conf;
    ngx_str_t *value = cf->args->elts;
    if (pcf->allow_origins != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    pcf->allow_origins = ngx_array_create(cf->pool, cf->args->nelts, sizeof(char *));
    if (pcf->allow_origins == NULL) {
        return NGX_CONF_ERROR;
    }
    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        return NGX_CONF_OK;
    }
    for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0 || value[i].len > 256 || ngx_strcmp(value[i].data, "off") == 0
            || (ngx_strcmp(value[i].data, "*") != 0 && ngx_strstrn(value[i].data, "://", 2) == NULL)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid origin \"%V\" (\"*\", "
                               "scheme://host[:port] with an optional * in host, or a single off)",
                               &value[i]);
            return NGX_CONF_ERROR;
        }
        char **o = ngx_array_push(pcf->allow_origins);
        if (o == NULL) {
            return NGX_CONF_ERROR;
        }
        *o = (char *) value[i].data;     /* NUL-terminated by the configuration parser */
    }
    return NGX_CONF_OK;
}
