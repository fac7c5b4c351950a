/*
 * POST /api/auth/stream-token: a caller with view_stream on camera X gets a token scoped to X,
 *   signed with vms_auth_signing_key, valid vms_auth_stream_token_ttl (1 h), with a fresh jti.
 *   Body: {"camera_id":"X"}.  Stream tokens cannot mint further stream tokens.
 * POST /api/auth/revoke: body {"token":"..."} (the caller's own token, or anyone's with
 *   manage_config) or {"jti":"...","exp":N} (manage_config).  SET vms:revoked:{jti} EX until exp.
 */
#include <openssl/rand.h>

#include "ngx_http_vms_auth_module.h"

#define VMS_REVOKED_PREFIX "vms:revoked:"
#define VMS_STREAM_TOKEN_USE "stream"

static json_t *
ngx_http_vms_auth_body_json(ngx_http_request_t *r, ngx_str_t *body, ngx_int_t *rc)
{
    json_error_t err;
    json_t *j = json_loadb((char *) body->data, body->len, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(j)) {
        json_decref(j);
        *rc = ngx_http_vms_auth_send_error(r, NGX_HTTP_BAD_REQUEST, "request body is not a JSON object");
        return NULL;
    }
    return j;
}

static void
ngx_http_vms_auth_rfc3339(time_t t, char *out, size_t len)
{
    ngx_tm_t tm;
    ngx_gmtime(t, &tm);
    ngx_snprintf((u_char *) out, len, "%4d-%02d-%02dT%02d:%02d:%02dZ%Z", tm.ngx_tm_year, tm.ngx_tm_mon,
                 tm.ngx_tm_mday, tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);
}

ngx_int_t
ngx_http_vms_auth_stream_token(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx, ngx_str_t *body)
{
    ngx_http_vms_auth_main_conf_t *amcf = ngx_http_get_module_main_conf(r, ngx_http_vms_auth_module);
    ngx_http_vms_auth_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_auth_module);
    ngx_int_t rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    json_t *payload = NULL, *resp = NULL;
    char *tok = NULL;

    if (amcf->sign_secret == NULL) {
        return ngx_http_vms_auth_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "stream tokens are not configured (vms_auth_signing_key)");
    }
    json_t *req = ngx_http_vms_auth_body_json(r, body, &rc);
    if (req == NULL) {
        return rc;
    }
    const char *camera = json_string_value(json_object_get(req, "camera_id"));
    if (camera == NULL || !vms_camera_id_valid(camera, ngx_strlen(camera))) {
        rc = ngx_http_vms_auth_send_error(r, NGX_HTTP_BAD_REQUEST,
                                          "camera_id must be [A-Za-z0-9_-]{1,64}");
        goto done;
    }
    const char *use = json_string_value(json_object_get(ctx->claims.payload, "token_use"));
    if (use && ngx_strcmp(use, VMS_STREAM_TOKEN_USE) == 0) {
        rc = ngx_http_vms_auth_send_error(r, NGX_HTTP_FORBIDDEN, "stream tokens cannot mint tokens");
        goto done;
    }
    if (!vms_claims_allows(&ctx->claims, VMS_PERM_VIEW_STREAM, camera, NULL)) {
        rc = ngx_http_vms_auth_send_error(r, NGX_HTTP_FORBIDDEN,
                                          "token does not grant this permission on this camera");
        goto done;
    }
    u_char rnd[16];
    char jti[33];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        goto done;
    }
    ngx_hex_dump((u_char *) jti, rnd, sizeof(rnd))[0] = '\0';
    time_t now = ngx_time(), exp = now + lcf->stream_token_ttl;
    if (ctx->claims.exp > 0 && (time_t) ctx->claims.exp < exp) {
        exp = (time_t) ctx->claims.exp;   /* never outlive the token it came from */
    }
    json_t *perms = json_pack("[s]", "view_stream");
    if (perms && vms_claims_allows(&ctx->claims, VMS_PERM_PLAYBACK, camera, NULL)) {
        json_array_append_new(perms, json_string("playback"));
    }
    payload = json_pack("{s:s, s:o, s:s, s:I, s:I, s:I, s:s}",
                        "camera_id", camera, "permissions", perms, "jti", jti,
                        "iat", (json_int_t) now, "nbf", (json_int_t) now, "exp", (json_int_t) exp,
                        "token_use", VMS_STREAM_TOKEN_USE);
    if (payload == NULL) {
        goto done;
    }
    if (ctx->claims.sub) {
        json_object_set_new(payload, "sub", json_string(ctx->claims.sub));
    }
    if (ctx->claims.tenant) {
        json_object_set_new(payload, "tenant_id", json_string(ctx->claims.tenant));
    }
    /* the stream counts against the same plan as its user (vms_limit) */
    if (ctx->claims.plan) {
        json_object_set_new(payload, "plan", json_string(ctx->claims.plan));
    }
    json_t *max = json_object_get(ctx->claims.payload, "max_concurrent_streams");
    if (json_is_integer(max)) {
        json_object_set_new(payload, "max_concurrent_streams", json_integer(json_integer_value(max)));
    }
    if (amcf->issuer) {
        json_object_set_new(payload, "iss", json_string(amcf->issuer));
    }
    if (amcf->audience) {
        json_object_set_new(payload, "aud", json_string(amcf->audience));
    }
    tok = vms_jwt_sign_hs(amcf->sign_secret, amcf->sign_secret_len, amcf->sign_alg, amcf->sign_kid,
                          payload);
    if (tok == NULL) {
        goto done;
    }
    char expires_at[32];
    ngx_http_vms_auth_rfc3339(exp, expires_at, sizeof(expires_at));
    resp = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "token", tok, "token_type", "Bearer",
                     "expires_in", (json_int_t) (exp - now), "expires_at", expires_at,
                     "camera_id", camera, "jti", jti);
    if (resp) {
        ctx->ep_status = NGX_HTTP_OK;
        rc = ngx_http_vms_auth_send_json(r, NGX_HTTP_OK, resp);
    }
