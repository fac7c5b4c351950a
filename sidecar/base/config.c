#include "config.h"
#include "config_keys.h"
#include "secret.h"
#include "analysis.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#define CS  vms_cam_settings_t
#define GC  vms_config_t

/* One entry per key (confkey.h): name, type, field, range, default, and the
 * error message where the type's own does not fit. */
#define DUR(S, name, f, min, def)                                            \
    { name, VMS_CK_DURATION, VMS_CK_AT(S, f, int64_t), min, 0, def, NULL, 0, \
      NULL }
#define INT(S, name, f, lo, hi, def, expect)                                 \
    { name, VMS_CK_INT, VMS_CK_INT_AT(S, f), lo, hi, def, expect, 0, NULL }
#define SIZE(S, name, f, min, def)                                           \
    { name, VMS_CK_SIZE, VMS_CK_AT(S, f, int64_t), min, 0, def, NULL, 0, NULL }
#define STR(S, name, f, def)                                                 \
    { name, VMS_CK_STRING, VMS_CK_AT(S, f, char *), 0, 0, def, NULL, 0, NULL }
#define FUNC(S, name, f, parse, def, expect)                                 \
    { name, VMS_CK_FUNC, VMS_CK_ANY_AT(S, f), 0, 0, def, expect, 0, parse }

/* "backoff" sets the schedule part of vms_backoff_conf_t only: a camera
 * that sets it keeps the default jitter, attempts and healthy period. */
_Static_assert(offsetof(vms_backoff_conf_t, schedule_ms) == 0
               && offsetof(vms_backoff_conf_t, nschedule)
                  < offsetof(vms_backoff_conf_t, jitter_pct),
               "schedule_ms, nschedule lead vms_backoff_conf_t");
#define SCHEDULE_SIZE  offsetof(vms_backoff_conf_t, jitter_pct)

/* Keys of [camera ID] sections; [vmsd] sets their defaults. */
static const vms_confkey_t camera_keys[] = {
    { "backoff", VMS_CK_FUNC, offsetof(CS, backoff), SCHEDULE_SIZE, 0, 0,
      "5s,10s,30s,60s", "expected a list of durations like 5s,10s,30s,60s", 0,
      vms_config_parse_schedule },
    INT(CS, "backoff_jitter", backoff.jitter_pct, 0, 100, "10",
        "expected a percentage 0-100"),
    INT(CS, "max_attempts", backoff.max_attempts, 1, 1000000, "10",
        "expected a positive integer"),
    DUR(CS, "healthy_period", backoff.healthy_ms, 1, "60s"),
    DUR(CS, "probe_interval", probe_ms, 1, "30s"),
    DUR(CS, "io_timeout", io_timeout_ms, 1, "10s"),
    DUR(CS, "watchdog_interval", watchdog_ms, 1, "15s"),
    DUR(CS, "frozen_timeout", frozen_ms, 1, "30s"),
    DUR(CS, "still_timeout", still_ms, 1, "30s"),
    DUR(CS, "snapshot_interval", snapshot_ms, 1, "30s"),
    DUR(CS, "snapshot_ttl", snapshot_ttl_ms, 1000, "300s"),
    INT(CS, "snapshot_width", snapshot_width, 16, 7680, "640",
        "expected a width in pixels 16-7680"),
    DUR(CS, "segment_duration", segment_ms, 1000, "60s"),
    DUR(CS, "fragment_duration", fragment_ms, 100, "1s"),
    FUNC(CS, "path_template", path_template, vms_config_parse_template,
         "%path/%Y/%m/%d/%H/segment_%s", NULL),
    { "record", VMS_CK_BOOL, VMS_CK_AT(CS, record, int), 0, 0, "yes", NULL, 0,
      NULL },
    INT(CS, "retention_days", retention_days, 0, 36500, "7",
        "expected a positive integer (0 = keep until disk pressure)"),
    FUNC(CS, "relay", relay, vms_config_parse_relay, NULL, NULL),
};

