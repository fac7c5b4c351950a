/* DetectionResult delivery: 2^n s retries, then the dead-letter topic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "retry.h"

typedef struct {
    int  fail[VMS_AI_SINKS];       /* fail this many writes, -1 always */
    int  writes[VMS_AI_SINKS];
    int  dlq[VMS_AI_SINKS];
    int  dlq_attempts;
    char dlq_json[64];
} fake_t;

static int
w(void *ud, int sink, const char *cam, const char *json, size_t len)
{
    fake_t *f = ud;
    f->writes[sink]++;
    if (f->fail[sink] < 0) return -1;
    if (f->fail[sink] > 0) { f->fail[sink]--; return -1; }
    return 0;
}

static int
dl(void *ud, int sink, const char *cam, const char *json, size_t len,
    int attempts)
{
    fake_t *f = ud;
    f->dlq[sink]++;
    f->dlq_attempts = attempts;
    snprintf(f->dlq_json, sizeof(f->dlq_json), "%.*s", (int) len, json);
    return 0;
}

#define S 1000000LL

static void
test_success_writes_each_sink_once(void **state)
{
    fake_t f = { 0 };
    vms_ai_retry_ops_t ops = { &f, { "kafka", "postgres" }, w, dl };
    vms_ai_retry_t *r = vms_ai_retry_new(&ops, 3, 1000, 100);
    vms_ai_retry_stats_t st;

    vms_ai_retry_submit(r, "cam1", "{}", 2, 0);
    assert_int_equal(f.writes[0], 1);
    assert_int_equal(f.writes[1], 1);
    assert_true(vms_ai_retry_run(r, 0) == INT64_MAX);
    vms_ai_retry_stats(r, &st);
    assert_int_equal(st.written, 2);
    assert_int_equal(st.pending, 0);
    vms_ai_retry_free(r);
}

static void
test_retries_at_1_2_4_seconds_then_dlq(void **state)
{
    fake_t f = { .fail = { -1, 0 } };
    vms_ai_retry_ops_t ops = { &f, { "kafka", "postgres" }, w, dl };
    vms_ai_retry_t *r = vms_ai_retry_new(&ops, 3, 1000, 100);
    int64_t next;

    vms_ai_retry_submit(r, "cam1", "{\"a\":1}", 7, 100 * S);
    assert_int_equal(f.writes[0], 1);
    next = vms_ai_retry_run(r, 100 * S);
    assert_true(next == 101 * S);
    assert_int_equal(f.writes[0], 1);          /* nothing due yet */
    next = vms_ai_retry_run(r, 101 * S);        /* retry 1 */
    assert_int_equal(f.writes[0], 2);
    assert_true(next == 103 * S);               /* +2 s */
    next = vms_ai_retry_run(r, 103 * S);        /* retry 2 */
    assert_true(next == 107 * S);               /* +4 s */
    assert_int_equal(f.dlq[0], 0);
    next = vms_ai_retry_run(r, 107 * S);        /* retry 3 fails: DLQ */
    assert_int_equal(f.writes[0], 4);
    assert_int_equal(f.dlq[0], 1);
    assert_int_equal(f.dlq_attempts, 4);
    assert_string_equal(f.dlq_json, "{\"a\":1}");
    assert_true(next == INT64_MAX);
    /* PostgreSQL was fine all along and written once */
    assert_int_equal(f.writes[1], 1);
    assert_int_equal(f.dlq[1], 0);
    vms_ai_retry_free(r);
}

static void
test_recovers_on_second_retry(void **state)
{
    fake_t f = { .fail = { 0, 2 } };
    vms_ai_retry_ops_t ops = { &f, { "kafka", "postgres" }, w, dl };
    vms_ai_retry_t *r = vms_ai_retry_new(&ops, 3, 1000, 100);
    vms_ai_retry_stats_t st;

    vms_ai_retry_submit(r, "cam1", "{}", 2, 0);
    vms_ai_retry_run(r, 1 * S);
    vms_ai_retry_run(r, 3 * S);
    assert_int_equal(f.writes[1], 3);
    assert_true(vms_ai_retry_run(r, 100 * S) == INT64_MAX);
    vms_ai_retry_stats(r, &st);
    assert_int_equal(st.written, 2);
    assert_int_equal(st.dead_lettered, 0);
    assert_int_equal(f.dlq[1], 0);
    vms_ai_retry_free(r);
}

static void
test_full_queue_goes_to_dlq_at_once(void **state)
{
    fake_t f = { .fail = { -1, 0 } };
    vms_ai_retry_ops_t ops = { &f, { "kafka", "postgres" }, w, dl };
    vms_ai_retry_t *r = vms_ai_retry_new(&ops, 3, 1000, 2);
    vms_ai_retry_stats_t st;

    for (int i = 0; i < 3; i++) {
        vms_ai_retry_submit(r, "cam1", "{}", 2, 0);
    }
    vms_ai_retry_stats(r, &st);
    assert_int_equal(st.pending, 2);
    assert_int_equal(f.dlq[0], 1);
    vms_ai_retry_free(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success_writes_each_sink_once),
        cmocka_unit_test(test_retries_at_1_2_4_seconds_then_dlq),
        cmocka_unit_test(test_recovers_on_second_retry),
        cmocka_unit_test(test_full_queue_goes_to_dlq_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
