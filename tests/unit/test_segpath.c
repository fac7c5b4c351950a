/* Segment path templates (sidecar/record/segpath.c). */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vms_segpath.h"

/* 2026-11-24T01:02:03.045678Z */
#define T_US  (INT64_C(1795482123) * 1000000 + 45678)

static void
test_default_template(void **state)
{
    char out[256];
    int  n;

    n = vms_segpath_expand(VMS_SEGPATH_DEFAULT, "cam1", T_US, out, sizeof(out));
    assert_int_equal(n, (int) strlen(out));
    assert_string_equal(out, "cam1/2026/11/24/01/segment_1795482123");
    assert_string_equal(vms_segpath_relative(out, "cam1"),
                        "2026/11/24/01/segment_1795482123");
    assert_null(vms_segpath_relative(out, "cam"));
}

static void
test_all_placeholders(void **state)
{
    char out[256];

    assert_true(vms_segpath_expand("%path/%Y-%m-%d_%H-%M-%S-%f", "front-door",
                                   T_US, out, sizeof(out)) > 0);
    /* MediaMTX's default record path: %f is microseconds, 6 digits. */
    assert_string_equal(out, "front-door/2026-11-24_01-02-03-045678");

    assert_true(vms_segpath_expand("%path/%s_%f", "c", INT64_C(5), out,
                                   sizeof(out)) > 0);
    assert_string_equal(out, "c/0_000005");
}

static void
test_too_small(void **state)
{
    char out[20];

    assert_int_equal(vms_segpath_expand(VMS_SEGPATH_DEFAULT, "cam1", T_US, out,
                                        sizeof(out)), -1);
    /* exactly fitting: 37 characters + NUL */
    char fit[38];
    assert_int_equal(vms_segpath_expand(VMS_SEGPATH_DEFAULT, "cam1", T_US, fit,
                                        sizeof(fit)), 37);
    assert_int_equal(vms_segpath_expand(VMS_SEGPATH_DEFAULT, "cam1", T_US, fit,
                                        sizeof(fit) - 1), -1);
}

static void
test_check_rejects(void **state)
{
    char        err[160];
    const char *bad[] = {
        "%Y/%m/%d/%H/segment_%s",          /* not below the camera dir */
        "/abs/%path/%s",
        "%path/../%s",
        "%path/./%s",
        "%path//%s",
        "%path/%s/",
        "%path/%x_%s",                     /* unknown placeholder */
        "%path/seg %s",                    /* space */
        "%path/%Y/%m/%d/%H",               /* no complete time */
        "%path/segment",
        "%path/%s%",
        NULL,
    };

    for (int i = 0; i < (int) (sizeof(bad) / sizeof(bad[0])); i++) {
        err[0] = '\0';
        assert_int_equal(vms_segpath_check(bad[i], err, sizeof(err)), -1);
        assert_true(strlen(err) > 0);
    }
    assert_int_equal(vms_segpath_check(VMS_SEGPATH_DEFAULT, err, sizeof(err)), 0);
    assert_int_equal(vms_segpath_check("%path/%Y-%m-%d_%H-%M-%S-%f", err,
                                       sizeof(err)), 0);
    char out[64];
    assert_int_equal(vms_segpath_expand("%path/../%s", "c", T_US, out,
                                        sizeof(out)), -1);
}

static void
test_parse_round_trip(void **state)
{
    const char *tmpls[] = {
        VMS_SEGPATH_DEFAULT, "%path/%Y-%m-%d_%H-%M-%S-%f", "%path/%Y/%m/%d/%H-%M-%S",
        "%path/%s-%f", "%path/x/%path_%s",
    };
    const int64_t want[] = {
        T_US / 1000000 * 1000000, T_US, T_US / 1000000 * 1000000, T_US,
        T_US / 1000000 * 1000000,
    };
    char    out[256];
    int64_t t;

    for (int i = 0; i < 5; i++) {
        assert_true(vms_segpath_expand(tmpls[i], "cam_9", T_US, out,
                                       sizeof(out)) > 0);
        t = 0;
        assert_int_equal(vms_segpath_parse(tmpls[i], "cam_9",
                             vms_segpath_relative(out, "cam_9"), &t), 0);
        assert_int_equal(t, want[i]);
    }
}

static void
test_parse_rejects(void **state)
{
    int64_t t;

    assert_int_equal(vms_segpath_parse(VMS_SEGPATH_DEFAULT, "c",
                         "2026/11/24/01/segment_", &t), -1);
    assert_int_equal(vms_segpath_parse(VMS_SEGPATH_DEFAULT, "c",
                         "2026/11/24/01/segment_12x", &t), -1);
    assert_int_equal(vms_segpath_parse(VMS_SEGPATH_DEFAULT, "c",
                         "2026/11/24/segment_12", &t), -1);
    assert_int_equal(vms_segpath_parse("%path/%Y/%m/%d/%H-%M-%S", "c",
                         "2026/13/24/01-02-03", &t), -1);
    assert_int_equal(vms_segpath_parse("%path/%Y/%m/%d/%H-%M-%S", "c",
                         "2026/11/24/01-02-03.tmp", &t), -1);
    assert_int_equal(vms_segpath_parse("%path/a/%path_%s", "c",
                         "a/d_12", &t), -1);
    assert_int_equal(vms_segpath_parse("%path/a/%path_%s", "c",
                         "a/c_12", &t), 0);
    assert_int_equal(t, INT64_C(12000000));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_template),
        cmocka_unit_test(test_all_placeholders),
        cmocka_unit_test(test_too_small),
        cmocka_unit_test(test_check_rejects),
        cmocka_unit_test(test_parse_round_trip),
        cmocka_unit_test(test_parse_rejects),
    };

    return cmocka_run_group_tests_name("segpath", tests, NULL, NULL);
}
