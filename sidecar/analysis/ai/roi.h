/*
 * Regions of interest: per camera `roi_areas`, a JSON array of rectangles in
 * source pixels, e.g. [{"x":100,"y":200,"width":400,"height":300}].
 *
 *   parse     at configuration time: syntax, non-negative integers, positive
 *             sizes, at most VMS_ROI_MAX areas (the frame size is unknown);
 *   validate  at the first frame: every area inside the frame, with an error
 *             naming the area and the frame size;
 *   crop      the bounding box of all areas, aligned to even pixels so that
 *             4:2:0 chroma planes can be cropped by pointer arithmetic;
 *   map       a box found in a scaled image of the crop back to full-frame
 *             source pixels.
 *
 * Pure C, no allocation after parse (unit-tested).
 */

#ifndef VMS_AI_ROI_H
#define VMS_AI_ROI_H

#include <stddef.h>

#define VMS_ROI_MAX  16

typedef struct {
    int x, y, w, h;
} vms_roi_rect_t;

typedef struct {
    vms_roi_rect_t  area[VMS_ROI_MAX];
    int             n;            /* 0: the whole frame */
} vms_roi_t;

/* 0, or -1 with a message in err. */
int vms_roi_parse(vms_roi_t *roi, const char *json, char *err, size_t errlen);

/* Every area inside width x height?  0, or -1 with a message. */
int vms_roi_validate(const vms_roi_t *roi, int width, int height,
    char *err, size_t errlen);

/* Bounding box of the areas (the whole frame when there are none), grown to
 * even x/y/width/height and clipped to the frame. */
void vms_roi_crop(const vms_roi_t *roi, int width, int height,
    vms_roi_rect_t *crop);

/* Box b in an image of size sw x sh that shows crop, mapped to full-frame
 * pixels (rounded, clipped to the crop). */
void vms_roi_map(const vms_roi_rect_t *crop, int sw, int sh,
    const vms_roi_rect_t *b, vms_roi_rect_t *out);

/* Areas expressed in an image of size sw x sh showing crop (for motion). */
int vms_roi_areas_in(const vms_roi_t *roi, const vms_roi_rect_t *crop,
    int sw, int sh, vms_roi_rect_t *out, int max);

/* Does the centre of full-frame box b lie in an area (always when none)? */
int vms_roi_contains_centre(const vms_roi_t *roi, const vms_roi_rect_t *b);

#endif /* VMS_AI_ROI_H */
