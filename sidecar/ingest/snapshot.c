#include "snapshot.h"

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <stdlib.h>
#include <string.h>

int
vms_jpeg_encode(const AVFrame *frame, int max_width, uint8_t **out,
    size_t *len)
{
    const AVCodec      *codec;
    AVCodecContext     *enc = NULL;
    struct SwsContext  *sws = NULL;
    AVFrame            *pic = NULL;
    AVPacket           *pkt = NULL;
    int                 w = frame->width, h = frame->height, rc;

    *out = NULL;
    *len = 0;
    if (w <= 0 || h <= 0) {
        return AVERROR(EINVAL);
    }
    if (w > max_width) {
        h = (int) ((int64_t) h * max_width / w);
        w = max_width;
    }
    w &= ~1;
    h &= ~1;
    if (w < 2 || h < 2) {
        return AVERROR(EINVAL);
    }

    codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (codec == NULL) {
        return AVERROR_ENCODER_NOT_FOUND;
    }
    enc = avcodec_alloc_context3(codec);
    pic = av_frame_alloc();
    pkt = av_packet_alloc();
    if (enc == NULL || pic == NULL || pkt == NULL) {
        rc = AVERROR(ENOMEM);
        goto done;
    }
    enc->width = w;
    enc->height = h;
    enc->pix_fmt = AV_PIX_FMT_YUVJ420P;
    enc->time_base = (AVRational) { 1, 25 };
    enc->flags |= AV_CODEC_FLAG_QSCALE;
    enc->global_quality = FF_QP2LAMBDA * 5;
    enc->thread_count = 1;
    rc = avcodec_open2(enc, codec, NULL);
    if (rc < 0) {
        goto done;
    }

    pic->format = AV_PIX_FMT_YUVJ420P;
    pic->width = w;
    pic->height = h;
    rc = av_frame_get_buffer(pic, 0);
    if (rc < 0) {
        goto done;
    }
    sws = sws_getContext(frame->width, frame->height, frame->format, w, h,
                         AV_PIX_FMT_YUVJ420P, SWS_BILINEAR, NULL, NULL, NULL);
    if (sws == NULL) {
        rc = AVERROR(EINVAL);
        goto done;
    }
    sws_scale(sws, (const uint8_t *const *) frame->data, frame->linesize, 0,
              frame->height, pic->data, pic->linesize);
    pic->quality = enc->global_quality;
    pic->pts = 0;

    rc = avcodec_send_frame(enc, pic);
    if (rc >= 0) {
        rc = avcodec_receive_packet(enc, pkt);
    }
    if (rc >= 0) {
        *out = av_malloc((size_t) pkt->size);
        if (*out == NULL) {
            rc = AVERROR(ENOMEM);
        } else {
            memcpy(*out, pkt->data, (size_t) pkt->size);
            *len = (size_t) pkt->size;
            rc = 0;
        }
    }
done:
    sws_freeContext(sws);
    av_packet_free(&pkt);
    av_frame_free(&pic);
    avcodec_free_context(&enc);
    return rc;
}

uint64_t
vms_fingerprint(const AVFrame *frame)
{
    uint64_t  h = 0xcbf29ce484222325ULL;
    int       row, rowbytes, i;

    rowbytes = av_image_get_linesize(frame->format, frame->width, 0);
    if (rowbytes <= 0 || frame->data[0] == NULL) {
        return 0;
    }
    for (row = 0; row < frame->height; row++) {
        const uint8_t *p = frame->data[0] + (ptrdiff_t) row * frame->linesize[0];
        for (i = 0; i + 8 <= rowbytes; i += 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            h = (h ^ w) * 0x100000001b3ULL;
            h ^= h >> 29;
        }
        for (; i < rowbytes; i++) {
            h = (h ^ p[i]) * 0x100000001b3ULL;
        }
    }
    return h ? h : 1;
}
