/*
 * ngx_vms_kafka: a librdkafka producer for nginx workers, with a local file fallback.
 *
 * Contract:
 *  - Config time: ngx_vms_kafka_create() stores the broker list, extra librdkafka properties and the
 *    fallback file path.  Nothing connects and no thread starts in the master process.
 *  - ngx_vms_kafka_init_process() (from the module's init_process, after the fork) creates the
 *    producer and a poll timer on the worker's event loop that serves delivery reports.
 *  - ngx_vms_kafka_produce() never blocks: the message is copied into librdkafka's queue, or, when
 *    that is not possible (no producer, queue full), appended at once to the fallback file.
 *    A message that librdkafka later fails to deliver (broker down past message.timeout.ms, purged
 *    at exit) is appended to the fallback file from the delivery report.  So every message ends up
 *    in Kafka or in the file; the file holds one message value per line (JSON stays one line).
 *  - ngx_vms_kafka_exit_process() flushes for at most flush_timeout, then purges what is left into
 *    the fallback file.
 */
#ifndef NGX_VMS_KAFKA_H
#define NGX_VMS_KAFKA_H

#include <ngx_config.h>
#include <ngx_core.h>

typedef struct ngx_vms_kafka_s ngx_vms_kafka_t;

/* props: array of ngx_str_t "name=value" (librdkafka configuration), may be NULL. */
ngx_vms_kafka_t *ngx_vms_kafka_create(ngx_conf_t *cf, ngx_str_t *brokers, ngx_array_t *props,
    ngx_str_t *fallback_file);
/* The fallback file may be set after create (a separate directive). */
void ngx_vms_kafka_set_fallback(ngx_vms_kafka_t *k, ngx_str_t *path);

ngx_int_t ngx_vms_kafka_init_process(ngx_vms_kafka_t *k, ngx_cycle_t *cycle);
void ngx_vms_kafka_exit_process(ngx_vms_kafka_t *k);

/* NGX_OK queued or written to the fallback file; NGX_ERROR when both failed (logged). */
ngx_int_t ngx_vms_kafka_produce(ngx_vms_kafka_t *k, const char *topic, const void *key, size_t klen,
    const void *value, size_t vlen);

#endif
