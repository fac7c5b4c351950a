/*
 * ai_*, motion_*, roi_* keys (see conf.h, docs/ai.md).
 */

#include "conf.h"
#include "confkey.h"
#include "secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(k, base)  ((char *) (base) + (k)->off)

static int
parse_url(const vms_confkey_t *k, void *base, const char *v, char *err,
    size_t errlen)
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
    if (strlen(v) >= k->size) {
        snprintf(err, errlen, "longer than %zu bytes", k->size - 1);
        return -1;
    }
    snprintf(FIELD(k, base), k->size, "%s", v);
    return 0;
}

static int
parse_apis(const vms_confkey_t *k, void *base, const char *v, char *err,
    size_t errlen)
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
    *(int *) FIELD(k, base) = m;
    return 0;
}

static int
parse_provider(const vms_confkey_t *k, void *base, const char *v, char *err,
    size_t errlen)
{
    if (strcmp(v, "rekognition") && strcmp(v, "deepstack")
        && strcmp(v, "local"))
    {
        snprintf(err, errlen, "expected rekognition, deepstack or local, got "
                 "\"%.40s\"", v);
        return -1;
    }
    snprintf(FIELD(k, base), k->size, "%s", v);
    return 0;
}

static int
parse_region(const vms_confkey_t *k, void *base, const char *v, char *err,
    size_t errlen)
{
    if (strlen(v) >= k->size
        || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(v))
    {
        snprintf(err, errlen, "expected an AWS region such as us-east-1");
        return -1;
    }
    snprintf(FIELD(k, base), k->size, "%s", v);
    return 0;
}

static int
parse_bucket(const vms_confkey_t *k, void *base, const char *v, char *err,
    size_t errlen)
{
    if (v[0] && (strlen(v) < 3 || strlen(v) > 63
        || strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen(v)))
    {
        snprintf(err, errlen, "expected an S3 bucket name (3-63 of a-z 0-9 . -)");
        return -1;
    }
    snprintf(FIELD(k, base), k->size, "%s", v);
    return 0;
}

static int
parse_prices(const vms_confkey_t *k, void *base, const char *v, char *err,
    size_t errlen)
{
    return vms_ai_prices_parse((vms_ai_prices_t *) FIELD(k, base), v, err,
                               errlen);
}

static int
parse_roi(const vms_confkey_t *k, void *base, const char *v, char *err,
    size_t errlen)
{
    char e2[200];

    if (vms_roi_parse((vms_roi_t *) FIELD(k, base), v, e2, sizeof(e2)) < 0) {
        snprintf(err, errlen, "%s", e2);
        return -1;
    }
    return 0;
}

/* a secret from a file or aws-sm: (base/secret.h), never echoed */
static int
parse_secret_ref(const vms_confkey_t *k, void *base, const char *v, char *err,
    size_t errlen)
{
    char *s = vms_secret_get(v, err, errlen);

    if (s == NULL) {
        return -1;
    }
    if (strlen(s) >= k->size) {
        snprintf(err, errlen, "the secret is longer than %zu bytes",
                 k->size - 1);
        vms_secret_free(s);
        return -1;
    }
    snprintf(FIELD(k, base), k->size, "%s", s);
    vms_secret_free(s);
    return 0;
}

#define AC  vms_ai_conf_t

/* One entry per key (base/confkey.h); values that do not parse are quoted
 * in the error, except strings (a secret is never echoed). */
#define INT(name, f, lo, hi, def)                                            \
    { name, VMS_CK_INT, VMS_CK_INT_AT(AC, f), lo, hi, def, NULL, 1, NULL }
#define REAL(name, f, lo, hi, def)                                           \
    { name, VMS_CK_DOUBLE, VMS_CK_AT(AC, f, double), lo, hi, def, NULL, 1,   \
      NULL }
