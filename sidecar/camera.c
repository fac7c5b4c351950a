#include "camera.h"
#include "analysis.h"
#include "events.h"
#include "log.h"
#include "metrics.h"
#include "pg.h"
#include "probe.h"
#include "reconcile.h"
#include "relay.h"
#include "recorder.h"
#include "rstore.h"
#include "snapshot.h"
#include "util.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define RECORDER_RETRY_US  5000000

enum { RESTART_NONE = 0, RESTART_NO_FRAMES };

struct vms_camera_s {
    vms_camera_conf_t   *conf;
    const char          *id;
    char                 dir[4096];
    pthread_t            thread;

    atomic_int           stop;
    atomic_int           restart;           /* RESTART_* from the watchdog */
    atomic_int           state;
    atomic_int           record_wanted;
    atomic_int           recording;
    atomic_int           failures;
    _Atomic int64_t      deadline;           /* mono us; 0 none */
    _Atomic int64_t      last_frame;         /* mono us; 0 none */
    _Atomic int64_t      still_since;        /* mono us; 0 not still */
    _Atomic int64_t      snapshot_at;        /* mono us; 0 none */
    atomic_uint_least64_t frames, packets, bytes, keyframes;

    /* watchdog thread only */
    int64_t              next_check;
    int                  frozen_reported;
    int                  still_reported;

    pthread_mutex_t      lock;               /* last_error, jpeg */
    char                 last_error[256];
    uint8_t             *jpeg;
    size_t               jpeg_len;

    /* camera thread only */
    uint64_t             fp;
    int64_t              fp_since;
    vms_analysis_t      *an;
    vms_backoff_t        backoff;
    int                  online_announced;

    vms_series_t        *s_reconnect_ok, *s_reconnect_fail, *s_duration,
                        *s_errors, *s_frozen_nf, *s_frozen_still,
                        *s_snapshots;
    vms_camera_t        *next;
};

static struct {
    pthread_mutex_t  lock;
    vms_camera_t    *list;
    char            *root;
    unsigned char   *relay_key;
    size_t           relay_keylen;
    vms_metric_t    *m_reconnect, *m_duration, *m_errors, *m_frozen,
                    *m_snapshots;
} reg = { .lock = PTHREAD_MUTEX_INITIALIZER };

static const char *state_names[] = {
    "connecting", "online", "reconnecting", "offline", "stopped",
};

static const double duration_buckets[] = {
    0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800,
};

/* ---- helpers ---------------------------------------------------------- */

static uint32_t
rnd32(void)
{
    uint32_t r = 0;

    if (getrandom(&r, sizeof(r), 0) != sizeof(r)) {
        r = (uint32_t) vms_mono_us();
    }
    return r;
}

