/* Analysis keys: values parsed into the pipeline configuration, errors that
 * say what is expected (config.c prefixes file, line, camera and key). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ai/conf.h"

static vms_ai_conf_t c;
static char err[512];

static int
set(const char *k, const char *v)
{
    err[0] = '\0';
    return vms_ai_conf_set(&c, k, v, err, sizeof(err));
}

static void
test_values(void **state)
{
    memset(&c, 0, sizeof(c));
    assert_int_equal(set("ai_enabled", "on"), 0);
    assert_int_equal(c.enabled, 1);
    assert_int_equal(set("ai_provider", "rekognition"), 0);
    assert_string_equal(c.provider.provider, "rekognition");
    assert_int_equal(set("ai_interval", "10s"), 0);
    assert_int_equal(c.interval_ms, 10000);
    assert_int_equal(set("ai_timeout", "300ms"), 0);
    assert_int_equal(c.provider.timeout_ms, 300);
    assert_int_equal(set("ai_retries", "3"), 0);
    assert_int_equal(c.provider.retries, 3);
    assert_int_equal(set("ai_rekognition_apis", "labels, text"), 0);
    assert_int_equal(c.provider.rek_apis, VMS_AI_REK_LABELS | VMS_AI_REK_TEXT);
    assert_int_equal(set("motion_threshold", "0.03"), 0);
    assert_true(c.motion.threshold == 0.03);
    assert_int_equal(set("motion_min_area", "0.005"), 0);
    assert_true(c.motion.min_area == 0.005);
    assert_int_equal(set("motion_min_area", "0"), 0);     /* off */
    assert_true(c.motion.min_area == 0);
    assert_int_equal(set("roi_areas", "[{\"x\":100,\"y\":200,\"width\":400,\"height\":300}]"), 0);
    assert_int_equal(c.roi.n, 1);
    assert_int_equal(set("ai_price", "DetectLabels:0.002"), 0);
    assert_true(vms_ai_price_of(&c.prices, "DetectLabels") == 0.002);
    assert_int_equal(set("ai_budget_usd_per_day", "1.5"), 0);
    assert_true(c.budget_usd == 1.5);
    assert_int_equal(set("ai_s3_endpoint", "http://127.0.0.1:9000"), 0);
    assert_int_equal(set("ai_local_persons", "off"), 0);
    assert_int_equal(c.provider.local_persons, 0);
    assert_int_equal(set("ai_local_min_person", "96"), 0);
    assert_int_equal(c.provider.min_person_px, 96);
    assert_int_equal(set("ai_local_person_confidence", "0.8"), 0);
    assert_true(c.provider.person_confidence == 0.8);
    assert_int_equal(set("retention_days", "3"), 1);     /* not ours */
}

static void
test_errors(void **state)
{
    memset(&c, 0, sizeof(c));
    assert_int_equal(set("ai_interval", "10"), -1);
    assert_non_null(strstr(err, "duration with a unit"));
    assert_int_equal(set("ai_provider", "openai"), -1);
    assert_non_null(strstr(err, "rekognition, deepstack or local"));
    assert_int_equal(set("motion_threshold", "3%"), -1);
    assert_non_null(strstr(err, "expected a number in"));
    assert_int_equal(set("motion_threshold", "2"), -1);
    assert_int_equal(set("motion_min_area", "1.5"), -1);
    assert_int_equal(set("ai_retries", "11"), -1);
    assert_non_null(strstr(err, "0..10"));
    assert_int_equal(set("ai_enabled", "maybe"), -1);
    assert_int_equal(set("ai_rekognition_apis", "labels,celebrities"), -1);
    assert_non_null(strstr(err, "celebrities"));
    assert_int_equal(set("ai_rekognition_region", "us east"), -1);
    assert_int_equal(set("ai_s3_bucket", "Bad_Bucket"), -1);
    assert_int_equal(set("ai_deepstack_url", "ftp://x"), -1);
    assert_int_equal(set("ai_deepstack_url", "http://user:pw@host"), -1);
    assert_null(strstr(err, "pw"));                      /* never echoed */
    assert_int_equal(set("roi_areas", "[{\"x\":1}]"), -1);
    assert_non_null(strstr(err, "roi_areas[0]"));
    assert_int_equal(set("ai_colour", "red"), -1);
    assert_non_null(strstr(err, "unknown analysis key"));
    assert_int_equal(set("motion_foo", "1"), -1);
    assert_int_equal(set("ai_local_min_person", "8"), -1);
    assert_non_null(strstr(err, "24..1024"));
    assert_int_equal(set("ai_local_person_confidence", "1.5"), -1);
    assert_int_equal(set("roi", "1"), -1);
}

static void
test_secret_not_echoed(void **state)
{
    char key[300];

    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    memset(&c, 0, sizeof(c));
    assert_int_equal(set("ai_deepstack_api_key", key), -1);
    assert_null(strstr(err, "kkkk"));
    assert_int_equal(set("ai_deepstack_api_key", "s3cret"), 0);
    assert_string_equal(c.provider.deepstack_api_key, "s3cret");
}

static void
test_defaults(void **state)
{
    vms_ai_conf_default(&c);
    assert_int_equal(c.enabled, 0);
    assert_string_equal(c.provider.provider, "local");
    assert_int_equal(c.interval_ms, 10000);
    assert_int_equal(c.provider.timeout_ms, 5000);
    assert_int_equal(c.provider.retries, 3);
    assert_int_equal(c.provider.backoff_ms, 500);
    assert_true(c.provider.min_confidence == 0.5);
    assert_int_equal(c.max_width, 1280);
    assert_int_equal(c.jpeg_quality, 4);
    assert_int_equal(c.queue_len, 2);
    assert_string_equal(c.provider.region, "");
    assert_int_equal(c.provider.rek_apis, VMS_AI_REK_LABELS);
    assert_int_equal(c.provider.max_labels, 20);
    assert_string_equal(c.provider.s3_bucket, "vms-detections");
    assert_int_equal(c.store_results, 1);
    assert_string_equal(c.provider.deepstack_url, "http://127.0.0.1:5000");
    assert_string_equal(c.provider.cascade_dir,
                        "/usr/share/opencv4/haarcascades");
    assert_int_equal(c.provider.local_faces, 1);
    assert_int_equal(c.provider.local_plates, 1);
    assert_int_equal(c.provider.min_face_px, 24);
    assert_int_equal(c.provider.local_persons, 1);
    assert_int_equal(c.provider.min_person_px, 64);
    assert_true(c.provider.person_confidence == 0.9);
    assert_true(vms_ai_price_of(&c.prices, "DetectLabels") == 0.001);
    assert_true(c.budget_usd == 0);
    assert_int_equal(c.motion_enabled, 1);
    assert_true(c.motion.threshold == 0.03);
    assert_int_equal(c.motion.pixel_threshold, 25);
    assert_int_equal(c.motion_width, 160);
    assert_int_equal(c.roi.n, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_secret_not_echoed),
        cmocka_unit_test(test_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
