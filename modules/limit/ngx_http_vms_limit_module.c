/*
 * ngx_http_vms_limit_module: per-consumer rate limits and per-user concurrent
 * stream leases, exact across nginx nodes through Redis (docs/limit.md).
 *
 * The phase handler runs in the precontent phase, after access checks (so the
 * auth module's variables name the user), and takes two steps in order: the
 * rate limit, then stream admission.  A step that needs Redis returns
 * NGX_AGAIN and is resumed by the Redis reply or its timer; a refused rate
 * request never takes a stream slot.
 */

#include "ngx_http_vms_limit.h"
#include "ngx_http_vms_limit_scripts.h"


static ngx_int_t ngx_http_vms_limit_handler(ngx_http_request_t *r);
static void *ngx_http_vms_limit_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_vms_limit_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_vms_limit_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_vms_limit_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_vms_limit_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_vms_limit_init_process(ngx_cycle_t *cycle);
static void ngx_http_vms_limit_exit_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_vms_limit_store_enum[] = {
    { ngx_string("auto"), NGX_HTTP_VMS_LIMIT_STORE_AUTO },
    { ngx_string("redis"), NGX_HTTP_VMS_LIMIT_STORE_REDIS },
    { ngx_string("local"), NGX_HTTP_VMS_LIMIT_STORE_LOCAL },
    { ngx_null_string, 0 }
};

static ngx_conf_enum_t  ngx_http_vms_limit_policy_enum[] = {
    { ngx_string("local"), NGX_HTTP_VMS_LIMIT_POLICY_LOCAL },
    { ngx_string("open"), NGX_HTTP_VMS_LIMIT_POLICY_OPEN },
    { ngx_string("closed"), NGX_HTTP_VMS_LIMIT_POLICY_CLOSED },
    { ngx_null_string, 0 }
};


#define VMS_LIMIT_LOC  (NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF)

