/*
 * Local, offline provider: no network, Debian-packaged trained models.
 *   faces   OpenCV Haar cascade haarcascade_frontalface_default.xml
 *   plates  haarcascade_russian_plate_number.xml, then plate.c's edge-density
 *           localiser when the cascade finds none (plates of other
 *           countries, motion blur)
 *   text    Tesseract (C API, "eng"), one line, A-Z 0-9, on the plate box
 *           upscaled and binarised (Otsu)
 *   colour  of the vehicle from the pixels around the plate (color.c)
 *   persons OpenCV's built-in HOG + linear SVM people detector (hog.h, no
 *           model file) on the motion box, or the whole picture without one
 * Confidence of a cascade hit grows with the number of raw detections merged
 * into it (neighbors): min(1, neighbors / (3 * min_neighbors)) scaled into
 * 0.5..1.  Confidence of a person is the logistic of the SVM margin m,
 * 1 / (1 + exp(-2 m)): 0.5 at the SVM's own decision boundary (m = 0), 0.75
 * at m = 0.55, 0.9 at m = 1.1.
 */

#include "provider.h"
#include "cascade.h"
#include "hog.h"
#include "color.h"
#include "plate.h"

#include <tesseract/capi.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCAL_MAX_HITS  64

typedef struct {
    vms_ai_provider_t       base;
    vms_ai_provider_conf_t  conf;
    vms_cascade_t          *faces;
    vms_cascade_t          *plates;
    vms_hog_t              *persons;
    TessBaseAPI            *tess;
    uint8_t                *grey;
    size_t                  grey_cap;
} local_t;

static double
person_confidence(double margin)
{
    return 1.0 / (1.0 + exp(-2.0 * margin));
}

/* The margin at which person_confidence() reaches c (0 < c < 1). */
static double
person_margin(double c)
{
    if (c <= 0) return -1e9;
    if (c >= 1) return 1e9;
    return -0.5 * log(1.0 / c - 1.0);
}

static double
hit_confidence(const vms_cascade_hit_t *h, int min_neighbors)
{
    double r = (double) h->neighbors / (3.0 * (min_neighbors ? min_neighbors : 1));
    return 0.5 + 0.5 * (r > 1 ? 1 : r);
}

/* Keeps the best of overlapping hits (intersection over the smaller box
 * above 50 %): cascades report one object at several scales. */
static int
suppress(vms_cascade_hit_t *h, int n)
{
    int keep = 0;

    for (int i = 0; i < n; i++) {
        int dup = 0;
        for (int j = 0; j < n && !dup; j++) {
            int ix, iy, iw, ih, a, b;
            if (i == j) continue;
            ix = h[i].x > h[j].x ? h[i].x : h[j].x;
            iy = h[i].y > h[j].y ? h[i].y : h[j].y;
            iw = (h[i].x + h[i].w < h[j].x + h[j].w ? h[i].x + h[i].w
                                                    : h[j].x + h[j].w) - ix;
            ih = (h[i].y + h[i].h < h[j].y + h[j].h ? h[i].y + h[i].h
                                                    : h[j].y + h[j].h) - iy;
            if (iw <= 0 || ih <= 0) continue;
            a = h[i].w * h[i].h;
            b = h[j].w * h[j].h;
            if ((double) iw * ih > 0.5 * (a < b ? a : b)
                && (h[j].neighbors > h[i].neighbors
                    || (h[j].neighbors == h[i].neighbors && j < i)))
            {
                dup = 1;
            }
        }
        if (!dup) {
            h[keep++] = h[i];
        }
    }
    return keep;
}

static int
to_grey(local_t *l, const vms_ai_image_t *img)
{
    size_t n = (size_t) img->width * (size_t) img->height;

    if (n > l->grey_cap) {
        uint8_t *g = realloc(l->grey, n);
        if (g == NULL) {
            return -1;
        }
        l->grey = g;
        l->grey_cap = n;
    }
    for (int y = 0; y < img->height; y++) {
        const uint8_t *p = img->rgb + (size_t) y * img->stride;
        uint8_t *o = l->grey + (size_t) y * img->width;
        for (int x = 0; x < img->width; x++, p += 3) {
            o[x] = (uint8_t) ((77 * p[0] + 150 * p[1] + 29 * p[2]) >> 8);
        }
    }
    return 0;
}

