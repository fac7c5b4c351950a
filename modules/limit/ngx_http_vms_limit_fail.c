/*
 * vms_limit failed-auth budget (vms_limit_fail_rate): per client, a GCRA
 * budget of answers 401/403.  It is looked at ("peek", nothing stored) in
 * the preaccess phase, before vms_auth verifies anything, and charged from
 * the log phase when the answer was 401 or 403.  A client over the budget
 * gets 429 whatever it sends, so a correct guess is refused like a wrong
 * one: guessing tokens costs one period per `COUNT` tries.  Successful
 * requests cost nothing here (they go through vms_limit_rate).
 *
 * Redis key "vms:fail:" + SHA-1(key value); the zone holds a mirror of every
 * charge, used under policy `local` while Redis is unreachable.
 */

#include "ngx_http_vms_limit.h"


static ngx_str_t  ngx_http_vms_limit_fail_prefix = ngx_string("vms:fail:");


static void
ngx_http_vms_limit_fail_reply(ngx_vms_redis_status_e status,
    redisReply *reply, void *data)
{
    ngx_http_vms_limit_ctx_t  *ctx = data;

    ctx->fail_result = ngx_http_vms_limit_gcra_reply(ctx->request, status,
                           reply, &ctx->fail, "failed-auth budget check");
    ngx_http_vms_limit_resume(ctx->request);
}


static ngx_int_t
ngx_http_vms_limit_fail_local(ngx_http_request_t *r,
    ngx_http_vms_limit_main_conf_t *lmcf, ngx_http_vms_limit_ctx_t *ctx)
{
    if (ngx_http_vms_limit_shm_rate(lmcf, &ctx->fail_key, ctx->fail_gcra,
                                    ngx_http_vms_limit_now_us(), 1, &ctx->fail)
        != NGX_OK)
    {
        /* zone full even after eviction: stated policy is to allow */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "vms_limit: shared zone full, request allowed");
        ctx->fail.allowed = 1;
    }

    ctx->fail_result = NGX_HTTP_VMS_LIMIT_R_REPLY;
    return NGX_OK;
}


