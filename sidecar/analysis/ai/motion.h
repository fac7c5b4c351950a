/*
 * Motion trigger: pure arithmetic on small grey frames (unit-tested).
 *
 * Each sampled frame is scaled (by the caller, libswscale) to a small grey
 * image of the region being watched.  The detector then
 *   1. normalises contrast: the 2nd..98th percentile of the frame's
 *      histogram is stretched onto 0..255, so a dim night image and a bright
 *      day image compare alike and global gain changes cancel out;
 *   2. smooths with a 3x3 box filter (sensor noise, compression blocks);
 *   3. compares with a running background (exponential average, weight
 *      alpha per frame) that absorbs slow light changes: a pixel changed when
 *      |frame - background| > pixel_threshold;
 *   4. recalibrates on a sudden global change (IR cut filter switching, lights
 *      on): when more than recalibrate fraction of the pixels changed at
 *      once, the background is replaced by this frame and no motion is
 *      reported (Frigate's "lightning" rule);
 *   5. cleans the changed-pixel mask with a 3x3 opening (drops specks and
 *      1-2 pixel lines: rain, noise, wires) then a 3x3 closing (joins the
 *      parts of one body split by background-coloured clothes), and labels
 *      its connected regions (8-connected, two-pass union-find) per area;
 *   6. reports the changed-pixel fraction of every area (areas in motion
 *      image coordinates) and motion when, in any area, a region covers at
 *      least min_area of the area and an eighth of its pixels also changed
 *      since the last frame (else it is the fading trace of something that
 *      left, which the background is still learning back), or the whole
 *      fraction >= threshold.  The
 *      box is the union of the qualifying regions (plus all changed pixels
 *      of areas past threshold), padded.
 *
 * No allocation after vms_motion_init(); no threads; no I/O.
 */

#ifndef VMS_AI_MOTION_H
#define VMS_AI_MOTION_H

#include <stddef.h>
#include <stdint.h>

#define VMS_MOTION_MAX_AREAS  16

typedef struct {
    double   threshold;          /* changed fraction that is motion: 0.03 */
    double   min_area;           /* one region this fraction of the area is
                                    motion: 0.003; 0 = off */
    int      pixel_threshold;    /* grey-level difference per pixel: 25 */
    double   alpha;              /* background learning weight: 0.1 */
    double   recalibrate;        /* global change fraction: 0.6 */
    int      normalize;          /* contrast normalisation on/off: 1 */
} vms_motion_conf_t;

typedef struct {
    int x, y, w, h;
} vms_motion_rect_t;

typedef struct {
    int                 width, height;
    float              *bg;            /* background, width*height */
    uint8_t            *work;          /* normalised frame */
    uint8_t            *tmp;
    uint8_t            *mask;          /* 1 = changed, last frame */
    uint8_t            *clean;         /* mask after open + close */
    uint32_t           *labels;        /* region label per pixel */
    uint32_t           *parent;        /* union-find, provisional labels */
    uint32_t            nparent;
    int                *stat;          /* count, x0, y0, x1, y1, moving
                                          per label */
    uint8_t            *prev;          /* last frame, smoothed */
    uint8_t            *moving;        /* 1: changed since the last frame */
    vms_motion_rect_t   areas[VMS_MOTION_MAX_AREAS];
    int                 nareas;
    int                 primed;        /* background holds a frame */
    uint64_t            frames;
    uint64_t            recalibrations;
} vms_motion_t;

typedef struct {
    int                 motion;        /* 1: at least one area moved */
    int                 recalibrated;  /* background reset on this frame */
    double              fraction;      /* largest area fraction */
    double              region;        /* largest region, fraction of its
                                          area (after clean-up) */
    int                 regions;       /* qualifying regions, all areas */
    double              area_fraction[VMS_MOTION_MAX_AREAS];
    vms_motion_rect_t   box;           /* padded union of the qualifying
                                          regions (w == 0: none) */
} vms_motion_result_t;

void vms_motion_conf_default(vms_motion_conf_t *conf);

/* areas: NULL/0 for the whole image.  Areas are clipped to the image.
 * 0, or -1 on bad sizes or allocation failure. */
int vms_motion_init(vms_motion_t *m, int width, int height,
    const vms_motion_rect_t *areas, int nareas);
void vms_motion_free(vms_motion_t *m);

/* grey: width x height, stride bytes per row. */
void vms_motion_feed(vms_motion_t *m, const vms_motion_conf_t *conf,
    const uint8_t *grey, int stride, vms_motion_result_t *res);

/* Exposed for tests: stretch the [lo, hi] percentile range of src onto
 * 0..255 into dst (both width*height, packed). */
void vms_motion_normalize(const uint8_t *src, uint8_t *dst, size_t n,
    double lo_pct, double hi_pct);

#endif /* VMS_AI_MOTION_H */
