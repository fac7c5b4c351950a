#include "camera.h"
#include "camera_impl.h"
#include "analysis.h"
#include "events.h"
#include "log.h"
#include "metrics.h"
#include "probe.h"
#include "reconcile.h"
#include "relay.h"
#include "recorder.h"
#include "state.h"
#include "keysize.h"
#include "snapshot.h"
#include "sockbuf.h"
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
    if (atomic_exchange(&cam->state, (int) st) == (int) st) {
        return;
    }
    vms_state_camera_status(cam->id, vms_camera_state_names[st]);
}

static int nap(vms_camera_t *cam, int64_t ms);

/*
 * First connects are paced process-wide, one every CONNECT_SPACING_US: a
 * node that starts (or is assigned) 64 cameras at once does not open 64
 * RTSP sessions and probe 64 streams in the same second on a loaded
 * machine; 64 cameras start within 3.2 s.  Reconnects are spread by the
 * backoff's jitter instead.  Returns 1 when asked to stop meanwhile.
 */
#define CONNECT_SPACING_US  (50 * 1000)

static _Atomic int64_t  next_connect_us;

static int
connect_slot(vms_camera_t *cam)
{
    int64_t now = vms_mono_us(), slot = atomic_load(&next_connect_us), at;

    do {
        at = slot > now ? slot : now;
    } while (!atomic_compare_exchange_weak(&next_connect_us, &slot,
                                           at + CONNECT_SPACING_US));
    return at > now ? nap(cam, (at - now + 999) / 1000) : 0;
}

/* Sleeps up to ms in small steps; returns 1 when asked to stop.  While the
 * camera is not streaming the last snapshot's TTL is kept alive. */
