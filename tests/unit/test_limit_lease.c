/* Concurrent-stream lease arithmetic of vms_limit (modules/limit/core/vms_lease.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vms_lease.h"

#define SEC  1000000LL
#define T0   (1700000000LL * SEC)
#define TTL  (30 * SEC)


static void
test_admit_up_to_limit_then_refuse(void **state)
{
    vms_lease_set_t     s = { 0 };
    vms_lease_result_t  r;

    (void) state;
    vms_lease_acquire(&s, 1, T0, TTL, 2, &r);
    assert_int_equal(r.outcome, VMS_LEASE_ADMITTED);
    assert_int_equal(r.active, 1);
    vms_lease_acquire(&s, 2, T0 + SEC, TTL, 2, &r);
    assert_int_equal(r.outcome, VMS_LEASE_ADMITTED);
    assert_int_equal(r.active, 2);

    vms_lease_acquire(&s, 3, T0 + 2 * SEC, TTL, 2, &r);
    assert_int_equal(r.outcome, VMS_LEASE_REFUSED);
    assert_int_equal(r.active, 2);
    assert_int_equal(r.limit, 2);
    /* the earliest lease (session 1) expires at T0 + 30 s */
    assert_int_equal(r.retry_after_us, TTL - 2 * SEC);
    assert_int_equal(s.n, 2);
}


static void
test_same_session_renews_not_counts(void **state)
{
    vms_lease_set_t     s = { 0 };
    vms_lease_result_t  r;
    int                 i;

    (void) state;
    for (i = 0; i < 10; i++) {
        vms_lease_acquire(&s, 42, T0 + i * SEC, TTL, 1, &r);
        assert_int_equal(r.outcome, i ? VMS_LEASE_RENEWED : VMS_LEASE_ADMITTED);
        assert_int_equal(r.active, 1);
    }
    assert_int_equal(s.v[0].expires_us, T0 + 9 * SEC + TTL);
}


/* media requests renew at most once per interval, never admit */
static void
test_touch_renews_at_most_every_interval(void **state)
{
    vms_lease_set_t     s = { 0 };
    vms_lease_result_t  r;

    (void) state;
    assert_int_equal(vms_lease_touch(&s, 7, T0, TTL, 10 * SEC), 0);
    assert_int_equal(s.n, 0);

    vms_lease_acquire(&s, 7, T0, TTL, 2, &r);
    assert_int_equal(vms_lease_touch(&s, 7, T0 + 9 * SEC, TTL, 10 * SEC), 1);
    assert_int_equal(s.v[0].expires_us, T0 + TTL);
    assert_int_equal(vms_lease_touch(&s, 7, T0 + 10 * SEC, TTL, 10 * SEC), 2);
    assert_int_equal(s.v[0].expires_us, T0 + 10 * SEC + TTL);
    assert_int_equal(vms_lease_touch(&s, 7, T0 + 19 * SEC, TTL, 10 * SEC), 1);
    /* expired: gone, and touching does not bring it back */
    assert_int_equal(vms_lease_touch(&s, 7, T0 + 10 * SEC + TTL, TTL, 10 * SEC), 0);
    assert_int_equal(s.n, 0);
}


static void
test_expiry_frees_slot(void **state)
{
    vms_lease_set_t     s = { 0 };
    vms_lease_result_t  r;

    (void) state;
    vms_lease_acquire(&s, 1, T0, TTL, 1, &r);
    vms_lease_acquire(&s, 2, T0 + TTL - 1, TTL, 1, &r);
    assert_int_equal(r.outcome, VMS_LEASE_REFUSED);
    assert_int_equal(r.retry_after_us, 1);
    /* a lease is dead at exactly its expiry (Redis: ZREMRANGEBYSCORE -inf now) */
    vms_lease_acquire(&s, 2, T0 + TTL, TTL, 1, &r);
    assert_int_equal(r.outcome, VMS_LEASE_ADMITTED);
    assert_int_equal(r.active, 1);
}


