/*
 * vms_limit directive handlers (the command table is in
 * ngx_http_vms_limit_module.c; defaults and merge rules there too).
 */

#include "ngx_http_vms_limit.h"
#include "secret.h"          /* sidecar/base: the shared secret-file reader */


char *
ngx_http_vms_limit_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_limit_main_conf_t  *lmcf = conf;

    ngx_int_t              n;
    ngx_str_t             *value, s;
    ngx_uint_t             i;
    ngx_msec_t             ms;
    ngx_vms_redis_conf_t  *rc;

    if (lmcf->redis_conf != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    rc = ngx_vms_redis_conf_parse(cf, &value[1]);
    if (rc == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (n == NGX_ERROR || n > 15) {
                goto invalid;
            }
            rc->db = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "connect_timeout=", 16) == 0) {
            s.data = value[i].data + 16;
            s.len = value[i].len - 16;
            ms = ngx_parse_time(&s, 0);
            if (ms == (ngx_msec_t) NGX_ERROR || ms == 0) {
                goto invalid;
            }
            rc->connect_timeout = ms;
            continue;
        }

        if (ngx_strncmp(value[i].data, "password_env=", 13) == 0) {
            /* a secret from the environment (add "env NAME;" to the main
             * context), never from the config text */
            u_char  *name, *pw;
            char     why[512];

            name = ngx_pnalloc(cf->pool, value[i].len - 13 + 1);
            if (name == NULL) {
                return NGX_CONF_ERROR;
            }
            ngx_cpystrn(name, value[i].data + 13, value[i].len - 13 + 1);
            /* NAME, or NAME_FILE naming a file (Docker/Kubernetes secrets) */
            pw = (u_char *) vms_secret_env_with((char *) name,
                                                vms_secret_read_file, why,
                                                sizeof(why));
            if (pw == NULL) {
                if (why[0] != '\0') {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "vms_limit_redis: %s", why);
                } else {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "vms_limit_redis: environment variable "
                                       "\"%s\" (or %s_FILE) is not set", name,
                                       name);
                }
                return NGX_CONF_ERROR;
            }
            rc->password.len = ngx_strlen(pw);
            rc->password.data = ngx_pnalloc(cf->pool, rc->password.len);
            if (rc->password.data == NULL) {
                vms_secret_free((char *) pw);
                return NGX_CONF_ERROR;
            }
            ngx_memcpy(rc->password.data, pw, rc->password.len);
            vms_secret_free((char *) pw);
            continue;
        }

        if (ngx_strncmp(value[i].data, "password_file=", 14) == 0) {
            /* a file (Docker/Kubernetes secret), read once at configuration
             * time by the shared reader (sidecar/base/secret_file.c) */
            u_char  *path;
            char    *pw, why[512];

            path = ngx_pnalloc(cf->pool, value[i].len - 14 + 1);
            if (path == NULL) {
                return NGX_CONF_ERROR;
            }
            ngx_cpystrn(path, value[i].data + 14, value[i].len - 14 + 1);
            pw = vms_secret_read_file((char *) path, why, sizeof(why));
            if (pw == NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "vms_limit_redis: password_file: %s", why);
                return NGX_CONF_ERROR;
            }
            rc->password.len = ngx_strlen(pw);
            rc->password.data = ngx_pnalloc(cf->pool, rc->password.len);
            if (rc->password.data == NULL) {
                vms_secret_free(pw);
                return NGX_CONF_ERROR;
            }
            ngx_memcpy(rc->password.data, pw, rc->password.len);
            vms_secret_free(pw);
            continue;
        }

        goto invalid;
    }

    lmcf->redis_conf = rc;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" (expected db=N, "
                       "connect_timeout=TIME, password_env=NAME or password_file=PATH)", &value[i]);
    return NGX_CONF_ERROR;
}


char *
ngx_http_vms_limit_plan(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_limit_main_conf_t  *lmcf = conf;

    ngx_int_t                   n;
    ngx_str_t                  *value;
    ngx_uint_t                  i;
    ngx_http_vms_limit_plan_t  *plan;

    value = cf->args->elts;

    n = ngx_atoi(value[2].data, value[2].len);
    if (n == NGX_ERROR || n > 100000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid stream limit \"%V\" of plan \"%V\"",
                           &value[2], &value[1]);
        return NGX_CONF_ERROR;
    }

    if (lmcf->plans == NULL) {
        lmcf->plans = ngx_array_create(cf->pool, 4,
                                       sizeof(ngx_http_vms_limit_plan_t));
        if (lmcf->plans == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    plan = lmcf->plans->elts;
    for (i = 0; i < lmcf->plans->nelts; i++) {
        if (plan[i].name.len == value[1].len
            && ngx_strncmp(plan[i].name.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate plan \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    plan = ngx_array_push(lmcf->plans);
    if (plan == NULL) {
        return NGX_CONF_ERROR;
    }

    plan->name = value[1];
    plan->max = n;

    return NGX_CONF_OK;
}


char *
ngx_http_vms_limit_rate_cmd(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_limit_loc_conf_t  *llcf = conf;

    int64_t      limit, period, burst;
    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (llcf->rate_on != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts > 2) {
            return "takes no parameters after \"off\"";
        }
        llcf->rate_on = 0;
        return NGX_CONF_OK;
    }

    if (vms_rate_parse((const char *) value[1].data, value[1].len,
                       &limit, &period) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rate \"%V\" (expected COUNT/PERIOD, "
                           "e.g. 100/m, 10/s, 5/30s)", &value[1]);
        return NGX_CONF_ERROR;
    }

    burst = limit;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);
            if (n == NGX_ERROR || n < 1) {
                goto invalid;
            }
            burst = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "scope=", 6) == 0
            && value[i].len > 6 && value[i].len <= 6 + 64)
        {
            llcf->rate_scope.data = value[i].data + 6;
            llcf->rate_scope.len = value[i].len - 6;
            continue;
        }

        goto invalid;
    }

    if (vms_gcra_init(&llcf->gcra, limit, period, burst) != 0) {
        return "has a value out of range";
    }

    llcf->rate_on = 1;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" (expected burst=N or "
                       "scope=NAME)", &value[i]);
    return NGX_CONF_ERROR;
}


