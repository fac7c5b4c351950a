/*
 * Revocation check: is the token's jti in Redis (vms:revoked:{jti})?
 *
 * Order: the shared zone's per-jti state (revoked until exp, or clean for vms_auth_revocation_cache
 * seconds), then an asynchronous EXISTS through ngx_vms_redis with vms_auth_redis_timeout.
 * Policy when Redis cannot answer (down, backoff, timeout): vms_auth_redis_fail_open on (default)
 * lets the token through and logs (rate-limited); off answers 503.  Revocations made through this
 * node are in the zone at once, so they hold here even while Redis is down.
 */
#include "ngx_http_vms_auth_module.h"

#define VMS_REVOKED_PREFIX "vms:revoked:"

static void
ngx_http_vms_auth_revoked_reply(ngx_vms_redis_status_e status, redisReply *reply, void *data)
{
    ngx_http_request_t *r = data;
    ngx_http_vms_auth_main_conf_t *amcf = ngx_http_get_module_main_conf(r, ngx_http_vms_auth_module);
    ngx_http_vms_auth_ctx_t *ctx = ngx_http_get_module_ctx(r, ngx_http_vms_auth_module);
    ngx_connection_t *c = r->connection;
    time_t now = ngx_time();

    ctx->call = NULL;
    ctx->revocation = 2;
    if (status == NGX_VMS_REDIS_OK && reply->type == REDIS_REPLY_INTEGER) {
        if (reply->integer > 0) {
            ctx->state = 2;
            ctx->status = NGX_HTTP_UNAUTHORIZED;
            ctx->why = "token revoked";
            ngx_http_vms_auth_log_reject(r, ctx->why);
            if (amcf->cache_zone) {
                ngx_http_vms_auth_cache_jti_put(amcf->cache_zone, ctx->claims.jti, 1,
                                                ctx->claims.exp + amcf->leeway);
            }
        } else if (amcf->cache_zone && amcf->revocation_cache > 0) {
            time_t until = ngx_min(now + amcf->revocation_cache, ctx->claims.exp + amcf->leeway);
            ngx_http_vms_auth_cache_jti_put(amcf->cache_zone, ctx->claims.jti, 0, until);
        }
    } else if (!amcf->redis_fail_open) {
        ctx->state = 2;
        ctx->status = NGX_HTTP_SERVICE_UNAVAILABLE;
        ctx->why = "revocation check unavailable";
        ngx_http_vms_auth_log_reject(r, "revocation check failed; denying (vms_auth_redis_fail_open off)");
    } else {
        ngx_http_vms_auth_log_reject(r, "revocation check failed; allowing (vms_auth_redis_fail_open on)");
    }
    ctx->resume(r);
    ngx_http_run_posted_requests(c);
}

ngx_int_t
ngx_http_vms_auth_check_revoked(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx)
{
    ngx_http_vms_auth_main_conf_t *amcf = ngx_http_get_module_main_conf(r, ngx_http_vms_auth_module);
    const char *jti = ctx->claims.jti;

    ctx->revocation = 2;
    if (jti == NULL) {
        return NGX_OK;      /* a token without jti cannot be revoked; it lives until exp */
    }
    if (amcf->cache_zone) {
        ngx_int_t s = ctx->jti_hash
                      ? ngx_http_vms_auth_cache_jti_get_hash(amcf->cache_zone, ctx->jti_hash, ngx_time())
                      : ngx_http_vms_auth_cache_jti_get(amcf->cache_zone, jti, ngx_time());
        if (s == 1) {
            ctx->why = "token revoked";
            ngx_http_vms_auth_log_reject(r, ctx->why);
            return NGX_HTTP_UNAUTHORIZED;
        }
        if (s == 0) {
            return NGX_OK;
        }
    }
    if (amcf->redis == NULL) {
        return NGX_OK;
    }
    size_t jl = ngx_strlen(jti);
    u_char *key = ngx_pnalloc(r->pool, sizeof(VMS_REVOKED_PREFIX) - 1 + jl);
    if (key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_memcpy(ngx_cpymem(key, VMS_REVOKED_PREFIX, sizeof(VMS_REVOKED_PREFIX) - 1), jti, jl);
    const char *argv[2] = { "EXISTS", (char *) key };
    size_t argvlen[2] = { 6, sizeof(VMS_REVOKED_PREFIX) - 1 + jl };
    ngx_int_t rc = ngx_vms_redis_call(amcf->redis, r->pool, amcf->redis_timeout,
                                      ngx_http_vms_auth_revoked_reply, r, 2, argv, argvlen, &ctx->call);
    if (rc == NGX_OK) {
        ctx->revocation = 1;
        return NGX_AGAIN;
    }
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (amcf->redis_fail_open) {
        ngx_http_vms_auth_log_reject(r, "redis unavailable for the revocation check; allowing "
                                        "(vms_auth_redis_fail_open on)");
        return NGX_OK;
    }
    ctx->why = "revocation check unavailable";
    return NGX_HTTP_SERVICE_UNAVAILABLE;
}
