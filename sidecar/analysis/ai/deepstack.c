/*
 * DeepStack / CodeProject.AI Server provider: POST /v1/vision/detection
 * with the picture as multipart field "image" (and min_confidence), answer
 * {"success":true,"predictions":[{"label","confidence","x_min","y_min",
 * "x_max","y_max"}]} in the picture's pixels; "face"/"person" labels keep
 * their name, every prediction is kind "label" except "face".
 */

#include "provider.h"
#include "http_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    vms_ai_provider_t       base;
    vms_ai_provider_conf_t  conf;
    char                    url[300];
} ds_t;

typedef struct {
    ds_t                  *ds;
    const vms_ai_image_t  *img;
} form_t;

static curl_mime *
build_form(CURL *h, void *data)
{
    form_t        *f = data;
    curl_mime     *m = curl_mime_init(h);
    curl_mimepart *part;
    char           conf[32];

    if (m == NULL) {
        return NULL;
    }
    part = curl_mime_addpart(m);
    curl_mime_name(part, "image");
    curl_mime_filename(part, "frame.jpg");
    curl_mime_type(part, "image/jpeg");
    curl_mime_data(part, (const char *) f->img->jpeg, f->img->jpeg_len);
    part = curl_mime_addpart(m);
    curl_mime_name(part, "min_confidence");
    snprintf(conf, sizeof(conf), "%.3f", f->ds->conf.min_confidence);
    curl_mime_data(part, conf, CURL_ZERO_TERMINATED);
    if (f->ds->conf.deepstack_api_key[0]) {
        part = curl_mime_addpart(m);
        curl_mime_name(part, "api_key");
        curl_mime_data(part, f->ds->conf.deepstack_api_key,
                       CURL_ZERO_TERMINATED);
    }
    return m;
}

static int
clampi(double v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : (int) (v + 0.5);
}

static vms_ai_err_e
ds_detect(vms_ai_provider_t *p, const vms_ai_image_t *img,
    vms_ai_dets_t *out, vms_ai_usage_t *usage, char *err, size_t errlen)
{
    ds_t                 *ds = (ds_t *) p;
    vms_ai_http_client_policy_t  pol = { ds->conf.timeout_ms, ds->conf.retries,
                                  ds->conf.backoff_ms, p->cancel };
    vms_ai_http_client_req_t     req = { 0 };
    vms_ai_http_client_resp_t    resp;
    form_t                form = { ds, img };
    struct curl_slist    *hdrs = curl_slist_append(NULL, "Expect:");
    json_t               *ans, *pr;
    json_error_t          je;
    vms_ai_err_e          e;
    size_t                i;
    int                   attempts = 0;

    req.method = "POST";
    req.url = ds->url;
    req.headers = hdrs;
    req.mime = build_form;
    req.mime_data = &form;
    req.what = "DeepStack detection";
    e = vms_ai_http_client_call(&pol, &req, NULL, &resp, &attempts, err,
                                errlen);
    usage->attempts += attempts;
    curl_slist_free_all(hdrs);
    if (e != VMS_AI_OK) {
        vms_ai_http_client_resp_free(&resp);
        return e;
    }
    vms_ai_usage_add(usage, "detection", 1);
    ans = json_loads(resp.body, 0, &je);
    vms_ai_http_client_resp_free(&resp);
    if (!json_is_object(ans)) {
        json_decref(ans);
        snprintf(err, errlen, "DeepStack detection: answer is not a JSON "
                 "object");
        return VMS_AI_ERESPONSE;
    }
    if (json_is_false(json_object_get(ans, "success"))) {
        const char *msg = json_string_value(json_object_get(ans, "error"));
        snprintf(err, errlen, "DeepStack detection: success=false: %.200s",
                 msg ? msg : "no error message");
        json_decref(ans);
        return VMS_AI_ERESPONSE;
    }
    pr = json_object_get(ans, "predictions");
    if (!json_is_array(pr)) {
        snprintf(err, errlen, "DeepStack detection: no \"predictions\" array");
        json_decref(ans);
        return VMS_AI_ERESPONSE;
    }
    json_t *it;
    json_array_foreach(pr, i, it) {
        const char *label = json_string_value(json_object_get(it, "label"));
        double c = json_number_value(json_object_get(it, "confidence"));
        int x0 = clampi(json_number_value(json_object_get(it, "x_min")), 0,
                        img->width);
        int y0 = clampi(json_number_value(json_object_get(it, "y_min")), 0,
                        img->height);
        int x1 = clampi(json_number_value(json_object_get(it, "x_max")), 0,
                        img->width);
        int y1 = clampi(json_number_value(json_object_get(it, "y_max")), 0,
                        img->height);

        if (label == NULL || c < ds->conf.min_confidence || x1 <= x0
            || y1 <= y0)
        {
            continue;
        }
        vms_ai_dets_add(out, strcmp(label, "face") == 0 ? VMS_AI_KIND_FACE
                                                        : VMS_AI_KIND_LABEL,
                        label, c, x0, y0, x1 - x0, y1 - y0, NULL);
    }
    json_decref(ans);
    return VMS_AI_OK;
}

static void
ds_destroy(vms_ai_provider_t *p)
{
    free(p);
}

vms_ai_provider_t *
vms_ai_deepstack_new(const vms_ai_provider_conf_t *c, char *err,
    size_t errlen)
{
    ds_t   *ds;
    size_t  n = strlen(c->deepstack_url);

    if (strncmp(c->deepstack_url, "http://", 7) != 0
        && strncmp(c->deepstack_url, "https://", 8) != 0)
    {
        snprintf(err, errlen, "ai_deepstack_url: expected http:// or "
                 "https:// URL of the server (e.g. http://127.0.0.1:5000)");
        return NULL;
    }
    ds = calloc(1, sizeof(*ds));
    if (ds == NULL) {
        snprintf(err, errlen, "ai_provider deepstack: out of memory");
        return NULL;
    }
    ds->conf = *c;
    while (n > 0 && c->deepstack_url[n - 1] == '/') {
        n--;
    }
    snprintf(ds->url, sizeof(ds->url), "%.*s/v1/vision/detection", (int) n,
             c->deepstack_url);
    ds->base.name = "deepstack";
    ds->base.needs_jpeg = 1;
    ds->base.detect = ds_detect;
    ds->base.destroy = ds_destroy;
    return &ds->base;
}
