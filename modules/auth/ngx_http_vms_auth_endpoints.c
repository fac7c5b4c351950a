/*
 * Endpoints (vms_auth_endpoint): MediaMTX external auth, nginx-rtmp on_play/on_publish, and the
 * dispatch to stream-token issuing and revocation (_tokens.c).  All are POST with a small body.
 * Answers: 200 allowed; 401 no/invalid credentials (WWW-Authenticate); 403 valid token without the
 * permission; 400 malformed body; 413 body or token too large; 405 other methods.
 */
#include "ngx_http_vms_auth_module.h"

static void ngx_http_vms_auth_ep_run(ngx_http_request_t *r);
static ngx_int_t ngx_http_vms_auth_whoami(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx);

/* The request body as one NUL-terminated buffer; 413 when it does not fit our limit. */
static ngx_int_t
ngx_http_vms_auth_ep_body(ngx_http_request_t *r, ngx_str_t *body)
{
    size_t len = 0;
    ngx_chain_t *cl;

    body->len = 0;
    body->data = (u_char *) "";
    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }
    if (r->request_body->temp_file) {
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->in_file) {
            return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
        len += cl->buf->last - cl->buf->pos;
    }
    if (len > VMS_AUTHREQ_BODY_MAX) {
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }
    u_char *p = ngx_pnalloc(r->pool, len + 1);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    body->data = p;
    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        if (cl->buf->last > cl->buf->pos) {   /* an empty last buffer may have no memory at all */
            p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
        }
    }
    *p = '\0';
    body->len = len;
    return NGX_OK;
}

static ngx_int_t
ngx_http_vms_auth_ep_ok(ngx_http_request_t *r)
{
    json_t *j = json_pack("{s:b}", "ok", 1);
    ngx_int_t rc = j ? ngx_http_vms_auth_send_json(r, NGX_HTTP_OK, j) : NGX_HTTP_INTERNAL_SERVER_ERROR;
    json_decref(j);
    return rc;
}

/*
 * Verifies the given token and waits for the revocation check.  NGX_OK: ctx->claims usable;
 * NGX_AGAIN: waiting; otherwise an HTTP status with ctx->why.
 */
static ngx_int_t
ngx_http_vms_auth_ep_verify(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx, ngx_str_t *token)
{
    ngx_int_t rc = token ? ngx_http_vms_auth_verify_token(r, ctx, token)
                         : ngx_http_vms_auth_authenticate(r, ctx);
    if (rc != NGX_OK) {
        return rc;
    }
    if (ctx->revocation == 0) {
        rc = ngx_http_vms_auth_check_revoked(r, ctx);
        if (rc != NGX_OK) {
            if (rc != NGX_AGAIN) {
                ctx->state = 2;
                ctx->status = rc;
            }
            return rc;
        }
    }
    if (ctx->revocation == 1) {
        return NGX_AGAIN;
    }
    if (ctx->state == 2) {
        return ctx->status;
    }
    ngx_http_vms_auth_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_auth_module);
    if (lcf->tenant) {
        ngx_str_t v;
        if (ngx_http_complex_value(r, lcf->tenant, &v) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        if (!vms_claims_tenant_is(&ctx->claims, (char *) v.data, v.len)) {
            ctx->why = "token is not valid for this tenant";
            return NGX_HTTP_FORBIDDEN;
        }
    }
    return NGX_OK;
}

/*
 * Stream leases (vms_auth_stream_admit): a MediaMTX `read` or an nginx-rtmp `play` opens a stream,
 * so once it is authorized a subrequest to vms_limit's `admit` location takes the user's lease
 * (arguments user, session, plan, max; reader: the MediaMTX reader id its hooks renew and release
 * the lease by; handover: the opener of an RTSP read, whose DESCRIBE and SETUP come with two ids
 * and hold one lease).  nginx-rtmp's play_done releases the lease through vms_auth_stream_release.
 * The subrequest never blocks: its answer is kept in ctx and the endpoint runs again (ep_run) to
 * answer 200, or the limit's 429 with its JSON body.
 */
