#include "relay.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_MAX  256

struct vms_relay_s {
    char             id[VMS_CAMERA_ID_MAX + 1];
    char            *url;
    unsigned char   *key;
    size_t           keylen;
    int64_t          io_timeout_us;
    pthread_t        thread;
    atomic_int       stop;
    _Atomic int64_t  deadline;

    /* input streams -> output stream index (-1: not relayed) */
    int              nin;
    int             *map;
    AVCodecParameters **par;        /* of relayed input streams */
    AVRational      *tb;            /* input time bases */
    int              vin;           /* input index of the video stream */

    pthread_mutex_t  lock;
    pthread_cond_t   cond;
    AVPacket        *q[QUEUE_MAX];
    int              head, n;
    int              resync;        /* drop until the next video keyframe */
    atomic_int       lost;          /* a packet was dropped without the lock */
    atomic_int       up;            /* connected: only then queue packets */

    vms_series_t    *s_up, *s_dropped, *s_reconnects;
};

static void
b64url(const unsigned char *in, size_t n, char *out)
{
    static const char t[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
        out[o++] = t[v >> 18];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = t[(v >> 6) & 63];
        out[o++] = t[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t) in[i] << 16;
        out[o++] = t[v >> 18];
        out[o++] = t[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8;
        out[o++] = t[v >> 18];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = t[(v >> 6) & 63];
    }
    out[o] = '\0';
}

int
vms_relay_token(const unsigned char *key, size_t keylen, const char *camera_id,
    int64_t now_s, int64_t ttl_s, char *out, size_t outlen)
{
    char           payload[256], enc[400], input[600];
    unsigned char  mac[EVP_MAX_MD_SIZE];
    unsigned int   maclen = 0;
    int            n;

    /* as short as it can be: nginx-rtmp cuts the query at ~244 bytes */
    n = snprintf(payload, sizeof(payload),
                 "{\"camera_id\":\"%s\",\"permissions\":\"publish\","
                 "\"exp\":%lld}", camera_id, (long long) (now_s + ttl_s));
    if (n < 0 || (size_t) n >= sizeof(payload)) {
        return -1;
    }
    b64url((const unsigned char *) payload, (size_t) n, enc);
    /* {"alg":"HS256"} */
    n = snprintf(input, sizeof(input), "eyJhbGciOiJIUzI1NiJ9.%s", enc);
    if (n < 0 || (size_t) n >= sizeof(input)) {
        return -1;
    }
    if (HMAC(EVP_sha256(), key, (int) keylen, (const unsigned char *) input,
             (size_t) n, mac, &maclen) == NULL)
    {
        return -1;
    }
    b64url(mac, maclen, enc);
    n = snprintf(out, outlen, "%s.%s", input, enc);
    return n < 0 || (size_t) n >= outlen ? -1 : 0;
}

static int
interrupt_cb(void *opaque)
{
    vms_relay_t *r = opaque;
    int64_t      dl = atomic_load(&r->deadline);

    return atomic_load(&r->stop) || (dl != 0 && vms_mono_us() > dl);
}

static void
queue_clear(vms_relay_t *r)
{
    while (r->n > 0) {
        av_packet_free(&r->q[r->head]);
        r->head = (r->head + 1) % QUEUE_MAX;
        r->n--;
    }
}

void
vms_relay_packet(vms_relay_t *r, const AVPacket *pkt)
{
    AVPacket *ref;
    int       key;

    if (r == NULL || pkt->stream_index >= r->nin
        || r->map[pkt->stream_index] < 0 || !atomic_load(&r->up))
    {
        return;
    }
    key = pkt->stream_index == r->vin && (pkt->flags & AV_PKT_FLAG_KEY);
    if (pthread_mutex_trylock(&r->lock) != 0) {
        /* the relay thread holds it only to pop: never wait for it; what
         * follows the lost packet waits for the next keyframe */
        vms_series_add(r->s_dropped, 1);
        atomic_store(&r->lost, 1);
        return;
    }
    if (atomic_exchange(&r->lost, 0)) {
        r->resync = 1;
    }
    if (r->resync && !key) {
        pthread_mutex_unlock(&r->lock);
        return;
    }
    if (r->n == QUEUE_MAX) {
        vms_series_add(r->s_dropped, (double) r->n);
        queue_clear(r);
        r->resync = 1;
        pthread_mutex_unlock(&r->lock);
        return;
    }
    ref = av_packet_clone(pkt);
    if (ref != NULL) {
        r->resync = 0;
        r->q[(r->head + r->n) % QUEUE_MAX] = ref;
        r->n++;
        pthread_cond_signal(&r->cond);
    }
    pthread_mutex_unlock(&r->lock);
}

static AVPacket *
pop(vms_relay_t *r)
{
    AVPacket        *p = NULL;
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 200000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&r->lock);
    if (r->n == 0) {
        pthread_cond_timedwait(&r->cond, &r->lock, &ts);
    }
    if (r->n > 0) {
        p = r->q[r->head];
        r->head = (r->head + 1) % QUEUE_MAX;
        r->n--;
    }
    pthread_mutex_unlock(&r->lock);
    return p;
}

