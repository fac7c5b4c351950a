/* Encodes one profile to an in-memory H.264 or H.265 loop at start-up (the only encoding camsim ever does).
 * Generated scenes: appsrc (frames drawn by scene.c) -> x264enc | x265enc -> appsink.
 * File cameras:     filesrc -> decodebin -> convert/scale/rate -> x264enc | x265enc -> appsink.
 * The encoder runs with scene-cut detection off, closed GOPs and no B-frames unless asked (then a fixed pattern),
 * so keyframes fall exactly every gop frames in decode order; each frame keeps its PTS - DTS for the feeder; loops are a whole number of GOPs so the wrap lands on an IDR frame. */
#include "camsim.h"

#include <math.h>
#include <string.h>

#define X264_TAIL \
    "x264enc name=enc speed-preset=ultrafast bframes=%d b-adapt=false option-string=scenecut=0 ! " \
    "video/x-h264,profile=%s,stream-format=avc,alignment=au ! " \
    "appsink name=sink sync=false max-buffers=8"
/* x265: closed GOPs (IDR keyframes, as cameras send), parameter sets in every keyframe; h265parse puts
 * them in the caps too (hvcC codec_data: rtph265pay announces them in the SDP) */
#define X265_TAIL \
    "x265enc name=enc speed-preset=ultrafast log-level=error " \
    "option-string=scenecut=0:bframes=%d:b-adapt=0:open-gop=0:repeat-headers=1%s ! " \
    "h265parse ! video/x-h265,stream-format=hvc1,alignment=au ! " \
    "appsink name=sink sync=false max-buffers=8"

typedef struct {
    const camsim_profile_t *prof;
    guint i, n;
    gsize size;
} gen_t;

static void gen_need_data(GstAppSrc *src, guint length, gpointer user)
{
    gen_t *g = user;
    (void)length;
    if (g->i >= g->n) {
        gst_app_src_end_of_stream(src);
        return;
    }
    GstBuffer *buf = gst_buffer_new_allocate(NULL, g->size, NULL);
    GstMapInfo map;
    gst_buffer_map(buf, &map, GST_MAP_WRITE);
    camsim_scene_render(g->prof->scene, map.data, g->prof->width, g->prof->height, g->prof->fps, g->i);
    gst_buffer_unmap(buf, &map);
    GST_BUFFER_PTS(buf) = gst_util_uint64_scale(g->i, GST_SECOND, g->prof->fps);
    GST_BUFFER_DURATION(buf) = gst_util_uint64_scale(1, GST_SECOND, g->prof->fps);
    g->i++;
    gst_app_src_push_buffer(src, buf);
}

static guint whole_gops(double seconds, int fps, int gop)
{
    guint frames = (guint)ceil(seconds * fps);
    if (frames < (guint)gop)
        frames = gop;
    return (frames + gop - 1) / gop * gop;
}