/* the oldest RTMP session whose token is judged as when it began (31 days) */
#define VMS_RTMP_SESSION_AGE_MAX  (31 * 86400)

typedef struct {
    const char  *session;     /* the media server's session id, or NULL: the token's */
    const char  *reader;      /* MediaMTX reader id, or NULL */
    const char  *handover;    /* opener identity, or NULL */
    ngx_uint_t   release;     /* release the session's lease (nginx-rtmp play_done) */
} ngx_http_vms_auth_lease_t;

static void
ngx_http_vms_auth_ep_resume(ngx_http_request_t *r)
{
    ngx_http_vms_auth_ep_run(r);
}

static ngx_int_t
ngx_http_vms_auth_admit_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_vms_auth_ctx_t *ctx = data;
    ngx_http_request_t *r = sr->parent;

    if (ctx->admit != 1) {
        return rc;
    }
    ctx->admit = 2;
    ctx->admit_status = rc == NGX_ERROR ? NGX_HTTP_INTERNAL_SERVER_ERROR
                        : rc >= NGX_HTTP_SPECIAL_RESPONSE ? rc : (ngx_int_t) sr->headers_out.status;
    if (sr->out && sr->out->buf && ngx_buf_in_memory(sr->out->buf)) {
        size_t len = sr->out->buf->last - sr->out->buf->pos;
        ctx->admit_body.data = ngx_pnalloc(r->pool, len + 1);
        if (ctx->admit_body.data) {
            ngx_memcpy(ctx->admit_body.data, sr->out->buf->pos, len);
            ctx->admit_body.len = len;
        }
    }
    ngx_list_part_t *part = &sr->headers_out.headers.part;
    ngx_table_elt_t *h = part->elts;
    for (ngx_uint_t i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }
        if (h[i].hash && h[i].key.len == 11 && ngx_strncasecmp(h[i].key.data, (u_char *) "Retry-After", 11) == 0) {
            ctx->admit_retry.data = ngx_pstrdup(r->pool, &h[i].value);
            ctx->admit_retry.len = ctx->admit_retry.data ? h[i].value.len : 0;
        }
    }
    r->write_event_handler = ngx_http_vms_auth_ep_resume;
    return rc;
}

/* Appends "name=value" (value escaped for a query string; "&" first unless p is start) to p;
 * NULL value: nothing. */
static u_char *
ngx_http_vms_auth_admit_arg(u_char *start, u_char *p, const char *name, const char *value)
{
    if (value == NULL) {
        return p;
    }
    p = ngx_sprintf(p, "%s%s=", p == start ? "" : "&", name);
    return (u_char *) ngx_escape_uri(p, (u_char *) value, ngx_strlen(value), NGX_ESCAPE_ARGS);
}