/* VALUE ...: complex values, the first non-empty one is used */
static char *
ngx_http_vms_limit_values(ngx_conf_t *cf, ngx_array_t **slot)
{
    ngx_str_t                         *value;
    ngx_uint_t                         i;
    ngx_http_complex_value_t          *cv;
    ngx_http_compile_complex_value_t   ccv;

    if (*slot != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    *slot = ngx_array_create(cf->pool, cf->args->nelts - 1,
                             sizeof(ngx_http_complex_value_t));
    if (*slot == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        cv = ngx_array_push(*slot);
        if (cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


char *
ngx_http_vms_limit_rate_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_limit_loc_conf_t  *llcf = conf;

    return ngx_http_vms_limit_values(cf, &llcf->rate_keys);
}


char *
ngx_http_vms_limit_streams_session(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_vms_limit_loc_conf_t  *llcf = conf;

    return ngx_http_vms_limit_values(cf, &llcf->stream_session);
}


char *
ngx_http_vms_limit_streams_cmd(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_vms_limit_loc_conf_t  *llcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (llcf->streams != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        llcf->streams = NGX_HTTP_VMS_LIMIT_STREAMS_OFF;

    } else if (ngx_strcmp(value[1].data, "open") == 0) {
        llcf->streams = NGX_HTTP_VMS_LIMIT_STREAMS_OPEN;

    } else if (ngx_strcmp(value[1].data, "renew") == 0) {
        llcf->streams = NGX_HTTP_VMS_LIMIT_STREAMS_RENEW;

    } else if (ngx_strcmp(value[1].data, "media") == 0) {
        llcf->streams = NGX_HTTP_VMS_LIMIT_STREAMS_MEDIA;

    } else if (ngx_strcmp(value[1].data, "release") == 0) {
        if (cf->cmd_type != NGX_HTTP_LOC_CONF) {
            return "release is allowed in a location only";
        }
        llcf->streams = NGX_HTTP_VMS_LIMIT_STREAMS_RELEASE;
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
        clcf->handler = ngx_http_vms_limit_release_handler;

    } else if (ngx_strcmp(value[1].data, "admit") == 0) {
        if (cf->cmd_type != NGX_HTTP_LOC_CONF) {
            return "admit is allowed in a location only";
        }
        llcf->streams = NGX_HTTP_VMS_LIMIT_STREAMS_ADMIT;
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
        clcf->handler = ngx_http_vms_limit_admit_handler;

    } else if (ngx_strcmp(value[1].data, "reader_renew") == 0
               || ngx_strcmp(value[1].data, "reader_release") == 0)
    {
        if (cf->cmd_type != NGX_HTTP_LOC_CONF) {
            return "reader_renew and reader_release are allowed in a "
                   "location only";
        }
        llcf->streams = ngx_strcmp(value[1].data, "reader_renew") == 0
                        ? NGX_HTTP_VMS_LIMIT_STREAMS_READER_RENEW
                        : NGX_HTTP_VMS_LIMIT_STREAMS_READER_RELEASE;
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
        clcf->handler = ngx_http_vms_limit_reader_handler;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" (expected off, open, renew, "
                           "media, release, admit, reader_renew or "
                           "reader_release)", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_vms_limit_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_vms_limit_status_handler;

    return NGX_CONF_OK;
}


/* vms_limit_fail_rate off | COUNT/PERIOD [burst=N] */
char *
ngx_http_vms_limit_fail_rate_cmd(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_vms_limit_loc_conf_t  *llcf = conf;

    int64_t     limit, period, burst;
    ngx_int_t   n;
    ngx_str_t  *value;

    if (llcf->fail_on != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (cf->args->nelts > 2) {
            return "takes no parameters after \"off\"";
        }
        llcf->fail_on = 0;
        return NGX_CONF_OK;
    }

    if (vms_rate_parse((const char *) value[1].data, value[1].len,
                       &limit, &period) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid rate \"%V\" (expected COUNT/PERIOD, "
                           "e.g. 20/m)", &value[1]);
        return NGX_CONF_ERROR;
    }

    burst = limit;

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "burst=", 6) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" (expected burst=N)",
                               &value[2]);
            return NGX_CONF_ERROR;
        }
        n = ngx_atoi(value[2].data + 6, value[2].len - 6);
        if (n == NGX_ERROR || n < 1) {
            return "has an invalid burst";
        }
        burst = n;
    }

    if (vms_gcra_init(&llcf->fail_gcra, limit, period, burst) != 0) {
        return "has a value out of range";
    }

    llcf->fail_on = 1;

    return NGX_CONF_OK;
}
