/*
 * vmsd configuration: one INI file (libinih).
 *
 *   [vmsd]            global settings and the defaults of every camera key
 *   [camera ID]       one camera; any camera key overrides the default;
 *                     keys starting with ai_, motion_ or roi go to the
 *                     analysis pipeline (vms_analysis_conf_set), also as
 *                     defaults when they appear in [vmsd].
 *
 * Every option, its default and its unit is listed in docs/vmsd.md.
 * Errors name file, line and key:
 *   vmsd.conf:12: camera cam3: key "retention_days": expected a positive integer
 * Secrets (PostgreSQL conninfo, Redis password) come from a file or the
 * environment and are never logged.
 */

#ifndef VMS_CONFIG_H
#define VMS_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "backoff.h"
#include "fence.h"
#include "util.h"

struct vms_analysis_conf_s;

#define VMS_PATH_TEMPLATE_MAX  256

/* Settings a camera section may override; [vmsd] gives their defaults. */
typedef struct {
    vms_backoff_conf_t  backoff;         /* backoff, backoff_jitter,
                                            max_attempts, healthy_period */
    int64_t   probe_ms;            /* probe interval while offline */
    int64_t   io_timeout_ms;       /* connect / DESCRIBE / probe timeout */
    int64_t   watchdog_ms;         /* watchdog check interval */
    int64_t   frozen_ms;           /* no frame for this long -> restart */
    int64_t   still_ms;            /* identical keyframes this long -> still */
    int64_t   snapshot_ms;
    int64_t   snapshot_ttl_ms;
    int64_t   snapshot_width;
    int64_t   segment_ms;
    int64_t   fragment_ms;
    char      path_template[VMS_PATH_TEMPLATE_MAX];
    int       record;
    int64_t   retention_days;      /* 0 = keep until disk pressure */
    char      relay[VMS_PATH_TEMPLATE_MAX];   /* "" = no live relay */
} vms_cam_settings_t;

typedef struct vms_camera_conf_s  vms_camera_conf_t;

struct vms_camera_conf_s {
    char                 id[VMS_CAMERA_ID_MAX + 1];
    char                *url;            /* may hold credentials: redact */
    int                  enabled;
    vms_cam_settings_t   s;
    struct vms_analysis_conf_s *analysis;
    char                *sig;            /* everything that configures it */
    int                  line;           /* first line of its section */
    vms_fence_t         *fence;          /* cluster ownership (fence.h;
                                            owned by cluster.c); NULL:
                                            a vmsd.conf camera */
    vms_camera_conf_t   *next;
};

typedef struct {
    char      *path;
    char       listen_host[64];
    int        listen_port;
    int        listen_public;              /* listen_host is not loopback (needs TLS) */
    char       listen_unix[108];           /* "": TCP listen_host:port */
    int        listen_mode;                /* unix socket file mode */
    char       metrics_host[64];           /* "": no metrics_listen */
    int        metrics_port;
    char      *recordings;
    char      *kafka_brokers;              /* NULL: events only logged */
    char      *events_topic;
    char      *spool_dir;
    int64_t    spool_max_bytes;
    int64_t    kafka_message_timeout_ms;
    int64_t    kafka_queue_max;            /* messages in librdkafka's queue */
    int64_t    kafka_probe_interval_ms;    /* broker reachability probe */
    char      *api_allowed_origins;        /* space-separated; NULL: none */
    char      *redis;                      /* host:port or unix:/path; NULL off */
    char      *redis_password;             /* secret */
    int64_t    redis_queue_max;
    char      *pg_conninfo;                /* secret; NULL: PostgreSQL off */
    char      *pg_schema;                  /* SQL file run at each connect */
    char      *relay_secret;               /* secret: HS256 key for relay
                                              publish tokens */
    int        api_auth;                   /* the API needs a token (apiauth.h) */
    char      *api_secret;                 /* secret: HMAC key tokens are checked with */
    char      *api_jwks;                   /* JWKS file of public keys */
    int64_t    api_token_leeway_ms;
    char      *api_token_issuer;
    char      *api_token_audience;
    char      *api_tls_cert;               /* PEM of the API's certificate chain; NULL: plain HTTP */
    char      *api_tls_key;                /* secret: PEM of its key */
    char      *api_tls_cert_path;          /* the files they came from, for log lines */
    char      *api_tls_key_path;
    int64_t    pg_queue_max;
    int        log_level;
    int        log_format;                 /* VMS_LOG_JSON or VMS_LOG_TEXT */
    int64_t    disk_max_used_pct;
    int64_t    disk_min_free_bytes;
    int64_t    retention_interval_ms;
    char       retention_daily_at[8];      /* "HH:MM" UTC */
    int        cluster;                    /* cameras from cameras_topic */
    char      *node_id;                    /* default: the host name */
    char      *cameras_topic;
    char      *cluster_group;
    int64_t    cluster_session_ms;
    int64_t    lease_ms;
    int64_t    lease_hold_max;             /* bytes per camera held while
                                              the lease is unconfirmed */
    int        storage_local;              /* cluster_storage = local: this
                                              node's recordings are its own */
    vms_cam_settings_t  defaults;
    vms_camera_conf_t  *cameras;
    int        ncameras;
} vms_config_t;

/*
 * Load and validate.  On error returns NULL and fills err with one line per
 * problem (file:line: … key "…": …).
 */
vms_config_t *vms_config_load(const char *path, char *err, size_t errlen);
void vms_config_free(vms_config_t *cfg);

/*
 * One camera of the vms.cameras topic (docs/scale-out.md): lines are its
 * "key = value" lines (one per key, no section header), parsed as a
 * [camera ID] section appended to the configuration at path, so a record
 * is checked by the same rules, gets the same defaults and the same sig as
 * a vmsd.conf section.  NULL on error: err says why (no file or line
 * named) and field names the first key at fault ("" when none is).
 */
vms_camera_conf_t *vms_config_camera_text(const char *path, const char *id,
    const char *lines, char *field, size_t fieldlen, char *err,
    size_t errlen);

/* Unlink a camera from cfg so its pipeline can own it. */
void vms_config_detach_camera(vms_config_t *cfg, vms_camera_conf_t *cc);
vms_camera_conf_t *vms_config_find_camera(vms_config_t *cfg, const char *id);
void vms_camera_conf_free(vms_camera_conf_t *cc);

#endif /* VMS_CONFIG_H */
