/*
 * vms-login: users who sign in with a password (docs/users.md).  nginx proxies
 * /api/auth/login, /refresh and /logout here, so nothing that waits on PostgreSQL, on argon2 or on
 * Redis runs in an nginx worker.
 *
 *   vms-login --pg-dsn-file F --jwt-secret-file F [--listen 127.0.0.1:8095|unix:/PATH [--listen-mode 0660]]
 *             [--redis IP:PORT]
 *             [--token-ttl 900] [--refresh-ttl 604800] [--issuer S] [--audience S] [--kid S]
 *             [--cookie-secure on|off] [--leeway 30] [--threads 4]
 *
 * Every option is also VMS_LOGIN_<NAME> in the environment (--pg-dsn-file: VMS_LOGIN_PG_DSN_FILE).
 * One PostgreSQL and one Redis connection per server thread, opened on first use and again after
 * they broke: PostgreSQL away is a 503 JSON, and the next request after it is back works.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "../consumer_common/svc.h"
#include "login.h"
#include "secret.h"
#include "../consumer_common/httpd.h"

lg_conf_t lg_conf = {
    .listen = "127.0.0.1:8095", .token_ttl = 900, .refresh_ttl = 604800, .cookie_secure = 1,
    .leeway = 30, .threads = 4, .max_failures = 10, .failure_window = 900,
};

/* ---- metrics ---- */

static const double HASH_BUCKETS[] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 };
#define NB (sizeof(HASH_BUCKETS) / sizeof(HASH_BUCKETS[0]))
static unsigned long m_login[LG_OUTCOMES], m_refresh[LG_OUTCOMES], m_hash_le[NB], m_hash_n;
static double m_hash_sum;
static const char *OUTCOME[LG_OUTCOMES] = { "ok", "invalid", "locked", "error" };

void
lg_count(int refresh, int outcome)
{
    __atomic_add_fetch(refresh ? &m_refresh[outcome] : &m_login[outcome], 1, __ATOMIC_RELAXED);
}

void
lg_observe_hash(double seconds)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < NB; i++) {
        if (seconds <= HASH_BUCKETS[i]) {
            m_hash_le[i]++;
        }
    }
    m_hash_n++;
    m_hash_sum += seconds;
    pthread_mutex_unlock(&mu);
}

static void
metrics(lg_reply_t *r)
{
    char *b = malloc(4096);
    size_t o = 0, cap = 4096;
    if (b == NULL) {
        return;
    }
#define P(...) o += (size_t) snprintf(b + o, cap - o, __VA_ARGS__)
    P("# TYPE vms_login_attempts_total counter\n");
    for (int i = 0; i < LG_OUTCOMES; i++) {
        P("vms_login_attempts_total{outcome=\"%s\"} %lu\n", OUTCOME[i],
          __atomic_load_n(&m_login[i], __ATOMIC_RELAXED));
    }
    P("# TYPE vms_login_refresh_total counter\n");
    for (int i = 0; i < LG_OUTCOMES; i++) {
        P("vms_login_refresh_total{outcome=\"%s\"} %lu\n", OUTCOME[i],
          __atomic_load_n(&m_refresh[i], __ATOMIC_RELAXED));
    }
    P("# TYPE vms_login_hash_seconds histogram\n");
    for (size_t i = 0; i < NB; i++) {
        P("vms_login_hash_seconds_bucket{le=\"%g\"} %lu\n", HASH_BUCKETS[i], m_hash_le[i]);
    }
    P("vms_login_hash_seconds_bucket{le=\"+Inf\"} %lu\n", m_hash_n);
    P("vms_login_hash_seconds_sum %.6f\nvms_login_hash_seconds_count %lu\n", m_hash_sum, m_hash_n);
#undef P
    r->status = MHD_HTTP_OK;
    r->body = b;
    r->len = o;
    r->type = "text/plain; version=0.0.4";
}

/* ---- replies ---- */

void
lg_reply_json(lg_reply_t *r, unsigned status, json_t *doc)
{
    r->status = status;
    r->body = json_dumps(doc, JSON_COMPACT);
    r->len = r->body ? strlen(r->body) : 0;
    r->type = "application/json";
    json_decref(doc);
}

void
lg_reply_error(lg_reply_t *r, unsigned status, const char *code, const char *msg)
{
    lg_reply_json(r, status, json_pack("{s:s,s:s,s:i}", "error", code, "message", msg, "status", (int) status));
}

