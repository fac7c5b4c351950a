/*
 * The still watchdog's first look at a keyframe, before any decoding: the
 * size of its coded picture.  Decoding a 1080p keyframe costs 10-15 ms.  An
 * encoder given the same picture again codes the same slice data (an
 * encoder that changes its quantiser changes the decoded pixels too), so two
 * keyframes of one picture differ in size only by what their slice headers
 * carry besides the picture (frame_num, idr_pic_id, the picture order count,
 * reference marking: a few bits, and an emulation prevention byte more or
 * less).  A keyframe whose slices differ by more than VMS_KEYSIZE_SLACK
 * bytes each holds another picture; only one that does not is decoded, and
 * its pixels decide (snapshot.h).
 *
 * H.264 and H.265: the slice NAL units only (SEI, which may carry a camera's
 * clock, parameter sets, delimiters and filler are not counted), Annex B or
 * length-prefixed (the codec's extradata says which: avcC / hvcC).  Other
 * codecs: the whole packet.
 */

#ifndef VMS_KEYSIZE_H
#define VMS_KEYSIZE_H

#include <stddef.h>
#include <stdint.h>

#define VMS_KEYSIZE_SLACK  16

typedef enum {
    VMS_KEYSIZE_OTHER = 0,
    VMS_KEYSIZE_H264,
    VMS_KEYSIZE_H265
} vms_keysize_codec_t;

typedef struct {
    uint32_t  slices;    /* 0: nothing seen yet */
    uint64_t  bytes;
} vms_keysize_t;

/* The coded size of one keyframe.  0, or -1 when an H.264/H.265 packet has
 * no slice or its NAL units overrun it (*out then says nothing). */
int vms_keysize(vms_keysize_codec_t codec, const uint8_t *extradata,
    size_t extralen, const uint8_t *data, size_t len, vms_keysize_t *out);

/* 1 when b may hold a's picture: as many slices (not none), sizes within
 * the slack. */
int vms_keysize_may_match(const vms_keysize_t *a, const vms_keysize_t *b);

#endif /* VMS_KEYSIZE_H */