done:
    free(tok);
    json_decref(resp);
    json_decref(payload);
    json_decref(req);
    return rc;
}

typedef struct {
    ngx_http_request_t  *r;
    char                 jti[129];
    time_t               exp;
    time_t               ttl;
} ngx_http_vms_auth_revoke_t;

static void
ngx_http_vms_auth_revoke_reply(ngx_vms_redis_status_e status, redisReply *reply, void *data)
{
    ngx_http_vms_auth_revoke_t *rv = data;
    ngx_http_request_t *r = rv->r;
    ngx_http_vms_auth_main_conf_t *amcf = ngx_http_get_module_main_conf(r, ngx_http_vms_auth_module);
    ngx_http_vms_auth_ctx_t *ctx = ngx_http_get_module_ctx(r, ngx_http_vms_auth_module);
    ngx_connection_t *c = r->connection;
    ngx_int_t rc;

    if (status == NGX_VMS_REDIS_OK) {
        if (amcf->cache_zone) {
            ngx_http_vms_auth_cache_jti_put(amcf->cache_zone, rv->jti, 1, rv->exp + amcf->leeway);
        }
        json_t *j = json_pack("{s:b, s:s, s:I}", "revoked", 1, "jti", rv->jti, "ttl", (json_int_t) rv->ttl);
        ctx->ep_status = NGX_HTTP_OK;
        rc = j ? ngx_http_vms_auth_send_json(r, NGX_HTTP_OK, j) : NGX_HTTP_INTERNAL_SERVER_ERROR;
        json_decref(j);
    } else {
        ngx_log_error(NGX_LOG_ERR, c->log, 0, "vms_auth: revocation not stored: redis %s",
                      status == NGX_VMS_REDIS_TIMEOUT ? "timed out" : "failed");
        rc = ngx_http_vms_auth_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE, "revocation store unavailable");
    }
    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}

