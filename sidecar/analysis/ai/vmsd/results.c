/*
 * DetectionResults to Kafka, retried, then dead-lettered (see vmsd_ai.h);
 * vms-detections-consumer stores them in PostgreSQL.  One thread for all
 * cameras; submit never blocks on the network (events queue and spool).
 */

#include "vmsd_ai.h"
#include "../retry.h"
#include "events.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RESULTS_RETRIES      3
#define RESULTS_BASE_MS      1000
#define RESULTS_MAX_PENDING  10000

static pthread_mutex_t  lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t   wake;
static vms_ai_retry_t  *rq;
static vms_metric_t    *m_written, *m_retried, *m_dlq, *m_lost;

/* Kafka only: vms-detections-consumer is the one writer of detection_results (docs/events.md). */
static int
write_sink(void *ud, int sink, const char *cam, const char *json, size_t len)
{
    return vms_events_produce(VMS_TOPIC_DETECTIONS, cam, json, len);
}

static int
dead_letter(void *ud, int sink, const char *cam, const char *json,
    size_t len, int attempts)
{
    vms_buf_t b = { 0 };
    int       rc;

    vms_buf_printf(&b, "{\"schema\":1,\"type\":\"detection.undelivered\","
                   "\"camera_id\":\"%s\",\"sink\":\"kafka\",\"attempts\":%d,"
                   "\"result\":%.*s}", cam, attempts, (int) len, json);
    if (b.p == NULL) {
        return -1;
    }
    rc = vms_events_produce(VMS_TOPIC_DETECTIONS_DLQ, cam, b.p, b.len);
    if (rc != 0) {
        vms_log_error(cam, "detection lost: kafka and %s both refused it: %.*s",
                      VMS_TOPIC_DETECTIONS_DLQ, (int) len, json);
    } else {
        vms_log_warn(cam, "detection to %s after %d failed writes to kafka",
                     VMS_TOPIC_DETECTIONS_DLQ, attempts);
    }
    vms_buf_free(&b);
    return rc;
}

static void
update_metrics(void)
{
    vms_ai_retry_stats_t st;

    vms_ai_retry_stats(rq, &st);
    vms_series_set(vms_metric_series(m_written, ""), (double) st.written);
    vms_series_set(vms_metric_series(m_retried, ""), (double) st.retried);
    vms_series_set(vms_metric_series(m_dlq, ""), (double) st.dead_lettered);
    vms_series_set(vms_metric_series(m_lost, ""), (double) st.lost);
}

static void *
results_thread(void *arg)
{
    pthread_mutex_lock(&lock);
    for (;;) {
        int64_t next = vms_ai_retry_run(rq, vms_mono_us());
        update_metrics();
        if (next == INT64_MAX) {
            pthread_cond_wait(&wake, &lock);
        } else {
            struct timespec ts;
            int64_t wait = next - vms_mono_us();
            clock_gettime(CLOCK_MONOTONIC, &ts);
            if (wait < 0) wait = 0;
            ts.tv_sec += (time_t) (wait / 1000000);
            ts.tv_nsec += (long) (wait % 1000000) * 1000;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&wake, &lock, &ts);
        }
    }
    return NULL;
}

void
vms_ai_results_init(void)
{
    static vms_ai_retry_ops_t ops = { NULL, { "kafka", NULL },
                                      write_sink, dead_letter };
    pthread_condattr_t ca;
    pthread_t          t;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wake, &ca);
    pthread_condattr_destroy(&ca);
    m_written = vms_metric_new("vms_ai_results_written_total",
        "DetectionResult writes accepted by Kafka",
        VMS_COUNTER, NULL, 0);
    m_retried = vms_metric_new("vms_ai_results_retried_total",
        "DetectionResult writes retried", VMS_COUNTER, NULL, 0);
    m_dlq = vms_metric_new("vms_ai_results_dead_lettered_total",
        "DetectionResults sent to vms.detections.dlq", VMS_COUNTER, NULL, 0);
    m_lost = vms_metric_new("vms_ai_results_lost_total",
        "DetectionResults refused by their sink and by the DLQ",
        VMS_COUNTER, NULL, 0);
    rq = vms_ai_retry_new(&ops, RESULTS_RETRIES, RESULTS_BASE_MS,
                          RESULTS_MAX_PENDING);
    if (rq == NULL || pthread_create(&t, NULL, results_thread, NULL) != 0) {
        vms_log_error(NULL, "AI results: cannot start the delivery thread");
        return;
    }
    pthread_detach(t);
}

void
vms_ai_results_submit(const char *camera_id, const char *json, size_t len)
{
    if (rq == NULL) {
        vms_log_error(camera_id, "detection lost (no delivery thread): %.*s",
                      (int) len, json);
        return;
    }
    pthread_mutex_lock(&lock);
    vms_ai_retry_submit(rq, camera_id, json, len, vms_mono_us());
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
}
