#include "events.h"
#include "log.h"
#include "metrics.h"
#include "spool.h"
#include "util.h"
#include "vms_kafka_ssl.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX        256
#define REPLAY_RETRY_US  1000000
/* While no broker answers, the warning is repeated at most this often, so
 * an outage stays visible in the log without flooding it. */
#define DOWN_LOG_EVERY_US  (60LL * 1000000)

enum { SLOT_WAIT = 0, SLOT_OK, SLOT_FAIL };

/* Errors that retrying cannot fix: such a message is dropped (logged with
 * its payload, counted), never spooled, so it cannot block the spool. */
static int
permanent(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
        return 1;
    default:
        return 0;
    }
}

typedef struct {
    uint64_t  off, end;
    int       state;
} slot_t;

static struct {
    rd_kafka_t       *rk;
    vms_spool_t      *spool;
    char             *topic;
    pthread_t         thread;
    int               thread_started;
    atomic_int        stop;

    pthread_mutex_t   lock;          /* replay state below */
    slot_t            batch[BATCH_MAX];
    int               nbatch, nreported;
    int               window;
    int64_t           retry_at;
    uint64_t          ahead[BATCH_MAX];   /* delivered, not yet committed */
    int               nahead;

    /* broker reachability, for /health and vms_kafka_connected */
    pthread_mutex_t   hlock;
    pthread_cond_t    hcond;         /* wakes the probe thread at shutdown */
    pthread_t         probe;
    int               probe_started;
    int64_t           probe_interval_ms;
    int               connected;     /* a broker answered since it was down */
    char              reason[256];   /* why not connected (no secrets) */
    char              transport[256];/* last connection error */
    int64_t           down_since_us; /* monotonic, while not connected */
    int64_t           down_logged_us;

    vms_metric_t     *m_produced, *m_delivered, *m_spooled, *m_dropped,
                     *m_failed;
} ev = { .lock = PTHREAD_MUTEX_INITIALIZER,
         .hlock = PTHREAD_MUTEX_INITIALIZER,
         .hcond = PTHREAD_COND_INITIALIZER, .window = 1 };

static uint64_t spool_waiting(void);

/*
 * Evidence about the brokers: up = a broker answered (a metadata probe or a
 * delivery report); otherwise why names what failed.  The first sign of an
 * outage is logged at once, then every DOWN_LOG_EVERY_US while it lasts.
 */
static void
broker_state(int up, const char *why)
{
    int64_t  now = vms_mono_us();
    int      log_down = 0, log_up = 0;
    int64_t  down_s = 0;
    char     reason[256];

    pthread_mutex_lock(&ev.hlock);
    if (up) {
        if (!ev.connected) {
            log_up = ev.down_logged_us != 0;
            down_s = (now - ev.down_since_us) / 1000000;
        }
        ev.connected = 1;
        ev.reason[0] = '\0';
        ev.down_logged_us = 0;
    } else {
        if (ev.connected || ev.down_since_us == 0) {
            ev.down_since_us = now;
        }
        ev.connected = 0;
        if (why != NULL && why[0] != '\0') {
            snprintf(ev.reason, sizeof(ev.reason), "%s", why);
        }
        if (ev.down_logged_us == 0
            || now - ev.down_logged_us >= DOWN_LOG_EVERY_US)
        {
            log_down = 1;
            ev.down_logged_us = now;
            down_s = (now - ev.down_since_us) / 1000000;
        }
    }
    snprintf(reason, sizeof(reason), "%s", ev.reason);
    pthread_mutex_unlock(&ev.hlock);

    if (log_down) {
        vms_log_warn(NULL, "kafka: no broker reachable for %llds (%s); events"
                     " wait in the queue, then in the spool (%llu bytes)",
                     (long long) down_s, reason[0] ? reason : "unknown",
                     (unsigned long long) spool_waiting());
    } else if (log_up) {
        vms_log_info(NULL, "kafka: broker reachable again after %llds;"
                     " delivering", (long long) down_s);
    }
}

static void
count(vms_metric_t *m, const char *topic)
{
    char l[160];

    vms_metric_labels(l, sizeof(l), "topic", topic, NULL);
    vms_series_add(vms_metric_series(m, l), 1);
}

