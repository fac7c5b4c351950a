/* Playback request input: RFC 3339 times, durations, query arguments, names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pb_query.h"
#include "pb_time.h"

#define S 1000000LL

static int64_t
t(const char *s)
{
    int64_t us = -42;
    return pb_time_parse(s, strlen(s), &us) == 0 ? us : -1;
}

static void
test_time_parse(void **state)
{
    assert_int_equal(t("2026-11-24T00:00:00Z"), 1795478400LL * S);
    assert_int_equal(t("2026-11-24T00:00:00.5Z"), 1795478400LL * S + 500000);
    assert_int_equal(t("2026-11-24T00:00:00.123456789Z"), 1795478400LL * S + 123456);
    assert_int_equal(t("2026-11-24t00:00:00z"), 1795478400LL * S);
    assert_int_equal(t("2026-11-24 00:00:00"), 1795478400LL * S);          /* no zone: UTC */
    assert_int_equal(t("2026-11-24T01:00:00+01:00"), 1795478400LL * S);
    assert_int_equal(t("2026-11-23T21:00:00-0300"), 1795478400LL * S);
    assert_int_equal(t("2024-02-29T12:00:00Z"), 1709208000LL * S);         /* leap day */
    const char *bad[] = { "", "2026", "2026-11-24", "2026-11-24T00:00", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2026-11-24T24:00:00Z", "2026-11-24T00:00:00.Z",
        "2026-11-24T00:00:00.1234567890Z", "2026-11-24T00:00:00Zjunk", "2026-11-24T00:00:00+25:00",
        "1969-12-31T23:59:59Z", "yesterday", "2026-11-24T00:00:00 Z", "+2026-11-24T00:00:00Z" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (t(bad[i]) != -1) {
            fail_msg("accepted %s", bad[i]);
        }
    }
    /* length-bounded: a NUL-free prefix only */
    int64_t us;
    assert_int_equal(pb_time_parse("2026-11-24T00:00:00Zxyz", 20, &us), 0);
}

static void
test_time_format_roundtrip(void **state)
{
    char b[40];
    pb_time_format(b, 1795478400LL * S);
    assert_string_equal(b, "2026-11-24T00:00:00Z");
    pb_time_format(b, 1795478400LL * S + 250000);
    assert_string_equal(b, "2026-11-24T00:00:00.25Z");
    pb_time_format(b, 1795478400LL * S + 1);
    assert_string_equal(b, "2026-11-24T00:00:00.000001Z");
    for (int64_t v = 0; v < 4000LL * 86400 * S; v += 86399LL * S + 12345) {
        pb_time_format(b, v);
        assert_int_equal(t(b), v);
    }
    pb_seconds_format(b, 64500000);
    assert_string_equal(b, "64.5");
    pb_seconds_format(b, 60 * S);
    assert_string_equal(b, "60");
    pb_seconds_format(b, 40000);
    assert_string_equal(b, "0.04");
}

static void
test_duration_parse(void **state)
{
    int64_t us;
    assert_int_equal(pb_duration_parse("60", 2, &us), 0);
    assert_int_equal(us, 60 * S);
    assert_int_equal(pb_duration_parse("12.5", 4, &us), 0);
    assert_int_equal(us, 12500000);
    assert_int_equal(pb_duration_parse(".04", 3, &us), 0);
    assert_int_equal(us, 40000);
    const char *bad[] = { "", "0", "-3", "1e3", "abc", "1.2.3", ".", "99999999999" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(pb_duration_parse(bad[i], strlen(bad[i]), &us), -1);
    }
}

static void
test_args(void **state)
{
    char v[64];
    const char *q = "path=camera%2Fcam1&start=2026-11-24T00%3A00%3A00Z&x=a+b&empty=&pathx=no";
    assert_int_equal(pb_arg(q, strlen(q), "path", v, sizeof(v)), 1);
    assert_string_equal(v, "camera/cam1");
    assert_int_equal(pb_arg(q, strlen(q), "start", v, sizeof(v)), 1);
    assert_string_equal(v, "2026-11-24T00:00:00Z");
    assert_int_equal(pb_arg(q, strlen(q), "x", v, sizeof(v)), 1);
    assert_string_equal(v, "a b");
    assert_int_equal(pb_arg(q, strlen(q), "empty", v, sizeof(v)), 1);
    assert_string_equal(v, "");
    assert_int_equal(pb_arg(q, strlen(q), "end", v, sizeof(v)), 0);
    assert_int_equal(pb_arg(q, strlen(q), "pat", v, sizeof(v)), 0);
    assert_int_equal(pb_arg("a=%zz", 5, "a", v, sizeof(v)), -1);
    assert_int_equal(pb_arg("a=%2", 4, "a", v, sizeof(v)), -1);
    assert_int_equal(pb_arg("a=%00x", 6, "a", v, sizeof(v)), -1);
    assert_int_equal(pb_arg("a=123456", 8, "a", v, 4), -1);
    assert_int_equal(pb_arg("", 0, "a", v, sizeof(v)), 0);
}

static void
test_names(void **state)
{
    assert_true(pb_camera_ok("cam1", 4, 0));
    assert_true(pb_camera_ok("Cam_1-x", 7, 0));
    assert_false(pb_camera_ok("", 0, 0));
    assert_false(pb_camera_ok("camera/cam1", 11, 0));
    assert_true(pb_camera_ok("camera/cam1", 11, 1));
    assert_false(pb_camera_ok("..", 2, 1));
    assert_false(pb_camera_ok("a/../b", 6, 1));
    assert_false(pb_camera_ok("/etc", 4, 1));
    assert_false(pb_camera_ok("a//b", 4, 1));
    assert_false(pb_camera_ok("a/", 2, 1));
    assert_false(pb_camera_ok("a/b/c/d/e", 9, 1));
    char id[70];
    memset(id, 'a', sizeof(id));
    assert_true(pb_camera_ok(id, 64, 0));
    assert_false(pb_camera_ok(id, 65, 0));

    assert_true(pb_media_path_ok("2026/11/24/00/segment_1.mp4", 27));
    assert_true(pb_media_path_ok("2026-11-24_00-00-00-000000.mp4", 30));
    assert_false(pb_media_path_ok("../x.mp4", 8));
    assert_false(pb_media_path_ok("a/../x.mp4", 10));
    assert_false(pb_media_path_ok(".index/lock", 11));
    assert_false(pb_media_path_ok("/etc/passwd", 11));
    assert_false(pb_media_path_ok("a//b", 4));
    assert_false(pb_media_path_ok("a/b/", 4));
    assert_false(pb_media_path_ok("a%2e", 4));
    assert_false(pb_media_path_ok("a\\b", 3));
}

static void
test_int_parse(void **state)
{
    int64_t v;
    assert_int_equal(pb_int_parse("1795478400000000", &v), 0);
    assert_int_equal(v, 1795478400000000LL);
    assert_int_equal(pb_int_parse("-5000000", &v), 0);
    assert_int_equal(v, -5000000);
    assert_int_equal(pb_int_parse("9223372036854775807", &v), 0);
    const char *bad[] = { "", "-", "1x", "9223372036854775808", "99999999999999999999", " 1", "+1" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(pb_int_parse(bad[i], &v), -1);
    }
}

static void
test_query_escape(void **state)
{
    char out[128];
    pb_query_escape(out, "camera/cam 1:x~y", 16);
    assert_string_equal(out, "camera%2Fcam+1%3Ax~y");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_time_format_roundtrip),
        cmocka_unit_test(test_duration_parse),
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_int_parse),
        cmocka_unit_test(test_query_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