static void
set_error(vms_camera_t *cam, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_error(vms_camera_t *cam, const char *fmt, ...)
{
    va_list ap;

    pthread_mutex_lock(&cam->lock);
    va_start(ap, fmt);
    vsnprintf(cam->last_error, sizeof(cam->last_error), fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&cam->lock);
}

static void
set_state(vms_camera_t *cam, vms_cam_state_e st)
{
    char key[128];

    if (atomic_exchange(&cam->state, (int) st) == (int) st) {
        return;
    }
    snprintf(key, sizeof(key), "vms:camera:%s:status", cam->id);
    vms_redis_set(key, state_names[st], strlen(state_names[st]), 0);
}

/* Sleeps up to ms in small steps; returns 1 when asked to stop.  While the
 * camera is not streaming the last snapshot's TTL is kept alive. */
static int
nap(vms_camera_t *cam, int64_t ms)
{
    int64_t  until = vms_mono_us() + ms * 1000;
    int64_t  ttl = cam->conf->s.snapshot_ttl_ms;
    char     key[128];

    for (;;) {
        int64_t now = vms_mono_us(), step;
        struct timespec ts;
        if (atomic_load(&cam->stop)) {
            return 1;
        }
        if (now >= until) {
            return 0;
        }
        if (atomic_load(&cam->snapshot_at) != 0
            && now - atomic_load(&cam->snapshot_at)
               >= cam->conf->s.snapshot_ms * 1000)
        {
            pthread_mutex_lock(&cam->lock);
            if (cam->jpeg != NULL) {
                snprintf(key, sizeof(key), "vms:snapshot:%s", cam->id);
                vms_redis_set(key, cam->jpeg, cam->jpeg_len, ttl);
            }
            pthread_mutex_unlock(&cam->lock);
            atomic_store(&cam->snapshot_at, now);
        }
        step = until - now;
        if (step > 100000) {
            step = 100000;
        }
        ts.tv_sec = 0;
        ts.tv_nsec = step * 1000;
        nanosleep(&ts, NULL);
    }
}

static int
interrupt_cb(void *opaque)
{
    vms_camera_t *cam = opaque;
    int64_t       dl;

    if (atomic_load(&cam->stop) || atomic_load(&cam->restart)) {
        return 1;
    }
    dl = atomic_load(&cam->deadline);
    return dl != 0 && vms_mono_us() > dl;
}

/* ---- recorder callback ------------------------------------------------ */

static void
segment_closed(const vms_segment_info_t *seg, void *data)
{
    vms_camera_t  *cam = data;
    char           start[40], end[40], bytes[32];
    vms_buf_t      path = {0};
    const char    *p[5];

    vms_rfc3339(seg->start_us, start, sizeof(start));
    vms_rfc3339(seg->start_us + seg->duration_us, end, sizeof(end));
    snprintf(bytes, sizeof(bytes), "%llu", (unsigned long long) seg->bytes);
    vms_buf_json_str(&path, seg->path);
    vms_event_emit(vms_events_topic(), "recording.segment", cam->id, NULL,
                   "\"path\":%s,\"start\":\"%s\",\"end\":\"%s\","
                   "\"duration_ms\":%lld,\"bytes\":%s,\"discontinuity\":%s",
                   path.p, start, end, (long long) (seg->duration_us / 1000),
                   bytes, seg->discontinuity ? "true" : "false");
    vms_buf_free(&path);

    p[0] = cam->id;
    p[1] = start;
    p[2] = end;
    p[3] = seg->path;
    p[4] = bytes;
    vms_pg_exec_async("INSERT INTO recordings (camera_id, start_time,"
                      " end_time, path, bytes) VALUES ($1, $2::timestamptz,"
                      " $3::timestamptz, $4, $5::bigint)"
                      " ON CONFLICT (camera_id, start_time) DO NOTHING",
                      5, p);
}

/* ---- decoded keyframes ------------------------------------------------ */

static void
snapshot(vms_camera_t *cam, const AVFrame *frame, int64_t now)
{
    uint8_t  *jpeg;
    size_t    len;
    char      key[128], path[4200];
    int       rc;

    rc = vms_jpeg_encode(frame, (int) cam->conf->s.snapshot_width, &jpeg, &len);
    if (rc < 0) {
        vms_log_warn(cam->id, "snapshot: JPEG encoding failed: %s",
                     av_err2str(rc));
        return;
    }
    /* the file first: whoever sees the Redis key finds the file too */
    snprintf(path, sizeof(path), "%s/latest.jpg", cam->dir);
    rc = vms_write_file_atomic(path, jpeg, len);
    if (rc != 0) {
        vms_log_warn(cam->id, "snapshot: cannot write %s: %s", path,
                     strerror(-rc));
    }
    snprintf(key, sizeof(key), "vms:snapshot:%s", cam->id);
    vms_redis_set(key, jpeg, len, cam->conf->s.snapshot_ttl_ms);
    pthread_mutex_lock(&cam->lock);
    free(cam->jpeg);
    cam->jpeg = malloc(len);
    if (cam->jpeg != NULL) {
        memcpy(cam->jpeg, jpeg, len);
        cam->jpeg_len = len;
    }
    pthread_mutex_unlock(&cam->lock);
    av_free(jpeg);
    atomic_store(&cam->snapshot_at, now);
    vms_series_add(cam->s_snapshots, 1);
}

static void
on_frame(vms_camera_t *cam, const AVFrame *frame, int64_t now)
{
    uint64_t  fp = vms_fingerprint(frame);
    int64_t   last;

    if (fp != cam->fp) {
        cam->fp = fp;
        cam->fp_since = now;
        atomic_store(&cam->still_since, 0);
    } else {
        atomic_store(&cam->still_since, cam->fp_since);
    }
    last = atomic_load(&cam->snapshot_at);
    if (last == 0 || now - last >= cam->conf->s.snapshot_ms * 1000) {
        snapshot(cam, frame, now);
    }
    if (cam->an != NULL) {
        vms_analysis_submit(cam->an, frame, vms_now_us());
    }
}

static void
decode_keyframe(vms_camera_t *cam, AVCodecContext *dec, AVFrame *frame,
    const AVPacket *pkt, int64_t now)
{
    int rc = avcodec_send_packet(dec, pkt);

    if (rc < 0 && rc != AVERROR(EAGAIN)) {
        vms_log_debug(cam->id, "keyframe decode: %s", av_err2str(rc));
        return;
    }
    while ((rc = avcodec_receive_frame(dec, frame)) >= 0) {
        atomic_fetch_add(&cam->keyframes, 1);
        on_frame(cam, frame, now);
        av_frame_unref(frame);
    }
}

/* ---- one connection --------------------------------------------------- */

typedef struct {
    int  connected;        /* packets flowed */
    int  restarted;        /* ended by the watchdog */
} session_t;

static void
on_connected(vms_camera_t *cam, int64_t lost_at, int64_t now)
{
    vms_backoff_connected(&cam->backoff, now / 1000);
    if (lost_at != 0) {
        vms_series_add(cam->s_reconnect_ok, 1);
        vms_series_observe(cam->s_duration, (double) (now - lost_at) / 1e6);
    }
    if (!cam->online_announced) {
        cam->online_announced = 1;
        vms_event_emit(vms_events_topic(), "camera.online", cam->id, NULL,
                       NULL);
        vms_log_info(cam->id, "online");
    } else {
        vms_log_info(cam->id, "reconnected after %lld ms",
                     (long long) ((now - lost_at) / 1000));
    }
    set_state(cam, VMS_CAM_STREAMING);
}

/* template with every %id replaced by the camera id */
static void
expand_id(const char *tmpl, const char *id, char *out, size_t len)
{
    size_t o = 0, idl = strlen(id);

    while (*tmpl && o + 1 < len) {
        if (tmpl[0] == '%' && tmpl[1] == 'i' && tmpl[2] == 'd') {
            if (o + idl >= len) {
                break;
            }
            memcpy(out + o, id, idl);
            o += idl;
            tmpl += 3;
        } else {
            out[o++] = *tmpl++;
        }
    }
    out[o] = '\0';
}

static AVCodecContext *
open_decoder(vms_camera_t *cam, AVFormatContext *fmt, int *vidx)
{
    const AVCodec   *codec = NULL;
    AVCodecContext  *dec;
    int              rc;

    *vidx = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (*vidx < 0 || codec == NULL) {
        set_error(cam, "no decodable video stream");
        return NULL;
    }
    dec = avcodec_alloc_context3(codec);
    if (dec == NULL) {
        return NULL;
    }
    avcodec_parameters_to_context(dec, fmt->streams[*vidx]->codecpar);
    dec->skip_frame = AVDISCARD_NONKEY;
    dec->thread_count = 1;
    dec->flags |= AV_CODEC_FLAG_LOW_DELAY;
    rc = avcodec_open2(dec, codec, NULL);
    if (rc < 0) {
        set_error(cam, "cannot open the %s decoder: %s", codec->name,
                  av_err2str(rc));
        avcodec_free_context(&dec);
        return NULL;
    }
    return dec;
}

static void
run_session(vms_camera_t *cam, int64_t *lost_at, session_t *s)
{
    const vms_cam_settings_t *cs = &cam->conf->s;
    AVFormatContext    *fmt = NULL;
    AVCodecContext     *dec = NULL;
    AVDictionary       *opts = NULL;
    AVPacket           *pkt = NULL;
    AVFrame            *frame = NULL;
    vms_recorder_t     *rec = NULL;
    vms_relay_t        *relay = NULL;
    vms_recorder_conf_t rconf;
    int64_t             now, backstop, next_rec_try = 0, next_decode = 0;
    int64_t             decode_every;
    char                num[32], redacted[1024];
    int                 rc, vidx = -1;

    memset(s, 0, sizeof(*s));
    atomic_store(&cam->restart, RESTART_NONE);
    /* still content is judged within one connection */
    cam->fp = 0;
    atomic_store(&cam->still_since, 0);
    vms_url_redact(cam->conf->url, redacted, sizeof(redacted));
    /* a frozen connection is the watchdog's to end (stream.frozen); this
     * backstop only guarantees that no read waits forever */
    backstop = (cs->frozen_ms + 2 * cs->watchdog_ms) * 1000;
    /* decoding is the costly part of a camera: without analysis (which
     * takes every keyframe and samples itself) decode only as often as
     * snapshots and the still watchdog (4 samples per still_timeout) need */
    decode_every = cs->still_ms * 1000 / 4;
    if (cs->snapshot_ms * 1000 < decode_every) {
        decode_every = cs->snapshot_ms * 1000;
    }

    fmt = avformat_alloc_context();
    pkt = av_packet_alloc();
    frame = av_frame_alloc();
    if (fmt == NULL || pkt == NULL || frame == NULL) {
        set_error(cam, "out of memory");
        goto done;
    }
    fmt->interrupt_callback.callback = interrupt_cb;
    fmt->interrupt_callback.opaque = cam;
    av_dict_set(&opts, "rtsp_transport", "tcp", 0);
    snprintf(num, sizeof(num), "%lld", (long long) cs->io_timeout_ms * 1000);
    av_dict_set(&opts, "timeout", num, 0);
    av_dict_set(&opts, "analyzeduration", "2000000", 0);
    av_dict_set(&opts, "probesize", "2000000", 0);

    atomic_store(&cam->deadline, vms_mono_us() + cs->io_timeout_ms * 1000);
    rc = avformat_open_input(&fmt, cam->conf->url, NULL, &opts);
    av_dict_free(&opts);
    if (rc < 0) {
        if (atomic_load(&cam->stop)) {
            goto done;
        }
        if (vms_mono_us() > atomic_load(&cam->deadline)) {
            set_error(cam, "RTSP connect to %s timed out after %lld ms",
                      redacted, (long long) cs->io_timeout_ms);
        } else {
            set_error(cam, "RTSP connect to %s failed: %s", redacted,
                      av_err2str(rc));
        }
        goto done;
    }
    rc = avformat_find_stream_info(fmt, NULL);
    if (rc < 0) {
        if (vms_mono_us() > atomic_load(&cam->deadline)) {
            set_error(cam, "no stream information from %s within %lld ms",
                      redacted, (long long) cs->io_timeout_ms);
        } else {
            set_error(cam, "no stream information from %s: %s", redacted,
                      av_err2str(rc));
        }
        goto done;
    }
    dec = open_decoder(cam, fmt, &vidx);
    if (dec == NULL) {
        goto done;
    }
    if (cam->an == NULL && decode_every >= 2000000) {
        avcodec_free_context(&dec);
    }
    if (cs->relay[0] != '\0') {
        char url[VMS_PATH_TEMPLATE_MAX * 2];
        expand_id(cs->relay, cam->id, url, sizeof(url));
        relay = vms_relay_start(cam->id, url, reg.relay_key, reg.relay_keylen,
                                fmt, cs->io_timeout_ms);
    }
    now = vms_mono_us();
    atomic_store(&cam->last_frame, now);
    atomic_store(&cam->deadline, now + backstop);

    rconf.camera_id = cam->id;
    rconf.root = reg.root;
    rconf.path_template = cs->path_template;
    rconf.segment_us = cs->segment_ms * 1000;
    rconf.fragment_us = cs->fragment_ms * 1000;
    rconf.on_segment_closed = segment_closed;
    rconf.data = cam;

    for (;;) {
        int want, is_video, is_key;

        rc = av_read_frame(fmt, pkt);
        if (rc < 0) {
            if (atomic_load(&cam->restart)) {
                s->restarted = 1;
            } else if (!atomic_load(&cam->stop)) {
                set_error(cam, "%s", rc == AVERROR_EOF ? "stream ended"
                          : rc == AVERROR_EXIT ? "no data (timed out)"
                          : av_err2str(rc));
            }
            break;
        }
        now = vms_mono_us();
        atomic_store(&cam->deadline, now + backstop);
        atomic_fetch_add(&cam->packets, 1);
        atomic_fetch_add(&cam->bytes, (uint64_t) pkt->size);
        is_video = pkt->stream_index == vidx;
        is_key = is_video && (pkt->flags & AV_PKT_FLAG_KEY);

        if (!s->connected) {
            s->connected = 1;
            on_connected(cam, *lost_at, now);
            *lost_at = 0;
        }
        if (is_video) {
            atomic_fetch_add(&cam->frames, 1);
            atomic_store(&cam->last_frame, now);
        }
        vms_backoff_tick(&cam->backoff, &cam->conf->s.backoff, now / 1000);

        want = atomic_load(&cam->record_wanted);
        if (want && rec == NULL && is_key && now >= next_rec_try) {
            /* the recorder starts at a keyframe; its anchor is the wall
             * time of the first packet it receives */
            rec = vms_recorder_open(&rconf, fmt, vms_now_us());
            if (rec == NULL) {
                next_rec_try = now + RECORDER_RETRY_US;
                vms_series_add(cam->s_errors, 1);
            } else {
                atomic_store(&cam->recording, 1);
                vms_log_info(cam->id, "recording");
            }
        } else if (!want && rec != NULL) {
            vms_recorder_close(rec);
            rec = NULL;
            atomic_store(&cam->recording, 0);
            vms_log_info(cam->id, "recording stopped");
        }
        if (rec != NULL && vms_recorder_write(rec, pkt) < 0) {
            vms_recorder_close(rec);
            rec = NULL;
            atomic_store(&cam->recording, 0);
            next_rec_try = now + RECORDER_RETRY_US;
            vms_series_add(cam->s_errors, 1);
        }
        vms_relay_packet(relay, pkt);
        if (is_key && (cam->an != NULL || now >= next_decode)) {
            if (dec == NULL) {
                /* seconds apart: a decoder per keyframe costs less than
                 * keeping its frame pool (~2 MB) for every camera */
                AVCodecContext *once = open_decoder(cam, fmt, &vidx);
                if (once != NULL) {
                    decode_keyframe(cam, once, frame, pkt, now);
                    avcodec_free_context(&once);
                }
            } else {
                decode_keyframe(cam, dec, frame, pkt, now);
            }
            next_decode = now + decode_every;
        }
        av_packet_unref(pkt);
        if (atomic_load(&cam->stop)) {
            break;
        }
    }

done:
    atomic_store(&cam->deadline, 0);
    vms_relay_stop(relay);
    if (rec != NULL) {
        vms_recorder_close(rec);
        atomic_store(&cam->recording, 0);
    }
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    av_frame_free(&frame);
    av_packet_free(&pkt);
}

/* ---- the camera thread ------------------------------------------------ */

static void
go_offline(vms_camera_t *cam)
{
    char err[256];
    vms_buf_t e = {0};

    pthread_mutex_lock(&cam->lock);
    snprintf(err, sizeof(err), "%s", cam->last_error);
    pthread_mutex_unlock(&cam->lock);
    vms_buf_json_str(&e, err);
    set_state(cam, VMS_CAM_OFFLINE);
    cam->online_announced = 0;
    vms_event_emit(vms_events_topic(), "camera.offline", cam->id, NULL,
                   "\"attempts\":%d,\"error\":%s",
                   cam->conf->s.backoff.max_attempts, e.p ? e.p : "\"\"");
    vms_log(VMS_LOG_WARN, cam->id, NULL, "offline after %d failed attempts;"
            " probing every %lld ms", cam->conf->s.backoff.max_attempts,
            (long long) cam->conf->s.probe_ms);
    vms_buf_free(&e);
}

static void *
camera_thread(void *arg)
{
    vms_camera_t             *cam = arg;
    const vms_cam_settings_t *cs = &cam->conf->s;
    int64_t                   lost_at = 0, delay = 0;
    session_t                 s;
    char                      why[256], fields[128];
    int                       offline = 0;

    vms_backoff_init(&cam->backoff);
    {
        /* before recording: complete what a crash left open, index files
         * the index lacks (on this camera's thread: it stalls no other) */
        vms_reconcile_stats_t rs;
        memset(&rs, 0, sizeof(rs));
        if (vms_reconcile_camera(reg.root, cam->id, cs->path_template,
                                 VMS_RECONCILE_ORPHANS, &rs) == 0
            && (rs.removed || rs.indexed || rs.deleted || rs.failed))
        {
            vms_log_info(cam->id, "reconciled: %u indexed (%u truncated),"
                         " %u vanished entries removed, %u unplayable files"
                         " deleted, %u failed", rs.indexed, rs.truncated,
                         rs.removed, rs.deleted, rs.failed);
        }
    }
    cam->an = vms_analysis_start(cam->id, cam->conf->analysis);
    set_state(cam, VMS_CAM_CONNECTING);

    while (!atomic_load(&cam->stop)) {
        if (offline) {
            int r;
            if (nap(cam, cs->probe_ms)) {
                break;
            }
            r = vms_rtsp_probe(cam->conf->url, cs->io_timeout_ms, &cam->stop,
                               why, sizeof(why));
            if (r == 0) {
                vms_series_add(cam->s_reconnect_fail, 1);
                vms_log(VMS_LOG_DEBUG, cam->id, "\"probe\":\"down\"",
                        "probe: %s", why);
                continue;
            }
            vms_log(VMS_LOG_INFO, cam->id, "\"probe\":\"up\"",
                    "probe: %s; connecting", r > 0 ? why : "full connect");
        }

        run_session(cam, &lost_at, &s);
        if (atomic_load(&cam->stop)) {
            break;
        }
        if (s.connected) {
            lost_at = vms_mono_us();
            offline = 0;
            if (!s.restarted) {
                vms_log(VMS_LOG_WARN, cam->id, NULL, "stream lost: %s",
                        cam->last_error);
            }
        } else {
            if (lost_at == 0) {
                lost_at = vms_mono_us();       /* never connected yet */
            }
            vms_series_add(cam->s_reconnect_fail, 1);
        }
        vms_series_add(cam->s_errors, 1);

        switch (vms_backoff_failed(&cam->backoff, &cs->backoff,
                                   vms_mono_us() / 1000, rnd32(), &delay))
        {
        case VMS_BACKOFF_RETRY:
            atomic_store(&cam->failures, cam->backoff.failures);
            if (atomic_load(&cam->state) != VMS_CAM_CONNECTING) {
                set_state(cam, VMS_CAM_RECONNECTING);
            }
            if (s.restarted && cam->backoff.failures == 1) {
                delay = 0;             /* the watchdog restart is immediate */
            }
            snprintf(fields, sizeof(fields),
                     "\"attempt\":%d,\"max_attempts\":%d,\"delay_ms\":%lld",
                     cam->backoff.failures, cs->backoff.max_attempts,
                     (long long) delay);
            vms_log(VMS_LOG_INFO, cam->id, fields,
                    "reconnect attempt %d of %d in %lld ms (%s)",
                    cam->backoff.failures, cs->backoff.max_attempts,
                    (long long) delay, cam->last_error);
            if (nap(cam, delay)) {
                goto out;
            }
            break;
        case VMS_BACKOFF_OFFLINE:
            atomic_store(&cam->failures, cam->backoff.failures);
            offline = 1;
            go_offline(cam);
            break;
        case VMS_BACKOFF_PROBE:
            offline = 1;
            if (atomic_load(&cam->state) != VMS_CAM_OFFLINE) {
                go_offline(cam);
            }
            break;
        }
    }
out:
    if (cam->an != NULL) {
        vms_analysis_stop(cam->an);
        cam->an = NULL;
    }
    atomic_store(&cam->state, VMS_CAM_STOPPED);
    return NULL;
}

/* ---- registry, API, metrics ------------------------------------------- */

static void
collect(vms_buf_t *out, void *data)
{
    vms_camera_t  *cam;
    int            active = 0;
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

    pthread_mutex_lock(&reg.lock);
    for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
        vms_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", fams[i].name,
                       fams[i].help, fams[i].name,
                       fams[i].which >= 4 ? "gauge" : "counter");
        for (cam = reg.list; cam != NULL; cam = cam->next) {
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
    for (cam = reg.list; cam != NULL; cam = cam->next) {
        active += atomic_load(&cam->state) == VMS_CAM_STREAMING;
    }
    pthread_mutex_unlock(&reg.lock);
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
        && fmt->interrupt_callback.callback == interrupt_cb)
    {
        return ((vms_camera_t *) fmt->interrupt_callback.opaque)->id;
    }
    return NULL;
}