static ngx_command_t  ngx_http_vms_limit_commands[] = {

    { ngx_string("vms_limit_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_vms_limit_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("vms_limit_zone_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_main_conf_t, zone_size),
      NULL },

    { ngx_string("vms_limit_plan"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE2,
      ngx_http_vms_limit_plan,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("vms_limit_default_plan"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_main_conf_t, default_plan_name),
      NULL },

    { ngx_string("vms_limit_rate"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE123,
      ngx_http_vms_limit_rate_cmd,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("vms_limit_rate_key"),
      VMS_LIMIT_LOC|NGX_CONF_1MORE,
      ngx_http_vms_limit_rate_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("vms_limit_fail_rate"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE12,
      ngx_http_vms_limit_fail_rate_cmd,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("vms_limit_fail_key"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_loc_conf_t, fail_key),
      NULL },

    { ngx_string("vms_limit_dry_run"),
      VMS_LIMIT_LOC|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_loc_conf_t, dry_run),
      NULL },

    { ngx_string("vms_limit_streams"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE1,
      ngx_http_vms_limit_streams_cmd,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("vms_limit_streams_user"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_loc_conf_t, stream_user),
      NULL },

    { ngx_string("vms_limit_streams_session"),
      VMS_LIMIT_LOC|NGX_CONF_1MORE,
      ngx_http_vms_limit_streams_session,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("vms_limit_streams_handover"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_loc_conf_t, stream_handover),
      NULL },

    { ngx_string("vms_limit_streams_reader"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_loc_conf_t, stream_reader),
      NULL },

    { ngx_string("vms_limit_session_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_vms_limit_session_key,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("vms_limit_session_scope"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_loc_conf_t, session_scope),
      NULL },

    { ngx_string("vms_limit_session_ttl"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_loc_conf_t, session_ttl),
      NULL },

    { ngx_string("vms_limit_session_renew"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_loc_conf_t, session_renew),
      NULL },

    { ngx_string("vms_limit_streams_plan"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_loc_conf_t, stream_plan),
      NULL },

    { ngx_string("vms_limit_streams_max"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_loc_conf_t, stream_max),
      NULL },

    { ngx_string("vms_limit_streams_ttl"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_loc_conf_t, stream_ttl),
      NULL },

    { ngx_string("vms_limit_store"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_loc_conf_t, store),
      &ngx_http_vms_limit_store_enum },

    { ngx_string("vms_limit_redis_timeout"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_loc_conf_t, redis_timeout),
      NULL },

    { ngx_string("vms_limit_on_redis_error"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_loc_conf_t, on_error),
      &ngx_http_vms_limit_policy_enum },

    { ngx_string("vms_limit_route"),
      VMS_LIMIT_LOC|NGX_CONF_TAKE1,
      ngx_http_vms_limit_route_cmd,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("vms_limit_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_vms_limit_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_vms_limit_module_ctx = {
    ngx_http_vms_limit_add_variables,      /* preconfiguration */
    ngx_http_vms_limit_init,               /* postconfiguration */
    ngx_http_vms_limit_create_main_conf,   /* create main configuration */
    ngx_http_vms_limit_init_main_conf,     /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    ngx_http_vms_limit_create_loc_conf,    /* create location configuration */
    ngx_http_vms_limit_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_vms_limit_module = {
    NGX_MODULE_V1,
    &ngx_http_vms_limit_module_ctx,        /* module context */
    ngx_http_vms_limit_commands,           /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_vms_limit_init_process,       /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_vms_limit_exit_process,       /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* ---- request side ------------------------------------------------------ */

static void
ngx_http_vms_limit_ctx_cleanup(void *data)
{
    (void) data;   /* marker only: found by its handler address */
}


/*
 * The ctx survives internal redirects (which clear module ctx) through a
 * pool cleanup marker, so an error_page or try_files redirect is not
 * counted or admitted twice.
 */
static ngx_http_vms_limit_ctx_t *
ngx_http_vms_limit_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t        *cln;
    ngx_http_vms_limit_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_vms_limit_module);
    if (ctx != NULL || !r->internal) {
        return ctx;
    }

    /* subrequests share the parent's pool: the marker must be this request's */
    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_vms_limit_ctx_cleanup
            && ((ngx_http_vms_limit_ctx_t *) cln->data)->request == r)
        {
            ctx = cln->data;
            ngx_http_set_ctx(r, ctx, ngx_http_vms_limit_module);
            return ctx;
        }
    }

    return NULL;
}


/*
 * The request's ctx; with `create`, made (and the request counted) when the
 * request has none.  NULL: none, or out of memory when creating.
 */
ngx_http_vms_limit_ctx_t *
ngx_http_vms_limit_ctx(ngx_http_request_t *r, ngx_uint_t create)
{
    ngx_pool_cleanup_t              *cln;
    ngx_http_vms_limit_ctx_t        *ctx;
    ngx_http_vms_limit_main_conf_t  *lmcf;

    ctx = ngx_http_vms_limit_get_ctx(r);

    if (ctx != NULL || !create) {
        return ctx;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_vms_limit_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }
    cln->handler = ngx_http_vms_limit_ctx_cleanup;
    cln->data = ctx;

    ctx->request = r;
    ctx->step = NGX_HTTP_VMS_LIMIT_STEP_RATE;
    ngx_http_set_ctx(r, ctx, ngx_http_vms_limit_module);

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_limit_module);
    (void) ngx_atomic_fetch_add(&ngx_http_vms_limit_counters(lmcf)->requests, 1);

    return ctx;
}


static ngx_int_t
ngx_http_vms_limit_handler(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    ngx_http_vms_limit_ctx_t        *ctx;
    ngx_http_vms_limit_loc_conf_t   *llcf;

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_limit_module);

    /* subrequests only where they are the point: an admit endpoint */
    if (r != r->main && llcf->streams != NGX_HTTP_VMS_LIMIT_STREAMS_ADMIT) {
        return NGX_DECLINED;
    }

    if (!llcf->rate_on
        && llcf->streams != NGX_HTTP_VMS_LIMIT_STREAMS_OPEN
        && llcf->streams != NGX_HTTP_VMS_LIMIT_STREAMS_RENEW
        && llcf->streams != NGX_HTTP_VMS_LIMIT_STREAMS_MEDIA
        && llcf->streams != NGX_HTTP_VMS_LIMIT_STREAMS_ADMIT)
    {
        return NGX_DECLINED;
    }

    ctx = ngx_http_vms_limit_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->result == NGX_HTTP_VMS_LIMIT_R_WAITING) {
        return NGX_AGAIN;
    }

    for ( ;; ) {
        switch (ctx->step) {

        case NGX_HTTP_VMS_LIMIT_STEP_RATE:
            if (!llcf->rate_on) {
                ctx->step = NGX_HTTP_VMS_LIMIT_STEP_STREAMS;
                continue;
            }

            /* logged before: a refusal finalizes r (its pool and log are gone after the call) */
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "vms_limit: rate step%s",
                           ctx->result == NGX_HTTP_VMS_LIMIT_R_NONE ? "" : " (Redis answered)");
            rc = ngx_http_vms_limit_rate(r, ctx);
            if (rc != NGX_DECLINED) {
                return rc;
            }

            ctx->step = NGX_HTTP_VMS_LIMIT_STEP_STREAMS;
            ctx->result = NGX_HTTP_VMS_LIMIT_R_NONE;
            continue;

        case NGX_HTTP_VMS_LIMIT_STEP_STREAMS:
            if (llcf->streams != NGX_HTTP_VMS_LIMIT_STREAMS_OPEN
                && llcf->streams != NGX_HTTP_VMS_LIMIT_STREAMS_RENEW
                && llcf->streams != NGX_HTTP_VMS_LIMIT_STREAMS_MEDIA
                && llcf->streams != NGX_HTTP_VMS_LIMIT_STREAMS_ADMIT)
            {
                ctx->step = NGX_HTTP_VMS_LIMIT_STEP_DONE;
                continue;
            }

            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0, "vms_limit: streams step "
                           "(mode %ui)%s", llcf->streams,
                           ctx->result == NGX_HTTP_VMS_LIMIT_R_NONE ? "" : " (Redis answered)");
            rc = ngx_http_vms_limit_streams(r, ctx);
            if (rc != NGX_DECLINED) {
                return rc;
            }

            ctx->step = NGX_HTTP_VMS_LIMIT_STEP_DONE;
            ctx->result = NGX_HTTP_VMS_LIMIT_R_NONE;
            continue;

        default:
            return NGX_DECLINED;
        }
    }
}


