/*
 * The recorder (sidecar/record/recorder.c) fed with real MPEG-4 video packets
 * (encoded here by libavcodec) whose timestamps are played with: segment
 * cuts at keyframes, the fragment table against the files, contiguity, and
 * the timestamp guards (missing, repeated, jumping timestamps).  Output is
 * read back through the real index (modules/recstore/vms_index*.c) and
 * libavformat's demuxer.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "log.h"
#include "recorder.h"
#include "vms_segpath.h"
#include "vms_index.h"

#define FPS      25
#define GOP      10
#define NPKTS    300              /* 12 s */
#define RATE     16000
#define NAUDIO   (12 * RATE / 1024)   /* AAC frames of 1024 samples in 12 s */
#define T0_US    (INT64_C(1795482123) * 1000000)

typedef struct {
    AVFormatContext *in;          /* a fake input: one video stream */
    AVPacket        *pkts[NPKTS];
    AVFormatContext *in_av;       /* video + AAC + G.711 (not for MP4) */
    AVPacket        *apkts[NAUDIO];
    char             root[64];
    int              closed;
    int              disc;
    int64_t          now_us;      /* the recorder's wall clock, test-driven */
} fixture_t;

static int64_t
test_clock(void *data)
{
    return ((fixture_t *) data)->now_us;
}

static void
on_closed(const vms_segment_info_t *seg, void *data)
{
    fixture_t *fx = data;

    fx->closed++;
    fx->disc += seg->discontinuity;
}

static int
setup(void **state)
{
    fixture_t      *fx = calloc(1, sizeof(*fx));
    const AVCodec  *codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
    AVCodecContext *enc = avcodec_alloc_context3(codec);
    AVFrame        *frame = av_frame_alloc();
    AVStream       *st;
    int             i, n = 0;

    vms_log_set_level(VMS_LOG_ERROR);
    snprintf(fx->root, sizeof(fx->root), "/tmp/vms-test-recorder-XXXXXX");
    assert_non_null(mkdtemp(fx->root));

    enc->width = 64;
    enc->height = 64;
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->time_base = (AVRational) { 1, FPS };
    enc->gop_size = GOP;
    enc->max_b_frames = 0;
    enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    {
        AVDictionary *o = NULL;

        av_dict_set(&o, "sc_threshold", "1000000000", 0);   /* keyframes every GOP only */
        assert_int_equal(avcodec_open2(enc, codec, &o), 0);
        av_dict_free(&o);
    }

    frame->format = enc->pix_fmt;
    frame->width = enc->width;
    frame->height = enc->height;
    assert_int_equal(av_frame_get_buffer(frame, 0), 0);
    for (i = 0; i < NPKTS + 8 && n < NPKTS; i++) {
        AVPacket *p = av_packet_alloc();

        av_frame_make_writable(frame);
        memset(frame->data[0], i * 7, (size_t) frame->linesize[0] * 64);
        frame->pts = i;
        assert_int_equal(avcodec_send_frame(enc, frame), 0);
        while (n < NPKTS && avcodec_receive_packet(enc, p) == 0) {
            /* as RTSP gives them: 90 kHz, no duration */
            p->pts = p->dts = p->pts * (90000 / FPS);
            p->duration = 0;
            fx->pkts[n++] = av_packet_clone(p);
            av_packet_unref(p);
        }
        av_packet_free(&p);
    }
    assert_int_equal(n, NPKTS);
    for (i = 0; i < NPKTS; i++) {
        assert_int_equal(!!(fx->pkts[i]->flags & AV_PKT_FLAG_KEY), i % GOP == 0);
    }

    fx->in = avformat_alloc_context();
    st = avformat_new_stream(fx->in, NULL);
    avcodec_parameters_from_context(st->codecpar, enc);
    st->time_base = (AVRational) { 1, 90000 };

    /* a second input with audio: AAC (recorded) and G.711 (skipped) */
    fx->in_av = avformat_alloc_context();
    st = avformat_new_stream(fx->in_av, NULL);
    avcodec_parameters_from_context(st->codecpar, enc);
    st->time_base = (AVRational) { 1, 90000 };
    {
        const AVCodec  *ac = avcodec_find_encoder(AV_CODEC_ID_AAC);
        AVCodecContext *a = avcodec_alloc_context3(ac);
        AVFrame        *af = av_frame_alloc();
        AVPacket       *p = av_packet_alloc();
        int             k = 0, j;

        a->sample_rate = RATE;
        a->sample_fmt = AV_SAMPLE_FMT_FLTP;
        av_channel_layout_default(&a->ch_layout, 1);
        a->time_base = (AVRational) { 1, RATE };
        a->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
        assert_int_equal(avcodec_open2(a, ac, NULL), 0);
        af->nb_samples = a->frame_size;
        af->format = a->sample_fmt;
        av_channel_layout_copy(&af->ch_layout, &a->ch_layout);
        assert_int_equal(av_frame_get_buffer(af, 0), 0);
        for (j = 0; k < NAUDIO && j < NAUDIO + 8; j++) {
            av_frame_make_writable(af);
            memset(af->data[0], 0, (size_t) af->linesize[0]);
            af->pts = (int64_t) j * a->frame_size;
            assert_int_equal(avcodec_send_frame(a, af), 0);
            while (k < NAUDIO && avcodec_receive_packet(a, p) == 0) {
                p->stream_index = 1;
                if (p->pts < 0) {             /* encoder priming */
                    av_packet_unref(p);
                    continue;
                }
                p->dts = p->pts;
                fx->apkts[k++] = av_packet_clone(p);
                av_packet_unref(p);
            }
        }
        assert_int_equal(k, NAUDIO);
        st = avformat_new_stream(fx->in_av, NULL);
        avcodec_parameters_from_context(st->codecpar, a);
        st->time_base = (AVRational) { 1, RATE };
        st = avformat_new_stream(fx->in_av, NULL);
        st->codecpar->codec_type = AVMEDIA_TYPE_AUDIO;
        st->codecpar->codec_id = AV_CODEC_ID_PCM_MULAW;
        st->codecpar->sample_rate = 8000;
        av_channel_layout_default(&st->codecpar->ch_layout, 1);
        st->time_base = (AVRational) { 1, 8000 };
        av_packet_free(&p);
        av_frame_free(&af);
        avcodec_free_context(&a);
    }

    av_frame_free(&frame);
    avcodec_free_context(&enc);
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t *fx = *state;
    char       cmd[128];
    int        i;

    for (i = 0; i < NPKTS; i++) {
        av_packet_free(&fx->pkts[i]);
    }
    for (i = 0; i < NAUDIO; i++) {
        av_packet_free(&fx->apkts[i]);
    }
    avformat_free_context(fx->in);
    avformat_free_context(fx->in_av);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->root);
    if (system(cmd) != 0) {
        return -1;
    }
    free(fx);
    return 0;
}

