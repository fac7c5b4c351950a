/*
 * Amazon Rekognition provider: DetectLabels, DetectFaces, DetectText over
 * the JSON 1.1 API, signed with SigV4 by libcurl (CURLOPT_AWS_SIGV4), and
 * the results document to S3 with PutObject (same signing, path-style URL
 * so that a local endpoint works).
 *
 * Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and
 * AWS_SESSION_TOKEN when set), read once at creation; region from
 * ai_rekognition_region or AWS_REGION.  Endpoints overridable
 * (ai_rekognition_endpoint, ai_s3_endpoint) for other regions, VPC
 * endpoints and the test stand-in.
 */

#include "provider.h"
#include "http_client.h"
#include "secret.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    vms_ai_provider_t       base;
    vms_ai_provider_conf_t  conf;
    char                    userpwd[512];      /* secret */
    char                    token_hdr[2100];   /* secret */
    char                    sig_rek[96], sig_s3[96];
    char                    url[300];
} rek_t;

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *
base64(const uint8_t *in, size_t n)
{
    size_t  olen = 4 * ((n + 2) / 3);
    char   *out = malloc(olen + 1), *o = out;

    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t) in[i] << 16;
        if (i + 1 < n) v |= (uint32_t) in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        *o++ = b64[(v >> 18) & 63];
        *o++ = b64[(v >> 12) & 63];
        *o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        *o++ = i + 2 < n ? b64[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

static vms_ai_err_e
rek_classify(long status, const char *body)
{
    if (status >= 200 && status < 300) {
        return VMS_AI_OK;
    }
    /* Rekognition names the error in "__type" ("…#ThrottlingException") */
    if (strstr(body, "ThrottlingException")
        || strstr(body, "ProvisionedThroughputExceeded")
        || strstr(body, "LimitExceededException"))
    {
        return VMS_AI_ETHROTTLED;
    }
    if (strstr(body, "InvalidSignatureException")
        || strstr(body, "UnrecognizedClientException")
        || strstr(body, "AccessDenied")
        || strstr(body, "SignatureDoesNotMatch")
        || strstr(body, "InvalidAccessKeyId")
        || strstr(body, "ExpiredToken"))
    {
        return VMS_AI_EAUTH;
    }
    if (strstr(body, "InternalServerError")) {
        return VMS_AI_ESERVER;
    }
    return vms_ai_http_client_classify_default(status, body);
}

static void
policy(rek_t *r, vms_ai_http_client_policy_t *pol)
{
    pol->timeout_ms = r->conf.timeout_ms;
    pol->retries = r->conf.retries;
    pol->backoff_ms = r->conf.backoff_ms;
    pol->cancel = r->base.cancel;
}

/* One Rekognition operation; *out receives the parsed answer. */
static vms_ai_err_e
rek_call(rek_t *r, const char *op, json_t *body, json_t **out,
    vms_ai_usage_t *usage, char *err, size_t errlen)
{
    vms_ai_http_client_policy_t  pol;
    vms_ai_http_client_req_t     req = { 0 };
    vms_ai_http_client_resp_t    resp;
    struct curl_slist    *hdrs = NULL;
    char                  target[96], what[64];
    char                 *text;
    vms_ai_err_e          e;
    json_error_t          je;
    int                   attempts = 0;

    text = json_dumps(body, JSON_COMPACT);
    if (text == NULL) {
        snprintf(err, errlen, "Rekognition %s: out of memory", op);
        return VMS_AI_EINTERNAL;
    }
    snprintf(target, sizeof(target), "X-Amz-Target: RekognitionService.%s",
             op);
    snprintf(what, sizeof(what), "Rekognition %s", op);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/x-amz-json-1.1");
    hdrs = curl_slist_append(hdrs, target);
    if (r->token_hdr[0]) {
        hdrs = curl_slist_append(hdrs, r->token_hdr);
    }
    req.method = "POST";
    req.url = r->url;
    req.headers = hdrs;
    req.body = text;
    req.body_len = strlen(text);
    req.sigv4 = r->sig_rek;
    req.userpwd = r->userpwd;
    req.what = what;
    policy(r, &pol);

    e = vms_ai_http_client_call(&pol, &req, rek_classify, &resp, &attempts,
                                err, errlen);
    usage->attempts += attempts;
    curl_slist_free_all(hdrs);
    free(text);
    if (e == VMS_AI_OK) {
        /* AWS bills each successful image operation */
        vms_ai_usage_add(usage, op, 1);
        *out = json_loads(resp.body, 0, &je);
        if (*out == NULL || !json_is_object(*out)) {
            json_decref(*out);
            *out = NULL;
            snprintf(err, errlen, "Rekognition %s: answer is not JSON: %s",
                     op, je.text);
            e = VMS_AI_ERESPONSE;
        }
    }
    vms_ai_http_client_resp_free(&resp);
    return e;
}

/* BoundingBox {Width,Height,Left,Top} as ratios -> pixels; 0 when absent. */
static int
bbox(json_t *bb, const vms_ai_image_t *img, int *x, int *y, int *w, int *h)
{
    double l, t, bw, bh;

    if (!json_is_object(bb)) {
        return -1;
    }
    l = json_number_value(json_object_get(bb, "Left"));
    t = json_number_value(json_object_get(bb, "Top"));
    bw = json_number_value(json_object_get(bb, "Width"));
    bh = json_number_value(json_object_get(bb, "Height"));
    if (l < 0) { bw += l; l = 0; }
    if (t < 0) { bh += t; t = 0; }
    if (l + bw > 1) bw = 1 - l;
    if (t + bh > 1) bh = 1 - t;
    if (bw <= 0 || bh <= 0) {
        return -1;
    }
    *x = (int) (l * img->width + 0.5);
    *y = (int) (t * img->height + 0.5);
    *w = (int) (bw * img->width + 0.5);
    *h = (int) (bh * img->height + 0.5);
    if (*w < 1) *w = 1;
    if (*h < 1) *h = 1;
    return 0;
}

/* A Detect* operation on the picture; params (may be NULL) is consumed. */
static vms_ai_err_e
detect_call(rek_t *r, const char *op, const char *b64img, json_t *params,
    json_t **ans, vms_ai_usage_t *usage, char *err, size_t errlen)
{
    json_t        *body = json_pack("{s:{s:s}}", "Image", "Bytes", b64img);
    vms_ai_err_e   e;

    if (params != NULL) {
        json_object_update(body, params);
        json_decref(params);
    }
    e = rek_call(r, op, body, ans, usage, err, errlen);
    json_decref(body);
    return e;
}

static vms_ai_err_e
do_labels(rek_t *r, const vms_ai_image_t *img, const char *b64img,
    vms_ai_dets_t *out, vms_ai_usage_t *usage, char *err, size_t errlen)
{
    json_t *ans = NULL, *labels, *l;
    size_t i;
    vms_ai_err_e e;

    e = detect_call(r, "DetectLabels", b64img,
                    json_pack("{s:i,s:f}", "MaxLabels", r->conf.max_labels,
                              "MinConfidence",
                              r->conf.min_confidence * 100.0),
                    &ans, usage, err, errlen);
    if (e != VMS_AI_OK) {
        return e;
    }
    labels = json_object_get(ans, "Labels");
    json_array_foreach(labels, i, l) {
        const char *name = json_string_value(json_object_get(l, "Name"));
        double conf = json_number_value(json_object_get(l, "Confidence"));
        json_t *inst = json_object_get(l, "Instances"), *in, *parents;
        json_t *attrs = json_object();
        size_t k;

        if (name == NULL) {
            json_decref(attrs);
            continue;
        }
        parents = json_array();
        json_t *p;
        size_t j;
        json_array_foreach(json_object_get(l, "Parents"), j, p) {
            const char *pn = json_string_value(json_object_get(p, "Name"));
            if (pn) json_array_append_new(parents, json_string(pn));
        }
        json_object_set_new(attrs, "parents", parents);

        if (json_array_size(inst) == 0) {
            vms_ai_dets_add(out, VMS_AI_KIND_LABEL, name, conf / 100.0,
                            0, 0, 0, 0, attrs);
            continue;
        }
        json_array_foreach(inst, k, in) {
            int x, y, w, h;
            double ic = json_number_value(json_object_get(in, "Confidence"));
            json_t *a = json_deep_copy(attrs), *dc;

            if (bbox(json_object_get(in, "BoundingBox"), img, &x, &y, &w,
                     &h) < 0)
            {
                json_decref(a);
                continue;
            }
            dc = json_array_get(json_object_get(in, "DominantColors"), 0);
            if (json_is_string(json_object_get(dc, "SimplifiedColor"))) {
                json_object_set(a, "color",
                                json_object_get(dc, "SimplifiedColor"));
            }
            vms_ai_dets_add(out, VMS_AI_KIND_LABEL, name,
                            (ic > 0 ? ic : conf) / 100.0, x, y, w, h, a);
        }
        json_decref(attrs);
    }
    json_decref(ans);
    return VMS_AI_OK;
}

static vms_ai_err_e
do_faces(rek_t *r, const vms_ai_image_t *img, const char *b64img,
    vms_ai_dets_t *out, vms_ai_usage_t *usage, char *err, size_t errlen)
{
    json_t *ans = NULL, *f;
    size_t i;
    vms_ai_err_e e;

    e = detect_call(r, "DetectFaces", b64img, NULL, &ans, usage, err, errlen);
    if (e != VMS_AI_OK) {
        return e;
    }
    json_array_foreach(json_object_get(ans, "FaceDetails"), i, f) {
        int x, y, w, h;
        double c = json_number_value(json_object_get(f, "Confidence")) / 100;

        if (c < r->conf.min_confidence
            || bbox(json_object_get(f, "BoundingBox"), img, &x, &y, &w, &h) < 0)
        {
            continue;
        }
        vms_ai_dets_add(out, VMS_AI_KIND_FACE, "face", c, x, y, w, h, NULL);
    }
    json_decref(ans);
    return VMS_AI_OK;
}

static vms_ai_err_e
do_text(rek_t *r, const vms_ai_image_t *img, const char *b64img,
    vms_ai_dets_t *out, vms_ai_usage_t *usage, char *err, size_t errlen)
{
    json_t *ans = NULL, *t;
    size_t i;
    vms_ai_err_e e;

    e = detect_call(r, "DetectText", b64img, NULL, &ans, usage, err, errlen);
    if (e != VMS_AI_OK) {
        return e;
    }
    json_array_foreach(json_object_get(ans, "TextDetections"), i, t) {
        int x, y, w, h;
        const char *type = json_string_value(json_object_get(t, "Type"));
        const char *txt = json_string_value(json_object_get(t, "DetectedText"));
        double c = json_number_value(json_object_get(t, "Confidence")) / 100;

        /* lines only: words repeat them */
        if (txt == NULL || type == NULL || strcmp(type, "LINE") != 0
            || c < r->conf.min_confidence
            || bbox(json_object_get(json_object_get(t, "Geometry"),
                                    "BoundingBox"), img, &x, &y, &w, &h) < 0)
        {
            continue;
        }
        vms_ai_dets_add(out, VMS_AI_KIND_TEXT, txt, c, x, y, w, h,
                        json_pack("{s:s}", "text", txt));
    }
    json_decref(ans);
    return VMS_AI_OK;
}

static vms_ai_err_e
rek_detect(vms_ai_provider_t *p, const vms_ai_image_t *img,
    vms_ai_dets_t *out, vms_ai_usage_t *usage, char *err, size_t errlen)
{
    rek_t        *r = (rek_t *) p;
    char         *b64img;
    vms_ai_err_e  e = VMS_AI_OK;

    if (img->jpeg == NULL || img->jpeg_len == 0) {
        snprintf(err, errlen, "Rekognition: no JPEG picture");
        return VMS_AI_EINTERNAL;
    }
    if (img->jpeg_len > 5 * 1024 * 1024) {
        snprintf(err, errlen, "Rekognition: picture of %zu bytes exceeds the "
                 "5 MB limit of image bytes", img->jpeg_len);
        return VMS_AI_EREQUEST;
    }
    b64img = base64(img->jpeg, img->jpeg_len);
    if (b64img == NULL) {
        snprintf(err, errlen, "Rekognition: out of memory");
        return VMS_AI_EINTERNAL;
    }
    if (r->conf.rek_apis & VMS_AI_REK_LABELS) {
        e = do_labels(r, img, b64img, out, usage, err, errlen);
    }
    if (e == VMS_AI_OK && (r->conf.rek_apis & VMS_AI_REK_FACES)) {
        e = do_faces(r, img, b64img, out, usage, err, errlen);
    }
    if (e == VMS_AI_OK && (r->conf.rek_apis & VMS_AI_REK_TEXT)) {
        e = do_text(r, img, b64img, out, usage, err, errlen);
    }
    free(b64img);
    return e;
}

static vms_ai_err_e
rek_store(vms_ai_provider_t *p, const char *camera_id, int64_t ts_us,
    const char *json, size_t len, char *ref, size_t reflen,
    vms_ai_usage_t *usage, char *err, size_t errlen)
{
    rek_t                *r = (rek_t *) p;
    vms_ai_http_client_policy_t  pol;
    vms_ai_http_client_req_t     req = { 0 };
    vms_ai_http_client_resp_t    resp;
    struct curl_slist    *hdrs = NULL;
    unsigned char         md[SHA256_DIGEST_LENGTH];
    char                  hash[120], url[700], key[160];
    time_t                sec = (time_t) (ts_us / 1000000);
    struct tm             tm;
    int                   attempts = 0;
    vms_ai_err_e          e;

    if (r->conf.s3_bucket[0] == '\0') {
        ref[0] = '\0';
        return VMS_AI_OK;
    }
    gmtime_r(&sec, &tm);
    /* {camera_id}/{timestamp}.json; the timestamp is compact ISO 8601 UTC
     * (no ':' so the key needs no escaping anywhere) */
    snprintf(key, sizeof(key), "%s/%04d%02d%02dT%02d%02d%02d.%03dZ.json",
             camera_id, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int) ((ts_us % 1000000) / 1000));
    snprintf(url, sizeof(url), "%s/%s/%s", r->conf.s3_endpoint,
             r->conf.s3_bucket, key);
    SHA256((const unsigned char *) json, len, md);
    int o = snprintf(hash, sizeof(hash), "x-amz-content-sha256: ");
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        o += snprintf(hash + o, sizeof(hash) - o, "%02x", md[i]);
    }
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, hash);
    if (r->token_hdr[0]) {
        hdrs = curl_slist_append(hdrs, r->token_hdr);
    }
    req.method = "PUT";
    req.url = url;
    req.headers = hdrs;
    req.body = json;
    req.body_len = len;
    req.sigv4 = r->sig_s3;
    req.userpwd = r->userpwd;
    req.what = "S3 PutObject";
    policy(r, &pol);
    e = vms_ai_http_client_call(&pol, &req, rek_classify, &resp, &attempts,
                                err, errlen);
    usage->attempts += attempts;
    if (e == VMS_AI_OK) {
        vms_ai_usage_add(usage, "PutObject", 1);
        snprintf(ref, reflen, "s3://%s/%s", r->conf.s3_bucket, key);
    }
    vms_ai_http_client_resp_free(&resp);
    curl_slist_free_all(hdrs);
    return e;
}

