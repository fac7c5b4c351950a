/* GCRA arithmetic of vms_limit (modules/limit/core/vms_gcra.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vms_gcra.h"

#define SEC  1000000LL
#define T0   (1700000000LL * SEC)


/* Runs n requests at `now` against *tat; returns how many were allowed. */
static int
burst_at(const vms_gcra_t *g, int64_t *tat, int64_t now, int n, vms_gcra_result_t *last)
{
    int  i, ok = 0;

    for (i = 0; i < n; i++) {
        vms_gcra_check(g, *tat, now, last);
        if (last->allowed) {
            *tat = last->tat_us;
            ok++;
        }
    }
    return ok;
}


static void
test_hundred_per_minute_then_refuse(void **state)
{
    vms_gcra_t         g;
    vms_gcra_result_t  r;
    int64_t            tat = 0;

    (void) state;
    assert_int_equal(vms_gcra_init(&g, 100, 60 * SEC, 100), 0);
    assert_int_equal(g.interval_us, 600000);

    vms_gcra_check(&g, tat, T0, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 99);
    tat = r.tat_us;

    assert_int_equal(burst_at(&g, &tat, T0, 99, &r), 99);
    assert_int_equal(r.remaining, 0);

    /* the 101st request in the same window */
    vms_gcra_check(&g, tat, T0, &r);
    assert_false(r.allowed);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.retry_after_us, 600000);
    assert_int_equal(r.tat_us, tat);            /* refusal does not consume */
    assert_int_equal(r.reset_us, 60 * SEC);
    assert_int_equal(vms_gcra_seconds(r.retry_after_us, 1), 1);
    assert_int_equal(vms_gcra_seconds(r.reset_us, 0), 60);
}


static void
test_refill_one_per_interval(void **state)
{
    vms_gcra_t         g;
    vms_gcra_result_t  r;
    int64_t            tat = 0;

    (void) state;
    vms_gcra_init(&g, 10, 10 * SEC, 10);
    assert_int_equal(burst_at(&g, &tat, T0, 15, &r), 10);

    /* just before one interval: still refused, then exactly one more */
    vms_gcra_check(&g, tat, T0 + SEC - 1, &r);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after_us, 1);
    assert_int_equal(burst_at(&g, &tat, T0 + SEC, 3, &r), 1);

    /* after a whole idle period the full burst is back */
    assert_int_equal(burst_at(&g, &tat, T0 + 12 * SEC, 20, &r), 10);
}


static void
test_steady_rate_never_refused(void **state)
{
    vms_gcra_t         g;
    vms_gcra_result_t  r;
    int64_t            tat = 0, now;
    int                i;

    (void) state;
    vms_gcra_init(&g, 5, SEC, 1);      /* no burst: one every 200 ms */
    for (i = 0, now = T0; i < 1000; i++, now += 200000) {
        vms_gcra_check(&g, tat, now, &r);
        assert_true(r.allowed);
        tat = r.tat_us;
    }
    vms_gcra_check(&g, tat, now - 100000, &r);    /* 100 ms early */
    assert_false(r.allowed);
}


static void
test_stale_tat_is_ignored(void **state)
{
    vms_gcra_t         g;
    vms_gcra_result_t  r;

    (void) state;
    vms_gcra_init(&g, 3, SEC, 3);
    vms_gcra_check(&g, T0 - 3600 * SEC, T0, &r);
    assert_true(r.allowed);
    assert_int_equal(r.remaining, 2);
    assert_int_equal(r.tat_us, T0 + SEC / 3);
}


static void
test_init_rejects_nonsense(void **state)
{
    vms_gcra_t  g;

    (void) state;
    assert_int_equal(vms_gcra_init(&g, 0, SEC, 1), -1);
    assert_int_equal(vms_gcra_init(&g, 1, 0, 1), -1);
    assert_int_equal(vms_gcra_init(&g, 1, SEC, 0), -1);
    assert_int_equal(vms_gcra_init(&g, 3, 2, 1), 0);      /* interval floors at 1 us */
    assert_int_equal(g.interval_us, 1);
}


static void
test_rate_parse(void **state)
{
    int64_t  n = -7, p = -7;

    (void) state;
#define OK(s, en, ep) do { assert_int_equal(vms_rate_parse(s, strlen(s), &n, &p), 0); \
    assert_int_equal(n, en); assert_int_equal(p, ep); } while (0)
#define BAD(s) assert_int_equal(vms_rate_parse(s, strlen(s), &n, &p), -1)
    OK("100/m", 100, 60 * SEC);
    OK("100/1m", 100, 60 * SEC);
    OK("10/s", 10, SEC);
    OK("5/30s", 5, 30 * SEC);
    OK("1000/h", 1000, 3600 * SEC);
    OK("2/500ms", 2, 500000);
    OK("7/d", 7, 86400 * SEC);
    BAD("");
    BAD("100");
    BAD("/m");
    BAD("0/m");
    BAD("100/");
    BAD("100/0s");
    BAD("100/x");
    BAD("100/1mm");
    BAD("-1/m");
    BAD("1 /m");
    BAD("99999999999/s");
    BAD("1/999999999d");
    assert_int_equal(n, 7);     /* untouched by failures */
#undef OK
#undef BAD
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hundred_per_minute_then_refuse),
        cmocka_unit_test(test_refill_one_per_interval),
        cmocka_unit_test(test_steady_rate_never_refused),
        cmocka_unit_test(test_stale_tat_is_ignored),
        cmocka_unit_test(test_init_rejects_nonsense),
        cmocka_unit_test(test_rate_parse),
    };

    return cmocka_run_group_tests_name("limit_gcra", tests, NULL, NULL);
}
