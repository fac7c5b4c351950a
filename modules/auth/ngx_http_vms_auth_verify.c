/*
 * Token extraction, verification through the shared cache, error answers, rate-limited rejection
 * logs and the $vms_auth_* variables.
 */
#include "ngx_http_vms_auth_module.h"

/*
 * The worker's own cache of verified tokens, in front of the shared zone: a token byte-for-byte
 * equal to one this worker verified (and whose claims parsed) gets those parsed claims back
 * without hashing, copying, decoding or parsing.  Time (exp, nbf, iat) and the location's policy
 * are still judged on every request, and revocation is checked apart, as for any token.  Keys
 * never change inside a worker (a reload starts new workers), so a byte-equal token verifies the
 * same way.  Direct-mapped: a colliding token replaces the slot; requests still holding the old
 * entry keep it until they end (reference count).
 */
#define NGX_HTTP_VMS_AUTH_L1_SLOTS 256

struct ngx_http_vms_auth_l1_s {
    ngx_uint_t    refs;       /* the slot's reference + one per request using it */
    time_t        until;      /* exp + leeway: evicted after (0: no exp, kept while valid) */
    u_char        hash[NGX_HTTP_VMS_AUTH_HASH_LEN];
    u_char        jti_hash[NGX_HTTP_VMS_AUTH_HASH_LEN];   /* of claims.jti, when has_jti_hash */
    ngx_uint_t    has_jti_hash;
    vms_claims_t  claims;
    size_t        len;
    u_char        token[1];
};

static ngx_http_vms_auth_l1_t *ngx_http_vms_auth_l1[NGX_HTTP_VMS_AUTH_L1_SLOTS];

static void
ngx_http_vms_auth_l1_unref(ngx_http_vms_auth_l1_t *e)
{
    if (--e->refs == 0) {
        vms_claims_free(&e->claims);
        ngx_free(e);
    }
}

/* The request's claims and hash from this worker's cache: 1, or 0 (not there; ctx->l1_slot is
 * where ngx_http_vms_auth_l1_put puts them). */
static ngx_int_t
ngx_http_vms_auth_l1_get(ngx_http_vms_auth_ctx_t *ctx, const ngx_str_t *token, time_t now)
{
    ctx->l1_slot = ngx_murmur_hash2(token->data, token->len) % NGX_HTTP_VMS_AUTH_L1_SLOTS;
    ngx_http_vms_auth_l1_t **slot = &ngx_http_vms_auth_l1[ctx->l1_slot], *e = *slot;

    if (e == NULL || e->len != token->len || ngx_memcmp(e->token, token->data, e->len) != 0) {
        return 0;
    }
    if (e->until && now > e->until) {
        *slot = NULL;
        ngx_http_vms_auth_l1_unref(e);
        return 0;
    }
    e->refs++;
    ctx->l1 = e;
    ctx->claims = e->claims;         /* shared, read-only: freed with the entry */
    ctx->has_claims = 1;
    ctx->jti_hash = e->has_jti_hash ? e->jti_hash : NULL;
    ngx_memcpy(ctx->hash, e->hash, sizeof(ctx->hash));
    return 1;
}

/* Moves the request's freshly parsed claims into this worker's cache, in the slot the lookup
 * found empty or taken (the request keeps using them through the entry).  Without memory the
 * request simply keeps its own. */
static void
ngx_http_vms_auth_l1_put(ngx_http_vms_auth_ctx_t *ctx, const ngx_str_t *token, time_t leeway)
{
    ngx_http_vms_auth_l1_t **slot = &ngx_http_vms_auth_l1[ctx->l1_slot], *e;

    e = ngx_alloc(sizeof(*e) + token->len, ngx_cycle->log);
    if (e == NULL) {
        return;
    }
    e->refs = 2;
    e->until = ctx->claims.has_exp ? (time_t) ctx->claims.exp + leeway : 0;
    ngx_memcpy(e->hash, ctx->hash, sizeof(e->hash));
    e->has_jti_hash = ctx->claims.jti != NULL
                      && ngx_http_vms_auth_cache_jti_hash(ctx->claims.jti, e->jti_hash) == NGX_OK;
    e->claims = ctx->claims;
    e->len = token->len;
    ngx_memcpy(e->token, token->data, token->len);
    if (*slot) {
        ngx_http_vms_auth_l1_unref(*slot);
    }
    *slot = e;
    ctx->l1 = e;
    ctx->jti_hash = e->has_jti_hash ? e->jti_hash : NULL;
}

