/* The still watchdog's look at a keyframe before decoding it
 * (sidecar/ingest/keysize.c): slice NAL units are counted in both framings,
 * and with real encoders (libx264 CABAC and CAVLC, IDR and non-IDR
 * keyframes; libx265) one picture coded again always "may match" (so it is
 * decoded and its pixels decide) while another picture does not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/opt.h>

#include "keysize.h"

/* libx265 3.5 keeps buffers of its frame filter that x265_encoder_close() never frees (reported
 * by LeakSanitizer under x265::FrameFilter::init); not this code's, so not reported */
const char *__lsan_default_suppressions(void);

const char *
__lsan_default_suppressions(void)
{
    return "leak:libx265.so\n";
}

/* ---- framing ---- */

typedef struct {
    const uint8_t  *p;
    size_t          n;
} nal_t;

static uint8_t slice1[1000], slice2[500];

static void
fill(uint8_t *p, size_t n, uint8_t first)
{
    size_t i;

    for (i = 0; i < n; i++) {
        p[i] = (uint8_t) (0x40 + i % 61);   /* no 00 00 0x inside */
    }
    p[0] = first;
}

static size_t
annexb(const nal_t *nals, int count, uint8_t *out)
{
    size_t o = 0;
    int    i;

    for (i = 0; i < count; i++) {
        static const uint8_t sc4[] = { 0, 0, 0, 1 }, sc3[] = { 0, 0, 1 };
        /* both start code lengths, as encoders mix them */
        if (i % 2 == 0) {
            memcpy(out + o, sc4, 4), o += 4;
        } else {
            memcpy(out + o, sc3, 3), o += 3;
        }
        memcpy(out + o, nals[i].p, nals[i].n);
        o += nals[i].n;
    }
    out[o++] = 0;                          /* trailing_zero_8bits */
    return o;
}

static size_t
prefixed(const nal_t *nals, int count, uint8_t *out)
{
    size_t o = 0;
    int    i;

    for (i = 0; i < count; i++) {
        out[o++] = (uint8_t) (nals[i].n >> 24);
        out[o++] = (uint8_t) (nals[i].n >> 16);
        out[o++] = (uint8_t) (nals[i].n >> 8);
        out[o++] = (uint8_t) nals[i].n;
        memcpy(out + o, nals[i].p, nals[i].n);
        o += nals[i].n;
    }
    return o;
}

static void
test_h264_counts_slices_only_in_both_framings(void **state)
{
    static const uint8_t aud[] = { 0x09, 0xf0 },
        sei[] = { 0x06, 0x05, 0x10, 'c', 'l', 'o', 'c', 'k', 0x80 },
        sps[] = { 0x67, 0x64, 0x00, 0x28, 0xac }, pps[] = { 0x68, 0xee, 0x3c, 0x80 };
    /* avcC with lengthSizeMinusOne = 3 */
    static const uint8_t avcc[] = { 1, 0x64, 0, 0x28, 0xff, 0xe1, 0 };
    uint8_t        buf[2000];
    vms_keysize_t  ks;
    size_t         n;
    nal_t          nals[6];

    fill(slice1, sizeof(slice1), 0x65);    /* IDR slice */
    fill(slice2, sizeof(slice2), 0x41);    /* non-IDR slice */
    nals[0] = (nal_t) { aud, sizeof(aud) };
    nals[1] = (nal_t) { sei, sizeof(sei) };
    nals[2] = (nal_t) { sps, sizeof(sps) };
    nals[3] = (nal_t) { pps, sizeof(pps) };
    nals[4] = (nal_t) { slice1, sizeof(slice1) };
    nals[5] = (nal_t) { slice2, sizeof(slice2) };

    n = annexb(nals, 6, buf);
    assert_int_equal(vms_keysize(VMS_KEYSIZE_H264, NULL, 0, buf, n, &ks), 0);
    assert_int_equal(ks.slices, 2);
    assert_int_equal(ks.bytes, 1500);

    n = prefixed(nals, 6, buf);
    assert_int_equal(vms_keysize(VMS_KEYSIZE_H264, avcc, sizeof(avcc), buf, n,
                                 &ks), 0);
    assert_int_equal(ks.slices, 2);
    assert_int_equal(ks.bytes, 1500);

    /* a length past the packet's end */
    assert_int_equal(vms_keysize(VMS_KEYSIZE_H264, avcc, sizeof(avcc), buf,
                                 n - 1, &ks), -1);
    /* no slice at all: nothing to judge by */
    n = annexb(nals, 4, buf);
    assert_int_equal(vms_keysize(VMS_KEYSIZE_H264, NULL, 0, buf, n, &ks), -1);
}

