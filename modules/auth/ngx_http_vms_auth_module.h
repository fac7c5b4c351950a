/*
 * vms_auth internals shared by the module's files.  The nginx-free logic lives in core/.
 */
#ifndef NGX_HTTP_VMS_AUTH_MODULE_H
#define NGX_HTTP_VMS_AUTH_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "vms_jwt.h"
#include "vms_claims.h"
#include "vms_authreq.h"
#include "ngx_vms_redis.h"
#include "ngx_vms_kafka.h"

#define NGX_HTTP_VMS_AUTH_HASH_LEN 32

enum {
    NGX_HTTP_VMS_AUTH_SRC_HEADER = 1,
    NGX_HTTP_VMS_AUTH_SRC_QUERY,
    NGX_HTTP_VMS_AUTH_SRC_COOKIE,
};

enum {
    NGX_HTTP_VMS_AUTH_EP_NONE = 0,
    NGX_HTTP_VMS_AUTH_EP_MEDIAMTX,
    NGX_HTTP_VMS_AUTH_EP_RTMP,
    NGX_HTTP_VMS_AUTH_EP_STREAM_TOKEN,
    NGX_HTTP_VMS_AUTH_EP_REVOKE,
    NGX_HTTP_VMS_AUTH_EP_WHOAMI,
};

/* vms_auth_failure: how the access phase answers a refusal */
enum { NGX_HTTP_VMS_AUTH_FAILURE_VMS = 0, NGX_HTTP_VMS_AUTH_FAILURE_MEDIAMTX };
/* vms_auth_exp */
enum { NGX_HTTP_VMS_AUTH_EXP_REQUIRED = 0, NGX_HTTP_VMS_AUTH_EXP_OPTIONAL };

typedef struct {
    ngx_uint_t   type;
    ngx_str_t    name;        /* query argument or cookie name */
} ngx_http_vms_auth_source_t;

typedef struct {
    unsigned                   perm;
    ngx_http_complex_value_t  *camera;   /* NULL: no camera involved */
    ngx_http_complex_value_t  *path;     /* path=: the MediaMTX path the camera comes from, or NULL */
    ngx_flag_t                 list;     /* `list`: CAMERA is a comma-separated list, each required */
} ngx_http_vms_auth_require_t;

#define NGX_HTTP_VMS_AUTH_LIST_MAX  64   /* cameras in one `list` value */

typedef struct {
    vms_jwt_keyset_t          *keys;
    u_char                     keys_fp[32];     /* mixed into cache keys: new keys, new entries */
    unsigned char             *sign_secret;
    size_t                     sign_secret_len;
    unsigned                   sign_alg;
    char                      *sign_kid;
    char                      *issuer;          /* NUL-terminated or NULL */
    char                      *audience;
    time_t                     leeway;
    ngx_shm_zone_t            *cache_zone;
    ngx_vms_redis_t           *redis;
    ngx_msec_t                 redis_timeout;
    ngx_flag_t                 redis_fail_open;
    time_t                     revocation_cache;
    ngx_vms_kafka_t           *kafka;
    ngx_str_t                  audit_topic;
    ngx_str_t                  audit_file;
    ngx_uint_t                 log_rate;
} ngx_http_vms_auth_main_conf_t;

typedef struct {
    ngx_flag_t                 enable;
    ngx_array_t               *sources;         /* ngx_http_vms_auth_source_t */
    ngx_array_t               *requires;        /* ngx_http_vms_auth_require_t */
    ngx_http_complex_value_t  *tenant;
    ngx_uint_t                 endpoint;
    ngx_flag_t                 audit;
    time_t                     stream_token_ttl;
    size_t                     max_token_size;
    ngx_str_t                  stream_admit;    /* vms_limit admit location; empty = off */
    ngx_str_t                  stream_release;  /* vms_limit release location; empty = off */
    ngx_uint_t                 failure;         /* NGX_HTTP_VMS_AUTH_FAILURE_* */
    ngx_uint_t                 exp;             /* NGX_HTTP_VMS_AUTH_EXP_* */
} ngx_http_vms_auth_loc_conf_t;

typedef void (*ngx_http_vms_auth_resume_pt)(ngx_http_request_t *r);

typedef struct ngx_http_vms_auth_l1_s ngx_http_vms_auth_l1_t;

