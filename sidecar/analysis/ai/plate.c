/*
 * Plate localiser by edge density (see plate.h).
 */

#include "plate.h"

#include <stdlib.h>
#include <string.h>

#ifndef MIN_SCORE
#define MIN_SCORE  0.12
#endif

static double
rect_sum(const double *ii, int iw, int x0, int y0, int x1, int y1)
{
    /* ii is (w+1) x (h+1); sum over [x0,x1) x [y0,y1) */
    return ii[(size_t) y1 * iw + x1] - ii[(size_t) y0 * iw + x1]
           - ii[(size_t) y1 * iw + x0] + ii[(size_t) y0 * iw + x0];
}

int
vms_plate_locate(const uint8_t *grey, int width, int height, int stride,
    vms_plate_box_t *out)
{
    static const double aspects[] = { 2.0, 2.5, 3.0, 3.5, 4.5 };
    int      iw = width + 1;
    double  *ii, best = MIN_SCORE;
    int      found = -1;

    if (width < 32 || height < 16) {
        return -1;
    }
    ii = calloc((size_t) iw * (height + 1), sizeof(double));
    if (ii == NULL) {
        return -1;
    }
    for (int y = 0; y < height; y++) {
        const uint8_t *r = grey + (size_t) y * stride;
        double row = 0;
        for (int x = 0; x < width; x++) {
            int g = 0;
            if (x > 0 && x < width - 1) {
                g = abs((int) r[x + 1] - (int) r[x - 1]);
            }
            row += g / 255.0;
            ii[(size_t) (y + 1) * iw + x + 1] = ii[(size_t) y * iw + x + 1]
                                                + row;
        }
    }
    for (int h = height / 30 > 10 ? height / 30 : 10; h <= height / 5;
         h = h * 115 / 100 + 1)
    {
        for (size_t a = 0; a < sizeof(aspects) / sizeof(aspects[0]); a++) {
            int w = (int) (h * aspects[a]);
            int step = h / 4 > 1 ? h / 4 : 1;
            int mx = h / 2, my = h / 2;           /* ring width */

            if (w + 2 * mx > width || h + 2 * my > height) {
                continue;
            }
            for (int y = my; y + h + my <= height; y += step) {
                for (int x = mx; x + w + mx <= width; x += step) {
                    double in = rect_sum(ii, iw, x, y, x + w, y + h);
                    double all = rect_sum(ii, iw, x - mx, y - my, x + w + mx,
                                          y + h + my);
                    double din = in / ((double) w * h);
                    double dring = (all - in)
                                   / ((double) (w + 2 * mx) * (h + 2 * my)
                                      - (double) w * h);
                    double s = din - dring;

                    if (s > best) {
                        best = s;
                        *out = (vms_plate_box_t) { x, y, w, h, 0 };
                        found = 0;
                    }
                }
            }
        }
    }
    free(ii);
    if (found == 0) {
        /* density differences of 0.12..0.4 map onto 0.5..1 */
        double sc = 0.5 + (best - MIN_SCORE) / 0.56;
        out->score = sc > 1 ? 1 : sc;
    }
    return found;
}