#define NCAMKEYS  (sizeof(camera_keys) / sizeof(camera_keys[0]))

/* Keys of [vmsd] only. */
static const vms_confkey_t global_keys[] = {
    FUNC(GC, "listen", listen_host, vms_config_parse_listen,
         "127.0.0.1:8091", NULL),
    FUNC(GC, "listen_mode", listen_mode, vms_config_parse_listen_mode, "0660",
         NULL),
    FUNC(GC, "metrics_listen", metrics_host, vms_config_parse_metrics_listen,
         NULL, NULL),
    STR(GC, "recordings", recordings, NULL),
    STR(GC, "kafka_brokers", kafka_brokers, NULL),
    STR(GC, "events_topic", events_topic, "vms.events"),
    STR(GC, "spool_dir", spool_dir, NULL),
    SIZE(GC, "spool_max_size", spool_max_bytes, 4096, "64MB"),
    DUR(GC, "kafka_message_timeout", kafka_message_timeout_ms, 1, "300s"),
    INT(GC, "kafka_queue_max", kafka_queue_max, 1, 10000000, "100000",
        "expected a positive integer"),
    DUR(GC, "kafka_probe_interval", kafka_probe_interval_ms, 100, "10s"),
    STR(GC, "api_allowed_origins", api_allowed_origins, NULL),
    STR(GC, "redis", redis, NULL),
    FUNC(GC, "redis_password_file", redis_password,
         vms_config_parse_secret_file, NULL, NULL),
    INT(GC, "redis_queue_max", redis_queue_max, 1, 10000000, "10000",
        "expected a positive integer"),
    FUNC(GC, "postgres_file", pg_conninfo, vms_config_parse_secret_file, NULL,
         NULL),
    STR(GC, "postgres_schema", pg_schema, NULL),
    FUNC(GC, "relay_token_secret_file", relay_secret,
         vms_config_parse_secret_file, NULL, NULL),
    { "api_auth", VMS_CK_BOOL, VMS_CK_AT(GC, api_auth, int), 0, 0, "on", NULL, 0,
      NULL },
    FUNC(GC, "api_token_secret_file", api_secret, vms_config_parse_secret_file,
         NULL, NULL),
    STR(GC, "api_token_jwks", api_jwks, NULL),
    { "api_token_leeway", VMS_CK_DURATION, VMS_CK_AT(GC, api_token_leeway_ms, int64_t),
      0, 3600000, "30s", NULL, 0, NULL },
    STR(GC, "api_token_issuer", api_token_issuer, NULL),
    STR(GC, "api_token_audience", api_token_audience, NULL),
    FUNC(GC, "api_tls_cert_file", api_tls_cert, vms_config_parse_api_tls_file,
         NULL, NULL),
    FUNC(GC, "api_tls_key_file", api_tls_key, vms_config_parse_api_tls_file,
         NULL, NULL),
    INT(GC, "postgres_queue_max", pg_queue_max, 1, 10000000, "100000",
        "expected a positive integer"),
    FUNC(GC, "log_level", log_level, vms_config_parse_loglevel, "info", NULL),
    FUNC(GC, "log_format", log_format, vms_config_parse_logformat, "json",
         NULL),
    INT(GC, "disk_max_used_percent", disk_max_used_pct, 1, 100, "90",
        "expected a percentage 1-100"),
    SIZE(GC, "disk_min_free", disk_min_free_bytes, 0, NULL),
    DUR(GC, "retention_interval", retention_interval_ms, 1, "60s"),
    FUNC(GC, "retention_daily_at", retention_daily_at,
         vms_config_parse_timeofday, "02:00", NULL),
    /* scale-out (docs/scale-out.md) */
    { "cluster", VMS_CK_BOOL, VMS_CK_AT(GC, cluster, int), 0, 0, "off", NULL, 0,
      NULL },
    STR(GC, "node_id", node_id, NULL),
    STR(GC, "cameras_topic", cameras_topic, "vms.cameras"),
    STR(GC, "cluster_group", cluster_group, "vms-recorders"),
    { "cluster_session_timeout", VMS_CK_DURATION,
      VMS_CK_AT(GC, cluster_session_ms, int64_t), 1000, 300000, "6s", NULL, 0,
      NULL },
    { "lease_duration", VMS_CK_DURATION, VMS_CK_AT(GC, lease_ms, int64_t),
      1000, 300000, "5s", NULL, 0, NULL },
    SIZE(GC, "lease_hold_max", lease_hold_max, 0, "16MB"),
    FUNC(GC, "cluster_storage", storage_local, vms_config_parse_storage,
         "shared", NULL),
};

