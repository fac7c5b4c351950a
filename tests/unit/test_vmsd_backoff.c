/* vmsd reconnection policy: schedule, jitter, offline after max attempts,
 * healthy-period reset (sidecar/base/backoff.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backoff.h"

static vms_backoff_conf_t
production(void)
{
    vms_backoff_conf_t c = { { 5000, 10000, 30000, 60000 }, 4, 0, 10, 60000 };
    return c;
}

static void
test_schedule_caps_at_last_step(void **state)
{
    vms_backoff_conf_t  c = production();
    int64_t             want[] = { 5000, 10000, 30000, 60000, 60000, 60000 };
    int                 i;

    for (i = 0; i < 6; i++) {
        assert_int_equal(vms_backoff_delay_ms(&c, i + 1, 12345), want[i]);
    }
}

static void
test_jitter_stays_within_bounds_and_spreads(void **state)
{
    vms_backoff_conf_t  c = production();
    int64_t             lo = INT64_MAX, hi = 0, d;
    uint32_t            r;

    c.jitter_pct = 10;
    for (r = 0; r < 100000; r += 7) {
        d = vms_backoff_delay_ms(&c, 2, r * 2654435761u);
        assert_true(d >= 9000 && d <= 11000);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    /* the whole band is used, not one value */
    assert_true(lo < 9100 && hi > 10900);
}

static void
test_offline_after_max_attempts_then_probe(void **state)
{
    vms_backoff_conf_t  c = production();
    vms_backoff_t       b;
    int64_t             delay = -1, now = 1000000;
    int                 i;

    vms_backoff_init(&b);
    vms_backoff_connected(&b, now);
    /* the connection is lost: 10 attempts with the schedule's delays */
    for (i = 1; i <= 10; i++) {
        assert_int_equal(vms_backoff_failed(&b, &c, now += 100, 0, &delay),
                         VMS_BACKOFF_RETRY);
        assert_int_equal(delay, vms_backoff_delay_ms(&c, i, 0));
    }
    assert_int_equal(delay, 60000);
    /* the 10th attempt failed: offline, once */
    assert_int_equal(vms_backoff_failed(&b, &c, now += 100, 0, &delay),
                     VMS_BACKOFF_OFFLINE);
    assert_true(b.offline);
    assert_int_equal(vms_backoff_failed(&b, &c, now += 100, 0, &delay),
                     VMS_BACKOFF_PROBE);
    assert_int_equal(vms_backoff_failed(&b, &c, now += 100, 0, &delay),
                     VMS_BACKOFF_PROBE);
}

static void
test_healthy_period_resets_the_count(void **state)
{
    vms_backoff_conf_t  c = production();
    vms_backoff_t       b;
    int64_t             delay, now = 1000;

    vms_backoff_init(&b);
    assert_int_equal(vms_backoff_failed(&b, &c, now, 0, &delay), VMS_BACKOFF_RETRY);
    assert_int_equal(vms_backoff_failed(&b, &c, now, 0, &delay), VMS_BACKOFF_RETRY);
    assert_int_equal(b.failures, 2);
    vms_backoff_connected(&b, now);
    assert_int_equal(vms_backoff_tick(&b, &c, now + 59999), 0);
    assert_int_equal(b.failures, 2);
    assert_int_equal(vms_backoff_tick(&b, &c, now + 60000), 1);
    assert_int_equal(b.failures, 0);
    /* a later loss starts the schedule from the beginning */
    assert_int_equal(vms_backoff_failed(&b, &c, now + 70000, 0, &delay),
                     VMS_BACKOFF_RETRY);
    assert_int_equal(delay, 5000);
}

static void
test_flapping_camera_keeps_counting(void **state)
{
    vms_backoff_conf_t  c = production();
    vms_backoff_t       b;
    int64_t             delay = 0, now = 1000;
    int                 i, action = VMS_BACKOFF_RETRY;

    vms_backoff_init(&b);
    /* connects and drops after 1 s, again and again: never healthy */
    for (i = 0; i < 11 && action == VMS_BACKOFF_RETRY; i++) {
        vms_backoff_connected(&b, now);
        now += 1000;
        action = vms_backoff_failed(&b, &c, now, 0, &delay);
    }
    assert_int_equal(action, VMS_BACKOFF_OFFLINE);
    assert_int_equal(i, 11);
    /* a connection after offline clears it; dropping before healthy goes
     * straight back offline instead of a new round of attempts */
    vms_backoff_connected(&b, now);
    assert_false(b.offline);
    assert_int_equal(vms_backoff_failed(&b, &c, now + 10, 0, &delay),
                     VMS_BACKOFF_OFFLINE);
}

static void
test_parse_schedule(void **state)
{
    vms_backoff_conf_t c = production();

    assert_int_equal(vms_backoff_parse_schedule(&c, "200ms, 400ms,1s"), 0);
    assert_int_equal(c.nschedule, 3);
    assert_int_equal(c.schedule_ms[0], 200);
    assert_int_equal(c.schedule_ms[2], 1000);
    assert_int_equal(vms_backoff_parse_schedule(&c, ""), -1);
    assert_int_equal(vms_backoff_parse_schedule(&c, "5"), -1);
    assert_int_equal(vms_backoff_parse_schedule(&c, "5s,x"), -1);
    assert_int_equal(vms_backoff_parse_schedule(&c, "0s"), -1);
    assert_int_equal(vms_backoff_parse_schedule(&c,
        "1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s"), -1);
    /* a failed parse leaves the previous schedule */
    assert_int_equal(c.nschedule, 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule_caps_at_last_step),
        cmocka_unit_test(test_jitter_stays_within_bounds_and_spreads),
        cmocka_unit_test(test_offline_after_max_attempts_then_probe),
        cmocka_unit_test(test_healthy_period_resets_the_count),
        cmocka_unit_test(test_flapping_camera_keeps_counting),
        cmocka_unit_test(test_parse_schedule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
