/*
 * Audit: every POST/PUT/PATCH/DELETE under a location with "vms_auth_audit on" produces
 * {"schema":1,"type":"audit","id","user","action","resource","status","ts","ip","trace_id","tenant_id"}
 * to Kafka (vms_auth_audit_topic, keyed by user) from the log phase, through ngx_vms_kafka: never
 * blocking, with vms_auth_audit_file as the fallback.  Rejected requests are audited too (user null).
 * The resource is the URI path only: query strings may carry tokens.  "id" (128 random bits, hex)
 * lets the consumer store each record once however often it is delivered.
 */
#include <openssl/rand.h>

#include "ngx_http_vms_auth_module.h"

static ngx_str_t ngx_http_vms_auth_request_id = ngx_string("request_id");

static const char *
ngx_http_vms_auth_cstr(ngx_pool_t *pool, u_char *data, size_t len)
{
    u_char *p = ngx_pnalloc(pool, len + 1);
    if (p) {
        ngx_memcpy(p, data, len);
        p[len] = '\0';
    }
    return (char *) p;
}

static ngx_table_elt_t *
ngx_http_vms_auth_header(ngx_http_request_t *r, const char *name)
{
    ngx_list_part_t *part = &r->headers_in.headers.part;
    ngx_table_elt_t *h = part->elts;
    size_t nl = ngx_strlen(name);
    for (ngx_uint_t i = 0;; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }
            part = part->next;
            h = part->elts;
            i = 0;
        }
        if (h[i].key.len == nl && ngx_strncasecmp(h[i].key.data, (u_char *) name, nl) == 0) {
            return &h[i];
        }
    }
}

/* A trace id only from a safe alphabet and size; else nginx's $request_id. */
static const char *
ngx_http_vms_auth_trace_id(ngx_http_request_t *r)
{
    static const char *names[] = { "X-Trace-Id", "X-Request-Id", "traceparent" };
    for (ngx_uint_t n = 0; n < 3; n++) {
        ngx_table_elt_t *h = ngx_http_vms_auth_header(r, names[n]);
        if (h == NULL || h->value.len == 0 || h->value.len > 128) {
            continue;
        }
        ngx_uint_t ok = 1;
        for (size_t i = 0; i < h->value.len && ok; i++) {
            u_char c = h->value.data[i];
            ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'
                 || c == '_' || c == '.';
        }
        if (ok) {
            return ngx_http_vms_auth_cstr(r->pool, h->value.data, h->value.len);
        }
    }
    ngx_http_variable_value_t *v = ngx_http_get_variable(r, &ngx_http_vms_auth_request_id,
        ngx_hash_key(ngx_http_vms_auth_request_id.data, ngx_http_vms_auth_request_id.len));
    if (v && !v->not_found) {
        return ngx_http_vms_auth_cstr(r->pool, v->data, v->len);
    }
    return NULL;
}

static json_t *
ngx_http_vms_auth_jstr(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null();
}

ngx_int_t
ngx_http_vms_auth_audit_handler(ngx_http_request_t *r)
{
    ngx_http_vms_auth_loc_conf_t *lcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_auth_module);
    ngx_http_vms_auth_main_conf_t *amcf = ngx_http_get_module_main_conf(r, ngx_http_vms_auth_module);

    if (!lcf->audit || amcf->kafka == NULL
        || !(r->method & (NGX_HTTP_POST | NGX_HTTP_PUT | NGX_HTTP_PATCH | NGX_HTTP_DELETE))) {
        return NGX_OK;
    }
    ngx_http_vms_auth_ctx_t *ctx = ngx_http_get_module_ctx(r, ngx_http_vms_auth_module);
    const char *user = NULL, *tenant = NULL;
    if (ctx && ctx->state == 1 && ctx->has_claims) {
        user = ctx->claims.sub;
        tenant = ctx->claims.tenant;
    }
    ngx_time_t *tp = ngx_timeofday();
    ngx_tm_t tm;
    char ts[32];
    ngx_gmtime(tp->sec, &tm);
    ngx_snprintf((u_char *) ts, sizeof(ts), "%4d-%02d-%02dT%02d:%02d:%02d.%03dZ%Z", tm.ngx_tm_year,
                 tm.ngx_tm_mon, tm.ngx_tm_mday, tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec, tp->msec);
    ngx_uint_t status = r->headers_out.status ? r->headers_out.status : (ngx_uint_t) r->err_status;
    const char *method = ngx_http_vms_auth_cstr(r->pool, r->method_name.data, r->method_name.len);
    const char *uri = ngx_http_vms_auth_cstr(r->pool, r->uri.data, r->uri.len);
    const char *ip = ngx_http_vms_auth_cstr(r->pool, r->connection->addr_text.data,
                                            r->connection->addr_text.len);
    const char *trace = ngx_http_vms_auth_trace_id(r);
    u_char rnd[16];
    char id[33];
    if (method == NULL || uri == NULL || ip == NULL || RAND_bytes(rnd, sizeof(rnd)) != 1) {
        return NGX_OK;
    }
    ngx_hex_dump((u_char *) id, rnd, sizeof(rnd))[0] = '\0';
    /* json_string rejects invalid UTF-8 (a raw URI may hold any bytes): such fields become null */
    json_t *ev = json_pack("{s:i, s:s, s:s, s:o, s:s, s:o, s:i, s:s, s:s, s:o, s:o}",
                           "schema", 1, "type", "audit", "id", id,
                           "user", ngx_http_vms_auth_jstr(user),
                           "action", method,
                           "resource", ngx_http_vms_auth_jstr(uri),
                           "status", (int) status, "ts", ts, "ip", ip,
                           "trace_id", ngx_http_vms_auth_jstr(trace),
                           "tenant_id", ngx_http_vms_auth_jstr(tenant));
    if (ev == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_auth: audit record not built");
        return NGX_OK;
    }
    char *text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    if (text) {
        char topic[256];
        ngx_cpystrn((u_char *) topic, amcf->audit_topic.data, ngx_min(amcf->audit_topic.len + 1, sizeof(topic)));
        (void) ngx_vms_kafka_produce(amcf->kafka, topic, user, user ? ngx_strlen(user) : 0, text,
                                     ngx_strlen(text));
        free(text);
    }
    return NGX_OK;
}