static int
nap(vms_camera_t *cam, int64_t ms)
{
    int64_t  until = vms_mono_us() + ms * 1000;
    int64_t  ttl = cam->conf->s.snapshot_ttl_ms;

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
                vms_state_snapshot(cam->id, cam->jpeg, cam->jpeg_len, ttl);
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

int
vms_camera_interrupt_cb(void *opaque)
{
    vms_camera_t *cam = opaque;
    int64_t       dl;

    if (atomic_load(&cam->stop) || atomic_load(&cam->restart)) {
        return 1;
    }
    /* libavformat asks before every read of the RTSP stream, thousands of
     * times a second per camera: the coarse clock (deadlines are seconds) */
    dl = atomic_load(&cam->deadline);
    return dl != 0 && vms_mono_coarse_us() > dl;
}

/*
 * A record start/stop asked through the API: this thread's lines and events
 * (the closing segment's recording.segment) carry that request's trace id
 * until the change is done (vms_log_trace_set(NULL) after it).
 */
static void
record_trace(vms_camera_t *cam)
{
    char trace[VMS_TRACE_ID_MAX + 1];

    pthread_mutex_lock(&cam->lock);
    snprintf(trace, sizeof(trace), "%s", cam->record_trace);
    pthread_mutex_unlock(&cam->lock);
    vms_log_trace_set(trace[0] != '\0' ? trace : NULL);
}

/* ---- recorder callback ------------------------------------------------ */

static void
segment_closed(const vms_segment_info_t *seg, void *data)
{
    vms_camera_t  *cam = data;
    char           start[40], end[40], bytes[32];
    vms_buf_t      path = {0};

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

    /* only the camera's recorder thread closes its segments */
    if (cam->s_segment_end == NULL) {
        char l[128];

        vms_metric_labels(l, sizeof(l), "camera_id", cam->id, NULL);
        cam->s_segment_end = vms_metric_series(vms_camreg.m_segment_end, l);
    }
    vms_series_set(cam->s_segment_end,
                   (double) (seg->start_us + seg->duration_us) / 1e6);

    vms_state_recording_row(cam->id, start, end, seg->path, bytes);
}

/* ---- decoded keyframes ------------------------------------------------ */

static void
snapshot(vms_camera_t *cam, const AVFrame *frame, int64_t now)
{
    uint8_t  *jpeg;
    size_t    len;
    char      path[4200];
    int       rc;

    rc = vms_jpeg_encode(frame, (int) cam->conf->s.snapshot_width, &jpeg, &len);
    if (rc < 0) {
        vms_log_warn(cam->id, "snapshot: JPEG encoding failed: %s",
                     av_err2str(rc));
        return;
    }
    /* the file first: whoever sees the Redis key finds the file too; in
     * the shared tree only while this node holds the camera (fence.h) */
    if (!vms_fence_pass(cam->conf->fence)) {
        av_free(jpeg);
        return;
    }
    snprintf(path, sizeof(path), "%s/latest.jpg", cam->dir);
    rc = vms_write_file_atomic(path, jpeg, len);
    if (rc != 0) {
        vms_log_warn(cam->id, "snapshot: cannot write %s: %s", path,
                     strerror(-rc));
    }
    vms_state_snapshot(cam->id, jpeg, len, cam->conf->s.snapshot_ttl_ms);
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

/* Analysis settings changed on the running camera (vms_camera_set_analysis). */
static void
analysis_swap(vms_camera_t *cam)
{
    vms_analysis_conf_t *next = atomic_exchange(&cam->an_swap, NULL);

    if (next == NULL) {
        return;
    }
    if (cam->an != NULL) {
        vms_analysis_stop(cam->an);
    }
    vms_analysis_conf_free(cam->conf->analysis);
    cam->conf->analysis = next;
    cam->an = vms_analysis_start(cam->id, next);
    vms_log_info(cam->id, "analysis settings applied to the running camera");
}

static int
snapshot_due(vms_camera_t *cam, int64_t now)
{
    int64_t last = atomic_load(&cam->snapshot_at);

    return last == 0 || now - last >= cam->conf->s.snapshot_ms * 1000;
}

/* The still watchdog's look at a keyframe, every still_timeout/4: 1 when
 * its picture may be the last look's (decode and compare pixels), 0 when its
 * coded size shows another picture (keysize.h), which costs no decode. */
static int
still_look(vms_camera_t *cam, const AVCodecParameters *par,
    const AVPacket *pkt, int64_t now)
{
    vms_keysize_codec_t  codec;
    vms_keysize_t        ks;

    codec = par->codec_id == AV_CODEC_ID_H264 ? VMS_KEYSIZE_H264
          : par->codec_id == AV_CODEC_ID_HEVC ? VMS_KEYSIZE_H265
          : VMS_KEYSIZE_OTHER;
    if (vms_keysize(codec, par->extradata,
                    par->extradata_size > 0 ? (size_t) par->extradata_size : 0,
                    pkt->data, (size_t) pkt->size, &ks) != 0)
    {
        return 1;
    }
    if (vms_keysize_may_match(&cam->keysize, &ks)) {
        cam->keysize = ks;
        return 1;
    }
    /* another picture: whatever was decoded before is not this one */
    cam->keysize = ks;
    cam->keysize_since = now;
    cam->fp = 0;
    atomic_store(&cam->still_since, 0);
    return 0;
}

static void
on_frame(vms_camera_t *cam, const AVFrame *frame, int64_t now, int snap)
{
    uint64_t  fp = vms_fingerprint(frame);

    analysis_swap(cam);
    if (cam->fp == 0) {
        /* first decode since the coded size changed: this picture has
         * shown since the keyframe that first had that size */
        cam->fp = fp;
        cam->fp_since = cam->keysize.slices != 0 ? cam->keysize_since : now;
        atomic_store(&cam->still_since, 0);
    } else if (fp != cam->fp) {
        cam->fp = fp;
        cam->fp_since = now;
        atomic_store(&cam->still_since, 0);
    } else {
        atomic_store(&cam->still_since, cam->fp_since);
    }
    if (snap || snapshot_due(cam, now)) {
        snapshot(cam, frame, now);
    }
    if (cam->an != NULL) {
        vms_analysis_submit(cam->an, frame, vms_now_us());
    }
}

static void
decode_keyframe(vms_camera_t *cam, AVCodecContext *dec, AVFrame *frame,
    const AVPacket *pkt, int64_t now, int snap)
{
    int rc = avcodec_send_packet(dec, pkt);

    if (rc < 0 && rc != AVERROR(EAGAIN)) {
        vms_log_debug(cam->id, "keyframe decode: %s", av_err2str(rc));
        return;
    }
    while ((rc = avcodec_receive_frame(dec, frame)) >= 0) {
        atomic_fetch_add(&cam->keyframes, 1);
        on_frame(cam, frame, now, snap);
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
    int64_t             now, backstop, next_rec_try = 0, next_still = 0;
    int64_t             still_every;
    int                 first_key = 1;
    char                num[32], redacted[1024];
    int                 rc, vidx = -1;

    memset(s, 0, sizeof(*s));
    atomic_store(&cam->restart, RESTART_NONE);
    /* still content is judged within one connection */
    cam->fp = 0;
    memset(&cam->keysize, 0, sizeof(cam->keysize));
    atomic_store(&cam->still_since, 0);
    vms_url_redact(cam->conf->url, redacted, sizeof(redacted));
    /* a frozen connection is the watchdog's to end (stream.frozen); this
     * backstop only guarantees that no read waits forever */
    backstop = (cs->frozen_ms + 2 * cs->watchdog_ms) * 1000;
    /* decoding is the costly part of a camera: without analysis (which
     * takes every keyframe and samples itself) a keyframe is decoded for
     * the connection's first snapshot, then once a snapshot_interval, and
     * for the still watchdog, which looks 4 times a still_timeout but
     * decodes only a keyframe whose coded picture repeats (still_look) */
    still_every = cs->still_ms * 1000 / 4;

    fmt = avformat_alloc_context();
    pkt = av_packet_alloc();
    frame = av_frame_alloc();
    if (fmt == NULL || pkt == NULL || frame == NULL) {
        set_error(cam, "out of memory");
        goto done;
    }
    fmt->interrupt_callback.callback = vms_camera_interrupt_cb;
    fmt->interrupt_callback.opaque = cam;
    av_dict_set(&opts, "rtsp_transport", "tcp", 0);
    snprintf(num, sizeof(num), "%lld", (long long) cs->io_timeout_ms * 1000);
    av_dict_set(&opts, "timeout", num, 0);
    av_dict_set(&opts, "analyzeduration", "2000000", 0);
    av_dict_set(&opts, "probesize", "2000000", 0);

    atomic_store(&cam->deadline, vms_mono_us() + cs->io_timeout_ms * 1000);
    /* RTSP's TCP stream read through a buffer: one recv() per burst of
     * packets instead of three poll()s and recv()s per packet (sockbuf.h) */
    vms_sockbuf_begin();
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
    if (cam->an == NULL && still_every >= 2000000
        && cs->snapshot_ms >= 2000)
    {
        avcodec_free_context(&dec);
    }
    if (cs->relay[0] != '\0') {
        char url[VMS_PATH_TEMPLATE_MAX * 2];
        expand_id(cs->relay, cam->id, url, sizeof(url));
        relay = vms_relay_start(cam->id, url, vms_camreg.relay_key, vms_camreg.relay_keylen,
                                fmt, cs->io_timeout_ms);
    }
    now = vms_mono_us();
    atomic_store(&cam->last_frame, now);
    atomic_store(&cam->deadline, now + backstop);

    /* whole-struct assignment: every field not named is zero (clock NULL:
     * the real wall clock), also fields the recorder gains later; set one
     * by one, a new field was stack garbage (a reused thread stack made it
     * a call through a wild pointer, pc 0x2b, after a SIGHUP reload) */
    rconf = (vms_recorder_conf_t) {
        .camera_id = cam->id,
        .root = vms_camreg.root,
        .path_template = cs->path_template,
        .segment_us = cs->segment_ms * 1000,
        .fragment_us = cs->fragment_ms * 1000,
        .on_segment_closed = segment_closed,
        .data = cam,
        .fence = cam->conf->fence,
    };

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
            atomic_store(&cam->frame_wall, vms_now_us());
        }
        vms_backoff_tick(&cam->backoff, &cam->conf->s.backoff, now / 1000);

        want = atomic_load(&cam->record_wanted);
        if (want != (rec != NULL)) {
            record_trace(cam);
        }
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
        if (vms_log_trace() != NULL && want == (rec != NULL)) {
            /* carried out: a later reconnect's recorder is not this
             * request's doing */
            pthread_mutex_lock(&cam->lock);
            if (strcmp(cam->record_trace, vms_log_trace()) == 0) {
                cam->record_trace[0] = '\0';   /* not a newer request's */
            }
            pthread_mutex_unlock(&cam->lock);
        }
        vms_log_trace_set(NULL);
        if (rec != NULL && vms_recorder_write(rec, pkt) < 0) {
            vms_recorder_close(rec);
            rec = NULL;
            atomic_store(&cam->recording, 0);
            next_rec_try = now + RECORDER_RETRY_US;
            vms_series_add(cam->s_errors, 1);
        }
        vms_relay_packet(relay, pkt);
        if (is_key) {
            int decode;

            /* analysis switched on for the running camera decodes from
             * this keyframe on, not from the next snapshot */
            analysis_swap(cam);
            decode = cam->an != NULL || first_key || snapshot_due(cam, now);

            if (now >= next_still) {
                next_still = now + still_every;
                decode |= still_look(cam,
                              fmt->streams[pkt->stream_index]->codecpar,
                              pkt, now);
            }
            if (decode && dec == NULL) {
                /* seconds apart: a decoder per keyframe costs less than
                 * keeping its frame pool (~2 MB) for every camera */
                AVCodecContext *once = open_decoder(cam, fmt, &vidx);
                if (once != NULL) {
                    decode_keyframe(cam, once, frame, pkt, now, first_key);
                    avcodec_free_context(&once);
                }
            } else if (decode) {
                decode_keyframe(cam, dec, frame, pkt, now, first_key);
            }
            first_key = 0;
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
    vms_sockbuf_end();
    vms_sockbuf_release();
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

void *
vms_camera_thread(void *arg)
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
        if (vms_reconcile_camera(vms_camreg.root, cam->id, cs->path_template,
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
    connect_slot(cam);                   /* the loop below sees a stop */

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
    {
        vms_analysis_conf_t *pending = atomic_exchange(&cam->an_swap, NULL);
        if (pending != NULL) {
            vms_analysis_conf_free(pending);
        }
    }
    set_state(cam, VMS_CAM_STOPPED);     /* Redis: not "online" while nobody watches */
    return NULL;
}
