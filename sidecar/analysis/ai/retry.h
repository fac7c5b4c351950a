/*
 * Delivery of DetectionResults to their sinks (Kafka vms.detections and
 * PostgreSQL detection_results) with retries: a failed write is tried again
 * after 1 s, 2 s, 4 s (base_ms * 2^n), and after `retries` failed retries the
 * result goes to the dead-letter sink (Kafka vms.detections.dlq) with the
 * sink that failed and the attempts made.  Pure logic with a caller-given
 * clock (unit-tested); vmsd drives it from one thread (ai/vmsd/results.c).
 * Not thread-safe by itself.
 */

#ifndef VMS_AI_RETRY_H
#define VMS_AI_RETRY_H

#include <stddef.h>
#include <stdint.h>

#define VMS_AI_SINKS  2          /* 0 Kafka, 1 PostgreSQL */

typedef struct vms_ai_retry_s vms_ai_retry_t;

typedef struct {
    void  *ud;
    const char *names[VMS_AI_SINKS];                 /* "kafka", "postgres"; NULL: sink unused */
    /* 0 written (or handed to a durable queue), -1 failed */
    int  (*write)(void *ud, int sink, const char *camera_id, const char *json,
                  size_t len);
    /* 0 or -1 (then the result is logged with its payload and counted) */
    int  (*dead_letter)(void *ud, int sink, const char *camera_id,
                        const char *json, size_t len, int attempts);
} vms_ai_retry_ops_t;

typedef struct {
    uint64_t  written, retried, dead_lettered, lost, pending;
} vms_ai_retry_stats_t;

vms_ai_retry_t *vms_ai_retry_new(const vms_ai_retry_ops_t *ops, int retries,
    int64_t base_ms, size_t max_pending);
void vms_ai_retry_free(vms_ai_retry_t *r);

/* First attempt on every sink now; failures are scheduled. */
void vms_ai_retry_submit(vms_ai_retry_t *r, const char *camera_id,
    const char *json, size_t len, int64_t now_us);

/* Retries what is due at now_us.  Returns when to call again (absolute
 * microseconds), or INT64_MAX when nothing is pending. */
int64_t vms_ai_retry_run(vms_ai_retry_t *r, int64_t now_us);

void vms_ai_retry_stats(const vms_ai_retry_t *r, vms_ai_retry_stats_t *st);

#endif /* VMS_AI_RETRY_H */
