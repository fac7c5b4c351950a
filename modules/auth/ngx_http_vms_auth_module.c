/*
 * vms_auth: JWT authentication and authorization for streams and APIs.
 *
 * Conf structs and the directive table are here; key/zone/endpoint directives in _conf.c and
 * _cache.c; token verification in _verify.c; the Redis revocation check in _revoke.c; the
 * endpoints (MediaMTX, nginx-rtmp, stream tokens, revoke) in _endpoints.c/_tokens.c; audit in
 * _audit.c.  The JWT/claims logic itself is nginx-free, in core/.
 */
#include "ngx_http_vms_auth_module.h"

static void *ngx_http_vms_auth_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_vms_auth_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_vms_auth_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_vms_auth_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child);
static ngx_int_t ngx_http_vms_auth_preconf(ngx_conf_t *cf);
static ngx_int_t ngx_http_vms_auth_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_vms_auth_init_process(ngx_cycle_t *cycle);
static void ngx_http_vms_auth_exit_process(ngx_cycle_t *cycle);

static ngx_conf_num_bounds_t ngx_http_vms_auth_log_rate_bounds = {
    ngx_conf_check_num_bounds, 0, 100000
};

static ngx_conf_enum_t ngx_http_vms_auth_failure_enum[] = {
    { ngx_string("vms"), NGX_HTTP_VMS_AUTH_FAILURE_VMS },
    { ngx_string("mediamtx"), NGX_HTTP_VMS_AUTH_FAILURE_MEDIAMTX },
    { ngx_null_string, 0 }
};

static ngx_conf_enum_t ngx_http_vms_auth_exp_enum[] = {
    { ngx_string("required"), NGX_HTTP_VMS_AUTH_EXP_REQUIRED },
    { ngx_string("optional"), NGX_HTTP_VMS_AUTH_EXP_OPTIONAL },
    { ngx_null_string, 0 }
};

