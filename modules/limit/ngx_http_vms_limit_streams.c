/*
 * vms_limit streams step: per-user concurrent stream leases.
 *
 *   open     admission: one EVAL (drop expired, count, admit/refuse) in the
 *            user's sorted set; a session this node already admitted is
 *            renewed without waiting (fire-and-forget EVAL).
 *   renew    activity (segments, later playlists): renew without waiting.
 *   release  content handler: ZREM, answers {"released":true|false}.
 *
 * Redis mode keeps a node-local mirror of the sessions this node admitted
 * (shared zone); it is the fast path for renewals and the lease set used by
 * the `local` policy when Redis is unreachable.  Local mode uses the zone
 * alone, with the same arithmetic (core/vms_lease.c).
 */

#include "ngx_http_vms_limit.h"


/* fire-and-forget renewal: outlives the request */
typedef struct {
    ngx_http_vms_limit_main_conf_t  *lmcf;
    uint64_t                         session;
    ngx_str_t                        user;
    u_char                           data[1];
} ngx_http_vms_limit_renewal_t;


static void
ngx_http_vms_limit_renew_reply(ngx_vms_redis_status_e status,
    redisReply *reply, void *data)
{
    ngx_http_vms_limit_renewal_t  *rn = data;

    if (status == NGX_VMS_REDIS_OK && reply->type == REDIS_REPLY_INTEGER
        && reply->integer == 0)
    {
        /* Redis has no live lease (expired or released elsewhere): forget
         * it here too, so the next playlist request goes through admission */
        (void) ngx_http_vms_limit_shm_lease(rn->lmcf,
                   NGX_HTTP_VMS_LIMIT_LEASE_FORGET, &rn->user, rn->session,
                   0, 0, 0, NULL);
    }

    ngx_free(rn);
}


static void
ngx_http_vms_limit_renew_redis(ngx_http_request_t *r,
    ngx_http_vms_limit_main_conf_t *lmcf, ngx_http_vms_limit_loc_conf_t *llcf,
    ngx_http_vms_limit_ctx_t *ctx, ngx_str_t *user, uint64_t session)
{
    u_char                        ttl[NGX_INT64_LEN];
    size_t                        lens[3];
    const char                   *argv[3];
    ngx_http_vms_limit_renewal_t  *rn;

    rn = ngx_alloc(sizeof(ngx_http_vms_limit_renewal_t) + user->len,
                   r->connection->log);
    if (rn == NULL) {
        return;
    }

    rn->lmcf = lmcf;
    rn->session = session;
    rn->user.data = rn->data;
    rn->user.len = user->len;
    ngx_memcpy(rn->data, user->data, user->len);

    /* KEYS: leases; ARGV: session, ttl */
    argv[0] = (const char *) ctx->key.data;
    lens[0] = ctx->key.len;
    argv[1] = (const char *) ctx->session.data;
    lens[1] = ctx->session.len;
    argv[2] = (const char *) ttl;
    lens[2] = ngx_sprintf(ttl, "%L", (int64_t) llcf->stream_ttl * 1000) - ttl;

    if (ngx_vms_redis_eval(lmcf->redis, NULL, llcf->redis_timeout,
                           lmcf->renew_script, ngx_http_vms_limit_renew_reply,
                           rn, 1, 3, argv, lens, NULL)
        != NGX_OK)
    {
        ngx_free(rn);
    }
}


