/*
 * vms_playback: HLS VOD playlists, timeline JSON, MP4 clips and the
 * MediaMTX-compatible /list and /get over recorded fMP4 segments, answered
 * from the per-camera segment index (modules/common/vms_index.h): no
 * directory scan and no MP4 parsing in the request path.
 *
 *   location /api/playback/ { vms_playback api; }
 *       GET {prefix}{camera}?start=&end=[&format=hls|mp4]   playlist or clip
 *       GET {prefix}{camera}/timeline?start=&end=           spans and gaps
 *       GET {prefix}{camera}/media/{segment path}           segment bytes
 *   location = /list { vms_playback list; }                 MediaMTX /list
 *   location = /get  { vms_playback get; }                  MediaMTX /get
 */
#include "ngx_http_vms_playback.h"
#include "pb_query.h"
#include "pb_time.h"

#include <stdlib.h>

#define ARG_MAX_LEN 512
#define ERR_LEN     1024

static void *ngx_http_vms_playback_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_vms_playback_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child);
static char *ngx_http_vms_playback_mode(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_vms_playback_init_process(ngx_cycle_t *cycle);
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
    { ngx_string("vms_playback_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_playback_loc_conf_t, thread_pool_name),
      NULL },
    ngx_null_command
};

static ngx_http_module_t ngx_http_vms_playback_module_ctx = {
    NULL, NULL,
    NULL, NULL, NULL, NULL,
    ngx_http_vms_playback_create_loc_conf, ngx_http_vms_playback_merge_loc_conf
};

ngx_module_t ngx_http_vms_playback_module = {
    NGX_MODULE_V1, &ngx_http_vms_playback_module_ctx, ngx_http_vms_playback_commands, NGX_HTTP_MODULE,
    NULL, NULL, ngx_http_vms_playback_init_process, NULL, NULL,
    ngx_http_vms_playback_exit_process, NULL, NGX_MODULE_V1_PADDING
};

static vms_index_reader_t *reader;

vms_index_reader_t *
ngx_http_vms_playback_reader(void)
{
    if (reader == NULL) {
        reader = vms_index_reader_new(256);
    }
    return reader;
}

static ngx_int_t
ngx_http_vms_playback_init_process(ngx_cycle_t *cycle)
{
    reader = vms_index_reader_new(256);
    if (reader == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "vms_playback: cannot allocate the index reader");
        return NGX_ERROR;
    }
    return NGX_OK;
}

static void
ngx_http_vms_playback_exit_process(ngx_cycle_t *cycle)
{
    vms_index_reader_free(reader);
    reader = NULL;
}

/* ---- request parsing ---- */

typedef struct {
    ngx_http_vms_playback_loc_conf_t *conf;
    char        camera[300];
    char        camera_dir[4096];
    int64_t     from_us, to_us;
    int         have_from, have_to;
} pb_req_t;

/* 1 found and parsed, 0 absent, or an error response already decided (-1). */
static int
time_arg(ngx_http_request_t *r, const char *name, int64_t *us, const char **why)
{
    char v[ARG_MAX_LEN];
    int rc = pb_arg((const char *) r->args.data, r->args.len, name, v, sizeof(v));
    if (rc == 0) {
        return 0;
    }
    if (rc < 0 || pb_time_parse(v, ngx_strlen(v), us) < 0) {
        *why = name;
        return -1;
    }
    return 1;
}

static ngx_int_t
bad_time(ngx_http_request_t *r, const char *name)
{
    char msg[200];
    snprintf(msg, sizeof(msg), "invalid %s: expected an RFC 3339 time such as 2026-11-24T01:02:03Z",
             name);
    return ngx_http_vms_playback_error(r, NGX_HTTP_BAD_REQUEST, msg);
}

/* Camera directory and the index query for [from, to); on failure the
 * response status to send (and the message). */