static ngx_int_t
ngx_http_vms_auth_admit_start(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx,
    const ngx_http_vms_auth_lease_t *lease)
{
    const char *session = lease->session;
    ngx_http_vms_auth_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_auth_module);
    vms_claims_t *c = &ctx->claims;
    u_char hex[2 * NGX_HTTP_VMS_AUTH_HASH_LEN + 1], maxbuf[NGX_INT64_LEN + 1];
    const char *max = NULL;

    if (session == NULL || session[0] == '\0') {
        session = c->jti;
    }
    if (session == NULL || session[0] == '\0') {      /* no jti: the token itself names the session */
        *ngx_hex_dump(hex, ctx->hash, NGX_HTTP_VMS_AUTH_HASH_LEN) = '\0';
        session = (const char *) hex;
    }
    json_t *m = json_object_get(c->payload, "max_concurrent_streams");
    if (json_is_integer(m) && json_integer_value(m) >= 0) {
        *ngx_sprintf(maxbuf, "%L", (int64_t) json_integer_value(m)) = '\0';
        max = (const char *) maxbuf;
    }
    const char *user = c->sub ? c->sub : "";
    size_t len = sizeof("user=&session=&plan=&max=&reader=&handover=")
                 + 3 * (ngx_strlen(user) + ngx_strlen(session))
                 + (c->plan ? 3 * ngx_strlen(c->plan) : 0) + sizeof(maxbuf)
                 + (lease->reader ? 3 * ngx_strlen(lease->reader) : 0)
                 + (lease->handover ? 3 * ngx_strlen(lease->handover) : 0);
    ngx_str_t args;
    args.data = ngx_pnalloc(r->pool, len);
    if (args.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    u_char *p = ngx_http_vms_auth_admit_arg(args.data, args.data, "user", user);
    p = ngx_http_vms_auth_admit_arg(args.data, p, "session", session);
    p = ngx_http_vms_auth_admit_arg(args.data, p, "plan", c->plan);
    p = ngx_http_vms_auth_admit_arg(args.data, p, "max", max);
    p = ngx_http_vms_auth_admit_arg(args.data, p, "reader", lease->reader);
    p = ngx_http_vms_auth_admit_arg(args.data, p, "handover", lease->handover);
    args.len = p - args.data;

    ngx_http_post_subrequest_t *ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ps->handler = ngx_http_vms_auth_admit_done;
    ps->data = ctx;
    ngx_http_request_t *sr;
    ctx->admit = 1;
    if (ngx_http_subrequest(r, lease->release ? &lcf->stream_release : &lcf->stream_admit, &args, &sr, ps,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY | NGX_HTTP_SUBREQUEST_WAITED) != NGX_OK) {
        ctx->admit = 0;
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return NGX_AGAIN;
}

/* The admission's outcome: NGX_DECLINED admitted (answer 200), NGX_AGAIN waiting, else the output rc
 * of the refusal this function has answered (NGX_OK included) or an HTTP status to finalize with. */
static ngx_int_t
ngx_http_vms_auth_admit(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx,
    const ngx_http_vms_auth_lease_t *lease)
{
    if (ctx->admit == 0) {
        return ngx_http_vms_auth_admit_start(r, ctx, lease);
    }
    if (ctx->admit == 1) {
        return NGX_AGAIN;
    }
    ngx_int_t st = ctx->admit_status;
    if (st >= 200 && st < 300) {
        return NGX_DECLINED;
    }
    ctx->ep_status = st;
    if (st == NGX_HTTP_TOO_MANY_REQUESTS) {
        json_t *j = json_loadb((const char *) ctx->admit_body.data, ctx->admit_body.len, 0, NULL);
        if (!json_is_object(j)) {
            json_decref(j);
            j = json_pack("{s:s}", "error", "limit_exceeded");
        }
        if (ctx->admit_retry.len) {
            ngx_table_elt_t *h = ngx_list_push(&r->headers_out.headers);
            if (h) {
                h->hash = 1;
                ngx_str_set(&h->key, "Retry-After");
                h->value = ctx->admit_retry;
            }
        }
        ngx_http_vms_auth_log_reject(r, "stream limit reached");
        ngx_int_t rc = j ? ngx_http_vms_auth_send_json(r, st, j) : NGX_HTTP_INTERNAL_SERVER_ERROR;
        json_decref(j);
        return rc;
    }
    if (st == NGX_HTTP_BAD_REQUEST || st == NGX_HTTP_FORBIDDEN || st == NGX_HTTP_SERVICE_UNAVAILABLE) {
        return ngx_http_vms_auth_send_error(r, st, "stream admission refused");
    }
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "vms_auth: stream admission location \"%V\" answered %i", &r->uri, st);
    ctx->ep_status = NGX_HTTP_INTERNAL_SERVER_ERROR;
    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}

/*
 * Authorizes the action; a stream-opening action (MediaMTX `read`, RTMP `play`) then takes a lease
 * when vms_auth_stream_admit is set and the token names a user (or, lease->release, gives it back
 * through vms_auth_stream_release).
 */