static void
lost(const char *topic, const char *key, const void *value, size_t len,
    const char *why)
{
    vms_buf_t  b = {0};

    count(ev.m_dropped, topic);
    vms_buf_append(&b, "\"topic\":", 8);
    vms_buf_json_str(&b, topic);
    vms_buf_append(&b, ",\"event\":", 9);
    {
        char *v = strndup(value, len);
        vms_buf_json_str(&b, v ? v : "");
        free(v);
    }
    vms_log(VMS_LOG_ERROR, key, b.p, "event lost: %s", why);
    vms_buf_free(&b);
}

static int
spool_put(const char *topic, const char *key, const void *value, size_t len)
{
    int rc;

    if (ev.spool == NULL) {
        lost(topic, key, value, len, "no spool");
        return -1;
    }
    rc = vms_spool_append(ev.spool, topic, key, strlen(key), value, len);
    if (rc == -1) {
        lost(topic, key, value, len, "spool full (spool_max_size)");
        return -1;
    }
    if (rc != 0) {
        lost(topic, key, value, len, "spool write failed");
        return -1;
    }
    count(ev.m_spooled, topic);
    return 0;
}

static void
dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    const char  *topic = rd_kafka_topic_name(m->rkt);
    intptr_t     slot = (intptr_t) m->_private;
    char         key[128];
    size_t       klen = m->key_len < sizeof(key) - 1 ? m->key_len
                                                     : sizeof(key) - 1;

    memcpy(key, m->key ? m->key : "", m->key ? klen : 0);
    key[m->key ? klen : 0] = '\0';

    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        count(ev.m_delivered, topic);
        broker_state(1, NULL);
    } else {
        count(ev.m_failed, topic);
        vms_log(VMS_LOG_WARN, key[0] ? key : NULL, NULL,
                "kafka: delivery to %s failed: %s%s", topic,
                rd_kafka_err2str(m->err),
                slot ? " (stays in the spool)" : "; spooling");
    }

    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && permanent(m->err)) {
        lost(topic, key, m->payload, m->len, rd_kafka_err2str(m->err));
    }
    if (slot == 0) {
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && !permanent(m->err)) {
            spool_put(topic, key, m->payload, m->len);
        }
        return;
    }
    pthread_mutex_lock(&ev.lock);
    if (slot >= 1 && slot <= ev.nbatch) {
        /* a permanently failed record is done with: it leaves the spool */
        ev.batch[slot - 1].state = m->err && !permanent(m->err) ? SLOT_FAIL
                                                                 : SLOT_OK;
        ev.nreported++;
    }
    pthread_mutex_unlock(&ev.lock);
}

static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    /* connection failures also reach error_cb; keep them out of the way */
    vms_log(level <= 2 ? VMS_LOG_ERROR : VMS_LOG_DEBUG, NULL,
            "\"source\":\"librdkafka\"", "kafka: %s: %s", fac, buf);
}

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    char why[256];

    if (err == RD_KAFKA_RESP_ERR__TRANSPORT
        || err == RD_KAFKA_RESP_ERR__RESOLVE
        || err == RD_KAFKA_RESP_ERR__AUTHENTICATION)
    {
        /* one broker's failure: kept as the reason an outage will give */
        pthread_mutex_lock(&ev.hlock);
        snprintf(ev.transport, sizeof(ev.transport), "%s", reason);
        pthread_mutex_unlock(&ev.hlock);
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        pthread_mutex_lock(&ev.hlock);
        snprintf(why, sizeof(why), "%s",
                 ev.transport[0] ? ev.transport : "all brokers down");
        pthread_mutex_unlock(&ev.hlock);
        broker_state(0, why);
        return;
    }
    vms_log(err == RD_KAFKA_RESP_ERR__FATAL ? VMS_LOG_ERROR
            : err == RD_KAFKA_RESP_ERR__TRANSPORT ? VMS_LOG_DEBUG : VMS_LOG_WARN,
            NULL, NULL, "kafka: %s: %s", rd_kafka_err2name(err), reason);
}

