/* Retention's decision (sidecar/record/retention_select.c): age per camera, disk
 * pressure oldest first across cameras, never the open segment. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "retention.h"

#define DAY   (INT64_C(86400) * 1000000)
#define MIN   (INT64_C(60) * 1000000)
#define NOW   (INT64_C(1795482123) * 1000000)
#define MB    (UINT64_C(1) << 20)

static vms_ret_item_t
seg(int64_t start, int64_t max_age, uint64_t bytes, int open)
{
    vms_ret_item_t it = {
        .start_us = start, .end_us = start + MIN, .bytes = bytes,
        .max_age_us = max_age, .open = open, .reason = -1,
    };
    return it;
}

static vms_ret_disk_t
roomy(void)
{
    vms_ret_disk_t d = {
        .now_us = NOW, .used_bytes = 10 * MB, .avail_bytes = 990 * MB,
        .max_used_pct = 90, .min_free_bytes = 0,
    };
    return d;
}

static void
test_need(void **state)
{
    vms_ret_disk_t d = roomy();

    assert_int_equal(vms_retention_need(&d), 0);

    d.used_bytes = 950 * MB;            /* 95 % of 1000 MB: 50 MB over */
    d.avail_bytes = 50 * MB;
    assert_int_equal(vms_retention_need(&d), 50 * MB);

    d.min_free_bytes = 80 * MB;         /* the floor asks more: 30 MB */
    d.max_used_pct = 100;
    assert_int_equal(vms_retention_need(&d), 30 * MB);

    d.max_used_pct = 90;                /* the larger of the two */
    assert_int_equal(vms_retention_need(&d), 50 * MB);

    d.used_bytes = 900 * MB;            /* exactly at the limit: nothing */
    d.avail_bytes = 100 * MB;
    d.min_free_bytes = 100 * MB;
    assert_int_equal(vms_retention_need(&d), 0);

    /* huge filesystems do not overflow */
    d.used_bytes = UINT64_C(1) << 62;
    d.avail_bytes = 0;
    d.min_free_bytes = 0;
    assert_int_equal(vms_retention_need(&d), (UINT64_C(1) << 62) / 10
                     + ((UINT64_C(1) << 62) % 10 != 0));
}

static void
test_age_per_camera(void **state)
{
    vms_ret_disk_t d = roomy();
    vms_ret_item_t it[] = {
        seg(NOW - 40 * DAY, 30 * DAY, MB, 0),    /* cam A, 30 days: old */
        seg(NOW - 20 * DAY, 7 * DAY, MB, 0),     /* cam B, 7 days: old */
        seg(NOW - 20 * DAY, 30 * DAY, MB, 0),    /* cam A: kept */
        seg(NOW - 20 * DAY, 0, MB, 0),           /* no age limit: kept */
        seg(NOW - 7 * DAY - MIN, 7 * DAY, MB, 0),/* ends exactly at the limit */
        seg(NOW - 7 * DAY - 2 * MIN, 7 * DAY, MB, 0), /* ends before it */
        seg(NOW - 40 * DAY, 1 * DAY, MB, 1),     /* open: never */
    };

    assert_int_equal(vms_retention_select(it, 7, &d), 3 * MB);
    assert_int_equal(it[0].reason, VMS_RET_AGE);
    assert_int_equal(it[1].reason, VMS_RET_AGE);
    assert_int_equal(it[2].reason, VMS_RET_KEEP);
    assert_int_equal(it[3].reason, VMS_RET_KEEP);
    assert_int_equal(it[4].reason, VMS_RET_KEEP);
    assert_int_equal(it[5].reason, VMS_RET_AGE);
    assert_int_equal(it[6].reason, VMS_RET_KEEP);
}

static void
test_pressure_oldest_first_across_cameras(void **state)
{
    vms_ret_disk_t d = roomy();
    vms_ret_item_t it[] = {     /* sorted by start, cameras interleaved */
        seg(NOW - 50 * MIN, 0, 10 * MB, 0),
        seg(NOW - 40 * MIN, 30 * DAY, 10 * MB, 0),
        seg(NOW - 30 * MIN, 0, 10 * MB, 0),
        seg(NOW - 20 * MIN, 30 * DAY, 10 * MB, 0),
    };

    d.avail_bytes = 5 * MB;
    d.min_free_bytes = 25 * MB;         /* 20 MB short: the two oldest */
    d.max_used_pct = 100;
    assert_int_equal(vms_retention_select(it, 4, &d), 20 * MB);
    assert_int_equal(it[0].reason, VMS_RET_PRESSURE);
    assert_int_equal(it[1].reason, VMS_RET_PRESSURE);
    assert_int_equal(it[2].reason, VMS_RET_KEEP);
    assert_int_equal(it[3].reason, VMS_RET_KEEP);

    d.min_free_bytes = 26 * MB;         /* 21 MB: a third one */
    vms_retention_select(it, 4, &d);
    assert_int_equal(it[2].reason, VMS_RET_PRESSURE);
    assert_int_equal(it[3].reason, VMS_RET_KEEP);
}

static void
test_age_counts_toward_pressure(void **state)
{
    vms_ret_disk_t d = roomy();
    vms_ret_item_t it[] = {
        seg(NOW - 3 * DAY, 0, 10 * MB, 0),
        seg(NOW - 2 * DAY, 1 * DAY, 10 * MB, 0),  /* too old anyway */
        seg(NOW - 1 * MIN, 0, 10 * MB, 0),
    };

    d.avail_bytes = 0;
    d.min_free_bytes = 10 * MB;         /* the aged one is enough */
    d.max_used_pct = 100;
    assert_int_equal(vms_retention_select(it, 3, &d), 10 * MB);
    assert_int_equal(it[0].reason, VMS_RET_KEEP);
    assert_int_equal(it[1].reason, VMS_RET_AGE);
    assert_int_equal(it[2].reason, VMS_RET_KEEP);
}

static void
test_pressure_never_open(void **state)
{
    vms_ret_disk_t d = roomy();
    vms_ret_item_t it[] = {
        seg(NOW - 3 * MIN, 0, 10 * MB, 0),
        seg(NOW - 1 * MIN, 0, 10 * MB, 1),
    };

    d.avail_bytes = 0;
    d.min_free_bytes = 1000 * MB;       /* cannot be met: all but open */
    assert_int_equal(vms_retention_select(it, 2, &d), 10 * MB);
    assert_int_equal(it[0].reason, VMS_RET_PRESSURE);
    assert_int_equal(it[1].reason, VMS_RET_KEEP);

    assert_int_equal(vms_retention_select(NULL, 0, &d), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_need),
        cmocka_unit_test(test_age_per_camera),
        cmocka_unit_test(test_pressure_oldest_first_across_cameras),
        cmocka_unit_test(test_age_counts_toward_pressure),
        cmocka_unit_test(test_pressure_never_open),
    };

    return cmocka_run_group_tests_name("retention_select", tests, NULL, NULL);
}