static GstElement *build_pipeline(const camsim_profile_t *p, gen_t *gen, GError **err)
{
    char *desc, *tail, vbv[96] = "";
    if (p->codec == CODEC_H265) {
        /* a real camera's constant bit rate: one second of VBV, as for x264 below */
        if (p->bitrate > 0)
            g_snprintf(vbv, sizeof vbv, ":vbv-maxrate=%d:vbv-bufsize=%d", p->bitrate, p->bitrate);
        tail = g_strdup_printf(X265_TAIL, p->bframes, vbv);
    } else {
        /* constrained baseline has no B-frames */
        tail = g_strdup_printf(X264_TAIL, p->bframes, p->bframes ? "high" : "baseline");
    }
    if (p->scene == SCENE_FILE) {
        char size[64] = "";
        if (p->width)
            g_snprintf(size, sizeof size, ",width=%d,height=%d,pixel-aspect-ratio=1/1", p->width, p->height);
        desc = g_strdup_printf("filesrc name=file ! decodebin ! videoconvert ! videoscale ! videorate ! "
                               "video/x-raw,format=I420,framerate=%d/1%s ! %s", p->fps, size, tail);
    } else {
        desc = g_strdup_printf("appsrc name=gen format=time caps=video/x-raw,format=I420,width=%d,"
                               "height=%d,framerate=%d/1,pixel-aspect-ratio=1/1 ! %s",
                               p->width, p->height, p->fps, tail);
    }
    g_free(tail);
    GstElement *pipe = gst_parse_launch(desc, err);
    g_free(desc);
    if (!pipe)
        return NULL;
    GstElement *enc = gst_bin_get_by_name(GST_BIN(pipe), "enc");
    g_object_set(enc, "key-int-max", (guint)p->gop, NULL);
    if (p->codec == CODEC_H265) {
        if (p->bitrate > 0)
            g_object_set(enc, "bitrate", (guint)p->bitrate, NULL);
        else
            g_object_set(enc, "qp", 26, NULL);
    } else if (p->bitrate > 0) {
        /* a real camera's constant bit rate; one second of VBV keeps each GOP near the rate */
        gst_util_set_object_arg(G_OBJECT(enc), "pass", "cbr");
        g_object_set(enc, "bitrate", (guint)p->bitrate, "vbv-buf-capacity", 1000u, NULL);
    } else {
        gst_util_set_object_arg(G_OBJECT(enc), "pass", "qual");
        g_object_set(enc, "quantizer", 26u, NULL);
    }
    gst_object_unref(enc);
    if (p->scene == SCENE_FILE) {
        GstElement *fs = gst_bin_get_by_name(GST_BIN(pipe), "file");
        g_object_set(fs, "location", p->file, NULL);
        gst_object_unref(fs);
    } else {
        GstElement *src = gst_bin_get_by_name(GST_BIN(pipe), "gen");
        GstAppSrcCallbacks cb = { .need_data = gen_need_data };
        gst_app_src_set_callbacks(GST_APP_SRC(src), &cb, gen, NULL);
        gst_object_unref(src);
    }
    return pipe;
}

/* Encodes the audio loop: a 440 Hz tone covering the video loop's length.  AAC-LC (voaacenc, raw with its
 * AudioSpecificConfig in the caps, for rtpmp4gpay) in 1024-sample frames at 16 kHz, or G.711 mu-law in
 * 20 ms frames at 8 kHz (rtppcmupay). */
static gboolean encode_audio(camsim_loop_t *loop, GError **err)
{
    const camsim_profile_t *p = &loop->prof;
    int rate = p->audio == AUDIO_AAC ? 16000 : 8000, spb = p->audio == AUDIO_AAC ? 1024 : 160;
    GstClockTime video = gst_util_uint64_scale(loop->n, GST_SECOND, p->fps);
    guint want;
    loop->adur = gst_util_uint64_scale(spb, GST_SECOND, rate);
    want = (guint)((video + loop->adur - 1) / loop->adur);
    /* the AAC encoder holds a frame back: ask for one more */
    char *desc = g_strdup_printf("audiotestsrc wave=sine freq=440 volume=0.3 samplesperbuffer=%d num-buffers=%u ! "
                                 "audio/x-raw,format=S16LE,rate=%d,channels=1 ! %s ! appsink name=asink sync=false",
                                 spb, want + 2, rate,
                                 p->audio == AUDIO_AAC
                                 ? "voaacenc bitrate=32000 ! audio/mpeg,mpegversion=4,stream-format=raw"
                                 : "mulawenc");
    GstElement *pipe = gst_parse_launch(desc, err);
    g_free(desc);
    if (!pipe)
        return FALSE;
    GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe), "asink");
    loop->abufs = g_new0(GstBuffer *, want);
    gst_element_set_state(pipe, GST_STATE_PLAYING);
    while (loop->an < want) {
        GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 5 * GST_SECOND);
        if (!s)
            break;
        if (!loop->acaps)
            loop->acaps = gst_caps_ref(gst_sample_get_caps(s));
        loop->abufs[loop->an++] = gst_buffer_ref(gst_sample_get_buffer(s));
        gst_sample_unref(s);
    }
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(sink);
    gst_object_unref(pipe);
    if (loop->an == 0) {
        g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "no audio frames encoded");
        return FALSE;
    }
    return TRUE;
}

void camsim_loop_free(camsim_loop_t *loop)
{
    if (!loop)
        return;
    for (guint i = 0; i < loop->an; i++)
        gst_buffer_unref(loop->abufs[i]);
    g_free(loop->abufs);
    if (loop->acaps)
        gst_caps_unref(loop->acaps);
    for (guint i = 0; i < loop->n; i++)
        gst_buffer_unref(loop->frames[i].buf);
    g_free(loop->frames);
    if (loop->caps)
        gst_caps_unref(loop->caps);
    camsim_profile_clear(&loop->prof);
    g_free(loop);
}

