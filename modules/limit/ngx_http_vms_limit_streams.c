/*
 * vms_limit streams step: per-user concurrent stream leases.
 *
 *   open     admission: one EVAL (drop expired, count, admit/refuse) in the
 *            user's sorted set; a session this node already admitted is
 *            renewed without waiting (fire-and-forget EVAL).
 *   renew    activity (segments, later playlists): renew without waiting.
 *   release  content handler: ZREM, answers {"released":true|false}.
 *   admit    an auth endpoint's subrequest (MediaMTX `read`, RTMP `play`):
 *            open, with the opener's handover identity (one RTSP reader's
 *            DESCRIBE and SETUP hold one lease) and the reader id by which
 *            the media server's hooks renew and release the lease later.
 *   reader_renew, reader_release
 *            content handlers: renew or release a reader's lease by its id.
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
        && reply->elements == 5
        && reply->element[4]->type == REDIS_REPLY_STRING)
    {
        for (i = 0; i < 4; i++) {
            if (reply->element[i]->type != REDIS_REPLY_INTEGER) {
                break;
            }
        }

        if (i == 4 && reply->element[0]->integer >= VMS_LEASE_ADMITTED
            && reply->element[0]->integer <= VMS_LEASE_ENDED)
        {
            ctx->handed_from.len = 0;
            if (reply->element[4]->len) {
                ctx->handed_from.data = ngx_pnalloc(r->pool,
                                                    reply->element[4]->len);
                if (ctx->handed_from.data) {
                    ngx_memcpy(ctx->handed_from.data, reply->element[4]->str,
                               reply->element[4]->len);
                    ctx->handed_from.len = reply->element[4]->len;
                }
            }
            ctx->lease.outcome = (int) reply->element[0]->integer;
            ctx->lease.active = (uint32_t) reply->element[1]->integer;
            ctx->lease.limit = reply->element[2]->integer;
            ctx->lease.retry_after_us = reply->element[3]->integer;
            ctx->result = NGX_HTTP_VMS_LIMIT_R_REPLY;
            ngx_http_vms_limit_resume(r);
            return;
        }
    }

    ngx_http_vms_limit_redis_failed(r, status, reply, "stream admission");

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

    /* values that come from an auth endpoint's subrequest arguments */
    admit = llcf->streams == NGX_HTTP_VMS_LIMIT_STREAMS_ADMIT || r != r->main;

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

    ngx_str_null(&ctx->handover);
    ngx_str_null(&ctx->reader);

    if ((llcf->stream_handover
         && (ngx_http_complex_value(r, llcf->stream_handover, &ctx->handover)
             != NGX_OK
             || (admit && ngx_http_vms_limit_unescape(r, &ctx->handover)
                          != NGX_OK)))
        || (llcf->stream_reader
            && (ngx_http_complex_value(r, llcf->stream_reader, &ctx->reader)
                != NGX_OK
                || (admit && ngx_http_vms_limit_unescape(r, &ctx->reader)
                             != NGX_OK))))
    {
        return ngx_http_vms_limit_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                        "internal", "internal error");
    }

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


/*
 * The Redis keys of an admission's opener (handover) and reader: the
 * handover key names the user and the opener ("vms:handover:" and a digest of
 * both), the reader key the media server's reader id ("vms:reader:{id}").
 * Empty when the admission names none.
 */
