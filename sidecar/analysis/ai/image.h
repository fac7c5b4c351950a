/*
 * Pictures for analysis, from decoded frames: crop (AVFrame cropping, no
 * copy), scale and convert with libswscale (grey for motion, RGB24 for
 * providers), JPEG with libavcodec's MJPEG encoder.  One vms_ai_imager_t per
 * analysis thread (it caches scaler and encoder contexts).
 */

#ifndef VMS_AI_IMAGE_H
#define VMS_AI_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <libavutil/frame.h>

typedef struct {
    struct SwsContext   *sws_grey, *sws_rgb, *sws_yuv;
    struct AVCodecContext *enc;
    AVFrame             *yuv;
    struct AVPacket     *pkt;
    int                  enc_w, enc_h;
    int                  quality;       /* MJPEG qscale 2..31: 4 */
} vms_ai_imager_t;

typedef struct {
    uint8_t *data;
    int      width, height, stride;
    size_t   cap;
} vms_ai_plane_t;

void vms_ai_imager_init(vms_ai_imager_t *im);
void vms_ai_imager_free(vms_ai_imager_t *im);
void vms_ai_plane_free(vms_ai_plane_t *p);

/* A new reference to f cropped to (x, y, w, h); NULL on failure. */
AVFrame *vms_ai_crop(const AVFrame *f, int x, int y, int w, int h);

/* Scale f into out (reallocated as needed) as GRAY8 or RGB24 at w x h. */
int vms_ai_to_grey(vms_ai_imager_t *im, const AVFrame *f, int w, int h,
    vms_ai_plane_t *out);
int vms_ai_to_rgb(vms_ai_imager_t *im, const AVFrame *f, int w, int h,
    vms_ai_plane_t *out);

/* RGB24 -> JPEG into *buf (malloc'd, caller frees).  0 or -1. */
int vms_ai_jpeg(vms_ai_imager_t *im, const vms_ai_plane_t *rgb,
    uint8_t **buf, size_t *len);

#endif /* VMS_AI_IMAGE_H */
