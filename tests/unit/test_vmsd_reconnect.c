/* The writer threads' reconnection (sidecar/sinks/reconnect.c): waits that
 * double up to the cap, no attempt before the wait is over, reset on
 * success. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reconnect.h"
#include "util.h"

static int  up, attempts;

static int
connect_stub(void)
{
    attempts++;
    return up ? 0 : -1;
}

static void
test_waits_double_to_the_cap(void **state)
{
    vms_reconnect_t  r;
    int64_t          want[] = { 500, 1000, 2000, 4000, 5000, 5000 };
    int              i;

    vms_reconnect_init(&r, connect_stub, 500, 5000);
    for (i = 0; i < 6; i++) {
        assert_int_equal(vms_backoff_delay_ms(&r.conf, i + 1, 0), want[i]);
    }
    vms_reconnect_init(&r, connect_stub, 200, 5000);
    assert_int_equal(r.conf.nschedule, 6);
    assert_int_equal(r.conf.schedule_ms[4], 3200);
    assert_int_equal(r.conf.schedule_ms[5], 5000);
}

static void
test_no_attempt_while_waiting_and_reset_on_success(void **state)
{
    vms_reconnect_t  r;
    vms_queue_t      q;
    int64_t          t0;

    vms_queue_init(&q, 10);
    vms_reconnect_init(&r, connect_stub, 200, 5000);
    up = 0;
    attempts = 0;
    t0 = vms_mono_us();
    assert_int_equal(vms_reconnect(&r, &q), 0);
    assert_int_equal(attempts, 1);
    assert_true(r.retry_at_us >= t0 + 200000);
    assert_int_equal(vms_reconnect(&r, &q), 0);   /* waits on the queue */
    assert_int_equal(attempts, 1);
    up = 1;
    r.retry_at_us = 0;
    assert_int_equal(vms_reconnect(&r, &q), 1);
    assert_int_equal(attempts, 2);
    assert_int_equal(r.failures, 0);
    vms_queue_close(&q);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waits_double_to_the_cap),
        cmocka_unit_test(test_no_attempt_while_waiting_and_reset_on_success),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