/* ---- configuration ----------------------------------------------------- */

static void *
ngx_http_vms_limit_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_vms_limit_main_conf_t  *lmcf;

    lmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_vms_limit_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    lmcf->zone_size = NGX_CONF_UNSET_SIZE;

    return lmcf;
}


static ngx_uint_t
ngx_http_vms_limit_var_exists(ngx_conf_t *cf, const char *name)
{
    size_t                      len;
    ngx_uint_t                  i;
    ngx_hash_key_t             *key;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);
    if (cmcf->variables_keys == NULL) {
        return 0;
    }

    len = ngx_strlen(name);
    key = cmcf->variables_keys->keys.elts;

    for (i = 0; i < cmcf->variables_keys->keys.nelts; i++) {
        if (key[i].key.len == len
            && ngx_strncmp(key[i].key.data, name, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static char *
ngx_http_vms_limit_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_vms_limit_main_conf_t  *lmcf = conf;

    ngx_uint_t                  i;
    ngx_http_vms_limit_plan_t  *plan;

    static struct { const char *name; ngx_int_t max; }  defaults[] = {
        { "free", 2 }, { "pro", 8 }, { "enterprise", 32 }
    };

    ngx_conf_init_size_value(lmcf->zone_size, 10 * 1024 * 1024);

    /*
     * Who is the consumer: with vms_auth loaded, the token's subject, plan
     * and id (a stream token's jti names one player session; a token without
     * jti is itself the session, taken from where vms_auth looks for it by
     * default); without it, the client address.  Every one of them can be
     * set per location.
     * No client-chosen header (X-Api-Key) by default: nothing here checks
     * it, so a client could pick a fresh budget per request.
     */
    if (ngx_http_vms_limit_var_exists(cf, "vms_auth_sub")) {
        lmcf->default_keys[0] = "$vms_auth_sub";
        lmcf->default_keys[1] = "$remote_addr";
        lmcf->default_user = "$vms_auth_sub";
        lmcf->default_plan_var = ngx_http_vms_limit_var_exists(cf, "vms_auth_plan")
                                 ? "$vms_auth_plan" : "";
        lmcf->default_max =
            ngx_http_vms_limit_var_exists(cf, "vms_auth_max_streams")
            ? "$vms_auth_max_streams" : "";
        if (ngx_http_vms_limit_var_exists(cf, "vms_auth_jti")) {
            lmcf->default_session[0] = "$vms_auth_jti";
            lmcf->default_session[1] = "$http_authorization";
            lmcf->default_session[2] = "$arg_jwt";
            lmcf->default_session[3] = "$arg_token";
            lmcf->default_session[4] = "$cookie_vms_token";
        } else {
            lmcf->default_session[0] = "$uri";
        }

    } else {
        lmcf->default_keys[0] = "$remote_addr";
        lmcf->default_user = "$remote_addr";
        lmcf->default_plan_var = "";
        lmcf->default_max = "";
        lmcf->default_session[0] = "$uri";
    }

    if (lmcf->zone_size < sizeof(ngx_http_vms_limit_shctx_t) + 8 * ngx_pagesize) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "vms_limit_zone_size %uz is too small", lmcf->zone_size);
        return NGX_CONF_ERROR;
    }

    if (lmcf->plans == NULL) {
        lmcf->plans = ngx_array_create(cf->pool, 3,
                                       sizeof(ngx_http_vms_limit_plan_t));
        if (lmcf->plans == NULL) {
            return NGX_CONF_ERROR;
        }
        for (i = 0; i < 3; i++) {
            plan = ngx_array_push(lmcf->plans);
            if (plan == NULL) {
                return NGX_CONF_ERROR;
            }
            plan->name.data = (u_char *) defaults[i].name;
            plan->name.len = ngx_strlen(defaults[i].name);
            plan->max = defaults[i].max;
        }
    }

    if (lmcf->default_plan_name.data == NULL) {
        ngx_str_set(&lmcf->default_plan_name, "free");
    }

    lmcf->plan_table = ngx_palloc(cf->pool,
                                  lmcf->plans->nelts * sizeof(vms_plan_t));
    if (lmcf->plan_table == NULL) {
        return NGX_CONF_ERROR;
    }

    plan = lmcf->plans->elts;
    lmcf->default_plan = NGX_CONF_UNSET_UINT;

    for (i = 0; i < lmcf->plans->nelts; i++) {
        lmcf->plan_table[i].name = (const char *) plan[i].name.data;
        lmcf->plan_table[i].len = plan[i].name.len;
        lmcf->plan_table[i].max = plan[i].max;

        if (plan[i].name.len == lmcf->default_plan_name.len
            && ngx_strncmp(plan[i].name.data, lmcf->default_plan_name.data,
                           plan[i].name.len) == 0)
        {
            lmcf->default_plan = i;
        }
    }

    if (lmcf->default_plan == NGX_CONF_UNSET_UINT) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "vms_limit_default_plan \"%V\" is not a configured plan",
                           &lmcf->default_plan_name);
        return NGX_CONF_ERROR;
    }

    if (lmcf->redis_conf != NULL) {
        lmcf->redis = ngx_vms_redis_create(cf, lmcf->redis_conf);
        if (lmcf->redis == NULL) {
            return NGX_CONF_ERROR;
        }

        lmcf->gcra_script = ngx_vms_redis_script(cf, lmcf->redis,
                                                 NGX_HTTP_VMS_LIMIT_LUA_GCRA);
        lmcf->acquire_script = ngx_vms_redis_script(cf, lmcf->redis,
                                                 NGX_HTTP_VMS_LIMIT_LUA_ACQUIRE);
        lmcf->renew_script = ngx_vms_redis_script(cf, lmcf->redis,
                                                 NGX_HTTP_VMS_LIMIT_LUA_RENEW);
        lmcf->release_script = ngx_vms_redis_script(cf, lmcf->redis,
                                                 NGX_HTTP_VMS_LIMIT_LUA_RELEASE);
        lmcf->reader_script = ngx_vms_redis_script(cf, lmcf->redis,
                                                 NGX_HTTP_VMS_LIMIT_LUA_READER);
        if (lmcf->gcra_script == NULL || lmcf->acquire_script == NULL
            || lmcf->renew_script == NULL || lmcf->release_script == NULL
            || lmcf->reader_script == NULL)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_vms_limit_shm_add(cf, lmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_vms_limit_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_vms_limit_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_vms_limit_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->gcra = { 0 };
     *     conf->rate_scope = { 0, NULL };
     *     conf->fail_gcra = { 0 };
     */

    conf->rate_on = NGX_CONF_UNSET;
    conf->rate_keys = NGX_CONF_UNSET_PTR;
    conf->dry_run = NGX_CONF_UNSET;
    conf->fail_on = NGX_CONF_UNSET;
    conf->fail_key = NGX_CONF_UNSET_PTR;
    conf->streams = NGX_CONF_UNSET_UINT;
    conf->stream_user = NGX_CONF_UNSET_PTR;
    conf->stream_session = NGX_CONF_UNSET_PTR;
    conf->stream_handover = NGX_CONF_UNSET_PTR;
    conf->stream_reader = NGX_CONF_UNSET_PTR;
    conf->stream_plan = NGX_CONF_UNSET_PTR;
    conf->stream_max = NGX_CONF_UNSET_PTR;
    conf->stream_ttl = NGX_CONF_UNSET_MSEC;
    conf->session_scope = NGX_CONF_UNSET_PTR;
    conf->session_ttl = NGX_CONF_UNSET;
    conf->session_renew = NGX_CONF_UNSET_MSEC;
    conf->store = NGX_CONF_UNSET_UINT;
    conf->redis_timeout = NGX_CONF_UNSET_MSEC;
    conf->on_error = NGX_CONF_UNSET_UINT;
    conf->route_slot = -1;

    return conf;
}


static ngx_http_complex_value_t *
ngx_http_vms_limit_cv(ngx_conf_t *cf, const char *text)
{
    ngx_str_t                          v;
    ngx_http_complex_value_t          *cv;
    ngx_http_compile_complex_value_t   ccv;

    cv = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (cv == NULL) {
        return NULL;
    }

    v.data = (u_char *) text;
    v.len = ngx_strlen(text);

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &v;
    ccv.complex_value = cv;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NULL;
    }

    return cv;
}