static void
rek_destroy(vms_ai_provider_t *p)
{
    rek_t *r = (rek_t *) p;

    /* the credentials do not outlive the provider in freed memory */
    explicit_bzero(r->userpwd, sizeof(r->userpwd));
    explicit_bzero(r->token_hdr, sizeof(r->token_hdr));
    free(r);
}

static int
strip_slash(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/') {
        s[--n] = '\0';
    }
    return 0;
}

vms_ai_provider_t *
vms_ai_rekognition_new(const vms_ai_provider_conf_t *c, char *err,
    size_t errlen)
{
    const char *region = c->region[0] ? c->region : getenv("AWS_REGION");
    char        why[512];
    char       *ak = NULL, *sk = NULL, *tok = NULL;
    rek_t      *r = NULL;

    /* AWS_* or AWS_*_FILE (the NAME_FILE convention, secret.h) */
    ak = vms_secret_env("AWS_ACCESS_KEY_ID", why, sizeof(why));
    if (ak == NULL && why[0] == '\0') {
        snprintf(why, sizeof(why), "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                 " (or their _FILE forms) must be set in the environment");
    }
    if (ak != NULL) {
        sk = vms_secret_env("AWS_SECRET_ACCESS_KEY", why, sizeof(why));
        if (sk == NULL && why[0] == '\0') {
            snprintf(why, sizeof(why), "AWS_SECRET_ACCESS_KEY (or"
                     " AWS_SECRET_ACCESS_KEY_FILE) must be set in the"
                     " environment");
        }
    }
    if (sk != NULL) {
        tok = vms_secret_env("AWS_SESSION_TOKEN", why, sizeof(why));
    }
    if (ak == NULL || sk == NULL || (tok == NULL && why[0] != '\0')) {
        snprintf(err, errlen, "ai_provider rekognition: %s", why);
        goto fail;
    }
    if (strchr(ak, ':') != NULL || strlen(ak) + strlen(sk) + 2 > 512) {
        snprintf(err, errlen, "ai_provider rekognition: AWS_ACCESS_KEY_ID is "
                 "malformed");
        goto fail;
    }
    if (region == NULL || *region == '\0' || strlen(region) > 31
        || strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-")
           != strlen(region))
    {
        snprintf(err, errlen, "ai_provider rekognition: set a region "
                 "(ai_rekognition_region or AWS_REGION, e.g. us-east-1)");
        goto fail;
    }
    if (tok != NULL && strlen(tok) > 2048) {
        snprintf(err, errlen, "ai_provider rekognition: AWS_SESSION_TOKEN "
                 "longer than 2048 bytes");
        goto fail;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        snprintf(err, errlen, "ai_provider rekognition: out of memory");
        goto fail;
    }
    r->conf = *c;
    snprintf(r->conf.region, sizeof(r->conf.region), "%s", region);
    if (r->conf.endpoint[0] == '\0') {
        snprintf(r->conf.endpoint, sizeof(r->conf.endpoint),
                 "https://rekognition.%s.amazonaws.com", region);
    }
    if (r->conf.s3_endpoint[0] == '\0') {
        snprintf(r->conf.s3_endpoint, sizeof(r->conf.s3_endpoint),
                 "https://s3.%s.amazonaws.com", region);
    }
    strip_slash(r->conf.endpoint);
    strip_slash(r->conf.s3_endpoint);
    snprintf(r->url, sizeof(r->url), "%s/", r->conf.endpoint);
    snprintf(r->userpwd, sizeof(r->userpwd), "%s:%s", ak, sk);
    if (tok != NULL && *tok) {
        snprintf(r->token_hdr, sizeof(r->token_hdr),
                 "X-Amz-Security-Token: %s", tok);
    }
    snprintf(r->sig_rek, sizeof(r->sig_rek), "aws:amz:%s:rekognition", region);
    snprintf(r->sig_s3, sizeof(r->sig_s3), "aws:amz:%s:s3", region);
    r->base.name = "rekognition";
    r->base.needs_jpeg = 1;
    r->base.detect = rek_detect;
    r->base.store = rek_store;
    r->base.destroy = rek_destroy;
    vms_secret_free(ak);
    vms_secret_free(sk);
    vms_secret_free(tok);
    return &r->base;

fail:
    vms_secret_free(ak);
    vms_secret_free(sk);
    vms_secret_free(tok);
    return NULL;
}