static void
test_h265_counts_vcl_units(void **state)
{
    static const uint8_t vps[] = { 0x40, 0x01, 0x0c }, sei[] = { 0x4e, 0x01, 0x05, 0x80 };
    uint8_t        buf[2000];
    vms_keysize_t  ks;
    size_t         n;
    nal_t          nals[3];

    fill(slice1, sizeof(slice1), 19 << 1);   /* IDR_W_RADL */
    slice1[1] = 0x01;
    nals[0] = (nal_t) { vps, sizeof(vps) };
    nals[1] = (nal_t) { sei, sizeof(sei) };
    nals[2] = (nal_t) { slice1, sizeof(slice1) };
    n = annexb(nals, 3, buf);
    assert_int_equal(vms_keysize(VMS_KEYSIZE_H265, NULL, 0, buf, n, &ks), 0);
    assert_int_equal(ks.slices, 1);
    assert_int_equal(ks.bytes, 1000);
}

static void
test_other_codecs_count_the_packet(void **state)
{
    uint8_t        jpeg[300] = { 0xff, 0xd8 };
    vms_keysize_t  ks;

    assert_int_equal(vms_keysize(VMS_KEYSIZE_OTHER, NULL, 0, jpeg,
                                 sizeof(jpeg), &ks), 0);
    assert_int_equal(ks.slices, 1);
    assert_int_equal(ks.bytes, 300);
}

static void
test_may_match_within_the_slack_per_slice(void **state)
{
    vms_keysize_t a = { 2, 10000 }, b = a, none = { 0, 0 };

    assert_true(vms_keysize_may_match(&a, &b));
    b.bytes = a.bytes + 2 * VMS_KEYSIZE_SLACK;
    assert_true(vms_keysize_may_match(&a, &b));
    assert_true(vms_keysize_may_match(&b, &a));
    b.bytes++;
    assert_false(vms_keysize_may_match(&a, &b));
    assert_false(vms_keysize_may_match(&b, &a));
    b = (vms_keysize_t) { 3, a.bytes };
    assert_false(vms_keysize_may_match(&a, &b));
    assert_false(vms_keysize_may_match(&none, &none));
    assert_false(vms_keysize_may_match(&none, &a));
}

/* ---- real encoders ---- */

#define W  320
#define H  240

/* a textured picture: noise of 2^bits levels over a gradient */
static AVFrame *
picture(uint32_t seed, int bits)
{
    AVFrame *f = av_frame_alloc();
    int      x, y, p;

    assert_non_null(f);
    f->format = AV_PIX_FMT_YUV420P;
    f->width = W;
    f->height = H;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    for (p = 0; p < 3; p++) {
        int pw = p ? W / 2 : W, ph = p ? H / 2 : H;
        for (y = 0; y < ph; y++) {
            for (x = 0; x < pw; x++) {
                seed = seed * 1103515245u + 12345u;
                f->data[p][y * f->linesize[p] + x] =
                    (uint8_t) ((x * 3 + y * 2) / 4 + (seed >> (32 - bits)));
            }
        }
    }
    return f;
}

static AVCodecContext *
encoder(const char *name, const char *params_opt, const char *params)
{
    const AVCodec   *codec = avcodec_find_encoder_by_name(name);
    AVCodecContext  *c;

    if (codec == NULL) {
        fail_msg("FFmpeg has no %s encoder (Debian's libavcodec has)", name);
    }
    c = avcodec_alloc_context3(codec);
    assert_non_null(c);
    c->width = W;
    c->height = H;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = (AVRational) { 1, 25 };
    c->framerate = (AVRational) { 25, 1 };
    c->gop_size = 1000;
    c->thread_count = 1;
    av_opt_set(c->priv_data, "preset", "ultrafast", 0);
    av_opt_set(c->priv_data, params_opt, params, 0);
    assert_int_equal(avcodec_open2(c, codec, NULL), 0);
    return c;
}

/* NAL unit type of the packet's first slice */
static int
slice_type(const AVPacket *pkt, vms_keysize_codec_t codec)
{
    int i;

    for (i = 0; i + 3 < pkt->size; i++) {
        const uint8_t *p = pkt->data + i;
        int            t;

        if (p[0] != 0 || p[1] != 0 || p[2] != 1) {
            continue;
        }
        t = codec == VMS_KEYSIZE_H264 ? p[3] & 0x1f : (p[3] >> 1) & 0x3f;
        if (codec == VMS_KEYSIZE_H264 ? t >= 1 && t <= 5 : t <= 31) {
            return t;
        }
    }
    return -1;
}

