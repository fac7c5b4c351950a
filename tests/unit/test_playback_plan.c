/* Playback planning and rendering at the edges: a range inside one segment,
 * across a gap, empty, crossing midnight and an hour directory, a segment
 * being written, keyframe starts, clips, spans, playlists and /list JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vms_index.h"
#include "pb_plan.h"

#define S 1000000LL
#define DAY0 (1795478400LL * S)       /* 2026-11-24T00:00:00Z */
#define NF 10                          /* 1 s fragments per 10 s segment */

static char dir[256];
static vms_index_reader_t *rd;

static int
setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/pb_plan_test.XXXXXX");
    assert_non_null(mkdtemp(dir));
    rd = vms_index_reader_new(8);
    return 0;
}

static int
teardown(void **state)
{
    char cmd[300];
    vms_index_reader_free(rd);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* a 10 s segment at start: init 1000 bytes, fragments of 100 bytes, keyframe
 * every key_every fragments; media time continuous with the wall clock */
static void
seg(int64_t start, const char *path, int key_every, uint32_t flags, int open, int nfrags)
{
    vms_index_fragment_t f[NF];
    for (int i = 0; i < nfrags; i++) {
        f[i] = (vms_index_fragment_t) { .offset = 1000 + (uint64_t) i * 100, .size = 100,
            .flags = i % key_every == 0 ? VMS_FRAG_KEY : 0, .start_us = i * S, .duration_us = S };
    }
    vms_index_segment_t s = { .start_us = start, .duration_us = nfrags * S,
        .bytes = 1000 + (uint64_t) nfrags * 100, .init_size = 1000,
        .flags = flags | VMS_SEG_MEDIA_TIME, .nfrags = (uint32_t) nfrags, .frags = f,
        .media_time_us = start - DAY0 };
    snprintf(s.path, sizeof(s.path), "%s", path);
    assert_int_equal(open ? vms_index_write_open(dir, &s) : vms_index_append(dir, &s), 0);
}

static pb_plan_t
plan(int64_t from, int64_t to, int clip, int skip)
{
    vms_index_result_t res;
    char err[256];
    assert_int_equal(vms_index_query(rd, dir, from, to, &res, err, sizeof(err)), 0);
    pb_plan_conf_t c = { .from_us = from, .to_us = to, .gap_us = 500000, .keyframe_start = 1,
                         .clip = clip, .skip_gaps = skip };
    pb_plan_t p;
    assert_int_equal(pb_plan_build(rd, &res, &c, &p, err, sizeof(err)), 0);
    return p;
}

static void
test_range_inside_one_segment(void **state)
{
    seg(DAY0, "a.mp4", 1, 0, 0, NF);
    seg(DAY0 + 10 * S, "b.mp4", 1, 0, 0, NF);
    pb_plan_t p = plan(DAY0 + 12 * S + 400000, DAY0 + 15 * S, 0, 0);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.v[0].seg->path, "b.mp4");
    assert_int_equal(p.v[0].start_us, DAY0 + 12 * S);        /* fragment holding 12.4 s */
    assert_int_equal(p.v[0].duration_us, 3 * S);             /* 12, 13, 14 */
    assert_int_equal(p.v[0].offset, 1000 + 2 * 100);
    assert_int_equal(p.v[0].length, 300);
    assert_false(p.v[0].disc);
    pb_plan_free(&p);
}

static void
test_keyframe_start(void **state)
{
    seg(DAY0, "a.mp4", 4, 0, 0, NF);                          /* keys at 0, 4, 8 s */
    pb_plan_t p = plan(DAY0 + 6 * S + 500000, DAY0 + 9 * S, 0, 0);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.v[0].start_us, DAY0 + 4 * S);         /* back to the keyframe at 4 s */
    assert_int_equal(p.v[0].duration_us, 5 * S);
    assert_int_equal(p.v[0].offset, 1400);
    pb_plan_free(&p);
}