static ngx_int_t
index_query(ngx_http_request_t *r, pb_req_t *q, vms_index_result_t *res, const char **msg)
{
    char err[ERR_LEN];
    if ((size_t) snprintf(q->camera_dir, sizeof(q->camera_dir), "%.*s/%s",
                          (int) q->conf->root.len, q->conf->root.data, q->camera)
        >= sizeof(q->camera_dir)) {
        *msg = "camera path too long";
        return NGX_HTTP_BAD_REQUEST;
    }
    vms_index_reader_t *rd = ngx_http_vms_playback_reader();
    if (rd == NULL) {
        *msg = "out of memory";
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    int rc = vms_index_query(rd, q->camera_dir, q->from_us, q->to_us, res, err, sizeof(err));
    if (rc == 0) {
        return NGX_OK;
    }
    if (rc == VMS_INDEX_ENOINDEX) {
        struct stat st;
        if (stat(q->camera_dir, &st) < 0) {
            *msg = "no recording segments found";    /* unknown camera: nothing recorded */
            return NGX_HTTP_NOT_FOUND;
        }
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: %s", err);
        *msg = "recording index missing for this camera (rebuild it with vms-index rebuild)";
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: %s", err);
    *msg = rc == VMS_INDEX_ECORRUPT ? "recording index is corrupt (see the error log)"
                                    : "recording index unreadable (see the error log)";
    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}

static int
skip_gaps(ngx_http_request_t *r)
{
    char v[16];
    return pb_arg((const char *) r->args.data, r->args.len, "gaps", v, sizeof(v)) == 1
           && ngx_strcmp(v, "skip") == 0;
}

static ngx_int_t
plan_or_error(ngx_http_request_t *r, pb_req_t *q, vms_index_result_t *res, int clip, pb_plan_t *plan)
{
    char err[ERR_LEN];
    pb_plan_conf_t c = {
        .from_us = q->from_us, .to_us = q->to_us, .gap_us = (int64_t) q->conf->gap * 1000,
        .keyframe_start = 1, .clip = clip, .skip_gaps = clip && skip_gaps(r),
    };
    int rc = pb_plan_build(ngx_http_vms_playback_reader(), res, &c, plan, err, sizeof(err));
    if (rc < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: %s", err);
        return ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "recording index is corrupt (see the error log)");
    }
    return NGX_OK;
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
token_query(ngx_http_request_t *r)
{
    static const char *names[] = { "jwt", "token" };
    for (size_t i = 0; i < 2; i++) {
        char v[ARG_MAX_LEN * 4];
        if (pb_arg((const char *) r->args.data, r->args.len, names[i], v, sizeof(v)) == 1) {
            size_t len = ngx_strlen(v);
            char *out = ngx_pnalloc(r->pool, 3 * len + 8);
            if (out == NULL) {
                return "";
            }
            size_t n = (size_t) sprintf(out, "%s=", names[i]);
            pb_query_escape(out + n, v, len);
            return out;
        }
    }
    return "";
}

static ngx_int_t
handle_playlist(ngx_http_request_t *r, pb_req_t *q, int timeline)
{
    vms_index_result_t res;
    const char *msg = NULL;
    char fmt[16] = "hls";
    int frc = pb_arg((const char *) r->args.data, r->args.len, "format", fmt, sizeof(fmt));
    if (frc < 0 || (ngx_strcmp(fmt, "hls") != 0 && ngx_strcmp(fmt, "mp4") != 0
                    && ngx_strcmp(fmt, "fmp4") != 0)) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid format: expected hls, mp4 or fmp4");
    }
    ngx_int_t st = index_query(r, q, &res, &msg);
    if (st != NGX_OK) {
        return ngx_http_vms_playback_error(r, st, msg);
    }
    pb_buf_t b = { 0 };
    if (timeline) {
        pb_span_t *s = ngx_palloc(r->pool, (res.n + 1) * sizeof(*s));
        if (s == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        size_t n = pb_spans(&res, q->from_us, q->to_us, (int64_t) q->conf->gap * 1000, s);
        pb_render_timeline(&b, q->camera, q->from_us, q->to_us, s, n);
        st = ngx_http_vms_playback_send_text(r, &b, "application/json", 0);
        pb_buf_free(&b);
        return st;
    }
    pb_plan_t plan;
    int clip = fmt[0] != 'h';
    if ((st = plan_or_error(r, q, &res, clip, &plan)) != NGX_OK) {
        return st;
    }
    if (plan.n == 0) {
        pb_plan_free(&plan);
        return ngx_http_vms_playback_error(r, NGX_HTTP_NOT_FOUND,
                                           "nothing recorded between start and end");
    }
    if (clip) {
        st = ngx_http_vms_playback_send_mp4(r, q->conf, q->camera_dir, &plan, q->from_us, q->to_us,
                                            fmt[0] != 'm');
        pb_plan_free(&plan);
        return st;
    }
    char *prefix = ngx_pnalloc(r->pool, ngx_strlen(q->camera) + sizeof("/media/"));
    if (prefix == NULL) {
        pb_plan_free(&plan);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    /* relative to the playlist's URI: {prefix}{camera} -> {prefix}{camera}/media/... */
    sprintf(prefix, "%s/media/", q->camera);
    const char *tq = session_query(r, token_query(r));
    if (tq == NULL) {
        pb_plan_free(&plan);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    pb_render_playlist(&b, &plan, prefix, tq);
    pb_plan_free(&plan);
    st = ngx_http_vms_playback_send_text(r, &b, "application/vnd.apple.mpegurl", 0);
    pb_buf_free(&b);
    return st;
}

static ngx_int_t
range_args(ngx_http_request_t *r, pb_req_t *q, int required)
{
    const char *why = NULL;
    int a = time_arg(r, "start", &q->from_us, &why);
    int b = a < 0 ? 0 : time_arg(r, "end", &q->to_us, &why);
    if (a < 0 || b < 0) {
        return bad_time(r, why);
    }
    if (required && (!a || !b)) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_BAD_REQUEST,
                                           "start and end are required (RFC 3339 times)");
    }
    q->have_from = a;
    q->have_to = b;
    if (!b) {
        q->to_us = (int64_t) ngx_time() * 1000000 + 1000000;
    }
    if (!a) {
        q->from_us = q->to_us - 86400LL * 1000000;
    }
    if (q->to_us <= q->from_us) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_BAD_REQUEST, "end must be after start");
    }
    if (q->to_us - q->from_us > (int64_t) q->conf->max_range * 1000000) {
        char msg[160];
        snprintf(msg, sizeof(msg), "range too long: at most %lld seconds",
                 (long long) q->conf->max_range);
        return ngx_http_vms_playback_error(r, NGX_HTTP_BAD_REQUEST, msg);
    }
    return NGX_OK;
}

