#include "camera.h"
#include "camera_impl.h"
#include "analysis.h"
#include "events.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include <libavformat/avformat.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAMERA_STACK  (1024 * 1024)

vms_camera_registry_t vms_camreg = { .lock = PTHREAD_MUTEX_INITIALIZER };

const char *const vms_camera_state_names[] = {
    "connecting", "online", "reconnecting", "offline", "stopped",
};

static const double duration_buckets[] = {
    0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800,
};

/* Pixel-identical pictures for still_timeout (the still watchdog's view). */
static int
camera_still(vms_camera_t *cam, int64_t now)
{
    int64_t since = atomic_load(&cam->still_since);

    return since != 0 && now - since >= cam->conf->s.still_ms * 1000;
}

static void
collect(vms_buf_t *out, void *data)
{
    vms_camera_t  *cam;
    int            active = 0;
    int64_t        now;
    static const struct { const char *name, *help; int which; } fams[] = {
        { "vms_camera_frames_received_total", "Video frames received", 0 },
        { "vms_camera_packets_received_total", "Packets received (all"
          " streams)", 1 },
        { "vms_camera_bytes_received_total", "Bytes received", 2 },
        { "vms_camera_keyframes_decoded_total", "Keyframes decoded for"
          " snapshots, the still watchdog and analysis", 3 },
        { "vms_camera_up", "1 while the camera streams", 4 },
        { "vms_camera_recording", "1 while the camera is recorded", 5 },
    };
    size_t i;

    pthread_mutex_lock(&vms_camreg.lock);
    for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
        vms_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", fams[i].name,
                       fams[i].help, fams[i].name,
                       fams[i].which >= 4 ? "gauge" : "counter");
        for (cam = vms_camreg.list; cam != NULL; cam = cam->next) {
            unsigned long long v = 0;
            switch (fams[i].which) {
            case 0: v = atomic_load(&cam->frames); break;
            case 1: v = atomic_load(&cam->packets); break;
            case 2: v = atomic_load(&cam->bytes); break;
            case 3: v = atomic_load(&cam->keyframes); break;
            case 4: v = atomic_load(&cam->state) == VMS_CAM_STREAMING; break;
            case 5: v = atomic_load(&cam->recording); break;
            }
            vms_buf_printf(out, "%s{camera_id=\"%s\"} %llu\n", fams[i].name,
                           cam->id, v);
        }
    }
    for (cam = vms_camreg.list; cam != NULL; cam = cam->next) {
        active += atomic_load(&cam->state) == VMS_CAM_STREAMING;
    }
    /* The alert rules (conf/prometheus/alerts.yml) need "no frame for N s"
     * and "picture still now" per camera. A wall-clock timestamp lets
     * Prometheus compute the age with time(); before the first frame it is
     * the camera's start, so a camera that never delivers ages too. */
    vms_buf_printf(out, "# HELP vms_camera_last_frame_timestamp_seconds UTC"
                   " time of the last video frame (of the camera's start"
                   " before the first)\n# TYPE"
                   " vms_camera_last_frame_timestamp_seconds gauge\n");
    for (cam = vms_camreg.list; cam != NULL; cam = cam->next) {
        int64_t t = atomic_load(&cam->frame_wall);
        vms_buf_printf(out, "vms_camera_last_frame_timestamp_seconds"
                       "{camera_id=\"%s\"} %.3f\n", cam->id,
                       (double) (t ? t : cam->started_wall) / 1e6);
    }
    vms_buf_printf(out, "# HELP vms_camera_still 1 while the camera sends"
                   " pixel-identical pictures for still_timeout\n"
                   "# TYPE vms_camera_still gauge\n");
    now = vms_mono_us();
    for (cam = vms_camreg.list; cam != NULL; cam = cam->next) {
        vms_buf_printf(out, "vms_camera_still{camera_id=\"%s\"} %d\n",
                       cam->id, camera_still(cam, now));
    }
    pthread_mutex_unlock(&vms_camreg.lock);
    vms_buf_printf(out, "# HELP vms_streams_active Cameras streaming now\n"
                   "# TYPE vms_streams_active gauge\nvms_streams_active %d\n",
                   active);
}