static void
test_whole_and_cut_segments(void **state)
{
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof(name), "s%d.mp4", i);
        seg(DAY0 + i * 10 * S, name, 1, 0, 0, NF);
    }
    pb_plan_t p = plan(DAY0 + 5 * S, DAY0 + 35 * S, 0, 0);
    assert_int_equal(p.n, 4);
    int64_t want_d[] = { 5, 10, 10, 5 };
    uint64_t want_off[] = { 1500, 1000, 1000, 1000 }, want_len[] = { 500, 1000, 1000, 500 };
    for (int i = 0; i < 4; i++) {
        assert_int_equal(p.v[i].duration_us, want_d[i] * S);
        assert_int_equal(p.v[i].offset, want_off[i]);
        assert_int_equal(p.v[i].length, want_len[i]);
        assert_false(p.v[i].disc);
    }
    pb_buf_t b = { 0 };
    pb_render_playlist(&b, &p, "cam1/media/", "jwt=x");
    assert_false(b.oom);
    assert_non_null(strstr(b.p, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:10\n"
                                "#EXT-X-PLAYLIST-TYPE:VOD\n"));
    assert_non_null(strstr(b.p, "#EXT-X-MAP:URI=\"cam1/media/s0.mp4?jwt=x\",BYTERANGE=\"1000@0\"\n"
                                "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T00:00:05Z\n#EXTINF:5,\n"
                                "#EXT-X-BYTERANGE:500@1500\n"
                                "cam1/media/s0.mp4?s=1795478400000000&t=-5000000&jwt=x\n"));
    /* the next file plays on at 5 s of output time, from its first fragment */
    assert_non_null(strstr(b.p, "cam1/media/s1.mp4?s=1795478410000000&t=5000000&jwt=x\n"));
    assert_non_null(strstr(b.p, "cam1/media/s3.mp4?s=1795478430000000&t=25000000&jwt=x\n"));
    assert_null(strstr(b.p, "DISCONTINUITY"));
    assert_non_null(strstr(b.p, "#EXT-X-ENDLIST\n"));
    pb_buf_free(&b);
    pb_plan_free(&p);
}

static void
test_gap_marks_discontinuity(void **state)
{
    seg(DAY0, "a.mp4", 1, 0, 0, NF);
    seg(DAY0 + 10 * S, "b.mp4", 1, 0, 0, NF);
    seg(DAY0 + 30 * S, "c.mp4", 1, VMS_SEG_DISCONTINUITY, 0, NF);   /* after a 10 s gap */
    pb_plan_t p = plan(DAY0, DAY0 + 40 * S, 0, 0);
    assert_int_equal(p.n, 3);
    assert_false(p.v[1].disc);
    assert_true(p.v[2].gap && p.v[2].disc);
    pb_buf_t b = { 0 };
    pb_render_playlist(&b, &p, "", "");
    char *d = strstr(b.p, "#EXT-X-DISCONTINUITY\n");
    assert_non_null(d);
    assert_null(strstr(d + 1, "#EXT-X-DISCONTINUITY"));
    assert_non_null(strstr(d, "#EXT-X-MAP:URI=\"c.mp4\""));
    pb_buf_free(&b);
    pb_plan_free(&p);

    /* a clip stops at the gap unless gaps are skipped */
    p = plan(DAY0, DAY0 + 40 * S, 1, 0);
    assert_int_equal(p.n, 2);
    pb_plan_free(&p);
    p = plan(DAY0, DAY0 + 40 * S, 1, 1);
    assert_int_equal(p.n, 3);
    pb_plan_free(&p);

    /* a range entirely in the gap: nothing */
    p = plan(DAY0 + 21 * S, DAY0 + 29 * S, 0, 0);
    assert_int_equal(p.n, 0);
    pb_plan_free(&p);

    /* timeline spans and gaps */
    vms_index_result_t res;
    char err[256];
    assert_int_equal(vms_index_query(rd, dir, DAY0 + 5 * S, DAY0 + 60 * S, &res, err, sizeof(err)), 0);
    pb_span_t s[8];
    size_t n = pb_spans(&res, DAY0 + 5 * S, DAY0 + 60 * S, 500000, s);
    assert_int_equal(n, 2);
    assert_int_equal(s[0].start_us, DAY0 + 5 * S);
    assert_int_equal(s[0].end_us, DAY0 + 20 * S);
    assert_int_equal(s[1].start_us, DAY0 + 30 * S);
    assert_int_equal(s[1].end_us, DAY0 + 40 * S);
    b = (pb_buf_t) { 0 };
    pb_render_timeline(&b, "cam1", DAY0 + 5 * S, DAY0 + 60 * S, s, n);
    assert_string_equal(b.p,
        "{\"camera_id\":\"cam1\",\"start\":\"2026-11-24T00:00:05Z\",\"end\":\"2026-11-24T00:01:00Z\","
        "\"spans\":[{\"start\":\"2026-11-24T00:00:05Z\",\"end\":\"2026-11-24T00:00:20Z\",\"duration\":15},"
        "{\"start\":\"2026-11-24T00:00:30Z\",\"end\":\"2026-11-24T00:00:40Z\",\"duration\":10}],"
        "\"gaps\":[{\"start\":\"2026-11-24T00:00:20Z\",\"end\":\"2026-11-24T00:00:30Z\",\"duration\":10},"
        "{\"start\":\"2026-11-24T00:00:40Z\",\"end\":\"2026-11-24T00:01:00Z\",\"duration\":20}]}\n");
    pb_buf_free(&b);
    b = (pb_buf_t) { 0 };
    pb_render_list(&b, s, n, "http://h:1/get", "camera/cam1");
    assert_string_equal(b.p,
        "[{\"start\":\"2026-11-24T00:00:05Z\",\"duration\":15,\"url\":\"http://h:1/get?duration=15"
        "&path=camera%2Fcam1&start=2026-11-24T00%3A00%3A05Z\"},"
        "{\"start\":\"2026-11-24T00:00:30Z\",\"duration\":10,\"url\":\"http://h:1/get?duration=10"
        "&path=camera%2Fcam1&start=2026-11-24T00%3A00%3A30Z\"}]\n");
    pb_buf_free(&b);
}

