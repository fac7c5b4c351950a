/*
 * vms_playback responses: JSON errors, text bodies, segment files and clips
 * (file buffers, so nginx uses sendfile — in a thread pool with `aio threads`
 * — and its range filter answers Range requests).
 */
#include "ngx_http_vms_playback.h"

#include <limits.h>
#include <stdlib.h>

ngx_int_t
ngx_http_vms_playback_error(ngx_http_request_t *r, ngx_uint_t status, const char *msg)
{
    pb_buf_t b = { 0 };
    pb_buf_add(&b, "{\"status\":\"error\",\"error\":\"", 27);
    for (const char *p = msg; *p; p++) {
        if (*p == '"' || *p == '\\') {
            pb_buf_add(&b, "\\", 1);
        }
        if ((unsigned char) *p >= 0x20) {
            pb_buf_add(&b, p, 1);
        }
    }
    pb_buf_add(&b, "\"}\n", 3);
    r->headers_out.status = status;
    ngx_int_t rc = ngx_http_vms_playback_send_text(r, &b, "application/json", 0);
    pb_buf_free(&b);
    return rc;
}

ngx_int_t
ngx_http_vms_playback_add_header(ngx_http_request_t *r, const char *key, const char *value)
{
    ngx_table_elt_t *h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value.len = ngx_strlen(value);
    h->value.data = ngx_pnalloc(r->pool, h->value.len);
    if (h->value.data == NULL) {
        return NGX_ERROR;
    }
    ngx_memcpy(h->value.data, value, h->value.len);
    return NGX_OK;
}

static ngx_int_t
set_cache_control(ngx_http_request_t *r, time_t max_age)
{
    ngx_table_elt_t *h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }
    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    if (max_age <= 0) {
        ngx_str_set(&h->value, "no-cache");
        return NGX_OK;
    }
    h->value.data = ngx_pnalloc(r->pool, sizeof("public, max-age=, immutable") + NGX_TIME_T_LEN);
    if (h->value.data == NULL) {
        return NGX_ERROR;
    }
    h->value.len = ngx_sprintf(h->value.data, "public, max-age=%T, immutable", max_age)
                   - h->value.data;
    return NGX_OK;
}

ngx_int_t
ngx_http_vms_playback_send_text(ngx_http_request_t *r, const pb_buf_t *b, const char *type,
    ngx_flag_t cacheable)
{
    if (b->oom) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (r->headers_out.status == 0) {
        r->headers_out.status = NGX_HTTP_OK;
    }
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = (off_t) b->len;
    if (set_cache_control(r, 0) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_int_t rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only || b->len == 0) {
        return rc;
    }
    ngx_buf_t *out = ngx_create_temp_buf(r->pool, b->len);
    if (out == NULL) {
        return NGX_ERROR;
    }
    out->last = ngx_cpymem(out->pos, b->p, b->len);
    out->last_buf = (r == r->main) ? 1 : 0;
    out->last_in_chain = 1;
    ngx_chain_t cl = { out, NULL };
    return ngx_http_output_filter(r, &cl);
}

ngx_buf_t *
ngx_http_vms_playback_file_buf(ngx_http_request_t *r, ngx_fd_t fd, const char *rel, off_t from,
    off_t to)
{
    ngx_buf_t *b = ngx_calloc_buf(r->pool);
    ngx_file_t *f = ngx_pcalloc(r->pool, sizeof(ngx_file_t));
    if (b == NULL || f == NULL) {
        return NULL;
    }
    f->fd = fd;
    f->name.data = (u_char *) rel;
    f->name.len = ngx_strlen(rel);
    f->log = r->connection->log;
    f->directio = 0;
    b->file = f;
    b->in_file = 1;
    b->file_pos = from;
    b->file_last = to;
    return b;
}

ngx_int_t
ngx_http_vms_playback_send_chain(ngx_http_request_t *r, ngx_chain_t *out, off_t len,
    time_t max_age)
{
    ngx_str_set(&r->headers_out.content_type, "video/mp4");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;
    r->allow_ranges = 1;
    if (set_cache_control(r, max_age) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_int_t rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }
    return ngx_http_output_filter(r, out);
}

ngx_int_t
ngx_http_vms_playback_send_file(ngx_http_request_t *r, ngx_fd_t fd, const char *rel,
    const struct stat *st, time_t max_age, int etag)
{
    r->headers_out.last_modified_time = st->st_mtime;
    if (etag && ngx_http_set_etag(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_buf_t *b = ngx_http_vms_playback_file_buf(r, fd, rel, 0, st->st_size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    if (st->st_size == 0) {
        b->in_file = 0;
        b->sync = 1;
    }
    ngx_chain_t out = { b, NULL };
    return ngx_http_vms_playback_send_chain(r, &out, st->st_size, max_age);
}

static const char *
status_text(ngx_uint_t status)
{
    switch (status) {
    case NGX_HTTP_BAD_REQUEST:
        return "bad request";
    case NGX_HTTP_NOT_FOUND:
        return "not found";
    case NGX_HTTP_SERVICE_UNAVAILABLE:
        return "service unavailable (see the error log)";
    default:
        return "internal error (see the error log)";
    }
}

ngx_int_t
ngx_http_vms_playback_finish(ngx_http_request_t *r, ngx_int_t rc)
{
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE && !r->header_sent) {
        return ngx_http_vms_playback_error(r, (ngx_uint_t) rc, status_text((ngx_uint_t) rc));
    }
    return rc;
}
