/*
 * ngx_http_vms_limit_module: per-consumer rate limits and per-user concurrent
 * stream leases, exact across nginx nodes through Redis (docs/limit.md).
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_vms_redis.h"


typedef struct {
    ngx_vms_redis_t  *redis;
} ngx_http_vms_limit_main_conf_t;


static char *ngx_http_vms_limit_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void *ngx_http_vms_limit_create_main_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_vms_limit_init_process(ngx_cycle_t *cycle);
static void ngx_http_vms_limit_exit_process(ngx_cycle_t *cycle);


static ngx_command_t  ngx_http_vms_limit_commands[] = {

    { ngx_string("vms_limit_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_vms_limit_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_vms_limit_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */
    ngx_http_vms_limit_create_main_conf,   /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
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


static char *
ngx_http_vms_limit_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_limit_main_conf_t  *lmcf = conf;

    ngx_str_t             *value;
    ngx_vms_redis_conf_t  *rc;

    if (lmcf->redis != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    rc = ngx_vms_redis_conf_parse(cf, &value[1]);
    if (rc == NULL) {
        return NGX_CONF_ERROR;
    }

    lmcf->redis = ngx_vms_redis_create(cf, rc);
    if (lmcf->redis == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_vms_limit_create_main_conf(ngx_conf_t *cf)
{
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_vms_limit_main_conf_t));
}


static ngx_int_t
ngx_http_vms_limit_init_process(ngx_cycle_t *cycle)
{
    ngx_http_vms_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_vms_limit_module);

    if (lmcf != NULL && lmcf->redis != NULL) {
        return ngx_vms_redis_init_process(lmcf->redis, cycle);
    }

    return NGX_OK;
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
