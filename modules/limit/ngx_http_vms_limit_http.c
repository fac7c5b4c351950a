/*
 * vms_limit request helpers shared by the steps: resuming after Redis,
 * keys, headers, JSON answers.
 */

#include "ngx_http_vms_limit.h"

#include <ngx_sha1.h>


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

    /* the event loop's cached time (ms): no clock call per request */
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