ngx_int_t
ngx_http_vms_auth_revoke(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx, ngx_str_t *body)
{
    ngx_http_vms_auth_main_conf_t *amcf = ngx_http_get_module_main_conf(r, ngx_http_vms_auth_module);
    ngx_int_t rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    int admin = vms_claims_allows(&ctx->claims, VMS_PERM_MANAGE_CONFIG, NULL, NULL);
    vms_claims_t target;
    int have_target = 0;
    const char *why;
    ngx_http_vms_auth_revoke_t *rv = ngx_pcalloc(r->pool, sizeof(*rv));

    if (rv == NULL) {
        return rc;
    }
    if (amcf->redis == NULL) {
        return ngx_http_vms_auth_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                            "revocation is not configured (vms_auth_redis)");
    }
    json_t *req = ngx_http_vms_auth_body_json(r, body, &rc);
    if (req == NULL) {
        return rc;
    }
    const char *token = json_string_value(json_object_get(req, "token"));
    const char *jti = json_string_value(json_object_get(req, "jti"));
    if (token) {
        vms_jwt_t jwt;
        size_t tl = ngx_strlen(token);
        if (vms_jwt_verify(amcf->keys, token, tl, &jwt, &why) != 0
            || vms_claims_parse(&target, jwt.payload, &why) != 0) {
            if (jwt.payload) {
                vms_claims_free(&target);
            }
            rc = ngx_http_vms_auth_send_error(r, NGX_HTTP_BAD_REQUEST, "token to revoke is not valid");
            goto done;
        }
        have_target = 1;
        if (!target.has_exp) {
            /* a MediaMTX token without exp (vms_auth_exp optional): no natural end for the entry */
            rc = ngx_http_vms_auth_send_error(r, NGX_HTTP_BAD_REQUEST,
                                              "token to revoke has no exp: revoke its jti with an exp");
            goto done;
        }
        if (target.jti == NULL) {
            rc = ngx_http_vms_auth_send_error(r, NGX_HTTP_BAD_REQUEST, "token to revoke has no jti");
            goto done;
        }
        int own = target.sub && ctx->claims.sub && ngx_strcmp(target.sub, ctx->claims.sub) == 0;
        if (!own && !admin) {
            rc = ngx_http_vms_auth_send_error(r, NGX_HTTP_FORBIDDEN,
                                              "only its owner or manage_config may revoke a token");
            goto done;
        }
        ngx_cpystrn((u_char *) rv->jti, (u_char *) target.jti, sizeof(rv->jti));
        rv->exp = target.exp;
    } else if (jti) {
        json_t *exp = json_object_get(req, "exp");
        if (!admin) {
            rc = ngx_http_vms_auth_send_error(r, NGX_HTTP_FORBIDDEN, "revoking by jti needs manage_config");
            goto done;
        }
        /* exp bounded like a token's own exp claim (vms_claims: 0 <= exp < 1e13): a larger one
         * would overflow Redis's expire time and be answered 503 as if Redis were down */
        if (ngx_strlen(jti) == 0 || ngx_strlen(jti) > 128 || !json_is_integer(exp)
            || json_integer_value(exp) < 0 || json_integer_value(exp) >= 10000000000000LL) {
            rc = ngx_http_vms_auth_send_error(r, NGX_HTTP_BAD_REQUEST,
                                              "jti must be 1..128 bytes and exp a NumericDate (integer, 0 <= exp < 1e13)");
            goto done;
        }
        ngx_cpystrn((u_char *) rv->jti, (u_char *) jti, sizeof(rv->jti));
        rv->exp = (time_t) json_integer_value(exp);
    } else {
        rc = ngx_http_vms_auth_send_error(r, NGX_HTTP_BAD_REQUEST, "body needs \"token\" or \"jti\"");
        goto done;
    }
    rv->r = r;
    rv->ttl = rv->exp + amcf->leeway - ngx_time();
    if (rv->ttl <= 0) {
        json_t *j = json_pack("{s:b, s:s, s:s}", "revoked", 0, "jti", rv->jti, "reason", "already expired");
        ctx->ep_status = NGX_HTTP_OK;
        rc = j ? ngx_http_vms_auth_send_json(r, NGX_HTTP_OK, j) : rc;
        json_decref(j);
        goto done;
    }
    u_char key[sizeof(VMS_REVOKED_PREFIX) + 128], ttl[NGX_TIME_T_LEN + 1];
    size_t kl = ngx_snprintf(key, sizeof(key), VMS_REVOKED_PREFIX "%s", rv->jti) - key;
    size_t ttll = ngx_snprintf(ttl, sizeof(ttl), "%T", rv->ttl) - ttl;
    const char *argv[5] = { "SET", (char *) key, "1", "EX", (char *) ttl };
    size_t argvlen[5] = { 3, kl, 1, 2, ttll };
    rc = ngx_vms_redis_call(amcf->redis, r->pool, amcf->redis_timeout, ngx_http_vms_auth_revoke_reply, rv,
                            5, argv, argvlen, NULL);
    if (rc == NGX_OK) {
        rc = NGX_AGAIN;
    } else if (rc == NGX_DECLINED) {
        rc = ngx_http_vms_auth_send_error(r, NGX_HTTP_SERVICE_UNAVAILABLE, "revocation store unavailable");
    } else {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
done:
    if (have_target) {
        vms_claims_free(&target);
    }
    json_decref(req);
    return rc;
}