/* Plate text: crop, upscale to ~60 px high, Otsu, Tesseract single line. */
static int
read_plate(local_t *l, int iw, int ih, int x, int y, int w, int h,
    char *text, size_t textlen)
{
    int      s = h < 60 ? (60 + h - 1) / h : 1, ow, oh;
    uint8_t *up;
    long     hist[256] = { 0 };
    char    *t;

    text[0] = '\0';
    if (l->tess == NULL || w < 8 || h < 4) {
        return -1;
    }
    if (s > 6) s = 6;
    ow = w * s;
    oh = h * s;
    up = malloc((size_t) ow * oh);
    if (up == NULL) {
        return -1;
    }
    for (int j = 0; j < oh; j++) {
        for (int i = 0; i < ow; i++) {
            uint8_t v = l->grey[(size_t) (y + j / s) * iw + (x + i / s)];
            up[(size_t) j * ow + i] = v;
            hist[v]++;
        }
    }
    /* Otsu's threshold */
    long   total = (long) ow * oh, wb = 0;
    double sum = 0, sumb = 0, best = -1;
    int    thr = 128;
    for (int v = 0; v < 256; v++) sum += (double) v * hist[v];
    for (int v = 0; v < 256; v++) {
        wb += hist[v];
        if (wb == 0 || wb == total) continue;
        sumb += (double) v * hist[v];
        double mb = sumb / wb, mf = (sum - sumb) / (total - wb);
        double between = (double) wb * (total - wb) * (mb - mf) * (mb - mf);
        if (between > best) { best = between; thr = v; }
    }
    for (long i = 0; i < total; i++) {
        up[i] = up[i] > thr ? 255 : 0;
    }
    TessBaseAPISetImage(l->tess, up, ow, oh, 1, ow);
    TessBaseAPISetSourceResolution(l->tess, 300);
    if (TessBaseAPIRecognize(l->tess, NULL) != 0) {
        TessBaseAPIClear(l->tess);
        free(up);
        return -1;
    }
    t = TessBaseAPIGetUTF8Text(l->tess);
    TessBaseAPIClear(l->tess);
    free(up);
    if (t == NULL) {
        return -1;
    }
    size_t o = 0;
    for (const char *c = t; *c && o + 1 < textlen; c++) {
        if (isalnum((unsigned char) *c)) {
            text[o++] = (char) toupper((unsigned char) *c);
        }
    }
    text[o] = '\0';
    TessDeleteText(t);
    return o > 0 ? 0 : -1;
}

static vms_ai_err_e
local_detect(vms_ai_provider_t *p, const vms_ai_image_t *img,
    vms_ai_dets_t *out, vms_ai_usage_t *usage, char *err, size_t errlen)
{
    local_t              *l = (local_t *) p;
    vms_cascade_hit_t     hits[LOCAL_MAX_HITS];
    vms_cascade_params_t  fp = { 1.1, 5, l->conf.min_face_px,
                                 l->conf.min_face_px, 1 };
    vms_cascade_params_t  pp = { 1.05, 3, 40, 13, 1 };
    int                   n;

    if (to_grey(l, img) < 0) {
        snprintf(err, errlen, "local: out of memory");
        return VMS_AI_EINTERNAL;
    }
    usage->attempts++;
    if (l->faces != NULL) {
        n = vms_cascade_detect(l->faces, l->grey, img->width, img->height,
                               img->width, &fp, hits, LOCAL_MAX_HITS, err,
                               errlen);
        if (n < 0) {
            return VMS_AI_EINTERNAL;
        }
        n = suppress(hits, n);
        for (int i = 0; i < n; i++) {
            double c = hit_confidence(&hits[i], fp.min_neighbors);
            if (c >= l->conf.min_confidence) {
                vms_ai_dets_add(out, VMS_AI_KIND_FACE, "face", c, hits[i].x,
                                hits[i].y, hits[i].w, hits[i].h, NULL);
            }
        }
        vms_ai_usage_add(usage, "faces", 1);
    }
    if (l->plates != NULL) {
        const char *method = "cascade";

        n = vms_cascade_detect(l->plates, l->grey, img->width, img->height,
                               img->width, &pp, hits, LOCAL_MAX_HITS, err,
                               errlen);
        if (n < 0) {
            return VMS_AI_EINTERNAL;
        }
        for (int i = 0; i < n; i++) {
            hits[i].neighbors = (int) (hit_confidence(&hits[i],
                                       pp.min_neighbors) * 1000);
        }
        n = suppress(hits, n);
        if (n == 0) {
            vms_plate_box_t b;
            if (vms_plate_locate(l->grey, img->width, img->height,
                                 img->width, &b) == 0)
            {
                hits[0] = (vms_cascade_hit_t) { b.x, b.y, b.w, b.h,
                                                (int) (b.score * 1000) };
                n = 1;
                method = "edges";
            }
        }
        for (int i = 0; i < n; i++) {
            vms_cascade_hit_t *h = &hits[i];
            double  c = h->neighbors / 1000.0, share = 0;
            char    text[32];
            json_t *attrs = json_pack("{s:s}", "method", method);
            const char *color;

            if (c < l->conf.min_confidence) {
                json_decref(attrs);
                continue;
            }
            if (read_plate(l, img->width, img->height, h->x, h->y, h->w,
                           h->h, text, sizeof(text)) == 0)
            {
                json_object_set_new(attrs, "plate_text", json_string(text));
            } else {
                text[0] = '\0';
            }
            /* both the cascade and the edge localiser also fire on
             * bumpers, railings, shirt prints and signs: only a box with a
             * readable plate-length text counts as a plate */
            if (strlen(text) < 4) {
                json_decref(attrs);
                continue;
            }
            /* the vehicle body: above and beside the plate */
            color = vms_ai_color_of(img->rgb, img->stride, img->width,
                                    img->height, h->x - h->w / 2,
                                    h->y - 2 * h->h, 2 * h->w, 2 * h->h,
                                    &share);
            if (color != NULL) {
                json_object_set_new(attrs, "vehicle_color", json_string(color));
            }
            vms_ai_dets_add(out, VMS_AI_KIND_LABEL, "license_plate", c, h->x,
                            h->y, h->w, h->h, attrs);
        }
        vms_ai_usage_add(usage, "plates", 1);
    }
    if (l->persons != NULL) {
        vms_hog_hit_t ph[LOCAL_MAX_HITS];
        double        minc = l->conf.person_confidence;

        if (minc < l->conf.min_confidence) {
            minc = l->conf.min_confidence;
        }
        n = vms_hog_detect(l->persons, l->grey, img->width, img->height,
                           img->width, img->mx, img->my, img->mw, img->mh,
                           l->conf.min_person_px, person_margin(minc), ph,
                           LOCAL_MAX_HITS, err, errlen);
        if (n < 0) {
            return VMS_AI_EINTERNAL;
        }
        for (int i = 0; i < n; i++) {
            json_t *attrs = json_pack("{s:s,s:f}", "method", "hog",
                                      "svm_margin", ph[i].score);
            vms_ai_dets_add(out, VMS_AI_KIND_LABEL, "person",
                            person_confidence(ph[i].score), ph[i].x, ph[i].y,
                            ph[i].w, ph[i].h, attrs);
        }
        vms_ai_usage_add(usage, "persons", 1);
    }
    return VMS_AI_OK;
}