#define NGLBKEYS  (sizeof(global_keys) / sizeof(global_keys[0]))

typedef struct pair_s  pair_t;
struct pair_s {
    char    *key;
    char    *value;
    int      line;
    pair_t  *next;
};

typedef struct cam_parse_s  cam_parse_t;
struct cam_parse_s {
    vms_camera_conf_t  *cc;
    uint32_t            set;          /* bit per camera_keys[] entry */
    int                 url_set, enabled_set;
    pair_t             *ai, **ai_tail;
    vms_buf_t           raw;          /* key=value lines, for sig */
    cam_parse_t        *next;
};

typedef struct {
    vms_config_t  *cfg;
    const char    *path;
    FILE          *fp;
    int            line;
    int            line_too_long;
    char           prev_section[128];
    vms_buf_t      errors;
    int            nerrors;
    uint32_t       global_set;        /* camera_keys set in [vmsd] */
    uint64_t       global_only_set;   /* global_keys set */
    pair_t        *ai, **ai_tail;     /* ai_* defaults from [vmsd] */
    vms_buf_t      global_raw;        /* camera keys of [vmsd], for sig */
    cam_parse_t   *cams, **cams_tail;
    int            pg_inline;         /* "postgres =" used */
    int            cluster_camera;    /* parsing a camera of vms.cameras */
    char           field[64];         /* key of the first error, or "" */
} parse_t;

