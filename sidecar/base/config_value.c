#include "config.h"
#include "config_keys.h"
#include "secret.h"
#include "log.h"
#include "util.h"
#include "unixsock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
is_loopback(const char *host)
{
    struct in_addr   a4;
    struct in6_addr  a6;

    if (strcmp(host, "localhost") == 0) {
        return 1;
    }
    if (inet_pton(AF_INET, host, &a4) == 1) {
        return (ntohl(a4.s_addr) >> 24) == 127;
    }
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        return IN6_IS_ADDR_LOOPBACK(&a6);
    }
    return 0;
}

/* a path or an aws-sm: reference (secret.h) */
char *
vms_config_read_secret(const char *path, char *why, size_t whylen)
{
    return vms_secret_get(path, why, whylen);
}

#define FIELD(k, base)  ((char *) (base) + (k)->off)

int
vms_config_parse_schedule(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen)
{
    if (vms_backoff_parse_schedule((vms_backoff_conf_t *) FIELD(k, base),
                                   value) != 0)
    {
        snprintf(why, whylen, "%s (at most %d)", k->expect,
                 VMS_BACKOFF_MAX_STEPS);
        return -1;
    }
    return 0;
}

int
vms_config_parse_template(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen)
{
    if (value[0] == '\0' || value[0] == '/' || strstr(value, "..")
        || strlen(value) >= k->size)
    {
        snprintf(why, whylen, "expected a relative path template without"
                 " \"..\", shorter than %zu", k->size);
        return -1;
    }
    snprintf(FIELD(k, base), k->size, "%s", value);
    return 0;
}

int
vms_config_parse_relay(const vms_confkey_t *k, void *base, const char *value,
    char *why, size_t whylen)
{
    if (strcmp(value, "off") == 0) {
        FIELD(k, base)[0] = '\0';
        return 0;
    }
    if ((strncmp(value, "rtmp://", 7) != 0
         && strncmp(value, "rtmps://", 8) != 0)
        || strlen(value) >= k->size)
    {
        snprintf(why, whylen, "expected off or an rtmp:// URL (%%id is"
                 " the camera id), shorter than %zu", k->size);
        return -1;
    }
    snprintf(FIELD(k, base), k->size, "%s", value);
    return 0;
}

/* A name from a fixed list (parse: 0 or -1) into an int field. */
static int
parse_name(const vms_confkey_t *k, void *base, const char *value,
    int (*parse)(const char *name, int *out), const char *expect, char *why,
    size_t whylen)
{
    if (parse(value, (int *) FIELD(k, base)) != 0) {
        snprintf(why, whylen, "%s", expect);
        return -1;
    }
    return 0;
}

int
vms_config_parse_loglevel(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen)
{
    return parse_name(k, base, value, vms_log_level_parse,
                      "expected debug, info, warn or error", why, whylen);
}

int
vms_config_parse_logformat(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen)
{
    return parse_name(k, base, value, vms_log_format_parse,
                      "expected json or text", why, whylen);
}

static int
storage_parse(const char *name, int *out)
{
    if (strcmp(name, "shared") == 0 || strcmp(name, "local") == 0) {
        *out = name[0] == 'l';
        return 0;
    }
    return -1;
}

int
vms_config_parse_storage(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen)
{
    return parse_name(k, base, value, storage_parse, "expected shared or local",
                      why, whylen);
}

int
vms_config_parse_timeofday(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen)
{
    int   h, m;
    char  extra;

    if (strcmp(value, "off") == 0) {
        snprintf(FIELD(k, base), k->size, "off");
        return 0;
    }
    if (sscanf(value, "%2d:%2d%c", &h, &m, &extra) != 2 || h < 0 || h > 23
        || m < 0 || m > 59)
    {
        snprintf(why, whylen, "expected a UTC time of day HH:MM, or off");
        return -1;
    }
    snprintf(FIELD(k, base), k->size, "%02d:%02d", h, m);
    return 0;
}

int
vms_config_parse_secret_file(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen)
{
    char **field = (char **) FIELD(k, base);
    char  *s = vms_config_read_secret(value, why, whylen);

    if (s == NULL) {
        return -1;
    }
    free(*field);
    *field = s;
    return 0;
}

