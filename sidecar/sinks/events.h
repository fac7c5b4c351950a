/*
 * Kafka events, used by every vmsd component.
 *
 * One librdkafka idempotent producer (enable.idempotence=true), created once
 * at start-up.  Messages are JSON, keyed by camera id:
 *
 *   {"schema":1,"type":"camera.online","camera_id":"cam1",
 *    "ts":"2026-11-24T01:02:03.456Z","trace_id":"<32 hex>", …}
 *
 * Delivery guarantee (docs/vmsd.md has the long form):
 *  - while brokers are unreachable, messages wait in librdkafka's queue
 *    (kafka_queue_max messages, kafka_message_timeout each);
 *  - when that queue is full, or a message fails for good (timeout, purge at
 *    shutdown), it goes to the on-disk spool (spool.h; fsync'd; bounded by
 *    spool_max_size) and is replayed in order when the broker answers again;
 *    while the spool holds anything, new messages go behind it;
 *  - the idempotent producer makes librdkafka's own retries exactly-once;
 *    a message spooled after a timeout or purge the broker had in fact
 *    received is delivered again (at-least-once across that edge);
 *  - lost: messages still in librdkafka's memory queue on a crash (kill -9);
 *    messages that find the spool full, and messages Kafka refuses for good
 *    (too large, invalid, not authorized) so they cannot block the spool
 *    (counted in vms_events_dropped_total and logged with their payload).
 */

#ifndef VMS_EVENTS_H
#define VMS_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#define VMS_TOPIC_EVENTS      "vms.events"
#define VMS_TOPIC_DETECTIONS  "vms.detections"
#define VMS_TOPIC_AUDIT       "vms.audit"

typedef struct {
    const char  *brokers;            /* NULL or "": Kafka off, events logged */
    const char  *events_topic;       /* default topic name for vms.events */
    const char  *spool_dir;
    int64_t      spool_max_bytes;
    int64_t      message_timeout_ms;
    int64_t      queue_max;
    int64_t      probe_interval_ms;  /* broker reachability probe (0: 10 s) */
} vms_events_conf_t;

int vms_events_init(const vms_events_conf_t *conf, char *err, size_t errlen);

/* Flush for up to flush_ms, then spool whatever is still queued. */
void vms_events_shutdown(int64_t flush_ms);

/* The configured name of the vms.events topic. */
const char *vms_events_topic(void);

/* Raw message (value is copied).  0 queued or spooled, -1 lost (logged and
 * counted). Never blocks on the network. */
int vms_events_produce(const char *topic, const char *key, const void *value,
    size_t len);

/*
 * Standard event: builds the envelope and appends fields, a printf format
 * producing extra JSON members without leading comma (or NULL):
 *   vms_event_emit(vms_events_topic(), "stream.frozen", id, NULL,
 *                  "\"reason\":\"%s\"", "still");
 * trace_id NULL: the thread's trace id (vms_log_trace(): the API request
 * being handled, or the one that caused this work), else a new one.  Returns as vms_events_produce().
 */
int vms_event_emit(const char *topic, const char *type, const char *camera_id,
    const char *trace_id, const char *fields_fmt, ...)
    __attribute__((format(printf, 5, 6)));

typedef struct {
    int        enabled;
    int        queued;              /* in librdkafka's queue */
    uint64_t   spool_bytes;         /* waiting in the spool */
    int        connected;           /* a broker answered (probe or delivery)
                                       and none failed since */
    int64_t    disconnected_s;      /* while not connected: for how long */
    char       reason[256];         /* while not connected: why */
} vms_events_stats_t;

void vms_events_stats(vms_events_stats_t *st);

#endif /* VMS_EVENTS_H */