static vms_recorder_t *
open_rec_in(fixture_t *fx, AVFormatContext *in, const char *cam, int64_t segment_us)
{
    vms_recorder_conf_t conf = {
        .camera_id = cam, .root = fx->root, .path_template = VMS_SEGPATH_DEFAULT,
        .segment_us = segment_us, .fragment_us = 1000000,
        .on_segment_closed = on_closed, .data = fx,
        .clock = test_clock, .clock_data = fx,
    };

    fx->closed = fx->disc = 0;
    fx->now_us = T0_US;
    return vms_recorder_open(&conf, in, T0_US);
}

static vms_recorder_t *
open_rec(fixture_t *fx, const char *cam, int64_t segment_us)
{
    return open_rec_in(fx, fx->in, cam, segment_us);
}

/* Segments of a camera from the index, with fragments. */
static size_t
query(fixture_t *fx, const char *cam, vms_index_reader_t *r, vms_index_result_t *res)
{
    char dir[128], err[256];
    size_t i;

    snprintf(dir, sizeof(dir), "%s/%s", fx->root, cam);
    assert_int_equal(vms_index_query(r, dir, 1, T0_US + INT64_C(86400000000),
                                     res, err, sizeof(err)), 0);
    for (i = 0; i < res->n; i++) {
        assert_int_equal(vms_index_frags(r, &res->v[i], err, sizeof(err)), 0);
    }
    return res->n;
}

/* Demuxes a segment file: packet count, and dts strictly increasing. */
static int
demux_count(fixture_t *fx, const char *cam, const char *rel, int64_t *dur_us)
{
    AVFormatContext *ic = NULL;
    AVPacket        *p = av_packet_alloc();
    char             path[256];
    int64_t          last = INT64_MIN, end = 0;
    int              n = 0;

    snprintf(path, sizeof(path), "%s/%s/%s", fx->root, cam, rel);
    assert_int_equal(avformat_open_input(&ic, path, NULL, NULL), 0);
    assert_true(avformat_find_stream_info(ic, NULL) >= 0);
    while (av_read_frame(ic, p) >= 0) {
        AVRational tb = ic->streams[p->stream_index]->time_base;

        assert_true(p->dts > last);
        last = p->dts;
        end = av_rescale_q(p->dts + p->duration, tb, AV_TIME_BASE_Q);
        n++;
        av_packet_unref(p);
    }
    *dur_us = end;
    av_packet_free(&p);
    avformat_close_input(&ic);
    return n;
}

