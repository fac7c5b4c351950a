/*
 * vms_playback: the request parsed once, before vms_auth (see
 * ngx_http_vms_playback_request.h): the rewrite-phase check, the variables
 * vms_auth_require reads, the CORS preflight and header filter.
 */
#include "ngx_http_vms_playback_request.h"

static ngx_http_vms_playback_ctx_t *
refuse(ngx_http_vms_playback_ctx_t *ctx, ngx_uint_t status, const char *why)
{
    ctx->status = status;
    ctx->why = why;
    return ctx;
}

/* {prefix}{camera}[/timeline | /media/{segment}] */
static void
parse_api_uri(ngx_http_request_t *r, ngx_http_vms_playback_loc_conf_t *lcf,
    ngx_http_vms_playback_ctx_t *ctx)
{
    ngx_http_core_loc_conf_t *clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
    ngx_str_t prefix = lcf->prefix;
#if (NGX_PCRE)
    if (prefix.len == 0 && clcf->regex != NULL) {
        ngx_str_set(&prefix, "/api/playback/");
    }
#endif
    if (prefix.len == 0) {
        prefix = clcf->name;
    }
    if (r->uri.len <= prefix.len || ngx_strncmp(r->uri.data, prefix.data, prefix.len) != 0) {
        refuse(ctx, NGX_HTTP_NOT_FOUND, "no camera in the URL");
        return;
    }
    u_char *p = r->uri.data + prefix.len, *end = r->uri.data + r->uri.len;
    if (prefix.data[prefix.len - 1] != '/') {
        if (*p != '/') {
            refuse(ctx, NGX_HTTP_NOT_FOUND, "no camera in the URL");
            return;
        }
        p++;
    }
    u_char *slash = ngx_strlchr(p, end, '/');
    size_t clen = (slash ? slash : end) - p;
    if (!pb_camera_ok((const char *) p, clen, 0)) {
        refuse(ctx, NGX_HTTP_BAD_REQUEST, "invalid camera id: expected [A-Za-z0-9_-]{1,64}");
        return;
    }
    ngx_memcpy(ctx->camera, p, clen);
    ctx->camera[clen] = '\0';
    ctx->path = ctx->camera;
    if (slash == NULL || slash + 1 == end) {
        ctx->resource = PB_RES_PLAYLIST;
        return;
    }
    u_char *rest = slash + 1;
    size_t rlen = end - rest;
    if (rlen == 8 && ngx_strncmp(rest, "timeline", 8) == 0) {
        ctx->resource = PB_RES_TIMELINE;
        return;
    }
    if (rlen > 6 && ngx_strncmp(rest, "media/", 6) == 0) {
        /* recordings only: never the live snapshot (latest.jpg) or the index beside them */
        if (!pb_segment_path_ok((const char *) rest + 6, rlen - 6)) {
            refuse(ctx, NGX_HTTP_NOT_FOUND, "not a recording segment");
            return;
        }
        ctx->rel = ngx_pnalloc(r->pool, rlen - 6 + 1);
        if (ctx->rel == NULL) {
            refuse(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
            return;
        }
        ngx_memcpy(ctx->rel, rest + 6, rlen - 6);
        ctx->rel[rlen - 6] = '\0';
        ctx->resource = PB_RES_MEDIA;
        return;
    }
    refuse(ctx, NGX_HTTP_NOT_FOUND, "unknown playback resource");
}

ngx_http_vms_playback_ctx_t *
ngx_http_vms_playback_ctx(ngx_http_request_t *r)
{
    ngx_http_vms_playback_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r,
                                                ngx_http_vms_playback_module);
    ngx_http_vms_playback_ctx_t *ctx = ngx_http_get_module_ctx(r, ngx_http_vms_playback_module);
    if (ctx != NULL && ctx->lcf == lcf && ctx->uri.data == r->uri.data && ctx->uri.len == r->uri.len
        && ctx->qs.data == r->args.data && ctx->qs.len == r->args.len) {
        return ctx;
    }
    ctx = ngx_pcalloc(r->pool, sizeof(*ctx));
    if (ctx == NULL) {
        return NULL;
    }
    ngx_http_set_ctx(r, ctx, ngx_http_vms_playback_module);
    ctx->lcf = lcf;
    ctx->uri = r->uri;
    ctx->qs = r->args;
    char *buf = ngx_pnalloc(r->pool, r->args.len + PB_A_N);
    if (buf == NULL) {
        return refuse(ctx, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    if (pb_args_parse((const char *) r->args.data, r->args.len, buf, r->args.len + PB_A_N,
                      &ctx->args, &ctx->why) < 0) {
        return refuse(ctx, NGX_HTTP_BAD_REQUEST, ctx->why);
    }
    switch (lcf->mode) {
    case NGX_HTTP_VMS_PLAYBACK_API:
        parse_api_uri(r, lcf, ctx);
        break;
    case NGX_HTTP_VMS_PLAYBACK_LIST:
    case NGX_HTTP_VMS_PLAYBACK_GET: {
        const char *v = ctx->args.v[PB_A_PATH];
        size_t len = ctx->args.len[PB_A_PATH];
        /* MediaMTX validates the path before authenticating: same order, same 400 */
        if (v == NULL || len == 0) {
            return refuse(ctx, NGX_HTTP_BAD_REQUEST, "invalid path name: cannot be empty ()");
        }
        if (!pb_path_ok(v, len)) {
            return refuse(ctx, NGX_HTTP_BAD_REQUEST,
                          "invalid path name: can contain only alphanumeric characters, "
                          "underscore, dot, minus, slash; no empty, '.' or '..' part");
        }
        ctx->path = (char *) v;
        pb_path_camera(v, len, ctx->camera, sizeof(ctx->camera));
        break;
    }
    default:
        break;
    }
    return ctx;
}

static ngx_int_t
ngx_http_vms_playback_var_camera(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    ngx_http_vms_playback_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r,
                                                ngx_http_vms_playback_module);
    ngx_http_vms_playback_ctx_t *ctx;
    const char *s = NULL;
    if (lcf->mode != NGX_HTTP_VMS_PLAYBACK_OFF && (ctx = ngx_http_vms_playback_ctx(r)) != NULL
        && ctx->status == 0) {
        s = data ? ctx->path : ctx->camera;
    }
    if (s == NULL || s[0] == '\0') {
        v->not_found = 1;
        return NGX_OK;
    }
    v->data = (u_char *) s;
    v->len = ngx_strlen(s);
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    return NGX_OK;
}

static ngx_str_t *
find_header(ngx_http_request_t *r, const char *name)
{
    size_t len = ngx_strlen(name);
    ngx_list_part_t *part = &r->headers_in.headers.part;
    ngx_table_elt_t *h = part->elts;
    for (ngx_uint_t i = 0;; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }
        if (h[i].key.len == len && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0) {
            return &h[i].value;
        }
    }
}