static int
produce(const char *topic, const char *key, const void *value, size_t len,
    intptr_t slot)
{
    rd_kafka_resp_err_t err;

    err = rd_kafka_producev(ev.rk,
                            RD_KAFKA_V_TOPIC(topic),
                            RD_KAFKA_V_KEY(key, strlen(key)),
                            RD_KAFKA_V_VALUE((void *) value, len),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_OPAQUE((void *) slot),
                            RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        count(ev.m_produced, topic);
        return 0;
    }
    if (permanent(err)) {
        return -2;
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        vms_log_warn(key, "kafka: cannot produce to %s: %s", topic,
                     rd_kafka_err2str(err));
    }
    return -1;
}

static int
is_ahead(uint64_t off)
{
    int i;

    for (i = 0; i < ev.nahead; i++) {
        if (ev.ahead[i] == off) {
            return 1;
        }
    }
    return 0;
}

/* Called with ev.lock held when every slot of the batch reported. */
static void
finish_batch(void)
{
    uint64_t  commit = 0;
    int       i, j, failed = 0, contiguous = 1;

    for (i = 0; i < ev.nbatch; i++) {
        slot_t *s = &ev.batch[i];
        if (s->state == SLOT_OK && contiguous) {
            commit = s->end;
        } else if (s->state == SLOT_OK) {
            if (!is_ahead(s->off) && ev.nahead < BATCH_MAX) {
                ev.ahead[ev.nahead++] = s->off;
            }
        } else {
            contiguous = 0;
            failed = 1;
        }
    }
    if (commit != 0) {
        if (vms_spool_commit(ev.spool, commit) != 0) {
            vms_log_error(NULL, "spool: cannot record delivered offset %llu;"
                          " those events may be delivered again",
                          (unsigned long long) commit);
        }
        for (i = 0, j = 0; i < ev.nahead; i++) {
            if (ev.ahead[i] >= commit && vms_spool_pending(ev.spool)) {
                ev.ahead[j++] = ev.ahead[i];
            }
        }
        ev.nahead = j;
    }
    if (failed) {
        ev.window = 1;
        ev.retry_at = vms_mono_us() + REPLAY_RETRY_US;
    } else if (ev.window < BATCH_MAX) {
        ev.window *= 2;
        if (ev.window > BATCH_MAX) {
            ev.window = BATCH_MAX;
        }
    }
    ev.nbatch = ev.nreported = 0;
}

static void
replay_step(void)
{
    vms_spool_rec_t  rec;
    uint64_t         off;
    int              n = 0, rc;

    pthread_mutex_lock(&ev.lock);
    if (ev.nbatch > 0) {
        if (ev.nreported < ev.nbatch) {
            pthread_mutex_unlock(&ev.lock);
            return;
        }
        finish_batch();
    }
    if (!vms_spool_pending(ev.spool) || vms_mono_us() < ev.retry_at) {
        pthread_mutex_unlock(&ev.lock);
        return;
    }
    off = vms_spool_committed(ev.spool);
    while (n < ev.window && (rc = vms_spool_read(ev.spool, off, &rec)) == 1) {
        slot_t *s = &ev.batch[n];
        s->off = rec.off;
        s->end = rec.end;
        s->state = SLOT_WAIT;
        ev.nbatch = ++n;
        if (is_ahead(rec.off)) {
            s->state = SLOT_OK;
            ev.nreported++;
        } else if ((rc = produce(rec.topic, rec.key, rec.value, rec.len, n))
                   == -2)
        {
            lost(rec.topic, rec.key, rec.value, rec.len,
                 "refused by the producer");
            s->state = SLOT_OK;
            ev.nreported++;
        } else if (rc != 0) {
            s->state = SLOT_FAIL;
            ev.nreported++;
            off = rec.end;
            vms_spool_rec_free(&rec);
            break;
        }
        off = rec.end;
        vms_spool_rec_free(&rec);
    }
    if (n == 0) {
        vms_log_error(NULL, "spool: cannot read the record at %llu; skipping"
                      " the rest of the spool", (unsigned long long) off);
        vms_spool_commit(ev.spool, vms_spool_end(ev.spool));
    }
    pthread_mutex_unlock(&ev.lock);
}

