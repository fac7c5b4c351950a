/*
 * Licence plate localiser by edge density, for plates the Haar cascade
 * misses (other countries' layouts, motion blur): a plate is a small
 * rectangle of plate proportions whose inside is much busier in horizontal
 * gradients (characters) than the band around it.  Windows of aspect 2..4.5
 * and heights from 1/30 to 1/5 of the image are scored with integral images
 * of the gradient magnitude:  score = density(inside) - density(ring).
 * Pure C (unit-testable), one pass, no allocation besides the integral.
 */

#ifndef VMS_AI_PLATE_H
#define VMS_AI_PLATE_H

#include <stdint.h>

typedef struct {
    int     x, y, w, h;
    double  score;        /* 0..1 */
} vms_plate_box_t;

/* 0 and the best box, or -1 when nothing plate-like stands out. */
int vms_plate_locate(const uint8_t *grey, int width, int height, int stride,
    vms_plate_box_t *out);

#endif /* VMS_AI_PLATE_H */
