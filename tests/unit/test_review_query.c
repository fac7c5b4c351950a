/* Review API parameters (sidecar/review_api/query.c): fixed instants, no clock, no zone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "query.h"

static void
test_times(void **state)
{
    (void) state;
    int64_t us;
    assert_int_equal(rq_time("2026-01-01T00:00:00Z", &us), 0);
    assert_int_equal(us, 1767225600LL * 1000000);
    assert_int_equal(rq_time("2026-01-01T01:00:00.5+01:00", &us), 0);
    assert_int_equal(us, 1767225600LL * 1000000 + 500000);
    assert_int_equal(rq_time("2024-02-29T12:00:00.123456789Z", &us), 0);
    assert_int_equal(us % 1000000, 123456);
    /* no zone is UTC, as in the playback API (pb_time_parse) */
    assert_int_equal(rq_time("2026-01-01T00:00:00", &us), 0);
    assert_int_equal(us, 1767225600LL * 1000000);
    assert_int_equal(rq_time("1767225600.25", &us), 0);
    assert_int_equal(us, 1767225600LL * 1000000 + 250000);
    const char *bad[] = { "", "yesterday", "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z",
                          "2026-01-01T00:00:00+1:00", "2026-01-01T00:00:00Zx", "1.",
                          "-5", "123456789012", "1969-12-31T23:59:59Z" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (rq_time(bad[i], &us) == 0) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }
    char out[40];
    rq_time_format(1767225600LL * 1000000 + 123999, out, sizeof(out));
    assert_string_equal(out, "2026-01-01T00:00:00.123Z");
}

static void
test_cameras_and_scope(void **state)
{
    (void) state;
    rq_cameras_t c;
    assert_int_equal(rq_cameras("cam1,cam-2,cam_3", &c), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.v[2], "cam_3");
    assert_int_equal(rq_cameras("cam1,", &c), -1);
    assert_int_equal(rq_cameras("../x", &c), -1);
    assert_int_equal(rq_cameras("", &c), -1);
    assert_true(rq_scope_allows("*", "cam9"));
    assert_false(rq_scope_allows("-", "cam1"));
    assert_false(rq_scope_allows(NULL, "cam1"));
    assert_true(rq_scope_allows("cam1,cam2", "cam2"));
    assert_false(rq_scope_allows("cam1,cam2", "cam"));
    assert_false(rq_scope_allows("cam10", "cam1"));
}

static void
test_cursor_round_trip(void **state)
{
    (void) state;
    char c[256], id[RQ_ID_MAX + 1];
    int64_t t;
    rq_cursor_encode(1767225600123456LL, "cam1-t-9:x", c, sizeof(c));
    assert_null(strpbrk(c, "+/="));
    assert_int_equal(rq_cursor_decode(c, &t, id, sizeof(id)), 0);
    assert_int_equal(t, 1767225600123456LL);
    assert_string_equal(id, "cam1-t-9:x");
    assert_int_equal(rq_cursor_decode("!!", &t, id, sizeof(id)), -1);
    assert_int_equal(rq_cursor_decode("MTIz", &t, id, sizeof(id)), -1);       /* "123": no id */
    assert_true(rq_id_ok("a.b_c:d-1"));
    assert_false(rq_id_ok("a b"));
    assert_false(rq_id_ok(""));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_cameras_and_scope),
        cmocka_unit_test(test_cursor_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