static void
test_timestamps_restarting_per_file_are_rebased_not_discontinuities(void **state)
{
    /* files whose decode time restarts at 0: the media requests carry the output
     * time and the server rebases, so one connection is one timeline; a new
     * connection (maybe other codec parameters) is a discontinuity */
    vms_index_fragment_t f = { .offset = 1000, .size = 100, .flags = VMS_FRAG_KEY, .duration_us = 10 * S };
    for (int i = 0; i < 3; i++) {
        vms_index_segment_t s = { .start_us = DAY0 + i * 10 * S, .duration_us = 10 * S, .bytes = 1100,
            .init_size = i == 2 ? 900 : 1000, .nfrags = 1, .frags = &f,
            .flags = VMS_SEG_MEDIA_TIME | (i == 2 ? VMS_SEG_DISCONTINUITY : 0), .media_time_us = 0 };
        f.offset = s.init_size;
        snprintf(s.path, sizeof(s.path), "r%d.mp4", i);
        assert_int_equal(vms_index_append(dir, &s), 0);
    }
    pb_plan_t p = plan(DAY0, DAY0 + 30 * S, 0, 0);
    assert_int_equal(p.n, 3);
    assert_false(p.v[1].disc);
    assert_int_equal(p.v[1].out_us, 10 * S);
    assert_true(p.v[2].disc);
    assert_false(p.v[2].gap);
    pb_plan_free(&p);
    /* a clip runs on across the first boundary */
    p = plan(DAY0, DAY0 + 20 * S, 1, 0);
    assert_int_equal(p.n, 2);
    pb_plan_free(&p);
}

static void
test_crossing_midnight_and_hour(void **state)
{
    seg(DAY0 - 10 * S, "2026/11/23/23/segment_x.mp4", 1, 0, 0, NF);
    seg(DAY0, "2026/11/24/00/segment_y.mp4", 1, 0, 0, NF);
    pb_plan_t p = plan(DAY0 - 3 * S, DAY0 + 3 * S, 0, 0);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.v[0].seg->path, "2026/11/23/23/segment_x.mp4");
    assert_int_equal(p.v[0].duration_us, 3 * S);
    assert_int_equal(p.v[1].duration_us, 3 * S);
    assert_false(p.v[1].disc);
    pb_plan_free(&p);
}

static void
test_segment_being_written(void **state)
{
    seg(DAY0, "a.mp4", 1, 0, 0, NF);
    seg(DAY0 + 10 * S, "b.mp4", 1, 0, 1, 4);                  /* 4 fragments written so far */
    pb_plan_t p = plan(DAY0 + 5 * S, DAY0 + 60 * S, 0, 0);
    assert_int_equal(p.n, 2);
    assert_true(p.v[1].seg->flags & VMS_SEG_OPEN);
    assert_int_equal(p.v[1].duration_us, 4 * S);
    assert_int_equal(p.v[1].length, 400);                     /* complete fragments only */
    pb_plan_free(&p);

    /* an open record with no fragment yet adds nothing */
    seg(DAY0 + 10 * S, "b.mp4", 1, 0, 1, 0);
    p = plan(DAY0 + 5 * S, DAY0 + 60 * S, 0, 0);
    assert_int_equal(p.n, 1);
    pb_plan_free(&p);
}

static void
test_empty_index(void **state)
{
    seg(DAY0 + 3600 * S, "later.mp4", 1, 0, 0, NF);
    pb_plan_t p = plan(DAY0, DAY0 + 10 * S, 0, 0);
    assert_int_equal(p.n, 0);
    pb_plan_free(&p);
    vms_index_result_t res;
    char err[256];
    assert_int_equal(vms_index_query(rd, dir, DAY0, DAY0 + 10 * S, &res, err, sizeof(err)), 0);
    pb_span_t s[1];
    assert_int_equal(pb_spans(&res, DAY0, DAY0 + 10 * S, 500000, s), 0);
    pb_buf_t b = { 0 };
    pb_render_list(&b, s, 0, "http://h/get", "c");
    assert_string_equal(b.p, "[]\n");
    pb_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_range_inside_one_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyframe_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whole_and_cut_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_marks_discontinuity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timestamps_restarting_per_file_are_rebased_not_discontinuities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crossing_midnight_and_hour, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segment_being_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_index, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
