/*
 * vms_limit request helpers shared by the steps: Redis calls (the GCRA
 * script, waiting for a reply, a failed call), resuming after Redis, keys,
 * headers, JSON answers.
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


/*
 * What a phase step does with the rc of its ngx_vms_redis_eval(): NGX_AGAIN
 * while the reply is awaited (*result WAITING; the handler resumes the
 * request), NGX_OK when the call was not sent (*result UNAVAILABLE: the step
 * applies its outage policy at once), NGX_HTTP_INTERNAL_SERVER_ERROR.
 */
ngx_int_t
ngx_http_vms_limit_wait(ngx_int_t rc, ngx_uint_t *result)
{
    if (rc == NGX_OK) {
        *result = NGX_HTTP_VMS_LIMIT_R_WAITING;
        return NGX_AGAIN;
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *result = NGX_HTTP_VMS_LIMIT_R_UNAVAILABLE;
    return NGX_OK;
}


/*
 * A content handler's ngx_vms_redis_eval() (rc) that was not sent is
 * answered here: 500 on an error, 503 while Redis is unreachable (a call
 * that needs Redis has no local answer).  Returns NGX_DONE: the caller
 * touches r no more.
 */
ngx_int_t
ngx_http_vms_limit_sent(ngx_http_request_t *r,
    ngx_http_vms_limit_main_conf_t *lmcf, ngx_int_t rc)
{
    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);

    } else if (rc == NGX_DECLINED) {
        (void) ngx_http_vms_limit_unavailable(r, lmcf);
    }

    return NGX_DONE;
}


/* A call that timed out or failed (Redis' error text when it sent one). */
void
ngx_http_vms_limit_redis_failed(ngx_http_request_t *r,
    ngx_vms_redis_status_e status, redisReply *reply, const char *what)
{
    if (status == NGX_VMS_REDIS_TIMEOUT) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "vms_limit: %s timed out in Redis", what);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "vms_limit: %s failed in Redis: %*s", what,
                  (size_t) (reply && reply->str ? reply->len : 9),
                  reply && reply->str ? reply->str : "no reply");
}


/*
 * The GCRA script (ngx_http_vms_limit_scripts.h) for key: KEYS key; ARGV
 * interval, burst and, with peek, "1" (look without storing).  The
 * arguments are copied; handler NULL: nobody waits for the reply.
 */
ngx_int_t
ngx_http_vms_limit_gcra_eval(ngx_http_request_t *r, ngx_pool_t *pool,
    ngx_str_t *key, const vms_gcra_t *g, ngx_uint_t peek,
    ngx_vms_redis_handler_pt handler, void *data)
{
    size_t                           lens[4];
    const char                      *argv[4];
    ngx_http_vms_limit_loc_conf_t   *llcf;
    ngx_http_vms_limit_main_conf_t  *lmcf;
    u_char                           interval[NGX_INT64_LEN];
    u_char                           burst[NGX_INT64_LEN];

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_limit_module);
    llcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_limit_module);

    argv[0] = (const char *) key->data;
    lens[0] = key->len;
    argv[1] = (const char *) interval;
    lens[1] = ngx_sprintf(interval, "%L", g->interval_us) - interval;
    argv[2] = (const char *) burst;
    lens[2] = ngx_sprintf(burst, "%L", g->burst) - burst;
    argv[3] = "1";
    lens[3] = 1;

    return ngx_vms_redis_eval(lmcf->redis, pool, llcf->redis_timeout,
                              lmcf->gcra_script, handler, data, 1,
                              peek ? 4 : 3, argv, lens, NULL);
}


/*
 * The GCRA script's reply {allowed, remaining, retry_after_us, reset_us}
 * into *res: NGX_HTTP_VMS_LIMIT_R_REPLY, or R_UNAVAILABLE when the call
 * failed (logged as `what`).
 */
ngx_uint_t
ngx_http_vms_limit_gcra_reply(ngx_http_request_t *r,
    ngx_vms_redis_status_e status, redisReply *reply, vms_gcra_result_t *res,
    const char *what)
{
    ngx_uint_t  i;

    if (status == NGX_VMS_REDIS_OK && reply->type == REDIS_REPLY_ARRAY
        && reply->elements == 4)
    {
        for (i = 0; i < 4; i++) {
            if (reply->element[i]->type != REDIS_REPLY_INTEGER) {
                break;
            }
        }

        if (i == 4) {
            res->allowed = reply->element[0]->integer ? 1 : 0;
            res->remaining = reply->element[1]->integer;
            res->retry_after_us = reply->element[2]->integer;
            res->reset_us = reply->element[3]->integer;
            return NGX_HTTP_VMS_LIMIT_R_REPLY;
        }
    }

    ngx_http_vms_limit_redis_failed(r, status, reply, what);

    return NGX_HTTP_VMS_LIMIT_R_UNAVAILABLE;
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
