/*
 * vmsd: camera ingest, recording, snapshots, watchdog and events for vms.
 * One process, one thread per camera; see docs/vmsd.md.
 *
 *   vmsd -c vmsd.conf       run
 *   vmsd -t -c vmsd.conf    check the configuration and exit
 *
 * Signals: SIGTERM/SIGINT stop cleanly (segments closed, events flushed or
 * spooled); SIGHUP reloads the configuration (cameras added, removed or
 * restarted when their settings changed; the others are not touched; a bad
 * file is reported and the running configuration kept).
 *
 * Under systemd (Type=notify): READY=1 once the API serves and the cameras
 * are started, WATCHDOG=1 from the main loop while healthy, STOPPING=1.
 */

#include "analysis.h"
#include "api.h"
#include "apiauth.h"
#include "camera.h"
#include "cluster.h"
#include "config.h"
#include "events.h"
#include "http.h"
#include "tlscert.h"
#include "log.h"
#include "pg.h"
#include "retention.h"
#include "state.h"
#include "rstore.h"
#include "secret.h"
#include "util.h"
#include "watchdog.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <libavformat/avformat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#define ERR_MAX  8192

typedef struct {
    vms_camera_t  **v;
    int             n, cap;
} running_t;

/* running is changed by the main thread (start, SIGHUP) and, with cluster
 * on, by the cluster's lease thread: under running_lock */
static running_t         running;
static pthread_mutex_t   running_lock = PTHREAD_MUTEX_INITIALIZER;
static vms_retention_t  *retention;

/* The API's keys and policy from cfg (apiauth.h); they replace the ones in force. */
static int
apiauth_load(const vms_config_t *cfg, char *err, size_t errlen)
{
    vms_apiauth_conf_t ac = {
        .on = cfg->api_auth,
        .secret = cfg->api_secret,
        .jwks = cfg->api_jwks,
        .leeway_ms = cfg->api_token_leeway_ms,
        .issuer = cfg->api_token_issuer,
        .audience = cfg->api_token_audience,
    };
    return vms_apiauth_init(&ac, err, errlen);
}

static void
log_errors(const char *prefix, const char *err)
{
    const char *p = err, *nl;

    while (*p) {
        nl = strchr(p, '\n');
        vms_log_error(NULL, "%s%.*s", prefix,
                      (int) (nl ? nl - p : (ptrdiff_t) strlen(p)), p);
        if (nl == NULL) {
            break;
        }
        p = nl + 1;
    }
}

static void
publish_camera(const vms_camera_conf_t *cc, const char *status)
{
    if (status != NULL) {
        vms_state_camera_status(cc->id, status);
    }
    vms_state_camera_row(cc->id, cc->enabled, cc->s.record, cc->s.retention_days);
}

static void
push(running_t *r, vms_camera_t *cam)
{
    if (r->n == r->cap) {
        int             cap = r->cap ? r->cap * 2 : 16;
        vms_camera_t  **v = realloc(r->v, sizeof(*v) * (size_t) cap);
        if (v == NULL) {
            vms_log_error(NULL, "out of memory; stopping camera");
            vms_camera_stop(cam);
            return;
        }
        r->v = v;
        r->cap = cap;
    }
    r->v[r->n++] = cam;
}

/* Starts cc (taken) and adds it to r; -1 when it did not start. */
static int
run_camera(running_t *r, vms_camera_conf_t *cc)
{
    vms_camera_t *cam;

    publish_camera(cc, NULL);
    if (retention != NULL) {
        vms_retention_camera(retention, cc->id, cc->s.retention_days);
    }
    cam = vms_camera_start(cc);
    if (cam == NULL) {
        return -1;
    }
    pthread_mutex_lock(&running_lock);
    push(r, cam);
    pthread_mutex_unlock(&running_lock);
    return 0;
}