static void
test_renew_keeps_alive_and_release_frees(void **state)
{
    vms_lease_set_t     s = { 0 };
    vms_lease_result_t  r;

    (void) state;
    vms_lease_acquire(&s, 1, T0, TTL, 1, &r);
    assert_int_equal(vms_lease_renew(&s, 1, T0 + 20 * SEC, TTL), 1);
    vms_lease_acquire(&s, 2, T0 + 40 * SEC, TTL, 1, &r);
    assert_int_equal(r.outcome, VMS_LEASE_REFUSED);      /* renewed to T0+50s */
    assert_int_equal(vms_lease_renew(&s, 2, T0 + 40 * SEC, TTL), 0);  /* renew never admits */
    assert_int_equal(s.n, 1);

    assert_int_equal(vms_lease_release(&s, 1), 1);
    assert_int_equal(vms_lease_release(&s, 1), 0);
    vms_lease_acquire(&s, 2, T0 + 41 * SEC, TTL, 1, &r);
    assert_int_equal(r.outcome, VMS_LEASE_ADMITTED);
}


static void
test_zero_limit_refuses_and_cap(void **state)
{
    vms_lease_set_t     s = { 0 };
    vms_lease_result_t  r;
    uint64_t            i;

    (void) state;
    vms_lease_acquire(&s, 1, T0, TTL, 0, &r);
    assert_int_equal(r.outcome, VMS_LEASE_REFUSED);
    assert_int_equal(r.active, 0);

    for (i = 0; i < 100; i++) {
        vms_lease_acquire(&s, i + 1, T0, TTL, 1000, &r);
    }
    assert_int_equal(s.n, VMS_LEASE_MAX);
}


static void
test_limit_precedence_and_parse(void **state)
{
    (void) state;
    assert_int_equal(vms_lease_limit(2, -1, -1), 2);
    assert_int_equal(vms_lease_limit(2, 5, -1), 5);
    assert_int_equal(vms_lease_limit(2, 5, 1), 1);
    assert_int_equal(vms_lease_limit(2, -1, 0), 0);

    assert_int_equal(vms_lease_parse_limit("12", 2), 12);
    assert_int_equal(vms_lease_parse_limit("0", 1), 0);
    assert_int_equal(vms_lease_parse_limit("", 0), -1);
    assert_int_equal(vms_lease_parse_limit("-1", 2), -1);
    assert_int_equal(vms_lease_parse_limit("1x", 2), -1);
    assert_int_equal(vms_lease_parse_limit("9999999999", 10), -1);
}


static void
test_plan_table(void **state)
{
    vms_plan_t  plans[] = { { "free", 4, 2 }, { "pro", 3, 8 }, { "enterprise", 10, 32 } };

    (void) state;
    assert_int_equal(vms_plan_limit(plans, 3, 0, "pro", 3), 8);
    assert_int_equal(vms_plan_limit(plans, 3, 0, "enterprise", 10), 32);
    assert_int_equal(vms_plan_limit(plans, 3, 0, "free", 4), 2);
    assert_int_equal(vms_plan_limit(plans, 3, 0, "", 0), 2);
    assert_int_equal(vms_plan_limit(plans, 3, 0, "pr", 2), 2);
    assert_int_equal(vms_plan_limit(plans, 3, 1, "gold", 4), 8);
}


static void
test_exceeded_json(void **state)
{
    char    buf[256], small[16];
    size_t  n;

    (void) state;
    n = vms_lease_exceeded_json(buf, sizeof(buf), 2, 2);
    assert_string_equal(buf, "{\"error\":\"limit_exceeded\",\"message\":\"Limite de 2 streams "
                             "atingido\",\"limit\":2,\"active\":2}\n");
    assert_int_equal(n, strlen(buf));
    n = vms_lease_exceeded_json(small, sizeof(small), 2, 2);
    assert_int_equal(n, sizeof(small) - 1);
    assert_int_equal(strlen(small), n);
}

