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

#include <ngx_sha1.h>


static ngx_int_t ngx_http_vms_limit_handler(ngx_http_request_t *r);
static char *ngx_http_vms_limit_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_vms_limit_plan(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_vms_limit_rate_cmd(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_vms_limit_rate_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_vms_limit_streams_cmd(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_vms_limit_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
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
      VMS_LIMIT_LOC|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_limit_loc_conf_t, stream_session),
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

    { ngx_string("vms_limit_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_vms_limit_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_vms_limit_module_ctx = {
    NULL,                                  /* preconfiguration */
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

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_vms_limit_ctx_cleanup) {
            ctx = cln->data;
            ngx_http_set_ctx(r, ctx, ngx_http_vms_limit_module);
            return ctx;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_vms_limit_handler(ngx_http_request_t *r)
{
    ngx_int_t                        rc;
    ngx_pool_cleanup_t              *cln;
    ngx_http_vms_limit_ctx_t        *ctx;
    ngx_http_vms_limit_loc_conf_t   *llcf;
    ngx_http_vms_limit_main_conf_t  *lmcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_limit_module);

    if (!llcf->rate_on
        && llcf->streams != NGX_HTTP_VMS_LIMIT_STREAMS_OPEN
        && llcf->streams != NGX_HTTP_VMS_LIMIT_STREAMS_RENEW)
    {
        return NGX_DECLINED;
    }

    ctx = ngx_http_vms_limit_get_ctx(r);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_vms_limit_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        cln->handler = ngx_http_vms_limit_ctx_cleanup;
        cln->data = ctx;

        ctx->request = r;
        ctx->step = NGX_HTTP_VMS_LIMIT_STEP_RATE;
        ngx_http_set_ctx(r, ctx, ngx_http_vms_limit_module);

        lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_limit_module);
        (void) ngx_atomic_fetch_add(&ngx_http_vms_limit_counters(lmcf)->requests, 1);
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

            rc = ngx_http_vms_limit_rate(r, ctx);
            if (rc != NGX_DECLINED) {
                return rc;
            }

            ctx->step = NGX_HTTP_VMS_LIMIT_STEP_STREAMS;
            ctx->result = NGX_HTTP_VMS_LIMIT_R_NONE;
            continue;

        case NGX_HTTP_VMS_LIMIT_STEP_STREAMS:
            if (llcf->streams != NGX_HTTP_VMS_LIMIT_STREAMS_OPEN
                && llcf->streams != NGX_HTTP_VMS_LIMIT_STREAMS_RENEW)
            {
                ctx->step = NGX_HTTP_VMS_LIMIT_STEP_DONE;
                continue;
            }

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


/* Called by a Redis handler once ctx->result is set. */
void
ngx_http_vms_limit_resume(ngx_http_request_t *r)
{
    ngx_connection_t  *c = r->connection;

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


ngx_int_t
ngx_http_vms_limit_use_redis(ngx_http_vms_limit_main_conf_t *lmcf,
    ngx_http_vms_limit_loc_conf_t *llcf)
{
    return lmcf->redis != NULL
           && llcf->store != NGX_HTTP_VMS_LIMIT_STORE_LOCAL;
}


int64_t
ngx_http_vms_limit_now_us(void)
{
    ngx_time_t  *tp;

    ngx_time_update();
    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000000 + (int64_t) tp->msec * 1000;
}


/*
 * `prefix` + value.  With `digest`, the value is replaced by its SHA-1 in hex
 * (rate keys may be API keys: no secret is stored in Redis key names);
 * otherwise values longer than NGX_HTTP_VMS_LIMIT_KEY_MAX are replaced by
 * "#" + a 64-bit hash, so keys stay bounded in Redis and in the zone.
 */
ngx_int_t
ngx_http_vms_limit_key(ngx_http_request_t *r, ngx_str_t *prefix,
    ngx_str_t *value, ngx_uint_t digest, ngx_str_t *key)
{
    u_char      *p;
    u_char       sum[20];
    uint64_t     h;
    ngx_sha1_t   sha1;

    key->data = ngx_pnalloc(r->pool, prefix->len + NGX_HTTP_VMS_LIMIT_KEY_MAX);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(key->data, prefix->data, prefix->len);

    if (digest) {
        ngx_sha1_init(&sha1);
        ngx_sha1_update(&sha1, value->data, value->len);
        ngx_sha1_final(sum, &sha1);
        p = ngx_hex_dump(p, sum, sizeof(sum));

    } else if (value->len <= NGX_HTTP_VMS_LIMIT_KEY_MAX) {
        p = ngx_cpymem(p, value->data, value->len);

    } else {
        h = vms_lease_hash((const char *) value->data, value->len);
        p = ngx_sprintf(p, "#%016uxL", h);
    }

    key->len = p - key->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_vms_limit_set_header(ngx_http_request_t *r, const char *name,
    int64_t value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (h->value.data == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.len = ngx_sprintf(h->value.data, "%L", value) - h->value.data;

    return NGX_OK;
}


/*
 * Sends a complete JSON response from a phase or content handler and
 * finalizes the request; the caller returns NGX_DONE and touches r no more.
 */
ngx_int_t
ngx_http_vms_limit_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *body, size_t len)
{
    ngx_int_t    rc;
    ngx_buf_t   *b;
    ngx_chain_t  out;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_DONE;
    }
    b->last = ngx_cpymem(b->last, body, len);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    ngx_http_finalize_request(r, ngx_http_output_filter(r, &out));
    return NGX_DONE;
}


/* Policy `closed` with Redis unreachable: 503, the client may retry soon.
 * Finalizes the request like ngx_http_vms_limit_send_json(). */
ngx_int_t
ngx_http_vms_limit_unavailable(ngx_http_request_t *r,
    ngx_http_vms_limit_main_conf_t *lmcf)
{
    static u_char  body[] = "{\"error\":\"limit_unavailable\","
                            "\"message\":\"limit store unavailable\"}\n";

    (void) ngx_atomic_fetch_add(&ngx_http_vms_limit_counters(lmcf)->unavailable, 1);

    if (ngx_http_vms_limit_set_header(r, "Retry-After", 1) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_DONE;
    }

    return ngx_http_vms_limit_send_json(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                        body, sizeof(body) - 1);
}


/* ---- configuration ----------------------------------------------------- */

static char *
ngx_http_vms_limit_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_limit_main_conf_t  *lmcf = conf;

    ngx_int_t              n;
    ngx_str_t             *value, s;
    ngx_uint_t             i;
    ngx_msec_t             ms;
    ngx_vms_redis_conf_t  *rc;

    if (lmcf->redis_conf != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    rc = ngx_vms_redis_conf_parse(cf, &value[1]);
    if (rc == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (n == NGX_ERROR || n > 15) {
                goto invalid;
            }
            rc->db = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "connect_timeout=", 16) == 0) {
            s.data = value[i].data + 16;
            s.len = value[i].len - 16;
            ms = ngx_parse_time(&s, 0);
            if (ms == (ngx_msec_t) NGX_ERROR || ms == 0) {
                goto invalid;
            }
            rc->connect_timeout = ms;
            continue;
        }

        if (ngx_strncmp(value[i].data, "password_env=", 13) == 0) {
            /* a secret from the environment (add "env NAME;" to the main
             * context), never from the config text */
            u_char  *name, *pw;

            name = ngx_pnalloc(cf->pool, value[i].len - 13 + 1);
            if (name == NULL) {
                return NGX_CONF_ERROR;
            }
            ngx_cpystrn(name, value[i].data + 13, value[i].len - 13 + 1);
            pw = (u_char *) getenv((char *) name);
            if (pw == NULL || *pw == '\0') {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "vms_limit_redis: environment variable "
                                   "\"%s\" is not set", name);
                return NGX_CONF_ERROR;
            }
            rc->password.len = ngx_strlen(pw);
            rc->password.data = ngx_pnalloc(cf->pool, rc->password.len);
            if (rc->password.data == NULL) {
                return NGX_CONF_ERROR;
            }
            ngx_memcpy(rc->password.data, pw, rc->password.len);
            continue;
        }

        goto invalid;
    }

    lmcf->redis_conf = rc;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" (expected db=N, "
                       "connect_timeout=TIME or password_env=NAME)", &value[i]);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_vms_limit_plan(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_limit_main_conf_t  *lmcf = conf;

    ngx_int_t                   n;
    ngx_str_t                  *value;
    ngx_uint_t                  i;
    ngx_http_vms_limit_plan_t  *plan;

    value = cf->args->elts;

    n = ngx_atoi(value[2].data, value[2].len);
    if (n == NGX_ERROR || n > 100000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid stream limit \"%V\" of plan \"%V\"",
                           &value[2], &value[1]);
        return NGX_CONF_ERROR;
    }

    if (lmcf->plans == NULL) {
        lmcf->plans = ngx_array_create(cf->pool, 4,
                                       sizeof(ngx_http_vms_limit_plan_t));
        if (lmcf->plans == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    plan = lmcf->plans->elts;
    for (i = 0; i < lmcf->plans->nelts; i++) {
        if (plan[i].name.len == value[1].len
            && ngx_strncmp(plan[i].name.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate plan \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    plan = ngx_array_push(lmcf->plans);
    if (plan == NULL) {
        return NGX_CONF_ERROR;
    }

    plan->name = value[1];
    plan->max = n;

    return NGX_CONF_OK;
}


static char *
ngx_http_vms_limit_rate_cmd(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_limit_loc_conf_t  *llcf = conf;

    int64_t      limit, period, burst;
    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (llcf->rate_on != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts > 2) {
            return "takes no parameters after \"off\"";
        }
        llcf->rate_on = 0;
        return NGX_CONF_OK;
    }

    if (vms_rate_parse((const char *) value[1].data, value[1].len,
                       &limit, &period) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rate \"%V\" (expected COUNT/PERIOD, "
                           "e.g. 100/m, 10/s, 5/30s)", &value[1]);
        return NGX_CONF_ERROR;
    }

    burst = limit;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);
            if (n == NGX_ERROR || n < 1) {
                goto invalid;
            }
            burst = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "scope=", 6) == 0
            && value[i].len > 6 && value[i].len <= 6 + 64)
        {
            llcf->rate_scope.data = value[i].data + 6;
            llcf->rate_scope.len = value[i].len - 6;
            continue;
        }

        goto invalid;
    }

    if (vms_gcra_init(&llcf->gcra, limit, period, burst) != 0) {
        return "has a value out of range";
    }

    llcf->rate_on = 1;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" (expected burst=N or "
                       "scope=NAME)", &value[i]);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_vms_limit_rate_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_limit_loc_conf_t  *llcf = conf;

    ngx_str_t                         *value;
    ngx_uint_t                         i;
    ngx_http_complex_value_t          *cv;
    ngx_http_compile_complex_value_t   ccv;

    if (llcf->rate_keys != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    llcf->rate_keys = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                       sizeof(ngx_http_complex_value_t));
    if (llcf->rate_keys == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        cv = ngx_array_push(llcf->rate_keys);
        if (cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_vms_limit_streams_cmd(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_limit_loc_conf_t  *llcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (llcf->streams != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        llcf->streams = NGX_HTTP_VMS_LIMIT_STREAMS_OFF;

    } else if (ngx_strcmp(value[1].data, "open") == 0) {
        llcf->streams = NGX_HTTP_VMS_LIMIT_STREAMS_OPEN;

    } else if (ngx_strcmp(value[1].data, "renew") == 0) {
        llcf->streams = NGX_HTTP_VMS_LIMIT_STREAMS_RENEW;

    } else if (ngx_strcmp(value[1].data, "release") == 0) {
        if (cf->cmd_type != NGX_HTTP_LOC_CONF) {
            return "release is allowed in a location only";
        }
        llcf->streams = NGX_HTTP_VMS_LIMIT_STREAMS_RELEASE;
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
        clcf->handler = ngx_http_vms_limit_release_handler;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" (expected off, open, renew "
                           "or release)", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_vms_limit_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_vms_limit_status_handler;

    return NGX_CONF_OK;
}


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

    if (lmcf->zone_size < 8 * ngx_pagesize) {
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
        if (lmcf->gcra_script == NULL || lmcf->acquire_script == NULL
            || lmcf->renew_script == NULL)
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
     */

    conf->rate_on = NGX_CONF_UNSET;
    conf->rate_keys = NGX_CONF_UNSET_PTR;
    conf->dry_run = NGX_CONF_UNSET;
    conf->streams = NGX_CONF_UNSET_UINT;
    conf->stream_user = NGX_CONF_UNSET_PTR;
    conf->stream_session = NGX_CONF_UNSET_PTR;
    conf->stream_plan = NGX_CONF_UNSET_PTR;
    conf->stream_max = NGX_CONF_UNSET_PTR;
    conf->stream_ttl = NGX_CONF_UNSET_MSEC;
    conf->store = NGX_CONF_UNSET_UINT;
    conf->redis_timeout = NGX_CONF_UNSET_MSEC;
    conf->on_error = NGX_CONF_UNSET_UINT;

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

    ngx_http_vms_limit_main_conf_t  *lmcf;
    ngx_http_complex_value_t        *cv;

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
            prev->rate_keys = ngx_array_create(cf->pool, 1,
                                               sizeof(ngx_http_complex_value_t));
            if (prev->rate_keys == NULL) {
                return NGX_CONF_ERROR;
            }
            cv = ngx_http_vms_limit_cv(cf, "$remote_addr");
            if (cv == NULL) {
                return NGX_CONF_ERROR;
            }
            *(ngx_http_complex_value_t *) ngx_array_push(prev->rate_keys) = *cv;
        }
        conf->rate_keys = prev->rate_keys;
    }

    ngx_conf_merge_value(conf->dry_run, prev->dry_run, 0);

    if (conf->streams == NGX_CONF_UNSET_UINT) {
        /* release is a content handler: never inherited */
        conf->streams = (prev->streams == NGX_CONF_UNSET_UINT
                         || prev->streams == NGX_HTTP_VMS_LIMIT_STREAMS_RELEASE)
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

    VMS_LIMIT_MERGE_CV(stream_user, "$remote_addr")
    VMS_LIMIT_MERGE_CV(stream_session, "$uri")
    VMS_LIMIT_MERGE_CV(stream_plan, "")
    VMS_LIMIT_MERGE_CV(stream_max, "")

#undef VMS_LIMIT_MERGE_CV

    ngx_conf_merge_msec_value(conf->stream_ttl, prev->stream_ttl, 30000);
    ngx_conf_merge_uint_value(conf->store, prev->store,
                              NGX_HTTP_VMS_LIMIT_STORE_AUTO);
    ngx_conf_merge_msec_value(conf->redis_timeout, prev->redis_timeout, 50);
    ngx_conf_merge_uint_value(conf->on_error, prev->on_error,
                              NGX_HTTP_VMS_LIMIT_POLICY_LOCAL);

    if (conf->stream_ttl < 1000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "vms_limit_streams_ttl must be at least 1s");
        return NGX_CONF_ERROR;
    }

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_vms_limit_module);

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
