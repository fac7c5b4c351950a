/* Segment index: writer/reader round trips, ordering, removal, the open
 * segment, midnight, torn tails and corruption naming the file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vms_index.h"

#define S 1000000LL
/* 2026-11-24T00:00:00Z */
#define DAY0 (1795478400LL * S)

static char dir[256];

static int
setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/vms_index_test.XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int
teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static vms_index_fragment_t frags[3];

static vms_index_segment_t
mkseg(int64_t start, int64_t dur, const char *path)
{
    for (int i = 0; i < 3; i++) {
        frags[i] = (vms_index_fragment_t) { .offset = 1000 + (uint64_t) i * 5000, .size = 5000,
            .flags = VMS_FRAG_KEY, .start_us = dur / 3 * i, .duration_us = dur / 3 };
    }
    vms_index_segment_t s = { .start_us = start, .duration_us = dur, .bytes = 16000,
        .init_size = 1000, .nfrags = 3, .frags = frags };
    snprintf(s.path, sizeof(s.path), "%s", path);
    return s;
}

static void
append(int64_t start, int64_t dur, const char *path)
{
    vms_index_segment_t s = mkseg(start, dur, path);
    char err[512] = "";
    int rc = vms_index_append_e(dir, &s, err, sizeof(err));
    if (rc != 0) {
        fail_msg("append %s: %d %s", path, rc, err);
    }
}

static void
test_append_query_roundtrip(void **state)
{
    append(DAY0 + 60 * S, 60 * S, "2026/11/24/00/a.mp4");
    append(DAY0 + 120 * S, 60 * S, "2026/11/24/00/b.mp4");
    append(DAY0 + 300 * S, 60 * S, "2026/11/24/00/c.mp4");
    vms_index_reader_t *r = vms_index_reader_new(8);
    vms_index_result_t res;
    char err[512] = "";
    assert_int_equal(vms_index_query(r, dir, DAY0, DAY0 + 3600 * S, &res, err, sizeof(err)), 0);
    assert_int_equal(res.n, 3);
    assert_string_equal(res.v[0].path, "2026/11/24/00/a.mp4");
    assert_int_equal(res.v[1].start_us, DAY0 + 120 * S);
    assert_int_equal(res.v[2].bytes, 16000);
    assert_int_equal(res.v[2].init_size, 1000);
    assert_null(res.v[2].frags);
    assert_int_equal(vms_index_frags(r, &res.v[2], err, sizeof(err)), 0);
    assert_int_equal(res.v[2].nfrags, 3);
    assert_int_equal(res.v[2].frags[1].offset, 6000);
    assert_int_equal(res.v[2].frags[2].start_us, 40 * S);

    /* range inside one segment */
    assert_int_equal(vms_index_query(r, dir, DAY0 + 130 * S, DAY0 + 140 * S, &res, err, sizeof(err)), 0);
    assert_int_equal(res.n, 1);
    assert_string_equal(res.v[0].path, "2026/11/24/00/b.mp4");
    /* range in the gap: nothing; end is exclusive, start inclusive */
    assert_int_equal(vms_index_query(r, dir, DAY0 + 180 * S, DAY0 + 300 * S, &res, err, sizeof(err)), 0);
    assert_int_equal(res.n, 0);
    /* the reader sees later appends (cache keyed by file identity) */
    append(DAY0 + 360 * S, 60 * S, "2026/11/24/00/d.mp4");
    assert_int_equal(vms_index_query(r, dir, DAY0 + 300 * S, DAY0 + 3600 * S, &res, err, sizeof(err)), 0);
    assert_int_equal(res.n, 2);
    assert_string_equal(res.v[1].path, "2026/11/24/00/d.mp4");
    vms_index_reader_free(r);
}

