/*
 * vms_limit rate step: GCRA per consumer key, in Redis (one EVAL, exact
 * across nodes) or in the shared zone (this node only); headers
 * RateLimit-Limit/-Remaining/-Reset on every answer, 429 + Retry-After when
 * refused, nothing refused in dry-run mode.
 */

#include "ngx_http_vms_limit.h"


static void
ngx_http_vms_limit_rate_reply(ngx_vms_redis_status_e status, redisReply *reply,
    void *data)
{
    ngx_http_vms_limit_ctx_t  *ctx = data;

    ctx->result = ngx_http_vms_limit_gcra_reply(ctx->request, status, reply,
                                                &ctx->rate, "rate check");
    ngx_http_vms_limit_resume(ctx->request);
}


static ngx_int_t
ngx_http_vms_limit_rate_local(ngx_http_request_t *r,
    ngx_http_vms_limit_main_conf_t *lmcf, ngx_http_vms_limit_loc_conf_t *llcf,
    ngx_http_vms_limit_ctx_t *ctx)
{
    if (ngx_http_vms_limit_shm_rate(lmcf, &ctx->key, &llcf->gcra,
                                    ngx_http_vms_limit_now_us(), 0, &ctx->rate)
        != NGX_OK)
    {
        /* zone full even after eviction: stated policy is to allow */
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "vms_limit: shared zone full, request allowed");
        return NGX_DECLINED;
    }

    ctx->result = NGX_HTTP_VMS_LIMIT_R_REPLY;
    return NGX_OK;
}


static ngx_int_t
ngx_http_vms_limit_rate_start(ngx_http_request_t *r,
    ngx_http_vms_limit_main_conf_t *lmcf, ngx_http_vms_limit_loc_conf_t *llcf,
    ngx_http_vms_limit_ctx_t *ctx)
{
    u_char                    *p;
    ngx_int_t                  rc;
    ngx_str_t                  value, prefix;
    ngx_uint_t                 i;
    ngx_http_complex_value_t  *cv;

    cv = llcf->rate_keys->elts;
    ngx_str_null(&value);

    for (i = 0; i < llcf->rate_keys->nelts; i++) {
        if (ngx_http_complex_value(r, &cv[i], &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        if (value.len) {
            break;
        }
    }

    if (value.len == 0) {
        /* every key empty: fall back to the client address */
        value = r->connection->addr_text;
    }

    /* "vms:rl:" scope ":" index ":" sha1 */
    prefix.data = ngx_pnalloc(r->pool, sizeof("vms:rl::") + NGX_INT_T_LEN
                                       + llcf->rate_scope.len + 1);
    if (prefix.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    p = ngx_sprintf(prefix.data, "vms:rl:%V:%ui:", &llcf->rate_scope, i);
    prefix.len = p - prefix.data;

    if (ngx_http_vms_limit_key(r, &prefix, &value, 1, &ctx->key) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!ngx_http_vms_limit_use_redis(lmcf, llcf)) {
        return ngx_http_vms_limit_rate_local(r, lmcf, llcf, ctx);
    }

    rc = ngx_http_vms_limit_gcra_eval(r, r->pool, &ctx->key, &llcf->gcra, 0,
                                      ngx_http_vms_limit_rate_reply, ctx);

    return ngx_http_vms_limit_wait(rc, &ctx->result);
}


/*
 * Returns NGX_DECLINED to go on to the next step, NGX_AGAIN while waiting
 * for Redis, NGX_DONE after sending a refusal, or an HTTP status.
 */
ngx_int_t
ngx_http_vms_limit_rate(ngx_http_request_t *r, ngx_http_vms_limit_ctx_t *ctx)
{
    size_t                           len;
    ngx_int_t                        rc;
    ngx_http_vms_limit_counters_t   *cnt;
    ngx_http_vms_limit_loc_conf_t   *llcf;
    ngx_http_vms_limit_main_conf_t  *lmcf;
    u_char                           body[256];

    /* a subrequest (an admit location's) is part of a main request that was
     * counted already: one client request costs one unit of its budget */
    if (r != r->main) {
        return NGX_DECLINED;
    }

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_limit_module);
    llcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_limit_module);
    cnt = ngx_http_vms_limit_counters(lmcf);

    if (ctx->result == NGX_HTTP_VMS_LIMIT_R_NONE) {
        rc = ngx_http_vms_limit_rate_start(r, lmcf, llcf, ctx);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    if (ctx->result == NGX_HTTP_VMS_LIMIT_R_UNAVAILABLE) {
        switch (llcf->on_error) {

        case NGX_HTTP_VMS_LIMIT_POLICY_OPEN:
            (void) ngx_atomic_fetch_add(&cnt->fallback_open, 1);
            return NGX_DECLINED;

        case NGX_HTTP_VMS_LIMIT_POLICY_CLOSED:
            return ngx_http_vms_limit_unavailable(r, lmcf);

        default:
            (void) ngx_atomic_fetch_add(&cnt->fallback_local, 1);
            if (ngx_http_vms_limit_rate_local(r, lmcf, llcf, ctx) != NGX_OK) {
                return NGX_DECLINED;
            }
        }
    }

    if (ngx_http_vms_limit_set_header(r, "RateLimit-Limit", llcf->gcra.limit)
           != NGX_OK
        || ngx_http_vms_limit_set_header(r, "RateLimit-Remaining",
                                         ctx->rate.remaining) != NGX_OK
        || ngx_http_vms_limit_set_header(r, "RateLimit-Reset",
                             vms_gcra_seconds(ctx->rate.reset_us, 0)) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->rate.allowed) {
        (void) ngx_atomic_fetch_add(&cnt->rate_allowed, 1);
        return NGX_DECLINED;
    }

    if (llcf->dry_run) {
        (void) ngx_atomic_fetch_add(&cnt->rate_dry_run, 1);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "vms_limit: rate limit of scope \"%V\" exceeded "
                      "(dry run, allowed)", &llcf->rate_scope);
        return NGX_DECLINED;
    }

    (void) ngx_atomic_fetch_add(&cnt->rate_rejected, 1);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "vms_limit: rate limit of scope \"%V\" exceeded",
                  &llcf->rate_scope);

    if (ngx_http_vms_limit_set_header(r, "Retry-After",
                            vms_gcra_seconds(ctx->rate.retry_after_us, 1))
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_snprintf(body, sizeof(body),
                       "{\"error\":\"rate_limited\","
                       "\"message\":\"Limite de %L requisi\xc3\xa7\xc3\xb5""es "
                       "atingido\",\"limit\":%L,\"retry_after\":%L}\n",
                       llcf->gcra.limit, llcf->gcra.limit,
                       vms_gcra_seconds(ctx->rate.retry_after_us, 1))
          - body;

    return ngx_http_vms_limit_send_json(r, NGX_HTTP_TOO_MANY_REQUESTS, body, len);
}