static ngx_int_t
handle_api(ngx_http_request_t *r, pb_req_t *q)
{
    /* {prefix}{camera}[/...]: prefix from vms_playback_prefix, else the prefix location's name */
    ngx_http_core_loc_conf_t *clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
    ngx_str_t prefix = q->conf->prefix;
#if (NGX_PCRE)
    if (prefix.len == 0 && clcf->regex != NULL) {
        ngx_str_set(&prefix, "/api/playback/");
    }
#endif
    if (prefix.len == 0) {
        prefix = clcf->name;
    }
    if (r->uri.len <= prefix.len || ngx_strncmp(r->uri.data, prefix.data, prefix.len) != 0) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_NOT_FOUND, "no camera in the URL");
    }
    u_char *p = r->uri.data + prefix.len, *end = r->uri.data + r->uri.len;
    if (prefix.data[prefix.len - 1] != '/') {
        if (*p != '/') {
            return ngx_http_vms_playback_error(r, NGX_HTTP_NOT_FOUND, "no camera in the URL");
        }
        p++;
    }
    u_char *slash = ngx_strlchr(p, end, '/');
    size_t clen = (slash ? slash : end) - p;
    if (!pb_camera_ok((const char *) p, clen, 0)) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid camera id: expected [A-Za-z0-9_-]{1,64}");
    }
    ngx_memcpy(q->camera, p, clen);
    q->camera[clen] = '\0';
    if (slash == NULL || (slash + 1 == end)) {
        ngx_int_t rc = range_args(r, q, 1);
        return rc != NGX_OK ? rc : handle_playlist(r, q, 0);
    }
    u_char *rest = slash + 1;
    size_t rlen = end - rest;
    if (rlen == 8 && ngx_strncmp(rest, "timeline", 8) == 0) {
        ngx_int_t rc = range_args(r, q, 0);
        return rc != NGX_OK ? rc : handle_playlist(r, q, 1);
    }
    if (rlen > 6 && ngx_strncmp(rest, "media/", 6) == 0) {
        if (!pb_media_path_ok((const char *) rest + 6, rlen - 6)) {
            return ngx_http_vms_playback_error(r, NGX_HTTP_BAD_REQUEST, "invalid segment path");
        }
        char rel[VMS_INDEX_PATH_MAX];
        ngx_memcpy(rel, rest + 6, rlen - 6);
        rel[rlen - 6] = '\0';
        if ((size_t) snprintf(q->camera_dir, sizeof(q->camera_dir), "%.*s/%s",
                              (int) q->conf->root.len, q->conf->root.data, q->camera)
            >= sizeof(q->camera_dir)) {
            return ngx_http_vms_playback_error(r, NGX_HTTP_BAD_REQUEST, "camera path too long");
        }
        char *relp = ngx_pnalloc(r->pool, sizeof(rel));
        char *dirp = ngx_pnalloc(r->pool, ngx_strlen(q->camera_dir) + 1);
        if (relp == NULL || dirp == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        ngx_memcpy(relp, rel, sizeof(rel));
        ngx_memcpy(dirp, q->camera_dir, ngx_strlen(q->camera_dir) + 1);
        /* ?s=&t= from our playlists: rebase decode times onto the playlist's timeline */
        char sv[32], tv[32];
        int64_t s_us = 0, t_us = 0;
        int hs = pb_arg((const char *) r->args.data, r->args.len, "s", sv, sizeof(sv));
        int ht = pb_arg((const char *) r->args.data, r->args.len, "t", tv, sizeof(tv));
        if (hs < 0 || ht < 0 || hs != ht
            || (hs == 1 && (pb_int_parse(sv, &s_us) < 0 || s_us <= 0 || pb_int_parse(tv, &t_us) < 0))) {
            return ngx_http_vms_playback_error(r, NGX_HTTP_BAD_REQUEST,
                                               "invalid s/t: expected integers (microseconds)");
        }
        return ngx_http_vms_playback_send_media(r, q->conf, dirp, relp, s_us, t_us);
    }
    return ngx_http_vms_playback_error(r, NGX_HTTP_NOT_FOUND, "unknown playback resource");
}