static AVFormatContext *
open_output(vms_relay_t *r, char *why, size_t whylen)
{
    AVFormatContext *out = NULL;
    char             url[2048], token[512];
    int              i, rc;

    snprintf(url, sizeof(url), "%s", r->url);
    if (r->key != NULL) {
        if (vms_relay_token(r->key, r->keylen, r->id, vms_now_us() / 1000000,
                            3600, token, sizeof(token)) != 0)
        {
            snprintf(why, whylen, "cannot mint the publish token");
            return NULL;
        }
        snprintf(url, sizeof(url), "%s%stoken=%s", r->url,
                 strchr(r->url, '?') ? "&" : "?", token);
    }
    rc = avformat_alloc_output_context2(&out, NULL, "flv", NULL);
    if (rc < 0) {
        snprintf(why, whylen, "flv muxer: %s", av_err2str(rc));
        return NULL;
    }
    out->interrupt_callback.callback = interrupt_cb;
    out->interrupt_callback.opaque = r;
    for (i = 0; i < r->nin; i++) {
        AVStream *st;
        if (r->map[i] < 0) {
            continue;
        }
        st = avformat_new_stream(out, NULL);
        if (st == NULL || avcodec_parameters_copy(st->codecpar, r->par[i]) < 0) {
            snprintf(why, whylen, "out of memory");
            goto fail;
        }
        st->codecpar->codec_tag = 0;
        st->time_base = (AVRational) { 1, 1000 };
    }
    atomic_store(&r->deadline, vms_mono_us() + r->io_timeout_us);
    rc = avio_open2(&out->pb, url, AVIO_FLAG_WRITE, &out->interrupt_callback,
                    NULL);
    memset(token, 0, sizeof(token));
    memset(url, 0, sizeof(url));
    if (rc < 0) {
        snprintf(why, whylen, "connect: %s", av_err2str(rc));
        goto fail;
    }
    rc = avformat_write_header(out, NULL);
    if (rc < 0) {
        snprintf(why, whylen, "publish: %s", av_err2str(rc));
        goto fail;
    }
    return out;
fail:
    if (out->pb != NULL) {
        avio_closep(&out->pb);
    }
    avformat_free_context(out);
    return NULL;
}

static void
close_output(vms_relay_t *r, AVFormatContext *out, int clean)
{
    atomic_store(&r->deadline, vms_mono_us() + r->io_timeout_us);
    if (clean) {
        av_write_trailer(out);
    }
    avio_closep(&out->pb);
    avformat_free_context(out);
    atomic_store(&r->deadline, 0);
}

static void *
relay_thread(void *arg)
{
    vms_relay_t      *r = arg;
    AVFormatContext  *out = NULL;
    int64_t           retry_at = 0, delay_ms = 500, origin = AV_NOPTS_VALUE;
    char              why[256];
    int               rc, logged_down = 0;

    while (!atomic_load(&r->stop)) {
        AVPacket *p;

        rc = 0;
        if (out == NULL) {
            if (vms_mono_us() < retry_at) {
                struct timespec ts = { 0, 100000000 };
                nanosleep(&ts, NULL);
                continue;
            }
            out = open_output(r, why, sizeof(why));
            if (out == NULL) {
                if (!atomic_load(&r->stop) && !logged_down) {
                    vms_log_warn(r->id, "relay: %s; retrying", why);
                    logged_down = 1;
                }
                retry_at = vms_mono_us() + delay_ms * 1000;
                delay_ms = delay_ms * 2 > 5000 ? 5000 : delay_ms * 2;
                continue;
            }
            vms_log_info(r->id, "relay: publishing");
            vms_series_set(r->s_up, 1);
            atomic_store(&r->up, 1);
            vms_series_add(r->s_reconnects, 1);
            logged_down = 0;
            delay_ms = 500;
            origin = AV_NOPTS_VALUE;
            /* start the new connection at a keyframe */
            pthread_mutex_lock(&r->lock);
            queue_clear(r);
            r->resync = 1;
            pthread_mutex_unlock(&r->lock);
        }
        p = pop(r);
        if (p == NULL) {
            continue;
        }
        {
            int       in = p->stream_index;
            int64_t   ts = p->dts != AV_NOPTS_VALUE ? p->dts : p->pts;
            if (ts == AV_NOPTS_VALUE) {
                av_packet_free(&p);
                continue;
            }
            ts = av_rescale_q(ts, r->tb[in], AV_TIME_BASE_Q);
            if (origin == AV_NOPTS_VALUE) {
                origin = ts;
            }
            p->stream_index = r->map[in];
            av_packet_rescale_ts(p, r->tb[in],
                                 out->streams[p->stream_index]->time_base);
            {
                int64_t shift = av_rescale_q(origin, AV_TIME_BASE_Q,
                                    out->streams[p->stream_index]->time_base);
                if (p->pts != AV_NOPTS_VALUE) {
                    p->pts -= shift;
                }
                if (p->dts != AV_NOPTS_VALUE) {
                    p->dts -= shift;
                }
            }
            if (p->dts != AV_NOPTS_VALUE && p->dts < 0) {
                av_packet_free(&p);
                continue;
            }
            atomic_store(&r->deadline, vms_mono_us() + r->io_timeout_us);
            rc = av_interleaved_write_frame(out, p);
            atomic_store(&r->deadline, 0);
            av_packet_free(&p);
        }
        if (rc < 0) {
            if (!atomic_load(&r->stop)) {
                vms_log_warn(r->id, "relay: write failed: %s; reconnecting",
                             av_err2str(rc));
            }
            vms_series_set(r->s_up, 0);
            atomic_store(&r->up, 0);
            close_output(r, out, 0);
            out = NULL;
            retry_at = vms_mono_us() + delay_ms * 1000;
        }
    }
    if (out != NULL) {
        close_output(r, out, 1);
    }
    vms_series_set(r->s_up, 0);
    return NULL;
}