static void
ngx_http_vms_limit_acquire_reply(ngx_vms_redis_status_e status,
    redisReply *reply, void *data)
{
    ngx_uint_t                 i;
    ngx_http_request_t        *r;
    ngx_http_vms_limit_ctx_t  *ctx = data;

    r = ctx->request;

    if (status == NGX_VMS_REDIS_OK && reply->type == REDIS_REPLY_ARRAY
        && reply->elements == 4)
    {
        for (i = 0; i < 4; i++) {
            if (reply->element[i]->type != REDIS_REPLY_INTEGER) {
                break;
            }
        }

        if (i == 4 && reply->element[0]->integer >= VMS_LEASE_ADMITTED
            && reply->element[0]->integer <= VMS_LEASE_ENDED)
        {
            ctx->lease.outcome = (int) reply->element[0]->integer;
            ctx->lease.active = (uint32_t) reply->element[1]->integer;
            ctx->lease.limit = reply->element[2]->integer;
            ctx->lease.retry_after_us = reply->element[3]->integer;
            ctx->result = NGX_HTTP_VMS_LIMIT_R_REPLY;
            ngx_http_vms_limit_resume(r);
            return;
        }
    }

    if (status == NGX_VMS_REDIS_TIMEOUT) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "vms_limit: stream admission timed out in Redis");
    } else {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "vms_limit: stream admission failed in Redis: %*s",
                      (size_t) (reply && reply->str ? reply->len : 9),
                      reply && reply->str ? reply->str : "no reply");
    }

    ctx->result = NGX_HTTP_VMS_LIMIT_R_UNAVAILABLE;
    ngx_http_vms_limit_resume(r);
}


/*
 * "vms:released:{user}:{session}": set for a while by a release, so that a
 * late media request of the player that released the session (sent with its
 * previous stream token) does not take it again (docs/limit.md).
 */
static ngx_int_t
ngx_http_vms_limit_release_mark(ngx_http_request_t *r,
    ngx_http_vms_limit_ctx_t *ctx, ngx_str_t *mark)
{
    u_char  *p;
    size_t   ulen;

    /* ctx->key is "vms:leases:" + the user's bounded key part */
    ulen = ctx->key.len - (sizeof("vms:leases:") - 1);

    mark->data = ngx_pnalloc(r->pool, sizeof("vms:released::") - 1 + ulen
                                      + ctx->session.len);
    if (mark->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(mark->data, "vms:released:", sizeof("vms:released:") - 1);
    p = ngx_cpymem(p, ctx->key.data + sizeof("vms:leases:") - 1, ulen);
    *p++ = ':';
    p = ngx_cpymem(p, ctx->session.data, ctx->session.len);
    mark->len = p - mark->data;

    return NGX_OK;
}


/*
 * Values of an `admit` location are the query arguments of a subrequest
 * (vms_auth escapes them with ngx_escape_uri): decode them once here, so a
 * user id with "+", spaces or "%" names the same lease set on every path.
 */
static ngx_int_t
ngx_http_vms_limit_unescape(ngx_http_request_t *r, ngx_str_t *v)
{
    u_char  *dst, *d, *src;

    if (ngx_strlchr(v->data, v->data + v->len, '%') == NULL) {
        return NGX_OK;
    }

    dst = ngx_pnalloc(r->pool, v->len);
    if (dst == NULL) {
        return NGX_ERROR;
    }

    d = dst;
    src = v->data;
    ngx_unescape_uri(&d, &src, v->len, 0);

    v->data = dst;
    v->len = d - dst;

    return NGX_OK;
}


/*
 * The lease's user, session and the plan/claim limit of this request: the
 * one place where lease keys are made, for every path (HLS, WHEP, playback,
 * MediaMTX and RTMP admissions).  The session is the first non-empty
 * `vms_limit_streams_session` value in canonical form (core/vms_session.h).
 * NGX_OK, or NGX_DONE after answering an error (JSON) itself.
 */
static ngx_int_t
ngx_http_vms_limit_identify(ngx_http_request_t *r,
    ngx_http_vms_limit_main_conf_t *lmcf, ngx_http_vms_limit_loc_conf_t *llcf,
    ngx_http_vms_limit_ctx_t *ctx, ngx_str_t *user)
{
    size_t                     n;
    int64_t                    plan_limit, claim;
    ngx_str_t                  plan, max, sv;
    ngx_uint_t                 i, admit;
    ngx_http_complex_value_t  *cv;
    ngx_str_t                  prefix = ngx_string("vms:leases:");

    admit = llcf->streams == NGX_HTTP_VMS_LIMIT_STREAMS_ADMIT;

    if (ngx_http_complex_value(r, llcf->stream_user, user) != NGX_OK
        || ngx_http_complex_value(r, llcf->stream_plan, &plan) != NGX_OK
        || ngx_http_complex_value(r, llcf->stream_max, &max) != NGX_OK
        || (admit && (ngx_http_vms_limit_unescape(r, user) != NGX_OK
                      || ngx_http_vms_limit_unescape(r, &plan) != NGX_OK
                      || ngx_http_vms_limit_unescape(r, &max) != NGX_OK)))
    {
        return ngx_http_vms_limit_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                        "internal", "internal error");
    }

    if (user->len == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "vms_limit: stream request without a user");
        return ngx_http_vms_limit_error(r, NGX_HTTP_FORBIDDEN, "no_user",
                   "a stream needs a user (a token with a subject)");
    }

    ngx_str_null(&sv);
    cv = llcf->stream_session->elts;

    for (i = 0; i < llcf->stream_session->nelts; i++) {
        if (ngx_http_complex_value(r, &cv[i], &sv) != NGX_OK
            || (admit && ngx_http_vms_limit_unescape(r, &sv) != NGX_OK))
        {
            return ngx_http_vms_limit_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                            "internal", "internal error");
        }
        if (sv.len) {
            break;
        }
    }

    ctx->session.data = ngx_pnalloc(r->pool, VMS_SESSION_ID_MAX + 1);
    if (ctx->session.data == NULL) {
        return ngx_http_vms_limit_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                        "internal", "internal error");
    }

    n = vms_session_id((const char *) sv.data, sv.len,
                       (char *) ctx->session.data);
    ctx->session.len = n;

    /* a media location takes its session from the signed parameter */
    if (n == 0 && llcf->streams != NGX_HTTP_VMS_LIMIT_STREAMS_MEDIA) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "vms_limit: stream request without a session");
        return ngx_http_vms_limit_error(r, NGX_HTTP_BAD_REQUEST, "no_session",
                   "nothing in this request names a player session");
    }

    ctx->user = *user;

    if (ngx_http_vms_limit_key(r, &prefix, user, 0, &ctx->key) != NGX_OK) {
        return ngx_http_vms_limit_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                        "internal", "internal error");
    }

    plan_limit = vms_plan_limit(lmcf->plan_table, lmcf->plans->nelts,
                                lmcf->default_plan, (const char *) plan.data,
                                plan.len);

    claim = -1;
    if (max.len) {
        claim = vms_lease_parse_limit((const char *) max.data, max.len);
        if (claim < 0) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "vms_limit: ignoring malformed stream limit claim");
        }
    }

    ctx->base_limit = vms_lease_limit(plan_limit, claim, -1);

    return NGX_OK;
}


