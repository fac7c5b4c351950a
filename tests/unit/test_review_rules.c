/* Review rules and DetectionResult parsing (sidecar/detections_consumer): fixed instants only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "rules.h"

static vms_detection_t
det(const char *cam, const char *label, double conf, const char *ts, int x)
{
    char json[512];
    vms_detection_t d;
    const char *why;
    snprintf(json, sizeof(json), "{\"type\":\"detection\",\"id\":\"a-1\",\"camera_id\":\"%s\",\"ts\":\"%s\","
             "\"label\":\"%s\",\"confidence\":%g,\"bbox\":{\"x\":%d,\"y\":100,\"width\":50,\"height\":50},"
             "\"frame\":{\"width\":1000,\"height\":1000}}", cam, ts, label, conf, x);
    assert_int_equal(vms_detection_parse(&d, json, strlen(json), &why), VMS_DET_OK);
    return d;
}

static vms_rules_t
load(const char *text)
{
    vms_rules_t rs;
    char err[1024];
    int rc = vms_rules_load(text, strlen(text), &rs, err, sizeof(err));
    if (rc != 0) {
        fail_msg("%s", err);
    }
    return rs;
}

static void
test_match_fields(void **state)
{
    vms_rules_t rs = load("{\"rules\":[{\"name\":\"p\",\"cameras\":[\"cam1\"],\"labels\":[\"Person\"],"
                          "\"min_score\":0.6,\"roi\":[[0,0],[0.5,0],[0.5,1],[0,1]]}]}");
    vms_detection_t d = det("cam1", "person", 0.7, "2026-06-01T12:00:00Z", 100);
    assert_true(vms_rule_match(&rs.v[0], &d));
    vms_detection_free(&d);
    d = det("cam2", "person", 0.7, "2026-06-01T12:00:00Z", 100);
    assert_false(vms_rule_match(&rs.v[0], &d));
    vms_detection_free(&d);
    d = det("cam1", "car", 0.7, "2026-06-01T12:00:00Z", 100);
    assert_false(vms_rule_match(&rs.v[0], &d));
    vms_detection_free(&d);
    d = det("cam1", "person", 0.5, "2026-06-01T12:00:00Z", 100);
    assert_false(vms_rule_match(&rs.v[0], &d));
    vms_detection_free(&d);
    d = det("cam1", "person", 0.9, "2026-06-01T12:00:00Z", 800);      /* centre outside the ROI */
    assert_false(vms_rule_match(&rs.v[0], &d));
    vms_detection_free(&d);
    vms_rules_free(&rs);
}

/* 22:00-06:00 on Fridays in São Paulo (UTC-3): judged in that zone, whatever TZ the process has */
static void
test_window_crosses_midnight_in_a_zone_behind_utc(void **state)
{
    vms_rules_t rs = load("{\"rules\":[{\"name\":\"n\",\"time\":{\"days\":[\"fri\"],\"from\":\"22:00\","
                          "\"to\":\"06:00\",\"tz\":\"America/Sao_Paulo\"}}]}");
    struct { const char *ts; int in; } cases[] = {
        { "2026-06-06T01:30:00Z", 1 },   /* Fri 22:30 local (Sat in UTC) */
        { "2026-06-06T08:00:00Z", 1 },   /* Sat 05:00 local: the Friday window's tail */
        { "2026-06-06T09:30:00Z", 0 },   /* Sat 06:30 local */
        { "2026-06-05T23:00:00Z", 0 },   /* Fri 20:00 local */
        { "2026-06-07T01:30:00Z", 0 },   /* Sat 22:30 local: not a Friday */
        { "2026-06-05T08:00:00Z", 0 },   /* Fri 05:00 local: Thursday's window, not listed */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vms_detection_t d = det("cam1", "person", 0.9, cases[i].ts, 100);
        if (vms_rule_match(&rs.v[0], &d) != cases[i].in) {
            fail_msg("%s: expected %d", cases[i].ts, cases[i].in);
        }
        vms_detection_free(&d);
    }
    vms_rules_free(&rs);
}

static void
test_bad_rules_name_rule_and_field(void **state)
{
    const char *text = "{\"rules\":[{\"name\":\"a\",\"min_score\":2},{\"name\":\"b\",\"lables\":[\"x\"]},"
                       "{\"time\":{\"from\":\"7pm\"}},{\"name\":\"a\"}]}";
    vms_rules_t rs;
    char err[2048];
    assert_int_equal(vms_rules_load(text, strlen(text), &rs, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "rules[0] (\"a\"): min_score: must be a number in 0..1"));
    assert_non_null(strstr(err, "rules[1] (\"b\"): unknown field \"lables\" (did you mean \"labels\"?)"));
    assert_non_null(strstr(err, "rules[2]: name: required"));
    assert_non_null(strstr(err, "rules[2]: time.from: \"7pm\" is not HH:MM"));
    assert_non_null(strstr(err, "rules[3] (\"a\"): name: the same as rules[0]'s"));
    assert_null(rs.v);
    assert_int_equal(vms_rules_load("[", 1, &rs, err, sizeof(err)), -1);
}

static void
test_detection_parse(void **state)
{
    vms_detection_t d;
    const char *why;
    const char *other = "{\"type\":\"ai.budget_exceeded\",\"camera_id\":\"c\"}";
    assert_int_equal(vms_detection_parse(&d, other, strlen(other), &why), VMS_DET_OTHER);
    vms_detection_free(&d);
    const char *bad[] = {
        "{\"type\":\"detection\",\"id\":\"x\",\"camera_id\":\"../c\",\"ts\":\"2026-06-01T00:00:00Z\",\"label\":\"p\",\"confidence\":1}",
        "{\"type\":\"detection\",\"id\":\"x\",\"camera_id\":\"c\",\"ts\":\"2026-02-31T00:00:00Z\",\"label\":\"p\",\"confidence\":1}",
        "{\"type\":\"detection\",\"id\":\"x\",\"camera_id\":\"c\",\"ts\":\"2026-06-01T00:00:00Z\",\"label\":\"p\",\"confidence\":1.5}",
        "{\"type\":\"detection\",\"id\":\"x\",\"camera_id\":\"c\",\"ts\":\"2026-06-01T00:00:00Z\",\"label\":\"\",\"confidence\":1}",
        "{\"type\":\"detection\",\"id\":\"x\",\"id\":\"y\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (vms_detection_parse(&d, bad[i], strlen(bad[i]), &why) != VMS_DET_BAD) {
            fail_msg("accepted: %s", bad[i]);
        }
        vms_detection_free(&d);
    }
    int64_t us;
    assert_int_equal(vms_rfc3339_us("2026-06-01T00:00:01.5-03:00", &us), 0);
    assert_int_equal(us, (int64_t) 1780282801 * 1000000 + 500000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_fields),
        cmocka_unit_test(test_window_crosses_midnight_in_a_zone_behind_utc),
        cmocka_unit_test(test_bad_rules_name_rule_and_field),
        cmocka_unit_test(test_detection_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
