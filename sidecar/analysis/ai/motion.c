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
    conf->min_area = 0.003;
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
    m->clean = calloc(n, 1);
    m->prev = malloc(n);
    m->moving = calloc(n, 1);
    m->labels = calloc(n, sizeof(uint32_t));
    /* 8-connected first pass: a new label needs its left neighbour empty,
     * so at most ceil(w/2) new labels a row */
    m->nparent = (uint32_t) ((size_t) (width / 2 + 1) * (size_t) height + 2);
    m->parent = calloc(m->nparent, sizeof(uint32_t));
    m->stat = calloc((size_t) m->nparent * 6, sizeof(int));
    if (m->bg == NULL || m->work == NULL || m->tmp == NULL || m->mask == NULL
        || m->clean == NULL || m->labels == NULL || m->parent == NULL
        || m->stat == NULL || m->prev == NULL || m->moving == NULL)
    {
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
    free(m->clean);
    free(m->labels);
    free(m->parent);
    free(m->stat);
    free(m->prev);
    free(m->moving);
    m->bg = NULL;
    m->work = m->tmp = m->mask = m->clean = NULL;
    m->labels = m->parent = NULL;
    m->stat = NULL;
    m->prev = m->moving = NULL;
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

enum { F3_BLUR, F3_ERODE, F3_DILATE };

/* A 3x3 neighbourhood, edges replicated (a region touching the border is
 * not eaten from outside): F3_BLUR the mean (box filter), on a 0/1 mask
 * F3_ERODE 1 where all nine are set, F3_DILATE 1 where any is. */
static void
filter3(const uint8_t *src, uint8_t *dst, int w, int h, int op)
{
    for (int y = 0; y < h; y++) {
        const uint8_t *r0 = src + (size_t) (y > 0 ? y - 1 : y) * w;
        const uint8_t *r1 = src + (size_t) y * w;
        const uint8_t *r2 = src + (size_t) (y < h - 1 ? y + 1 : y) * w;

        for (int x = 0; x < w; x++) {
            int xl = x > 0 ? x - 1 : x, xr = x < w - 1 ? x + 1 : x;
            int s = r0[xl] + r0[x] + r0[xr] + r1[xl] + r1[x] + r1[xr]
                    + r2[xl] + r2[x] + r2[xr];
            dst[(size_t) y * w + x] = (uint8_t) (op == F3_BLUR ? s / 9
                                                 : op == F3_ERODE ? s == 9
                                                 : s > 0);
        }
    }
}

static uint32_t
uf_find(uint32_t *parent, uint32_t l)
{
    while (parent[l] != l) {
        parent[l] = parent[parent[l]];
        l = parent[l];
    }
    return l;
}

static void
uf_union(uint32_t *parent, uint32_t a, uint32_t b)
{
    a = uf_find(parent, a);
    b = uf_find(parent, b);
    if (a < b) {
        parent[b] = a;
    } else if (b < a) {
        parent[a] = b;
    }
}

/* Two-pass 8-connected labelling of m->clean inside r.  Afterwards every
 * root label l (parent[l] == l, 1 <= l < return value) has its pixel count
 * bounding box and count of pixels that changed since the last frame too
 * (m->moving) in stat[6l .. 6l+5]. */
static uint32_t
label_rect(vms_motion_t *m, const vms_motion_rect_t *r)
{
    int        w = m->width;
    uint32_t   next = 1, *lab = m->labels, *par = m->parent;

    for (int y = r->y; y < r->y + r->h; y++) {
        for (int x = r->x; x < r->x + r->w; x++) {
            size_t    i = (size_t) y * w + x;
            uint32_t  nb[4];
            int       k = 0;

            if (!m->clean[i]) {
                lab[i] = 0;
                continue;
            }
            if (x > r->x && lab[i - 1]) nb[k++] = lab[i - 1];
            if (y > r->y) {
                size_t u = i - (size_t) w;
                if (x > r->x && lab[u - 1]) nb[k++] = lab[u - 1];
                if (lab[u]) nb[k++] = lab[u];
                if (x + 1 < r->x + r->w && lab[u + 1]) nb[k++] = lab[u + 1];
            }
            if (k == 0) {
                if (next >= m->nparent) {      /* cannot happen: see init */
                    lab[i] = 0;
                    continue;
                }
                par[next] = next;
                lab[i] = next++;
                continue;
            }
            lab[i] = nb[0];
            for (int j = 1; j < k; j++) {
                uf_union(par, nb[0], nb[j]);
            }
        }
    }
    for (uint32_t l = 1; l < next; l++) {
        int *st = m->stat + (size_t) l * 6;
        st[0] = 0;
        st[1] = w;
        st[2] = m->height;
        st[3] = -1;
        st[4] = -1;
        st[5] = 0;
    }
    for (int y = r->y; y < r->y + r->h; y++) {
        for (int x = r->x; x < r->x + r->w; x++) {
            size_t i = (size_t) y * w + x;
            if (lab[i] == 0) {
                continue;
            }
            uint32_t l = uf_find(par, lab[i]);
            int *st = m->stat + (size_t) l * 6;
            st[0]++;
            if (x < st[1]) st[1] = x;
            if (y < st[2]) st[2] = y;
            if (x > st[3]) st[3] = x;
            if (y > st[4]) st[4] = y;
            st[5] += m->moving[i];
        }
    }
    return next;
}

static void
grow(int *b, int x0, int y0, int x1, int y1)
{
    if (x0 < b[0]) b[0] = x0;
    if (y0 < b[1]) b[1] = y0;
    if (x1 > b[2]) b[2] = x1;
    if (y1 > b[3]) b[3] = y1;
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
    filter3(m->work, m->tmp, w, h, F3_BLUR);
    m->frames++;

    if (!m->primed) {
        for (size_t i = 0; i < n; i++) {
            m->bg[i] = m->tmp[i];
        }
        memset(m->mask, 0, n);
        memcpy(m->prev, m->tmp, n);
        m->primed = 1;
        return;
    }
    if (conf->min_area > 0) {
        /* only regions use it (min_area 0: the fraction-only path) */
        for (size_t i = 0; i < n; i++) {
            int d = (int) m->tmp[i] - (int) m->prev[i];
            m->moving[i] = (uint8_t) (d > pt || d < -pt);
        }
    }
    memcpy(m->prev, m->tmp, n);

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

    if (conf->min_area > 0) {
        /* open (erode, dilate) then close (dilate, erode) */
        filter3(m->mask, m->clean, w, h, F3_ERODE);
        filter3(m->clean, m->tmp, w, h, F3_DILATE);
        filter3(m->tmp, m->clean, w, h, F3_DILATE);
        filter3(m->clean, m->tmp, w, h, F3_ERODE);
        memcpy(m->clean, m->tmp, n);
    }

    int box[4] = { w, h, -1, -1 };
    for (int a = 0; a < m->nareas; a++) {
        const vms_motion_rect_t *r = &m->areas[a];
        size_t cnt = 0, tot = (size_t) r->w * (size_t) r->h;
        int ab[4] = { w, h, -1, -1 };

        if (tot == 0) {
            continue;
        }
        for (int y = r->y; y < r->y + r->h; y++) {
            const uint8_t *mk = m->mask + (size_t) y * w;
            for (int x = r->x; x < r->x + r->w; x++) {
                if (mk[x]) {
                    cnt++;
                    grow(ab, x, y, x, y);
                }
            }
        }
        res->area_fraction[a] = (double) cnt / (double) tot;
        if (res->area_fraction[a] > res->fraction) {
            res->fraction = res->area_fraction[a];
        }
        if (cnt > 0 && res->area_fraction[a] >= conf->threshold) {
            res->motion = 1;
            grow(box, ab[0], ab[1], ab[2], ab[3]);
        }
        if (cnt == 0 || conf->min_area <= 0) {
            continue;               /* min_area off: the fraction alone */
        }
        uint32_t nl = label_rect(m, r);
        for (uint32_t l = 1; l < nl; l++) {
            const int *st = m->stat + (size_t) l * 6;
            double f;

            if (m->parent[l] != l || st[0] == 0) {
                continue;
            }
            f = (double) st[0] / (double) tot;
            if (f > res->region) {
                res->region = f;
            }
            /* a region whose pixels no longer change is the trace of
             * something that left, which the background is still learning
             * back: motion needs an eighth of it changed since the last
             * frame too */
            if (conf->min_area > 0 && f >= conf->min_area
                && (int64_t) st[5] * 8 >= st[0])
            {
                res->motion = 1;
                res->regions++;
                grow(box, st[1], st[2], st[3], st[4]);
            }
        }
    }
    if (res->motion && box[2] >= 0) {
        /* pad by 2 pixels + 1/8 of the size each side: the provider gets
         * the whole body, not the part that moved */
        int px = 2 + (box[2] - box[0] + 1) / 8;
        int py = 2 + (box[3] - box[1] + 1) / 8;
        int x0 = box[0] - px < 0 ? 0 : box[0] - px;
        int y0 = box[1] - py < 0 ? 0 : box[1] - py;
        int x1 = box[2] + px > w - 1 ? w - 1 : box[2] + px;
        int y1 = box[3] + py > h - 1 ? h - 1 : box[3] + py;
        res->box = (vms_motion_rect_t) { x0, y0, x1 - x0 + 1, y1 - y0 + 1 };
    }
}