camsim_loop_t *camsim_loop_encode(const camsim_profile_t *p, GError **err)
{
    gen_t gen = { .prof = p, .size = (gsize)p->width * p->height * 3 / 2 };
    guint max;
    if (p->scene == SCENE_FILE)
        max = whole_gops(p->loop_s > 0 ? p->loop_s : CAMSIM_FILE_MAX_S, p->fps, p->gop);
    else
        max = gen.n = whole_gops(p->loop_s > 0 ? p->loop_s
                                 : p->scene == SCENE_MOTION ? CAMSIM_MOTION_LOOP_S : CAMSIM_BARS_LOOP_S,
                                 p->fps, p->gop);

    GstElement *pipe = build_pipeline(p, &gen, err);
    if (!pipe)
        return NULL;
    GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
    camsim_loop_t *loop = g_new0(camsim_loop_t, 1);
    loop->prof = *p;
    loop->prof.file = g_strdup(p->file);
    loop->frames = g_new0(camsim_frame_t, max);

    gst_element_set_state(pipe, GST_STATE_PLAYING);
    GstBus *bus = gst_element_get_bus(pipe);
    GstMessage *error = NULL;
    gint64 last_frame = g_get_monotonic_time();
    while (loop->n < max && !gst_app_sink_is_eos(GST_APP_SINK(sink))) {
        GstSample *s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 100 * GST_MSECOND);
        if (!s) {
            /* Errors never reach the appsink: watch the bus, and give up on a silent stall. */
            error = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
            if (error || g_get_monotonic_time() - last_frame > 30 * G_USEC_PER_SEC)
                break;
            continue;
        }
        last_frame = g_get_monotonic_time();
        GstBuffer *b = gst_sample_get_buffer(s);
        if (!loop->caps)
            loop->caps = gst_caps_ref(gst_sample_get_caps(s));
        loop->frames[loop->n].buf = gst_buffer_ref(b);
        loop->frames[loop->n].key = !GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
        if (GST_BUFFER_PTS_IS_VALID(b) && GST_BUFFER_DTS_IS_VALID(b) && GST_BUFFER_PTS(b) > GST_BUFFER_DTS(b))
            loop->frames[loop->n].pts_delay = (gint64)(GST_BUFFER_PTS(b) - GST_BUFFER_DTS(b));
        loop->n++;
        gst_sample_unref(s);
    }
    if (error) {
        GError *e = NULL;
        gst_message_parse_error(error, &e, NULL);
        g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "%s", e->message);
        g_error_free(e);
        gst_message_unref(error);
    } else if (loop->n < max && !gst_app_sink_is_eos(GST_APP_SINK(sink))) {
        g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "encoder stalled after %u frames", loop->n);
    } else if (loop->n == 0) {
        g_set_error(err, GST_CORE_ERROR, GST_CORE_ERROR_FAILED, "no video frames decoded");
    }
    gst_object_unref(bus);
    gst_element_set_state(pipe, GST_STATE_NULL);
    gst_object_unref(sink);
    gst_object_unref(pipe);
    if (err && *err) {
        camsim_loop_free(loop);
        return NULL;
    }
    /* A clip that is not a whole number of GOPs is cut to one, so keyframe spacing stays exact. */
    if (loop->n > (guint)p->gop && loop->n % p->gop) {
        guint keep = loop->n / p->gop * p->gop;
        for (guint i = keep; i < loop->n; i++)
            gst_buffer_unref(loop->frames[i].buf);
        loop->n = keep;
    }
    if (p->audio != AUDIO_NONE && !encode_audio(loop, err)) {
        camsim_loop_free(loop);
        return NULL;
    }
    GstStructure *st = gst_caps_get_structure(loop->caps, 0);
    gst_structure_get_int(st, "width", &loop->width);
    gst_structure_get_int(st, "height", &loop->height);
    for (guint i = 0; i < loop->n; i++) {
        if (loop->frames[i].key != (i % p->gop == 0)) {
            g_printerr("camsim: warning: %s loop %dx%d: frame %u is %s a keyframe (gop %d)\n",
                       camsim_scene_name(p->scene), loop->width, loop->height, i,
                       loop->frames[i].key ? "unexpectedly" : "not", p->gop);
            break;
        }
    }
    return loop;
}