typedef struct {
    vms_keysize_codec_t  codec;
    vms_keysize_t        keys[8];     /* the keyframes, in coded order */
    int                  types[8];    /* their first slice's NAL type */
    int                  nkeys;
} coded_t;

/* Takes the packets the encoder has ready. */
static void
drain(AVCodecContext *c, coded_t *out)
{
    AVPacket  *pkt = av_packet_alloc();
    int        rc;

    while ((rc = avcodec_receive_packet(c, pkt)) == 0) {
        vms_keysize_t ks;

        assert_int_equal(vms_keysize(out->codec, NULL, 0, pkt->data,
                                     (size_t) pkt->size, &ks), 0);
        if (pkt->flags & AV_PKT_FLAG_KEY) {
            assert_true(out->nkeys < 8);
            out->keys[out->nkeys] = ks;
            out->types[out->nkeys++] = slice_type(pkt, out->codec);
        }
        av_packet_unref(pkt);
    }
    assert_true(rc == AVERROR(EAGAIN) || rc == AVERROR_EOF);
    av_packet_free(&pkt);
}

/* Keyframes of A, A, A, B, A (each followed by 7 more frames of its
 * picture): the watchdog's looks.  Same picture: may match; another: does
 * not.  key_type: the NAL unit type the keyframes after the first have. */
static void
check_encoder(const char *name, const char *params_opt, const char *params,
    vms_keysize_codec_t codec, int key_type)
{
    AVCodecContext  *c = encoder(name, params_opt, params);
    AVFrame         *a = picture(1, 5), *b = picture(2, 3);
    AVFrame         *seq[] = { a, a, a, b, a };
    coded_t          out = { .codec = codec };
    int64_t          pts = 0;
    int              i, k;

    for (i = 0; i < 5; i++) {
        for (k = 0; k < 8; k++) {
            AVFrame *f = seq[i];
            f->pts = pts++;
            assert_int_equal(avcodec_send_frame(c, f), 0);
            drain(c, &out);
        }
    }
    assert_int_equal(avcodec_send_frame(c, NULL), 0);
    drain(c, &out);

    assert_int_equal(out.nkeys, 5);
    for (i = 1; i < 5; i++) {
        assert_int_equal(out.types[i], key_type);
    }
    assert_true(vms_keysize_may_match(&out.keys[0], &out.keys[1]));
    assert_true(vms_keysize_may_match(&out.keys[1], &out.keys[2]));
    assert_false(vms_keysize_may_match(&out.keys[2], &out.keys[3]));
    assert_false(vms_keysize_may_match(&out.keys[3], &out.keys[4]));
    assert_true(vms_keysize_may_match(&out.keys[2], &out.keys[4]));
    av_frame_free(&a);
    av_frame_free(&b);
    avcodec_free_context(&c);
}

static void
test_x264_cabac_idr(void **state)
{
    check_encoder("libx264", "x264-params", "keyint=8:min-keyint=8:scenecut=0:qp=26:cabac=1:bframes=0:log=-1",
                  VMS_KEYSIZE_H264, 5);
}

static void
test_x264_cavlc_open_gop(void **state)
{
    /* non-IDR I pictures: frame_num and the picture order count change */
    check_encoder("libx264", "x264-params",
                  "keyint=8:min-keyint=8:scenecut=0:qp=26:cabac=0:bframes=2:open-gop=1:log=-1", VMS_KEYSIZE_H264, 1);
}

static void
test_x265_idr(void **state)
{
    check_encoder("libx265", "x265-params", "keyint=8:min-keyint=8:scenecut=0:qp=30:bframes=0:open-gop=0:log-level=none",
                  VMS_KEYSIZE_H265, 20);
}

static void
test_x265_cra(void **state)
{
    check_encoder("libx265", "x265-params",
                  "keyint=8:min-keyint=8:scenecut=0:qp=30:bframes=2:open-gop=1:log-level=none", VMS_KEYSIZE_H265, 21);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h264_counts_slices_only_in_both_framings),
        cmocka_unit_test(test_h265_counts_vcl_units),
        cmocka_unit_test(test_other_codecs_count_the_packet),
        cmocka_unit_test(test_may_match_within_the_slack_per_slice),
        cmocka_unit_test(test_x264_cabac_idr),
        cmocka_unit_test(test_x264_cavlc_open_gop),
        cmocka_unit_test(test_x265_idr),
        cmocka_unit_test(test_x265_cra),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