/* FFmpeg logs with its AVFormatContext: ours carry the camera in their
 * interrupt callback. */
static const char *
ffmpeg_camera_of(void *avcl)
{
    const AVClass *cls = *(const AVClass **) avcl;
    AVFormatContext *fmt = avcl;

    if (cls == avformat_get_class()
        && fmt->interrupt_callback.callback == vms_camera_interrupt_cb)
    {
        return ((vms_camera_t *) fmt->interrupt_callback.opaque)->id;
    }
    return NULL;
}

void
vms_cameras_init(const char *recordings_root, const char *relay_secret)
{
    vms_log_ffmpeg_camera(ffmpeg_camera_of);
    vms_camreg.root = strdup(recordings_root);
    if (relay_secret != NULL) {
        vms_camreg.relay_key = (unsigned char *) strdup(relay_secret);
        vms_camreg.relay_keylen = strlen(relay_secret);
    }
    vms_camreg.m_reconnect = vms_metric_new("vms_camera_reconnect_total",
        "Reconnection attempts by outcome", VMS_COUNTER, NULL, 0);
    vms_camreg.m_duration = vms_metric_new("vms_reconnect_duration_seconds",
        "Time from losing a stream to streaming again", VMS_HISTOGRAM,
        duration_buckets, sizeof(duration_buckets) / sizeof(double));
    vms_camreg.m_errors = vms_metric_new("vms_stream_errors_total",
        "Stream failures (lost connections, failed connects, recorder"
        " errors)", VMS_COUNTER, NULL, 0);
    vms_camreg.m_frozen = vms_metric_new("vms_stream_frozen_total",
        "Frozen streams detected by the watchdog", VMS_COUNTER, NULL, 0);
    vms_camreg.m_snapshots = vms_metric_new("vms_snapshots_total",
        "Snapshots taken", VMS_COUNTER, NULL, 0);
    vms_camreg.m_segment_end = vms_metric_new(
        "vms_recording_segment_end_timestamp_seconds",
        "UTC end time of the last recorded segment closed", VMS_GAUGE,
        NULL, 0);
    vms_metrics_register_collector(collect, NULL);
}

vms_camera_t *
vms_camera_start(vms_camera_conf_t *cc)
{
    vms_camera_t  *cam;
    pthread_attr_t attr;
    char           l[256];
    int            rc;

    cam = calloc(1, sizeof(*cam));
    if (cam == NULL) {
        vms_log_error(cc->id, "cannot start: out of memory");
        vms_camera_conf_free(cc);
        return NULL;
    }
    cam->conf = cc;
    cam->id = cc->id;
    pthread_mutex_init(&cam->lock, NULL);
    atomic_store(&cam->record_wanted, cc->s.record);
    atomic_store(&cam->state, -1);
    cam->started_wall = vms_now_us();
    snprintf(cam->dir, sizeof(cam->dir), "%s/%s", vms_camreg.root, cc->id);
    rc = vms_mkdir_p(cam->dir, 0755);
    if (rc != 0) {
        vms_log_error(cc->id, "cannot create %s: %s", cam->dir, strerror(-rc));
    }

    vms_metric_labels(l, sizeof(l), "camera_id", cc->id, "status", "success",
                      NULL);
    cam->s_reconnect_ok = vms_metric_series(vms_camreg.m_reconnect, l);
    vms_metric_labels(l, sizeof(l), "camera_id", cc->id, "status", "failure",
                      NULL);
    cam->s_reconnect_fail = vms_metric_series(vms_camreg.m_reconnect, l);
    vms_metric_labels(l, sizeof(l), "camera_id", cc->id, NULL);
    cam->s_duration = vms_metric_series(vms_camreg.m_duration, l);
    cam->s_errors = vms_metric_series(vms_camreg.m_errors, l);
    cam->s_snapshots = vms_metric_series(vms_camreg.m_snapshots, l);
    vms_metric_labels(l, sizeof(l), "camera_id", cc->id, "reason",
                      "no_frames", NULL);
    cam->s_frozen_nf = vms_metric_series(vms_camreg.m_frozen, l);
    vms_metric_labels(l, sizeof(l), "camera_id", cc->id, "reason", "still",
                      NULL);
    cam->s_frozen_still = vms_metric_series(vms_camreg.m_frozen, l);

    /* 1 MB of stack, not glibc's 8: RTSP, the mp4 muxer and a
     * single-threaded keyframe decode stay far below it (docs/vmsd.md,
     * "Memory"); 64 cameras reserve 64 MB of address space, not 512 */
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, CAMERA_STACK);
    rc = pthread_create(&cam->thread, &attr, vms_camera_thread, cam);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        vms_log_error(cc->id, "cannot start its thread");
        pthread_mutex_destroy(&cam->lock);
        vms_camera_conf_free(cc);
        free(cam);
        return NULL;
    }
    pthread_mutex_lock(&vms_camreg.lock);
    cam->next = vms_camreg.list;
    vms_camreg.list = cam;
    pthread_mutex_unlock(&vms_camreg.lock);
    {
        char redacted[1024];
        vms_url_redact(cc->url, redacted, sizeof(redacted));
        vms_log_info(cc->id, "started (%s, record %s)", redacted,
                     cc->s.record ? "on" : "off");
    }
    return cam;
}

