/*
 * What the Kafka consumer sidecars (vms-detections-consumer, vms-audit-consumer, vms-push,
 * vms-alert-notifier) share: a log line with a UTC timestamp and the program's name, a stop flag
 * set by SIGTERM/SIGINT, an interruptible sleep, durations ("30s", "500ms", "2m"), librdkafka
 * configuration that says which key failed, and a rebalance callback that logs the assignment.
 */
#ifndef VMS_SVC_H
#define VMS_SVC_H

#include <signal.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

extern volatile sig_atomic_t svc_stop;

/* sets the name every log line carries and installs SIGTERM/SIGINT handlers setting svc_stop */
void svc_init(const char *name);
void svc_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Kafka over TLS from VMS_KAFKA_SECURITY_PROTOCOL / VMS_KAFKA_SSL_* (modules/common/vms_kafka_ssl.h):
 * 0, or -1 after saying why. */
int svc_kafka_ssl(rd_kafka_conf_t *c);
/* A "--name VALUE" option and where its value goes. */
typedef struct {
    const char   *name;
    const char  **value;
} svc_opt_t;

/* argv's "--name VALUE" pairs into opts (up to a NULL name): 0, or -1 on an unknown name or a
 * missing value (the caller prints its usage) */
int svc_options(int argc, char **argv, const svc_opt_t *opts);
/* sleeps ms milliseconds or until svc_stop is set */
void svc_sleep_ms(long ms);
/* "30s", "500ms", "2m" or plain seconds, up to 7 days; -1 if malformed */
long svc_duration_ms(const char *s);
/* RFC 3339 UTC with milliseconds; len >= 25 */
void svc_now_rfc3339(char *out, size_t len);
/* rd_kafka_conf_set that logs "kafka: KEY=VALUE: error"; 0 or -1 */
int svc_conf_set(rd_kafka_conf_t *c, const char *key, const char *value);
/* the next message of a consumer, or NULL: none within timeout_ms, or an error (logged as
 * "kafka: …", except the end of a partition) that was dropped */
rd_kafka_message_t *svc_poll(rd_kafka_t *rk, int timeout_ms);
/* eager rebalance: assign / unassign, logging "assigned partitions [0,1]" */
void svc_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *parts, void *opaque);

#endif