static ngx_int_t
ngx_http_vms_limit_streams_refuse(ngx_http_request_t *r,
    ngx_http_vms_limit_counters_t *cnt, ngx_http_vms_limit_ctx_t *ctx)
{
    size_t  len;
    u_char  body[256];

    (void) ngx_atomic_fetch_add(&cnt->streams_rejected, 1);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "vms_limit: stream refused, %uD of %L streams active",
                  ctx->lease.active, ctx->lease.limit);

    if (ngx_http_vms_limit_set_header(r, "Retry-After",
                        vms_gcra_seconds(ctx->lease.retry_after_us, 1))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = vms_lease_exceeded_json((char *) body, sizeof(body), ctx->lease.limit,
                                  ctx->lease.active);

    return ngx_http_vms_limit_send_json(r, NGX_HTTP_TOO_MANY_REQUESTS, body, len);
}


/*
 * A stream goes on.  An opened playlist may sign its session into
 * $vms_limit_session; so may a media request, with a fresh expiry, for a
 * playlist served as media (a variant playlist behind a multivariant one,
 * e.g. MediaMTX's HLS) to hand on to its own URIs.  The parameter is made
 * only when the variable is read (session.c): segments pay nothing.
 */
static ngx_int_t
ngx_http_vms_limit_streams_pass(ngx_http_request_t *r,
    ngx_http_vms_limit_loc_conf_t *llcf, ngx_http_vms_limit_ctx_t *ctx)
{
    if (llcf->streams == NGX_HTTP_VMS_LIMIT_STREAMS_OPEN
        || llcf->streams == NGX_HTTP_VMS_LIMIT_STREAMS_MEDIA)
    {
        ctx->signable = 1;
    }

    return NGX_DECLINED;
}