#define DUR(name, f, lo_ms, hi_s, def)                                       \
    { name, VMS_CK_DURATION, VMS_CK_AT(AC, f, int64_t), lo_ms, hi_s * 1000,  \
      def, "expected a duration with a unit (e.g. 500ms, 10s) in " #lo_ms    \
      "ms.." #hi_s "s", 1, NULL }
#define ONOFF(name, f, def)                                                  \
    { name, VMS_CK_BOOL, VMS_CK_AT(AC, f, int), 0, 0, def, "expected on/off",\
      1, NULL }
#define CHARS(name, f, def)                                                  \
    { name, VMS_CK_CHARS, VMS_CK_AT(AC, f, char *), 0, 0, def, NULL, 0, NULL }
#define FUNC(name, f, parse, def)                                            \
    { name, VMS_CK_FUNC, VMS_CK_ANY_AT(AC, f), 0, 0, def, NULL, 0, parse }

/* docs/ai.md lists them.  The motion_* defaults are motion.c's
 * (vms_motion_conf_default), ai_price's cost.c's (vms_ai_prices_default). */
static const vms_confkey_t ai_keys[] = {
    ONOFF("ai_enabled", enabled, "off"),
    FUNC("ai_provider", provider.provider, parse_provider, "local"),
    DUR("ai_interval", interval_ms, 0, 86400, "10s"),
    DUR("ai_timeout", provider.timeout_ms, 10, 600, "5s"),
    INT("ai_retries", provider.retries, 0, 10, "3"),
    DUR("ai_retry_backoff", provider.backoff_ms, 0, 60, "500ms"),
    REAL("ai_min_confidence", provider.min_confidence, 0, 1, "0.5"),
    INT("ai_max_width", max_width, 64, 8192, "1280"),
    INT("ai_jpeg_quality", jpeg_quality, 2, 31, "4"),
    INT("ai_queue", queue_len, 1, 16, "2"),
    FUNC("ai_rekognition_region", provider.region, parse_region, NULL),
    FUNC("ai_rekognition_endpoint", provider.endpoint, parse_url, NULL),
    FUNC("ai_rekognition_apis", provider.rek_apis, parse_apis, "labels"),
    INT("ai_rekognition_max_labels", provider.max_labels, 1, 1000, "20"),
    FUNC("ai_s3_endpoint", provider.s3_endpoint, parse_url, NULL),
    FUNC("ai_s3_bucket", provider.s3_bucket, parse_bucket, "vms-detections"),
    ONOFF("ai_store_results", store_results, "on"),
    FUNC("ai_deepstack_url", provider.deepstack_url, parse_url,
         "http://127.0.0.1:5000"),
    CHARS("ai_deepstack_api_key", provider.deepstack_api_key, NULL),
    FUNC("ai_deepstack_api_key_file", provider.deepstack_api_key,
         parse_secret_ref, NULL),
    CHARS("ai_local_cascades", provider.cascade_dir,
          "/usr/share/opencv4/haarcascades"),
    CHARS("ai_local_tessdata", provider.tessdata, NULL),
    ONOFF("ai_local_faces", provider.local_faces, "on"),
    ONOFF("ai_local_plates", provider.local_plates, "on"),
    INT("ai_local_min_face", provider.min_face_px, 12, 1024, "24"),
    ONOFF("ai_local_persons", provider.local_persons, "on"),
    INT("ai_local_min_person", provider.min_person_px, 24, 1024, "64"),
    REAL("ai_local_person_confidence", provider.person_confidence, 0, 1,
         "0.9"),
    FUNC("ai_price", prices, parse_prices, NULL),
    REAL("ai_budget_usd_per_day", budget_usd, 0, 1e+06, "0"),
    CHARS("ai_snapshot_dir", snapshot_dir, NULL),
    ONOFF("motion_enabled", motion_enabled, "on"),
    REAL("motion_threshold", motion.threshold, 0.0001, 1, NULL),
    REAL("motion_min_area", motion.min_area, 0, 1, NULL),
    INT("motion_pixel_threshold", motion.pixel_threshold, 1, 255, NULL),
    REAL("motion_alpha", motion.alpha, 0.001, 1, NULL),
    REAL("motion_recalibrate", motion.recalibrate, 0.05, 1, NULL),
    ONOFF("motion_normalize", motion.normalize, NULL),
    INT("motion_width", motion_width, 16, 1920, "160"),
    FUNC("roi_areas", roi, parse_roi, NULL),
};

#define NAIKEYS  (sizeof(ai_keys) / sizeof(ai_keys[0]))

void
vms_ai_conf_default(vms_ai_conf_t *c)
{
    memset(c, 0, sizeof(*c));
    vms_motion_conf_default(&c->motion);
    vms_ai_prices_default(&c->prices);
    vms_confkey_defaults(ai_keys, NAIKEYS, c);
}

int
vms_ai_conf_set(vms_ai_conf_t *c, const char *key, const char *v, char *err,
    size_t errlen)
{
    int i = vms_confkey_find(ai_keys, NAIKEYS, key);

    if (i >= 0) {
        return vms_confkey_set(&ai_keys[i], c, v, err, errlen);
    }
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
        && c->provider.local_persons == 0 && strcmp(c->provider.provider, "local") == 0 && c->enabled)
    {
        snprintf(err, errlen, "ai_provider local: ai_local_faces, "
                 "ai_local_plates and ai_local_persons are all off");
        return -1;
    }
    return 0;
}