static ngx_int_t
ngx_http_vms_auth_ep_decide(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx, int action,
    const char *path, const ngx_http_vms_auth_lease_t *lease)
{
    ngx_http_vms_auth_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_auth_module);
    ngx_str_t *loc = lease->release ? &lcf->stream_release : &lcf->stream_admit;

    if (!vms_claims_allows_action(&ctx->claims, action, path)) {
        ctx->ep_status = NGX_HTTP_FORBIDDEN;
        return ngx_http_vms_auth_send_error(r, NGX_HTTP_FORBIDDEN,
                                            "token does not grant this action on this path");
    }
    /* a token without sub (a service's) is no user's: no per-user lease */
    if (action == VMS_ACT_READ && loc->len && ctx->claims.sub && ctx->claims.sub[0]) {
        ngx_int_t rc = ngx_http_vms_auth_admit(r, ctx, lease);
        if (rc != NGX_DECLINED) {
            return rc;
        }
    }
    ctx->ep_status = NGX_HTTP_OK;
    return ngx_http_vms_auth_ep_ok(r);
}

static ngx_int_t
ngx_http_vms_auth_mediamtx(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx, ngx_str_t *body)
{
    ngx_http_vms_auth_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_auth_module);
    vms_mtx_req_t m;
    const char *why, *tok;
    size_t toklen;
    ngx_int_t rc;

    if (vms_mtx_req_parse(&m, (char *) body->data, body->len, &why) != 0) {
        return ngx_http_vms_auth_send_error(r, NGX_HTTP_BAD_REQUEST, why);
    }
    char *buf = ngx_pnalloc(r->pool, lcf->max_token_size + 2);
    if (buf == NULL) {
        vms_mtx_req_free(&m);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (vms_mtx_req_token(&m, buf, lcf->max_token_size + 2, &tok, &toklen) != 0) {
        vms_mtx_req_free(&m);
        /* no credentials: 401 makes MediaMTX challenge the client */
        return ngx_http_vms_auth_send_error(r, NGX_HTTP_UNAUTHORIZED, NULL);
    }
    ngx_str_t token = { toklen, (u_char *) tok };
    rc = ngx_http_vms_auth_ep_verify(r, ctx, &token);
    if (rc == NGX_OK) {
        /* MediaMTX names the reader (runOnRead's MTX_READER_ID) by the id of its read; an RTSP
         * reader's DESCRIBE (connection id) and SETUP (session id) are one opener: the token, the
         * client's address and the path */
        ngx_http_vms_auth_lease_t lease = { NULL, NULL, NULL, 0 };
        u_char hex[2 * NGX_HTTP_VMS_AUTH_HASH_LEN + 1];
        char *opener = NULL;
        if (m.id[0]) {
            lease.session = lease.reader = m.id;
        }
        if (m.id[0] && ngx_strcmp(m.protocol, "rtsp") == 0) {
            *ngx_hex_dump(hex, ctx->hash, NGX_HTTP_VMS_AUTH_HASH_LEN) = '\0';
            size_t olen = sizeof(hex) + ngx_strlen(m.ip) + ngx_strlen(m.path) + 3;
            opener = ngx_pnalloc(r->pool, olen);
            if (opener == NULL) {
                vms_mtx_req_free(&m);
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
            ngx_snprintf((u_char *) opener, olen, "%s %s %s%Z", hex, m.ip, m.path);
            lease.handover = opener;
        }
        rc = ngx_http_vms_auth_ep_decide(r, ctx, m.action, m.path, &lease);
    } else if (rc != NGX_AGAIN) {
        rc = ngx_http_vms_auth_send_error(r, rc, ctx->why);
    }
    vms_mtx_req_free(&m);
    return rc;
}

static ngx_int_t
ngx_http_vms_auth_rtmp(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx, ngx_str_t *body)
{
    ngx_http_vms_auth_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_auth_module);
    vms_rtmp_req_t q;
    const char *why;
    size_t toklen;

    char *buf = ngx_pnalloc(r->pool, lcf->max_token_size + 2);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (vms_rtmp_req_parse(&q, (char *) body->data, body->len, buf, lcf->max_token_size + 2, &toklen,
                           &why) != 0) {
        return ngx_http_vms_auth_send_error(r, NGX_HTTP_BAD_REQUEST, why);
    }
    if (toklen == 0) {
        return ngx_http_vms_auth_send_error(r, NGX_HTTP_UNAUTHORIZED, NULL);
    }
    ngx_str_t token = { toklen, (u_char *) buf };
    /* an update or the end of an established session: its token was valid when it began (nginx-rtmp
     * sends the seconds since then with updates; play_done/publish_done send none: any age up to
     * VMS_RTMP_SESSION_AGE_MAX); an expired stream token must not cut a player that cannot renew it */
    if (q.phase != VMS_RTMP_START) {
        char age[32];
        ngx_int_t n = vms_form_get((char *) body->data, body->len, "time", age, sizeof(age)) > 0
                      ? ngx_atoi((u_char *) age, ngx_strlen(age)) : NGX_ERROR;
        ctx->session_age = q.phase == VMS_RTMP_DONE || n == NGX_ERROR || n > VMS_RTMP_SESSION_AGE_MAX
                           ? VMS_RTMP_SESSION_AGE_MAX : (time_t) n;
    }
    ngx_int_t rc = ngx_http_vms_auth_ep_verify(r, ctx, &token);
    if (rc == NGX_OK) {
        /* one RTMP connection is one session: the client's address and nginx-rtmp's client id;
         * update_play renews its lease (admission of a session that holds one), play_done
         * releases it */
        char cid[32], sess[sizeof(q.addr) + sizeof(cid) + 8];
        ngx_http_vms_auth_lease_t lease = { NULL, NULL, NULL, q.phase == VMS_RTMP_DONE };
        if (vms_form_get((char *) body->data, body->len, "clientid", cid, sizeof(cid)) > 0) {
            ngx_snprintf((u_char *) sess, sizeof(sess) - 1, "rtmp:%s:%s%Z", q.addr, cid);
            sess[sizeof(sess) - 1] = '\0';
            lease.session = sess;
        }
        if (lease.release && lease.session == NULL) {
            return ngx_http_vms_auth_send_error(r, NGX_HTTP_BAD_REQUEST, "missing clientid");
        }
        return ngx_http_vms_auth_ep_decide(r, ctx, q.action, q.name, &lease);
    }
    return rc == NGX_AGAIN ? rc : ngx_http_vms_auth_send_error(r, rc, ctx->why);
}