void
vms_cameras_init(const char *recordings_root, const char *relay_secret)
{
    vms_log_ffmpeg_camera(ffmpeg_camera_of);
    reg.root = strdup(recordings_root);
    if (relay_secret != NULL) {
        reg.relay_key = (unsigned char *) strdup(relay_secret);
        reg.relay_keylen = strlen(relay_secret);
    }
    reg.m_reconnect = vms_metric_new("vms_camera_reconnect_total",
        "Reconnection attempts by outcome", VMS_COUNTER, NULL, 0);
    reg.m_duration = vms_metric_new("vms_reconnect_duration_seconds",
        "Time from losing a stream to streaming again", VMS_HISTOGRAM,
        duration_buckets, sizeof(duration_buckets) / sizeof(double));
    reg.m_errors = vms_metric_new("vms_stream_errors_total",
        "Stream failures (lost connections, failed connects, recorder"
        " errors)", VMS_COUNTER, NULL, 0);
    reg.m_frozen = vms_metric_new("vms_stream_frozen_total",
        "Frozen streams detected by the watchdog", VMS_COUNTER, NULL, 0);
    reg.m_snapshots = vms_metric_new("vms_snapshots_total",
        "Snapshots taken", VMS_COUNTER, NULL, 0);
    vms_metrics_register_collector(collect, NULL);
}