/*
 * A media request (`vms_limit_streams media`): its signed session parameter
 * must be valid (403 otherwise).  The hot path: when this node holds the
 * lease of that session, or of the request's own session (the one a
 * playlist request with the same token opens; after a player moved to a new
 * stream token, segments of its previous playlist still carry the old
 * session), it is renewed at most every vms_limit_session_renew, in Redis
 * without waiting.  Otherwise (a lease of another node, an expired or
 * released one) ctx->session becomes the request's own session and the
 * caller goes through admission (NGX_AGAIN): a released session is never
 * taken again by a late segment, and a refused user gets 429.
 */
static ngx_int_t
ngx_http_vms_limit_media(ngx_http_request_t *r,
    ngx_http_vms_limit_main_conf_t *lmcf, ngx_http_vms_limit_loc_conf_t *llcf,
    ngx_http_vms_limit_ctx_t *ctx, int64_t now)
{
    uint64_t                        session;
    ngx_int_t                       rc;
    ngx_str_t                       own;
    ngx_uint_t                      k;
    ngx_http_vms_limit_counters_t  *cnt;

    own = ctx->session;

    rc = ngx_http_vms_limit_session_check(r, ctx);
    if (rc != NGX_OK) {
        return rc;
    }

    cnt = ngx_http_vms_limit_counters(lmcf);

    for (k = 0; k < 2; k++) {

        if (k == 1) {
            if (own.len == 0
                || (own.len == ctx->session.len
                    && ngx_memcmp(own.data, ctx->session.data, own.len) == 0))
            {
                break;
            }
            ctx->session = own;
        }

        session = vms_lease_hash((const char *) ctx->session.data,
                                 ctx->session.len);

        rc = ngx_http_vms_limit_shm_lease(lmcf, NGX_HTTP_VMS_LIMIT_LEASE_TOUCH,
                 &ctx->key, session, now, (int64_t) llcf->stream_ttl * 1000,
                 (int64_t) llcf->session_renew * 1000, NULL);

        if (rc == NGX_DONE) {
            return ngx_http_vms_limit_streams_pass(r, llcf, ctx);
        }

        if (rc == NGX_OK) {
            if (ngx_http_vms_limit_use_redis(lmcf, llcf)) {
                ngx_http_vms_limit_renew_redis(r, lmcf, llcf, ctx, &ctx->key,
                                               session);
            }
            (void) ngx_atomic_fetch_add(&cnt->streams_renewed, 1);
            return ngx_http_vms_limit_streams_pass(r, llcf, ctx);
        }
    }

    if (own.len) {
        ctx->session = own;
    }

    return NGX_AGAIN;
}


