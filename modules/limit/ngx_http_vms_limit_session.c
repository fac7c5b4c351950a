/*
 * vms_limit player sessions: the signed session parameter.
 *
 * A playlist that opened or renewed a lease (`vms_limit_streams open`) gets
 * $vms_limit_session, a parameter signed with the key of
 * vms_limit_session_key (core/vms_session.h); the playlist hands it to every
 * media URI it lists (sub_filter on live playlists, the playback module on
 * its own).  A `vms_limit_streams media` location checks it with the key
 * alone: no Redis call and no shared state per segment.  The key is read from
 * a file at configuration time, so every worker has it after the fork and
 * every node that reads the same file accepts the others' parameters.
 */

#include "ngx_http_vms_limit.h"


static ngx_str_t  ngx_http_vms_limit_session_arg = ngx_string("vms_session");


char *
ngx_http_vms_limit_session_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_limit_main_conf_t  *lmcf = conf;

    size_t           len;
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_str_t       *value, path;
    ngx_file_info_t  fi;

    if (lmcf->session_key.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len <= 5 || ngx_strncmp(value[1].data, "file:", 5) != 0) {
        return "takes \"file:PATH\" (the key is never written in the config)";
    }

    path.data = value[1].data + 5;
    path.len = value[1].len - 5;

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "vms_limit_session_key: cannot open \"%V\"", &path);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > VMS_SESSION_KEY_MAX + 64)
    {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "vms_limit_session_key: \"%V\" is not a key file "
                           "of %d to %d bytes", &path, VMS_SESSION_KEY_MIN,
                           VMS_SESSION_KEY_MAX);
        return NGX_CONF_ERROR;
    }

    lmcf->session_key.data = ngx_pnalloc(cf->pool, VMS_SESSION_KEY_MAX + 64);
    if (lmcf->session_key.data == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, lmcf->session_key.data, VMS_SESSION_KEY_MAX + 64);
    ngx_close_file(fd);

    len = n > 0 ? (size_t) n : 0;

    if (n < 0 || vms_session_key_check(lmcf->session_key.data, &len) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "vms_limit_session_key: \"%V\" must hold %d to %d "
                           "bytes", &path, VMS_SESSION_KEY_MIN,
                           VMS_SESSION_KEY_MAX);
        return NGX_CONF_ERROR;
    }

    lmcf->session_key.len = len;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_vms_limit_session_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_vms_limit_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_vms_limit_module);

    if (ctx != NULL && ctx->signable && ctx->signed_param.len == 0) {
        if (ngx_http_vms_limit_session_mint(r, ctx) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ctx == NULL || ctx->signed_param.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = ctx->signed_param.data;
    v->len = ctx->signed_param.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_vms_limit_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var;
    ngx_str_t             name = ngx_string("vms_limit_session");

    var = ngx_http_add_variable(cf, &name, NGX_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return NGX_ERROR;
    }

    var->get_handler = ngx_http_vms_limit_session_variable;

    return NGX_OK;
}


/* A JSON error answer of the limit module; finalizes like send_json(). */
ngx_int_t
ngx_http_vms_limit_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *error, const char *message)
{
    u_char  *p, body[256];

    p = ngx_snprintf(body, sizeof(body), "{\"error\":\"%s\",\"message\":\"%s\"}\n",
                     error, message);

    return ngx_http_vms_limit_send_json(r, status, body, p - body);
}


static ngx_int_t
ngx_http_vms_limit_session_scope(ngx_http_request_t *r,
    ngx_http_vms_limit_loc_conf_t *llcf, ngx_str_t *scope)
{
    if (llcf->session_scope == NULL) {
        ngx_str_null(scope);
        return NGX_OK;
    }

    return ngx_http_complex_value(r, llcf->session_scope, scope);
}


/* After an admission or renewal, when $vms_limit_session is read: the
 * parameter for this session, this request's user and scope. */
ngx_int_t
ngx_http_vms_limit_session_mint(ngx_http_request_t *r,
    ngx_http_vms_limit_ctx_t *ctx)
{
    size_t                           n;
    ngx_str_t                        scope;
    ngx_http_vms_limit_loc_conf_t   *llcf;
    ngx_http_vms_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_limit_module);
    llcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_limit_module);

    if (lmcf->session_key.len == 0) {
        return NGX_OK;
    }

    if (ngx_http_vms_limit_session_scope(r, llcf, &scope) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->signed_param.data = ngx_pnalloc(r->pool, VMS_SESSION_PARAM_MAX + 1);
    if (ctx->signed_param.data == NULL) {
        return NGX_ERROR;
    }

    n = vms_session_sign(lmcf->session_key.data, lmcf->session_key.len,
                         (const char *) scope.data, scope.len,
                         (const char *) ctx->user.data, ctx->user.len,
                         (const char *) ctx->session.data, ctx->session.len,
                         (int64_t) ngx_time() + llcf->session_ttl,
                         (char *) ctx->signed_param.data);
    if (n == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "vms_limit: cannot sign the session parameter");
        return NGX_ERROR;
    }

    ctx->signed_param.len = n;

    return NGX_OK;
}


/*
 * A media request: its `vms_session` parameter must have been signed for this
 * scope (camera) and user and not be expired; ctx->session becomes its
 * session id.  NGX_OK, or NGX_DONE after answering 403 itself.
 */
ngx_int_t
ngx_http_vms_limit_session_check(ngx_http_request_t *r,
    ngx_http_vms_limit_ctx_t *ctx)
{
    int                              rc;
    size_t                           id_len;
    ngx_str_t                        scope, param;
    const char                      *id;
    ngx_http_vms_limit_loc_conf_t   *llcf;
    ngx_http_vms_limit_main_conf_t  *lmcf;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_vms_limit_module);
    llcf = ngx_http_get_module_loc_conf(r, ngx_http_vms_limit_module);

    if (ngx_http_arg(r, ngx_http_vms_limit_session_arg.data,
                     ngx_http_vms_limit_session_arg.len, &param)
        != NGX_OK || param.len == 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "vms_limit: media request without a session parameter");
        return ngx_http_vms_limit_error(r, NGX_HTTP_FORBIDDEN,
                   "session_required",
                   "media requests need the vms_session parameter of their "
                   "playlist");
    }

    if (ngx_http_vms_limit_session_scope(r, llcf, &scope) != NGX_OK) {
        return ngx_http_vms_limit_error(r, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                        "internal", "internal error");
    }

    rc = vms_session_verify(lmcf->session_key.data, lmcf->session_key.len,
                            (const char *) scope.data, scope.len,
                            (const char *) ctx->user.data, ctx->user.len,
                            (const char *) param.data, param.len,
                            (int64_t) ngx_time(), &id, &id_len);

    if (rc == VMS_SESSION_EXPIRED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "vms_limit: media request with an expired session");
        return ngx_http_vms_limit_error(r, NGX_HTTP_FORBIDDEN,
                   "session_expired",
                   "the session parameter has expired: load the playlist "
                   "again");
    }

    if (rc != VMS_SESSION_OK) {
        /* the value itself is never logged: it is a credential */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "vms_limit: media request with an invalid session "
                      "parameter (%s)",
                      rc == VMS_SESSION_MALFORMED ? "malformed" : "bad signature");
        return ngx_http_vms_limit_error(r, NGX_HTTP_FORBIDDEN,
                   "invalid_session",
                   "the session parameter is not valid for this stream");
    }

    ctx->session.data = (u_char *) id;
    ctx->session.len = id_len;

    return NGX_OK;
}
