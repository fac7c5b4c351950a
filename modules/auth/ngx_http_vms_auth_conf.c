/*
 * Directive handlers: keys (parsed once here, at configuration load), token sources,
 * permission requirements, endpoints, Redis and Kafka.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ngx_http_vms_auth_module.h"
#include "secret.h"          /* sidecar/base: the shared secret-file reader */

#define VMS_AUTH_KEYFILE_MAX (1024 * 1024)

/* Reads a whole file into the configuration pool, NUL-terminated. */
static char *
ngx_http_vms_auth_read_file(ngx_conf_t *cf, ngx_str_t *path, ngx_str_t *out)
{
    ngx_str_t full = *path;
    if (ngx_conf_full_name(cf->cycle, &full, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }
    FILE *f = fopen((char *) full.data, "rb");
    if (f == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno, "cannot open \"%V\"", &full);
        return NGX_CONF_ERROR;
    }
    u_char *buf = ngx_pnalloc(cf->pool, VMS_AUTH_KEYFILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, VMS_AUTH_KEYFILE_MAX + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (buf == NULL || bad || n > VMS_AUTH_KEYFILE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "cannot read \"%V\" (or larger than 1 MB)", &full);
        return NGX_CONF_ERROR;
    }
    buf[n] = '\0';
    out->data = buf;
    out->len = n;
    return NGX_CONF_OK;
}

/* The secret v (wiped and freed) copied into the configuration's pool as out. */
static char *
keep_secret(ngx_conf_t *cf, char *v, ngx_str_t *out)
{
    out->len = ngx_strlen(v);
    out->data = ngx_pnalloc(cf->pool, out->len + 1);
    if (out->data != NULL) {
        ngx_memcpy(out->data, v, out->len + 1);
    }
    vms_secret_free(v);
    return out->data != NULL ? NGX_CONF_OK : NGX_CONF_ERROR;
}

/* "env:NAME" or "file:PATH" -> secret bytes (a file's trailing newline is not part of it). */
static char *
ngx_http_vms_auth_read_secret(ngx_conf_t *cf, ngx_str_t *spec, ngx_str_t *out)
{
    if (spec->len > 4 && ngx_strncmp(spec->data, "env:", 4) == 0) {
        /* NAME, or NAME_FILE naming a file (Docker/Kubernetes secrets) */
        char  *v, why[512];

        v = vms_secret_env_with((char *) spec->data + 4, vms_secret_read_file, why, sizeof(why));
        if (v == NULL) {
            if (why[0] != '\0') {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", why);
            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "environment variable %s (or %s_FILE) is not set or empty",
                                   spec->data + 4, spec->data + 4);
            }
            return NGX_CONF_ERROR;
        }
        return keep_secret(cf, v, out);
    }
    if (spec->len > 5 && ngx_strncmp(spec->data, "file:", 5) == 0) {
        /* the reader every vms program uses (sidecar/base/secret_file.c): one
         * trailing newline removed, a file others can read warned about */
        ngx_str_t  full = { spec->len - 5, spec->data + 5 };
        char      *v, why[512];

        if (ngx_conf_full_name(cf->cycle, &full, 1) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
        v = vms_secret_read_file((char *) full.data, why, sizeof(why));
        if (v == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s", why);
            return NGX_CONF_ERROR;
        }
        return keep_secret(cf, v, out);
    }
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "secret \"%V\" must be env:NAME or file:PATH", spec);
    return NGX_CONF_ERROR;
}

/* Optional "algs=A,B" / "alg=A" and "kid=K" arguments after the first. */
static char *
ngx_http_vms_auth_key_opts(ngx_conf_t *cf, unsigned *algs, char **kid)
{
    ngx_str_t *value = cf->args->elts;
    *algs = 0;
    *kid = NULL;
    for (ngx_uint_t i = 2; i < cf->args->nelts; i++) {
        if (ngx_strncmp(value[i].data, "algs=", 5) == 0 || ngx_strncmp(value[i].data, "alg=", 4) == 0) {
            u_char *v = (u_char *) ngx_strchr(value[i].data, '=') + 1;
            *algs = vms_jwt_algs_parse((char *) v, value[i].data + value[i].len - v);
            if (*algs == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "unknown algorithm in \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }
        } else if (ngx_strncmp(value[i].data, "kid=", 4) == 0 && value[i].len > 4) {
            *kid = (char *) value[i].data + 4;
        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }
    }
    return NGX_CONF_OK;
}

static char *
ngx_http_vms_auth_key_error(ngx_conf_t *cf, ngx_str_t *what, const char *err)
{
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "key \"%V\": %s", what, err);
    return NGX_CONF_ERROR;
}

