/*
 * The one C++ file: OpenCV's CascadeClassifier behind the C interface of
 * cascade.h.  No exception crosses into C.
 */

#include "cascade.h"

#include <cstdio>
#include <exception>
#include <new>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

struct vms_cascade_s {
    cv::CascadeClassifier cc;
};

extern "C" vms_cascade_t *
vms_cascade_load(const char *path, char *err, size_t errlen)
{
    vms_cascade_t *c = new (std::nothrow) vms_cascade_t;

    if (c == nullptr) {
        std::snprintf(err, errlen, "cascade %s: out of memory", path);
        return nullptr;
    }
    try {
        if (!c->cc.load(path)) {
            std::snprintf(err, errlen, "cascade %s: cannot load (missing or "
                          "not a cascade; Debian package opencv-data)", path);
            delete c;
            return nullptr;
        }
    } catch (const std::exception &e) {
        std::snprintf(err, errlen, "cascade %s: %s", path, e.what());
        delete c;
        return nullptr;
    }
    return c;
}

extern "C" void
vms_cascade_free(vms_cascade_t *c)
{
    delete c;
}

extern "C" int
vms_cascade_detect(vms_cascade_t *c, const uint8_t *grey, int w, int h,
    int stride, const vms_cascade_params_t *p, vms_cascade_hit_t *out,
    int max, char *err, size_t errlen)
{
    try {
        cv::Mat src(h, w, CV_8UC1, const_cast<uint8_t *>(grey),
                    (size_t) stride);
        cv::Mat img;
        std::vector<cv::Rect> rects;
        std::vector<int> counts;

        if (p->equalize) {
            cv::equalizeHist(src, img);
        } else {
            img = src;
        }
        c->cc.detectMultiScale(img, rects, counts, p->scale_factor,
                               p->min_neighbors, 0,
                               cv::Size(p->min_w, p->min_h));
        int n = 0;
        for (size_t i = 0; i < rects.size() && n < max; i++, n++) {
            out[n].x = rects[i].x;
            out[n].y = rects[i].y;
            out[n].w = rects[i].width;
            out[n].h = rects[i].height;
            out[n].neighbors = i < counts.size() ? counts[i] : 0;
        }
        return n;
    } catch (const std::exception &e) {
        std::snprintf(err, errlen, "cascade: %s", e.what());
        return -1;
    }
}