static void
ngx_http_vms_auth_ctx_cleanup(void *data)
{
    ngx_http_vms_auth_ctx_t *ctx = data;
    if (ctx->l1) {
        ngx_http_vms_auth_l1_unref(ctx->l1);
        ctx->l1 = NULL;
        ctx->jti_hash = NULL;
        ctx->has_claims = 0;
    } else if (ctx->has_claims) {
        vms_claims_free(&ctx->claims);
        ctx->has_claims = 0;
    }
}

ngx_http_vms_auth_ctx_t *
ngx_http_vms_auth_get_ctx(ngx_http_request_t *r)
{
    ngx_http_vms_auth_ctx_t *ctx = ngx_http_get_module_ctx(r, ngx_http_vms_auth_module);
    if (ctx) {
        return ctx;
    }
    ctx = ngx_pcalloc(r->pool, sizeof(*ctx));
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(r->pool, 0);
    if (ctx == NULL || cln == NULL) {
        return NULL;
    }
    cln->handler = ngx_http_vms_auth_ctx_cleanup;
    cln->data = ctx;
    ngx_http_set_ctx(r, ctx, ngx_http_vms_auth_module);
    return ctx;
}

static ngx_int_t
ngx_http_vms_auth_unescape(ngx_http_request_t *r, ngx_str_t *v)
{
    if (ngx_strlchr(v->data, v->data + v->len, '%') == NULL) {
        return NGX_OK;
    }
    u_char *dst = ngx_pnalloc(r->pool, v->len), *d = dst, *s = v->data;
    if (dst == NULL) {
        return NGX_ERROR;
    }
    ngx_unescape_uri(&d, &s, v->len, 0);
    v->data = dst;
    v->len = d - dst;
    return NGX_OK;
}

/*
 * The token in an Authorization header, read as MediaMTX reads credentials (internal/protocols/
 * httpp/credentials.go) so that its clients work unchanged: `Bearer TOKEN`; `Bearer USER:TOKEN`
 * (exactly one ':'; JWTs have none); `Basic base64(USER:TOKEN)` (any user, the token as the
 * password, as browsers send it after MediaMTX's Basic challenge).  *v stays empty otherwise.
 */
static ngx_int_t
ngx_http_vms_auth_header_token(ngx_http_request_t *r, ngx_str_t *h, ngx_str_t *v)
{
    ngx_str_t s = *h;
    ngx_uint_t basic;

    ngx_str_null(v);
    if (s.len >= 7 && ngx_strncasecmp(s.data, (u_char *) "Bearer ", 7) == 0) {
        basic = 0;
        s.data += 7, s.len -= 7;
    } else if (s.len >= 6 && ngx_strncasecmp(s.data, (u_char *) "Basic ", 6) == 0) {
        basic = 1;
        s.data += 6, s.len -= 6;
    } else {
        return NGX_OK;
    }
    while (s.len && s.data[0] == ' ') {
        s.data++, s.len--;
    }
    while (s.len && s.data[s.len - 1] == ' ') {
        s.len--;
    }
    if (basic) {
        ngx_str_t dec;
        dec.data = ngx_pnalloc(r->pool, ngx_base64_decoded_length(s.len) + 1);
        if (dec.data == NULL) {
            return NGX_ERROR;
        }
        if (ngx_decode_base64(&dec, &s) != NGX_OK) {
            return NGX_OK;          /* not Basic credentials: no token here */
        }
        u_char *colon = ngx_strlchr(dec.data, dec.data + dec.len, ':');
        if (colon == NULL) {
            return NGX_OK;
        }
        v->data = colon + 1;
        v->len = dec.data + dec.len - v->data;
        return NGX_OK;
    }
    u_char *colon = ngx_strlchr(s.data, s.data + s.len, ':');
    if (colon && ngx_strlchr(colon + 1, s.data + s.len, ':') == NULL) {
        s.len -= colon + 1 - s.data;
        s.data = colon + 1;
    }
    *v = s;
    return NGX_OK;
}