static void
start_camera(running_t *r, vms_config_t *cfg, vms_camera_conf_t *cc)
{
    vms_config_detach_camera(cfg, cc);
    run_camera(r, cc);
}

/* Starts every enabled camera left in cfg; returns how many. */
static int
start_cameras(running_t *r, vms_config_t *cfg)
{
    vms_camera_conf_t *cc, *next;
    int                n = 0;

    for (cc = cfg->cameras; cc != NULL; cc = next) {
        next = cc->next;
        if (!cc->enabled) {
            publish_camera(cc, "disabled");
            continue;
        }
        start_camera(r, cfg, cc);
        n++;
    }
    return n;
}

/* cluster.h's ops: the lease thread starts and stops the cameras this node
 * was assigned (docs/scale-out.md) */
static int
cluster_start_camera(vms_camera_conf_t *cc, void *data)
{
    return run_camera(&running, cc);
}

static void
cluster_stop_camera(const char *id, void *data)
{
    vms_camera_t  *cam = NULL;
    int            i;

    pthread_mutex_lock(&running_lock);
    for (i = 0; i < running.n; i++) {
        if (strcmp(vms_camera_conf(running.v[i])->id, id) == 0) {
            cam = running.v[i];
            running.v[i] = running.v[--running.n];
            break;
        }
    }
    pthread_mutex_unlock(&running_lock);
    if (cam != NULL) {
        vms_camera_stop(cam);
        vms_state_camera_status(id, "stopped");
    }
}

static int
str_differs(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a != b;
    }
    return strcmp(a, b) != 0;
}

static void
secret_warn(const char *msg)
{
    vms_log_warn(NULL, "%s", msg);
}

/* The API's certificate and key of a reloaded cfg, parsed and checked
 * (*out, committed by the caller), when vmsd serves HTTPS; *out stays NULL
 * when it does not: TLS on or off applies at the next start. */
static int
api_tls_prepare(const vms_config_t *cfg, const vms_config_t *old,
    vms_tlscert_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (old->api_tls_cert == NULL || old->listen_unix[0] != '\0'
        || cfg->api_tls_cert == NULL)
    {
        return 0;
    }
    *out = vms_tlscert_prepare(cfg->api_tls_cert, cfg->api_tls_key,
                               cfg->api_tls_cert_path, cfg->api_tls_key_path,
                               err, errlen);
    return *out != NULL ? 0 : -1;
}