static char *
ngx_http_vms_limit_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_vms_limit_loc_conf_t  *prev = parent;
    ngx_http_vms_limit_loc_conf_t  *conf = child;

    ngx_uint_t                       i;
    ngx_http_vms_limit_main_conf_t  *lmcf;
    ngx_http_complex_value_t        *cv, *slot;

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_vms_limit_module);

    if (conf->rate_on == NGX_CONF_UNSET) {
        conf->rate_on = prev->rate_on == NGX_CONF_UNSET ? 0 : prev->rate_on;
        conf->gcra = prev->gcra;
        conf->rate_scope = prev->rate_scope;
    }

    if (conf->rate_scope.data == NULL) {
        ngx_str_set(&conf->rate_scope, "default");
    }

    if (conf->rate_keys == NGX_CONF_UNSET_PTR) {
        if (prev->rate_keys == NGX_CONF_UNSET_PTR) {
            prev->rate_keys = ngx_array_create(cf->pool, 3,
                                               sizeof(ngx_http_complex_value_t));
            if (prev->rate_keys == NULL) {
                return NGX_CONF_ERROR;
            }
            for (i = 0; i < 3 && lmcf->default_keys[i]; i++) {
                cv = ngx_http_vms_limit_cv(cf, lmcf->default_keys[i]);
                slot = ngx_array_push(prev->rate_keys);
                if (cv == NULL || slot == NULL) {
                    return NGX_CONF_ERROR;
                }
                *slot = *cv;
            }
        }
        conf->rate_keys = prev->rate_keys;
    }

    ngx_conf_merge_value(conf->dry_run, prev->dry_run, 0);

    if (conf->fail_on == NGX_CONF_UNSET) {
        conf->fail_on = prev->fail_on == NGX_CONF_UNSET ? 0 : prev->fail_on;
        conf->fail_gcra = prev->fail_gcra;
    }

    if (conf->streams == NGX_CONF_UNSET_UINT) {
        /* release is a content handler: never inherited */
        conf->streams = (prev->streams == NGX_CONF_UNSET_UINT
                         || prev->streams == NGX_HTTP_VMS_LIMIT_STREAMS_RELEASE
                         || prev->streams == NGX_HTTP_VMS_LIMIT_STREAMS_ADMIT
                         || prev->streams
                            == NGX_HTTP_VMS_LIMIT_STREAMS_READER_RENEW
                         || prev->streams
                            == NGX_HTTP_VMS_LIMIT_STREAMS_READER_RELEASE)
                        ? NGX_HTTP_VMS_LIMIT_STREAMS_OFF : prev->streams;
    }

