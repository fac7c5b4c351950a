/*
 * ai_*, motion_*, roi_* keys (see conf.h, docs/ai.md).
 */

#include "conf.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
parse_real(const char *key, const char *v, double min, double max,
    double *out, char *err, size_t errlen)
{
    char   *end;
    double  d = strtod(v, &end);

    if (end == v || *end != '\0' || d < min || d > max) {
        snprintf(err, errlen, "expected a number in %g..%g, got \"%.40s\"", min,
                 max, v);
        return -1;
    }
    *out = d;
    return 0;
}

static int
parse_int(const char *key, const char *v, int64_t min, int64_t max,
    int *out, char *err, size_t errlen)
{
    int64_t n;

    if (vms_parse_int(v, min, max, &n) < 0) {
        snprintf(err, errlen, "expected an integer in %lld..%lld, got \"%.40s\"",
                 (long long) min, (long long) max, v);
        return -1;
    }
    *out = (int) n;
    return 0;
}

static int
parse_dur(const char *key, const char *v, int64_t min_ms, int64_t max_ms,
    int64_t *out, char *err, size_t errlen)
{
    int64_t ms;

    if (vms_parse_duration_ms(v, &ms) < 0 || ms < min_ms || ms > max_ms) {
        snprintf(err, errlen, "expected a duration with a unit (e.g. 500ms, 10s) "
                 "in %lldms..%llds, got \"%.40s\"", (long long) min_ms,
                 (long long) (max_ms / 1000), v);
        return -1;
    }
    *out = ms;
    return 0;
}

static int
parse_bool(const char *key, const char *v, int *out, char *err, size_t errlen)
{
    if (vms_parse_bool(v, out) < 0) {
        snprintf(err, errlen, "expected on/off, got \"%.40s\"", v);
        return -1;
    }
    return 0;
}

static int
copy_str(const char *key, const char *v, char *dst, size_t dstlen,
    int secret, char *err, size_t errlen)
{
    if (strlen(v) >= dstlen) {
        snprintf(err, errlen, "longer than %zu bytes", dstlen - 1);
        return -1;
    }
    (void) secret;
    snprintf(dst, dstlen, "%s", v);
    return 0;
}

static int
parse_url(const char *key, const char *v, char *dst, size_t dstlen,
    char *err, size_t errlen)
{
    if (v[0] != '\0' && strncmp(v, "http://", 7) != 0
        && strncmp(v, "https://", 8) != 0)
    {
        snprintf(err, errlen, "expected an http:// or https:// URL");
        return -1;
    }
    if (strchr(v, '@') != NULL) {
        snprintf(err, errlen, "credentials do not belong in the URL");
        return -1;
    }
    return copy_str(key, v, dst, dstlen, 0, err, errlen);
}

static int
parse_apis(const char *v, int *out, char *err, size_t errlen)
{
    char  buf[128], *save = NULL, *t;
    int   m = 0;

    snprintf(buf, sizeof(buf), "%s", v);
    for (t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (strcmp(t, "labels") == 0) {
            m |= VMS_AI_REK_LABELS;
        } else if (strcmp(t, "faces") == 0) {
            m |= VMS_AI_REK_FACES;
        } else if (strcmp(t, "text") == 0) {
            m |= VMS_AI_REK_TEXT;
        } else {
            snprintf(err, errlen, "\"%.20s\": expected a list of labels, faces, "
                     "text", t);
            return -1;
        }
    }
    if (m == 0) {
        snprintf(err, errlen, "empty: expected a list of labels, faces, text");
        return -1;
    }
    *out = m;
    return 0;
}