vms_camera_t *
vms_camera_start(vms_camera_conf_t *cc)
{
    vms_camera_t  *cam;
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
    snprintf(cam->dir, sizeof(cam->dir), "%s/%s", reg.root, cc->id);
    rc = vms_mkdir_p(cam->dir, 0755);
    if (rc != 0) {
        vms_log_error(cc->id, "cannot create %s: %s", cam->dir, strerror(-rc));
    }

    vms_metric_labels(l, sizeof(l), "camera_id", cc->id, "status", "success",
                      NULL);
    cam->s_reconnect_ok = vms_metric_series(reg.m_reconnect, l);
    vms_metric_labels(l, sizeof(l), "camera_id", cc->id, "status", "failure",
                      NULL);
    cam->s_reconnect_fail = vms_metric_series(reg.m_reconnect, l);
    vms_metric_labels(l, sizeof(l), "camera_id", cc->id, NULL);
    cam->s_duration = vms_metric_series(reg.m_duration, l);
    cam->s_errors = vms_metric_series(reg.m_errors, l);
    cam->s_snapshots = vms_metric_series(reg.m_snapshots, l);
    vms_metric_labels(l, sizeof(l), "camera_id", cc->id, "reason",
                      "no_frames", NULL);
    cam->s_frozen_nf = vms_metric_series(reg.m_frozen, l);
    vms_metric_labels(l, sizeof(l), "camera_id", cc->id, "reason", "still",
                      NULL);
    cam->s_frozen_still = vms_metric_series(reg.m_frozen, l);

    if (pthread_create(&cam->thread, NULL, camera_thread, cam) != 0) {
        vms_log_error(cc->id, "cannot start its thread");
        pthread_mutex_destroy(&cam->lock);
        vms_camera_conf_free(cc);
        free(cam);
        return NULL;
    }
    pthread_mutex_lock(&reg.lock);
    cam->next = reg.list;
    reg.list = cam;
    pthread_mutex_unlock(&reg.lock);
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

    pthread_mutex_lock(&reg.lock);
    for (pp = &reg.list; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == cam) {
            *pp = cam->next;
            break;
        }
    }
    pthread_mutex_unlock(&reg.lock);

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

    pthread_mutex_lock(&reg.lock);
    for (cam = reg.list; cam != NULL; cam = cam->next) {
        fn(cam, data);
    }
    pthread_mutex_unlock(&reg.lock);
}