void
vms_camera_request_stop(vms_camera_t *cam)
{
    atomic_store(&cam->stop, 1);
}

void
vms_camera_stop(vms_camera_t *cam)
{
    vms_camera_t **pp;

    pthread_mutex_lock(&vms_camreg.lock);
    for (pp = &vms_camreg.list; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == cam) {
            *pp = cam->next;
            break;
        }
    }
    pthread_mutex_unlock(&vms_camreg.lock);

    atomic_store(&cam->stop, 1);
    pthread_join(cam->thread, NULL);
    vms_log_info(cam->id, "stopped");
    pthread_mutex_destroy(&cam->lock);
    free(cam->jpeg);
    vms_camera_conf_free(cam->conf);
    free(cam);
}

const vms_camera_conf_t *
vms_camera_conf(const vms_camera_t *cam)
{
    return cam->conf;
}

void
vms_cameras_foreach(void (*fn)(vms_camera_t *cam, void *data), void *data)
{
    vms_camera_t *cam;

    pthread_mutex_lock(&vms_camreg.lock);
    for (cam = vms_camreg.list; cam != NULL; cam = cam->next) {
        fn(cam, data);
    }
    pthread_mutex_unlock(&vms_camreg.lock);
}

void
vms_camera_status(vms_camera_t *cam, vms_camera_status_t *st)
{
    int64_t now = vms_mono_us(), t;
    int     s = atomic_load(&cam->state);

    memset(st, 0, sizeof(*st));
    snprintf(st->id, sizeof(st->id), "%s", cam->id);
    st->state = s < 0 ? VMS_CAM_CONNECTING : (vms_cam_state_e) s;
    st->state_name = vms_camera_state_names[st->state];
    st->frames = atomic_load(&cam->frames);
    st->packets = atomic_load(&cam->packets);
    st->bytes = atomic_load(&cam->bytes);
    st->keyframes = atomic_load(&cam->keyframes);
    t = atomic_load(&cam->last_frame);
    st->last_frame_age_ms = st->frames && t ? (now - t) / 1000 : -1;
    t = atomic_load(&cam->snapshot_at);
    st->snapshot_age_ms = t ? (now - t) / 1000 : -1;
    st->failures = atomic_load(&cam->failures);
    st->record_wanted = atomic_load(&cam->record_wanted);
    st->recording = atomic_load(&cam->recording);
    st->still = camera_still(cam, now);
    pthread_mutex_lock(&cam->lock);
    snprintf(st->last_error, sizeof(st->last_error), "%s", cam->last_error);
    pthread_mutex_unlock(&cam->lock);
}