/* Answers from the rewrite phase, before vms_auth: the request is finalized here. */
static ngx_int_t
early_answer(ngx_http_request_t *r, ngx_uint_t status, const char *why)
{
    ngx_int_t rc;
    if (status == NGX_HTTP_NO_CONTENT) {
        r->headers_out.status = NGX_HTTP_NO_CONTENT;
        r->header_only = 1;
        r->headers_out.content_length_n = 0;
        if (ngx_http_vms_playback_add_header(r, "Access-Control-Allow-Methods", "OPTIONS, GET")
                != NGX_OK
            || ngx_http_vms_playback_add_header(r, "Access-Control-Allow-Headers", "Authorization")
                != NGX_OK) {
            rc = NGX_ERROR;
        } else {
            rc = ngx_http_send_header(r);
        }
    } else {
        rc = ngx_http_vms_playback_error(r, status, why);
    }
    ngx_http_finalize_request(r, rc);
    return NGX_DONE;
}

static ngx_int_t
ngx_http_vms_playback_early(ngx_http_request_t *r)
{
    ngx_http_vms_playback_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r,
                                                ngx_http_vms_playback_module);
    if (lcf->mode == NGX_HTTP_VMS_PLAYBACK_OFF) {
        return NGX_DECLINED;
    }
    /* a CORS preflight carries no credentials: answered before vms_auth, as MediaMTX does */
    if (r->method == NGX_HTTP_OPTIONS && find_header(r, "Access-Control-Request-Method") != NULL) {
        return early_answer(r, NGX_HTTP_NO_CONTENT, NULL);
    }
    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        if (ngx_http_vms_playback_add_header(r, "Allow", "GET, HEAD, OPTIONS") != NGX_OK) {
            return early_answer(r, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        }
        return early_answer(r, NGX_HTTP_NOT_ALLOWED, "method not allowed");
    }
    ngx_http_vms_playback_ctx_t *ctx = ngx_http_vms_playback_ctx(r);
    if (ctx == NULL) {
        return early_answer(r, NGX_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    if (ctx->status != 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0, "vms_playback: refused: %s", ctx->why);
        return early_answer(r, ctx->status, ctx->why);
    }
    return NGX_DECLINED;
}