static void
test_out_of_order_and_idempotent(void **state)
{
    append(DAY0 + 300 * S, 60 * S, "c.mp4");
    append(DAY0 + 60 * S, 60 * S, "a.mp4");
    append(DAY0 + 120 * S, 60 * S, "b.mp4");
    append(DAY0 + 120 * S, 60 * S, "b.mp4");     /* same again: no-op */
    vms_index_segment_t s = mkseg(DAY0 + 120 * S, 60 * S, "other.mp4");
    assert_int_equal(vms_index_append(dir, &s), -EEXIST);

    vms_index_reader_t *r = vms_index_reader_new(8);
    vms_index_result_t res;
    char err[512];
    assert_int_equal(vms_index_query(r, dir, DAY0, DAY0 + 3600 * S, &res, err, sizeof(err)), 0);
    assert_int_equal(res.n, 3);
    assert_string_equal(res.v[0].path, "a.mp4");
    assert_string_equal(res.v[1].path, "b.mp4");
    assert_string_equal(res.v[2].path, "c.mp4");
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(vms_index_frags(r, &res.v[i], err, sizeof(err)), 0);
        assert_int_equal(res.v[i].frags[0].offset, 1000);
    }
    vms_index_reader_free(r);
}

static void
test_invalid_segments_refused(void **state)
{
    const char *bad[] = { "../x.mp4", "/abs.mp4", "a/../../x.mp4", "", "a/..", "x\n.mp4" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vms_index_segment_t s = mkseg(DAY0 + S, S, bad[i]);
        assert_int_equal(vms_index_append(dir, &s), -EINVAL);
    }
    vms_index_segment_t s = mkseg(DAY0 + S, S, "ok..name.mp4");   /* dots inside a name are fine */
    assert_int_equal(vms_index_append(dir, &s), 0);
    s = mkseg(DAY0 + 2 * S, -1, "neg.mp4");
    assert_int_equal(vms_index_append(dir, &s), -EINVAL);
}

static int
exists(const char *name)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/.index/%s", dir, name);
    return access(p, F_OK) == 0;
}

static void
test_remove(void **state)
{
    append(DAY0 + 60 * S, 60 * S, "a.mp4");
    append(DAY0 + 120 * S, 60 * S, "b.mp4");
    append(DAY0 + 86400 * S + 60 * S, 60 * S, "next-day.mp4");
    vms_index_reader_t *r = vms_index_reader_new(8);
    vms_index_result_t res;
    char err[512];
    assert_int_equal(vms_index_query(r, dir, DAY0, DAY0 + 2 * 86400 * S, &res, err, sizeof(err)), 0);
    assert_int_equal(res.n, 3);

    assert_int_equal(vms_index_remove(dir, DAY0 + 60 * S), 0);
    assert_int_equal(vms_index_remove(dir, DAY0 + 60 * S), -ENOENT);
    assert_int_equal(vms_index_query(r, dir, DAY0, DAY0 + 2 * 86400 * S, &res, err, sizeof(err)), 0);
    assert_int_equal(res.n, 2);
    assert_string_equal(res.v[0].path, "b.mp4");
    /* the remaining record's fragments still resolve after the rewrite */
    assert_int_equal(vms_index_frags(r, &res.v[0], err, sizeof(err)), 0);
    assert_int_equal(res.v[0].frags[2].offset, 11000);

    /* the day's last segment takes both day files with it */
    assert_true(exists("2026-11-24.seg"));
    assert_int_equal(vms_index_remove(dir, DAY0 + 120 * S), 0);
    assert_false(exists("2026-11-24.seg"));
    assert_false(exists("2026-11-24.frag"));
    assert_true(exists("2026-11-25.seg"));
    assert_int_equal(vms_index_query(r, dir, DAY0, DAY0 + 2 * 86400 * S, &res, err, sizeof(err)), 0);
    assert_int_equal(res.n, 1);
    assert_string_equal(res.v[0].path, "next-day.mp4");
    vms_index_reader_free(r);
}

static void
test_crossing_midnight(void **state)
{
    /* starts 23:59:30 on day 0, runs 60 s into day 1; its record lives in day 0's file */
    append(DAY0 + 86400 * S - 30 * S, 60 * S, "2026/11/24/23/late.mp4");
    append(DAY0 + 86400 * S + 30 * S, 60 * S, "2026/11/25/00/early.mp4");
    vms_index_reader_t *r = vms_index_reader_new(8);
    vms_index_result_t res;
    char err[512];
    assert_int_equal(vms_index_query(r, dir, DAY0 + 86400 * S + 10 * S, DAY0 + 86400 * S + 40 * S,
                                     &res, err, sizeof(err)), 0);
    assert_int_equal(res.n, 2);
    assert_string_equal(res.v[0].path, "2026/11/24/23/late.mp4");
    assert_string_equal(res.v[1].path, "2026/11/25/00/early.mp4");
    vms_index_reader_free(r);
}