static void
reload(const char *path, vms_config_t *old)
{
    char                err[ERR_MAX];
    vms_config_t       *cfg;
    vms_camera_conf_t  *cc;
    running_t           next = { NULL, 0, 0 };
    vms_tlscert_t      *pair = NULL;
    int                 i, added, removed = 0, restarted = 0, kept = 0;

    vms_log_info(NULL, "SIGHUP: reloading %s", path);
    /* a rotated secret (aws-sm:, a file) is read again */
    vms_secret_flush();
    cfg = vms_config_load(path, err, sizeof(err));
    if (cfg == NULL) {
        log_errors("reload refused, running configuration kept: ", err);
        return;
    }
    /* the API's certificate and keys first: one that does not load keeps
     * everything as it was */
    if (api_tls_prepare(cfg, old, &pair, err, sizeof(err)) != 0
        || apiauth_load(cfg, err, sizeof(err)) != 0)
    {
        log_errors("reload refused, running configuration kept: ", err);
        vms_tlscert_discard(pair);
        vms_config_free(cfg);
        return;
    }
    if (pair != NULL) {
        vms_tlscert_commit(pair);
        vms_log_info(NULL, "reload: API certificate from %s (%s) for new"
                     " connections", cfg->api_tls_cert_path,
                     vms_tlscert_describe(pair));
    }
    vms_log_set_level(cfg->log_level);
    vms_log_set_format(cfg->log_format);
    vms_http_allow_origins(cfg->api_allowed_origins);

    if (strcmp(cfg->listen_host, old->listen_host) != 0
        || cfg->listen_port != old->listen_port
        || strcmp(cfg->listen_unix, old->listen_unix) != 0
        || strcmp(cfg->metrics_host, old->metrics_host) != 0
        || cfg->metrics_port != old->metrics_port
        || (cfg->api_tls_cert == NULL) != (old->api_tls_cert == NULL)
        || str_differs(cfg->recordings, old->recordings)
        || str_differs(cfg->kafka_brokers, old->kafka_brokers)
        || str_differs(cfg->redis, old->redis)
        || str_differs(cfg->pg_conninfo, old->pg_conninfo)
        || str_differs(cfg->spool_dir, old->spool_dir))
    {
        vms_log_warn(NULL, "reload: listen, TLS on or off, recordings,"
                     " kafka_brokers, redis, postgres and spool_dir apply at the next start; the"
                     " running values are kept");
    }
    if (old->cluster || cfg->cluster) {
        /* cameras come from the cameras topic and apply as they change */
        if (cfg->cluster != old->cluster) {
            vms_log_warn(NULL, "reload: cluster on or off applies at the next"
                         " start");
        }
        vms_log_info(NULL, "reload done (cluster: cameras are not in the"
                     " file)");
        vms_config_free(cfg);
        return;
    }

    for (i = 0; i < running.n; i++) {
        vms_camera_t            *cam = running.v[i];
        const vms_camera_conf_t *rc = vms_camera_conf(cam);
        char                     id[VMS_CAMERA_ID_MAX + 1];

        snprintf(id, sizeof(id), "%s", rc->id);
        cc = vms_config_find_camera(cfg, id);
        if (cc == NULL || !cc->enabled) {
            vms_log_info(id, "reload: %s", cc ? "disabled" : "removed");
            vms_camera_stop(cam);
            if (cc == NULL) {
                vms_state_camera_status(id, "removed");
            }
            removed++;
        } else if (strcmp(cc->sig, rc->sig) != 0) {
            vms_log_info(id, "reload: settings changed; restarting");
            vms_camera_stop(cam);
            start_camera(&next, cfg, cc);
            restarted++;
        } else {
            vms_config_detach_camera(cfg, cc);
            vms_camera_conf_free(cc);
            push(&next, cam);
            kept++;
        }
    }
    pthread_mutex_lock(&running_lock);
    free(running.v);
    running = next;
    pthread_mutex_unlock(&running_lock);
    added = start_cameras(&running, cfg);
    vms_log(VMS_LOG_INFO, NULL, NULL, "reload done: %d added, %d removed,"
            " %d restarted, %d unchanged", added, removed, restarted, kept);
    vms_config_free(cfg);
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: vmsd [-t] -c vmsd.conf\n"
               "  -c FILE  configuration (INI, see docs/vmsd.md)\n"
               "  -t       check the configuration and exit\n");
}

/*
 * systemd's watchdog (WatchdogSec= in docker/systemd/vmsd.service): pinged
 * from this loop (at least once a second) only while vmsd is healthy, so
 * systemd restarts a vmsd whose main loop or camera watchdog is stuck.
 * Healthy: the camera watchdog thread made a pass over every camera within
 * WATCHDOG_STALE_US (it wakes every 100 ms at most).  Without NOTIFY_SOCKET
 * (not under systemd) sd_notify() does nothing.
 */
#define WATCHDOG_STALE_US  (5 * 1000000)

static void
notify_watchdog(void)
{
    static int  unhealthy;
    int64_t     last = vms_watchdog_last_pass_us();
    int         ok = last != 0 && vms_mono_us() - last < WATCHDOG_STALE_US;

    if (ok) {
        sd_notify(0, "WATCHDOG=1");
        if (unhealthy) {
            vms_log_info(NULL, "systemd watchdog: healthy again, pinging");
        }
    } else if (!unhealthy && last != 0) {
        vms_log_error(NULL, "systemd watchdog: camera watchdog thread stuck"
                      " for %lld ms; no longer pinging systemd",
                      (long long) ((vms_mono_us() - last) / 1000));
    }
    unhealthy = !ok && last != 0;   /* 0: its first pass is still due */
}