static ngx_command_t ngx_http_vms_auth_commands[] = {
    { ngx_string("vms_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot, NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_loc_conf_t, enable), NULL },

    { ngx_string("vms_auth_secret"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_vms_auth_conf_secret, NGX_HTTP_MAIN_CONF_OFFSET, 0, NULL },

    { ngx_string("vms_auth_public_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_vms_auth_conf_public_key, NGX_HTTP_MAIN_CONF_OFFSET, 0, NULL },

    { ngx_string("vms_auth_jwks"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_vms_auth_conf_jwks, NGX_HTTP_MAIN_CONF_OFFSET, 0, NULL },

    { ngx_string("vms_auth_signing_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_vms_auth_conf_signing_key, NGX_HTTP_MAIN_CONF_OFFSET, 0, NULL },

    { ngx_string("vms_auth_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_vms_auth_conf_cstr, NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_main_conf_t, issuer), NULL },

    { ngx_string("vms_auth_audience"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_vms_auth_conf_cstr, NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_main_conf_t, audience), NULL },

    { ngx_string("vms_auth_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot, NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_main_conf_t, leeway), NULL },

    { ngx_string("vms_auth_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_vms_auth_conf_cache, NGX_HTTP_MAIN_CONF_OFFSET, 0, NULL },

    { ngx_string("vms_auth_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_vms_auth_conf_redis, NGX_HTTP_MAIN_CONF_OFFSET, 0, NULL },

    { ngx_string("vms_auth_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot, NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_main_conf_t, redis_timeout), NULL },

    { ngx_string("vms_auth_redis_fail_open"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot, NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_main_conf_t, redis_fail_open), NULL },

    { ngx_string("vms_auth_revocation_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot, NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_main_conf_t, revocation_cache), NULL },

    { ngx_string("vms_auth_kafka"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_vms_auth_conf_kafka, NGX_HTTP_MAIN_CONF_OFFSET, 0, NULL },

    { ngx_string("vms_auth_audit_topic"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot, NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_main_conf_t, audit_topic), NULL },

    { ngx_string("vms_auth_audit_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot, NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_main_conf_t, audit_file), NULL },

    { ngx_string("vms_auth_log_rate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot, NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_main_conf_t, log_rate), &ngx_http_vms_auth_log_rate_bounds },

    { ngx_string("vms_auth_token_sources"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_vms_auth_conf_sources, NGX_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { ngx_string("vms_auth_max_token_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot, NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_loc_conf_t, max_token_size), NULL },

    { ngx_string("vms_auth_require"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE123,
      ngx_http_vms_auth_conf_require, NGX_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { ngx_string("vms_auth_tenant"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot, NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_loc_conf_t, tenant), NULL },

    { ngx_string("vms_auth_endpoint"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_vms_auth_conf_endpoint, NGX_HTTP_LOC_CONF_OFFSET, 0, NULL },

    { ngx_string("vms_auth_audit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot, NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_loc_conf_t, audit), NULL },

    { ngx_string("vms_auth_stream_token_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot, NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_loc_conf_t, stream_token_ttl), NULL },

    { ngx_string("vms_auth_failure"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot, NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_loc_conf_t, failure), ngx_http_vms_auth_failure_enum },

    { ngx_string("vms_auth_exp"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot, NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_loc_conf_t, exp), ngx_http_vms_auth_exp_enum },

    { ngx_string("vms_auth_stream_admit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot, NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_loc_conf_t, stream_admit), NULL },

    { ngx_string("vms_auth_stream_release"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot, NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_loc_conf_t, stream_release), NULL },

    ngx_null_command
};

static ngx_http_module_t ngx_http_vms_auth_module_ctx = {
    ngx_http_vms_auth_preconf, ngx_http_vms_auth_init,
    ngx_http_vms_auth_create_main_conf, ngx_http_vms_auth_init_main_conf,
    NULL, NULL,
    ngx_http_vms_auth_create_loc_conf, ngx_http_vms_auth_merge_loc_conf
};

ngx_module_t ngx_http_vms_auth_module = {
    NGX_MODULE_V1, &ngx_http_vms_auth_module_ctx, ngx_http_vms_auth_commands, NGX_HTTP_MODULE,
    NULL, NULL, ngx_http_vms_auth_init_process, NULL, NULL, ngx_http_vms_auth_exit_process, NULL,
    NGX_MODULE_V1_PADDING
};

/* Resumes the phase engine after an asynchronous revocation check. */
static void
ngx_http_vms_auth_access_resume(ngx_http_request_t *r)
{
    r->main->count--;
    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}

/*
 * `vms_auth_require PERMISSION CAMERAS list`: CAMERAS is a comma-separated list (e.g. `$arg_cameras`
 * of a multi-camera subscription); every camera must be a valid id the token grants PERMISSION on.
 * An empty list, an empty item, an invalid id or more than NGX_HTTP_VMS_AUTH_LIST_MAX cameras is a
 * 400; a camera the token does not grant is a 403 that does not say which.
 */
static ngx_int_t
ngx_http_vms_auth_require_list(ngx_http_request_t *r, ngx_http_vms_auth_ctx_t *ctx,
    ngx_http_vms_auth_require_t *req)
{
    ngx_str_t   v;
    char        camera[VMS_CAMERA_ID_MAX + 1];
    ngx_uint_t  n = 0;

    if (ngx_http_complex_value(r, req->camera, &v) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    u_char *p = v.data, *end = v.data + v.len;
    if (v.len == 0) {
        ctx->why = "no camera listed";
        return NGX_HTTP_BAD_REQUEST;
    }
    while (p <= end) {
        u_char *comma = ngx_strlchr(p, end, ',');
        u_char *item_end = comma ? comma : end;
        size_t len = (size_t) (item_end - p);
        if (!vms_camera_id_valid((char *) p, len)) {
            ctx->why = "invalid camera id";
            return NGX_HTTP_BAD_REQUEST;
        }
        if (++n > NGX_HTTP_VMS_AUTH_LIST_MAX) {
            ctx->why = "too many cameras";
            return NGX_HTTP_BAD_REQUEST;
        }
        ngx_memcpy(camera, p, len);
        camera[len] = '\0';
        if (!vms_claims_allows(&ctx->claims, req->perm, camera, NULL)) {
            ctx->why = "token does not grant this permission on every camera listed";
            return NGX_HTTP_FORBIDDEN;
        }
        p = item_end + 1;
    }
    return NGX_OK;
}
static ngx_int_t
ngx_http_vms_auth_authorize(ngx_http_request_t *r, ngx_http_vms_auth_loc_conf_t *lcf,
    ngx_http_vms_auth_ctx_t *ctx)
{
    ngx_str_t  v;
    char       camera[VMS_CAMERA_ID_MAX + 1];

    if (lcf->tenant) {
        if (ngx_http_complex_value(r, lcf->tenant, &v) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        if (!vms_claims_tenant_is(&ctx->claims, (char *) v.data, v.len)) {
            ctx->why = "token is not valid for this tenant";
            return NGX_HTTP_FORBIDDEN;
        }
    }
    if (lcf->requires == NULL) {
        return NGX_OK;
    }
    ngx_http_vms_auth_require_t *req = lcf->requires->elts;
    for (ngx_uint_t i = 0; i < lcf->requires->nelts; i++) {
        const char *cam = NULL, *path = NULL;
        if (req[i].path) {
            /* a MediaMTX path the camera comes from: mediamtx_permissions see it whole */
            ngx_str_t pv;
            if (ngx_http_complex_value(r, req[i].path, &pv) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
            if (!vms_mtx_path_valid((char *) pv.data, pv.len)) {
                ctx->why = "invalid path name";
                return NGX_HTTP_BAD_REQUEST;
            }
            char *pz = ngx_pnalloc(r->pool, pv.len + 1);
            if (pz == NULL) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
            ngx_memcpy(pz, pv.data, pv.len);
            pz[pv.len] = '\0';
            path = pz;
        }
        if (req[i].list) {
            ngx_int_t rc = ngx_http_vms_auth_require_list(r, ctx, &req[i]);
            if (rc != NGX_OK) {
                return rc;
            }
            continue;
        }
        if (req[i].camera) {
            if (ngx_http_complex_value(r, req[i].camera, &v) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
            if (!vms_camera_id_valid((char *) v.data, v.len)) {
                if (path == NULL) {
                    ctx->why = "invalid camera id";
                    return NGX_HTTP_BAD_REQUEST;
                }
                /* the path's last part is no camera id (dots are allowed in path names) */
                if (!vms_claims_allows_path(&ctx->claims, req[i].perm, path)) {
                    ctx->why = "token does not grant this permission on this path";
                    return NGX_HTTP_FORBIDDEN;
                }
                continue;
            }
            ngx_memcpy(camera, v.data, v.len);
            camera[v.len] = '\0';
            cam = camera;
        }
        if (!vms_claims_allows(&ctx->claims, req[i].perm, cam, path)) {
            ctx->why = cam ? "token does not grant this permission on this camera"
                           : "token does not grant this permission";
            return NGX_HTTP_FORBIDDEN;
        }
    }
    return NGX_OK;
}

/*
 * Answers from the access phase: the JSON error is sent and the request finalized here.  With
 * vms_auth_failure mediamtx, as MediaMTX's HTTP servers (playback, api) answer: every
 * authentication or authorization failure is 401 {"status":"error","error":"authentication error"},
 * with `WWW-Authenticate: Basic realm="mediamtx"` only when the request carried no credentials
 * (MediaMTX's AskCredentials); other errors keep their status in MediaMTX's error shape.
 */
static ngx_int_t
ngx_http_vms_auth_deny(ngx_http_request_t *r, ngx_int_t status, const char *why)
{
    ngx_http_vms_auth_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_auth_module);
    ngx_int_t rc;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "vms_auth: refused %i: %s", status,
                   why ? why : "no credentials");
    if (lcf->failure != NGX_HTTP_VMS_AUTH_FAILURE_MEDIAMTX) {
        ngx_http_finalize_request(r, ngx_http_vms_auth_send_error(r, status, why));
        return NGX_DONE;
    }
    if (status == NGX_HTTP_UNAUTHORIZED || status == NGX_HTTP_FORBIDDEN
        || status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE || status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        if (status == NGX_HTTP_FORBIDDEN && why) {
            ngx_http_vms_auth_log_reject(r, why);   /* 401s were logged where they were decided */
        }
        if (status == NGX_HTTP_UNAUTHORIZED && why == NULL) {
            ngx_table_elt_t *h = ngx_list_push(&r->headers_out.headers);
            if (h) {
                h->hash = 1;
                ngx_str_set(&h->key, "WWW-Authenticate");
                ngx_str_set(&h->value, "Basic realm=\"mediamtx\"");
                r->headers_out.www_authenticate = h;
            }
        }
        status = NGX_HTTP_UNAUTHORIZED;
        why = "authentication error";
    } else if (status >= NGX_HTTP_INTERNAL_SERVER_ERROR || why == NULL) {
        why = "internal error";
    } else {
        ngx_http_vms_auth_log_reject(r, why);
    }
    json_t *body = json_pack("{s:s, s:s}", "status", "error", "error", why);
    rc = body ? ngx_http_vms_auth_send_json(r, status, body) : NGX_HTTP_INTERNAL_SERVER_ERROR;
    json_decref(body);
    ngx_http_finalize_request(r, rc);
    return NGX_DONE;
}

static ngx_int_t
ngx_http_vms_auth_handler(ngx_http_request_t *r)
{
    ngx_http_vms_auth_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_auth_module);
    ngx_int_t rc;

    if (!lcf->enable) {
        return NGX_DECLINED;
    }
    ngx_http_vms_auth_ctx_t *ctx = ngx_http_vms_auth_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (ctx->revocation == 1) {
        return NGX_AGAIN;   /* still waiting for Redis (a stray write event re-ran the phases) */
    }
    rc = ngx_http_vms_auth_authenticate(r, ctx);
    if (rc != NGX_OK) {
        return ngx_http_vms_auth_deny(r, rc, ctx->why);
    }
    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "vms_auth: token of \"%s\" (role %s, "
                   "plan %s) verified, revocation check %s", ctx->claims.sub ? ctx->claims.sub : "",
                   ctx->claims.role ? ctx->claims.role : "-", ctx->claims.plan ? ctx->claims.plan : "-",
                   ctx->revocation == 0 ? "next" : "done");
    if (ctx->revocation == 0) {
        ctx->resume = ngx_http_vms_auth_access_resume;
        rc = ngx_http_vms_auth_check_revoked(r, ctx);
        if (rc == NGX_AGAIN) {
            r->main->count++;
            return NGX_AGAIN;
        }
        if (rc != NGX_OK) {
            ctx->state = 2;
            ctx->status = rc;
            return ngx_http_vms_auth_deny(r, rc, ctx->why);
        }
    } else if (ctx->state == 2) {
        return ngx_http_vms_auth_deny(r, ctx->status, ctx->why);
    }
    rc = ngx_http_vms_auth_authorize(r, lcf, ctx);
    if (rc != NGX_OK) {
        return ngx_http_vms_auth_deny(r, rc, ctx->why);
    }
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "vms_auth: allowed (%ui requirements met)",
                   lcf->requires ? lcf->requires->nelts : 0);
    return NGX_OK;
}

static void
ngx_http_vms_auth_cleanup_keys(void *data)
{
    vms_jwt_keyset_free(data);
}

static void *
ngx_http_vms_auth_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_vms_auth_main_conf_t *amcf = ngx_pcalloc(cf->pool, sizeof(*amcf));
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (amcf == NULL || cln == NULL) {
        return NULL;
    }
    amcf->keys = vms_jwt_keyset_new();
    if (amcf->keys == NULL) {
        return NULL;
    }
    cln->handler = ngx_http_vms_auth_cleanup_keys;
    cln->data = amcf->keys;
    amcf->leeway = NGX_CONF_UNSET;
    amcf->redis_timeout = NGX_CONF_UNSET_MSEC;
    amcf->redis_fail_open = NGX_CONF_UNSET;
    amcf->revocation_cache = NGX_CONF_UNSET;
    amcf->log_rate = NGX_CONF_UNSET_UINT;
    return amcf;
}

static char *
ngx_http_vms_auth_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_vms_auth_main_conf_t *amcf = conf;
    ngx_conf_init_value(amcf->leeway, 30);
    ngx_conf_init_msec_value(amcf->redis_timeout, 200);
    ngx_conf_init_value(amcf->redis_fail_open, 1);
    ngx_conf_init_value(amcf->revocation_cache, 5);
    ngx_conf_init_uint_value(amcf->log_rate, 10);
    if (vms_jwt_keyset_fingerprint(amcf->keys, amcf->keys_fp) != 0) {
        return NGX_CONF_ERROR;
    }
    if (amcf->audit_topic.len == 0) {
        ngx_str_set(&amcf->audit_topic, "vms.audit");
    }
    if (amcf->kafka == NULL && amcf->audit_file.len) {
        amcf->kafka = ngx_vms_kafka_create(cf, NULL, NULL, &amcf->audit_file);
        if (amcf->kafka == NULL) {
            return NGX_CONF_ERROR;
        }
    } else if (amcf->kafka && amcf->audit_file.len) {
        ngx_vms_kafka_set_fallback(amcf->kafka, &amcf->audit_file);
    }
    return NGX_CONF_OK;
}

static void *
ngx_http_vms_auth_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_vms_auth_loc_conf_t *conf = ngx_pcalloc(cf->pool, sizeof(*conf));
    if (conf == NULL) {
        return NULL;
    }
    conf->enable = NGX_CONF_UNSET;
    conf->sources = NGX_CONF_UNSET_PTR;
    conf->requires = NGX_CONF_UNSET_PTR;
    conf->tenant = NGX_CONF_UNSET_PTR;
    conf->audit = NGX_CONF_UNSET;
    conf->stream_token_ttl = NGX_CONF_UNSET;
    conf->max_token_size = NGX_CONF_UNSET_SIZE;
    conf->failure = NGX_CONF_UNSET_UINT;
    conf->exp = NGX_CONF_UNSET_UINT;
    return conf;
}

static char *
ngx_http_vms_auth_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_vms_auth_loc_conf_t *prev = parent, *conf = child;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_ptr_value(conf->requires, prev->requires, NULL);
    ngx_conf_merge_ptr_value(conf->tenant, prev->tenant, NULL);
    ngx_conf_merge_value(conf->audit, prev->audit, 0);
    ngx_conf_merge_sec_value(conf->stream_token_ttl, prev->stream_token_ttl, 3600);
    ngx_conf_merge_size_value(conf->max_token_size, prev->max_token_size, 8192);
    ngx_conf_merge_uint_value(conf->failure, prev->failure, NGX_HTTP_VMS_AUTH_FAILURE_VMS);
    ngx_conf_merge_uint_value(conf->exp, prev->exp, NGX_HTTP_VMS_AUTH_EXP_REQUIRED);
    ngx_conf_merge_str_value(conf->stream_admit, prev->stream_admit, "off");
    ngx_conf_merge_str_value(conf->stream_release, prev->stream_release, "off");
    ngx_str_t *locs[] = { &conf->stream_admit, &conf->stream_release };
    for (ngx_uint_t i = 0; i < 2; i++) {
        ngx_str_t *u = locs[i];
        if (u->len == 3 && ngx_strncmp(u->data, "off", 3) == 0) {
            u->len = 0;
        } else if (u->len > 0 && (u->data[0] != '/' || ngx_strlchr(u->data, u->data + u->len, '?') != NULL)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s takes \"off\" or a location URI without arguments",
                               i == 0 ? "vms_auth_stream_admit" : "vms_auth_stream_release");
            return NGX_CONF_ERROR;
        }
    }
    ngx_conf_merge_ptr_value(conf->sources, prev->sources, NULL);
    if (conf->sources == NULL) {
        static ngx_str_t dflt[] = { ngx_string("header"), ngx_string("query=jwt"),
                                    ngx_string("query=token"), ngx_string("cookie=vms_token") };
        conf->sources = ngx_array_create(cf->pool, 4, sizeof(ngx_http_vms_auth_source_t));
        if (conf->sources == NULL) {
            return NGX_CONF_ERROR;
        }
        for (ngx_uint_t i = 0; i < 4; i++) {
            ngx_http_vms_auth_source_t *s = ngx_array_push(conf->sources);
            if (i == 0) {
                s->type = NGX_HTTP_VMS_AUTH_SRC_HEADER;
                ngx_str_null(&s->name);
            } else {
                u_char *eq = ngx_strlchr(dflt[i].data, dflt[i].data + dflt[i].len, '=');
                s->type = dflt[i].data[0] == 'q' ? NGX_HTTP_VMS_AUTH_SRC_QUERY
                                                 : NGX_HTTP_VMS_AUTH_SRC_COOKIE;
                s->name.data = eq + 1;
                s->name.len = dflt[i].data + dflt[i].len - eq - 1;
            }
        }
    }
    if (conf->max_token_size < 64) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "vms_auth_max_token_size must be at least 64");
        return NGX_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

static ngx_int_t
ngx_http_vms_auth_preconf(ngx_conf_t *cf)
{
    return ngx_http_vms_auth_add_variables(cf);
}

static ngx_int_t
ngx_http_vms_auth_init(ngx_conf_t *cf)
{
    ngx_http_core_main_conf_t *cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    ngx_http_handler_pt *h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    *h = ngx_http_vms_auth_handler;
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    *h = ngx_http_vms_auth_audit_handler;
    return NGX_OK;
}

static ngx_int_t
ngx_http_vms_auth_init_process(ngx_cycle_t *cycle)
{
    ngx_http_vms_auth_main_conf_t *amcf =
        ngx_http_cycle_get_module_main_conf(cycle, ngx_http_vms_auth_module);
    if (amcf == NULL || (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE)) {
        return NGX_OK;   /* cache manager/loader processes serve no requests */
    }
    if (amcf->redis && ngx_vms_redis_init_process(amcf->redis, cycle) != NGX_OK) {
        return NGX_ERROR;
    }
    if (amcf->kafka && ngx_vms_kafka_init_process(amcf->kafka, cycle) != NGX_OK) {
        return NGX_ERROR;
    }
    return NGX_OK;
}

static void
ngx_http_vms_auth_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_vms_auth_main_conf_t *amcf =
        ngx_http_cycle_get_module_main_conf(cycle, ngx_http_vms_auth_module);
    if (amcf == NULL || (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE)) {
        return;
    }
    if (amcf->redis) {
        ngx_vms_redis_exit_process(amcf->redis);
    }
    if (amcf->kafka) {
        ngx_vms_kafka_exit_process(amcf->kafka);
    }
}