/*
 * librdkafka says when every broker is down but not when one comes back
 * while nothing is produced, so a metadata request every probe_interval_ms
 * asks a broker directly.  Its own thread: the request waits up to its
 * timeout and must not hold up delivery reports.
 */
static void *
probe_thread(void *arg)
{
    const struct rd_kafka_metadata  *md;
    rd_kafka_resp_err_t              err;
    struct timespec                  until;
    int                              timeout;
    char                             why[320];

    timeout = ev.probe_interval_ms < 3000 ? (int) ev.probe_interval_ms : 3000;
    while (!atomic_load(&ev.stop)) {
        md = NULL;
        err = rd_kafka_metadata(ev.rk, 0, NULL, &md, timeout);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_metadata_destroy(md);
            broker_state(1, NULL);
        } else if (!atomic_load(&ev.stop)) {
            pthread_mutex_lock(&ev.hlock);
            snprintf(why, sizeof(why), "%s%s%s",
                     ev.transport[0] ? ev.transport : "",
                     ev.transport[0] ? "; " : "",
                     err == RD_KAFKA_RESP_ERR__TRANSPORT
                     || err == RD_KAFKA_RESP_ERR__TIMED_OUT
                     ? "no broker answered a metadata request"
                     : rd_kafka_err2str(err));
            pthread_mutex_unlock(&ev.hlock);
            broker_state(0, why);
        }
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ev.probe_interval_ms / 1000;
        until.tv_nsec += (ev.probe_interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&ev.hlock);
        if (!atomic_load(&ev.stop)) {
            pthread_cond_timedwait(&ev.hcond, &ev.hlock, &until);
        }
        pthread_mutex_unlock(&ev.hlock);
    }
    return NULL;
}

static void *
events_thread(void *arg)
{
    while (!atomic_load(&ev.stop)) {
        rd_kafka_poll(ev.rk, 100);
        if (ev.spool != NULL) {
            replay_step();
        }
    }
    return NULL;
}

static void
collect(vms_buf_t *out, void *data)
{
    vms_events_stats_t st;

    vms_events_stats(&st);
    vms_buf_printf(out,
        "# HELP vms_events_queued Events in librdkafka's queue\n"
        "# TYPE vms_events_queued gauge\nvms_events_queued %d\n"
        "# HELP vms_events_spool_bytes Bytes of events waiting in the spool\n"
        "# TYPE vms_events_spool_bytes gauge\nvms_events_spool_bytes %llu\n"
        "# HELP vms_kafka_connected 1 while a Kafka broker answers\n"
        "# TYPE vms_kafka_connected gauge\nvms_kafka_connected %d\n"
        "# HELP vms_kafka_disconnected_seconds How long no broker has"
        " answered (0 while connected)\n"
        "# TYPE vms_kafka_disconnected_seconds gauge\n"
        "vms_kafka_disconnected_seconds %lld\n",
        st.queued, (unsigned long long) st.spool_bytes, st.connected,
        (long long) st.disconnected_s);
}

