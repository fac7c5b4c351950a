/*
 * C interface to OpenCV's cascade classifier (cascade.cpp is the only file
 * that includes OpenCV).  Used by the local provider for faces and plates
 * with the trained cascades of Debian's opencv-data.
 */

#ifndef VMS_AI_CASCADE_H
#define VMS_AI_CASCADE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vms_cascade_s vms_cascade_t;

typedef struct {
    int x, y, w, h;
    int neighbors;          /* raw detections merged into this one */
} vms_cascade_hit_t;

typedef struct {
    double  scale_factor;   /* 1.1 */
    int     min_neighbors;  /* 5 */
    int     min_w, min_h;   /* smallest object in pixels */
    int     equalize;       /* histogram equalisation first */
} vms_cascade_params_t;

/* NULL with a message (file missing or not a cascade). */
vms_cascade_t *vms_cascade_load(const char *path, char *err, size_t errlen);
void vms_cascade_free(vms_cascade_t *c);

/* grey: w x h, stride bytes per row.  Returns the number of hits written
 * (at most max), or -1 with a message. */
int vms_cascade_detect(vms_cascade_t *c, const uint8_t *grey, int w, int h,
    int stride, const vms_cascade_params_t *p, vms_cascade_hit_t *out,
    int max, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* VMS_AI_CASCADE_H */