ngx_int_t
ngx_http_vms_auth_find_token(ngx_http_request_t *r, ngx_str_t *token)
{
    ngx_http_vms_auth_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_auth_module);
    ngx_http_vms_auth_source_t *src = lcf->sources->elts;

    for (ngx_uint_t i = 0; i < lcf->sources->nelts; i++) {
        ngx_str_t v = ngx_null_string;
        switch (src[i].type) {
        case NGX_HTTP_VMS_AUTH_SRC_HEADER:
            if (r->headers_in.authorization == NULL) {
                continue;
            }
            if (ngx_http_vms_auth_header_token(r, &r->headers_in.authorization->value, &v) != NGX_OK) {
                return NGX_ERROR;
            }
            break;
        case NGX_HTTP_VMS_AUTH_SRC_QUERY:
            if (ngx_http_arg(r, src[i].name.data, src[i].name.len, &v) != NGX_OK) {
                continue;
            }
            if (ngx_http_vms_auth_unescape(r, &v) != NGX_OK) {
                return NGX_ERROR;
            }
            break;
        case NGX_HTTP_VMS_AUTH_SRC_COOKIE:
            if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &src[i].name, &v)
                == NGX_DECLINED) {
                continue;
            }
            break;
        }
        if (v.len) {
            *token = v;
            return NGX_OK;
        }
    }
    return NGX_DECLINED;
}

static ngx_uint_t ngx_http_vms_auth_log_sec, ngx_http_vms_auth_log_count, ngx_http_vms_auth_log_dropped;

void
ngx_http_vms_auth_log_reject(ngx_http_request_t *r, const char *why)
{
    ngx_http_vms_auth_main_conf_t *amcf = ngx_http_get_module_main_conf(r, ngx_http_vms_auth_module);
    ngx_uint_t now = (ngx_uint_t) ngx_time();

    if (now != ngx_http_vms_auth_log_sec) {
        if (ngx_http_vms_auth_log_dropped) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "vms_auth: %ui rejection log lines suppressed (vms_auth_log_rate %ui/s)",
                          ngx_http_vms_auth_log_dropped, amcf->log_rate);
        }
        ngx_http_vms_auth_log_sec = now;
        ngx_http_vms_auth_log_count = 0;
        ngx_http_vms_auth_log_dropped = 0;
    }
    if (ngx_http_vms_auth_log_count >= amcf->log_rate) {
        ngx_http_vms_auth_log_dropped++;
        return;
    }
    ngx_http_vms_auth_log_count++;
    /*
     * The reason is a fixed string: never token, claim or key bytes.  The cycle's log is used, not
     * the request's, whose context would append the request line with a ?jwt= token in it.
     */
    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0, "vms_auth: rejected: %s, client: %V, uri: \"%V\"",
                  why, &r->connection->addr_text, &r->uri);
}