#define VMS_LIMIT_MERGE_CV(field, dflt)                                       \
    if (conf->field == NGX_CONF_UNSET_PTR) {                                  \
        if (prev->field == NGX_CONF_UNSET_PTR) {                              \
            prev->field = ngx_http_vms_limit_cv(cf, dflt);                    \
            if (prev->field == NULL) {                                        \
                return NGX_CONF_ERROR;                                        \
            }                                                                 \
        }                                                                     \
        conf->field = prev->field;                                            \
    }

    VMS_LIMIT_MERGE_CV(fail_key, "$remote_addr")
    VMS_LIMIT_MERGE_CV(stream_user, lmcf->default_user)
    VMS_LIMIT_MERGE_CV(stream_plan, lmcf->default_plan_var)
    VMS_LIMIT_MERGE_CV(stream_max, lmcf->default_max)

#undef VMS_LIMIT_MERGE_CV

    ngx_conf_merge_ptr_value(conf->stream_handover, prev->stream_handover,
                             NULL);
    ngx_conf_merge_ptr_value(conf->stream_reader, prev->stream_reader, NULL);

    if (conf->stream_session == NGX_CONF_UNSET_PTR) {
        if (prev->stream_session == NGX_CONF_UNSET_PTR) {
            prev->stream_session = ngx_array_create(cf->pool, 5,
                                       sizeof(ngx_http_complex_value_t));
            if (prev->stream_session == NULL) {
                return NGX_CONF_ERROR;
            }
            for (i = 0; i < 5 && lmcf->default_session[i]; i++) {
                cv = ngx_http_vms_limit_cv(cf, lmcf->default_session[i]);
                slot = ngx_array_push(prev->stream_session);
                if (cv == NULL || slot == NULL) {
                    return NGX_CONF_ERROR;
                }
                *slot = *cv;
            }
        }
        conf->stream_session = prev->stream_session;
    }

    ngx_conf_merge_ptr_value(conf->session_scope, prev->session_scope, NULL);
    ngx_conf_merge_sec_value(conf->session_ttl, prev->session_ttl, 120);
    ngx_conf_merge_msec_value(conf->session_renew, prev->session_renew, 10000);

    ngx_conf_merge_msec_value(conf->stream_ttl, prev->stream_ttl, 30000);
    ngx_conf_merge_uint_value(conf->store, prev->store,
                              NGX_HTTP_VMS_LIMIT_STORE_AUTO);
    ngx_conf_merge_msec_value(conf->redis_timeout, prev->redis_timeout, 50);
    ngx_conf_merge_uint_value(conf->on_error, prev->on_error,
                              NGX_HTTP_VMS_LIMIT_POLICY_LOCAL);
    ngx_conf_merge_str_value(conf->route, prev->route, "");

    if (conf->stream_ttl < 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "vms_limit_streams_ttl must be at least 1s");
        return NGX_CONF_ERROR;
    }

    if (conf->session_ttl < 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "vms_limit_session_ttl must be at least 1s");
        return NGX_CONF_ERROR;
    }

    /* a lease renewed less often than it lasts would lapse while playing */
    if (conf->session_renew > conf->stream_ttl / 3) {
        conf->session_renew = conf->stream_ttl / 3;
    }

    if (conf->streams == NGX_HTTP_VMS_LIMIT_STREAMS_MEDIA
        && lmcf->session_key.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"vms_limit_streams media\" needs "
                           "\"vms_limit_session_key\"");
        return NGX_CONF_ERROR;
    }

    if (conf->store == NGX_HTTP_VMS_LIMIT_STORE_REDIS
        && lmcf->redis_conf == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"vms_limit_store redis\" needs \"vms_limit_redis\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_vms_limit_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_vms_limit_handler;

    /* the failed-auth budget is looked at before the access phase (a
     * client over it learns nothing about its token) and charged once the
     * answer is known */
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_vms_limit_fail_check;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_vms_limit_fail_charge;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_vms_limit_route_count;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_vms_limit_route_mark;

    return NGX_OK;
}


static ngx_int_t
ngx_http_vms_limit_init_process(ngx_cycle_t *cycle)
{
    ngx_http_vms_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_vms_limit_module);

    if (lmcf == NULL || lmcf->redis == NULL) {
        return NGX_OK;
    }

    ngx_vms_redis_set_stats(lmcf->redis, &ngx_http_vms_limit_counters(lmcf)->redis);

    return ngx_vms_redis_init_process(lmcf->redis, cycle);
}


static void
ngx_http_vms_limit_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_vms_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_vms_limit_module);

    if (lmcf != NULL && lmcf->redis != NULL) {
        ngx_vms_redis_exit_process(lmcf->redis);
    }
}