static ngx_int_t
ngx_http_vms_limit_reader_keys(ngx_http_request_t *r,
    ngx_http_vms_limit_ctx_t *ctx, ngx_str_t *okey, ngx_str_t *rkey)
{
    u_char     *p;
    ngx_str_t   v;
    ngx_str_t   oprefix = ngx_string("vms:handover:");
    ngx_str_t   rprefix = ngx_string("vms:reader:");

    if (ctx->handover.len) {
        v.len = ctx->user.len + 1 + ctx->handover.len;
        v.data = ngx_pnalloc(r->pool, v.len);
        if (v.data == NULL) {
            return NGX_ERROR;
        }
        p = ngx_cpymem(v.data, ctx->user.data, ctx->user.len);
        *p++ = '\n';
        ngx_memcpy(p, ctx->handover.data, ctx->handover.len);

        if (ngx_http_vms_limit_key(r, &oprefix, &v, 1, okey) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ctx->reader.len
        && ngx_http_vms_limit_key(r, &rprefix, &ctx->reader, 0, rkey) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* A decision in the node's zone (local mode, or the `local` policy while
 * Redis is unreachable), with the opener's handover. */
static ngx_int_t
ngx_http_vms_limit_local_acquire(ngx_http_vms_limit_main_conf_t *lmcf,
    ngx_http_vms_limit_ctx_t *ctx, uint64_t session, int64_t now, int64_t ttl)
{
    uint64_t  from;

    return ngx_http_vms_limit_shm_acquire_handover(lmcf, &ctx->key, session,
               ctx->handover.len ? vms_lease_hash((const char *)
                                                  ctx->handover.data,
                                                  ctx->handover.len)
                                 : 0,
               now, ttl, ctx->base_limit, &ctx->lease, &from);
}


/* Same return convention as ngx_http_vms_limit_rate(). */
ngx_int_t
ngx_http_vms_limit_streams(ngx_http_request_t *r, ngx_http_vms_limit_ctx_t *ctx)
{
    size_t                           lens[9];
    int64_t                          now, ttl;
    uint64_t                         session;
    ngx_int_t                        rc;
    ngx_str_t                        user, hkey, mark, okey, rkey;
    const char                      *argv[9];
    ngx_http_vms_limit_counters_t   *cnt;
    ngx_http_vms_limit_loc_conf_t   *llcf;
    ngx_http_vms_limit_main_conf_t  *lmcf;
    u_char                           ttl_s[NGX_INT64_LEN], lim_s[NGX_INT64_LEN];
    u_char                           win_s[NGX_INT64_LEN];
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
            if (ngx_http_vms_limit_local_acquire(lmcf, ctx, session, now, ttl)
                != NGX_OK)
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

        /* KEYS: leases, override hash, release mark, handover, reader ("":
         * none); ARGV: session, ttl, limit, handover window.  A media
         * request's admission must not take a session its player has just
         * released (see ngx_http_vms_limit_media()). */
        ngx_str_null(&mark);
        ngx_str_null(&okey);
        ngx_str_null(&rkey);

        if (llcf->streams == NGX_HTTP_VMS_LIMIT_STREAMS_MEDIA
            && ngx_http_vms_limit_release_mark(r, ctx, &mark) != NGX_OK)
        {
            return ngx_http_vms_limit_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                            "internal", "internal error");
        }

        if (ngx_http_vms_limit_reader_keys(r, ctx, &okey, &rkey) != NGX_OK) {
            return ngx_http_vms_limit_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                            "internal", "internal error");
        }

        argv[0] = (const char *) ctx->key.data;
        lens[0] = ctx->key.len;
        argv[1] = (const char *) hkey.data;
        lens[1] = hkey.len;
        argv[2] = (const char *) (mark.len ? mark.data : (u_char *) "");
        lens[2] = mark.len;
        argv[3] = (const char *) (okey.len ? okey.data : (u_char *) "");
        lens[3] = okey.len;
        argv[4] = (const char *) (rkey.len ? rkey.data : (u_char *) "");
        lens[4] = rkey.len;
        argv[5] = (const char *) ctx->session.data;
        lens[5] = ctx->session.len;
        argv[6] = (const char *) ttl_s;
        lens[6] = ngx_sprintf(ttl_s, "%L", ttl) - ttl_s;
        argv[7] = (const char *) lim_s;
        lens[7] = ngx_sprintf(lim_s, "%L", ctx->base_limit) - lim_s;
        argv[8] = (const char *) win_s;
        lens[8] = ngx_sprintf(win_s, "%d", NGX_HTTP_VMS_LIMIT_HANDOVER_WINDOW)
                  - win_s;

        rc = ngx_vms_redis_eval(lmcf->redis, r->pool, llcf->redis_timeout,
                                lmcf->acquire_script,
                                ngx_http_vms_limit_acquire_reply, ctx,
                                5, 9, argv, lens, NULL);

        rc = ngx_http_vms_limit_wait(rc, &ctx->result);

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc != NGX_OK) {
            return ngx_http_vms_limit_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                            "internal", "internal error");
        }
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
            if (ngx_http_vms_limit_local_acquire(lmcf, ctx, session,
                    ngx_http_vms_limit_now_us(), ttl) != NGX_OK)
            {
                return ngx_http_vms_limit_streams_pass(r, llcf, ctx);
            }
            goto decided;
        }
    }

    /* Redis decided: mirror the admission on this node */
    if (ctx->handed_from.len) {
        (void) ngx_http_vms_limit_shm_lease(lmcf, NGX_HTTP_VMS_LIMIT_LEASE_FORGET,
                   &ctx->key, vms_lease_hash((const char *) ctx->handed_from.data,
                                             ctx->handed_from.len),
                   0, 0, 0, NULL);
    }

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
        ngx_http_vms_limit_redis_failed(r, status, reply, "stream release");
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

    /* a subrequest (an auth endpoint's: nginx-rtmp's play_done) is a GET */
    if (r == r->main && !(r->method & (NGX_HTTP_POST|NGX_HTTP_DELETE))) {
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

    return ngx_http_vms_limit_sent(r, lmcf, rc);
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


/* ---- a media server's reader, by its id -------------------------------- */

/*
 * `vms_limit_streams reader_renew | reader_release`: MediaMTX's runOnRead and
 * runOnUnread hooks know a reader by its id (MTX_READER_ID), the id its
 * `read` was admitted under (`vms_limit_streams_reader`).  Renewal answers
 * 200 {"renewed":true}, or 404 {"error":"no_lease"} when the reader holds no
 * live lease (expired, released, never admitted: the hook may stop); release
 * answers 200 {"released":true|false}.  The reader's key in Redis maps the id
 * to its user's lease set, so both need Redis: 503 while it is unreachable
 * (the lease then lapses after vms_limit_streams_ttl, as an idle one does).
 */
static void
ngx_http_vms_limit_reader_reply(ngx_vms_redis_status_e status,
    redisReply *reply, void *data)
{
    uint64_t                         session;
    ngx_str_t                        set;
    ngx_uint_t                       renew, done;
    ngx_connection_t                *c;
    ngx_http_request_t              *r = data;
    ngx_http_vms_limit_ctx_t        *ctx;
    ngx_http_vms_limit_loc_conf_t   *llcf;
    ngx_http_vms_limit_main_conf_t  *lmcf;
    static u_char  renewed[] = "{\"renewed\":true}\n";

    c = r->connection;
    lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_limit_module);
    llcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_limit_module);
    ctx = ngx_http_vms_limit_ctx(r, 0);
    renew = llcf->streams == NGX_HTTP_VMS_LIMIT_STREAMS_READER_RENEW;

    if (status != NGX_VMS_REDIS_OK || ctx == NULL
        || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_INTEGER
        || reply->element[1]->type != REDIS_REPLY_STRING)
    {
        ngx_http_vms_limit_redis_failed(r, status, reply,
                                        renew ? "reader lease renewal"
                                              : "reader lease release");
        (void) ngx_http_vms_limit_unavailable(r, lmcf);
        ngx_http_run_posted_requests(c);
        return;
    }

    done = reply->element[0]->integer == 1;
    set.data = (u_char *) reply->element[1]->str;
    set.len = reply->element[1]->len;
    session = vms_lease_hash((const char *) ctx->session.data,
                             ctx->session.len);

    /* the node's mirror follows Redis */
    if (set.len) {
        if (renew && done) {
            (void) ngx_http_vms_limit_shm_lease(lmcf,
                       NGX_HTTP_VMS_LIMIT_LEASE_RENEW, &set, session,
                       ngx_http_vms_limit_now_us(),
                       (int64_t) llcf->stream_ttl * 1000, 0, NULL);
        } else {
            (void) ngx_http_vms_limit_shm_lease(lmcf,
                       NGX_HTTP_VMS_LIMIT_LEASE_FORGET, &set, session,
                       0, 0, 0, NULL);
        }
    }

    if (renew) {
        if (done) {
            (void) ngx_atomic_fetch_add(
                       &ngx_http_vms_limit_counters(lmcf)->streams_renewed, 1);
            (void) ngx_http_vms_limit_send_json(r, NGX_HTTP_OK, renewed,
                                                sizeof(renewed) - 1);
        } else {
            (void) ngx_http_vms_limit_error(r, NGX_HTTP_NOT_FOUND, "no_lease",
                       "this reader holds no stream lease");
        }

    } else {
        if (done) {
            (void) ngx_atomic_fetch_add(
                       &ngx_http_vms_limit_counters(lmcf)->streams_released, 1);
        }
        (void) ngx_http_vms_limit_release_send(r, done);
    }

    ngx_http_run_posted_requests(c);
}