/* Same return convention as ngx_http_vms_limit_rate(). */
ngx_int_t
ngx_http_vms_limit_streams(ngx_http_request_t *r, ngx_http_vms_limit_ctx_t *ctx)
{
    int                              nkeys;
    size_t                           lens[6];
    int64_t                          now, ttl;
    uint64_t                         session;
    ngx_int_t                        rc;
    ngx_str_t                        user, hkey, mark;
    const char                      *argv[6];
    ngx_http_vms_limit_counters_t   *cnt;
    ngx_http_vms_limit_loc_conf_t   *llcf;
    ngx_http_vms_limit_main_conf_t  *lmcf;
    u_char                           ttl_s[NGX_INT64_LEN], lim_s[NGX_INT64_LEN];
    ngx_str_t                        hprefix = ngx_string("vms:user:");

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_limit_module);
    llcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_limit_module);
    cnt = ngx_http_vms_limit_counters(lmcf);
    ttl = (int64_t) llcf->stream_ttl * 1000;

    /* ctx->key (the user's Redis key) also names the user's lease set in the zone */
    if (ctx->result == NGX_HTTP_VMS_LIMIT_R_NONE) {

        rc = ngx_http_vms_limit_identify(r, lmcf, llcf, ctx, &user);
        if (rc != NGX_OK) {
            return rc;
        }

        session = vms_lease_hash((const char *) ctx->session.data,
                                 ctx->session.len);
        now = ngx_http_vms_limit_now_us();

        if (llcf->streams == NGX_HTTP_VMS_LIMIT_STREAMS_MEDIA) {
            rc = ngx_http_vms_limit_media(r, lmcf, llcf, ctx, now);
            if (rc != NGX_AGAIN) {
                return rc;
            }
            /* no lease here: admission below, as the request's own session */
            session = vms_lease_hash((const char *) ctx->session.data,
                                     ctx->session.len);

        } else if (llcf->streams == NGX_HTTP_VMS_LIMIT_STREAMS_RENEW
            || (ngx_http_vms_limit_use_redis(lmcf, llcf)
                && ngx_http_vms_limit_shm_lease(lmcf,
                       NGX_HTTP_VMS_LIMIT_LEASE_RENEW, &ctx->key, session,
                       now, ttl, 0, NULL) == NGX_OK))
        {
            /* renewal never waits and never refuses */
            if (llcf->streams == NGX_HTTP_VMS_LIMIT_STREAMS_RENEW) {
                (void) ngx_http_vms_limit_shm_lease(lmcf,
                           NGX_HTTP_VMS_LIMIT_LEASE_RENEW, &ctx->key, session,
                           now, ttl, 0, NULL);
            }
            if (ngx_http_vms_limit_use_redis(lmcf, llcf)) {
                ngx_http_vms_limit_renew_redis(r, lmcf, llcf, ctx, &ctx->key,
                                               session);
            }
            (void) ngx_atomic_fetch_add(&cnt->streams_renewed, 1);
            return ngx_http_vms_limit_streams_pass(r, llcf, ctx);
        }

        if (!ngx_http_vms_limit_use_redis(lmcf, llcf)) {
            if (ngx_http_vms_limit_shm_lease(lmcf,
                    NGX_HTTP_VMS_LIMIT_LEASE_ACQUIRE, &ctx->key, session, now,
                    ttl, ctx->base_limit, &ctx->lease) != NGX_OK)
            {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "vms_limit: shared zone full, stream allowed");
                return ngx_http_vms_limit_streams_pass(r, llcf, ctx);
            }
            ctx->result = NGX_HTTP_VMS_LIMIT_R_REPLY;
            goto decided;
        }

        if (ngx_http_vms_limit_key(r, &hprefix, &user, 0, &hkey) != NGX_OK) {
            return ngx_http_vms_limit_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                            "internal", "internal error");
        }

        /* KEYS: leases, override hash[, release mark]; ARGV: session, ttl,
         * limit.  A media request's admission must not take a session its
         * player has just released (see ngx_http_vms_limit_media()). */
        nkeys = 2;
        argv[0] = (const char *) ctx->key.data;
        lens[0] = ctx->key.len;
        argv[1] = (const char *) hkey.data;
        lens[1] = hkey.len;

        if (llcf->streams == NGX_HTTP_VMS_LIMIT_STREAMS_MEDIA) {
            if (ngx_http_vms_limit_release_mark(r, ctx, &mark) != NGX_OK) {
                return ngx_http_vms_limit_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                                "internal", "internal error");
            }
            argv[2] = (const char *) mark.data;
            lens[2] = mark.len;
            nkeys = 3;
        }

        argv[nkeys] = (const char *) ctx->session.data;
        lens[nkeys] = ctx->session.len;
        argv[nkeys + 1] = (const char *) ttl_s;
        lens[nkeys + 1] = ngx_sprintf(ttl_s, "%L", ttl) - ttl_s;
        argv[nkeys + 2] = (const char *) lim_s;
        lens[nkeys + 2] = ngx_sprintf(lim_s, "%L", ctx->base_limit) - lim_s;

        rc = ngx_vms_redis_eval(lmcf->redis, r->pool, llcf->redis_timeout,
                                lmcf->acquire_script,
                                ngx_http_vms_limit_acquire_reply, ctx,
                                nkeys, nkeys + 3, argv, lens, NULL);

        if (rc == NGX_OK) {
            ctx->result = NGX_HTTP_VMS_LIMIT_R_WAITING;
            return NGX_AGAIN;
        }

        if (rc == NGX_ERROR) {
            return ngx_http_vms_limit_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                            "internal", "internal error");
        }

        ctx->result = NGX_HTTP_VMS_LIMIT_R_UNAVAILABLE;
    }

    session = vms_lease_hash((const char *) ctx->session.data, ctx->session.len);

    if (ctx->result == NGX_HTTP_VMS_LIMIT_R_UNAVAILABLE) {
        switch (llcf->on_error) {

        case NGX_HTTP_VMS_LIMIT_POLICY_OPEN:
            (void) ngx_atomic_fetch_add(&cnt->fallback_open, 1);
            return ngx_http_vms_limit_streams_pass(r, llcf, ctx);

        case NGX_HTTP_VMS_LIMIT_POLICY_CLOSED:
            return ngx_http_vms_limit_unavailable(r, lmcf);

        default:
            (void) ngx_atomic_fetch_add(&cnt->fallback_local, 1);
            if (ngx_http_vms_limit_shm_lease(lmcf,
                    NGX_HTTP_VMS_LIMIT_LEASE_ACQUIRE, &ctx->key, session,
                    ngx_http_vms_limit_now_us(), ttl, ctx->base_limit,
                    &ctx->lease) != NGX_OK)
            {
                return ngx_http_vms_limit_streams_pass(r, llcf, ctx);
            }
            goto decided;
        }
    }

    /* Redis decided: mirror the admission on this node */
    if (ctx->lease.outcome == VMS_LEASE_ADMITTED
        || ctx->lease.outcome == VMS_LEASE_RENEWED)
    {
        (void) ngx_http_vms_limit_shm_lease(lmcf, NGX_HTTP_VMS_LIMIT_LEASE_RECORD,
                                            &ctx->key, session,
                                            ngx_http_vms_limit_now_us(), ttl,
                                            0, &ctx->lease);
    }