ngx_int_t
ngx_http_vms_auth_verify_token(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx, ngx_str_t *token)
{
    ngx_http_vms_auth_main_conf_t *amcf = ngx_http_get_module_main_conf(r, ngx_http_vms_auth_module);
    ngx_http_vms_auth_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_auth_module);
    const char *why = NULL;
    json_t *payload = NULL;
    ngx_str_t cached;
    time_t now = ngx_time();

    if (ctx->state == 1) {
        return NGX_OK;
    }
    if (ctx->state == 2) {
        return ctx->status;
    }
    ctx->state = 2;
    ctx->status = NGX_HTTP_UNAUTHORIZED;
    if (token->len > lcf->max_token_size) {
        ctx->status = NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        ctx->why = "token too large";
        ngx_http_vms_auth_log_reject(r, ctx->why);
        return ctx->status;
    }
    if (amcf->cache_zone && ngx_http_vms_auth_l1_get(ctx, token, now)) {
        goto validate;
    }
    /*
     * The cache key covers the configured keys too: after a reload that removes or replaces a key,
     * tokens it verified are never served from the (kept) zone again.  The verifier's rules
     * version too: a zone kept across a reload that loads stricter rules (v2: canonical
     * base64url, #20) never serves what the old rules accepted.
     */
    ngx_str_t parts[3] = { { sizeof(amcf->keys_fp), amcf->keys_fp },
                           ngx_string("vms-auth-v2"), *token };
    if (ngx_http_vms_auth_sha256(parts, 3, ctx->hash) != NGX_OK) {
        ctx->status = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return ctx->status;
    }

    if (amcf->cache_zone
        && ngx_http_vms_auth_cache_get(amcf->cache_zone, ctx->hash, now, r->pool, &cached) == NGX_OK) {
        payload = vms_jwt_payload_parse((char *) cached.data, cached.len, &why);
    } else {
        vms_jwt_t jwt;
        if (vms_jwt_verify(amcf->keys, (char *) token->data, token->len, &jwt, &why) == 0) {
            payload = jwt.payload;
            if (amcf->cache_zone) {
                /* cached only after the claims below parse; remember where the payload is */
                cached.data = (u_char *) jwt.payload_b64;
                cached.len = jwt.payload_b64_len;
            }
        }
        if (payload && amcf->cache_zone) {
            vms_claims_t probe;
            const char *w;
            if (vms_claims_parse(&probe, json_incref(payload), &w) == 0) {
                ngx_http_vms_auth_cache_put(amcf->cache_zone, ctx->hash, probe.exp + amcf->leeway,
                                            (char *) cached.data, cached.len);
            }
            vms_claims_free(&probe);
        }
    }
    if (payload == NULL) {
        ctx->why = why;
        ngx_http_vms_auth_log_reject(r, why);
        return ctx->status;
    }
    if (vms_claims_parse(&ctx->claims, payload, &why) != 0) {
        vms_claims_free(&ctx->claims);
        ctx->why = why;
        ngx_http_vms_auth_log_reject(r, why);
        return ctx->status;
    }
    ctx->has_claims = 1;
    if (amcf->cache_zone) {
        ngx_http_vms_auth_l1_put(ctx, token, amcf->leeway);
    }
validate:
    ;
    /* a session that began session_age seconds ago was authorized then: its token's exp is judged
     * at that moment (a revoked token still ends it: revocation is checked apart) */
    vms_claims_policy_t pol = { .leeway = amcf->leeway + ctx->session_age, .issuer = amcf->issuer,
                                .audience = amcf->audience,
                                .exp_optional = lcf->exp == NGX_HTTP_VMS_AUTH_EXP_OPTIONAL };
    if (vms_claims_validate(&ctx->claims, now, &pol, &why) != 0) {
        ctx->why = why;
        ngx_http_vms_auth_log_reject(r, why);
        return ctx->status;
    }
    ctx->state = 1;
    ctx->status = NGX_OK;
    return NGX_OK;
}

ngx_int_t
ngx_http_vms_auth_authenticate(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx)
{
    ngx_str_t token;

    if (ctx->state) {
        return ctx->state == 1 ? NGX_OK : ctx->status;
    }
    ngx_int_t rc = ngx_http_vms_auth_find_token(r, &token);
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (rc == NGX_DECLINED) {
        ctx->state = 2;
        ctx->status = NGX_HTTP_UNAUTHORIZED;
        ctx->why = NULL;    /* no credentials: a plain challenge */
        return ctx->status;
    }
    ctx->token = token;
    return ngx_http_vms_auth_verify_token(r, ctx, &token);
}