void
lg_cookie(lg_reply_t *r, const char *value, long max_age)
{
    snprintf(r->cookie, sizeof(r->cookie), "vms_refresh=%s; Path=/api/auth; HttpOnly;%s SameSite=Strict; Max-Age=%ld",
             value, lg_conf.cookie_secure ? " Secure;" : "", max_age);
}

/* ---- HTTP ---- */

typedef struct {
    char   body[LG_BODY_MAX + 1];
    size_t len;
    int    too_large;
} upload_t;

static void
on_done(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode why)
{
    (void) cls;
    (void) c;
    (void) why;
    if (*state) {
        explicit_bzero(*state, sizeof(upload_t));     /* it held a password */
        free(*state);
        *state = NULL;
    }
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
           const char *upload, size_t *upload_len, void **state)
{
    (void) cls;
    (void) version;
    if (*state == NULL) {          /* first call: headers only */
        *state = calloc(1, sizeof(upload_t));
        return *state ? MHD_YES : MHD_NO;
    }
    upload_t *u = *state;
    if (*upload_len) {
        if (u->len + *upload_len > LG_BODY_MAX) {
            u->too_large = 1;
        } else {
            memcpy(u->body + u->len, upload, *upload_len);
            u->len += *upload_len;
        }
        *upload_len = 0;
        return MHD_YES;
    }
    lg_reply_t r = { 0 };
    lg_req_t q = { .c = c, .body = u->body, .len = u->len };
    int post = strcmp(method, "POST") == 0;
    if (strcmp(url, "/health") == 0) {
        lg_reply_json(&r, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
    } else if (strcmp(url, "/metrics") == 0) {
        metrics(&r);
    } else if (strcmp(url, "/api/auth/login") != 0 && strcmp(url, "/api/auth/refresh") != 0
               && strcmp(url, "/api/auth/logout") != 0) {
        lg_reply_error(&r, MHD_HTTP_NOT_FOUND, "not_found", "no such resource");
    } else if (!post) {
        lg_reply_error(&r, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "POST only");
    } else if (u->too_large) {
        lg_reply_error(&r, 413, "payload_too_large", "the body is over 4 KiB");
    } else if (strcmp(url, "/api/auth/login") == 0) {
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        size_t n = strlen("application/json");
        if (ct == NULL || strncasecmp(ct, "application/json", n) != 0 || (ct[n] && ct[n] != ';' && ct[n] != ' ')) {
            lg_reply_error(&r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                           "Content-Type: application/json required");
        } else {
            lg_login(&q, &r);
        }
    } else if (strcmp(url, "/api/auth/refresh") == 0) {
        lg_refresh(&q, &r);
    } else {
        lg_logout(&q, &r);
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(r.len, r.body ? r.body : (void *) "",
                                                               r.body ? MHD_RESPMEM_MUST_FREE
                                                                      : MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "Content-Type", r.type ? r.type : "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (r.retry_after > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%ld", r.retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    if (r.cookie[0]) {
        MHD_add_response_header(resp, "Set-Cookie", r.cookie);
    }
    enum MHD_Result ret = MHD_queue_response(c, r.status ? r.status : 500, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- configuration ---- */

/* A secret from a file or aws-sm: (secret.h: one trailing newline trimmed, as nginx's vms_auth
 * reads the same key file), NUL-terminated and malloc'd; NULL (said why, never the value). */
char *
lg_read_secret(const char *what, const char *ref, size_t *len)
{
    char  why[256];
    char *v = vms_secret_get(ref, why, sizeof(why));

    if (v == NULL) {
        fprintf(stderr, "%s: %s\n", what, why);
        return NULL;
    }
    if (len) {
        *len = strlen(v);
    }
    return v;
}

static void
usage(void)
{
    fprintf(stderr,
            "usage: vms-login --pg-dsn-file F --jwt-secret-file F [--listen 127.0.0.1:8095|unix:/PATH]\n"
            "                 [--listen-mode 0660] [--redis IP:PORT]\n"
            "                 [--token-ttl 900] [--refresh-ttl 604800] [--issuer S] [--audience S] [--kid S]\n"
            "                 [--cookie-secure on|off] [--leeway 30] [--threads 4]\n"
            "                 [--max-failures 10] [--failure-window 900]\n"
            "  every option also VMS_LOGIN_<NAME> (e.g. VMS_LOGIN_PG_DSN_FILE)\n");
}

typedef struct {
    const char *name;
    const char **s;
    long       *n;
    long        min, max;
} opt_t;

int
main(int argc, char **argv)
{
    const char *dsn_file = NULL, *key_file = NULL, *secure = "on", *listen_mode = "0660";
    long threads = 4;
    opt_t opts[] = {
        { "listen", &lg_conf.listen, NULL, 0, 0 },        { "pg-dsn-file", &dsn_file, NULL, 0, 0 },
        { "jwt-secret-file", &key_file, NULL, 0, 0 },    { "redis", &lg_conf.redis, NULL, 0, 0 },
        { "issuer", &lg_conf.issuer, NULL, 0, 0 },        { "audience", &lg_conf.audience, NULL, 0, 0 },
        { "kid", &lg_conf.kid, NULL, 0, 0 },              { "cookie-secure", &secure, NULL, 0, 0 },
        { "listen-mode", &listen_mode, NULL, 0, 0 },
        { "token-ttl", NULL, &lg_conf.token_ttl, 10, 86400 },
        { "refresh-ttl", NULL, &lg_conf.refresh_ttl, 60, 366L * 86400 },
        { "leeway", NULL, &lg_conf.leeway, 0, 3600 },     { "threads", NULL, &threads, 1, 64 },
        { "max-failures", NULL, &lg_conf.max_failures, 1, 100000 },
        { "failure-window", NULL, &lg_conf.failure_window, 1, 86400 },
    };
    size_t nopts = sizeof(opts) / sizeof(opts[0]);

    svc_init("login");
    /* the environment first, then the command line over it */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = pass ? 1 : (int) nopts; pass ? i < argc : i > 0; pass ? i++ : i--) {
            opt_t *o = NULL;
            const char *val;
            if (pass == 0) {
                char env[64] = "VMS_LOGIN_";
                o = &opts[i - 1];
                size_t k = strlen(env);
                for (const char *p = o->name; *p && k < sizeof(env) - 1; p++) {
                    env[k++] = *p == '-' ? '_' : (char) toupper((unsigned char) *p);
                }
                env[k] = '\0';
                if ((val = getenv(env)) == NULL) {
                    continue;
                }
            } else {
                for (size_t j = 0; j < nopts && o == NULL; j++) {
                    if (strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, opts[j].name) == 0) {
                        o = &opts[j];
                    }
                }
                if (o == NULL || i + 1 >= argc) {
                    usage();
                    return 2;
                }
                val = argv[++i];
            }
            if (o->s) {
                *o->s = val;
                continue;
            }
            char *end;
            long v = strtol(val, &end, 10);
            if (*val == '\0' || *end || v < o->min || v > o->max) {
                fprintf(stderr, "--%s %s: an integer %ld..%ld\n", o->name, val, o->min, o->max);
                return 2;
            }
            *o->n = v;
        }
    }
    if (strcmp(secure, "on") != 0 && strcmp(secure, "off") != 0) {
        fprintf(stderr, "--cookie-secure: on or off\n");
        return 2;
    }
    lg_conf.cookie_secure = strcmp(secure, "on") == 0;
    if (dsn_file == NULL || key_file == NULL) {
        usage();
        return 2;
    }
    if ((lg_conf.dsn = lg_read_secret("--pg-dsn-file", dsn_file, NULL)) == NULL
        || (lg_conf.key = lg_read_secret("--jwt-secret-file", key_file, &lg_conf.key_len)) == NULL) {
        return 2;
    }
    if (lg_conf.key_len < 32) {
        fprintf(stderr, "--jwt-secret-file %s: at least 32 bytes\n", key_file);
        return 2;
    }
    if (lg_setup() != 0) {
        return 1;
    }
    int rc;
    struct MHD_Daemon *d = svc_httpd_start(lg_conf.listen, listen_mode, (unsigned) threads, on_request,
                                           on_done, &rc);
    if (d == NULL) {
        return rc;
    }
    svc_say("ready on %s (%ld threads, token ttl %lds, refresh ttl %lds%s)", lg_conf.listen, threads,
            lg_conf.token_ttl, lg_conf.refresh_ttl, lg_conf.redis ? "" : ", no Redis: logout cannot revoke access tokens");
    while (!svc_stop) {
        svc_sleep_ms(500);
    }
    svc_httpd_stop(d, lg_conf.listen);
    svc_say("stopping");
    return 0;
}
