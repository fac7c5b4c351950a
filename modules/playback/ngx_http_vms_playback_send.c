/*
 * vms_playback responses: JSON errors, text bodies, segment files and clips
 * (file buffers, so nginx uses sendfile — in a thread pool with `aio threads`
 * — and its range filter answers Range requests).
 */
#include "ngx_http_vms_playback.h"
#include "pb_fmp4.h"
#include "pb_time.h"

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

static ngx_int_t
add_header(ngx_http_request_t *r, const char *key, const char *value)
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

/*
 * Opens {camera_dir}/{rel} read-only for this request.  rel was validated
 * (no "..", no leading '.'); O_NOFOLLOW refuses a symlinked file and the
 * realpath check refuses a symlinked directory leading out of the camera's
 * directory.  Returns the fd (closed with the request pool) or -1 / -2
 * (not found / refused), logged.
 */
static ngx_fd_t
open_confined(ngx_http_request_t *r, const char *camera_dir, const char *rel, struct stat *st)
{
    char full[PATH_MAX], real[PATH_MAX], base[PATH_MAX];
    if ((size_t) snprintf(full, sizeof(full), "%s/%s", camera_dir, rel) >= sizeof(full)) {
        return -2;
    }
    ngx_fd_t fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno != ENOENT && errno != ENOTDIR) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, ngx_errno,
                          "vms_playback: open \"%s\" refused or failed", full);
            return -2;
        }
        return -1;
    }
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || realpath(camera_dir, base) == NULL
        || realpath(full, real) == NULL || ngx_strncmp(real, base, ngx_strlen(base)) != 0
        || real[ngx_strlen(base)] != '/') {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "vms_playback: \"%s\" is not a regular file inside \"%s\"; refused", full, camera_dir);
        close(fd);
        return -2;
    }
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_pool_cleanup_file_t));
    if (cln == NULL) {
        close(fd);
        return -2;
    }
    ngx_pool_cleanup_file_t *clnf = cln->data;
    cln->handler = ngx_pool_cleanup_file;
    clnf->fd = fd;
    clnf->name = (u_char *) "";
    clnf->log = r->pool->log;
    return fd;
}

static ngx_buf_t *
file_buf(ngx_http_request_t *r, ngx_fd_t fd, const char *rel, off_t from, off_t to)
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

static ngx_int_t
send_chain(ngx_http_request_t *r, ngx_chain_t *out, off_t len, time_t max_age)
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

static ngx_int_t send_rebased(ngx_http_request_t *r, ngx_http_vms_playback_loc_conf_t *conf,
    const char *camera_dir, const char *rel, ngx_fd_t fd, const struct stat *st, int open_seg,
    int64_t seg_start_us, int64_t file0_out_us);