static void
test_long_range_lists_days(void **state)
{
    /* 90 days apart: the reader lists the index directory instead of probing each day */
    append(DAY0 + 60 * S, 60 * S, "first.mp4");
    append(DAY0 + 90 * 86400 * S, 60 * S, "last.mp4");
    vms_index_reader_t *r = vms_index_reader_new(2);
    vms_index_result_t res;
    char err[512];
    assert_int_equal(vms_index_query(r, dir, 0, INT64_MAX, &res, err, sizeof(err)), 0);
    assert_int_equal(res.n, 2);
    assert_string_equal(res.v[0].path, "first.mp4");
    assert_string_equal(res.v[1].path, "last.mp4");
    vms_index_reader_free(r);
}

static void
test_open_segment(void **state)
{
    append(DAY0 + 60 * S, 60 * S, "a.mp4");
    vms_index_segment_t s = mkseg(DAY0 + 120 * S, 20 * S, "b.mp4");
    assert_int_equal(vms_index_write_open(dir, &s), 0);
    vms_index_reader_t *r = vms_index_reader_new(8);
    vms_index_result_t res;
    char err[512];
    assert_int_equal(vms_index_query(r, dir, DAY0, DAY0 + 3600 * S, &res, err, sizeof(err)), 0);
    assert_int_equal(res.n, 2);
    assert_true(res.v[1].flags & VMS_SEG_OPEN);
    assert_false(res.v[0].flags & VMS_SEG_OPEN);
    assert_int_equal(vms_index_frags(r, &res.v[1], err, sizeof(err)), 0);
    assert_int_equal(res.v[1].frags[1].offset, 6000);

    /* closed and indexed, open record not yet cleared: listed once, closed */
    s.duration_us = 60 * S;
    assert_int_equal(vms_index_append(dir, &s), 0);
    assert_int_equal(vms_index_query(r, dir, DAY0, DAY0 + 3600 * S, &res, err, sizeof(err)), 0);
    assert_int_equal(res.n, 2);
    assert_false(res.v[1].flags & VMS_SEG_OPEN);
    assert_int_equal(res.v[1].duration_us, 60 * S);
    assert_int_equal(vms_index_write_open(dir, NULL), 0);
    assert_int_equal(vms_index_write_open(dir, NULL), 0);
    assert_false(exists("open"));
    vms_index_reader_free(r);
}

static void
test_missing_index(void **state)
{
    vms_index_reader_t *r = vms_index_reader_new(8);
    vms_index_result_t res;
    char err[512] = "";
    assert_int_equal(vms_index_query(r, dir, DAY0, DAY0 + S, &res, err, sizeof(err)), VMS_INDEX_ENOINDEX);
    assert_non_null(strstr(err, dir));
    vms_index_reader_free(r);
}

static void
patch_byte(const char *name, off_t off, int from_end)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/.index/%s", dir, name);
    int fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    if (from_end) {
        off = lseek(fd, 0, SEEK_END) - off;
    }
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= 0x5a;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

static void
test_corrupt_record_names_file(void **state)
{
    append(DAY0 + 60 * S, 60 * S, "a.mp4");
    append(DAY0 + 120 * S, 60 * S, "b.mp4");
    patch_byte("2026-11-24.seg", 64 + 256 + 8, 0);     /* second record's duration */
    vms_index_reader_t *r = vms_index_reader_new(8);
    vms_index_result_t res;
    char err[512] = "";
    assert_int_equal(vms_index_query(r, dir, DAY0, DAY0 + 3600 * S, &res, err, sizeof(err)),
                     VMS_INDEX_ECORRUPT);
    assert_non_null(strstr(err, "2026-11-24.seg"));
    assert_non_null(strstr(err, "record 1"));
    /* the writer refuses to append onto a corrupt day as well */
    vms_index_segment_t s = mkseg(DAY0 + 300 * S, 60 * S, "c.mp4");
    err[0] = 0;
    assert_int_equal(vms_index_append_e(dir, &s, err, sizeof(err)), -EBADMSG);
    assert_non_null(strstr(err, "2026-11-24.seg"));
    vms_index_reader_free(r);
}