decided:

    switch (ctx->lease.outcome) {

    case VMS_LEASE_ADMITTED:
        (void) ngx_atomic_fetch_add(&cnt->streams_admitted, 1);
        return ngx_http_vms_limit_streams_pass(r, llcf, ctx);

    case VMS_LEASE_RENEWED:
        (void) ngx_atomic_fetch_add(&cnt->streams_renewed, 1);
        return ngx_http_vms_limit_streams_pass(r, llcf, ctx);

    case VMS_LEASE_ENDED:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "vms_limit: media request of a released session");
        return ngx_http_vms_limit_error(r, NGX_HTTP_FORBIDDEN, "session_ended",
                   "this player session was released: load the playlist "
                   "again");

    default:
        return ngx_http_vms_limit_streams_refuse(r, cnt, ctx);
    }
}


/* ---- release endpoint -------------------------------------------------- */

typedef struct {
    ngx_http_request_t  *request;
    ngx_uint_t           local;       /* released from the node's zone */
} ngx_http_vms_limit_release_t;


static ngx_int_t
ngx_http_vms_limit_release_send(ngx_http_request_t *r, ngx_uint_t released)
{
    static u_char  yes[] = "{\"released\":true}\n";
    static u_char  no[] = "{\"released\":false}\n";

    return released
           ? ngx_http_vms_limit_send_json(r, NGX_HTTP_OK, yes, sizeof(yes) - 1)
           : ngx_http_vms_limit_send_json(r, NGX_HTTP_OK, no, sizeof(no) - 1);
}


static void
ngx_http_vms_limit_release_reply(ngx_vms_redis_status_e status,
    redisReply *reply, void *data)
{
    ngx_http_request_t              *r;
    ngx_connection_t                *c;
    ngx_http_vms_limit_release_t    *rel = data;
    ngx_http_vms_limit_main_conf_t  *lmcf;

    r = rel->request;
    c = r->connection;

    if (status == NGX_VMS_REDIS_OK && reply->type == REDIS_REPLY_INTEGER) {
        lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_limit_module);
        if (reply->integer > 0) {
            (void) ngx_atomic_fetch_add(
                       &ngx_http_vms_limit_counters(lmcf)->streams_released, 1);
        }
        (void) ngx_http_vms_limit_release_send(r, reply->integer > 0);

    } else {
        ngx_log_error(NGX_LOG_WARN, c->log, 0,
                      "vms_limit: stream release %s in Redis",
                      status == NGX_VMS_REDIS_TIMEOUT ? "timed out" : "failed");
        lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_limit_module);
        (void) ngx_http_vms_limit_unavailable(r, lmcf);
    }

    ngx_http_run_posted_requests(c);
}


