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


/* one parse of the whole query: what vms_auth authorizes is what is served */
static int
parse(const char *q, pb_args_t *a, const char **why)
{
    static char buf[4096];
    return pb_args_parse(q, strlen(q), buf, sizeof(buf), a, why);
}

static void
test_args_parse(void **state)
{
    pb_args_t a;
    const char *why = NULL;
    assert_int_equal(parse("path=camera%2Fcam1&start=2026-11-24T00%3A00%3A00Z&x=a+b&X=1&x=2&end=&gaps"
                           "&&duration=10s&jwt=a.b.c", &a, &why), 0);
    assert_string_equal(a.v[PB_A_PATH], "camera/cam1");
    assert_string_equal(a.v[PB_A_START], "2026-11-24T00:00:00Z");
    assert_string_equal(a.v[PB_A_END], "");             /* present, empty: the handler's "absent" */
    assert_string_equal(a.v[PB_A_GAPS], "");
    assert_string_equal(a.v[PB_A_DURATION], "10s");
    assert_string_equal(a.v[PB_A_JWT], "a.b.c");
    assert_null(a.v[PB_A_FORMAT]);
    assert_null(a.v[PB_A_TOKEN]);
    assert_int_equal(parse("", &a, &why), 0);
    assert_null(a.v[PB_A_PATH]);
    /* issue #20: authorized on the first/any-case one, served from another */
    const char *bad[] = {
        "PATH=cam1&path=cam2", "path=cam1&path=cam2", "Path=cam2", "p%61th=cam2", "path=cam1&%70ath=cam2",
        "%50ATH=cam2", "pa+th=x&path=cam1" /* not a known name: fine */, "start=1&start=",
        "path=cam1&JWT=x", "jwt=a&jwt=b", "token=a&TOKEN=b", "path=%zz", "path=cam1%00", "%=1",
        "x%zz=1&path=cam1", "%00=1", "path=%2", "DURATION=5", "s=1&s=2", "t=1&T=2", "path=a&path",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = parse(bad[i], &a, &why);
        if (i == 6) {
            assert_int_equal(rc, 0);
            assert_string_equal(a.v[PB_A_PATH], "cam1");
            continue;
        }
        if (rc != -1) {
            fail_msg("accepted %s", bad[i]);
        }
        assert_non_null(why);
    }
    char small[8];
    assert_int_equal(pb_args_parse("path=cam1", 9, small, sizeof(small), &a, &why), -1);
}

static void
test_path_names(void **state)
{
    const char *ok[] = { "cam1", "camera/cam1", "site.a/cam7", "cam.1", "a/b/c/d/e/f", "x-y_z.v" };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_true(pb_path_ok(ok[i], strlen(ok[i])));
    }
    const char *bad[] = { "", "/cam1", "cam1/", "..", ".", "a/../b", "a/./b", "./a", "a//b", ".index",
                          "cam1/.index", "cam 1", "cam1\\x", "cam%1", "cam1?x", "a\nb" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (pb_path_ok(bad[i], strlen(bad[i]))) {
            fail_msg("accepted %s", bad[i]);
        }
    }
    char big[300];
    memset(big, 'a', sizeof(big));
    assert_true(pb_path_ok(big, 255));
    assert_false(pb_path_ok(big, 256));

    char cam[65];
    assert_int_equal(pb_path_camera("camera/cam1", 11, cam, sizeof(cam)), 4);
    assert_string_equal(cam, "cam1");
    assert_int_equal(pb_path_camera("cam1", 4, cam, sizeof(cam)), 4);
    assert_int_equal(pb_path_camera("site.a/cam7", 11, cam, sizeof(cam)), 4);
    assert_string_equal(cam, "cam7");
    assert_int_equal(pb_path_camera("cam.1", 5, cam, sizeof(cam)), 0);
    assert_int_equal(pb_path_camera(big, 65, cam, sizeof(cam)), 0);

    assert_true(pb_segment_path_ok("2026/11/24/00/segment_1.mp4", 27));
    assert_true(pb_segment_path_ok("2026-11-24_00-00-00-000000.mp4", 30));
    assert_false(pb_segment_path_ok("latest.jpg", 10));
    assert_false(pb_segment_path_ok("2026/.mp4", 9));
    assert_false(pb_segment_path_ok("x.mp4.jpg", 9));
    assert_false(pb_segment_path_ok(".mp4", 4));
    assert_false(pb_segment_path_ok("2026", 4));
}

