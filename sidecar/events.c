#include "events.h"
#include "log.h"
#include "metrics.h"
#include "spool.h"
#include "util.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX        256
#define REPLAY_RETRY_US  1000000

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
    int               broker_down_logged;

    vms_metric_t     *m_produced, *m_delivered, *m_spooled, *m_dropped,
                     *m_failed;
} ev = { .lock = PTHREAD_MUTEX_INITIALIZER, .window = 1 };

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
        if (ev.broker_down_logged) {
            ev.broker_down_logged = 0;
            vms_log_info(NULL, "kafka: delivering again");
        }
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
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        if (!ev.broker_down_logged) {
            ev.broker_down_logged = 1;
            vms_log_warn(NULL, "kafka: all brokers down; events wait in the"
                         " queue, then in the spool");
        }
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
        "# TYPE vms_events_spool_bytes gauge\nvms_events_spool_bytes %llu\n",
        st.queued, (unsigned long long) st.spool_bytes);
}

static int
set(rd_kafka_conf_t *c, const char *k, const char *v, char *err, size_t len)
{
    char e[256];

    if (rd_kafka_conf_set(c, k, v, e, sizeof(e)) != RD_KAFKA_CONF_OK) {
        snprintf(err, len, "kafka: %s: %s", k, e);
        return -1;
    }
    return 0;
}

int
vms_events_init(const vms_events_conf_t *conf, char *err, size_t errlen)
{
    rd_kafka_conf_t  *kc;
    char              num[32], e[512];

    ev.topic = strdup(conf->events_topic ? conf->events_topic
                                         : VMS_TOPIC_EVENTS);
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
    if (set(kc, "bootstrap.servers", conf->brokers, err, errlen) != 0
        || set(kc, "enable.idempotence", "true", err, errlen) != 0
        || set(kc, "acks", "all", err, errlen) != 0
        || set(kc, "client.id", "vmsd", err, errlen) != 0
        || set(kc, "linger.ms", "5", err, errlen) != 0
        || set(kc, "message.timeout.ms", num, err, errlen) != 0)
    {
        rd_kafka_conf_destroy(kc);
        return -1;
    }
    snprintf(num, sizeof(num), "%lld", (long long) conf->queue_max);
    if (set(kc, "queue.buffering.max.messages", num, err, errlen) != 0) {
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

void
vms_events_stats(vms_events_stats_t *st)
{
    memset(st, 0, sizeof(*st));
    if (ev.rk == NULL) {
        return;
    }
    st->enabled = 1;
    st->queued = rd_kafka_outq_len(ev.rk);
    if (ev.spool != NULL) {
        st->spool_bytes = vms_spool_end(ev.spool) - vms_spool_committed(ev.spool);
    }
}
