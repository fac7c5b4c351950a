/* Cost registry: price table, per camera/day/API totals, JSON, metrics. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cost.h"

#define DAY_US  (86400LL * 1000000LL)
/* 2026-11-24T00:00:00Z */
#define T0      (1795478400LL * 1000000LL)

static void
test_prices_default_and_override(void **state)
{
    vms_ai_prices_t p;
    char err[128];

    vms_ai_prices_default(&p);
    assert_true(vms_ai_price_of(&p, "DetectLabels") == 0.001);
    assert_true(vms_ai_price_of(&p, "DetectFaces") == 0.001);
    assert_true(vms_ai_price_of(&p, "faces") == 0);
    assert_int_equal(vms_ai_prices_parse(&p, "DetectLabels:0.0012, Custom:0.5",
                                         err, sizeof(err)), 0);
    assert_true(vms_ai_price_of(&p, "DetectLabels") == 0.0012);
    assert_true(vms_ai_price_of(&p, "Custom") == 0.5);
    assert_int_equal(vms_ai_prices_parse(&p, "DetectLabels", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "API:USD"));
    assert_int_equal(vms_ai_prices_parse(&p, "DetectLabels:-1", err, sizeof(err)), -1);
    assert_int_equal(vms_ai_prices_parse(&p, "DetectLabels:abc", err, sizeof(err)), -1);
}

static void
test_days_and_json(void **state)
{
    vms_ai_prices_t p;
    char *j;

    vms_ai_cost_reset();
    vms_ai_prices_default(&p);
    assert_true(vms_ai_cost_record("cam2", "rekognition", "DetectLabels", 1, &p, T0 + 5) == 0.001);
    vms_ai_cost_record("cam2", "rekognition", "DetectLabels", 2, &p, T0 + 3600LL * 1000000);
    vms_ai_cost_record("cam2", "rekognition", "DetectFaces", 1, &p, T0 + DAY_US);
    vms_ai_cost_record("cam1", "local", "faces", 4, &p, T0);
    assert_true(vms_ai_cost_day("cam2", T0 + 10) > 0.00299
                && vms_ai_cost_day("cam2", T0 + 10) < 0.00301);
    assert_true(vms_ai_cost_day("cam2", T0 + DAY_US) > 0.00099);
    assert_true(vms_ai_cost_day("cam3", T0) == 0);

    j = vms_ai_cost_json("cam2", NULL, NULL);
    assert_non_null(j);
    assert_non_null(strstr(j, "\"camera_id\":\"cam2\""));
    assert_non_null(strstr(j, "{\"date\":\"2026-11-24\",\"cost_usd\":0.003,"
                              "\"calls\":{\"DetectLabels\":3}"));
    assert_non_null(strstr(j, "\"date\":\"2026-11-25\""));
    assert_null(strstr(j, "cam1"));
    free(j);
    j = vms_ai_cost_json(NULL, "2026-11-25", "2026-11-25");
    assert_null(strstr(j, "2026-11-24"));
    assert_non_null(strstr(j, "\"camera_id\":\"cam1\",\"days\":[]"));
    free(j);
    vms_ai_cost_reset();
}

static char metrics[4096];

static void
emit(void *ud, const char *text, size_t len)
{
    strncat(metrics, text, len);
}

static void
test_metrics(void **state)
{
    vms_ai_prices_t p;

    vms_ai_cost_reset();
    vms_ai_prices_default(&p);
    vms_ai_cost_record("cam1", "rekognition", "DetectLabels", 2, &p, T0);
    vms_ai_cost_record("cam1", "rekognition", "PutObject", 1, &p, T0);
    vms_ai_cost_record("cam1", "deepstack", "detection", 1, &p, T0);
    metrics[0] = '\0';
    vms_ai_cost_metrics(emit, NULL);
    assert_non_null(strstr(metrics,
        "vms_rekognition_calls{camera_id=\"cam1\",api=\"DetectLabels\"} 2\n"));
    assert_non_null(strstr(metrics,
        "vms_rekognition_cost_usd{camera_id=\"cam1\"} 0.002005\n"));
    assert_null(strstr(metrics, "vms_rekognition_calls{camera_id=\"cam1\",api=\"detection\"}"));
    assert_non_null(strstr(metrics, "provider=\"deepstack\",api=\"detection\"} 1"));
    vms_ai_cost_reset();

    /* a tracked camera's cost counter exists at 0 before its first call */
    vms_ai_cost_track("gate");
    metrics[0] = '\0';
    vms_ai_cost_metrics(emit, NULL);
    assert_non_null(strstr(metrics, "vms_rekognition_cost_usd{camera_id=\"gate\"} 0.000000\n"));
    vms_ai_cost_reset();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prices_default_and_override),
        cmocka_unit_test(test_days_and_json),
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