/* MediaMTX ?path= : a camera id, or a MediaMTX path name of up to 4 such parts */
static ngx_int_t
path_arg(ngx_http_request_t *r, pb_req_t *q)
{
    int rc = pb_arg((const char *) r->args.data, r->args.len, "path", q->camera, sizeof(q->camera));
    if (rc <= 0 || !pb_camera_ok(q->camera, ngx_strlen(q->camera), 1)) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_BAD_REQUEST, "invalid path");
    }
    return NGX_OK;
}

static ngx_int_t
handle_list(ngx_http_request_t *r, pb_req_t *q)
{
    ngx_int_t rc = path_arg(r, q);
    if (rc != NGX_OK) {
        return rc;
    }
    const char *why = NULL;
    int a = time_arg(r, "start", &q->from_us, &why);
    int b = a < 0 ? 0 : time_arg(r, "end", &q->to_us, &why);
    if (a < 0 || b < 0) {
        return bad_time(r, why);
    }
    if (!a) {
        q->from_us = 1;
    }
    if (!b) {
        q->to_us = INT64_MAX;
    }
    if (q->to_us <= q->from_us) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_BAD_REQUEST, "end must be after start");
    }
    vms_index_result_t res;
    const char *msg = NULL;
    ngx_int_t st = index_query(r, q, &res, &msg);
    if (st != NGX_OK) {
        return ngx_http_vms_playback_error(r, st, msg);
    }
    pb_span_t *s = ngx_palloc(r->pool, (res.n + 1) * sizeof(*s));
    if (s == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    size_t n = pb_spans(&res, q->from_us, q->to_us, (int64_t) q->conf->gap * 1000, s);
    if (n == 0) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_NOT_FOUND, "no recording segments found");
    }
    /* MediaMTX: scheme://{Host}/get — here: this URI with its last part "list" -> "get" */
    ngx_str_t host = r->headers_in.host ? r->headers_in.host->value : r->headers_in.server;
    const char *scheme = "http";
#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        scheme = "https";
    }