int
vms_events_init(const vms_events_conf_t *conf, char *err, size_t errlen)
{
    rd_kafka_conf_t  *kc;
    char              num[32], e[512];

    ev.topic = strdup(conf->events_topic ? conf->events_topic
                                         : VMS_TOPIC_EVENTS);
    ev.probe_interval_ms = conf->probe_interval_ms > 0
                           ? conf->probe_interval_ms : 10000;
    ev.m_produced = vms_metric_new("vms_events_produced_total",
        "Events handed to the Kafka producer", VMS_COUNTER, NULL, 0);
    ev.m_delivered = vms_metric_new("vms_events_delivered_total",
        "Events acknowledged by Kafka", VMS_COUNTER, NULL, 0);
    ev.m_failed = vms_metric_new("vms_events_failed_total",
        "Delivery attempts that failed (the event is spooled)", VMS_COUNTER,
        NULL, 0);
    ev.m_spooled = vms_metric_new("vms_events_spooled_total",
        "Events written to the on-disk spool", VMS_COUNTER, NULL, 0);
    ev.m_dropped = vms_metric_new("vms_events_dropped_total",
        "Events lost (spool full or unwritable)", VMS_COUNTER, NULL, 0);

    if (conf->brokers == NULL || conf->brokers[0] == '\0') {
        vms_log_warn(NULL, "kafka: no kafka_brokers configured; events are"
                     " only logged");
        return 0;
    }

    ev.spool = vms_spool_open(conf->spool_dir, conf->spool_max_bytes, err,
                              errlen);
    if (ev.spool == NULL) {
        return -1;
    }

    kc = rd_kafka_conf_new();
    snprintf(num, sizeof(num), "%lld", (long long) conf->message_timeout_ms);
    if (vms_kafka_conf_set(kc, "bootstrap.servers", conf->brokers, err, errlen) != 0
        || vms_kafka_conf_set(kc, "enable.idempotence", "true", err, errlen) != 0
        || vms_kafka_conf_set(kc, "acks", "all", err, errlen) != 0
        || vms_kafka_conf_set(kc, "client.id", "vmsd", err, errlen) != 0
        || vms_kafka_conf_set(kc, "linger.ms", "5", err, errlen) != 0
        || vms_kafka_conf_set(kc, "message.timeout.ms", num, err, errlen) != 0)
    {
        rd_kafka_conf_destroy(kc);
        return -1;
    }
    snprintf(num, sizeof(num), "%lld", (long long) conf->queue_max);
    if (vms_kafka_conf_set(kc, "queue.buffering.max.messages", num, err, errlen) != 0
        || vms_kafka_ssl_apply(kc, err, errlen) != 0)
    {
        rd_kafka_conf_destroy(kc);
        return -1;
    }
    rd_kafka_conf_set_dr_msg_cb(kc, dr_msg_cb);
    rd_kafka_conf_set_log_cb(kc, log_cb);
    rd_kafka_conf_set_error_cb(kc, error_cb);

    ev.rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, e, sizeof(e));
    if (ev.rk == NULL) {
        rd_kafka_conf_destroy(kc);
        snprintf(err, errlen, "kafka: cannot create producer: %s", e);
        return -1;
    }
    if (pthread_create(&ev.thread, NULL, events_thread, NULL) != 0) {
        snprintf(err, errlen, "kafka: cannot start the events thread");
        return -1;
    }
    ev.thread_started = 1;
    pthread_mutex_lock(&ev.hlock);
    ev.down_since_us = vms_mono_us();
    snprintf(ev.reason, sizeof(ev.reason), "connecting");
    pthread_mutex_unlock(&ev.hlock);
    if (pthread_create(&ev.probe, NULL, probe_thread, NULL) != 0) {
        snprintf(err, errlen, "kafka: cannot start the broker probe thread");
        return -1;
    }
    ev.probe_started = 1;
    vms_metrics_register_collector(collect, NULL);
    vms_log_info(NULL, "kafka: producer to %s (idempotent), spool %s",
                 conf->brokers, conf->spool_dir);
    return 0;
}