static void
perr(parse_t *p, int line, const char *camera, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
perr(parse_t *p, int line, const char *camera, const char *key,
    const char *fmt, ...)
{
    char     msg[512];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (p->nerrors++ > 0) {
        vms_buf_append(&p->errors, "\n", 1);
    } else if (key != NULL) {
        snprintf(p->field, sizeof(p->field), "%s", key);
    }
    if (p->cluster_camera) {
        /* a camera of vms.cameras: its API caller sees no file or line */
        if (key != NULL) {
            vms_buf_printf(&p->errors, "\"%s\": ", key);
        }
        vms_buf_printf(&p->errors, "%s", msg);
        return;
    }
    vms_buf_printf(&p->errors, "%s:%d: ", p->path, line);
    if (camera != NULL) {
        vms_buf_printf(&p->errors, "camera %s: ", camera);
    }
    if (key != NULL) {
        vms_buf_printf(&p->errors, "key \"%s\": ", key);
    }
    vms_buf_printf(&p->errors, "%s", msg);
}

static int
is_analysis_key(const char *name)
{
    return strncmp(name, "ai_", 3) == 0 || strncmp(name, "motion_", 7) == 0
           || strncmp(name, "roi", 3) == 0;
}

static pair_t *
pair_new(const char *key, const char *value, int line)
{
    pair_t *pr = calloc(1, sizeof(*pr));

    if (pr == NULL) {
        return NULL;
    }
    pr->key = strdup(key);
    pr->value = strdup(value);
    pr->line = line;
    if (pr->key == NULL || pr->value == NULL) {
        free(pr->key);
        free(pr->value);
        free(pr);
        return NULL;
    }
    return pr;
}

static void
pairs_free(pair_t *pr)
{
    while (pr != NULL) {
        pair_t *next = pr->next;
        free(pr->key);
        free(pr->value);
        free(pr);
        pr = next;
    }
}

static int
global_key(parse_t *p, const char *name, const char *value)
{
    int   idx;
    char  why[256];

    if (strcmp(name, "postgres") == 0) {
        /* allowed for development; postgres_file or VMS_PG_CONNINFO keep the
         * password out of the config file */
        free(p->cfg->pg_conninfo);
        p->cfg->pg_conninfo = strdup(value);
        p->pg_inline = 1;
        return 1;
    }
    if (is_analysis_key(name)) {
        pair_t *pr = pair_new(name, value, p->line);
        if (pr == NULL) {
            perr(p, p->line, NULL, name, "out of memory");
            return 0;
        }
        *p->ai_tail = pr;
        p->ai_tail = &pr->next;
        return 1;
    }
    idx = vms_confkey_find(camera_keys, NCAMKEYS, name);
    if (idx >= 0) {
        if (p->global_set & (1u << idx)) {
            perr(p, p->line, NULL, name, "set twice");
            return 0;
        }
        p->global_set |= 1u << idx;
        vms_buf_printf(&p->global_raw, "%s=%s\n", name, value);
        if (vms_confkey_set(&camera_keys[idx], &p->cfg->defaults, value, why,
                            sizeof(why)) != 0)
        {
            perr(p, p->line, NULL, name, "%s", why);
            return 0;
        }
        return 1;
    }
    idx = vms_confkey_find(global_keys, NGLBKEYS, name);
    if (idx < 0) {
        perr(p, p->line, NULL, name, "unknown key in [vmsd]");
        return 0;
    }
    if (p->global_only_set & (1ull << idx)) {
        perr(p, p->line, NULL, name, "set twice");
        return 0;
    }
    p->global_only_set |= 1ull << idx;
    if (vms_confkey_set(&global_keys[idx], p->cfg, value, why, sizeof(why))
        != 0)
    {
        perr(p, p->line, NULL, name, "%s", why);
        return 0;
    }
    return 1;
}

static cam_parse_t *
find_cam(parse_t *p, const char *id)
{
    cam_parse_t *c;

    for (c = p->cams; c != NULL; c = c->next) {
        if (strcmp(c->cc->id, id) == 0) {
            return c;
        }
    }
    return NULL;
}

static int
camera_key(parse_t *p, const char *id, int new_section, const char *name,
    const char *value)
{
    cam_parse_t  *c = find_cam(p, id);
    int           idx, b;
    char          why[256];

    if (c != NULL && new_section) {
        perr(p, p->line, id, NULL, "section [camera %s] appears twice (first"
             " at line %d)", id, c->cc->line);
        return 0;
    }
    if (c == NULL) {
        c = calloc(1, sizeof(*c));
        if (c == NULL || (c->cc = calloc(1, sizeof(*c->cc))) == NULL) {
            free(c);
            perr(p, p->line, id, name, "out of memory");
            return 0;
        }
        snprintf(c->cc->id, sizeof(c->cc->id), "%s", id);
        c->cc->enabled = 1;
        c->cc->line = p->line;
        c->ai_tail = &c->ai;
        *p->cams_tail = c;
        p->cams_tail = &c->next;
    }
    vms_buf_printf(&c->raw, "%s=%s\n", name, value);

    if (strcmp(name, "url") == 0) {
        if (c->url_set++) {
            perr(p, p->line, id, name, "set twice");
            return 0;
        }
        if (strncmp(value, "rtsp://", 7) != 0
            && strncmp(value, "rtsps://", 8) != 0)
        {
            perr(p, p->line, id, name, "expected an rtsp:// or rtsps:// URL");
            return 0;
        }
        c->cc->url = strdup(value);
        return 1;
    }
    if (strcmp(name, "enabled") == 0) {
        if (c->enabled_set++) {
            perr(p, p->line, id, name, "set twice");
            return 0;
        }
        if (vms_parse_bool(value, &b) != 0) {
            perr(p, p->line, id, name, "expected yes or no");
            return 0;
        }
        c->cc->enabled = b;
        return 1;
    }
    if (is_analysis_key(name)) {
        pair_t *pr = pair_new(name, value, p->line);
        if (pr == NULL) {
            perr(p, p->line, id, name, "out of memory");
            return 0;
        }
        *c->ai_tail = pr;
        c->ai_tail = &pr->next;
        return 1;
    }
    idx = vms_confkey_find(camera_keys, NCAMKEYS, name);
    if (idx < 0) {
        perr(p, p->line, id, name, "unknown camera key");
        return 0;
    }
    if (c->set & (1u << idx)) {
        perr(p, p->line, id, name, "set twice");
        return 0;
    }
    c->set |= 1u << idx;
    if (vms_confkey_set(&camera_keys[idx], &c->cc->s, value, why,
                        sizeof(why)) != 0)
    {
        perr(p, p->line, id, name, "%s", why);
        return 0;
    }
    return 1;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
    parse_t  *p = user;
    int       new_section = strcmp(section, p->prev_section) != 0;

    snprintf(p->prev_section, sizeof(p->prev_section), "%s", section);

    if (strcmp(section, "vmsd") == 0) {
        return global_key(p, name, value);
    }
    if (strncmp(section, "camera ", 7) == 0) {
        const char *id = section + 7;
        while (*id == ' ') {
            id++;
        }
        if (!vms_camera_id_valid(id, strlen(id))) {
            if (new_section) {
                perr(p, p->line, NULL, NULL, "section [%s]: camera id must"
                     " match [A-Za-z0-9_-]{1,64}", section);
            }
            return 0;
        }
        return camera_key(p, id, new_section, name, value);
    }
    if (new_section) {
        if (section[0] == '\0') {
            perr(p, p->line, NULL, name, "outside any section (expected"
                 " [vmsd] or [camera ID] first)");
        } else {
            perr(p, p->line, NULL, NULL, "unknown section [%s] (expected"
                 " [vmsd] or [camera ID])", section);
        }
    }
    return 0;
}

/* fgets-style reader that counts lines, so errors can name them. */
static char *
reader(char *str, int num, void *stream)
{
    parse_t  *p = stream;
    char     *r = fgets(str, num, p->fp);
    size_t    n;

    if (r == NULL) {
        return NULL;
    }
    p->line++;
    n = strlen(str);
    if (n == (size_t) num - 1 && str[n - 1] != '\n' && !feof(p->fp)) {
        p->line_too_long = p->line;
        return NULL;
    }
    return r;
}

static void
finish_camera(parse_t *p, cam_parse_t *c)
{
    vms_camera_conf_t  *cc = c->cc;
    vms_cam_settings_t  mine = cc->s;
    vms_buf_t           sig = {0};
    pair_t             *pr;
    char                why[256];
    size_t              i;

    /* defaults for every key the section did not set */
    cc->s = p->cfg->defaults;
    for (i = 0; i < NCAMKEYS; i++) {
        if (c->set & (1u << i)) {
            memcpy((char *) &cc->s + camera_keys[i].off,
                   (char *) &mine + camera_keys[i].off, camera_keys[i].size);
        }
    }

    if (cc->url == NULL && cc->enabled) {
        perr(p, cc->line, cc->id, "url", "missing (required for an enabled"
             " camera)");
    }

    cc->analysis = vms_analysis_conf_new();
    if (cc->analysis == NULL) {
        perr(p, cc->line, cc->id, NULL, "out of memory");
    } else {
        for (pr = p->ai; pr != NULL; pr = pr->next) {
            /* validated once on a scratch conf; errors reported there */
            vms_analysis_conf_set(cc->analysis, pr->key, pr->value, why,
                                  sizeof(why));
        }
        for (pr = c->ai; pr != NULL; pr = pr->next) {
            if (vms_analysis_conf_set(cc->analysis, pr->key, pr->value, why,
                                      sizeof(why)) != 0)
            {
                perr(p, pr->line, cc->id, pr->key, "%s", why);
            }
        }
    }

    vms_buf_printf(&sig, "enabled=%d\n", cc->enabled);
    if (c->raw.len) {
        vms_buf_append(&sig, c->raw.p, c->raw.len);
    }
    vms_buf_append(&sig, "\x1e", 1);
    if (p->global_raw.len) {
        vms_buf_append(&sig, p->global_raw.p, p->global_raw.len);
    }
    for (pr = p->ai; pr != NULL; pr = pr->next) {
        vms_buf_printf(&sig, "%s=%s\n", pr->key, pr->value);
    }
    cc->sig = sig.p ? sig.p : strdup("");
}

/* the config file wins over the environment */
static void
env_secret(parse_t *p, char **field, const char *name, const char *key)
{
    char  why[512];
    char *s;

    if (*field != NULL) {
        return;
    }
    s = vms_secret_env(name, why, sizeof(why));
    if (s != NULL) {
        *field = s;
    } else if (why[0] != '\0') {
        perr(p, p->line, NULL, key, "from the environment: %s", why);
    }
}

static void
check_global(parse_t *p)
{
    vms_config_t *cfg = p->cfg;
    char          why[256];
    pair_t       *pr;

    if (cfg->recordings == NULL) {
        perr(p, p->line, NULL, "recordings", "missing in [vmsd] (the"
             " recordings root directory)");
    }
    /* each secret also from the environment: NAME holds it, NAME_FILE names
     * a file or an aws-sm: reference (secret.h) */
    env_secret(p, &cfg->pg_conninfo, "VMS_PG_CONNINFO", "postgres_file");
    env_secret(p, &cfg->redis_password, "VMS_REDIS_PASSWORD",
               "redis_password_file");
    env_secret(p, &cfg->api_secret, "VMS_API_TOKEN_SECRET",
               "api_token_secret_file");
    env_secret(p, &cfg->relay_secret, "VMS_RELAY_TOKEN_SECRET",
               "relay_token_secret_file");
    if (cfg->api_tls_cert != NULL && cfg->listen_unix[0] != '\0') {
        perr(p, p->line, NULL, "api_tls_cert_file", "TLS is for a TCP"
             " listen address; a unix: socket is guarded by its file mode");
    }
    if (cfg->listen_public && (cfg->api_tls_cert == NULL || !cfg->api_auth)) {
        perr(p, p->line, NULL, "listen", "%s is not loopback: the API listens"
             " elsewhere only over TLS (api_tls_cert_file, api_tls_key_file)"
             " with api_auth on; else 127.0.0.1, ::1, localhost or unix:PATH",
             cfg->listen_host);
    }
    if ((cfg->api_tls_cert == NULL) != (cfg->api_tls_key == NULL)) {
        perr(p, p->line, NULL, cfg->api_tls_cert ? "api_tls_key_file"
             : "api_tls_cert_file", "missing: the API serves HTTPS with"
             " both api_tls_cert_file and api_tls_key_file, or neither");
    }
    if (cfg->cluster) {
        if (cfg->kafka_brokers == NULL) {
            perr(p, p->line, NULL, "cluster", "needs kafka_brokers (cameras"
                 " come from the %s topic)", cfg->cameras_topic);
        }
        if (cfg->redis == NULL) {
            perr(p, p->line, NULL, "cluster", "needs redis (camera leases"
                 " and fencing tokens)");
        }
        if (cfg->lease_ms > cfg->cluster_session_ms) {
            perr(p, p->line, NULL, "lease_duration", "longer than"
                 " cluster_session_timeout: a dead node's cameras would wait"
                 " for its lease after the group moved them");
        }
    }
    if (cfg->node_id == NULL) {
        char    host[65] = "";
        size_t  i;

        gethostname(host, sizeof(host) - 1);
        for (i = 0; host[i] != '\0'; i++) {
            if (!vms_camera_id_valid(host + i, 1)) {
                host[i] = '-';       /* dots of a domain name */
            }
        }
        cfg->node_id = strdup(host[0] ? host : "vmsd");
    }
    if (!vms_camera_id_valid(cfg->node_id, strlen(cfg->node_id))) {
        perr(p, p->line, NULL, "node_id", "expected [A-Za-z0-9_-]{1,64}");
    }
    if (cfg->spool_dir == NULL && cfg->recordings != NULL) {
        vms_buf_t b = {0};
        /* a cluster's recordings tree is shared: one spool per node */
        if (cfg->cluster && cfg->node_id != NULL) {
            vms_buf_printf(&b, "%s/.spool-%s", cfg->recordings, cfg->node_id);
        } else {
            vms_buf_printf(&b, "%s/.spool", cfg->recordings);
        }
        cfg->spool_dir = b.p;
    }
    if (p->ai != NULL) {
        vms_analysis_conf_t *scratch = vms_analysis_conf_new();
        for (pr = p->ai; scratch != NULL && pr != NULL; pr = pr->next) {
            if (vms_analysis_conf_set(scratch, pr->key, pr->value, why,
                                      sizeof(why)) != 0)
            {
                perr(p, pr->line, NULL, pr->key, "%s", why);
            }
        }
        vms_analysis_conf_free(scratch);
    }
}

/* fp: the file at path, or (cluster_camera) that file followed by one
 * [camera ID] section made of a vms.cameras record; closed here. */
static vms_config_t *
config_parse(const char *path, FILE *fp, int cluster_camera, char *field,
    size_t fieldlen, char *err, size_t errlen)
{
    parse_t             p;
    vms_config_t       *cfg;
    cam_parse_t        *c, *next;
    vms_camera_conf_t **tail;
    int                 rc;

    memset(&p, 0, sizeof(p));
    err[0] = '\0';
    cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        fclose(fp);
        return NULL;
    }
    vms_confkey_defaults(global_keys, NGLBKEYS, cfg);
    vms_confkey_defaults(camera_keys, NCAMKEYS, &cfg->defaults);
    cfg->path = strdup(path);
    p.cfg = cfg;
    p.path = path;
    p.ai_tail = &p.ai;
    p.cams_tail = &p.cams;
    p.fp = fp;
    p.cluster_camera = cluster_camera;

    ini_allow_multiline = false;
    rc = ini_parse_stream(reader, &p, handler, &p);
    fclose(p.fp);

    if (p.line_too_long) {
        perr(&p, p.line_too_long, NULL, NULL, "line too long (at most %d"
             " characters)", ini_max_line - 3);
    } else if (rc > 0 && p.nerrors == 0) {
        perr(&p, rc, NULL, NULL, "syntax error (expected [section], key ="
             " value or a comment)");
    } else if (rc < 0) {
        perr(&p, 0, NULL, NULL, "cannot parse (error %d)", rc);
    }

    check_global(&p);

    tail = &cfg->cameras;
    for (c = p.cams; c != NULL; c = next) {
        next = c->next;
        finish_camera(&p, c);
        *tail = c->cc;
        tail = &c->cc->next;
        cfg->ncameras++;
        pairs_free(c->ai);
        vms_buf_free(&c->raw);
        free(c);
    }
    pairs_free(p.ai);
    vms_buf_free(&p.global_raw);

    if (cfg->cluster && !cluster_camera && cfg->cameras != NULL) {
        perr(&p, cfg->cameras->line, cfg->cameras->id, NULL, "cluster is on:"
             " cameras come from the %s topic (POST /api/cameras/ID), not"
             " from [camera] sections", cfg->cameras_topic);
    }
    if (field != NULL) {
        snprintf(field, fieldlen, "%s", p.field);
    }
    if (p.nerrors > 0) {
        snprintf(err, errlen, "%s", p.errors.p ? p.errors.p : "error");
        vms_buf_free(&p.errors);
        vms_config_free(cfg);
        return NULL;
    }
    vms_buf_free(&p.errors);
    return cfg;
}

