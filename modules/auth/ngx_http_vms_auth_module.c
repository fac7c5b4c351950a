/*
 * vms_auth: JWT authentication and authorization for streams and APIs.
 */
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

typedef struct {
    ngx_flag_t  enable;
} ngx_http_vms_auth_loc_conf_t;

static void *ngx_http_vms_auth_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_vms_auth_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child);
static ngx_int_t ngx_http_vms_auth_init(ngx_conf_t *cf);

static ngx_command_t ngx_http_vms_auth_commands[] = {
    { ngx_string("vms_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_vms_auth_loc_conf_t, enable),
      NULL },
    ngx_null_command
};

static ngx_http_module_t ngx_http_vms_auth_module_ctx = {
    NULL, ngx_http_vms_auth_init,
    NULL, NULL, NULL, NULL,
    ngx_http_vms_auth_create_loc_conf, ngx_http_vms_auth_merge_loc_conf
};

ngx_module_t ngx_http_vms_auth_module = {
    NGX_MODULE_V1, &ngx_http_vms_auth_module_ctx, ngx_http_vms_auth_commands, NGX_HTTP_MODULE,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NGX_MODULE_V1_PADDING
};

static ngx_int_t
ngx_http_vms_auth_handler(ngx_http_request_t *r)
{
    ngx_http_vms_auth_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_auth_module);
    if (!lcf->enable) {
        return NGX_DECLINED;
    }
    /* Placeholder until token verification lands: no credentials, no entry. */
    return NGX_HTTP_UNAUTHORIZED;
}

static void *
ngx_http_vms_auth_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_vms_auth_loc_conf_t *conf = ngx_pcalloc(cf->pool, sizeof(*conf));
    if (conf == NULL) {
        return NULL;
    }
    conf->enable = NGX_CONF_UNSET;
    return conf;
}

static char *
ngx_http_vms_auth_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_vms_auth_loc_conf_t *prev = parent, *conf = child;
    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    return NGX_CONF_OK;
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
    return NGX_OK;
}