/* A public file's text, e.g. a certificate chain (PEM): no secret, so no
 * warning when others may read it; at most 1 MB. */
int
vms_config_parse_pem_file(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen)
{
    char      **field = (char **) FIELD(k, base);
    vms_buf_t   b = {0};

    if (vms_buf_read_file(&b, value, 1 << 20) != 0 || b.len == 0) {
        snprintf(why, whylen, "%s: %s", value, b.len == 0 && errno == 0 ? "empty"
                 : strerror(errno));
        free(b.p);
        return -1;
    }
    if (vms_buf_append(&b, "", 1) != 0) {        /* NUL-terminated */
        snprintf(why, whylen, "out of memory");
        free(b.p);
        return -1;
    }
    free(*field);
    *field = b.p;
    return 0;
}

int
vms_config_parse_api_tls_file(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen)
{
    vms_config_t  *cfg = base;
    int            is_key = strcmp(k->name, "api_tls_key_file") == 0;
    char         **path = is_key ? &cfg->api_tls_key_path : &cfg->api_tls_cert_path;
    char          *copy;

    if ((is_key ? vms_config_parse_secret_file(k, base, value, why, whylen)
                : vms_config_parse_pem_file(k, base, value, why, whylen)) != 0)
    {
        return -1;
    }
    copy = strdup(value);
    if (copy == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    free(*path);
    *path = copy;
    return 0;
}

int
vms_config_parse_listen_mode(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen)
{
    vms_config_t  *cfg = base;
    int            mode;

    (void) k;
    mode = vms_unix_parse_mode(value, why, whylen);
    if (mode < 0) {
        return -1;
    }
    cfg->listen_mode = mode;
    return 0;
}

/* HOST:PORT into host (64 bytes) and *port; on loopback unless any_host
 * (then *public says whether it is not loopback). */
static int
parse_hostport(const char *value, char *host, int *portp, int any_host,
    int *public, char *why, size_t whylen)
{
    const char    *colon = strrchr(value, ':');
    size_t         hl;
    int64_t        port;

    if (colon == NULL || vms_parse_int(colon + 1, 1, 65535, &port) != 0) {
        snprintf(why, whylen, "expected HOST:PORT on loopback");
        return -1;
    }
    hl = (size_t) (colon - value);
    if (hl >= 2 && value[0] == '[' && value[hl - 1] == ']') {
        value++;
        hl -= 2;
    }
    if (hl == 0 || hl >= 64) {
        snprintf(why, whylen, "expected HOST:PORT on loopback");
        return -1;
    }
    memcpy(host, value, hl);
    host[hl] = '\0';
    if (public != NULL) {
        *public = !is_loopback(host);
    }
    if (!any_host && !is_loopback(host)) {
        snprintf(why, whylen, "the API listens on loopback only"
                 " (127.0.0.1, ::1 or localhost)");
        return -1;
    }
    *portp = (int) port;
    return 0;
}

int
vms_config_parse_listen(const vms_confkey_t *k, void *base, const char *value,
    char *why, size_t whylen)
{
    vms_config_t  *cfg = base;

    (void) k;
    cfg->listen_unix[0] = '\0';
    if (strncmp(value, "unix:", 5) == 0) {
        /* nginx reaches the API through a socket file whose mode says
         * who may connect (listen_mode), instead of a loopback port any
         * local user can reach. */
        if (value[5] != '/' || strlen(value + 5) >= sizeof(cfg->listen_unix)) {
            snprintf(why, whylen, "expected unix:/ABSOLUTE/PATH shorter than"
                     " %zu bytes", sizeof(cfg->listen_unix));
            return -1;
        }
        snprintf(cfg->listen_unix, sizeof(cfg->listen_unix), "%s", value + 5);
        snprintf(cfg->listen_host, sizeof(cfg->listen_host), "localhost");
        cfg->listen_port = 0;
        return 0;
    }
    /* another address only with TLS and token checks (check_global) */
    return parse_hostport(value, cfg->listen_host, &cfg->listen_port, 1,
                          &cfg->listen_public, why, whylen);
}

int
vms_config_parse_metrics_listen(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen)
{
    vms_config_t  *cfg = base;

    (void) k;
    return parse_hostport(value, cfg->metrics_host, &cfg->metrics_port, 0,
                          NULL, why,
                          whylen);
}
