/*
 * Pictures from decoded keyframes: JPEG snapshots (libavcodec mjpeg +
 * libswscale) and the fingerprint used by the still-picture watchdog: a
 * 64-bit hash of the decoded picture's first plane (luma), so "still" means
 * pixel-identical keyframes (a frozen encoder), never a quiet scene, whose
 * sensor noise changes the hash.
 */

#ifndef VMS_SNAPSHOT_H
#define VMS_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <libavutil/frame.h>

/* Encode frame as JPEG no wider than max_width.  *out is av_malloc'ed
 * (av_free it).  0 or a negative AVERROR. */
int vms_jpeg_encode(const AVFrame *frame, int max_width, uint8_t **out,
    size_t *len);

/* Hash of the picture's first plane (visible bytes only). */
uint64_t vms_fingerprint(const AVFrame *frame);

#endif /* VMS_SNAPSHOT_H */