int
vms_ai_conf_set(vms_ai_conf_t *c, const char *key, const char *v, char *err,
    size_t errlen)
{
    vms_ai_provider_conf_t *pc = &c->provider;
    int64_t                 ms;

#define IS(k) (strcmp(key, k) == 0)
    if (IS("ai_enabled")) {
        return parse_bool(key, v, &c->enabled, err, errlen);
    }
    if (IS("ai_provider")) {
        if (strcmp(v, "rekognition") && strcmp(v, "deepstack")
            && strcmp(v, "local"))
        {
            snprintf(err, errlen, "expected rekognition, deepstack or local, got "
                     "\"%.40s\"", v);
            return -1;
        }
        snprintf(pc->provider, sizeof(pc->provider), "%s", v);
        return 0;
    }
    if (IS("ai_interval")) {
        return parse_dur(key, v, 0, 86400000, &c->interval_ms, err, errlen);
    }
    if (IS("ai_timeout")) {
        return parse_dur(key, v, 10, 600000, &pc->timeout_ms, err, errlen);
    }
    if (IS("ai_retries")) {
        return parse_int(key, v, 0, 10, &pc->retries, err, errlen);
    }
    if (IS("ai_retry_backoff")) {
        if (parse_dur(key, v, 0, 60000, &ms, err, errlen) < 0) {
            return -1;
        }
        pc->backoff_ms = ms;
        return 0;
    }
    if (IS("ai_min_confidence")) {
        return parse_real(key, v, 0, 1, &pc->min_confidence, err, errlen);
    }
    if (IS("ai_max_width")) {
        return parse_int(key, v, 64, 8192, &c->max_width, err, errlen);
    }
    if (IS("ai_jpeg_quality")) {
        return parse_int(key, v, 2, 31, &c->jpeg_quality, err, errlen);
    }
    if (IS("ai_queue")) {
        return parse_int(key, v, 1, 16, &c->queue_len, err, errlen);
    }
    if (IS("ai_rekognition_region")) {
        if (strlen(v) >= sizeof(pc->region)
            || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(v))
        {
            snprintf(err, errlen, "expected an AWS region such as us-east-1");
            return -1;
        }
        snprintf(pc->region, sizeof(pc->region), "%s", v);
        return 0;
    }
    if (IS("ai_rekognition_endpoint")) {
        return parse_url(key, v, pc->endpoint, sizeof(pc->endpoint), err,
                         errlen);
    }
    if (IS("ai_rekognition_apis")) {
        return parse_apis(v, &pc->rek_apis, err, errlen);
    }
    if (IS("ai_rekognition_max_labels")) {
        return parse_int(key, v, 1, 1000, &pc->max_labels, err, errlen);
    }
    if (IS("ai_s3_endpoint")) {
        return parse_url(key, v, pc->s3_endpoint, sizeof(pc->s3_endpoint),
                         err, errlen);
    }
    if (IS("ai_s3_bucket")) {
        if (v[0] && (strlen(v) < 3 || strlen(v) > 63
            || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen(v)))
        {
            snprintf(err, errlen, "expected an S3 bucket name (3-63 of a-z 0-9 . -)");
            return -1;
        }
        snprintf(pc->s3_bucket, sizeof(pc->s3_bucket), "%s", v);
        return 0;
    }
    if (IS("ai_store_results")) {
        return parse_bool(key, v, &c->store_results, err, errlen);
    }
    if (IS("ai_deepstack_url")) {
        return parse_url(key, v, pc->deepstack_url, sizeof(pc->deepstack_url),
                         err, errlen);
    }
    if (IS("ai_deepstack_api_key")) {
        return copy_str(key, v, pc->deepstack_api_key,
                        sizeof(pc->deepstack_api_key), 1, err, errlen);
    }
    if (IS("ai_local_cascades")) {
        return copy_str(key, v, pc->cascade_dir, sizeof(pc->cascade_dir), 0,
                        err, errlen);
    }
    if (IS("ai_local_tessdata")) {
        return copy_str(key, v, pc->tessdata, sizeof(pc->tessdata), 0, err,
                        errlen);
    }
    if (IS("ai_local_faces")) {
        return parse_bool(key, v, &pc->local_faces, err, errlen);
    }
    if (IS("ai_local_plates")) {
        return parse_bool(key, v, &pc->local_plates, err, errlen);
    }
    if (IS("ai_local_min_face")) {
        return parse_int(key, v, 12, 1024, &pc->min_face_px, err, errlen);
    }
    if (IS("ai_price")) {
        return vms_ai_prices_parse(&c->prices, v, err, errlen);
    }
    if (IS("ai_budget_usd_per_day")) {
        return parse_real(key, v, 0, 1e6, &c->budget_usd, err, errlen);
    }
    if (IS("ai_snapshot_dir")) {
        return copy_str(key, v, c->snapshot_dir, sizeof(c->snapshot_dir), 0,
                        err, errlen);
    }
    if (IS("motion_enabled")) {
        return parse_bool(key, v, &c->motion_enabled, err, errlen);
    }
    if (IS("motion_threshold")) {
        return parse_real(key, v, 0.0001, 1, &c->motion.threshold, err,
                          errlen);
    }
    if (IS("motion_pixel_threshold")) {
        return parse_int(key, v, 1, 255, &c->motion.pixel_threshold, err,
                         errlen);
    }
    if (IS("motion_alpha")) {
        return parse_real(key, v, 0.001, 1, &c->motion.alpha, err, errlen);
    }
    if (IS("motion_recalibrate")) {
        return parse_real(key, v, 0.05, 1, &c->motion.recalibrate, err,
                          errlen);
    }
    if (IS("motion_normalize")) {
        return parse_bool(key, v, &c->motion.normalize, err, errlen);
    }
    if (IS("motion_width")) {
        return parse_int(key, v, 16, 1920, &c->motion_width, err, errlen);
    }
    if (IS("roi_areas")) {
        char e2[200];
        if (vms_roi_parse(&c->roi, v, e2, sizeof(e2)) < 0) {
            snprintf(err, errlen, "%s", e2);
            return -1;
        }
        return 0;
    }
#undef IS
    if (strncmp(key, "ai_", 3) == 0 || strncmp(key, "motion_", 7) == 0
        || strncmp(key, "roi", 3) == 0)
    {
        snprintf(err, errlen, "unknown analysis key (the keys are listed in "
                 "docs/ai.md)");
        return -1;
    }
    return 1;
}

int
vms_ai_conf_check(const vms_ai_conf_t *c, char *err, size_t errlen)
{
    if (c->provider.local_faces == 0 && c->provider.local_plates == 0
        && strcmp(c->provider.provider, "local") == 0 && c->enabled)
    {
        snprintf(err, errlen, "ai_provider local: ai_local_faces and "
                 "ai_local_plates are both off");
        return -1;
    }
    return 0;
}
