/*
 * Dominant colour of a box (see color.h).
 */

#include "color.h"

#include <stddef.h>
#include <strings.h>

enum { C_BLACK, C_WHITE, C_GREY, C_SILVER, C_RED, C_ORANGE, C_YELLOW,
       C_GREEN, C_BLUE, C_PURPLE, C_BROWN, C_N };

static const char *names[C_N] = {
    "black", "white", "grey", "silver", "red", "orange", "yellow", "green",
    "blue", "purple", "brown",
};

static int
classify(int r, int g, int b)
{
    int mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
    int mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
    int d = mx - mn;
    double s = mx ? (double) d / mx : 0, v = mx / 255.0, hue;

    if (v < 0.18) {
        return C_BLACK;
    }
    if (s < 0.18 || d < 20) {
        return v > 0.85 ? C_WHITE : v > 0.55 ? C_SILVER : C_GREY;
    }
    if (mx == r) {
        hue = 60.0 * (double) (g - b) / d;
    } else if (mx == g) {
        hue = 60.0 * (2.0 + (double) (b - r) / d);
    } else {
        hue = 60.0 * (4.0 + (double) (r - g) / d);
    }
    if (hue < 0) {
        hue += 360;
    }
    if (hue < 15 || hue >= 330) {
        return C_RED;
    }
    if (hue < 40) {
        return v < 0.55 ? C_BROWN : C_ORANGE;
    }
    if (hue < 70) {
        return C_YELLOW;
    }
    if (hue < 170) {
        return C_GREEN;
    }
    if (hue < 260) {
        return C_BLUE;
    }
    return C_PURPLE;
}

const char *
vms_ai_color_of(const uint8_t *rgb, int stride, int width, int height,
    int x, int y, int w, int h, double *share)
{
    long cnt[C_N] = { 0 }, tot = 0;
    int  best = 0;

    if (x < 0) { w += x; x = 0; }
    if (y < 0) { h += y; y = 0; }
    if (x + w > width) w = width - x;
    if (y + h > height) h = height - y;
    if (w <= 0 || h <= 0) {
        return NULL;
    }
    for (int j = y; j < y + h; j++) {
        const uint8_t *p = rgb + (size_t) j * stride + (size_t) x * 3;
        for (int i = 0; i < w; i++, p += 3) {
            cnt[classify(p[0], p[1], p[2])]++;
            tot++;
        }
    }
    for (int c = 1; c < C_N; c++) {
        if (cnt[c] > cnt[best]) {
            best = c;
        }
    }
    if (share != NULL) {
        *share = (double) cnt[best] / (double) tot;
    }
    return names[best];
}

int
vms_ai_is_vehicle(const char *label)
{
    static const char *v[] = {
        "car", "truck", "bus", "van", "vehicle", "automobile", "suv",
        "sedan", "pickup truck", "motorcycle", "license_plate", "sports car",
        "coupe", "minivan", "taxi", NULL,
    };

    for (int i = 0; v[i] != NULL; i++) {
        if (strcasecmp(label, v[i]) == 0) {
            return 1;
        }
    }
    return 0;
}
