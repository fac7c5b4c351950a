#include "config.h"
#include "config_keys.h"
#include "log.h"
#include "util.h"

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

static char *
read_secret_file(const char *path, char *why, size_t whylen)
{
    FILE    *f = fopen(path, "re");
    char     buf[4096];
    size_t   n;

    if (f == NULL) {
        snprintf(why, whylen, "cannot read \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'
                     || buf[n - 1] == ' '))
    {
        buf[--n] = '\0';
    }
    if (n == 0) {
        snprintf(why, whylen, "\"%s\" is empty", path);
        return NULL;
    }
    return strdup(buf);
}

/* Parse value for key k into base+k->off.  Returns 0 or -1 with why. */
int
vms_config_set_key(const key_t_ *k, void *base, const char *value, char *why,
    size_t whylen)
{
    char     *field = (char *) base + k->off;
    int64_t   v;
    int       b;

    switch (k->type) {
    case K_DURATION:
        if (vms_parse_duration_ms(value, &v) != 0) {
            snprintf(why, whylen,
                     "expected a duration like 500ms, 15s, 2m, 1h");
            return -1;
        }
        if (v < k->min) {
            snprintf(why, whylen, "must be at least %lldms",
                     (long long) k->min);
            return -1;
        }
        *(int64_t *) field = v;
        return 0;
    case K_INT:
        if (vms_parse_int(value, k->min, k->max, &v) != 0) {
            snprintf(why, whylen, "%s", k->expect);
            return -1;
        }
        if (k->off == CAM(backoff.jitter_pct)
            || k->off == CAM(backoff.max_attempts))
        {
            *(int *) field = (int) v;
        } else {
            *(int64_t *) field = v;
        }
        return 0;
    case K_BOOL:
        if (vms_parse_bool(value, &b) != 0) {
            snprintf(why, whylen, "expected yes or no");
            return -1;
        }
        *(int *) field = b;
        return 0;
    case K_SCHEDULE:
        if (vms_backoff_parse_schedule((vms_backoff_conf_t *) field, value)
            != 0)
        {
            snprintf(why, whylen, "%s (at most %d)", k->expect,
                     VMS_BACKOFF_MAX_STEPS);
            return -1;
        }
        return 0;
    case K_TEMPLATE:
        if (value[0] == '\0' || value[0] == '/' || strstr(value, "..")
            || strlen(value) >= VMS_PATH_TEMPLATE_MAX)
        {
            snprintf(why, whylen, "expected a relative path template without"
                     " \"..\", shorter than %d", VMS_PATH_TEMPLATE_MAX);
            return -1;
        }
        snprintf(field, VMS_PATH_TEMPLATE_MAX, "%s", value);
        return 0;
    case K_RELAY:
        if (strcmp(value, "off") == 0) {
            field[0] = '\0';
            return 0;
        }
        if ((strncmp(value, "rtmp://", 7) != 0
             && strncmp(value, "rtmps://", 8) != 0)
            || strlen(value) >= VMS_PATH_TEMPLATE_MAX)
        {
            snprintf(why, whylen, "expected off or an rtmp:// URL (%%id is"
                     " the camera id), shorter than %d",
                     VMS_PATH_TEMPLATE_MAX);
            return -1;
        }
        snprintf(field, VMS_PATH_TEMPLATE_MAX, "%s", value);
        return 0;
    case K_STRING:
        if (value[0] == '\0') {
            snprintf(why, whylen, "must not be empty");
            return -1;
        }
        free(*(char **) field);
        *(char **) field = strdup(value);
        return 0;
    case K_SIZE:
        if (vms_parse_size(value, &v) != 0 || v < k->min) {
            snprintf(why, whylen, "expected a size like 4096, 512MB, 10GB");
            return -1;
        }
        *(int64_t *) field = v;
        return 0;
    case K_LOGLEVEL:
        if (vms_log_level_parse(value, &b) != 0) {
            snprintf(why, whylen, "expected debug, info, warn or error");
            return -1;
        }
        *(int *) field = b;
        return 0;
    case K_LOGFORMAT:
        if (vms_log_format_parse(value, &b) != 0) {
            snprintf(why, whylen, "expected json or text");
            return -1;
        }
        *(int *) field = b;
        return 0;
    case K_TIMEOFDAY: {
        int h, m;
        char extra;
        if (strcmp(value, "off") == 0) {
            snprintf(field, 8, "off");
            return 0;
        }
        if (sscanf(value, "%2d:%2d%c", &h, &m, &extra) != 2 || h < 0 || h > 23
            || m < 0 || m > 59)
        {
            snprintf(why, whylen, "expected a UTC time of day HH:MM, or off");
            return -1;
        }
        snprintf(field, 8, "%02d:%02d", h, m);
        return 0;
    }
    case K_SECRET_FILE: {
        char *s = read_secret_file(value, why, whylen);
        if (s == NULL) {
            return -1;
        }
        free(*(char **) field);
        *(char **) field = s;
        return 0;
    }
    case K_LISTEN: {
        vms_config_t  *cfg = base;
        const char    *colon = strrchr(value, ':');
        char           host[64];
        size_t         hl;
        if (colon == NULL || vms_parse_int(colon + 1, 1, 65535, &v) != 0) {
            snprintf(why, whylen, "expected HOST:PORT on loopback");
            return -1;
        }
        hl = (size_t) (colon - value);
        if (hl >= 2 && value[0] == '[' && value[hl - 1] == ']') {
            value++;
            hl -= 2;
        }
        if (hl == 0 || hl >= sizeof(host)) {
            snprintf(why, whylen, "expected HOST:PORT on loopback");
            return -1;
        }
        memcpy(host, value, hl);
        host[hl] = '\0';
        if (!is_loopback(host)) {
            snprintf(why, whylen, "the API listens on loopback only"
                     " (127.0.0.1, ::1 or localhost)");
            return -1;
        }
        snprintf(cfg->listen_host, sizeof(cfg->listen_host), "%s", host);
        cfg->listen_port = (int) v;
        return 0;
    }
    }
    return -1;
}