static void
test_corrupt_header_and_frag(void **state)
{
    append(DAY0 + 60 * S, 60 * S, "a.mp4");
    patch_byte("2026-11-24.frag", 8, 1);               /* inside the last fragment record */
    vms_index_reader_t *r = vms_index_reader_new(8);
    vms_index_result_t res;
    char err[512] = "";
    assert_int_equal(vms_index_query(r, dir, DAY0, DAY0 + 3600 * S, &res, err, sizeof(err)), 0);
    assert_int_equal(res.n, 1);
    assert_int_equal(vms_index_frags(r, &res.v[0], err, sizeof(err)), VMS_INDEX_ECORRUPT);
    assert_non_null(strstr(err, "2026-11-24.frag"));
    assert_non_null(strstr(err, "checksum"));

    patch_byte("2026-11-24.seg", 0, 0);                /* magic */
    assert_int_equal(vms_index_query(r, dir, DAY0, DAY0 + 3600 * S, &res, err, sizeof(err)),
                     VMS_INDEX_ECORRUPT);
    assert_non_null(strstr(err, "magic"));
    vms_index_reader_free(r);
}

static void
test_torn_tail_ignored_then_repaired(void **state)
{
    append(DAY0 + 60 * S, 60 * S, "a.mp4");
    char p[512];
    snprintf(p, sizeof(p), "%s/.index/2026-11-24.seg", dir);
    FILE *f = fopen(p, "ab");
    assert_non_null(f);
    fwrite("partial-record", 1, 14, f);      /* a crash mid-append */
    fclose(f);
    vms_index_reader_t *r = vms_index_reader_new(8);
    vms_index_result_t res;
    char err[512] = "";
    assert_int_equal(vms_index_query(r, dir, DAY0, DAY0 + 3600 * S, &res, err, sizeof(err)), 0);
    assert_int_equal(res.n, 1);
    append(DAY0 + 120 * S, 60 * S, "b.mp4");
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_size, 64 + 2 * 256);
    assert_int_equal(vms_index_query(r, dir, DAY0, DAY0 + 3600 * S, &res, err, sizeof(err)), 0);
    assert_int_equal(res.n, 2);
    vms_index_reader_free(r);
}

static void
read_file(const char *name, unsigned char **buf, size_t *len)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/.index/%s", dir, name);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    *buf = malloc(1 << 20);
    *len = fread(*buf, 1, 1 << 20, f);
    fclose(f);
}

static void
test_validate_buf(void **state)
{
    append(DAY0 + 60 * S, 60 * S, "a.mp4");
    append(DAY0 + 120 * S, 60 * S, "b.mp4");
    vms_index_segment_t s = mkseg(DAY0 + 180 * S, 5 * S, "c.mp4");
    assert_int_equal(vms_index_write_open(dir, &s), 0);
    const char *names[] = { "2026-11-24.seg", "2026-11-24.frag", "open" };
    char err[256];
    for (int i = 0; i < 3; i++) {
        unsigned char *b;
        size_t len;
        read_file(names[i], &b, &len);
        assert_int_equal(vms_index_validate_buf(b, len, err, sizeof(err)), 0);
        b[len - 3] ^= 1;
        assert_int_equal(vms_index_validate_buf(b, len, err, sizeof(err)), VMS_INDEX_ECORRUPT);
        free(b);
    }
    assert_int_equal(vms_index_validate_buf((const unsigned char *) "junk", 4, err, sizeof(err)),
                     VMS_INDEX_ECORRUPT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_query_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order_and_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_segments_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crossing_midnight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_range_lists_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_record_names_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_header_and_frag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_ignored_then_repaired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validate_buf, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
