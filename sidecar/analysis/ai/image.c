/*
 * Crop, scale, convert, encode (see image.h).
 */

#include "image.h"

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <stdlib.h>
#include <string.h>

void
vms_ai_imager_init(vms_ai_imager_t *im)
{
    memset(im, 0, sizeof(*im));
    im->quality = 4;
}

void
vms_ai_imager_free(vms_ai_imager_t *im)
{
    sws_freeContext(im->sws_grey);
    sws_freeContext(im->sws_rgb);
    sws_freeContext(im->sws_yuv);
    avcodec_free_context(&im->enc);
    av_frame_free(&im->yuv);
    av_packet_free(&im->pkt);
    memset(im, 0, sizeof(*im));
}

void
vms_ai_plane_free(vms_ai_plane_t *p)
{
    free(p->data);
    memset(p, 0, sizeof(*p));
}

AVFrame *
vms_ai_crop(const AVFrame *f, int x, int y, int w, int h)
{
    AVFrame *c = av_frame_clone(f);

    if (c == NULL) {
        return NULL;
    }
    if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > f->width
        || y + h > f->height)
    {
        av_frame_free(&c);
        return NULL;
    }
    c->crop_left = (size_t) x;
    c->crop_top = (size_t) y;
    c->crop_right = (size_t) (f->width - x - w);
    c->crop_bottom = (size_t) (f->height - y - h);
    if (av_frame_apply_cropping(c, AV_FRAME_CROP_UNALIGNED) < 0) {
        av_frame_free(&c);
        return NULL;
    }
    return c;
}

static int
plane_alloc(vms_ai_plane_t *p, int w, int h, int bpp)
{
    /* swscale's SIMD writes whole vectors: padded rows, a spare tail */
    int    stride = (w * bpp + 63) & ~63;
    size_t need = (size_t) stride * h + 64;

    if (need > p->cap) {
        uint8_t *d = realloc(p->data, need);
        if (d == NULL) {
            return -1;
        }
        p->data = d;
        p->cap = need;
    }
    p->width = w;
    p->height = h;
    p->stride = stride;
    return 0;
}

static int
scale(struct SwsContext **ctx, const AVFrame *f, int w, int h,
    enum AVPixelFormat dst, int bpp, vms_ai_plane_t *out)
{
    /* area averaging when shrinking a lot keeps noise out of motion */
    int flags = (w * 2 < f->width) ? SWS_AREA : SWS_BILINEAR;
    uint8_t *dp[4] = { NULL };
    int      ds[4] = { 0 };

    *ctx = sws_getCachedContext(*ctx, f->width, f->height, f->format, w, h,
                                dst, flags, NULL, NULL, NULL);
    if (*ctx == NULL || plane_alloc(out, w, h, bpp) < 0) {
        return -1;
    }
    dp[0] = out->data;
    ds[0] = out->stride;
    return sws_scale(*ctx, (const uint8_t *const *) f->data, f->linesize, 0,
                     f->height, dp, ds) == h ? 0 : -1;
}

int
vms_ai_to_grey(vms_ai_imager_t *im, const AVFrame *f, int w, int h,
    vms_ai_plane_t *out)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    AVFrame                   luma;

    /* YUV with an 8-bit luma plane (every camera codec): scale that plane
     * alone as GRAY8 and leave the chroma planes untouched */
    if (d != NULL && !(d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL))
        && d->nb_components >= 1 && d->comp[0].plane == 0
        && d->comp[0].step == 1 && d->comp[0].depth == 8
        && d->comp[0].shift == 0 && d->comp[0].offset == 0)
    {
        memset(&luma, 0, sizeof(luma));
        luma.format = AV_PIX_FMT_GRAY8;
        luma.width = f->width;
        luma.height = f->height;
        luma.data[0] = f->data[0];
        luma.linesize[0] = f->linesize[0];
        return scale(&im->sws_grey, &luma, w, h, AV_PIX_FMT_GRAY8, 1, out);
    }
    return scale(&im->sws_grey, f, w, h, AV_PIX_FMT_GRAY8, 1, out);
}

int
vms_ai_to_rgb(vms_ai_imager_t *im, const AVFrame *f, int w, int h,
    vms_ai_plane_t *out)
{
    return scale(&im->sws_rgb, f, w, h, AV_PIX_FMT_RGB24, 3, out);
}

static int
open_encoder(vms_ai_imager_t *im, int w, int h)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);

    avcodec_free_context(&im->enc);
    av_frame_free(&im->yuv);
    if (codec == NULL || (im->enc = avcodec_alloc_context3(codec)) == NULL) {
        return -1;
    }
    im->enc->width = w;
    im->enc->height = h;
    im->enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
    im->enc->time_base = (AVRational) { 1, 25 };
    im->enc->flags |= AV_CODEC_FLAG_QSCALE;
    im->enc->global_quality = FF_QP2LAMBDA * im->quality;
    im->enc->thread_count = 1;
    if (avcodec_open2(im->enc, codec, NULL) < 0) {
        avcodec_free_context(&im->enc);
        return -1;
    }
    im->yuv = av_frame_alloc();
    if (im->yuv == NULL) {
        return -1;
    }
    im->yuv->format = AV_PIX_FMT_YUVJ420P;
    im->yuv->width = w;
    im->yuv->height = h;
    if (av_frame_get_buffer(im->yuv, 0) < 0) {
        return -1;
    }
    im->enc_w = w;
    im->enc_h = h;
    return 0;
}

int
vms_ai_jpeg(vms_ai_imager_t *im, const vms_ai_plane_t *rgb, uint8_t **buf,
    size_t *len)
{
    const uint8_t *sp[4] = { rgb->data };
    int            ss[4] = { rgb->stride };
    int            rc;

    *buf = NULL;
    *len = 0;
    if (im->enc == NULL || im->enc_w != rgb->width || im->enc_h != rgb->height) {
        if (open_encoder(im, rgb->width, rgb->height) < 0) {
            return -1;
        }
    }
    if (im->pkt == NULL && (im->pkt = av_packet_alloc()) == NULL) {
        return -1;
    }
    im->sws_yuv = sws_getCachedContext(im->sws_yuv, rgb->width, rgb->height,
                                       AV_PIX_FMT_RGB24, rgb->width,
                                       rgb->height, AV_PIX_FMT_YUVJ420P,
                                       SWS_BILINEAR, NULL, NULL, NULL);
    if (im->sws_yuv == NULL || av_frame_make_writable(im->yuv) < 0) {
        return -1;
    }
    sws_scale(im->sws_yuv, sp, ss, 0, rgb->height, im->yuv->data,
              im->yuv->linesize);
    im->yuv->pts++;
    rc = avcodec_send_frame(im->enc, im->yuv);
    if (rc < 0) {
        return -1;
    }
    rc = avcodec_receive_packet(im->enc, im->pkt);
    if (rc < 0) {
        return -1;
    }
    *buf = malloc(im->pkt->size);
    if (*buf != NULL) {
        memcpy(*buf, im->pkt->data, im->pkt->size);
        *len = (size_t) im->pkt->size;
    }
    av_packet_unref(im->pkt);
    return *buf != NULL ? 0 : -1;
}