ngx_int_t
ngx_http_vms_playback_send_media(ngx_http_request_t *r, ngx_http_vms_playback_loc_conf_t *conf,
    const char *camera_dir, const char *rel, int64_t seg_start_us, int64_t file0_out_us)
{
    struct stat st;
    ngx_fd_t fd = open_confined(r, camera_dir, rel, &st);
    if (fd == -1) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_NOT_FOUND, "no such recording file");
    }
    if (fd < 0) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_NOT_FOUND, "recording file refused");
    }
    char open_rel[VMS_INDEX_PATH_MAX];
    int open_seg = vms_index_open_path(camera_dir, open_rel, sizeof(open_rel))
                   && ngx_strcmp(open_rel, rel) == 0;
    if (seg_start_us > 0) {
        return send_rebased(r, conf, camera_dir, rel, fd, &st, open_seg, seg_start_us, file0_out_us);
    }
    r->headers_out.last_modified_time = st.st_mtime;
    if (!open_seg && ngx_http_set_etag(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    ngx_buf_t *b = file_buf(r, fd, rel, 0, st.st_size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    if (st.st_size == 0) {
        b->in_file = 0;
        b->sync = 1;
    }
    ngx_chain_t out = { b, NULL };
    return send_chain(r, &out, st.st_size, open_seg ? 0 : conf->closed_max_age);
}

/* pread exactly len bytes at off into pool memory; NULL on a short read */
static u_char *
read_at(ngx_http_request_t *r, ngx_fd_t fd, off_t off, size_t len)
{
    u_char *p = ngx_pnalloc(r->pool, len ? len : 1);
    size_t got = 0;
    while (p != NULL && got < len) {
        ssize_t n = pread(fd, p + got, len - got, off + (off_t) got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return NULL;
        }
        got += (size_t) n;
    }
    return p;
}

static ngx_int_t
chain_add(ngx_http_request_t *r, ngx_chain_t ***last, ngx_buf_t *b)
{
    ngx_chain_t *cl = ngx_alloc_chain_link(r->pool);
    if (b == NULL || cl == NULL) {
        return NGX_ERROR;
    }
    cl->buf = b;
    cl->next = NULL;
    **last = cl;
    *last = &cl->next;
    return NGX_OK;
}

static ngx_buf_t *
mem_buf(ngx_http_request_t *r, u_char *p, size_t len)
{
    ngx_buf_t *b = ngx_calloc_buf(r->pool);
    if (b != NULL) {
        b->pos = b->start = p;
        b->last = b->end = p + len;
        b->memory = 1;
    }
    return b;
}

#define CLIP_MAX_BOX  (1 << 20)

/*
 * Appends e's fragments whose bytes lie in [from, to) to the chain, each
 * moof's tfdt rebased so that the file's first fragment sits at file0_out_us
 * on the output timeline (its index start_us gives every other fragment's
 * place), the rest of each fragment (mdat) as a file buffer.  Bytes between
 * fragments in that span go as they are when with_between is set.
 * *cursor: the file offset the chain has reached.
 */
static ngx_int_t
rebased_fragments(ngx_http_request_t *r, ngx_fd_t fd, const char *camera_dir,
    const vms_index_entry_t *e, const pb_fmp4_tracks_t *tracks, int64_t file0_out_us,
    uint64_t from, uint64_t to, int with_between, uint64_t *cursor, ngx_chain_t ***last, off_t *len)
{
    for (uint32_t k = 0; k < e->nfrags; k++) {
        const vms_index_fragment_t *f = &e->frags[k];
        if (f->offset < from || f->offset + f->size > to) {
            continue;
        }
        if (with_between && f->offset > *cursor) {
            if (chain_add(r, last, file_buf(r, fd, e->path, (off_t) *cursor, (off_t) f->offset)) != NGX_OK) {
                return NGX_ERROR;
            }
            *len += (off_t) (f->offset - *cursor);
        }
        u_char *h = read_at(r, fd, (off_t) f->offset, 8);
        uint32_t msz = h ? ((uint32_t) h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3]) : 0;
        u_char *moof = (msz >= 8 && msz <= f->size && msz <= CLIP_MAX_BOX)
                       ? read_at(r, fd, (off_t) f->offset, msz) : NULL;
        int64_t first[PB_FMP4_MAX_TRACKS], shift[PB_FMP4_MAX_TRACKS];
        if (moof == NULL || pb_fmp4_moof_tfdt(moof, msz, tracks, first, NULL) < 0) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: \"%s/%s\": no "
                          "moof at offset %uL as indexed", camera_dir, e->path, f->offset);
            return NGX_DECLINED;
        }
        /* where this fragment belongs on the output timeline, per track */
        int64_t at = file0_out_us + f->start_us;
        for (int t = 0; t < tracks->n; t++) {
            shift[t] = first[t] < 0 ? 0 : first[t] - at * (int64_t) tracks->timescale[t] / 1000000;
        }
        if (pb_fmp4_moof_tfdt(moof, msz, tracks, NULL, shift) < 0
            || chain_add(r, last, mem_buf(r, moof, msz)) != NGX_OK
            || chain_add(r, last, file_buf(r, fd, e->path, (off_t) (f->offset + msz),
                                           (off_t) (f->offset + f->size))) != NGX_OK) {
            return NGX_ERROR;
        }
        *len += (off_t) f->size;
        *cursor = f->offset + f->size;
    }
    return NGX_OK;
}

