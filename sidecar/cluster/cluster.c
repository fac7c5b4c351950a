/*
 * Scale-out: cameras as data, ownership by consumer group, leases; see
 * cluster.h and docs/scale-out.md.
 */

#include "camera.h"
#include "cluster.h"
#include "events.h"
#include "lease.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "record.h"
#include "state.h"
#include "util.h"
#include "vms_kafka_ssl.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARTITIONS   1024
#define LEASE_RETRY_US   (500 * 1000)
#define LOOP_US          (100 * 1000)
#define REVOKE_WAIT_US   (60 * 1000000LL)

typedef struct cam_s  cam_t;
struct cam_s {
    char          id[VMS_CAMERA_ID_MAX + 1];
    int32_t       partition;
    int64_t       offset;          /* of json; -1 none yet */
    char         *json;            /* latest record; NULL: none or removed */
    int           disabled;        /* the record says enabled = no */
    char         *running_json;    /* the record the running camera has */
    int           bad;             /* json did not parse, or the camera is
                                      disabled: no take until it changes */
    int           want;            /* assigned here, loaded, has a record */
    int           held;            /* lease held and camera running */
    int           lost;            /* assignment lost: kept under the lease
                                      until the group assigns again */
    int64_t       lost_us;
    uint64_t      token;
    vms_fence_t   fence;           /* lives as long as the process */
    int64_t       next_try_us;
    int64_t       holdoff_us;      /* no take before (after a lost lease) */
    int64_t       renewed_us;      /* last renewal sent (monotonic) */
    int64_t       since_ms;        /* UTC: running here since */
    cam_t        *next;
};

static struct {
    int                 on;
    char               *path;           /* vmsd.conf */
    char               *node;
    char               *topic;
    char               *group;
    char               *brokers;
    int64_t             session_ms, lease_ms, hold_max;
    vms_cluster_ops_t   ops;

    pthread_mutex_t     lock;
    pthread_cond_t      changed;
    cam_t              *cams;           /* sorted by id */
    unsigned char       assigned[MAX_PARTITIONS];
    unsigned char       loaded[MAX_PARTITIONS];
    int64_t             assigned_us;    /* last assignment received */

    rd_kafka_t         *group_rk, *catalog_rk, *producer;
    int                 catalog_assigned;
    int64_t             catalog_retry_us;
    pthread_t           kafka_thread, lease_thread;
    atomic_int          stop;
    atomic_int          lease_stop;
    pthread_mutex_t     put_lock;
    vms_lease_conn_t   *lease_lc;       /* lease thread's */
    vms_lease_conn_t   *api_lc;         /* API's, under api_lock */
    pthread_mutex_t     api_lock;

    vms_metric_t       *m_owned, *m_rebalances, *m_lease_lost, *m_refused,
                       *m_unowned;
} cl = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .changed = PTHREAD_COND_INITIALIZER,
    .put_lock = PTHREAD_MUTEX_INITIALIZER,
    .api_lock = PTHREAD_MUTEX_INITIALIZER,
};

int
vms_cluster_on(void)
{
    return cl.on;
}

/* set before the API listens, so the cameras API can tell "starting" from "off" */
static atomic_int  cluster_expected;

void
vms_cluster_expect(void)
{
    atomic_store(&cluster_expected, 1);
}

int
vms_cluster_expected(void)
{
    return atomic_load(&cluster_expected);
}

const char *
vms_cluster_node(void)
{
    return cl.node;
}

static int64_t
now_ms(void)
{
    return vms_now_us() / 1000;
}

/* ---- the camera table (cl.lock held) ---- */