static ngx_int_t
ngx_http_vms_limit_fail_start(ngx_http_request_t *r,
    ngx_http_vms_limit_main_conf_t *lmcf, ngx_http_vms_limit_loc_conf_t *llcf,
    ngx_http_vms_limit_ctx_t *ctx)
{
    ngx_int_t   rc;
    ngx_str_t   value;

    if (ngx_http_complex_value(r, llcf->fail_key, &value) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (value.len == 0) {
        /* an empty key exempts the client (e.g. a trusted MediaMTX) */
        ctx->fail_result = NGX_HTTP_VMS_LIMIT_R_PASSED;
        return NGX_OK;
    }

    if (ngx_http_vms_limit_key(r, &ngx_http_vms_limit_fail_prefix, &value, 1,
                               &ctx->fail_key)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->fail_gcra = &llcf->fail_gcra;

    if (!ngx_http_vms_limit_use_redis(lmcf, llcf)) {
        return ngx_http_vms_limit_fail_local(r, lmcf, ctx);
    }

    rc = ngx_http_vms_limit_gcra_eval(r, r->pool, &ctx->fail_key,
                                      ctx->fail_gcra, 1,
                                      ngx_http_vms_limit_fail_reply, ctx);

    return ngx_http_vms_limit_wait(rc, &ctx->fail_result);
}


/* Preaccess handler: NGX_DECLINED to go on, NGX_AGAIN while Redis answers,
 * NGX_DONE after sending 429/503, or an HTTP status. */
ngx_int_t
ngx_http_vms_limit_fail_check(ngx_http_request_t *r)
{
    size_t                           len;
    int64_t                          limit, retry;
    ngx_int_t                        rc;
    ngx_http_vms_limit_ctx_t        *ctx;
    ngx_http_vms_limit_counters_t   *cnt;
    ngx_http_vms_limit_loc_conf_t   *llcf;
    ngx_http_vms_limit_main_conf_t  *lmcf;
    u_char                           body[256];

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_limit_module);

    if (!llcf->fail_on || r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_vms_limit_ctx(r, 0);

    if (ctx == NULL) {
        if (r->internal) {
            /* an error_page or try_files redirect of a request that was
             * never checked (answered before this phase): nothing to guess */
            return NGX_DECLINED;
        }

        ctx = ngx_http_vms_limit_ctx(r, 1);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_limit_module);
    cnt = ngx_http_vms_limit_counters(lmcf);

    switch (ctx->fail_result) {

    case NGX_HTTP_VMS_LIMIT_R_PASSED:
        return NGX_DECLINED;

    case NGX_HTTP_VMS_LIMIT_R_WAITING:
        return NGX_AGAIN;

    case NGX_HTTP_VMS_LIMIT_R_NONE:
        rc = ngx_http_vms_limit_fail_start(r, lmcf, llcf, ctx);
        if (rc != NGX_OK) {
            return rc;
        }
        break;
    }

    if (ctx->fail_result == NGX_HTTP_VMS_LIMIT_R_UNAVAILABLE) {
        switch (llcf->on_error) {

        case NGX_HTTP_VMS_LIMIT_POLICY_OPEN:
            (void) ngx_atomic_fetch_add(&cnt->fallback_open, 1);
            ctx->fail_result = NGX_HTTP_VMS_LIMIT_R_PASSED;
            return NGX_DECLINED;

        case NGX_HTTP_VMS_LIMIT_POLICY_CLOSED:
            return ngx_http_vms_limit_unavailable(r, lmcf);

        default:
            (void) ngx_atomic_fetch_add(&cnt->fallback_local, 1);
            (void) ngx_http_vms_limit_fail_local(r, lmcf, ctx);
        }
    }

    if (ctx->fail_result != NGX_HTTP_VMS_LIMIT_R_REPLY || ctx->fail.allowed) {
        ctx->fail_result = NGX_HTTP_VMS_LIMIT_R_PASSED;
        return NGX_DECLINED;
    }

    ctx->fail_result = NGX_HTTP_VMS_LIMIT_R_PASSED;

    if (llcf->dry_run) {
        (void) ngx_atomic_fetch_add(&cnt->rate_dry_run, 1);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "vms_limit: failed-auth budget exceeded "
                      "(dry run, allowed)");
        return NGX_DECLINED;
    }

    (void) ngx_atomic_fetch_add(&cnt->fail_rejected, 1);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "vms_limit: failed-auth budget exceeded");

    limit = ctx->fail_gcra->limit;
    retry = vms_gcra_seconds(ctx->fail.retry_after_us, 1);

    if (ngx_http_vms_limit_set_header(r, "RateLimit-Limit", limit) != NGX_OK
        || ngx_http_vms_limit_set_header(r, "RateLimit-Remaining", 0)
           != NGX_OK
        || ngx_http_vms_limit_set_header(r, "RateLimit-Reset",
                             vms_gcra_seconds(ctx->fail.reset_us, 1)) != NGX_OK
        || ngx_http_vms_limit_set_header(r, "Retry-After", retry) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_snprintf(body, sizeof(body),
                       "{\"error\":\"rate_limited\","
                       "\"message\":\"Limite de %L tentativas sem "
                       "autentica\xc3\xa7\xc3\xa3o atingido\","
                       "\"scope\":\"auth_failures\",\"limit\":%L,"
                       "\"retry_after\":%L}\n",
                       limit, limit, retry)
          - body;

    return ngx_http_vms_limit_send_json(r, NGX_HTTP_TOO_MANY_REQUESTS, body, len);
}


/* Log handler: a 401/403 answer of a checked request costs one unit. */
ngx_int_t
ngx_http_vms_limit_fail_charge(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    vms_gcra_result_t                res;
    ngx_http_vms_limit_ctx_t        *ctx;
    ngx_http_vms_limit_loc_conf_t   *llcf;
    ngx_http_vms_limit_main_conf_t  *lmcf;

    if (r != r->main
        || (r->headers_out.status != NGX_HTTP_UNAUTHORIZED
            && r->headers_out.status != NGX_HTTP_FORBIDDEN))
    {
        return NGX_OK;
    }

    ctx = ngx_http_vms_limit_ctx(r, 0);
    if (ctx == NULL || ctx->fail_key.len == 0) {
        return NGX_OK;
    }

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_limit_module);
    llcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_limit_module);

    (void) ngx_atomic_fetch_add(&ngx_http_vms_limit_counters(lmcf)->fail_charged,
                                1);

    /* the zone mirrors every charge: it decides under policy `local` */
    if (ngx_http_vms_limit_shm_rate(lmcf, &ctx->fail_key, ctx->fail_gcra,
                                    ngx_http_vms_limit_now_us(), 0, &res)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "vms_limit: shared zone full, failed-auth answer "
                      "not counted locally");
    }

    if (!ngx_http_vms_limit_use_redis(lmcf, llcf)) {
        return NGX_OK;
    }

    /* fire-and-forget: the answer is already decided */
    rc = ngx_http_vms_limit_gcra_eval(r, NULL, &ctx->fail_key, ctx->fail_gcra,
                                      0, NULL, NULL);

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "vms_limit: failed-auth answer not counted in Redis "
                      "(unavailable)");
    }

    return NGX_OK;
}