void
vms_events_shutdown(int64_t flush_ms)
{
    int left;

    if (ev.rk == NULL) {
        return;
    }
    atomic_store(&ev.stop, 1);
    pthread_mutex_lock(&ev.hlock);
    pthread_cond_broadcast(&ev.hcond);
    pthread_mutex_unlock(&ev.hlock);
    if (ev.thread_started) {
        pthread_join(ev.thread, NULL);
    }
    rd_kafka_flush(ev.rk, (int) flush_ms);
    /* what is still queued goes to the spool through the delivery reports */
    rd_kafka_purge(ev.rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(ev.rk, 0);
    left = rd_kafka_outq_len(ev.rk);
    if (left > 0) {
        vms_log_warn(NULL, "kafka: %d events still queued at exit", left);
    }
    /* joined after the flush: a probe in flight ends within its timeout,
     * which the flush has mostly spent */
    if (ev.probe_started) {
        pthread_join(ev.probe, NULL);
        ev.probe_started = 0;
    }
    rd_kafka_destroy(ev.rk);
    ev.rk = NULL;
    vms_spool_close(ev.spool);
    ev.spool = NULL;
    free(ev.topic);
    ev.topic = NULL;
}

const char *
vms_events_topic(void)
{
    return ev.topic ? ev.topic : VMS_TOPIC_EVENTS;
}

int
vms_events_produce(const char *topic, const char *key, const void *value,
    size_t len)
{
    int behind;

    if (ev.rk == NULL) {
        char *v = strndup(value, len);
        vms_buf_t b = {0};
        vms_buf_append(&b, "\"topic\":", 8);
        vms_buf_json_str(&b, topic);
        vms_buf_append(&b, ",\"event\":", 9);
        vms_buf_json_str(&b, v ? v : "");
        vms_log(VMS_LOG_INFO, key, b.p, "event (kafka off)");
        vms_buf_free(&b);
        free(v);
        return 0;
    }
    /* keep order: while anything waits in the spool, queue behind it */
    pthread_mutex_lock(&ev.lock);
    behind = vms_spool_pending(ev.spool) || ev.nbatch > 0;
    pthread_mutex_unlock(&ev.lock);
    if (behind) {
        return spool_put(topic, key, value, len);
    }
    switch (produce(topic, key, value, len, 0)) {
    case 0:
        return 0;
    case -2:
        lost(topic, key, value, len, "refused by the producer");
        return -1;
    default:
        return spool_put(topic, key, value, len);
    }
}

int
vms_event_emit(const char *topic, const char *type, const char *camera_id,
    const char *trace_id, const char *fields_fmt, ...)
{
    vms_buf_t  b = {0};
    char       ts[40], tid[33];
    va_list    ap;
    int        rc;

    if (trace_id == NULL) {
        /* what this thread works on now (an API request: log.h) */
        trace_id = vms_log_trace();
    }
    if (trace_id == NULL) {
        vms_trace_id(tid);
        trace_id = tid;
    }
    vms_buf_printf(&b, "{\"schema\":1,\"type\":");
    vms_buf_json_str(&b, type);
    vms_buf_append(&b, ",\"camera_id\":", 13);
    vms_buf_json_str(&b, camera_id ? camera_id : "");
    vms_buf_printf(&b, ",\"ts\":\"%s\",\"trace_id\":",
                   vms_rfc3339(vms_now_us(), ts, sizeof(ts)));
    vms_buf_json_str(&b, trace_id);
    if (fields_fmt != NULL && fields_fmt[0] != '\0') {
        char    *extra = NULL;
        va_start(ap, fields_fmt);
        if (vasprintf(&extra, fields_fmt, ap) >= 0 && extra[0] != '\0') {
            vms_buf_append(&b, ",", 1);
            vms_buf_append(&b, extra, strlen(extra));
        }
        va_end(ap);
        free(extra);
    }
    if (vms_buf_append(&b, "}", 1) != 0) {
        vms_buf_free(&b);
        vms_log_error(camera_id, "event %s lost: out of memory", type);
        return -1;
    }
    vms_log(VMS_LOG_DEBUG, camera_id, NULL, "event %s", type);
    rc = vms_events_produce(topic, camera_id ? camera_id : "", b.p, b.len);
    vms_buf_free(&b);
    return rc;
}

static uint64_t
spool_waiting(void)
{
    return ev.spool != NULL
           ? vms_spool_end(ev.spool) - vms_spool_committed(ev.spool) : 0;
}

void
vms_events_stats(vms_events_stats_t *st)
{
    memset(st, 0, sizeof(*st));
    if (ev.rk == NULL) {
        return;
    }
    st->enabled = 1;
    st->queued = rd_kafka_outq_len(ev.rk);
    st->spool_bytes = spool_waiting();
    pthread_mutex_lock(&ev.hlock);
    st->connected = ev.connected;
    if (!ev.connected) {
        snprintf(st->reason, sizeof(st->reason), "%s", ev.reason);
        st->disconnected_s = (vms_mono_us() - ev.down_since_us) / 1000000;
    }
    pthread_mutex_unlock(&ev.hlock);
}
