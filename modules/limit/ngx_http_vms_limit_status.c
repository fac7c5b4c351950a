/*
 * vms_limit status location: the module's counters (all workers, from the
 * shared zone) in Prometheus text format.
 */

#include "ngx_http_vms_limit.h"


#define VMS_LIMIT_METRIC(name, help, type)                                    \
    "# HELP " name " " help "\n# TYPE " name " " type "\n"


/* one non-zero route counter, copied before printing so the buffer's size
 * holds even while workers go on counting */
typedef struct {
    ngx_uint_t         route;
    ngx_uint_t         status;
    ngx_atomic_uint_t  value;
} ngx_http_vms_limit_sample_t;

#define VMS_LIMIT_ROUTE_LINE_MAX                                              \
    (sizeof("vms_api_requests_total{route=\"\",status=\"\"} \n")              \
     + NGX_HTTP_VMS_LIMIT_ROUTE_LEN + NGX_INT_T_LEN + NGX_ATOMIC_T_LEN)


ngx_int_t
ngx_http_vms_limit_status_handler(ngx_http_request_t *r)
{
    size_t                           size;
    ngx_int_t                        rc;
    ngx_uint_t                       i, k, n, max;
    ngx_atomic_uint_t                v;
    ngx_http_vms_limit_route_t      *routes;
    ngx_http_vms_limit_sample_t     *samples;
    ngx_buf_t                       *b;
    ngx_chain_t                      out;
    ngx_http_vms_limit_counters_t   *c;
    ngx_http_vms_limit_main_conf_t  *lmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_limit_module);
    c = ngx_http_vms_limit_counters(lmcf);

    routes = ngx_http_vms_limit_routes(lmcf);

    n = 0;
    for (i = 0; i < NGX_HTTP_VMS_LIMIT_ROUTES && routes[i].len; i++) {
        for (k = 0; k < NGX_HTTP_VMS_LIMIT_STATUSES; k++) {
            n += routes[i].status[k] != 0;
        }
    }

    max = n;
    samples = ngx_palloc(r->pool, (max + 1) * sizeof(ngx_http_vms_limit_sample_t));
    if (samples == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a counter (or route) that turned non-zero since the count waits for
     * the next scrape */
    n = 0;
    for (i = 0; i < NGX_HTTP_VMS_LIMIT_ROUTES && routes[i].len; i++) {
        for (k = 0; k < NGX_HTTP_VMS_LIMIT_STATUSES && n < max; k++) {
            v = routes[i].status[k];
            if (v != 0) {
                samples[n].route = i;
                samples[n].status = k;
                samples[n].value = v;
                n++;
            }
        }
    }

    size = 4096 + 256 + n * VMS_LIMIT_ROUTE_LINE_MAX;
    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_slprintf(b->last, b->end,
        VMS_LIMIT_METRIC("vms_api_requests",
                         "Requests through locations with a vms_limit check.",
                         "counter")
        "vms_api_requests %uA\n"
        VMS_LIMIT_METRIC("vms_limit_rejections_total",
                         "Requests refused, by reason.", "counter")
        "vms_limit_rejections_total{reason=\"rate\"} %uA\n"
        "vms_limit_rejections_total{reason=\"streams\"} %uA\n"
        "vms_limit_rejections_total{reason=\"unavailable\"} %uA\n"
        "vms_limit_rejections_total{reason=\"auth_failures\"} %uA\n"
        VMS_LIMIT_METRIC("vms_limit_auth_failures_total",
                         "Answers 401/403 charged to the failed-auth budget.",
                         "counter")
        "vms_limit_auth_failures_total %uA\n"
        VMS_LIMIT_METRIC("vms_limit_rate_allowed_total",
                         "Requests allowed by the rate limit.", "counter")
        "vms_limit_rate_allowed_total %uA\n"
        VMS_LIMIT_METRIC("vms_limit_dry_run_rejections_total",
                         "Requests over the rate limit allowed by dry-run mode.",
                         "counter")
        "vms_limit_dry_run_rejections_total %uA\n"
        VMS_LIMIT_METRIC("vms_limit_streams_total",
                         "Stream lease decisions, by outcome.", "counter")
        "vms_limit_streams_total{outcome=\"admitted\"} %uA\n"
        "vms_limit_streams_total{outcome=\"renewed\"} %uA\n"
        "vms_limit_streams_total{outcome=\"released\"} %uA\n"
        VMS_LIMIT_METRIC("vms_limit_fallback_total",
                         "Decisions taken without Redis, by policy.", "counter")
        "vms_limit_fallback_total{policy=\"local\"} %uA\n"
        "vms_limit_fallback_total{policy=\"open\"} %uA\n"
        VMS_LIMIT_METRIC("vms_limit_shm_full_total",
                         "Entries that did not fit in the shared zone "
                         "(request allowed).", "counter")
        "vms_limit_shm_full_total %uA\n"
        VMS_LIMIT_METRIC("vms_limit_redis_calls_total",
                         "Redis calls sent.", "counter")
        "vms_limit_redis_calls_total %uA\n"
        VMS_LIMIT_METRIC("vms_limit_redis_errors_total",
                         "Redis error replies and calls lost with a connection.",
                         "counter")
        "vms_limit_redis_errors_total %uA\n"
        VMS_LIMIT_METRIC("vms_limit_redis_timeouts_total",
                         "Redis calls that timed out.", "counter")
        "vms_limit_redis_timeouts_total %uA\n"
        VMS_LIMIT_METRIC("vms_limit_redis_unavailable_total",
                         "Redis calls not sent: no connection or too many in "
                         "flight.", "counter")
        "vms_limit_redis_unavailable_total %uA\n"
        VMS_LIMIT_METRIC("vms_limit_redis_connects_total",
                         "Redis connections established.", "counter")
        "vms_limit_redis_connects_total %uA\n"
        VMS_LIMIT_METRIC("vms_limit_redis_disconnects_total",
                         "Redis connections lost or failed.", "counter")
        "vms_limit_redis_disconnects_total %uA\n",
        c->requests,
        c->rate_rejected, c->streams_rejected, c->unavailable,
        c->fail_rejected, c->fail_charged,
        c->rate_allowed, c->rate_dry_run,
        c->streams_admitted, c->streams_renewed, c->streams_released,
        c->fallback_local, c->fallback_open, c->shm_full,
        c->redis.calls, c->redis.errors, c->redis.timeouts, c->redis.declined,
        c->redis.connects, c->redis.disconnects);

    b->last = ngx_slprintf(b->last, b->end,
        VMS_LIMIT_METRIC("vms_api_requests_total",
                         "Answers of locations with a vms_limit_route, by "
                         "route and status.", "counter"));

    for (i = 0; i < n; i++) {
        b->last = ngx_slprintf(b->last, b->end,
                       "vms_api_requests_total{route=\"%*s\",status=\"%ui\"} %uA\n",
                       (size_t) routes[samples[i].route].len,
                       routes[samples[i].route].name,
                       samples[i].status, samples[i].value);
    }

    b->last_buf = 1;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "text/plain; version=0.0.4");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