static ngx_str_t ngx_http_vms_auth_json_type = ngx_string("application/json");

ngx_int_t
ngx_http_vms_auth_send_json(ngx_http_request_t *r, ngx_int_t status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    if (text == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    size_t len = ngx_strlen(text);
    ngx_buf_t *b = ngx_create_temp_buf(r->pool, len + 1);
    if (b == NULL) {
        free(text);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    b->last = ngx_cpymem(b->last, text, len);
    *b->last++ = '\n';
    free(text);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }
    r->headers_out.status = status;
    r->headers_out.content_type = ngx_http_vms_auth_json_type;
    r->headers_out.content_type_len = ngx_http_vms_auth_json_type.len;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_int_t rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }
    ngx_chain_t out = { b, NULL };
    return ngx_http_output_filter(r, &out);
}

static void
ngx_http_vms_auth_set_challenge(ngx_http_request_t *r, const char *why)
{
    ngx_table_elt_t *h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return;
    }
    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    if (why == NULL) {
        ngx_str_set(&h->value, "Bearer realm=\"vms\"");
    } else {
        size_t len = sizeof("Bearer realm=\"vms\", error=\"invalid_token\", error_description=\"\"") + ngx_strlen(why);
        u_char *p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return;
        }
        h->value.data = p;
        /* why is one of our fixed strings: no quotes or backslashes to escape */
        h->value.len = ngx_snprintf(p, len, "Bearer realm=\"vms\", error=\"invalid_token\", "
                                    "error_description=\"%s\"", why) - p;
    }
    r->headers_out.www_authenticate = h;
}

ngx_int_t
ngx_http_vms_auth_send_error(ngx_http_request_t *r, ngx_int_t status, const char *why)
{
    const char *code;
    switch (status) {
    case NGX_HTTP_UNAUTHORIZED:
        code = "unauthorized";
        ngx_http_vms_auth_set_challenge(r, why);
        if (why == NULL) {
            why = "credentials required";
        }
        break;
    case NGX_HTTP_FORBIDDEN:
        code = "forbidden";
        if (why) {
            ngx_http_vms_auth_log_reject(r, why);
        }
        break;
    case NGX_HTTP_BAD_REQUEST:
        code = "bad_request";
        if (why) {
            ngx_http_vms_auth_log_reject(r, why);   /* fixed strings: no body bytes */
        }
        break;
    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE: code = "too_large"; break;
    case NGX_HTTP_NOT_ALLOWED:             code = "method_not_allowed"; break;
    case NGX_HTTP_SERVICE_UNAVAILABLE:     code = "unavailable"; break;
    default:                               code = "internal_error"; why = "internal error"; break;
    }
    json_t *body = json_pack("{s:s, s:s}", "error", code, "message", why ? why : code);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_int_t rc = ngx_http_vms_auth_send_json(r, status, body);
    json_decref(body);
    return rc;
}

/* $vms_auth_sub, _tenant, _role, _jti, _camera, _plan, _error, _cameras: the request's verified
 * claims. */
enum { VAR_SUB, VAR_TENANT, VAR_ROLE, VAR_JTI, VAR_CAMERA, VAR_ERROR, VAR_PLAN, VAR_CAMERAS, VAR_TOKEN };

/*
 * $vms_auth_cameras: the cameras the token may view, for scoping lists (X-VMS-Cameras of
 * /api/cameras): "*" any camera, "-" none (no view_stream, or an empty camera list; MediaMTX
 * permissions alone list nothing: fewer, never more), else the ids joined by commas (ids hold no
 * comma: vms_camera_id_valid).
 */
