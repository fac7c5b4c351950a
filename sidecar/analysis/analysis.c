/*
 * Analysis (contract: analysis.h): per camera configuration, a bounded
 * queue between the camera thread and one analysis thread, and the ties of
 * the pipeline (ai/pipeline.h) to vmsd's events, PostgreSQL, metrics and
 * API (ai/vmsd/).
 *
 * The camera thread only takes a reference to the decoded keyframe
 * (av_frame_clone, no copy of pixels) when the queue has room, else counts
 * a drop: analysis never slows recording.  Scaling (libswscale), motion and
 * provider calls all happen on the analysis thread.
 */

#include "analysis.h"
#include "ai/conf.h"
#include "ai/pipeline.h"
#include "ai/vmsd/vmsd_ai.h"
#include "events.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_MAX  16

struct vms_analysis_conf_s {
    vms_ai_conf_t  ai;
};

struct vms_analysis_s {
    char                 camera_id[VMS_CAMERA_ID_MAX + 1];
    vms_ai_conf_t        conf;
    vms_ai_pipeline_t   *pl;
    pthread_t            thread;
    pthread_mutex_t      mu;
    pthread_cond_t       cv;
    AVFrame             *q[QUEUE_MAX];
    int64_t              q_ts[QUEUE_MAX];
    int                  head, n;
    volatile int         stop;
    char                 last_error[512];
    vms_series_t        *s_analysed, *s_sent, *s_dropped;
    vms_series_t        *s_skipped[VMS_AI_SKIP_N];
    vms_metric_t        *m_errors;
};

static pthread_once_t  once = PTHREAD_ONCE_INIT;
static vms_metric_t   *m_analysed, *m_skipped, *m_sent, *m_dropped, *m_errors,
                      *m_analysis_seconds;

static void
init_once(void)
{
    static const double buckets[] = { 0.0005, 0.001, 0.002, 0.005, 0.01,
                                      0.05 };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    m_analysed = vms_metric_new("vms_ai_frames_analysed_total",
        "Sampled frames that went through motion analysis", VMS_COUNTER,
        NULL, 0);
    m_skipped = vms_metric_new("vms_ai_frames_skipped_total",
        "Analysed frames not sent to the provider, by reason", VMS_COUNTER,
        NULL, 0);
    m_sent = vms_metric_new("vms_ai_frames_sent_total",
        "Frames sent to the detection provider", VMS_COUNTER, NULL, 0);
    m_dropped = vms_metric_new("vms_ai_frames_dropped_total",
        "Frames not queued because analysis was busy", VMS_COUNTER, NULL, 0);
    m_errors = vms_metric_new("vms_ai_provider_errors_total",
        "Failed provider calls by error class", VMS_COUNTER, NULL, 0);
    m_analysis_seconds = vms_metric_new("vms_ai_analysis_seconds",
        "Crop, scale and motion time per analysed frame", VMS_HISTOGRAM,
        buckets, (int) (sizeof(buckets) / sizeof(buckets[0])));
    vms_ai_vmsd_init();
}

void
vms_ai_vmsd_init(void)
{
    vms_ai_results_init();
    vms_ai_cost_api_init();
}

void
vms_analysis_init(void)
{
    pthread_once(&once, init_once);
}

vms_analysis_conf_t *
vms_analysis_conf_new(void)
{
    vms_analysis_conf_t *c = calloc(1, sizeof(*c));

    pthread_once(&once, init_once);
    if (c != NULL) {
        vms_ai_conf_default(&c->ai);
    }
    return c;
}

void
vms_analysis_conf_free(vms_analysis_conf_t *conf)
{
    free(conf);
}

int
vms_analysis_conf_set(vms_analysis_conf_t *conf, const char *key,
    const char *value, char *err, size_t errlen)
{
    int rc = vms_ai_conf_set(&conf->ai, key, value, err, errlen);

    if (rc == 1) {
        snprintf(err, errlen, "not an analysis key");
        return -1;
    }
    return rc;
}

/* ---- sink: pipeline -> vmsd ------------------------------------------- */

static void
on_result(void *ud, const char *camera_id, const char *json, size_t len)
{
    vms_ai_results_submit(camera_id, json, len);
}

/* ai.budget_exceeded goes with the detections it stops (vms.detections,
 * docs/ARCHITECTURE.md); provider errors with the camera's other events. */
static void
on_event(void *ud, const char *camera_id, const char *type,
    const char *fields)
{
    const char *topic = strcmp(type, "ai.budget_exceeded") == 0
                        ? VMS_TOPIC_DETECTIONS : vms_events_topic();

    vms_event_emit(topic, type, camera_id, NULL, "%s", fields);
}

static void
on_cost(void *ud, const char *camera_id, int64_t ts_us, const char *provider,
    const char *api, int calls, double usd)
{
    vms_ai_cost_persist(camera_id, ts_us, provider, api, calls, usd);
}

/* ---- the analysis thread ------------------------------------------------ */

static void
account(vms_analysis_t *an, const vms_ai_outcome_t *o)
{
    char labels[160];

    if (o->skip != VMS_AI_SKIP_ROI_INVALID && o->skip != VMS_AI_SKIP_ERROR) {
        vms_series_add(an->s_analysed, 1);
        vms_series_observe(vms_metric_series(m_analysis_seconds, ""),
                           (double) o->analysis_us / 1e6);
    }
    if (o->sent) {
        vms_series_add(an->s_sent, 1);
        if (o->error != VMS_AI_OK) {
            vms_metric_labels(labels, sizeof(labels), "camera_id",
                              an->camera_id, "class",
                              vms_ai_err_name(o->error), NULL);
            vms_series_add(vms_metric_series(m_errors, labels), 1);
        }
    } else {
        vms_series_add(an->s_skipped[o->skip], 1);
    }
}