ngx_int_t
ngx_http_vms_limit_reader_handler(ngx_http_request_t *r)
{
    size_t                           n, lens[4];
    ngx_int_t                        rc;
    ngx_str_t                        id, rkey;
    const char                      *argv[4];
    u_char                           ttl_s[NGX_INT64_LEN];
    ngx_http_vms_limit_ctx_t        *ctx;
    ngx_http_vms_limit_loc_conf_t   *llcf;
    ngx_http_vms_limit_main_conf_t  *lmcf;
    ngx_str_t                        rprefix = ngx_string("vms:reader:");

    /* every answer below finalizes the request itself; the content phase
     * then finalizes with NGX_DONE, which drops this extra reference */
    r->main->count++;

    if (!(r->method & NGX_HTTP_POST)) {
        (void) ngx_http_vms_limit_error(r, NGX_HTTP_NOT_ALLOWED,
                                        "method_not_allowed", "use POST");
        return NGX_DONE;
    }

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_limit_module);
    llcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_limit_module);

    ctx = ngx_http_vms_limit_ctx(r, 1);
    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_DONE;
    }

    ngx_str_null(&id);
    if (llcf->stream_reader
        && ngx_http_complex_value(r, llcf->stream_reader, &id) != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_DONE;
    }

    /* the lease's session is the reader id in canonical form */
    ctx->session.data = ngx_pnalloc(r->pool, VMS_SESSION_ID_MAX + 1);
    if (ctx->session.data == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_DONE;
    }
    n = id.len ? vms_session_id((const char *) id.data, id.len,
                                (char *) ctx->session.data)
               : 0;
    ctx->session.len = n;

    if (n == 0) {
        (void) ngx_http_vms_limit_error(r, NGX_HTTP_BAD_REQUEST, "bad_reader",
                                        "a reader id is needed");
        return NGX_DONE;
    }

    if (!ngx_http_vms_limit_use_redis(lmcf, llcf)) {
        (void) ngx_http_vms_limit_unavailable(r, lmcf);
        return NGX_DONE;
    }

    if (ngx_http_vms_limit_key(r, &rprefix, &ctx->session, 0, &rkey)
        != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_DONE;
    }

    /* KEYS: reader; ARGV: reader id, renew|release, ttl */
    argv[0] = (const char *) rkey.data;
    lens[0] = rkey.len;
    argv[1] = (const char *) ctx->session.data;
    lens[1] = ctx->session.len;
    if (llcf->streams == NGX_HTTP_VMS_LIMIT_STREAMS_READER_RENEW) {
        argv[2] = "renew";
        lens[2] = sizeof("renew") - 1;
    } else {
        argv[2] = "release";
        lens[2] = sizeof("release") - 1;
    }
    argv[3] = (const char *) ttl_s;
    lens[3] = ngx_sprintf(ttl_s, "%L", (int64_t) llcf->stream_ttl * 1000)
              - ttl_s;

    rc = ngx_vms_redis_eval(lmcf->redis, r->pool, llcf->redis_timeout,
                            lmcf->reader_script,
                            ngx_http_vms_limit_reader_reply, r,
                            1, 4, argv, lens, NULL);

    return ngx_http_vms_limit_sent(r, lmcf, rc);
}