static ngx_int_t
ngx_http_vms_auth_ep_process(ngx_http_request_t *r)
{
    ngx_http_vms_auth_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_auth_module);
    ngx_http_vms_auth_ctx_t *ctx = ngx_http_vms_auth_get_ctx(r);
    ngx_str_t body;

    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_int_t rc = ngx_http_vms_auth_ep_body(r, &body);
    if (rc != NGX_OK) {
        return ngx_http_vms_auth_send_error(r, rc, rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
                                                   ? "request body too large" : NULL);
    }
    switch (lcf->endpoint) {
    case NGX_HTTP_VMS_AUTH_EP_MEDIAMTX:
        return ngx_http_vms_auth_mediamtx(r, ctx, &body);
    case NGX_HTTP_VMS_AUTH_EP_RTMP:
        return ngx_http_vms_auth_rtmp(r, ctx, &body);
    default:
        break;
    }
    /* stream_token and revoke act for the caller: authenticate it from the request first */
    rc = ngx_http_vms_auth_ep_verify(r, ctx, NULL);
    if (rc == NGX_AGAIN) {
        return rc;
    }
    if (rc != NGX_OK) {
        return ngx_http_vms_auth_send_error(r, rc, ctx->why);
    }
    switch (lcf->endpoint) {
    case NGX_HTTP_VMS_AUTH_EP_STREAM_TOKEN:
        return ngx_http_vms_auth_stream_token(r, ctx, &body);
    case NGX_HTTP_VMS_AUTH_EP_REVOKE:
        return ngx_http_vms_auth_revoke(r, ctx, &body);
    default:
        return ngx_http_vms_auth_whoami(r, ctx);
    }
}