static void
test_go_duration(void **state)
{
    struct { const char *s; int64_t us; } ok[] = {
        { "10s", 10 * S }, { "1m30s", 90 * S }, { "1.5h", 5400 * S }, { "500ms", 500000 },
        { "90us", 90 }, { "90\xc2\xb5s", 90 }, { "90\xce\xbcs", 90 }, { "1500ns", 1 }, { "+8s", 8 * S },
        { ".5s", 500000 }, { "5.s", 5 * S }, { "1h0m0.000001s", 3600 * S + 1 }, { "2m", 120 * S },
    };
    int64_t us;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (pb_go_duration_parse(ok[i].s, strlen(ok[i].s), &us) != 0 || us != ok[i].us) {
            fail_msg("%s", ok[i].s);
        }
    }
    const char *bad[] = { "", "0", "0s", "-8s", "10", "s", "8 s", "8sec", "8x", ".s", "1e3s", "100ns",
                          "8s ", "99999999999h", "87840h1s", "+", "1.5" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (pb_go_duration_parse(bad[i], strlen(bad[i]), &us) != -1) {
            fail_msg("accepted %s", bad[i]);
        }
    }
    /* /get: seconds first (MediaMTX's strconv.ParseFloat), then Go syntax */
    assert_int_equal(pb_get_duration_parse("12.5", 4, &us), 0);
    assert_int_equal(us, 12500000);
    assert_int_equal(pb_get_duration_parse("12s", 3, &us), 0);
    assert_int_equal(us, 12 * S);
    assert_int_equal(pb_get_duration_parse("12q", 3, &us), -1);
}

static void
test_origins(void **state)
{
    const char *star[] = { "*" };
    const char *list[] = { "https://app.example.com", "http://*.example.org", "http://localhost:8080" };
    const char *both[] = { "https://app.example.com", "*" };
#define O(o, l) pb_origin_allowed(o, strlen(o), l, sizeof(l) / sizeof(l[0]))
    assert_int_equal(O("https://evil.com", star), PB_ORIGIN_ANY);
    assert_int_equal(O("", star), PB_ORIGIN_ANY);
    assert_int_equal(O("https://app.example.com", list), PB_ORIGIN_ECHO);
    assert_int_equal(O("https://app.example.com:443", list), PB_ORIGIN_ECHO);
    assert_int_equal(O("http://app.example.com", list), PB_ORIGIN_NONE);
    assert_int_equal(O("https://app.example.com:8443", list), PB_ORIGIN_NONE);
    assert_int_equal(O("http://tv.example.org", list), PB_ORIGIN_ECHO);
    assert_int_equal(O("http://a.b.example.org", list), PB_ORIGIN_ECHO);
    assert_int_equal(O("http://example.org", list), PB_ORIGIN_ECHO);
    assert_int_equal(O("http://example.org.evil.com", list), PB_ORIGIN_NONE);
    assert_int_equal(O("http://evilexample.org", list), PB_ORIGIN_NONE);
    assert_int_equal(O("http://localhost:8080", list), PB_ORIGIN_ECHO);
    assert_int_equal(O("http://localhost", list), PB_ORIGIN_NONE);
    assert_int_equal(O("null", list), PB_ORIGIN_NONE);
    assert_int_equal(O("", list), PB_ORIGIN_NONE);
    assert_int_equal(O("https://app.example.com", both), PB_ORIGIN_ECHO);
    assert_int_equal(O("https://other.com", both), PB_ORIGIN_ANY);
#undef O
}

static void
test_host_and_json(void **state)
{
    const char *ok[] = { "localhost", "vms.example.com", "vms.example.com:8443", "10.0.0.7:80", "[::1]",
                         "[::1]:9996", "a_b-c~d" };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_true(pb_host_ok(ok[i], strlen(ok[i])));
    }
    const char *bad[] = { "", "evil\"},{\"x\":\"y", "a b", "x@evil.com", "evil.com:80:80", "evil.com:",
                          ":80", "[::1", "[]", "[::1]x", "e/v", "e\\v", "<script>", "h:123456", "[::g]" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (pb_host_ok(bad[i], strlen(bad[i]))) {
            fail_msg("accepted %s", bad[i]);
        }
    }
    char out[64];
    pb_json_escape(out, "a\"b\\c\n\x01", 7);
    assert_string_equal(out, "a\\\"b\\\\c\\u000a\\u0001");
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
        cmocka_unit_test(test_args_parse),
        cmocka_unit_test(test_path_names),
        cmocka_unit_test(test_go_duration),
        cmocka_unit_test(test_origins),
        cmocka_unit_test(test_host_and_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