/* an RTSP reader: DESCRIBE (connection id) then SETUP (session id) hold one lease */
static void
test_handover_one_opener_one_lease(void **state)
{
    vms_lease_set_t     s = { 0 };
    vms_lease_result_t  r;
    uint64_t            from;
    const int64_t       W = 10 * SEC;

    (void) state;
    /* reader A: DESCRIBE 11, SETUP 12 (same opener 7) */
    vms_lease_acquire_handover(&s, 11, 7, W, T0, TTL, 2, &r, &from);
    assert_int_equal(r.outcome, VMS_LEASE_ADMITTED);
    assert_int_equal(from, 0);
    vms_lease_acquire_handover(&s, 12, 7, W, T0 + SEC, TTL, 2, &r, &from);
    assert_int_equal(r.outcome, VMS_LEASE_RENEWED);
    assert_int_equal(from, 11);
    assert_int_equal(r.active, 1);
    assert_int_equal(s.v[0].session, 12);
    assert_int_equal(s.v[0].expires_us, T0 + SEC + TTL);
    /* a second SETUP of the same session renews; a lease is handed over once */
    vms_lease_acquire_handover(&s, 12, 7, W, T0 + 2 * SEC, TTL, 2, &r, &from);
    assert_int_equal(r.outcome, VMS_LEASE_RENEWED);
    assert_int_equal(from, 0);

    /* reader B of the same opener: its own lease, handed over to its SETUP */
    vms_lease_acquire_handover(&s, 21, 7, W, T0 + 3 * SEC, TTL, 2, &r, &from);
    assert_int_equal(r.outcome, VMS_LEASE_ADMITTED);
    assert_int_equal(r.active, 2);
    vms_lease_acquire_handover(&s, 22, 7, W, T0 + 4 * SEC, TTL, 2, &r, &from);
    assert_int_equal(r.outcome, VMS_LEASE_RENEWED);
    assert_int_equal(from, 21);
    assert_int_equal(r.active, 2);

    /* reader C: refused at the limit, as ever */
    vms_lease_acquire_handover(&s, 31, 7, W, T0 + 5 * SEC, TTL, 2, &r, &from);
    assert_int_equal(r.outcome, VMS_LEASE_REFUSED);
    assert_int_equal(s.n, 2);
}


/* another opener never takes a lease over, nor does anyone after the window */
static void
test_handover_only_same_opener_within_window(void **state)
{
    vms_lease_set_t     s = { 0 };
    vms_lease_result_t  r;
    uint64_t            from;
    const int64_t       W = 10 * SEC;

    (void) state;
    vms_lease_acquire_handover(&s, 11, 7, W, T0, TTL, 3, &r, &from);
    vms_lease_acquire_handover(&s, 12, 8, W, T0 + SEC, TTL, 3, &r, &from);
    assert_int_equal(r.outcome, VMS_LEASE_ADMITTED);
    assert_int_equal(from, 0);
    vms_lease_acquire_handover(&s, 13, 7, W, T0 + W, TTL, 3, &r, &from);
    assert_int_equal(r.outcome, VMS_LEASE_ADMITTED);
    assert_int_equal(r.active, 3);
    /* without an opener, plain acquisition */
    vms_lease_acquire_handover(&s, 14, 0, W, T0 + W, TTL, 3, &r, &from);
    assert_int_equal(r.outcome, VMS_LEASE_REFUSED);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admit_up_to_limit_then_refuse),
        cmocka_unit_test(test_same_session_renews_not_counts),
        cmocka_unit_test(test_expiry_frees_slot),
        cmocka_unit_test(test_renew_keeps_alive_and_release_frees),
        cmocka_unit_test(test_zero_limit_refuses_and_cap),
        cmocka_unit_test(test_limit_precedence_and_parse),
        cmocka_unit_test(test_plan_table),
        cmocka_unit_test(test_exceeded_json),
        cmocka_unit_test(test_touch_renews_at_most_every_interval),
        cmocka_unit_test(test_handover_one_opener_one_lease),
        cmocka_unit_test(test_handover_only_same_opener_within_window),
    };

    return cmocka_run_group_tests_name("limit_lease", tests, NULL, NULL);
}
