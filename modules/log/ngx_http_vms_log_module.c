/*
 * ngx_http_vms_log_module: no credentials in nginx's error log (docs/ARCHITECTURE.md, "Logs").
 *
 * nginx appends the request's context to every error-log line of a request:
 * `request: "GET /live/cam1/index.m3u8?jwt=eyJ..."`, the referrer, the
 * upstream URL (which carries the query string), the subrequest.  Tokens ride
 * in query strings (players cannot set headers on media URLs), so that
 * context would copy them into error.log.  With `vms_log_redact on` (the
 * default), the first phase handler of each request wraps the connection's
 * log handler (nginx's ngx_http_log_error) so that whatever it writes passes
 * through core/vms_redact.c first.  The message part of a line is the
 * writing module's own: our modules never put token bytes there.
 *
 * Errors logged before a request reaches this handler (bad request lines,
 * header lines too long) are logged at level info, below the stack's
 * `error_log ... notice`.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "vms_redact.h"


typedef struct {
    ngx_flag_t  redact;
} ngx_http_vms_log_main_conf_t;


static ngx_int_t ngx_http_vms_log_init(ngx_conf_t *cf);
static void *ngx_http_vms_log_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_vms_log_init_main_conf(ngx_conf_t *cf, void *conf);


static ngx_command_t  ngx_http_vms_log_commands[] = {

    { ngx_string("vms_log_redact"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_vms_log_main_conf_t, redact),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_vms_log_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_vms_log_init,                 /* postconfiguration */
    ngx_http_vms_log_create_main_conf,     /* create main configuration */
    ngx_http_vms_log_init_main_conf,       /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_vms_log_module = {
    NGX_MODULE_V1,
    &ngx_http_vms_log_module_ctx,          /* module context */
    ngx_http_vms_log_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* nginx's HTTP log handler (ngx_http_log_error, static in ngx_http_request.c),
 * taken from the first connection seen; the same for every HTTP connection */
static ngx_log_handler_pt  ngx_http_vms_log_http_handler;


static u_char *
ngx_http_vms_log_error(ngx_log_t *log, u_char *buf, size_t len)
{
    u_char  *p;

    p = ngx_http_vms_log_http_handler(log, buf, len);

    return buf + vms_redact(buf, p - buf);
}


static ngx_int_t
ngx_http_vms_log_handler(ngx_http_request_t *r)
{
    ngx_log_t                     *log;
    ngx_http_vms_log_main_conf_t  *lmcf;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_log_module);
    log = r->connection->log;

    if (!lmcf->redact || log->handler == ngx_http_vms_log_error
        || log->handler == NULL)
    {
        return NGX_DECLINED;
    }

    if (ngx_http_vms_log_http_handler == NULL) {
        ngx_http_vms_log_http_handler = log->handler;

    } else if (log->handler != ngx_http_vms_log_http_handler) {
        /* not nginx's HTTP handler (another module's): leave it alone */
        return NGX_DECLINED;
    }

    log->handler = ngx_http_vms_log_error;

    return NGX_DECLINED;
}


static void *
ngx_http_vms_log_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_vms_log_main_conf_t  *lmcf;

    lmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_vms_log_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    lmcf->redact = NGX_CONF_UNSET;

    return lmcf;
}


static char *
ngx_http_vms_log_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_vms_log_main_conf_t  *lmcf = conf;

    ngx_conf_init_value(lmcf->redact, 1);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_vms_log_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_vms_log_handler;

    return NGX_OK;
}