static void *
analysis_thread(void *arg)
{
    vms_analysis_t   *an = arg;
    vms_ai_outcome_t  o;

    pthread_mutex_lock(&an->mu);
    for (;;) {
        while (an->n == 0 && !an->stop) {
            pthread_cond_wait(&an->cv, &an->mu);
        }
        if (an->stop) {
            break;
        }
        AVFrame *f = an->q[an->head];
        int64_t  ts = an->q_ts[an->head];
        an->q[an->head] = NULL;
        an->head = (an->head + 1) % an->conf.queue_len;
        an->n--;
        pthread_mutex_unlock(&an->mu);

        vms_ai_pipeline_process(an->pl, f, ts, &o);
        av_frame_free(&f);
        account(an, &o);
        const char *e = vms_ai_pipeline_error(an->pl);
        if (e[0] && strcmp(e, an->last_error) != 0) {
            /* once per distinct error, not once per frame */
            vms_log_error(an->camera_id, "%s", e);
        }
        snprintf(an->last_error, sizeof(an->last_error), "%s", e);

        pthread_mutex_lock(&an->mu);
    }
    pthread_mutex_unlock(&an->mu);
    return NULL;
}

vms_analysis_t *
vms_analysis_start(const char *camera_id, const vms_analysis_conf_t *conf)
{
    vms_ai_sink_t   sink = { NULL, on_result, on_event, on_cost };
    vms_analysis_t *an;
    char            err[512], labels[200];

    if (conf == NULL || !conf->ai.enabled) {
        return NULL;
    }
    pthread_once(&once, init_once);
    an = calloc(1, sizeof(*an));
    if (an == NULL) {
        vms_log_error(camera_id, "analysis: out of memory");
        return NULL;
    }
    snprintf(an->camera_id, sizeof(an->camera_id), "%s", camera_id);
    an->conf = conf->ai;
    if (an->conf.queue_len < 1 || an->conf.queue_len > QUEUE_MAX) {
        an->conf.queue_len = 2;
    }
    an->pl = vms_ai_pipeline_new(camera_id, &an->conf, &sink, &an->stop, err,
                                 sizeof(err));
    if (an->pl == NULL) {
        /* a camera without working analysis still records */
        vms_log_error(camera_id, "analysis off: %s", err);
        free(an);
        return NULL;
    }
    vms_metric_labels(labels, sizeof(labels), "camera_id", camera_id, NULL);
    an->s_analysed = vms_metric_series(m_analysed, labels);
    an->s_sent = vms_metric_series(m_sent, labels);
    an->s_dropped = vms_metric_series(m_dropped, labels);
    for (int s = 1; s < VMS_AI_SKIP_N; s++) {
        vms_metric_labels(labels, sizeof(labels), "camera_id", camera_id,
                          "reason", vms_ai_skip_name(s), NULL);
        an->s_skipped[s] = vms_metric_series(m_skipped, labels);
    }
    pthread_mutex_init(&an->mu, NULL);
    pthread_cond_init(&an->cv, NULL);
    if (pthread_create(&an->thread, NULL, analysis_thread, an) != 0) {
        vms_log_error(camera_id, "analysis off: cannot start its thread");
        vms_ai_pipeline_free(an->pl);
        pthread_mutex_destroy(&an->mu);
        pthread_cond_destroy(&an->cv);
        free(an);
        return NULL;
    }
    vms_log_info(camera_id, "analysis on: provider %s, motion %s, interval "
                 "%lld ms, %d ROI area(s)", an->conf.provider.provider,
                 an->conf.motion_enabled ? "on" : "off",
                 (long long) an->conf.interval_ms, an->conf.roi.n);
    return an;
}

void
vms_analysis_submit(vms_analysis_t *an, const AVFrame *frame, int64_t ts_us)
{
    AVFrame *ref;

    if (an == NULL) {
        return;
    }
    if (pthread_mutex_trylock(&an->mu) != 0) {
        /* the analysis thread holds the lock only briefly; never wait */
        vms_series_add(an->s_dropped, 1);
        return;
    }
    if (an->n >= an->conf.queue_len || an->stop) {
        pthread_mutex_unlock(&an->mu);
        vms_series_add(an->s_dropped, 1);
        return;
    }
    ref = av_frame_clone(frame);
    if (ref == NULL) {
        pthread_mutex_unlock(&an->mu);
        vms_series_add(an->s_dropped, 1);
        return;
    }
    int tail = (an->head + an->n) % an->conf.queue_len;
    an->q[tail] = ref;
    an->q_ts[tail] = ts_us;
    an->n++;
    pthread_cond_signal(&an->cv);
    pthread_mutex_unlock(&an->mu);
}

void
vms_analysis_stop(vms_analysis_t *an)
{
    if (an == NULL) {
        return;
    }
    pthread_mutex_lock(&an->mu);
    an->stop = 1;
    pthread_cond_signal(&an->cv);
    pthread_mutex_unlock(&an->mu);
    pthread_join(an->thread, NULL);
    while (an->n > 0) {
        av_frame_free(&an->q[an->head]);
        an->head = (an->head + 1) % an->conf.queue_len;
        an->n--;
    }
    vms_ai_pipeline_free(an->pl);
    pthread_mutex_destroy(&an->mu);
    pthread_cond_destroy(&an->cv);
    free(an);
}
