/*
 * vms_limit_route NAME: answers of a location counted per route name and
 * status, for vms_api_requests_total{route,status} (status.c).
 *
 * The route is that of the first location with one the request went
 * through (marked in the rewrite phase): an answer nginx redirects to an
 * error_page location, or a `rewrite ... last` to an internal one, counts
 * under the route the client asked for.  Our rewrite handler runs before
 * the rewrite module's (a dynamic module registers later, and a phase's
 * handlers run last-registered first), so a location's `return` is counted.
 *
 * Routes are named in the configuration, never taken from the request, so
 * the label set stays bounded (at most NGX_HTTP_VMS_LIMIT_ROUTES names x the
 * statuses actually answered).  The table is in the shared zone: all workers
 * count into it and it survives reloads, as the other counters do.
 */

#include "ngx_http_vms_limit.h"


static ngx_int_t ngx_http_vms_limit_route_slot(
    ngx_http_vms_limit_main_conf_t *lmcf, ngx_str_t *name);


/* vms_limit_route NAME | off */
char *
ngx_http_vms_limit_route_cmd(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_limit_loc_conf_t  *llcf = conf;

    u_char     *p;
    ngx_str_t  *value;

    if (llcf->route.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        ngx_str_set(&llcf->route, "");
        return NGX_CONF_OK;
    }

    /* a label value written without escaping, and a stable dashboard key */
    if (value[1].len == 0 || value[1].len >= NGX_HTTP_VMS_LIMIT_ROUTE_LEN) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "vms_limit_route \"%V\": 1 to %d characters",
                           &value[1], NGX_HTTP_VMS_LIMIT_ROUTE_LEN - 1);
        return NGX_CONF_ERROR;
    }

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
              || *p == '_'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "vms_limit_route \"%V\": only [a-z0-9_]",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    llcf->route = value[1];

    return NGX_CONF_OK;
}


ngx_http_vms_limit_route_t *
ngx_http_vms_limit_routes(ngx_http_vms_limit_main_conf_t *lmcf)
{
    ngx_vms_shm_t               *ctx = lmcf->shm_zone->data;
    ngx_http_vms_limit_shctx_t  *sh = ctx->sh;

    return sh->routes;
}


static void
ngx_http_vms_limit_route_marker(void *data)
{
    (void) data;   /* marker only: found by its handler address */
}


/* the marked location's conf; module ctx would not survive a redirect */
static ngx_http_vms_limit_loc_conf_t *
ngx_http_vms_limit_route_marked(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_vms_limit_route_marker) {
            return cln->data;
        }
    }

    return NULL;
}


/* Rewrite phase: remember the first routed location of the request. */
ngx_int_t
ngx_http_vms_limit_route_mark(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t             *cln;
    ngx_http_vms_limit_loc_conf_t  *llcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_limit_module);
    if (llcf->route.len == 0 || ngx_http_vms_limit_route_marked(r) != NULL) {
        return NGX_DECLINED;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    cln->handler = ngx_http_vms_limit_route_marker;
    cln->data = llcf;

    return NGX_DECLINED;
}


/* Log phase: count the answer under the marked route, the status as
 * $status reports it. */
ngx_int_t
ngx_http_vms_limit_route_count(ngx_http_request_t *r)
{
    ngx_int_t                        slot;
    ngx_uint_t                       status;
    ngx_http_vms_limit_route_t      *routes;
    ngx_http_vms_limit_loc_conf_t   *llcf;
    ngx_http_vms_limit_main_conf_t  *lmcf;

    if (r != r->main) {
        return NGX_OK;
    }

    llcf = ngx_http_vms_limit_route_marked(r);
    if (llcf == NULL) {
        return NGX_OK;
    }

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_limit_module);

    /* the loc conf is this worker's copy (after fork): a per-worker cache */
    slot = llcf->route_slot;
    if (slot == -1) {
        slot = ngx_http_vms_limit_route_slot(lmcf, &llcf->route);
        llcf->route_slot = slot;
        if (slot < 0) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "vms_limit_route \"%V\" not counted: the zone "
                          "holds %d route names already",
                          &llcf->route, NGX_HTTP_VMS_LIMIT_ROUTES);
        }
    }
    if (slot < 0) {
        return NGX_OK;
    }

    status = r->err_status ? r->err_status : r->headers_out.status;
    if (status >= NGX_HTTP_VMS_LIMIT_STATUSES) {
        status = 0;
    }

    routes = ngx_http_vms_limit_routes(lmcf);
    (void) ngx_atomic_fetch_add(&routes[slot].status[status], 1);

    return NGX_OK;
}


/* The zone's slot of a name, claimed when new; -2 when the table is full
 * (names stay across reloads, so renaming routes often can fill it). */
static ngx_int_t
ngx_http_vms_limit_route_slot(ngx_http_vms_limit_main_conf_t *lmcf,
    ngx_str_t *name)
{
    ngx_int_t                    i, slot;
    ngx_vms_shm_t               *ctx = lmcf->shm_zone->data;
    ngx_http_vms_limit_shctx_t  *sh = ctx->sh;
    ngx_http_vms_limit_route_t  *rt;

    slot = -2;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    for (i = 0; i < NGX_HTTP_VMS_LIMIT_ROUTES; i++) {
        rt = &sh->routes[i];

        if (rt->len == 0) {
            ngx_memcpy(rt->name, name->data, name->len);
            ngx_memory_barrier();
            rt->len = name->len;
            slot = i;
            break;
        }

        if (rt->len == name->len
            && ngx_strncmp(rt->name, name->data, name->len) == 0)
        {
            slot = i;
            break;
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return slot;
}