#endif
    size_t ulen = r->uri.len;
    if (ulen >= 4 && ngx_strncmp(r->uri.data + ulen - 4, "list", 4) == 0) {
        ulen -= 4;
    }
    char *get_url = ngx_pnalloc(r->pool, host.len + ulen + 32);
    if (get_url == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    sprintf(get_url, "%s://%.*s%.*sget", scheme, (int) host.len, host.data, (int) ulen, r->uri.data);
    pb_buf_t b2 = { 0 };
    pb_render_list(&b2, s, n, get_url, q->camera);
    st = ngx_http_vms_playback_send_text(r, &b2, "application/json", 0);
    pb_buf_free(&b2);
    return st;
}

static ngx_int_t
handle_get(ngx_http_request_t *r, pb_req_t *q)
{
    ngx_int_t rc = path_arg(r, q);
    if (rc != NGX_OK) {
        return rc;
    }
    const char *why = NULL;
    int a = time_arg(r, "start", &q->from_us, &why);
    if (a <= 0) {
        return bad_time(r, "start");
    }
    char v[ARG_MAX_LEN];
    int64_t dur;
    if (pb_arg((const char *) r->args.data, r->args.len, "duration", v, sizeof(v)) != 1
        || pb_duration_parse(v, ngx_strlen(v), &dur) < 0) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_BAD_REQUEST,
                                           "invalid duration: expected seconds, e.g. 60 or 12.5");
    }
    if (dur > (int64_t) q->conf->max_range * 1000000) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_BAD_REQUEST, "duration too long");
    }
    q->to_us = q->from_us + dur;
    char fmt[16] = "fmp4";
    int frc = pb_arg((const char *) r->args.data, r->args.len, "format", fmt, sizeof(fmt));
    if (frc < 0 || (ngx_strcmp(fmt, "fmp4") != 0 && ngx_strcmp(fmt, "mp4") != 0)) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_BAD_REQUEST, "invalid format: expected fmp4 or mp4");
    }
    vms_index_result_t res;
    const char *msg = NULL;
    ngx_int_t st = index_query(r, q, &res, &msg);
    if (st != NGX_OK) {
        return ngx_http_vms_playback_error(r, st, msg);
    }
    pb_plan_t plan;
    if ((st = plan_or_error(r, q, &res, 1, &plan)) != NGX_OK) {
        return st;
    }
    if (plan.n == 0 || plan.v[0].start_us > q->from_us + (int64_t) q->conf->gap * 1000) {
        /* MediaMTX: the recording must cover start */
        pb_plan_free(&plan);
        return ngx_http_vms_playback_error(r, NGX_HTTP_NOT_FOUND, "no recording segments found");
    }
    st = ngx_http_vms_playback_send_mp4(r, q->conf, q->camera_dir, &plan, q->from_us, q->to_us,
                                        fmt[0] != 'm');
    pb_plan_free(&plan);
    return st;
}

static ngx_int_t
ngx_http_vms_playback_handler(ngx_http_request_t *r)
{
    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }
    ngx_int_t rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }
    pb_req_t *q = ngx_pcalloc(r->pool, sizeof(*q));
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    q->conf = ngx_http_get_module_loc_conf(r, ngx_http_vms_playback_module);
    switch (q->conf->mode) {
    case NGX_HTTP_VMS_PLAYBACK_API:
        return handle_api(r, q);
    case NGX_HTTP_VMS_PLAYBACK_LIST:
        return handle_list(r, q);
    case NGX_HTTP_VMS_PLAYBACK_GET:
        return handle_get(r, q);
    default:
        return NGX_DECLINED;
    }
}

static char *
ngx_http_vms_playback_mode(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char *rv = ngx_conf_set_enum_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }
    ngx_http_vms_playback_loc_conf_t *pcf = conf;
    if (pcf->mode != NGX_HTTP_VMS_PLAYBACK_OFF) {
        ngx_http_core_loc_conf_t *clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
        clcf->handler = ngx_http_vms_playback_handler;
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
    while (conf->root.len > 1 && conf->root.data[conf->root.len - 1] == '/') {
        conf->root.len--;
    }
    return ngx_http_vms_playback_thread_pool_merge(cf, prev, conf);
}