static const char *
ngx_http_vms_auth_cameras_scope(ngx_http_request_t *r, const vms_claims_t *c)
{
    size_t  len = 0;
    u_char *buf, *p;

    if (!(c->perms & VMS_PERM_VIEW_STREAM)) {
        return "-";
    }
    if (c->cameras == NULL) {
        return "*";
    }
    if (c->ncameras == 0) {
        return "-";
    }
    for (size_t i = 0; i < c->ncameras; i++) {
        len += ngx_strlen(c->cameras[i]) + 1;
    }
    buf = ngx_pnalloc(r->pool, len);
    if (buf == NULL) {
        return NULL;
    }
    p = buf;
    for (size_t i = 0; i < c->ncameras; i++) {
        if (i > 0) {
            *p++ = ',';
        }
        p = ngx_cpymem(p, c->cameras[i], ngx_strlen(c->cameras[i]));
    }
    *p = '\0';
    return (const char *) buf;
}

static ngx_int_t
ngx_http_vms_auth_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_vms_auth_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_auth_module);
    ngx_http_vms_auth_ctx_t *ctx = ngx_http_get_module_ctx(r, ngx_http_vms_auth_module);
    const char *s = NULL;

    v->not_found = 1;
    if ((ctx == NULL || ctx->state == 0) && lcf->enable) {
        /* Evaluated before the access phase (e.g. by vms_limit keying on the user): verify now;
         * the access phase reuses the result.  Revocation is still checked there. */
        ctx = ngx_http_vms_auth_get_ctx(r);
        if (ctx == NULL) {
            return NGX_ERROR;
        }
        (void) ngx_http_vms_auth_authenticate(r, ctx);
    }
    if (ctx == NULL) {
        return NGX_OK;
    }
    if (data == VAR_TOKEN) {
        /* the verified token, for an upstream that checks it again (vmsd's API) */
        if (ctx->state == 1 && ctx->token.len > 0) {
            v->data = ctx->token.data;
            v->len = ctx->token.len;
            v->valid = 1;
            v->no_cacheable = 1;
            v->not_found = 0;
        }
        return NGX_OK;
    }
    if (data == VAR_ERROR) {
        s = ctx->state == 2 ? ctx->why : NULL;
    } else if (ctx->state == 1 && ctx->has_claims) {
        switch (data) {
        case VAR_SUB:    s = ctx->claims.sub; break;
        case VAR_TENANT: s = ctx->claims.tenant; break;
        case VAR_ROLE:   s = ctx->claims.role; break;
        case VAR_JTI:    s = ctx->claims.jti; break;
        case VAR_CAMERA: s = ctx->claims.ncameras ? ctx->claims.cameras[0] : NULL; break;
        case VAR_PLAN:   s = ctx->claims.plan; break;
        case VAR_CAMERAS:
            s = ngx_http_vms_auth_cameras_scope(r, &ctx->claims);
            if (s == NULL) {
                return NGX_ERROR;
            }
            break;
        }
    }
    if (s == NULL) {
        return NGX_OK;
    }
    v->data = (u_char *) s;
    v->len = ngx_strlen(s);
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    return NGX_OK;
}

ngx_int_t
ngx_http_vms_auth_add_variables(ngx_conf_t *cf)
{
    static ngx_str_t names[] = { ngx_string("vms_auth_sub"), ngx_string("vms_auth_tenant"),
        ngx_string("vms_auth_role"), ngx_string("vms_auth_jti"), ngx_string("vms_auth_camera"),
        ngx_string("vms_auth_error"), ngx_string("vms_auth_plan"), ngx_string("vms_auth_cameras"),
        ngx_string("vms_auth_token") };
    for (ngx_uint_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        ngx_http_variable_t *var = ngx_http_add_variable(cf, &names[i], NGX_HTTP_VAR_NOCACHEABLE);
        if (var == NULL) {
            return NGX_ERROR;
        }
        var->get_handler = ngx_http_vms_auth_variable;
        var->data = i;
    }
    return NGX_OK;
}
