/*
 * Regions of interest (see roi.h).
 */

#include "roi.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define ROI_COORD_MAX  65536

static int
get_coord(json_t *obj, const char *name, int i, int min, int *out,
    char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, name);

    if (!json_is_integer(v)) {
        snprintf(err, errlen, "roi_areas[%d]: \"%s\" must be an integer", i,
                 name);
        return -1;
    }
    if (json_integer_value(v) < min || json_integer_value(v) > ROI_COORD_MAX) {
        snprintf(err, errlen, "roi_areas[%d]: \"%s\" = %lld out of range "
                 "%d..%d", i, name, (long long) json_integer_value(v), min,
                 ROI_COORD_MAX);
        return -1;
    }
    *out = (int) json_integer_value(v);
    return 0;
}

int
vms_roi_parse(vms_roi_t *roi, const char *text, char *err, size_t errlen)
{
    json_error_t  je;
    json_t       *arr, *it;
    size_t        i;
    const char   *key;
    json_t       *val;

    memset(roi, 0, sizeof(*roi));
    arr = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (arr == NULL) {
        snprintf(err, errlen, "roi_areas: invalid JSON at column %d: %s",
                 je.column, je.text);
        return -1;
    }
    if (!json_is_array(arr)) {
        snprintf(err, errlen, "roi_areas: expected a JSON array of "
                 "{\"x\",\"y\",\"width\",\"height\"} objects");
        goto fail;
    }
    if (json_array_size(arr) > VMS_ROI_MAX) {
        snprintf(err, errlen, "roi_areas: %zu areas, at most %d",
                 json_array_size(arr), VMS_ROI_MAX);
        goto fail;
    }
    json_array_foreach(arr, i, it) {
        vms_roi_rect_t *r = &roi->area[i];

        if (!json_is_object(it)) {
            snprintf(err, errlen, "roi_areas[%zu]: expected an object", i);
            goto fail;
        }
        json_object_foreach(it, key, val) {
            if (strcmp(key, "x") && strcmp(key, "y") && strcmp(key, "width")
                && strcmp(key, "height"))
            {
                snprintf(err, errlen, "roi_areas[%zu]: unknown member \"%.32s\"",
                         i, key);
                goto fail;
            }
        }
        if (get_coord(it, "x", (int) i, 0, &r->x, err, errlen) < 0
            || get_coord(it, "y", (int) i, 0, &r->y, err, errlen) < 0
            || get_coord(it, "width", (int) i, 1, &r->w, err, errlen) < 0
            || get_coord(it, "height", (int) i, 1, &r->h, err, errlen) < 0)
        {
            goto fail;
        }
    }
    roi->n = (int) json_array_size(arr);
    json_decref(arr);
    return 0;

fail:
    json_decref(arr);
    memset(roi, 0, sizeof(*roi));
    return -1;
}

int
vms_roi_validate(const vms_roi_t *roi, int width, int height, char *err,
    size_t errlen)
{
    for (int i = 0; i < roi->n; i++) {
        const vms_roi_rect_t *r = &roi->area[i];

        if ((long) r->x + r->w > width || (long) r->y + r->h > height) {
            snprintf(err, errlen, "roi_areas[%d] {x=%d,y=%d,width=%d,"
                     "height=%d} reaches (%d,%d), outside the %dx%d frame", i,
                     r->x, r->y, r->w, r->h, r->x + r->w, r->y + r->h, width,
                     height);
            return -1;
        }
    }
    return 0;
}

void
vms_roi_crop(const vms_roi_t *roi, int width, int height, vms_roi_rect_t *c)
{
    int x0 = width, y0 = height, x1 = 0, y1 = 0;

    if (roi->n == 0) {
        *c = (vms_roi_rect_t) { 0, 0, width, height };
        return;
    }
    for (int i = 0; i < roi->n; i++) {
        const vms_roi_rect_t *r = &roi->area[i];
        if (r->x < x0) x0 = r->x;
        if (r->y < y0) y0 = r->y;
        if (r->x + r->w > x1) x1 = r->x + r->w;
        if (r->y + r->h > y1) y1 = r->y + r->h;
    }
    x0 &= ~1;
    y0 &= ~1;
    x1 = (x1 + 1) & ~1;
    y1 = (y1 + 1) & ~1;
    if (x1 > width) x1 = width;
    if (y1 > height) y1 = height;
    if (x1 <= x0 || y1 <= y0) {
        *c = (vms_roi_rect_t) { 0, 0, width, height };
        return;
    }
    *c = (vms_roi_rect_t) { x0, y0, x1 - x0, y1 - y0 };
}

void
vms_roi_map(const vms_roi_rect_t *crop, int sw, int sh,
    const vms_roi_rect_t *b, vms_roi_rect_t *out)
{
    double sx = (double) crop->w / sw, sy = (double) crop->h / sh;
    long   x0 = crop->x + lround(b->x * sx);
    long   y0 = crop->y + lround(b->y * sy);
    long   x1 = crop->x + lround((b->x + b->w) * sx);
    long   y1 = crop->y + lround((b->y + b->h) * sy);

    if (x0 < crop->x) x0 = crop->x;
    if (y0 < crop->y) y0 = crop->y;
    if (x1 > crop->x + crop->w) x1 = crop->x + crop->w;
    if (y1 > crop->y + crop->h) y1 = crop->y + crop->h;
    if (x1 < x0) x1 = x0;
    if (y1 < y0) y1 = y0;
    *out = (vms_roi_rect_t) { (int) x0, (int) y0, (int) (x1 - x0),
                              (int) (y1 - y0) };
}

int
vms_roi_areas_in(const vms_roi_t *roi, const vms_roi_rect_t *crop, int sw,
    int sh, vms_roi_rect_t *out, int max)
{
    double sx = (double) sw / crop->w, sy = (double) sh / crop->h;
    int    n = 0;

    for (int i = 0; i < roi->n && n < max; i++) {
        const vms_roi_rect_t *r = &roi->area[i];
        long x0 = lround((r->x - crop->x) * sx);
        long y0 = lround((r->y - crop->y) * sy);
        long x1 = lround((r->x + r->w - crop->x) * sx);
        long y1 = lround((r->y + r->h - crop->y) * sy);

        if (x1 <= x0) x1 = x0 + 1;    /* a tiny area still watches a pixel */
        if (y1 <= y0) y1 = y0 + 1;
        out[n++] = (vms_roi_rect_t) { (int) x0, (int) y0, (int) (x1 - x0),
                                      (int) (y1 - y0) };
    }
    return n;
}

int
vms_roi_contains_centre(const vms_roi_t *roi, const vms_roi_rect_t *b)
{
    double cx = b->x + b->w / 2.0, cy = b->y + b->h / 2.0;

    if (roi->n == 0) {
        return 1;
    }
    for (int i = 0; i < roi->n; i++) {
        const vms_roi_rect_t *r = &roi->area[i];
        if (cx >= r->x && cx <= r->x + r->w && cy >= r->y && cy <= r->y + r->h) {
            return 1;
        }
    }
    return 0;
}
