/*
 * Motion trigger (see motion.h for the algorithm and its reasons).
 */

#include "motion.h"

#include <stdlib.h>
#include <string.h>

void
vms_motion_conf_default(vms_motion_conf_t *conf)
{
    conf->threshold = 0.03;
    conf->pixel_threshold = 25;
    conf->alpha = 0.1;
    conf->recalibrate = 0.6;
    conf->normalize = 1;
}

static void
clip_rect(vms_motion_rect_t *r, int width, int height)
{
    int x1 = r->x + r->w, y1 = r->y + r->h;

    if (r->x < 0) r->x = 0;
    if (r->y < 0) r->y = 0;
    if (x1 > width) x1 = width;
    if (y1 > height) y1 = height;
    r->w = x1 > r->x ? x1 - r->x : 0;
    r->h = y1 > r->y ? y1 - r->y : 0;
}

int
vms_motion_init(vms_motion_t *m, int width, int height,
    const vms_motion_rect_t *areas, int nareas)
{
    size_t n;

    memset(m, 0, sizeof(*m));
    if (width <= 0 || height <= 0 || width > 4096 || height > 4096
        || nareas < 0 || nareas > VMS_MOTION_MAX_AREAS)
    {
        return -1;
    }
    n = (size_t) width * (size_t) height;
    m->width = width;
    m->height = height;
    m->bg = calloc(n, sizeof(float));
    m->work = malloc(n);
    m->tmp = malloc(n);
    m->mask = calloc(n, 1);
    if (m->bg == NULL || m->work == NULL || m->tmp == NULL || m->mask == NULL) {
        vms_motion_free(m);
        return -1;
    }
    if (areas == NULL || nareas == 0) {
        m->areas[0] = (vms_motion_rect_t) { 0, 0, width, height };
        m->nareas = 1;
    } else {
        for (int i = 0; i < nareas; i++) {
            m->areas[i] = areas[i];
            clip_rect(&m->areas[i], width, height);
        }
        m->nareas = nareas;
    }
    return 0;
}

void
vms_motion_free(vms_motion_t *m)
{
    free(m->bg);
    free(m->work);
    free(m->tmp);
    free(m->mask);
    m->bg = NULL;
    m->work = m->tmp = m->mask = NULL;
}

void
vms_motion_normalize(const uint8_t *src, uint8_t *dst, size_t n,
    double lo_pct, double hi_pct)
{
    size_t   hist[256] = { 0 }, acc = 0, lo_n, hi_n;
    int      lo = 0, hi = 255;
    uint8_t  lut[256];

    if (n == 0) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        hist[src[i]]++;
    }
    lo_n = (size_t) (lo_pct * (double) n);
    hi_n = (size_t) (hi_pct * (double) n);
    for (int v = 0; v < 256; v++) {
        acc += hist[v];
        if (acc <= lo_n) {
            lo = v;
        }
        if (acc < hi_n) {
            hi = v + 1 > 255 ? 255 : v + 1;
        }
    }
    if (hi - lo < 16) {
        /* a flat image (a lens cap, a dark room): stretching would only
         * amplify noise into motion */
        memcpy(dst, src, n);
        return;
    }
    for (int v = 0; v < 256; v++) {
        int o = v <= lo ? 0 : v >= hi ? 255 : (v - lo) * 255 / (hi - lo);
        lut[v] = (uint8_t) o;
    }
    for (size_t i = 0; i < n; i++) {
        dst[i] = lut[src[i]];
    }
}

/* 3x3 box filter, edges replicated. */
static void
box3(const uint8_t *src, uint8_t *dst, int w, int h)
{
    for (int y = 0; y < h; y++) {
        const uint8_t *r0 = src + (size_t) (y > 0 ? y - 1 : y) * w;
        const uint8_t *r1 = src + (size_t) y * w;
        const uint8_t *r2 = src + (size_t) (y < h - 1 ? y + 1 : y) * w;

        for (int x = 0; x < w; x++) {
            int xl = x > 0 ? x - 1 : x, xr = x < w - 1 ? x + 1 : x;
            int s = r0[xl] + r0[x] + r0[xr] + r1[xl] + r1[x] + r1[xr]
                    + r2[xl] + r2[x] + r2[xr];
            dst[(size_t) y * w + x] = (uint8_t) (s / 9);
        }
    }
}

void
vms_motion_feed(vms_motion_t *m, const vms_motion_conf_t *conf,
    const uint8_t *grey, int stride, vms_motion_result_t *res)
{
    int     w = m->width, h = m->height;
    size_t  n = (size_t) w * (size_t) h, changed = 0;
    float   alpha = (float) conf->alpha, pt = (float) conf->pixel_threshold;

    memset(res, 0, sizeof(*res));
    for (int y = 0; y < h; y++) {
        memcpy(m->tmp + (size_t) y * w, grey + (size_t) y * stride, w);
    }
    if (conf->normalize) {
        vms_motion_normalize(m->tmp, m->work, n, 0.02, 0.98);
    } else {
        memcpy(m->work, m->tmp, n);
    }
    box3(m->work, m->tmp, w, h);
    m->frames++;

    if (!m->primed) {
        for (size_t i = 0; i < n; i++) {
            m->bg[i] = m->tmp[i];
        }
        memset(m->mask, 0, n);
        m->primed = 1;
        return;
    }

    for (size_t i = 0; i < n; i++) {
        float d = (float) m->tmp[i] - m->bg[i];
        uint8_t c = (d > pt || d < -pt);
        m->mask[i] = c;
        changed += c;
    }

    if ((double) changed > conf->recalibrate * (double) n) {
        for (size_t i = 0; i < n; i++) {
            m->bg[i] = m->tmp[i];
        }
        memset(m->mask, 0, n);
        m->recalibrations++;
        res->recalibrated = 1;
        return;
    }

    for (size_t i = 0; i < n; i++) {
        m->bg[i] += alpha * ((float) m->tmp[i] - m->bg[i]);
    }

    int bx0 = w, by0 = h, bx1 = -1, by1 = -1;
    for (int a = 0; a < m->nareas; a++) {
        const vms_motion_rect_t *r = &m->areas[a];
        size_t cnt = 0, tot = (size_t) r->w * (size_t) r->h;
        int ax0 = w, ay0 = h, ax1 = -1, ay1 = -1;

        for (int y = r->y; y < r->y + r->h; y++) {
            const uint8_t *mk = m->mask + (size_t) y * w;
            for (int x = r->x; x < r->x + r->w; x++) {
                if (mk[x]) {
                    cnt++;
                    if (x < ax0) ax0 = x;
                    if (x > ax1) ax1 = x;
                    if (y < ay0) ay0 = y;
                    if (y > ay1) ay1 = y;
                }
            }
        }
        res->area_fraction[a] = tot ? (double) cnt / (double) tot : 0.0;
        if (res->area_fraction[a] > res->fraction) {
            res->fraction = res->area_fraction[a];
        }
        if (tot && res->area_fraction[a] >= conf->threshold && cnt > 0) {
            res->motion = 1;
            if (ax0 < bx0) bx0 = ax0;
            if (ay0 < by0) by0 = ay0;
            if (ax1 > bx1) bx1 = ax1;
            if (ay1 > by1) by1 = ay1;
        }
    }
    if (res->motion) {
        res->box = (vms_motion_rect_t) { bx0, by0, bx1 - bx0 + 1, by1 - by0 + 1 };
    }
}