vms_config_t *
vms_config_load(const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "re");

    if (fp == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    return config_parse(path, fp, 0, NULL, 0, err, errlen);
}

#define CONFIG_FILE_MAX  (1024 * 1024)

vms_camera_conf_t *
vms_config_camera_text(const char *path, const char *id, const char *lines,
    char *field, size_t fieldlen, char *err, size_t errlen)
{
    vms_buf_t           text = {0};
    vms_config_t       *cfg;
    vms_camera_conf_t  *cc;
    FILE               *fp;
    int                 rc;

    field[0] = '\0';
    rc = vms_buf_read_file(&text, path, CONFIG_FILE_MAX);
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        vms_buf_free(&text);
        return NULL;
    }
    vms_buf_printf(&text, "\n[camera %s]\n%s", id, lines);
    if (text.p == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    fp = fmemopen(text.p, text.len, "r");
    if (fp == NULL) {
        snprintf(err, errlen, "out of memory");
        vms_buf_free(&text);
        return NULL;
    }
    cfg = config_parse(path, fp, 1, field, fieldlen, err, errlen);
    vms_buf_free(&text);
    if (cfg == NULL) {
        return NULL;
    }
    cc = vms_config_find_camera(cfg, id);
    if (cc != NULL) {
        vms_config_detach_camera(cfg, cc);
    } else {
        snprintf(err, errlen, "no camera %s parsed", id);
    }
    vms_config_free(cfg);
    return cc;
}