/*
 * glibc's malloc as a camera recorder needs it (docs/vmsd.md, "Memory"):
 * by default every thread that allocates gets an arena of its own (up to 8
 * per core), and the mmap threshold rises to the largest block freed, so
 * the 1080p frame buffers of a keyframe decode (~3 MB each, freed seconds
 * later) end up in those arenas and stay resident.  Two arenas and a fixed
 * 256 KB threshold return such blocks to the kernel at free.  MALLOC_ARENA_MAX
 * or MALLOC_MMAP_THRESHOLD_ in the environment keep glibc's own handling.
 */
static void
tune_malloc(void)
{
    if (getenv("MALLOC_ARENA_MAX") == NULL) {
        mallopt(M_ARENA_MAX, 2);
    }
    if (getenv("MALLOC_MMAP_THRESHOLD_") == NULL) {
        mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    }
}

int
main(int argc, char **argv)
{
    const char         *path = NULL;
    int                 check = 0, opt, sig, i;
    char                err[ERR_MAX];
    vms_config_t       *cfg;
    sigset_t            set;
    vms_events_conf_t   ec;
    struct timespec     ts = { 1, 0 };

    while ((opt = getopt(argc, argv, "c:th")) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 't': check = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (path == NULL) {
        usage(stderr);
        return 2;
    }

    tune_malloc();
    vms_log_capture_ffmpeg();
    vms_secret_set_warn(secret_warn);
    cfg = vms_config_load(path, err, sizeof(err));
    if (cfg == NULL) {
        if (check) {
            /* -t is for people: plain lines */
            fprintf(stderr, "%s\n", err);
        } else {
            log_errors("", err);
        }
        return 2;
    }
    if (apiauth_load(cfg, err, sizeof(err)) != 0) {
        if (check) {
            fprintf(stderr, "%s: %s\n", path, err);
        } else {
            log_errors("", err);
        }
        vms_config_free(cfg);
        return 2;
    }
    vms_log_set_level(cfg->log_level);
    vms_log_set_format(cfg->log_format);
    if (check) {
        printf("%s: configuration ok (%d cameras)\n", path, cfg->ncameras);
        vms_apiauth_free();
        vms_config_free(cfg);
        return 0;
    }

    /* signals are taken synchronously by this thread only */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    avformat_network_init();

    /* built whole: a field added later is zero (its default), never stack garbage */
    ec = (vms_events_conf_t) {
        .brokers = cfg->kafka_brokers,
        .events_topic = cfg->events_topic,
        .spool_dir = cfg->spool_dir,
        .spool_max_bytes = cfg->spool_max_bytes,
        .message_timeout_ms = cfg->kafka_message_timeout_ms,
        .queue_max = cfg->kafka_queue_max,
        .probe_interval_ms = cfg->kafka_probe_interval_ms,
    };
    if (vms_events_init(&ec, err, sizeof(err)) != 0) {
        vms_log_error(NULL, "%s", err);
        return 1;
    }
    if (vms_redis_start(cfg->redis, cfg->redis_password, cfg->redis_queue_max)
        != 0
        || vms_pg_start(cfg->pg_conninfo, cfg->pg_schema, cfg->pg_queue_max)
           != 0)
    {
        return 1;
    }
    vms_cameras_init(cfg->recordings, cfg->relay_secret);
    {
        vms_retention_conf_t rc = {
            .root = cfg->recordings,
            .interval_ms = cfg->retention_interval_ms,
            .daily_at = cfg->retention_daily_at,
            .max_used_pct = cfg->disk_max_used_pct,
            .min_free_bytes = cfg->disk_min_free_bytes,
            /* shared tree: each node ages out only the cameras it holds;
             * local tree (cluster_storage = local): all of it is this node's */
            .owns = cfg->cluster && !cfg->storage_local ? vms_cluster_owns : NULL,
            .days = cfg->cluster && cfg->storage_local ? vms_cluster_retention_days : NULL,
        };
        vms_camera_conf_t *cc;
        retention = vms_retention_start(&rc);
        for (cc = cfg->cameras; retention != NULL && cc != NULL; cc = cc->next) {
            vms_retention_camera(retention, cc->id, cc->s.retention_days);
        }
    }
    vms_api_register();
    vms_http_allow_origins(cfg->api_allowed_origins);
    vms_analysis_init();
    if (cfg->api_tls_cert != NULL && cfg->listen_unix[0] == '\0') {
        vms_tlscert_t *pair = vms_tlscert_prepare(cfg->api_tls_cert,
            cfg->api_tls_key, cfg->api_tls_cert_path, cfg->api_tls_key_path,
            err, sizeof(err));
        if (pair == NULL) {
            vms_log_error(NULL, "%s", err);
            return 1;
        }
        vms_tlscert_commit(pair);
        vms_log_info(NULL, "http: API certificate from %s (%s)",
                     cfg->api_tls_cert_path, vms_tlscert_describe(pair));
    }
    if (cfg->cluster) {
        vms_cluster_expect();        /* the cameras API answers 503 until it runs */
    }
    if ((cfg->listen_unix[0] != '\0'
         ? vms_http_start_unix(cfg->listen_unix, cfg->listen_mode, err,
                               sizeof(err))
         : vms_http_start(cfg->listen_host, cfg->listen_port,
                          cfg->api_tls_cert != NULL, err, sizeof(err))) != 0)
    {
        vms_log_error(NULL, "%s", err);
        vms_tlscert_free_all();
        return 1;
    }
    if (cfg->metrics_host[0] != '\0'
        && vms_http_start_metrics(cfg->metrics_host, cfg->metrics_port, err,
                                  sizeof(err)) != 0)
    {
        vms_log_error(NULL, "%s", err);
        vms_http_stop();
        return 1;
    }
    vms_watchdog_start();
    start_cameras(&running, cfg);
    {
        vms_cluster_ops_t ops = { cluster_start_camera, cluster_stop_camera,
                                  NULL };
        if (vms_cluster_start(cfg, &ops, err, sizeof(err)) != 0) {
            vms_log_error(NULL, "%s", err);
            vms_http_stop();
            return 1;
        }
    }
    vms_log_info(NULL, "vmsd running: %d cameras%s", running.n,
                 cfg->cluster ? " (cluster: more as partitions are assigned)"
                              : "");
    /* systemd (Type=notify): serving from here on */
    sd_notifyf(0, "READY=1\nSTATUS=running: %d cameras", running.n);

    for (;;) {
        notify_watchdog();
        sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGHUP) {
            reload(path, cfg);
        } else if (sig == SIGTERM || sig == SIGINT) {
            vms_log_info(NULL, "%s: stopping", strsignal(sig));
            sd_notify(0, "STOPPING=1");
            break;
        }
    }

    /* cluster cameras first, their leases released while the group still
     * counts this node */
    vms_cluster_stop();
    for (i = 0; i < running.n; i++) {
        vms_camera_request_stop(running.v[i]);
    }
    for (i = 0; i < running.n; i++) {
        vms_camera_stop(running.v[i]);
    }
    free(running.v);
    if (retention != NULL) {
        vms_retention_stop(retention);
    }
    vms_watchdog_stop();
    vms_http_stop();
    vms_apiauth_free();
    vms_events_shutdown(3000);
    vms_pg_stop(3000);
    vms_redis_stop();
    vms_config_free(cfg);
    avformat_network_deinit();
    vms_log_info(NULL, "vmsd stopped");
    return 0;
}