static void
check_files(fixture_t *fx, const char *cam, vms_index_result_t *res, int *total)
{
    struct stat st;
    char        path[256];
    size_t      i;
    uint32_t    k;
    int64_t     dur;

    *total = 0;
    for (i = 0; i < res->n; i++) {
        const vms_index_entry_t *e = &res->v[i];

        snprintf(path, sizeof(path), "%s/%s/%s", fx->root, cam, e->path);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal((uint64_t) st.st_size, e->bytes);
        assert_true(e->nfrags > 0);
        assert_int_equal(e->frags[0].offset, e->init_size);
        assert_int_equal(e->frags[0].start_us, 0);
        assert_true(e->frags[0].flags & VMS_FRAG_KEY);
        for (k = 1; k < e->nfrags; k++) {
            assert_int_equal(e->frags[k].offset, e->frags[k - 1].offset + e->frags[k - 1].size);
            assert_int_equal(e->frags[k].start_us,
                             e->frags[k - 1].start_us + e->frags[k - 1].duration_us);
        }
        assert_int_equal(e->frags[e->nfrags - 1].offset + e->frags[e->nfrags - 1].size, e->bytes);
        *total += demux_count(fx, cam, e->path, &dur);
        assert_true(llabs(dur - e->duration_us) < 1000000 / FPS);
    }
}

static void
test_segments_cut_at_keyframes(void **state)
{
    fixture_t          *fx = *state;
    vms_index_reader_t *r = vms_index_reader_new(8);
    vms_index_result_t  res;
    vms_recorder_t     *rec = open_rec(fx, "a", 2000000);
    int                 i, total;
    size_t              k;

    assert_non_null(rec);
    for (i = 0; i < NPKTS; i++) {
        assert_int_equal(vms_recorder_write(rec, fx->pkts[i]), 0);
    }
    vms_recorder_close(rec);

    /* 12 s at 2 s: six segments, each exactly 2 s (keyframes every 0.4 s) */
    assert_int_equal(query(fx, "a", r, &res), 6);
    assert_int_equal(fx->closed, 6);
    assert_int_equal(fx->disc, 1);
    for (k = 0; k < res.n; k++) {
        assert_int_equal(res.v[k].start_us, T0_US + (int64_t) k * 2000000);
        assert_int_equal(res.v[k].duration_us, 2000000);
        assert_int_equal(!!(res.v[k].flags & VMS_SEG_DISCONTINUITY), k == 0);
    }
    check_files(fx, "a", &res, &total);
    assert_int_equal(total, NPKTS);
    vms_index_reader_free(r);
}

static void
test_guards(void **state)
{
    fixture_t          *fx = *state;
    vms_index_reader_t *r = vms_index_reader_new(8);
    vms_index_result_t  res;
    vms_recorder_t     *rec = open_rec(fx, "b", 60000000);
    AVPacket           *p = av_packet_alloc();
    int                 i, total, fed = 0;
    int64_t             shift = 0;

    assert_non_null(rec);
    for (i = 0; i < NPKTS; i++) {
        av_packet_ref(p, fx->pkts[i]);
        if (i == 20) {
            p->pts = p->dts = AV_NOPTS_VALUE;       /* dropped */
            fed--;
        } else if (i == 40) {
            p->pts = p->dts = fx->pkts[39]->dts;    /* repeated: corrected */
        } else if (i == 100) {
            shift = 20 * 90000;                     /* 20 s forward: new timeline */
        } else if (i == 200) {
            shift = -30 * 90000;                    /* backwards: new timeline */
        }
        if (p->dts != AV_NOPTS_VALUE && i != 40) {
            p->pts += shift;
            p->dts += shift;
        }
        fed++;
        fx->now_us = T0_US + (int64_t) i * 1000000 / FPS;   /* real time */
        assert_int_equal(vms_recorder_write(rec, p), 0);
        av_packet_unref(p);
    }
    vms_recorder_close(rec);
    av_packet_free(&p);

    /* three timelines, each a discontinuity; packets before each new
     * timeline's first keyframe are not recorded (100 and 200 are keyframes) */
    assert_int_equal(query(fx, "b", r, &res), 3);
    assert_int_equal(fx->disc, 3);
    for (size_t k = 0; k < res.n; k++) {
        assert_true(res.v[k].flags & VMS_SEG_DISCONTINUITY);
    }
    check_files(fx, "b", &res, &total);
    assert_int_equal(total, fed);
    /* the first timeline: 100 packets, one dropped */
    assert_int_equal(res.v[0].duration_us, 100 * 1000000 / FPS);
    /* each new timeline is anchored to the wall clock at its first packet,
     * whatever its stream timestamps say */
    assert_int_equal(res.v[0].start_us, T0_US);
    assert_int_equal(res.v[1].start_us, T0_US + 100 * 1000000 / FPS);
    assert_int_equal(res.v[2].start_us, T0_US + 200 * 1000000 / FPS);
    vms_index_reader_free(r);
}

