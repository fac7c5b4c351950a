/*
 * OpenCV's HOG people detector behind the C interface of hog.h.  No
 * exception crosses into C.
 */

#include "hog.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <new>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#define HOG_PERSON_PX  96.0     /* person height inside the 128 px window */
#define HOG_MAX_SIDE   1280

struct vms_hog_s {
    cv::HOGDescriptor hog;
};

extern "C" vms_hog_t *
vms_hog_new(char *err, size_t errlen)
{
    vms_hog_t *h = new (std::nothrow) vms_hog_t;

    if (h == nullptr) {
        std::snprintf(err, errlen, "hog: out of memory");
        return nullptr;
    }
    try {
        h->hog.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
    } catch (const std::exception &e) {
        std::snprintf(err, errlen, "hog: %s", e.what());
        delete h;
        return nullptr;
    }
    return h;
}

extern "C" void
vms_hog_free(vms_hog_t *h)
{
    delete h;
}

static double
overlap_ratio(const vms_hog_hit_t &a, const vms_hog_hit_t &b, double *small)
{
    int ix = std::max(0, std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x));
    int iy = std::max(0, std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y));
    double in = (double) ix * iy, aa = (double) a.w * a.h,
           ba = (double) b.w * b.h;

    *small = in / std::min(aa, ba);
    return in / (aa + ba - in);
}

extern "C" int
vms_hog_detect(vms_hog_t *hog, const uint8_t *grey, int w, int h, int stride,
    int rx, int ry, int rw, int rh, int min_person_px, double min_score,
    vms_hog_hit_t *out, int max, char *err, size_t errlen)
{
    try {
        if (rw <= 0 || rh <= 0) {
            rx = 0; ry = 0; rw = w; rh = h;
        }
        int px = rw / 4, py = rh / 4;
        int x0 = std::max(0, rx - px), y0 = std::max(0, ry - py);
        int x1 = std::min(w, rx + rw + px), y1 = std::min(h, ry + rh + py);
        if (x1 <= x0 || y1 <= y0) {
            return 0;
        }
        double s = HOG_PERSON_PX / (min_person_px > 0 ? min_person_px : 64);
        s = std::min(4.0, std::max(0.25, s));
        int side = std::max(x1 - x0, y1 - y0);
        if (side * s > HOG_MAX_SIDE) {
            s = (double) HOG_MAX_SIDE / side;
        }

        cv::Mat src(h, w, CV_8UC1, const_cast<uint8_t *>(grey),
                    (size_t) stride);
        cv::Mat roi = src(cv::Rect(x0, y0, x1 - x0, y1 - y0)), img;
        cv::resize(roi, img, cv::Size(), s, s,
                   s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
        int bx = std::max(0, 64 - img.cols), by = std::max(0, 128 - img.rows);
        if (bx || by) {
            cv::copyMakeBorder(img, img, by / 2, by - by / 2, bx / 2,
                               bx - bx / 2, cv::BORDER_REPLICATE);
        }

        std::vector<cv::Rect>   rects;
        std::vector<double>     weights;
        /* groupThreshold 0: the raw windows with their scores; our own
         * suppression below keeps the score of the best window */
        hog->hog.detectMultiScale(img, rects, weights, 0, cv::Size(8, 8),
                                  cv::Size(16, 16), 1.05, 0, false);

        std::vector<vms_hog_hit_t> raw;
        for (size_t i = 0; i < rects.size() && i < weights.size(); i++) {
            if (weights[i] < min_score) {
                continue;
            }
            const cv::Rect &r = rects[i];
            double rx0 = (r.x + r.width / 8.0 - bx / 2) / s + x0;
            double ry0 = (r.y + r.height / 8.0 - by / 2) / s + y0;
            double rx1 = rx0 + r.width * 0.75 / s;
            double ry1 = ry0 + r.height * 0.75 / s;
            vms_hog_hit_t hh;
            hh.x = std::max(0, (int) rx0);
            hh.y = std::max(0, (int) ry0);
            hh.w = std::min(w, (int) rx1) - hh.x;
            hh.h = std::min(h, (int) ry1) - hh.y;
            hh.score = weights[i];
            if (hh.w > 0 && hh.h > 0) {
                raw.push_back(hh);
            }
        }
        std::stable_sort(raw.begin(), raw.end(),
                         [](const vms_hog_hit_t &a, const vms_hog_hit_t &b) {
                             return a.score > b.score;
                         });
        int n = 0;
        for (size_t i = 0; i < raw.size() && n < max; i++) {
            bool dup = false;
            for (int k = 0; k < n && !dup; k++) {
                double small, iou = overlap_ratio(raw[i], out[k], &small);
                dup = iou > 0.3 || small > 0.6;
            }
            if (!dup) {
                out[n++] = raw[i];
            }
        }
        return n;
    } catch (const std::exception &e) {
        std::snprintf(err, errlen, "hog: %s", e.what());
        return -1;
    }
}