/*
 * The clip: the first file's init section, then every fragment of every
 * piece with its moof's decode times (tfdt) rebased so the clip starts at 0
 * and runs on across files and bridged gaps; mdat bytes go by sendfile.
 * Reads are small (init sections, moofs) at offsets the index gives.  The
 * clip ends early where a file's init section differs from the first one
 * (another connection with other codec parameters).
 */
ngx_int_t
ngx_http_vms_playback_send_clip(ngx_http_request_t *r, ngx_http_vms_playback_loc_conf_t *conf,
    const char *camera_dir, const pb_plan_t *plan)
{
    ngx_chain_t *head = NULL, **last = &head;
    off_t len = 0;
    int any_open = 0;
    u_char *init0 = NULL;
    size_t init0_len = 0;
    pb_fmp4_tracks_t tracks;
    int64_t out_us = 0;
    char err[512];

    for (size_t i = 0; i < plan->n; i++) {
        const pb_piece_t *p = &plan->v[i];
        vms_index_entry_t *e = (vms_index_entry_t *) p->seg;
        struct stat st;
        ngx_fd_t fd = open_confined(r, camera_dir, e->path, &st);
        if (fd < 0 || (uint64_t) st.st_size < p->offset + p->length) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: indexed segment "
                          "\"%s/%s\" is missing or shorter than its index says", camera_dir, e->path);
            if (i == 0) {
                return ngx_http_vms_playback_error(r, NGX_HTTP_SERVICE_UNAVAILABLE,
                                                   "an indexed recording file is missing");
            }
            break;
        }
        if (e->init_size == 0 || e->init_size > CLIP_MAX_BOX || e->nfrags == 0
            || vms_index_frags(ngx_http_vms_playback_reader(), e, err, sizeof(err)) < 0) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: \"%s/%s\": no usable "
                          "init section or fragment table for a clip", camera_dir, e->path);
            if (i == 0) {
                return ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                                   "recording index unusable for a clip (see the error log)");
            }
            break;
        }
        u_char *init = read_at(r, fd, 0, e->init_size);
        if (init == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        if (i == 0) {
            if (pb_fmp4_tracks(init, e->init_size, &tracks) < 0) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: \"%s/%s\": "
                              "unreadable init section", camera_dir, e->path);
                return ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                                   "recording file unreadable (see the error log)");
            }
            init0 = init;
            init0_len = e->init_size;
            if (chain_add(r, &last, mem_buf(r, init, init0_len)) != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
            len += (off_t) init0_len;
        } else if (!pb_fmp4_init_compatible(init0, init0_len, init, e->init_size)) {
            break;      /* other tracks or codec parameters: one file cannot hold both */
        }
        any_open |= (e->flags & VMS_SEG_OPEN) != 0;

        uint64_t cursor = p->offset;
        ngx_int_t rc = rebased_fragments(r, fd, camera_dir, e, &tracks,
                                         out_us - (p->start_us - e->start_us), p->offset,
                                         p->offset + p->length, 0, &cursor, &last, &len);
        if (rc == NGX_DECLINED) {
            return ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                               "recording file does not match its index");
        }
        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        out_us += p->duration_us;
    }
    ngx_buf_t *tail = ngx_calloc_buf(r->pool);
    if (tail == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    tail->last_buf = (r == r->main) ? 1 : 0;
    tail->last_in_chain = 1;
    tail->sync = 1;
    if (chain_add(r, &last, tail) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    /* where the clip really starts (the keyframe at or before the asked start) and its length */
    char v[64];
    pb_time_format(v, plan->v[0].start_us);
    if (add_header(r, "X-VMS-Clip-Start", v) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    pb_seconds_format(v, out_us);
    if (add_header(r, "X-VMS-Clip-Duration", v) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    return send_chain(r, head, len, any_open ? 0 : conf->closed_max_age);
}

/*
 * The segment file as it is on disk, byte for byte, except that each moof's
 * decode time is rebased to the output timeline of the playlist that asked
 * for it (?s=segment start&t=output time of its first fragment): so players
 * see one continuous timeline across files whose timestamps restart, and
 * the playlist's byte ranges stay valid (tfdt is rewritten in place).
 */
static ngx_int_t
send_rebased(ngx_http_request_t *r, ngx_http_vms_playback_loc_conf_t *conf, const char *camera_dir,
    const char *rel, ngx_fd_t fd, const struct stat *st, int open_seg, int64_t seg_start_us,
    int64_t file0_out_us)
{
    char err[1024];
    vms_index_result_t res;
    vms_index_reader_t *rd = ngx_http_vms_playback_reader();
    int rc = rd ? vms_index_query(rd, camera_dir, seg_start_us, seg_start_us + 1, &res, err, sizeof(err))
                : VMS_INDEX_ENOMEM;
    if (rc < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: %s", err);
        return ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "recording index unreadable (see the error log)");
    }
    vms_index_entry_t *e = NULL;
    for (size_t i = 0; i < res.n; i++) {
        if (res.v[i].start_us == seg_start_us && ngx_strcmp(res.v[i].path, rel) == 0) {
            e = &res.v[i];
        }
    }
    if (e == NULL) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_NOT_FOUND, "no such segment in the index");
    }
    if (e->nfrags == 0 || e->init_size == 0 || e->init_size > CLIP_MAX_BOX
        || vms_index_frags(rd, e, err, sizeof(err)) < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: \"%s/%s\": no usable "
                      "fragment table", camera_dir, rel);
        return ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "recording index unusable (see the error log)");
    }
    u_char *init = read_at(r, fd, 0, e->init_size);
    pb_fmp4_tracks_t tracks;
    if (init == NULL || pb_fmp4_tracks(init, e->init_size, &tracks) < 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "vms_playback: \"%s/%s\": unreadable "
                      "init section", camera_dir, rel);
        return ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "recording file unreadable (see the error log)");
    }
    /* an open segment: only what its record announces (complete fragments) */
    uint64_t size = open_seg ? e->bytes : (uint64_t) st->st_size;
    if (size > (uint64_t) st->st_size) {
        size = (uint64_t) st->st_size;
    }
    ngx_chain_t *head = NULL, **last = &head;
    off_t len = 0;
    uint64_t cursor = e->init_size;
    ngx_int_t brc = rebased_fragments(r, fd, camera_dir, e, &tracks, file0_out_us, e->init_size, size,
                                      1, &cursor, &last, &len);
    if (brc == NGX_DECLINED) {
        return ngx_http_vms_playback_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                           "recording file does not match its index");
    }
    if (brc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    /* the init section in front (the loop started after it), the tail after the last fragment */
    ngx_chain_t *cl = ngx_alloc_chain_link(r->pool);
    ngx_buf_t *ib = mem_buf(r, init, e->init_size);
    if (cl == NULL || ib == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    cl->buf = ib;
    cl->next = head;
    head = cl;
    len += e->init_size;
    if (cursor < size) {
        if (chain_add(r, &last, file_buf(r, fd, rel, (off_t) cursor, (off_t) size)) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        len += (off_t) (size - cursor);
    }
    ngx_buf_t *tail = ngx_calloc_buf(r->pool);
    if (tail == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    tail->last_buf = (r == r->main) ? 1 : 0;
    tail->last_in_chain = 1;
    tail->sync = 1;
    if (chain_add(r, &last, tail) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
    r->headers_out.last_modified_time = st->st_mtime;
    return send_chain(r, head, len, open_seg ? 0 : conf->closed_max_age);
}