char *
ngx_http_vms_auth_conf_secret(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_auth_main_conf_t *amcf = conf;
    ngx_str_t *value = cf->args->elts, secret;
    unsigned algs;
    char *kid, err[256];

    if (ngx_http_vms_auth_key_opts(cf, &algs, &kid) != NGX_CONF_OK
        || ngx_http_vms_auth_read_secret(cf, &value[1], &secret) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }
    int rc = vms_jwt_keyset_add_secret(amcf->keys, secret.data, secret.len, algs, kid, err, sizeof(err));
    ngx_explicit_memzero(secret.data, secret.len);
    return rc == 0 ? NGX_CONF_OK : ngx_http_vms_auth_key_error(cf, &value[1], err);
}

char *
ngx_http_vms_auth_conf_public_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_auth_main_conf_t *amcf = conf;
    ngx_str_t *value = cf->args->elts, pem;
    unsigned algs;
    char *kid, err[256];

    if (ngx_http_vms_auth_key_opts(cf, &algs, &kid) != NGX_CONF_OK
        || ngx_http_vms_auth_read_file(cf, &value[1], &pem) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }
    if (vms_jwt_keyset_add_pem(amcf->keys, (char *) pem.data, pem.len, algs, kid, err, sizeof(err)) != 0) {
        return ngx_http_vms_auth_key_error(cf, &value[1], err);
    }
    return NGX_CONF_OK;
}

char *
ngx_http_vms_auth_conf_jwks(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_auth_main_conf_t *amcf = conf;
    ngx_str_t *value = cf->args->elts, doc;
    char err[256];

    if (ngx_http_vms_auth_read_file(cf, &value[1], &doc) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }
    if (vms_jwt_keyset_add_jwks(amcf->keys, (char *) doc.data, doc.len, err, sizeof(err)) != 0) {
        return ngx_http_vms_auth_key_error(cf, &value[1], err);
    }
    return NGX_CONF_OK;
}

char *
ngx_http_vms_auth_conf_signing_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_auth_main_conf_t *amcf = conf;
    ngx_str_t *value = cf->args->elts, secret;
    unsigned algs;
    char *kid, err[256];

    if (amcf->sign_secret) {
        return "is duplicate";
    }
    if (ngx_http_vms_auth_key_opts(cf, &algs, &kid) != NGX_CONF_OK
        || ngx_http_vms_auth_read_secret(cf, &value[1], &secret) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }
    if (algs == 0) {
        algs = VMS_JWT_HS256;
    }
    if ((algs & (algs - 1)) != 0 || !(algs & VMS_JWT_HS_ALGS)) {
        return "takes one HS256/HS384/HS512 algorithm";
    }
    /* What we sign we also accept: the signing key joins the verification keys. */
    if (vms_jwt_keyset_add_secret(amcf->keys, secret.data, secret.len, algs, kid, err, sizeof(err)) != 0) {
        return ngx_http_vms_auth_key_error(cf, &value[1], err);
    }
    amcf->sign_secret = secret.data;
    amcf->sign_secret_len = secret.len;
    amcf->sign_alg = algs;
    amcf->sign_kid = kid;
    return NGX_CONF_OK;
}

char *
ngx_http_vms_auth_conf_cstr(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char **field = (char **) ((u_char *) conf + cmd->offset);
    ngx_str_t *value = cf->args->elts;
    if (*field) {
        return "is duplicate";
    }
    *field = (char *) value[1].data;   /* ngx_conf args are NUL-terminated */
    return NGX_CONF_OK;
}

char *
ngx_http_vms_auth_conf_sources(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_auth_loc_conf_t *lcf = conf;
    ngx_str_t *value = cf->args->elts;

    if (lcf->sources != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }
    lcf->sources = ngx_array_create(cf->pool, cf->args->nelts, sizeof(ngx_http_vms_auth_source_t));
    if (lcf->sources == NULL) {
        return NGX_CONF_ERROR;
    }
    for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
        ngx_http_vms_auth_source_t *s = ngx_array_push(lcf->sources);
        if (ngx_strcmp(value[i].data, "header") == 0) {
            s->type = NGX_HTTP_VMS_AUTH_SRC_HEADER;
            ngx_str_null(&s->name);
            continue;
        }
        if (ngx_strncmp(value[i].data, "query=", 6) == 0 && value[i].len > 6) {
            s->type = NGX_HTTP_VMS_AUTH_SRC_QUERY;
        } else if (ngx_strncmp(value[i].data, "cookie=", 7) == 0 && value[i].len > 7) {
            s->type = NGX_HTTP_VMS_AUTH_SRC_COOKIE;
        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid token source \"%V\" (header, query=NAME, cookie=NAME)", &value[i]);
            return NGX_CONF_ERROR;
        }
        u_char *eq = (u_char *) ngx_strchr(value[i].data, '=');
        s->name.data = eq + 1;
        s->name.len = value[i].data + value[i].len - eq - 1;
    }
    return NGX_CONF_OK;
}