void
vms_camera_conf_free(vms_camera_conf_t *cc)
{
    if (cc == NULL) {
        return;
    }
    free(cc->url);
    free(cc->sig);
    if (cc->analysis != NULL) {
        vms_analysis_conf_free(cc->analysis);
    }
    free(cc);
}

void
vms_config_free(vms_config_t *cfg)
{
    vms_camera_conf_t *cc, *next;

    if (cfg == NULL) {
        return;
    }
    for (cc = cfg->cameras; cc != NULL; cc = next) {
        next = cc->next;
        vms_camera_conf_free(cc);
    }
    free(cfg->path);
    free(cfg->recordings);
    free(cfg->kafka_brokers);
    free(cfg->events_topic);
    free(cfg->api_allowed_origins);
    if (cfg->api_secret != NULL) {
        explicit_bzero(cfg->api_secret, strlen(cfg->api_secret));
    }
    free(cfg->api_secret);
    free(cfg->api_jwks);
    free(cfg->api_token_issuer);
    free(cfg->api_token_audience);
    free(cfg->api_tls_cert);
    free(cfg->api_tls_cert_path);
    free(cfg->api_tls_key_path);
    if (cfg->api_tls_key != NULL) {
        explicit_bzero(cfg->api_tls_key, strlen(cfg->api_tls_key));
    }
    free(cfg->api_tls_key);
    free(cfg->spool_dir);
    free(cfg->redis);
    free(cfg->redis_password);
    free(cfg->pg_conninfo);
    free(cfg->pg_schema);
    free(cfg->relay_secret);
    free(cfg->node_id);
    free(cfg->cameras_topic);
    free(cfg->cluster_group);
    free(cfg);
}

void
vms_config_detach_camera(vms_config_t *cfg, vms_camera_conf_t *cc)
{
    vms_camera_conf_t **pp;

    for (pp = &cfg->cameras; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == cc) {
            *pp = cc->next;
            cc->next = NULL;
            cfg->ncameras--;
            return;
        }
    }
}

vms_camera_conf_t *
vms_config_find_camera(vms_config_t *cfg, const char *id)
{
    vms_camera_conf_t *cc;

    for (cc = cfg->cameras; cc != NULL; cc = cc->next) {
        if (strcmp(cc->id, id) == 0) {
            return cc;
        }
    }
    return NULL;
}