/* What start allocated, apart from the streams' parameters. */
static void
relay_free(vms_relay_t *r)
{
    free(r->url);
    free(r->key);
    free(r->map);
    free(r->par);
    free(r->tb);
    free(r);
}

vms_relay_t *
vms_relay_start(const char *camera_id, const char *url,
    const unsigned char *key, size_t keylen, const AVFormatContext *in,
    int64_t io_timeout_ms)
{
    vms_relay_t  *r;
    char          l[160];
    unsigned      i;
    int           nout = 0, have_audio = 0;

    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    snprintf(r->id, sizeof(r->id), "%s", camera_id);
    r->url = strdup(url);
    if (key != NULL && keylen > 0) {
        r->key = malloc(keylen);
        if (r->key == NULL) {
            goto fail;
        }
        memcpy(r->key, key, keylen);
        r->keylen = keylen;
    }
    r->io_timeout_us = io_timeout_ms * 1000;
    r->nin = (int) in->nb_streams;
    r->map = calloc(in->nb_streams + 1, sizeof(int));
    r->par = calloc(in->nb_streams + 1, sizeof(*r->par));
    r->tb = calloc(in->nb_streams + 1, sizeof(AVRational));
    r->vin = -1;
    if (r->url == NULL || r->map == NULL || r->par == NULL || r->tb == NULL) {
        goto fail;
    }
    for (i = 0; i < in->nb_streams; i++) {
        const AVCodecParameters *cp = in->streams[i]->codecpar;
        r->map[i] = -1;
        r->tb[i] = in->streams[i]->time_base;
        if ((cp->codec_id == AV_CODEC_ID_H264 && r->vin < 0)
            || (cp->codec_id == AV_CODEC_ID_AAC && !have_audio))
        {
            if (cp->codec_type == AVMEDIA_TYPE_VIDEO) {
                r->vin = (int) i;
            } else {
                have_audio = 1;
            }
            r->par[i] = (AVCodecParameters *) cp;
            r->map[i] = nout++;
        }
    }
    if (r->vin < 0) {
        vms_log_warn(camera_id, "relay: no H.264 video stream; not relaying");
        goto fail;
    }
    /* keep our own copies: the input may go away before the thread does */
    for (i = 0; i < in->nb_streams; i++) {
        if (r->map[i] >= 0) {
            AVCodecParameters *copy = avcodec_parameters_alloc();
            if (copy == NULL || avcodec_parameters_copy(copy, r->par[i]) < 0) {
                avcodec_parameters_free(&copy);
                r->par[i] = NULL;
                goto fail;
            }
            r->par[i] = copy;
        }
    }
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    r->resync = 1;
    vms_metric_labels(l, sizeof(l), "camera_id", camera_id, NULL);
    r->s_up = vms_metric_series(vms_metric_new("vms_relay_up",
        "1 while the live relay publishes", VMS_GAUGE, NULL, 0), l);
    r->s_dropped = vms_metric_series(vms_metric_new("vms_relay_dropped_total",
        "Packets the live relay dropped to catch up", VMS_COUNTER, NULL, 0), l);
    r->s_reconnects = vms_metric_series(vms_metric_new(
        "vms_relay_connects_total", "Live relay connections made", VMS_COUNTER,
        NULL, 0), l);
    if (pthread_create(&r->thread, NULL, relay_thread, r) != 0) {
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->cond);
        goto fail;
    }
    return r;
fail:
    if (r->par != NULL) {
        for (i = 0; i < in->nb_streams; i++) {
            if (r->map != NULL && r->map[i] >= 0 && r->par[i] != NULL
                && r->par[i] != in->streams[i]->codecpar)
            {
                avcodec_parameters_free(&r->par[i]);
            }
        }
    }
    relay_free(r);
    return NULL;
}

void
vms_relay_stop(vms_relay_t *r)
{
    int i;

    if (r == NULL) {
        return;
    }
    atomic_store(&r->stop, 1);
    pthread_mutex_lock(&r->lock);
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    queue_clear(r);
    for (i = 0; i < r->nin; i++) {
        if (r->map[i] >= 0) {
            avcodec_parameters_free(&r->par[i]);
        }
    }
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    relay_free(r);
}