static cam_t *
cam_find(const char *id, int create)
{
    cam_t **pp, *c;
    int     cmp;

    for (pp = &cl.cams; *pp != NULL; pp = &(*pp)->next) {
        cmp = strcmp((*pp)->id, id);
        if (cmp == 0) {
            return *pp;
        }
        if (cmp > 0) {
            break;
        }
    }
    if (!create) {
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    snprintf(c->id, sizeof(c->id), "%s", id);
    c->offset = -1;
    c->partition = -1;
    c->next = *pp;
    *pp = c;
    return c;
}

/* want follows the partition's assignment, its load and the record */
static void
cam_update_want(cam_t *c)
{
    int p = c->partition;
    int assigned = p >= 0 && p < MAX_PARTITIONS && cl.assigned[p];

    if (assigned && cl.loaded[p]) {
        c->want = c->json != NULL;
    } else if (!assigned && !c->lost) {
        c->want = 0;
    }
    pthread_cond_broadcast(&cl.changed);
}

/* A record from either consumer or from the API's own write: the newest
 * offset wins. */
static void
cam_record(const char *id, int32_t partition, int64_t offset,
    const char *value, size_t len)
{
    cam_t *c = cam_find(id, 1);

    if (c == NULL || offset <= c->offset) {
        return;
    }
    free(c->json);
    c->json = value != NULL ? strndup(value, len) : NULL;
    c->disabled = c->json != NULL && vms_camera_record_disabled(c->json);
    c->offset = offset;
    c->partition = partition;
    c->bad = 0;
    cam_update_want(c);
}

/* ---- records: JSON to a camera (record.c) ---- */

vms_camera_conf_t *
vms_cluster_parse(const char *id, const char *json, char *field,
    size_t fieldlen, char *err, size_t errlen)
{
    return vms_camera_record_parse(cl.path, id, json, field, fieldlen, err,
                                   errlen);
}

/* ---- Kafka ---- */

static void
klog(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    vms_log(level <= 3 ? VMS_LOG_WARN : VMS_LOG_DEBUG, NULL,
            "\"source\":\"librdkafka\"", "cluster: kafka %s: %s: %s",
            rd_kafka_name(rk), fac, buf);
}

/* A client of cl.brokers with the common settings (TLS, log) and the given
 * key/value pairs (NULL-terminated); setup, when given, sets callbacks.
 * NULL with err set. */
static rd_kafka_t *
knew(rd_kafka_type_t type, const char *what, const char *const *kv,
    void (*setup)(rd_kafka_conf_t *c), char *err, size_t len)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_t      *rk;
    char             e[512];

    if (vms_kafka_conf_set(c, "bootstrap.servers", cl.brokers, err, len) != 0
        || vms_kafka_conf_set(c, "client.id", cl.node, err, len) != 0
        || vms_kafka_ssl_apply(c, err, len) != 0)
    {
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    for (; kv[0] != NULL; kv += 2) {
        if (vms_kafka_conf_set(c, kv[0], kv[1], err, len) != 0) {
            rd_kafka_conf_destroy(c);
            return NULL;
        }
    }
    rd_kafka_conf_set_log_cb(c, klog);
    if (setup != NULL) {
        setup(c);
    }
    rk = rd_kafka_new(type, c, e, sizeof(e));
    if (rk == NULL) {
        snprintf(err, len, "cluster: kafka %s: %s", what, e);
        rd_kafka_conf_destroy(c);
    }
    return rk;
}

static void
mirror_record(const char *id, const char *json)
{
    if (json != NULL) {
        const char *p[2] = { id, json };
        vms_pg_exec_async("INSERT INTO cameras (id, config, updated_at)"
                          " VALUES ($1, $2::jsonb, now())"
                          " ON CONFLICT (id) DO UPDATE SET config ="
                          " EXCLUDED.config, updated_at = now()", 2, p);
    } else {
        const char *p[1] = { id };
        vms_pg_exec_async("DELETE FROM cameras WHERE id = $1", 1, p);
    }
}

static void
on_message(rd_kafka_message_t *m, int owned)
{
    char id[VMS_CAMERA_ID_MAX + 1];

    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (owned && m->partition >= 0 && m->partition < MAX_PARTITIONS) {
            cam_t *c;

            pthread_mutex_lock(&cl.lock);
            if (cl.assigned[m->partition] && !cl.loaded[m->partition]) {
                cl.loaded[m->partition] = 1;
                vms_log_debug(NULL, "cluster: partition %d of %s loaded",
                             (int) m->partition, cl.topic);
                for (c = cl.cams; c != NULL; c = c->next) {
                    if (c->partition == m->partition) {
                        cam_update_want(c);
                    }
                }
            }
            pthread_mutex_unlock(&cl.lock);
        }
        return;
    }
    if (m->err) {
        vms_log_warn(NULL, "cluster: %s: %s", cl.topic,
                     rd_kafka_message_errstr(m));
        return;
    }
    if (m->key == NULL || m->key_len == 0 || m->key_len > VMS_CAMERA_ID_MAX
        || !vms_camera_id_valid(m->key, m->key_len))
    {
        vms_log_warn(NULL, "cluster: %s partition %d offset %" PRId64
                     ": record without a valid camera id as key; ignored",
                     cl.topic, (int) m->partition, m->offset);
        return;
    }
    memcpy(id, m->key, m->key_len);
    id[m->key_len] = '\0';
    pthread_mutex_lock(&cl.lock);
    cam_record(id, m->partition, m->offset, m->payload, m->len);
    pthread_mutex_unlock(&cl.lock);
    if (owned) {
        /* the partition's owner keeps PostgreSQL's cameras in step */
        char *json = m->payload ? strndup(m->payload, m->len) : NULL;
        mirror_record(id, json);
        free(json);
    }
}

static int
in_list(const rd_kafka_topic_partition_list_t *parts, int32_t p)
{
    int i;

    for (i = 0; i < parts->cnt; i++) {
        if (parts->elems[i].partition == p) {
            return 1;
        }
    }
    return 0;
}