static void
test_waits_for_a_keyframe(void **state)
{
    fixture_t          *fx = *state;
    vms_index_reader_t *r = vms_index_reader_new(8);
    vms_index_result_t  res;
    vms_recorder_t     *rec = open_rec(fx, "c", 60000000);
    int                 i, total;

    assert_non_null(rec);
    for (i = 3; i < 3 * GOP; i++) {          /* starts mid-GOP */
        assert_int_equal(vms_recorder_write(rec, fx->pkts[i]), 0);
    }
    vms_recorder_close(rec);
    assert_int_equal(query(fx, "c", r, &res), 1);
    check_files(fx, "c", &res, &total);
    assert_int_equal(total, 2 * GOP);
    /* anchored at the first packet given, started at the keyframe 7 frames later */
    assert_int_equal(res.v[0].start_us, T0_US + (GOP - 3) * 1000000 / FPS);
    vms_index_reader_free(r);
}

/* Video + AAC + G.711 interleaved by time: AAC is recorded next to the
 * video, G.711 (which MP4 cannot hold) is skipped; audio covers each file
 * and no audio packet is lost across the cuts but the first few (before the
 * first keyframe). */
static void
test_audio(void **state)
{
    fixture_t          *fx = *state;
    vms_index_reader_t *r = vms_index_reader_new(8);
    vms_index_result_t  res;
    vms_recorder_t     *rec = open_rec_in(fx, fx->in_av, "d", 2000000);
    AVPacket           *mulaw = av_packet_alloc();
    int                 v = 0, a = 0, n, audio = 0;
    char                path[256];

    assert_non_null(rec);
    av_new_packet(mulaw, 320);
    mulaw->stream_index = 2;
    while (v < NPKTS || a < NAUDIO) {
        int64_t vt = v < NPKTS ? fx->pkts[v]->dts * 1000000 / 90000 : INT64_MAX;
        int64_t at = a < NAUDIO ? fx->apkts[a]->dts * 1000000 / RATE : INT64_MAX;

        if (vt <= at) {
            assert_int_equal(vms_recorder_write(rec, fx->pkts[v++]), 0);
            mulaw->pts = mulaw->dts = vt * 8000 / 1000000;
            assert_int_equal(vms_recorder_write(rec, mulaw), 0);
        } else {
            AVPacket *p = av_packet_clone(fx->apkts[a++]);

            p->stream_index = 1;
            assert_int_equal(vms_recorder_write(rec, p), 0);
            av_packet_free(&p);
        }
    }
    vms_recorder_close(rec);
    av_packet_free(&mulaw);

    assert_int_equal(query(fx, "d", r, &res), 6);
    for (size_t k = 0; k < res.n; k++) {
        AVFormatContext *ic = NULL;
        AVPacket        *p = av_packet_alloc();

        assert_int_equal(res.v[k].duration_us, 2000000);
        snprintf(path, sizeof(path), "%s/d/%s", fx->root, res.v[k].path);
        assert_int_equal(avformat_open_input(&ic, path, NULL, NULL), 0);
        assert_true(avformat_find_stream_info(ic, NULL) >= 0);
        assert_int_equal(ic->nb_streams, 2);
        assert_int_equal(ic->streams[0]->codecpar->codec_id, AV_CODEC_ID_MPEG4);
        assert_int_equal(ic->streams[1]->codecpar->codec_id, AV_CODEC_ID_AAC);
        n = 0;
        while (av_read_frame(ic, p) >= 0) {
            n += p->stream_index == 1;
            av_packet_unref(p);
        }
        audio += n;
        av_packet_free(&p);
        avformat_close_input(&ic);
    }
    /* every AAC frame from the first keyframe on is in some file */
    assert_true(audio >= NAUDIO - 1 && audio <= NAUDIO);
    vms_index_reader_free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segments_cut_at_keyframes),
        cmocka_unit_test(test_guards),
        cmocka_unit_test(test_waits_for_a_keyframe),
        cmocka_unit_test(test_audio),
    };

    return cmocka_run_group_tests_name("recorder", tests, setup, teardown);
}
