/*
 * Dominant colour name of a box of RGB24 pixels (vehicle colour): every
 * pixel is classified in HSV into black, white, grey, silver, red, orange,
 * yellow, green, blue, purple, brown; the most frequent class wins, with
 * its share.  Pure C.
 */

#ifndef VMS_AI_COLOR_H
#define VMS_AI_COLOR_H

#include <stdint.h>

/* Returns the name (static string) or NULL for an empty box; *share gets
 * the winning fraction of the pixels. */
const char *vms_ai_color_of(const uint8_t *rgb, int stride, int width,
    int height, int x, int y, int w, int h, double *share);

/* Is this label (any provider, any case) a vehicle whose colour we add? */
int vms_ai_is_vehicle(const char *label);

#endif /* VMS_AI_COLOR_H */