int
vms_camera_set_record(const char *id, int on, vms_camera_status_t *st)
{
    vms_camera_t *cam;
    int           rc = -1;

    pthread_mutex_lock(&vms_camreg.lock);
    for (cam = vms_camreg.list; cam != NULL; cam = cam->next) {
        if (strcmp(cam->id, id) == 0) {
            const char *trace = vms_log_trace();
            /* the camera thread acts on it: it takes the request's trace id
             * along (camera.c) for the lines and events of that change */
            pthread_mutex_lock(&cam->lock);
            snprintf(cam->record_trace, sizeof(cam->record_trace), "%s",
                     trace ? trace : "");
            pthread_mutex_unlock(&cam->lock);
            if (atomic_exchange(&cam->record_wanted, on) != on) {
                vms_log_info(cam->id, "recording %s requested through the"
                             " API", on ? "start" : "stop");
            }
            vms_camera_status(cam, st);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&vms_camreg.lock);
    return rc;
}

int
vms_camera_set_analysis(const char *id, struct vms_analysis_conf_s *conf)
{
    vms_camera_t         *cam;
    vms_analysis_conf_t  *old = NULL;
    int                   rc = -1;

    pthread_mutex_lock(&vms_camreg.lock);
    for (cam = vms_camreg.list; cam != NULL; cam = cam->next) {
        if (strcmp(cam->id, id) == 0) {
            old = atomic_exchange(&cam->an_swap, conf);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&vms_camreg.lock);
    if (old != NULL) {
        vms_analysis_conf_free(old);      /* superseded before it was taken */
    }
    return rc;
}

int
vms_camera_known(const char *id)
{
    vms_camera_t *cam;
    int           found = 0;

    pthread_mutex_lock(&vms_camreg.lock);
    for (cam = vms_camreg.list; cam != NULL && !found; cam = cam->next) {
        found = strcmp(cam->id, id) == 0;
    }
    pthread_mutex_unlock(&vms_camreg.lock);
    return found;
}

int64_t
vms_camera_watchdog(vms_camera_t *cam, int64_t now)
{
    const vms_cam_settings_t *cs = &cam->conf->s;
    int64_t                   last, still;

    if (cam->next_check == 0) {
        cam->next_check = now + cs->watchdog_ms * 1000;
    }
    if (now < cam->next_check) {
        return (cam->next_check - now) / 1000;
    }
    cam->next_check = now + cs->watchdog_ms * 1000;

    if (atomic_load(&cam->state) != VMS_CAM_STREAMING
        && atomic_load(&cam->deadline) == 0)
    {
        return cs->watchdog_ms;     /* not connected: nothing to watch */
    }
    last = atomic_load(&cam->last_frame);
    if (atomic_load(&cam->state) == VMS_CAM_STREAMING && last != 0
        && now - last >= cs->frozen_ms * 1000)
    {
        vms_series_add(cam->s_frozen_nf, 1);
        vms_log(VMS_LOG_WARN, cam->id, "\"reason\":\"no_frames\"",
                "frozen: no frame for %lld ms; restarting the pipeline",
                (long long) ((now - last) / 1000));
        if (!cam->frozen_reported) {
            cam->frozen_reported = 1;
            vms_event_emit(vms_events_topic(), "stream.frozen", cam->id, NULL,
                           "\"reason\":\"no_frames\",\"seconds\":%.1f",
                           (double) (now - last) / 1e6);
        }
        atomic_store(&cam->restart, RESTART_NO_FRAMES);
        return cs->watchdog_ms;
    }
    if (atomic_load(&cam->state) == VMS_CAM_STREAMING && last != 0) {
        cam->frozen_reported = 0;
    }

    still = atomic_load(&cam->still_since);
    if (still != 0 && now - still >= cs->still_ms * 1000) {
        if (!cam->still_reported) {
            cam->still_reported = 1;
            vms_series_add(cam->s_frozen_still, 1);
            vms_log(VMS_LOG_WARN, cam->id, "\"reason\":\"still\"",
                    "frozen: identical pictures for %lld ms",
                    (long long) ((now - still) / 1000));
            vms_event_emit(vms_events_topic(), "stream.frozen", cam->id, NULL,
                           "\"reason\":\"still\",\"seconds\":%.1f",
                           (double) (now - still) / 1e6);
        }
    } else if (still == 0) {
        cam->still_reported = 0;
    }
    return cs->watchdog_ms;
}