static ngx_http_output_header_filter_pt ngx_http_vms_playback_next_header_filter;

/* Access-Control-Allow-Origin on every answer of a playback location (vms_auth's 401/403, the
 * limit's 429 included), as MediaMTX's playback server sets it on all of its answers. */
static ngx_int_t
ngx_http_vms_playback_header_filter(ngx_http_request_t *r)
{
    ngx_http_vms_playback_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r,
                                                ngx_http_vms_playback_module);
    if (r != r->main || lcf == NULL || lcf->mode == NGX_HTTP_VMS_PLAYBACK_OFF
        || lcf->allow_origins == NULL || lcf->allow_origins->nelts == 0) {
        return ngx_http_vms_playback_next_header_filter(r);
    }
    ngx_str_t *origin = find_header(r, "Origin");
    int m = pb_origin_allowed(origin ? (const char *) origin->data : "", origin ? origin->len : 0,
                              lcf->allow_origins->elts, lcf->allow_origins->nelts);
    ngx_table_elt_t *h;
    if (m != PB_ORIGIN_NONE && (h = ngx_list_push(&r->headers_out.headers)) != NULL) {
        h->hash = 1;
        ngx_str_set(&h->key, "Access-Control-Allow-Origin");
        if (m == PB_ORIGIN_ECHO) {
            h->value = *origin;
            if ((h = ngx_list_push(&r->headers_out.headers)) != NULL) {
                h->hash = 1;
                ngx_str_set(&h->key, "Vary");
                ngx_str_set(&h->value, "Origin");
            }
        } else {
            ngx_str_set(&h->value, "*");
        }
    }
    return ngx_http_vms_playback_next_header_filter(r);
}

ngx_int_t
ngx_http_vms_playback_add_variables(ngx_conf_t *cf)
{
    static ngx_str_t names[] = { ngx_string("vms_playback_camera"), ngx_string("vms_playback_path") };
    for (uintptr_t i = 0; i < 2; i++) {
        ngx_http_variable_t *v = ngx_http_add_variable(cf, &names[i], NGX_HTTP_VAR_NOCACHEABLE);
        if (v == NULL) {
            return NGX_ERROR;
        }
        v->get_handler = ngx_http_vms_playback_var_camera;
        v->data = i;
    }
    return NGX_OK;
}

ngx_int_t
ngx_http_vms_playback_init(ngx_conf_t *cf)
{
    ngx_http_core_main_conf_t *cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    ngx_http_handler_pt *h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    *h = ngx_http_vms_playback_early;
    ngx_http_vms_playback_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_vms_playback_header_filter;
    return NGX_OK;
}