char *
ngx_http_vms_auth_conf_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_auth_loc_conf_t *lcf = conf;
    ngx_str_t *value = cf->args->elts;

    if (lcf->requires == NGX_CONF_UNSET_PTR) {
        lcf->requires = ngx_array_create(cf->pool, 2, sizeof(ngx_http_vms_auth_require_t));
        if (lcf->requires == NULL) {
            return NGX_CONF_ERROR;
        }
    }
    ngx_http_vms_auth_require_t *req = ngx_array_push(lcf->requires);
    if (req == NULL) {
        return NGX_CONF_ERROR;
    }
    req->perm = vms_perm_from_name((char *) value[1].data, value[1].len);
    if (req->perm == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "unknown permission \"%V\" (view_stream, "
                           "control_camera, manage_config, playback, publish)", &value[1]);
        return NGX_CONF_ERROR;
    }
    req->camera = NULL;
    req->path = NULL;
    req->list = 0;
    for (ngx_uint_t i = 2; i < cf->args->nelts; i++) {
        ngx_str_t v = value[i];
        ngx_http_complex_value_t **cv = &req->camera;
        if (i > 2 && v.len == 4 && ngx_strncmp(v.data, "list", 4) == 0) {
            if (req->list) {
                return "is duplicate";
            }
            req->list = 1;
            continue;
        }
        if (v.len > 5 && ngx_strncmp(v.data, "path=", 5) == 0) {
            cv = &req->path;
            v.data += 5;
            v.len -= 5;
        } else if (i == 3) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "vms_auth_require PERMISSION [CAMERA [list]] [path=PATH]");
            return NGX_CONF_ERROR;
        }
        if (*cv != NULL) {
            return "is duplicate";
        }
        ngx_http_compile_complex_value_t ccv;
        *cv = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (*cv == NULL) {
            return NGX_CONF_ERROR;
        }
        ngx_memzero(&ccv, sizeof(ccv));
        ccv.cf = cf;
        ccv.value = &v;
        ccv.complex_value = *cv;
        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }
    if (req->list && (req->camera == NULL || req->path != NULL)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "vms_auth_require: list needs a CAMERA and no path=");
        return NGX_CONF_ERROR;
    }
    if (req->path != NULL && req->camera == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "vms_auth_require: path= needs a CAMERA");
        return NGX_CONF_ERROR;
    }
    return NGX_CONF_OK;
}

char *
ngx_http_vms_auth_conf_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_auth_loc_conf_t *lcf = conf;
    ngx_str_t *value = cf->args->elts;
    static const char *names[] = { "", "mediamtx", "rtmp", "stream_token", "revoke", "whoami" };

    if (lcf->endpoint) {
        return "is duplicate";
    }
    for (ngx_uint_t i = 1; i < sizeof(names) / sizeof(names[0]); i++) {
        if (ngx_strcmp(value[1].data, names[i]) == 0) {
            lcf->endpoint = i;
        }
    }
    if (lcf->endpoint == 0) {
        return "must be mediamtx, rtmp, stream_token, revoke or whoami";
    }
    ngx_http_core_loc_conf_t *clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_vms_auth_endpoint_handler;
    return NGX_CONF_OK;
}

char *
ngx_http_vms_auth_conf_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_auth_main_conf_t *amcf = conf;
    ngx_str_t *value = cf->args->elts;

    if (amcf->redis) {
        return "is duplicate";
    }
    ngx_vms_redis_conf_t *rc = ngx_vms_redis_conf_parse(cf, &value[1]);
    if (rc == NULL) {
        return NGX_CONF_ERROR;
    }
    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "db=", 3) != 0
            || (rc->db = ngx_atoi(value[2].data + 3, value[2].len - 3)) == NGX_ERROR) {
            return "takes an optional db=N";
        }
    }
    amcf->redis = ngx_vms_redis_create(cf, rc);
    return amcf->redis ? NGX_CONF_OK : NGX_CONF_ERROR;
}

char *
ngx_http_vms_auth_conf_kafka(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_auth_main_conf_t *amcf = conf;
    ngx_str_t *value = cf->args->elts;
    ngx_array_t *props = NULL;

    if (amcf->kafka) {
        return "is duplicate";
    }
    if (cf->args->nelts > 2) {
        props = ngx_array_create(cf->pool, cf->args->nelts - 2, sizeof(ngx_str_t));
        if (props == NULL) {
            return NGX_CONF_ERROR;
        }
        for (ngx_uint_t i = 2; i < cf->args->nelts; i++) {
            if (ngx_strlchr(value[i].data, value[i].data + value[i].len, '=') == NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" is not a librdkafka name=value", &value[i]);
                return NGX_CONF_ERROR;
            }
            *(ngx_str_t *) ngx_array_push(props) = value[i];
        }
    }
    amcf->kafka = ngx_vms_kafka_create(cf, &value[1], props, NULL);
    return amcf->kafka ? NGX_CONF_OK : NGX_CONF_ERROR;
}