typedef struct {
    ngx_uint_t                 state;           /* 0 not tried, 1 ok, 2 failed */
    ngx_int_t                  status;          /* 401 / 413 / 503 on failure */
    const char                *why;             /* client-safe reason */
    vms_claims_t               claims;
    ngx_uint_t                 has_claims;
    ngx_http_vms_auth_l1_t    *l1;              /* claims borrowed from the worker's cache */
    const u_char              *jti_hash;        /* its hash of claims.jti, or NULL */
    ngx_uint_t                 l1_slot;         /* the token's slot there (set by the lookup) */
    u_char                     hash[NGX_HTTP_VMS_AUTH_HASH_LEN];
    /* revocation check */
    ngx_uint_t                 revocation;      /* 0 not checked, 1 waiting, 2 done */
    ngx_http_vms_auth_resume_pt resume;
    ngx_vms_redis_call_t      *call;
    /* endpoints */
    ngx_int_t                  ep_status;
    ngx_str_t                  ep_user;         /* user for audit records of endpoints */
    /* stream lease (vms_auth_stream_admit) */
    ngx_uint_t                 admit;           /* 0 not asked, 1 waiting, 2 answered */
    ngx_int_t                  admit_status;    /* the admit location's status */
    ngx_str_t                  admit_body;      /* its body (the 429 JSON) */
    ngx_str_t                  admit_retry;     /* its Retry-After */
    /* an established session's token (nginx-rtmp update/done): time checks as when it began */
    time_t                     session_age;
    /* the request's token as found (header, argument or cookie): $vms_auth_token once verified */
    ngx_str_t                  token;
} ngx_http_vms_auth_ctx_t;

extern ngx_module_t ngx_http_vms_auth_module;

/* conf (ngx_http_vms_auth_conf.c) */
char *ngx_http_vms_auth_conf_secret(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_vms_auth_conf_public_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_vms_auth_conf_jwks(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_vms_auth_conf_signing_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_vms_auth_conf_sources(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_vms_auth_conf_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_vms_auth_conf_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_vms_auth_conf_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_vms_auth_conf_kafka(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_vms_auth_conf_cstr(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);

/* verification (ngx_http_vms_auth_verify.c) */
ngx_http_vms_auth_ctx_t *ngx_http_vms_auth_get_ctx(ngx_http_request_t *r);
ngx_int_t ngx_http_vms_auth_find_token(ngx_http_request_t *r, ngx_str_t *token);
/* Verifies token into ctx (cached); NGX_OK or an HTTP status with ctx->why. */
ngx_int_t ngx_http_vms_auth_verify_token(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx,
    ngx_str_t *token);
/* Authenticates the request from the configured token sources (once per request). */
ngx_int_t ngx_http_vms_auth_authenticate(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx);
void ngx_http_vms_auth_log_reject(ngx_http_request_t *r, const char *why);
ngx_int_t ngx_http_vms_auth_send_error(ngx_http_request_t *r, ngx_int_t status, const char *why);
ngx_int_t ngx_http_vms_auth_send_json(ngx_http_request_t *r, ngx_int_t status, json_t *body);
ngx_int_t ngx_http_vms_auth_add_variables(ngx_conf_t *cf);

/* shared-memory cache (ngx_http_vms_auth_cache.c) */
char *ngx_http_vms_auth_conf_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
/* Copies the cached payload (base64url) into the pool; NGX_OK hit, NGX_DECLINED miss. */
ngx_int_t ngx_http_vms_auth_cache_get(ngx_shm_zone_t *zone, const u_char *hash, time_t now,
    ngx_pool_t *pool, ngx_str_t *payload);
void ngx_http_vms_auth_cache_put(ngx_shm_zone_t *zone, const u_char *hash, time_t exp,
    const char *payload, size_t len);
/* Revocation state per jti: 1 revoked, 0 known clean (until its time), -1 unknown. */
ngx_int_t ngx_http_vms_auth_sha256(const ngx_str_t *parts, ngx_uint_t n, u_char *out);
ngx_int_t ngx_http_vms_auth_cache_jti_get(ngx_shm_zone_t *zone, const char *jti, time_t now);
/* the same with the jti's hash (ngx_http_vms_auth_cache_jti_hash) already computed */
ngx_int_t ngx_http_vms_auth_cache_jti_hash(const char *jti, u_char *hash);
ngx_int_t ngx_http_vms_auth_cache_jti_get_hash(ngx_shm_zone_t *zone, const u_char *hash, time_t now);
void ngx_http_vms_auth_cache_jti_put(ngx_shm_zone_t *zone, const char *jti, ngx_uint_t revoked,
    time_t until);

/* revocation (ngx_http_vms_auth_revoke.c) */
/* NGX_OK clean, NGX_HTTP_UNAUTHORIZED revoked, NGX_AGAIN waiting (ctx->resume runs later),
 * NGX_HTTP_SERVICE_UNAVAILABLE when Redis cannot answer and the policy is closed. */
ngx_int_t ngx_http_vms_auth_check_revoked(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx);

/* endpoints (ngx_http_vms_auth_endpoints.c, ngx_http_vms_auth_tokens.c) */
ngx_int_t ngx_http_vms_auth_endpoint_handler(ngx_http_request_t *r);
/* Each returns an output rc to finalize with, or NGX_AGAIN when it answers later by itself. */
ngx_int_t ngx_http_vms_auth_stream_token(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx,
    ngx_str_t *body);
ngx_int_t ngx_http_vms_auth_revoke(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx,
    ngx_str_t *body);

/* audit (ngx_http_vms_auth_audit.c) */
ngx_int_t ngx_http_vms_auth_audit_handler(ngx_http_request_t *r);

#endif
