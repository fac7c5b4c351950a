/* Generated scenes, drawn straight into I420 frames (BT.601 limited range).
 *
 * Both scenes carry a frame counter in the bottom-left corner: 12 square cells showing the loop frame
 * index in binary (most significant bit left, white = 1), so every frame differs from the previous one
 * by a few cells (< 0.5 % of the pixels) and a decoded picture tells which loop frame it is.
 *
 * bars:   seven 75 % colour bars over the top three quarters, a dark strip below with the counter and a
 *         small grey square crossing the strip once every 4 seconds.
 * motion: a static dark-grey room (gradient plus two static blocks) and the counter; during
 *         [CAMSIM_MOTION_START_S, CAMSIM_MOTION_END_S) of each loop a bright white box, a quarter of the
 *         picture height on each side, crosses the picture left to right at mid height. */
#include "camsim.h"

#include <string.h>

typedef struct {
    guint8 *y, *u, *v;
    int     w, h;
} pic_t;

static void fill_rect(pic_t *p, int x0, int y0, int rw, int rh, guint8 Y, guint8 U, guint8 V)
{
    if (x0 < 0) { rw += x0; x0 = 0; }
    if (y0 < 0) { rh += y0; y0 = 0; }
    if (x0 + rw > p->w) rw = p->w - x0;
    if (y0 + rh > p->h) rh = p->h - y0;
    if (rw <= 0 || rh <= 0)
        return;
    for (int r = y0; r < y0 + rh; r++)
        memset(p->y + (gsize)r * p->w + x0, Y, rw);
    int cw = p->w / 2;
    for (int r = y0 / 2; r < (y0 + rh + 1) / 2; r++) {
        memset(p->u + (gsize)r * cw + x0 / 2, U, (x0 + rw + 1) / 2 - x0 / 2);
        memset(p->v + (gsize)r * cw + x0 / 2, V, (x0 + rw + 1) / 2 - x0 / 2);
    }
}

static int cell_size(int h)
{
    int c = h / 36;
    return (c < 4 ? 4 : c) & ~1;
}

static void draw_counter(pic_t *p, guint i)
{
    int c = cell_size(p->h);
    int y0 = p->h - 2 * c;
    for (int bit = 0; bit < 12; bit++) {
        gboolean on = (i >> (11 - bit)) & 1;
        fill_rect(p, c + bit * c, y0, c, c, on ? 235 : 16, 128, 128);
    }
}

static void render_bars(pic_t *p, int fps, guint i)
{
    static const guint8 bars[7][3] = {
        {180, 128, 128}, {162, 44, 142}, {131, 156, 44}, {112, 72, 58},
        {84, 184, 198},  {65, 100, 212}, {35, 212, 114},
    };
    int top = (p->h * 3 / 4) & ~1;
    for (int b = 0; b < 7; b++) {
        int x0 = (p->w * b / 7) & ~1, x1 = (b == 6) ? p->w : ((p->w * (b + 1) / 7) & ~1);
        fill_rect(p, x0, 0, x1 - x0, top, bars[b][0], bars[b][1], bars[b][2]);
    }
    fill_rect(p, 0, top, p->w, p->h - top, 24, 128, 128);
    /* The grey square crosses the right half of the strip once every 4 s. */
    int sq = cell_size(p->h) * 2;
    int span = p->w / 2 - sq;
    guint period = (guint)fps * 4;
    int x = p->w / 2 + (int)((gint64)span * (i % period) / period);
    fill_rect(p, x & ~1, top + (p->h - top - sq) / 2, sq, sq, 128, 128, 128);
    draw_counter(p, i);
}

static void render_motion(pic_t *p, int fps, guint i)
{
    /* Static background: a vertical gradient, two darker blocks. */
    for (int r = 0; r < p->h; r++)
        memset(p->y + (gsize)r * p->w, 40 + 40 * r / p->h, p->w);
    memset(p->u, 128, (gsize)(p->w / 2) * (p->h / 2));
    memset(p->v, 128, (gsize)(p->w / 2) * (p->h / 2));
    fill_rect(p, (p->w / 8) & ~1, (p->h / 4) & ~1, (p->w / 6) & ~1, (p->h / 2) & ~1, 30, 120, 132);
    fill_rect(p, (p->w * 5 / 8) & ~1, (p->h / 3) & ~1, (p->w / 5) & ~1, (p->h / 3) & ~1, 55, 136, 122);

    guint start = (guint)(CAMSIM_MOTION_START_S * fps), end = (guint)(CAMSIM_MOTION_END_S * fps);
    if (i >= start && i < end) {
        int box = (p->h / 4) & ~1;
        int x = (int)((gint64)(p->w - box) * (i - start) / (end - start));
        fill_rect(p, x & ~1, ((p->h - box) / 2) & ~1, box, box, 235, 128, 128);
    }
    draw_counter(p, i);
}

void camsim_scene_render(camsim_scene_t scene, guint8 *i420, int w, int h, int fps, guint i)
{
    pic_t p = { .y = i420, .u = i420 + (gsize)w * h, .v = i420 + (gsize)w * h + (gsize)(w / 2) * (h / 2),
                .w = w, .h = h };
    if (scene == SCENE_MOTION)
        render_motion(&p, fps, i);
    else
        render_bars(&p, fps, i);
}
