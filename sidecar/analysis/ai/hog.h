/*
 * C interface to OpenCV's HOG people detector (hog.cpp): the linear SVM of
 * cv::HOGDescriptor::getDefaultPeopleDetector() (Dalal-Triggs, trained on
 * INRIA pedestrians), compiled into libopencv-objdetect: no model file.
 *
 * The detector scores 64x128 windows in which a standing person is about
 * 96 px tall.  vms_hog_detect() searches one region of a grey picture:
 *   - the region is padded by a quarter of its height and width on each
 *     side (clipped to the picture): the window needs margin around a person
 *     that fills a tight motion box;
 *   - scaled by s = 96 / min_person_px (clamped to 0.25..4), so the smallest
 *     person asked for fills the window; then reduced if needed so the longer
 *     side stays <= 1280 px (persons smaller than min_person_px / s' are then
 *     missed); a region smaller than the window is padded by replication;
 *   - searched with an image pyramid (factor 1.05, 8 px stride), so persons
 *     from min_person_px up to the region's size are found;
 *   - raw windows scoring >= min_score (the SVM margin) are merged by
 *     non-maximum suppression (greedy, best first; a window overlapping a
 *     kept one by IoU > 0.3 or by over 60 % of the smaller is dropped).
 * A hit's box is the window shrunk to the person (1/8 off each side) in
 * picture coordinates; score is the SVM margin (> 0: a person).
 */

#ifndef VMS_AI_HOG_H
#define VMS_AI_HOG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vms_hog_s vms_hog_t;

typedef struct {
    int     x, y, w, h;
    double  score;          /* SVM margin */
} vms_hog_hit_t;

vms_hog_t *vms_hog_new(char *err, size_t errlen);
void vms_hog_free(vms_hog_t *h);

/* grey: w x h, stride bytes per row; region rx,ry,rw,rh in it (rw 0: the
 * whole picture).  Returns the number of hits written (at most max, best
 * first), or -1 with a message. */
int vms_hog_detect(vms_hog_t *hog, const uint8_t *grey, int w, int h,
    int stride, int rx, int ry, int rw, int rh, int min_person_px,
    double min_score, vms_hog_hit_t *out, int max, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* VMS_AI_HOG_H */