ngx_int_t
ngx_http_vms_limit_release_handler(ngx_http_request_t *r)
{
    size_t                           lens[4];
    ngx_int_t                        rc;
    ngx_str_t                        user, mark;
    const char                      *argv[4];
    u_char                           ttl_s[NGX_INT64_LEN];
    ngx_http_vms_limit_ctx_t        *ctx;
    ngx_http_vms_limit_release_t    *rel;
    ngx_http_vms_limit_loc_conf_t   *llcf;
    ngx_http_vms_limit_main_conf_t  *lmcf;

    if (!(r->method & (NGX_HTTP_POST|NGX_HTTP_DELETE))) {
        r->main->count++;
        (void) ngx_http_vms_limit_error(r, NGX_HTTP_NOT_ALLOWED,
                                        "method_not_allowed",
                                        "release with POST or DELETE");
        return NGX_DONE;
    }

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_limit_module);
    llcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_limit_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_vms_limit_ctx_t));
    rel = ngx_pcalloc(r->pool, sizeof(ngx_http_vms_limit_release_t));
    if (ctx == NULL || rel == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* every answer below finalizes the request itself; the content phase
     * then finalizes with NGX_DONE, which drops this extra reference */
    r->main->count++;

    rc = ngx_http_vms_limit_identify(r, lmcf, llcf, ctx, &user);
    if (rc != NGX_OK) {
        return NGX_DONE;
    }

    rel->request = r;
    rel->local = ngx_http_vms_limit_shm_lease(lmcf,
                     NGX_HTTP_VMS_LIMIT_LEASE_RELEASE, &ctx->key,
                     vms_lease_hash((const char *) ctx->session.data,
                                    ctx->session.len),
                     0, 0, 0, NULL) == NGX_OK;

    if (!ngx_http_vms_limit_use_redis(lmcf, llcf)) {
        if (rel->local) {
            (void) ngx_atomic_fetch_add(
                       &ngx_http_vms_limit_counters(lmcf)->streams_released, 1);
        }
        return ngx_http_vms_limit_release_send(r, rel->local);
    }

    if (ngx_http_vms_limit_release_mark(r, ctx, &mark) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_DONE;
    }

    /* KEYS: leases, release mark; ARGV: session, mark lifetime (ms) */
    argv[0] = (const char *) ctx->key.data;
    lens[0] = ctx->key.len;
    argv[1] = (const char *) mark.data;
    lens[1] = mark.len;
    argv[2] = (const char *) ctx->session.data;
    lens[2] = ctx->session.len;
    argv[3] = (const char *) ttl_s;
    lens[3] = ngx_sprintf(ttl_s, "%M", llcf->stream_ttl) - ttl_s;

    rc = ngx_vms_redis_eval(lmcf->redis, r->pool, llcf->redis_timeout,
                            lmcf->release_script,
                            ngx_http_vms_limit_release_reply, rel,
                            2, 4, argv, lens, NULL);

    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_DONE;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_vms_limit_unavailable(r, lmcf);
    }

    return NGX_DONE;
}


/*
 * `vms_limit_streams admit`: the precontent step admitted this stream (or
 * answered 429/503 itself); say so with 204.  Meant for subrequests from
 * other modules (an auth endpoint admitting a MediaMTX `read` or an RTMP
 * `play`: user, session and plan in the subrequest's arguments) and for
 * services that open streams on a user's behalf.
 */
ngx_int_t
ngx_http_vms_limit_admit_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    r->headers_out.status = NGX_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    return ngx_http_send_header(r);
}