static void
local_destroy(vms_ai_provider_t *p)
{
    local_t *l = (local_t *) p;

    vms_cascade_free(l->faces);
    vms_cascade_free(l->plates);
    vms_hog_free(l->persons);
    if (l->tess != NULL) {
        TessBaseAPIEnd(l->tess);
        TessBaseAPIDelete(l->tess);
    }
    free(l->grey);
    free(l);
}

vms_ai_provider_t *
vms_ai_local_new(const vms_ai_provider_conf_t *c, char *err, size_t errlen)
{
    local_t *l = calloc(1, sizeof(*l));
    char     path[512];

    if (l == NULL) {
        snprintf(err, errlen, "ai_provider local: out of memory");
        return NULL;
    }
    l->conf = *c;
    l->base.name = "local";
    l->base.detect = local_detect;
    l->base.destroy = local_destroy;
    if (c->local_faces) {
        snprintf(path, sizeof(path), "%s/haarcascade_frontalface_default.xml",
                 c->cascade_dir);
        l->faces = vms_cascade_load(path, err, errlen);
        if (l->faces == NULL) {
            goto fail;
        }
    }
    if (c->local_plates) {
        snprintf(path, sizeof(path), "%s/haarcascade_russian_plate_number.xml",
                 c->cascade_dir);
        l->plates = vms_cascade_load(path, err, errlen);
        if (l->plates == NULL) {
            goto fail;
        }
        l->tess = TessBaseAPICreate();
        if (l->tess == NULL
            || TessBaseAPIInit3(l->tess, c->tessdata[0] ? c->tessdata : NULL,
                                "eng") != 0)
        {
            snprintf(err, errlen, "ai_provider local: Tesseract cannot load "
                     "\"eng\" (Debian package tesseract-ocr-eng; "
                     "ai_local_tessdata)");
            goto fail;
        }
        TessBaseAPISetPageSegMode(l->tess, PSM_SINGLE_LINE);
        TessBaseAPISetVariable(l->tess, "tessedit_char_whitelist",
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
        TessBaseAPISetVariable(l->tess, "debug_file", "/dev/null");
    }
    if (c->local_persons) {
        l->persons = vms_hog_new(err, errlen);
        if (l->persons == NULL) {
            goto fail;
        }
    }
    return &l->base;

fail:
    local_destroy(&l->base);
    return NULL;
}