void
vms_camera_status(vms_camera_t *cam, vms_camera_status_t *st)
{
    int64_t now = vms_mono_us(), t;
    int     s = atomic_load(&cam->state);

    memset(st, 0, sizeof(*st));
    snprintf(st->id, sizeof(st->id), "%s", cam->id);
    st->state = s < 0 ? VMS_CAM_CONNECTING : (vms_cam_state_e) s;
    st->state_name = state_names[st->state];
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
    st->still = atomic_load(&cam->still_since) != 0
                && now - atomic_load(&cam->still_since)
                   >= cam->conf->s.still_ms * 1000;
    pthread_mutex_lock(&cam->lock);
    snprintf(st->last_error, sizeof(st->last_error), "%s", cam->last_error);
    pthread_mutex_unlock(&cam->lock);
}

int
vms_camera_set_record(const char *id, int on, vms_camera_status_t *st)
{
    vms_camera_t *cam;
    int           rc = -1;

    pthread_mutex_lock(&reg.lock);
    for (cam = reg.list; cam != NULL; cam = cam->next) {
        if (strcmp(cam->id, id) == 0) {
            if (atomic_exchange(&cam->record_wanted, on) != on) {
                vms_log_info(cam->id, "recording %s requested through the"
                             " API", on ? "start" : "stop");
            }
            vms_camera_status(cam, st);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&reg.lock);
    return rc;
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
