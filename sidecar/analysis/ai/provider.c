/*
 * Provider interface helpers: error classes, detection lists, the factory.
 */

#include "provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
vms_ai_kind_name(vms_ai_kind_e k)
{
    switch (k) {
    case VMS_AI_KIND_FACE: return "face";
    case VMS_AI_KIND_TEXT: return "text";
    default:               return "label";
    }
}

int
vms_ai_dets_add(vms_ai_dets_t *d, vms_ai_kind_e kind, const char *label,
    double confidence, int x, int y, int w, int h, json_t *attrs)
{
    vms_ai_det_t *e;

    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        vms_ai_det_t *v = realloc(d->v, cap * sizeof(*v));
        if (v == NULL) {
            json_decref(attrs);
            return -1;
        }
        d->v = v;
        d->cap = cap;
    }
    e = &d->v[d->n++];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    snprintf(e->label, sizeof(e->label), "%s", label ? label : "");
    e->confidence = confidence < 0 ? 0 : confidence > 1 ? 1 : confidence;
    e->x = x;
    e->y = y;
    e->w = w;
    e->h = h;
    e->attrs = attrs;
    return 0;
}

void
vms_ai_dets_clear(vms_ai_dets_t *d)
{
    for (size_t i = 0; i < d->n; i++) {
        json_decref(d->v[i].attrs);
    }
    d->n = 0;
}

void
vms_ai_dets_free(vms_ai_dets_t *d)
{
    vms_ai_dets_clear(d);
    free(d->v);
    d->v = NULL;
    d->cap = 0;
}

void
vms_ai_usage_add(vms_ai_usage_t *u, const char *api, int calls)
{
    for (int i = 0; i < u->n; i++) {
        if (strcmp(u->v[i].api, api) == 0) {
            u->v[i].calls += calls;
            return;
        }
    }
    if (u->n < VMS_AI_USAGE_MAX) {
        u->v[u->n].api = api;
        u->v[u->n].calls = calls;
        u->n++;
    }
}

vms_ai_provider_t *
vms_ai_provider_new(const vms_ai_provider_conf_t *c, char *err, size_t errlen)
{
    if (strcmp(c->provider, "rekognition") == 0) {
        return vms_ai_rekognition_new(c, err, errlen);
    }
    if (strcmp(c->provider, "deepstack") == 0) {
        return vms_ai_deepstack_new(c, err, errlen);
    }
    if (strcmp(c->provider, "local") == 0) {
        return vms_ai_local_new(c, err, errlen);
    }
    snprintf(err, errlen, "ai_provider \"%s\": expected rekognition, "
             "deepstack or local", c->provider);
    return NULL;
}

void
vms_ai_provider_free(vms_ai_provider_t *p)
{
    if (p != NULL) {
        p->destroy(p);
    }
}