static void
ngx_http_vms_auth_ep_run(ngx_http_request_t *r)
{
    ngx_int_t rc = ngx_http_vms_auth_ep_process(r);
    if (rc != NGX_AGAIN) {
        ngx_http_finalize_request(r, rc);
    }
}

static void
ngx_http_vms_auth_ep_body_read(ngx_http_request_t *r)
{
    ngx_http_vms_auth_ctx_t *ctx = ngx_http_vms_auth_get_ctx(r);
    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }
    ctx->resume = ngx_http_vms_auth_ep_run;
    ngx_http_vms_auth_ep_run(r);
}

/* whoami (any method): the caller's verified claims, as the module understood them. */
static ngx_int_t
ngx_http_vms_auth_whoami(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx)
{
    vms_claims_t *c = &ctx->claims;
    json_t *perms = json_array(), *cams = c->cameras ? json_array() : json_null();
    for (unsigned bit = 1; bit <= VMS_PERM_ALL; bit <<= 1) {
        if (c->perms & bit) {
            json_array_append_new(perms, json_string(vms_perm_name(bit)));
        }
    }
    for (size_t i = 0; c->cameras && i < c->ncameras; i++) {
        json_array_append_new(cams, json_string(c->cameras[i]));
    }
    json_t *j = json_pack("{s:s?, s:s?, s:s?, s:s?, s:o, s:o, s:I}", "sub", c->sub, "tenant_id", c->tenant,
                          "role", c->role, "jti", c->jti, "permissions", perms, "cameras", cams,
                          "exp", (json_int_t) c->exp);
    ngx_int_t rc = j ? ngx_http_vms_auth_send_json(r, NGX_HTTP_OK, j) : NGX_HTTP_INTERNAL_SERVER_ERROR;
    json_decref(j);
    return rc;
}

ngx_int_t
ngx_http_vms_auth_endpoint_handler(ngx_http_request_t *r)
{
    ngx_http_vms_auth_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_auth_module);
    if (lcf->endpoint == NGX_HTTP_VMS_AUTH_EP_WHOAMI && !(r->method & NGX_HTTP_POST)) {
        /* whoami answers any method (a body, if any, is discarded) */
        r->request_body_in_single_buf = 1;
        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        ngx_http_vms_auth_ctx_t *ctx = ngx_http_vms_auth_get_ctx(r);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        ctx->resume = ngx_http_vms_auth_ep_run;
        ngx_int_t rc = ngx_http_vms_auth_ep_process(r);
        if (rc == NGX_AGAIN) {
            r->main->count++;
            return NGX_DONE;
        }
        return rc;
    }
    if (!(r->method & NGX_HTTP_POST)) {
        ngx_table_elt_t *h = ngx_list_push(&r->headers_out.headers);
        if (h) {
            h->hash = 1;
            ngx_str_set(&h->key, "Allow");
            ngx_str_set(&h->value, "POST");
        }
        return ngx_http_vms_auth_send_error(r, NGX_HTTP_NOT_ALLOWED, "use POST");
    }
    if (r->headers_in.content_length_n > VMS_AUTHREQ_BODY_MAX) {
        return ngx_http_vms_auth_send_error(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "request body too large");
    }
    r->request_body_in_single_buf = 1;
    ngx_int_t rc = ngx_http_read_client_request_body(r, ngx_http_vms_auth_ep_body_read);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }
    return NGX_DONE;
}