static void
rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    rd_kafka_error_t *e = NULL;
    cam_t            *c;
    int               i, lost = rd_kafka_assignment_lost(rk);
    int64_t           until;

    vms_series_add(vms_metric_series(cl.m_rebalances, ""), 1);
    pthread_mutex_lock(&cl.lock);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        cl.assigned_us = vms_mono_us();
    }
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (i = 0; i < parts->cnt; i++) {
            int32_t p = parts->elems[i].partition;

            parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
            if (p >= 0 && p < MAX_PARTITIONS) {
                cl.assigned[p] = 1;
                cl.loaded[p] = 0;
            }
        }
        /* cameras kept under their lease since the assignment was lost:
         * those of partitions assigned again go on without a break; the
         * others wait for the group to settle (lease thread) */
        for (c = cl.cams; c != NULL; c = c->next) {
            if (c->lost && in_list(parts, c->partition)) {
                c->lost = 0;
                c->want = c->json != NULL;
            }
        }
        vms_log_info(NULL, "cluster: assigned %d partition(s) of %s",
                     parts->cnt, cl.topic);
        pthread_cond_broadcast(&cl.changed);
        pthread_mutex_unlock(&cl.lock);
        e = rd_kafka_incremental_assign(rk, parts);
    } else {
        for (i = 0; i < parts->cnt; i++) {
            int32_t p = parts->elems[i].partition;

            if (p >= 0 && p < MAX_PARTITIONS) {
                cl.assigned[p] = 0;
                cl.loaded[p] = 0;
            }
        }
        for (c = cl.cams; c != NULL; c = c->next) {
            if (!in_list(parts, c->partition)) {
                continue;
            }
            if (lost && c->held) {
                /* the group cannot be reached (or forgot us): the lease
                 * still says whose it is, so record on until the group
                 * assigns again (docs/scale-out.md) */
                c->lost = 1;
                c->lost_us = vms_mono_us();
            } else {
                c->want = 0;
            }
        }
        vms_log_info(NULL, "cluster: %s %d partition(s) of %s",
                     lost ? "lost" : "revoked", parts->cnt, cl.topic);
        pthread_cond_broadcast(&cl.changed);
        if (!lost) {
            /* a clean hand-over: the segments are closed and the leases
             * released before the partitions go */
            until = vms_mono_us() + REVOKE_WAIT_US;
            for (;;) {
                int busy = 0;
                for (c = cl.cams; c != NULL; c = c->next) {
                    busy |= in_list(parts, c->partition) && c->held && !c->lost;
                }
                if (!busy || vms_mono_us() > until) {
                    break;
                }
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 50 * 1000000;
                if (ts.tv_nsec >= 1000000000) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000;
                }
                pthread_cond_timedwait(&cl.changed, &cl.lock, &ts);
            }
        }
        pthread_mutex_unlock(&cl.lock);
        e = rd_kafka_incremental_unassign(rk, parts);
    }
    if (e != NULL) {
        vms_log_error(NULL, "cluster: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

static void
catalog_assign(void)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *t;
    rd_kafka_topic_partition_list_t *parts;
    int i;

    t = rd_kafka_topic_new(cl.catalog_rk, cl.topic, NULL);
    if (t == NULL) {
        return;
    }
    if (rd_kafka_metadata(cl.catalog_rk, 0, t, &md, 2000)
        != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1
        || md->topics[0].err || md->topics[0].partition_cnt == 0)
    {
        if (md != NULL) {
            rd_kafka_metadata_destroy(md);
        }
        rd_kafka_topic_destroy(t);
        return;
    }
    parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (i = 0; i < md->topics[0].partition_cnt; i++) {
        rd_kafka_topic_partition_list_add(parts, cl.topic,
            md->topics[0].partitions[i].id)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    if (rd_kafka_assign(cl.catalog_rk, parts) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        cl.catalog_assigned = 1;
        vms_log_info(NULL, "cluster: catalog reads %d partition(s) of %s",
                     parts->cnt, cl.topic);
    }
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
}

static void *
kafka_main(void *arg)
{
    rd_kafka_message_t *m;

    pthread_setname_np(pthread_self(), "cluster-kafka");
    while (!atomic_load(&cl.stop)) {
        m = rd_kafka_consumer_poll(cl.group_rk, 50);
        if (m != NULL) {
            on_message(m, 1);
            rd_kafka_message_destroy(m);
        }
        if (!cl.catalog_assigned && vms_mono_us() >= cl.catalog_retry_us) {
            catalog_assign();
            cl.catalog_retry_us = vms_mono_us() + 2000000;
        }
        while ((m = rd_kafka_consumer_poll(cl.catalog_rk, m ? 0 : 50)) != NULL) {
            on_message(m, 0);
            rd_kafka_message_destroy(m);
        }
    }
    return NULL;
}

/* ---- leases and cameras ---- */

static void
fence_set(cam_t *c, int64_t sent_us)
{
    /* Redis keeps the lease lease_ms from when it got the command, which
     * is after sent_us; a tenth off for the clocks' rates */
    atomic_store(&c->fence.valid_until_us, sent_us + cl.lease_ms * 900);
}

static void
owner_state(cam_t *c, const char *state)
{
    vms_lease_owner_set(cl.lease_lc, c->id, cl.node, state, c->since_ms,
                        c->token);
}

static void
released(cam_t *c, const char *reason)
{
    vms_event_emit(vms_events_topic(), "camera.released", c->id, NULL,
                   "\"node\":\"%s\",\"token\":%" PRIu64 ",\"reason\":\"%s\"",
                   cl.node, c->token, reason);
    vms_log_info(c->id, "cluster: released (%s)", reason);
}

/* Starts c under a lease just taken (cl.lock not held). */
static void
cam_run(cam_t *c, char *json, int64_t sent_us)
{
    char                field[64], err[512];
    vms_camera_conf_t  *cc;

    cc = vms_cluster_parse(c->id, json, field, sizeof(field), err,
                           sizeof(err));
    if (cc == NULL) {
        vms_log_error(c->id, "cluster: record not valid, camera not started:"
                      " %s", err);
        vms_lease_release(cl.lease_lc, c->id, cl.node, c->token);
        pthread_mutex_lock(&cl.lock);
        c->bad = 1;
        pthread_mutex_unlock(&cl.lock);
        free(json);
        return;
    }
    if (!cc->enabled) {
        vms_log_info(c->id, "cluster: disabled (enabled = no); not started");
        vms_state_camera_status(c->id, "disabled");
        vms_camera_conf_free(cc);
        vms_lease_release(cl.lease_lc, c->id, cl.node, c->token);
        pthread_mutex_lock(&cl.lock);
        c->bad = 1;
        pthread_mutex_unlock(&cl.lock);
        free(json);
        return;
    }
    atomic_store(&c->fence.lost, 0);
    fence_set(c, sent_us);
    c->fence.token = c->token;
    c->fence.hold_max = cl.hold_max;
    cc->fence = &c->fence;
    c->since_ms = now_ms();
    if (cl.ops.start(cc, cl.ops.data) != 0) {
        atomic_store(&c->fence.valid_until_us, 0);
        vms_lease_release(cl.lease_lc, c->id, cl.node, c->token);
        free(json);
        pthread_mutex_lock(&cl.lock);
        c->next_try_us = vms_mono_us() + LEASE_RETRY_US;
        pthread_mutex_unlock(&cl.lock);
        return;
    }
    pthread_mutex_lock(&cl.lock);
    c->held = 1;
    c->renewed_us = sent_us;
    free(c->running_json);
    c->running_json = json;
    pthread_mutex_unlock(&cl.lock);
    owner_state(c, "running");
    vms_event_emit(vms_events_topic(), "camera.assigned", c->id, NULL,
                   "\"node\":\"%s\",\"token\":%" PRIu64, cl.node, c->token);
    vms_log_info(c->id, "cluster: assigned to %s (fencing token %" PRIu64 ")",
                 cl.node, c->token);
    {
        char        since[32], tok[24];
        const char *p[4] = { c->id, cl.node, since, tok };

        vms_rfc3339(c->since_ms * 1000, since, sizeof(since));
        snprintf(tok, sizeof(tok), "%" PRIu64, c->token);
        vms_pg_exec_async("UPDATE cameras SET node = $2, state = 'running',"
                          " since = $3::timestamptz, fencing_token ="
                          " $4::bigint WHERE id = $1", 4, p);
    }
}

/* Stops c and gives its lease back (cl.lock not held). */
static void
cam_halt(cam_t *c, const char *reason, int lease_lost)
{
    if (lease_lost) {
        atomic_store(&c->fence.lost, 1);    /* before anything is closed */
        vms_series_add(vms_metric_series(cl.m_lease_lost, ""), 1);
    }
    cl.ops.stop(c->id, cl.ops.data);
    atomic_store(&c->fence.valid_until_us, 0);
    if (!lease_lost) {
        vms_lease_release(cl.lease_lc, c->id, cl.node, c->token);
        owner_state(c, "released");
    }
    released(c, reason);
    pthread_mutex_lock(&cl.lock);
    c->held = 0;
    c->lost = 0;
    free(c->running_json);
    c->running_json = NULL;
    if (lease_lost) {
        /* the group may not have told us yet that it moved the camera */
        c->holdoff_us = vms_mono_us() + cl.session_ms * 1000 + 2000000;
    }
    pthread_cond_broadcast(&cl.changed);
    pthread_mutex_unlock(&cl.lock);
}

/* 1 when the running record and cc differ in analysis keys only (ai_*,
 * motion_*, roi*): what the camera thread can swap in while it runs. */
static int
only_analysis_differs(const cam_t *c, const vms_camera_conf_t *cc)
{
    char                field[64], err[512];
    vms_camera_conf_t  *old;
    int                 same;

    if (c->running_json == NULL) {
        return 0;
    }
    old = vms_cluster_parse(c->id, c->running_json, field, sizeof(field), err,
                            sizeof(err));
    if (old == NULL) {
        return 0;
    }
    same = old->enabled == cc->enabled && old->url != NULL && cc->url != NULL
           && strcmp(old->url, cc->url) == 0
           && memcmp(&old->s, &cc->s, sizeof(old->s)) == 0;
    vms_camera_conf_free(old);
    return same;
}

enum { ACT_NONE, ACT_TAKE, ACT_HALT, ACT_APPLY, ACT_RENEW };

/* The next camera the lease thread acts on, and how (cl.lock held), or
 * NULL.  Renewals first: a node busy starting many cameras (each one
 * reconciles its index) must not let its other leases lapse. */
static cam_t *
next_action(int64_t now, int64_t renew_every_us, int *act)
{
    cam_t *c;

    for (c = cl.cams; c != NULL; c = c->next) {
        if (c->held && c->want && now - c->renewed_us >= renew_every_us) {
            *act = ACT_RENEW;
            return c;
        }
    }
    for (c = cl.cams; c != NULL; c = c->next) {
        if (c->lost && cl.assigned_us > c->lost_us
            && now - cl.assigned_us > cl.session_ms * 1000)
        {
            /* the group is back and settled a session timeout ago
             * without giving the camera back: it moves, once */
            c->lost = 0;
            cam_update_want(c);
        }
        if (c->want && !c->held && now >= c->next_try_us
            && now >= c->holdoff_us && c->json != NULL && !c->bad)
        {
            *act = ACT_TAKE;
        } else if (!c->want && c->held) {
            *act = ACT_HALT;
        } else if (c->want && c->held && c->json != NULL && !c->bad
                   && (c->running_json == NULL
                       || strcmp(c->json, c->running_json) != 0))
        {
            *act = ACT_APPLY;
        } else if (c->held && now - c->renewed_us >= renew_every_us) {
            *act = ACT_RENEW;
        } else {
            continue;
        }
        return c;
    }
    return NULL;
}

static void
lease_pass(int64_t renew_every_us)
{
    cam_t   *c;
    int64_t  now;
    int      owned = 0;

    for (;;) {
        int    act = ACT_NONE;
        char  *json = NULL;

        now = vms_mono_us();
        pthread_mutex_lock(&cl.lock);
        c = next_action(now, renew_every_us, &act);
        if (c != NULL) {
            if (c->json != NULL) {
                json = strdup(c->json);
            }
            c->next_try_us = now + LEASE_RETRY_US;
        }
        pthread_mutex_unlock(&cl.lock);
        if (c == NULL) {
            break;
        }
        switch (act) {
        case ACT_TAKE: {
            int64_t        sent = vms_mono_us();
            vms_lease_rc_e rc = vms_lease_take(cl.lease_lc, c->id, cl.node,
                                               cl.lease_ms, &c->token);
            if (rc == VMS_LEASE_OK) {
                cam_run(c, json, sent);
                json = NULL;
            }
            break;
        }
        case ACT_HALT:
            cam_halt(c, c->json == NULL ? "removed" : "revoked", 0);
            break;
        case ACT_APPLY: {
            char                field[64], err[512];
            vms_camera_conf_t  *cc = vms_cluster_parse(c->id, json, field,
                sizeof(field), err, sizeof(err));
            if (cc == NULL) {
                vms_log_error(c->id, "cluster: new record not valid, the"
                              " running settings are kept: %s", err);
                pthread_mutex_lock(&cl.lock);
                c->bad = 1;
                pthread_mutex_unlock(&cl.lock);
                break;
            }
            if (!cc->enabled) {
                vms_camera_conf_free(cc);
                cam_halt(c, "disabled", 0);
                vms_state_camera_status(c->id, "disabled");
                pthread_mutex_lock(&cl.lock);
                c->bad = 1;
                pthread_mutex_unlock(&cl.lock);
                break;
            }
            if (only_analysis_differs(c, cc)) {
                /* ROI, motion, AI keys: swapped into the running camera,
                 * no segment closed, no reconnect */
                vms_log_info(c->id, "cluster: analysis settings changed;"
                             " applying to the running camera");
                if (vms_camera_set_analysis(c->id, cc->analysis) == 0) {
                    cc->analysis = NULL;
                }
                vms_camera_conf_free(cc);
            } else {
                vms_log_info(c->id, "cluster: settings changed; restarting the"
                             " camera");
                cl.ops.stop(c->id, cl.ops.data);
                cc->fence = &c->fence;
                if (cl.ops.start(cc, cl.ops.data) != 0) {
                    cam_halt(c, "start failed", 0);
                    break;
                }
            }
            pthread_mutex_lock(&cl.lock);
            free(c->running_json);
            c->running_json = json;
            json = NULL;
            pthread_mutex_unlock(&cl.lock);
            break;
        }
        case ACT_RENEW: {
            int64_t        sent = vms_mono_us();
            vms_lease_rc_e rc = vms_lease_renew(cl.lease_lc, c->id, cl.node,
                                                c->token, cl.lease_ms);
            if (rc == VMS_LEASE_OK) {
                fence_set(c, sent);
                pthread_mutex_lock(&cl.lock);
                c->renewed_us = sent;
                pthread_mutex_unlock(&cl.lock);
            } else if (rc == VMS_LEASE_HELD) {
                vms_log_error(c->id, "cluster: lease lost (another node holds"
                              " it or it expired): fenced, stopping");
                cam_halt(c, "lease lost", 1);
            } else {
                /* Redis did not answer: the fence runs out by itself */
                pthread_mutex_lock(&cl.lock);
                c->renewed_us = now - renew_every_us + LEASE_RETRY_US;
                pthread_mutex_unlock(&cl.lock);
            }
            break;
        }
        }
        free(json);
        if (atomic_load(&cl.lease_stop)) {
            break;
        }
    }
    pthread_mutex_lock(&cl.lock);
    for (c = cl.cams; c != NULL; c = c->next) {
        owned += c->held;
    }
    pthread_mutex_unlock(&cl.lock);
    vms_series_set(vms_metric_series(cl.m_owned, ""), owned);
}

/* The fleet's enabled cameras that nobody holds a lease of: every node
 * counts them (ClusterCamerasUnrecorded reads the largest count). */
static void
count_unowned(void)
{
    cam_t  *c;
    char  **ids = NULL;
    int     n = 0, cap = 0, i, held;

    pthread_mutex_lock(&cl.lock);
    for (c = cl.cams; c != NULL; c = c->next) {
        if (c->json == NULL || c->disabled) {
            continue;
        }
        if (n == cap) {
            char **v = realloc(ids, sizeof(*v) * (size_t) (cap ? cap * 2 : 64));
            if (v == NULL) {
                break;
            }
            ids = v;
            cap = cap ? cap * 2 : 64;
        }
        ids[n] = strdup(c->id);
        n += ids[n] != NULL;
    }
    pthread_mutex_unlock(&cl.lock);
    held = vms_lease_count(cl.lease_lc, (const char *const *) ids, n);
    if (held >= 0) {
        vms_series_set(vms_metric_series(cl.m_unowned, ""), n - held);
    }
    for (i = 0; i < n; i++) {
        free(ids[i]);
    }
    free(ids);
}

#define COUNT_EVERY_US  (10 * 1000000)

static void *
lease_main(void *arg)
{
    int64_t renew_every_us = cl.lease_ms * 1000 / 3, counted = 0;

    pthread_setname_np(pthread_self(), "cluster-lease");
    while (!atomic_load(&cl.lease_stop)) {
        lease_pass(renew_every_us);
        if (vms_mono_us() - counted >= COUNT_EVERY_US) {
            counted = vms_mono_us();
            count_unowned();
        }
        usleep(LOOP_US);
    }
    return NULL;
}

static void
collect(vms_buf_t *out, void *data)
{
    cam_t    *c;
    uint64_t  refused = 0;
    int       known = 0;

    pthread_mutex_lock(&cl.lock);
    for (c = cl.cams; c != NULL; c = c->next) {
        refused += atomic_load(&c->fence.refused);
        known += c->json != NULL && !c->disabled;
    }
    pthread_mutex_unlock(&cl.lock);
    vms_buf_printf(out,
        "# HELP vms_cluster_cameras_known Enabled cameras of the fleet (the"
        " cameras topic as this node read it)\n"
        "# TYPE vms_cluster_cameras_known gauge\n"
        "vms_cluster_cameras_known %d\n", known);
    vms_buf_printf(out,
        "# HELP vms_cluster_fenced_writes_total Writes to the recordings"
        " refused because the camera's lease was not confirmed\n"
        "# TYPE vms_cluster_fenced_writes_total counter\n"
        "vms_cluster_fenced_writes_total %" PRIu64 "\n", refused);
}

static void
group_setup(rd_kafka_conf_t *c)
{
    rd_kafka_conf_set_rebalance_cb(c, rebalance);
}

static void
producer_setup(rd_kafka_conf_t *c)
{
    rd_kafka_conf_set_events(c, RD_KAFKA_EVENT_DR);
}

int
vms_cluster_start(const vms_config_t *cfg, const vms_cluster_ops_t *ops,
    char *err, size_t errlen)
{
    char session[24], heartbeat[24], catalog[512];

    if (!cfg->cluster) {
        return 0;
    }
    cl.path = strdup(cfg->path);
    cl.node = strdup(cfg->node_id);
    cl.topic = strdup(cfg->cameras_topic);
    cl.group = strdup(cfg->cluster_group);
    cl.brokers = strdup(cfg->kafka_brokers);
    cl.session_ms = cfg->cluster_session_ms;
    cl.lease_ms = cfg->lease_ms;
    cl.hold_max = cfg->lease_hold_max;
    cl.ops = *ops;
    cl.m_owned = vms_metric_new("vms_cluster_cameras_owned",
        "Cameras this node holds the lease of and runs", VMS_GAUGE, NULL, 0);
    cl.m_rebalances = vms_metric_new("vms_cluster_rebalances_total",
        "Assignments and revocations of camera partitions seen", VMS_COUNTER,
        NULL, 0);
    cl.m_unowned = vms_metric_new("vms_cluster_cameras_unowned",
        "Enabled cameras of the fleet that no node holds the lease of",
        VMS_GAUGE, NULL, 0);
    cl.m_lease_lost = vms_metric_new("vms_cluster_leases_lost_total",
        "Cameras stopped because their lease was found taken or expired",
        VMS_COUNTER, NULL, 0);
    vms_metrics_register_collector(collect, NULL);

    cl.lease_lc = vms_lease_conn_new(cfg->redis, cfg->redis_password);
    cl.api_lc = vms_lease_conn_new(cfg->redis, cfg->redis_password);
    if (cl.lease_lc == NULL || cl.api_lc == NULL) {
        snprintf(err, errlen, "cluster: bad redis address");
        return -1;
    }

    /* the group: owned partitions, read whole at each assignment.  A member
     * learns of a rebalance at its next heartbeat: frequent ones shorten a
     * hand-over; a partition's end is seen at the end of a fetch wait: short
     * ones make an assignment load fast */
    snprintf(session, sizeof(session), "%lld", (long long) cl.session_ms);
    snprintf(heartbeat, sizeof(heartbeat), "%lld", (long long)
             (cl.session_ms / 10 > 100 ? cl.session_ms / 10 : 100));
    const char *const group_kv[] = {
        "group.id", cl.group,
        "partition.assignment.strategy", "cooperative-sticky",
        "enable.auto.commit", "false",
        "enable.auto.offset.store", "false",
        "auto.offset.reset", "earliest",
        "enable.partition.eof", "true",
        "session.timeout.ms", session,
        "heartbeat.interval.ms", heartbeat,
        "fetch.wait.max.ms", "100",
        NULL
    };
    cl.group_rk = knew(RD_KAFKA_CONSUMER, "consumer", group_kv, group_setup,
                       err, errlen);
    if (cl.group_rk == NULL) {
        return -1;
    }
    rd_kafka_poll_set_consumer(cl.group_rk);
    {
        rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
        rd_kafka_resp_err_t rc;

        rd_kafka_topic_partition_list_add(t, cl.topic, RD_KAFKA_PARTITION_UA);
        rc = rd_kafka_subscribe(cl.group_rk, t);
        rd_kafka_topic_partition_list_destroy(t);
        if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(err, errlen, "cluster: subscribe %s: %s", cl.topic,
                     rd_kafka_err2str(rc));
            return -1;
        }
    }

    /* the catalog: every partition, no group; a group id assign() needs,
     * but the group is never joined (no subscribe) and nothing is committed */
    snprintf(catalog, sizeof(catalog), "vms-catalog-%s", cl.node);
    const char *const catalog_kv[] = {
        "group.id", catalog,
        "enable.auto.commit", "false",
        NULL
    };
    cl.catalog_rk = knew(RD_KAFKA_CONSUMER, "catalog consumer", catalog_kv,
                         NULL, err, errlen);
    if (cl.catalog_rk == NULL) {
        return -1;
    }

    /* the API's writes; delivery reports as events (vms_cluster_put) */
    static const char *const producer_kv[] = {
        "enable.idempotence", "true",
        "message.timeout.ms", "5000",
        "linger.ms", "0",
        NULL
    };
    cl.producer = knew(RD_KAFKA_PRODUCER, "producer", producer_kv,
                       producer_setup, err, errlen);
    if (cl.producer == NULL) {
        return -1;
    }

    cl.on = 1;
    if (pthread_create(&cl.kafka_thread, NULL, kafka_main, NULL) != 0
        || pthread_create(&cl.lease_thread, NULL, lease_main, NULL) != 0)
    {
        snprintf(err, errlen, "cluster: cannot start threads");
        return -1;
    }
    vms_log_info(NULL, "cluster: node %s joins group %s on %s (session %lld"
                 " ms, lease %lld ms)", cl.node, cl.group, cl.topic,
                 (long long) cl.session_ms, (long long) cl.lease_ms);
    return 0;
}

void
vms_cluster_stop(void)
{
    cam_t   *c;
    int      busy;
    int64_t  until = vms_mono_us() + REVOKE_WAIT_US;

    if (!cl.on) {
        return;
    }
    /* every camera goes, its segment closed and its lease released (by the
     * lease thread), while the group still counts this node; then the
     * group is left */
    pthread_mutex_lock(&cl.lock);
    for (c = cl.cams; c != NULL; c = c->next) {
        c->want = 0;
        c->lost = 0;
    }
    memset(cl.assigned, 0, sizeof(cl.assigned));
    for (;;) {
        busy = 0;
        for (c = cl.cams; c != NULL; c = c->next) {
            busy |= c->held;
        }
        if (!busy || vms_mono_us() > until) {
            break;
        }
        pthread_mutex_unlock(&cl.lock);
        usleep(50 * 1000);
        pthread_mutex_lock(&cl.lock);
    }
    pthread_mutex_unlock(&cl.lock);
    atomic_store(&cl.lease_stop, 1);
    pthread_join(cl.lease_thread, NULL);
    atomic_store(&cl.stop, 1);
    pthread_join(cl.kafka_thread, NULL);
    rd_kafka_consumer_close(cl.group_rk);
    rd_kafka_destroy(cl.group_rk);
    rd_kafka_consumer_close(cl.catalog_rk);
    rd_kafka_destroy(cl.catalog_rk);
    rd_kafka_flush(cl.producer, 2000);
    rd_kafka_destroy(cl.producer);
    pthread_mutex_lock(&cl.lock);
    cl.on = 0;
    pthread_mutex_unlock(&cl.lock);
    vms_lease_conn_free(cl.lease_lc);
    vms_lease_conn_free(cl.api_lc);
    free(cl.path);
    free(cl.node);
    free(cl.topic);
    free(cl.group);
    free(cl.brokers);
}

/* ---- the API's side ---- */

typedef struct {
    int                  done;
    rd_kafka_resp_err_t  err;
    rd_kafka_msg_status_t status;
    int32_t              partition;
    int64_t              offset;
} put_t;

vms_cluster_put_e
vms_cluster_put(const char *id, const char *json, char *err, size_t errlen)
{
    put_t               put = { 0, 0, 0, -1, -1 };
    rd_kafka_resp_err_t rc;
    rd_kafka_event_t   *ev;
    rd_kafka_queue_t   *q;
    int64_t             until;

    pthread_mutex_lock(&cl.put_lock);
    rc = rd_kafka_producev(cl.producer, RD_KAFKA_V_TOPIC(cl.topic),
                           RD_KAFKA_V_KEY(id, strlen(id)),
                           RD_KAFKA_V_VALUE((void *) json,
                                            json ? strlen(json) : 0),
                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                           RD_KAFKA_V_OPAQUE(&put), RD_KAFKA_V_END);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        pthread_mutex_unlock(&cl.put_lock);
        snprintf(err, errlen, "the camera topic refused it: %s",
                 rd_kafka_err2str(rc));
        return VMS_CLUSTER_PUT_REFUSED;
    }
    /* delivery reports come as events on the main queue */
    q = rd_kafka_queue_get_main(cl.producer);
    until = vms_mono_us() + 7000000;
    while (!put.done && vms_mono_us() < until) {
        ev = rd_kafka_queue_poll(q, 100);
        if (ev == NULL) {
            continue;
        }
        if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_DR) {
            const rd_kafka_message_t *m;
            while ((m = rd_kafka_event_message_next(ev)) != NULL) {
                put_t *p = m->_private;
                if (p != NULL) {
                    p->done = 1;
                    p->err = m->err;
                    p->status = rd_kafka_message_status(m);
                    p->partition = m->partition;
                    p->offset = m->offset;
                }
            }
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    pthread_mutex_unlock(&cl.put_lock);
    if (put.done && put.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        pthread_mutex_lock(&cl.lock);
        cam_record(id, put.partition, put.offset, json,
                   json ? strlen(json) : 0);
        pthread_mutex_unlock(&cl.lock);
        return VMS_CLUSTER_PUT_OK;
    }
    if (put.done && put.status == RD_KAFKA_MSG_STATUS_NOT_PERSISTED) {
        snprintf(err, errlen, "the Kafka cluster did not take the change (%s):"
                 " nothing changed", rd_kafka_err2str(put.err));
        return VMS_CLUSTER_PUT_REFUSED;
    }
    snprintf(err, errlen, "the Kafka cluster did not acknowledge the change"
             " in time (%s): it may or may not apply; read the camera to see",
             put.done ? rd_kafka_err2str(put.err) : "no delivery report");
    return VMS_CLUSTER_PUT_UNKNOWN;
}

/* What this node knows of id's ownership (0s when it knows nothing). */
static void
cam_lookup(const char *id, int *owns, int64_t *since_ms)
{
    cam_t *c;

    *owns = 0;
    *since_ms = 0;
    pthread_mutex_lock(&cl.lock);
    c = cam_find(id, 0);
    if (c != NULL) {
        *owns = c->held && vms_fence_open(&c->fence);
        *since_ms = c->since_ms;
    }
    pthread_mutex_unlock(&cl.lock);
}

int64_t
vms_cluster_retention_days(const char *id)
{
    cam_t              *c;
    char               *json = NULL, field[64], err[256];
    vms_camera_conf_t  *cc;
    int64_t             days = -1;

    char               *path = NULL;

    /* retention's thread may ask while vms_cluster_stop() runs: nothing of cl after cl.on */
    pthread_mutex_lock(&cl.lock);
    c = cl.on ? cam_find(id, 0) : NULL;
    if (c != NULL && c->json != NULL) {
        json = strdup(c->json);
        path = strdup(cl.path);
    }
    pthread_mutex_unlock(&cl.lock);
    if (json != NULL && path != NULL
        && (cc = vms_camera_record_parse(path, id, json, field, sizeof(field), err,
                                         sizeof(err))) != NULL) {
        days = cc->s.retention_days;
        vms_camera_conf_free(cc);
    }
    free(json);
    free(path);
    return days;
}

int
vms_cluster_owns(const char *id)
{
    int      owns;
    int64_t  since;

    cam_lookup(id, &owns, &since);
    return owns;
}

int64_t
vms_cluster_since(const char *id)
{
    int      owns;
    int64_t  since;

    cam_lookup(id, &owns, &since);
    return since;
}

char *
vms_cluster_get(const char *id)
{
    cam_t *c;
    char  *json = NULL;

    pthread_mutex_lock(&cl.lock);
    c = cam_find(id, 0);
    if (c != NULL && c->json != NULL) {
        json = strdup(c->json);
    }
    pthread_mutex_unlock(&cl.lock);
    return json;
}

void
vms_cluster_foreach(void (*fn)(const vms_cluster_cam_t *c, void *data),
    void *data)
{
    cam_t             *c;
    vms_cluster_cam_t  v;

    pthread_mutex_lock(&cl.lock);
    for (c = cl.cams; c != NULL; c = c->next) {
        if (c->json == NULL) {
            continue;
        }
        v.id = c->id;
        v.local = c->held;
        fn(&v, data);
    }
    pthread_mutex_unlock(&cl.lock);
}

int
vms_cluster_owners(const char *const *ids, int n, vms_lease_owner_t *out)
{
    int rc;

    pthread_mutex_lock(&cl.api_lock);
    rc = vms_lease_owners(cl.api_lc, ids, n, out);
    pthread_mutex_unlock(&cl.api_lock);
    return rc;
}
