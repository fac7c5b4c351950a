/* vms-playback-router's merge (sidecar/pbrouter/merge.c): fixed node answers, no clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "merge.h"

#define SEG(pdt, d, file, s, t) \
    "#EXT-X-MAP:URI=\"cam1/media/" file "\",BYTERANGE=\"700@0\"\n" \
    "#EXT-X-PROGRAM-DATE-TIME:" pdt "\n#EXTINF:" d ",\n#EXT-X-BYTERANGE:1000@700\n" \
    "cam1/media/" file "?s=" s "&t=" t "\n"

/* node-a: [00:00, 00:10) and, after a gap, [01:00, 01:04); node-b: [00:30, 00:36) */
static const char A[] =
    "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n"
    "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-INDEPENDENT-SEGMENTS\n"
    SEG("2026-01-01T00:00:00Z", "5", "a1.mp4", "1767225600000000", "0")
    "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:05Z\n#EXTINF:5,\n#EXT-X-BYTERANGE:900@1700\n"
    "cam1/media/a1.mp4?s=1767225600000000&t=0\n"
    "#EXT-X-DISCONTINUITY\n"
    SEG("2026-01-01T00:01:00Z", "4", "a2.mp4", "1767225660000000", "10000000")
    "#EXT-X-ENDLIST\n";
static const char B[] =
    "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:7\n#EXT-X-PLAYLIST-TYPE:VOD\n"
    "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-INDEPENDENT-SEGMENTS\n"
    SEG("2026-01-01T00:00:30Z", "6.5", "b1.mp4", "1767225630000000", "0")
    "#EXT-X-ENDLIST\n";

static char *
merge(const char *a, const char *b, const char *extra, int *rc)
{
    pbr_part_t parts[2] = { { "node-a", a, strlen(a) }, { "node-b", b, b ? strlen(b) : 0 } };
    pb_buf_t out = { 0 };
    char why[200];
    *rc = pbr_merge_playlists(&out, parts, b ? 2 : 1, extra, why, sizeof(why));
    if (*rc != 0) {
        pb_buf_free(&out);
        return strdup(why);
    }
    pb_buf_add(&out, "", 1);
    return out.p;
}

static void
test_runs_in_time_order(void **state)
{
    (void) state;
    int rc;
    char *m = merge(A, B, "&jwt=x&vms_session=s1", &rc);
    assert_int_equal(rc, 0);
    const char *want =
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:7\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        /* node-a's first run, as it was (t from 0) */
        "#EXT-X-MAP:URI=\"cam1/media/a1.mp4?node=node-a&jwt=x&vms_session=s1\",BYTERANGE=\"700@0\"\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00Z\n#EXTINF:5,\n#EXT-X-BYTERANGE:1000@700\n"
        "cam1/media/a1.mp4?s=1767225600000000&t=0&node=node-a&jwt=x&vms_session=s1\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:05Z\n#EXTINF:5,\n#EXT-X-BYTERANGE:900@1700\n"
        "cam1/media/a1.mp4?s=1767225600000000&t=0&node=node-a&jwt=x&vms_session=s1\n"
        /* node-b between them: its t moved from 0 to the 10 s before it */
        "#EXT-X-DISCONTINUITY\n"
        "#EXT-X-MAP:URI=\"cam1/media/b1.mp4?node=node-b&jwt=x&vms_session=s1\",BYTERANGE=\"700@0\"\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:30Z\n#EXTINF:6.5,\n#EXT-X-BYTERANGE:1000@700\n"
        "cam1/media/b1.mp4?s=1767225630000000&t=10000000&node=node-b&jwt=x&vms_session=s1\n"
        /* node-a's second run after node-b's 6.5 s: t 10 s -> 16.5 s */
        "#EXT-X-DISCONTINUITY\n"
        "#EXT-X-MAP:URI=\"cam1/media/a2.mp4?node=node-a&jwt=x&vms_session=s1\",BYTERANGE=\"700@0\"\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:01:00Z\n#EXTINF:4,\n#EXT-X-BYTERANGE:1000@700\n"
        "cam1/media/a2.mp4?s=1767225660000000&t=16500000&node=node-a&jwt=x&vms_session=s1\n"
        "#EXT-X-ENDLIST\n";
    assert_string_equal(m, want);
    free(m);

    /* one node, nothing to add: its playlist with node= only */
    m = merge(B, NULL, "", &rc);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(m, "\ncam1/media/b1.mp4?s=1767225630000000&t=0&node=node-a\n"));
    assert_non_null(strstr(m, "URI=\"cam1/media/b1.mp4?node=node-a\""));
    assert_null(strstr(m, "DISCONTINUITY"));
    free(m);
}

static void
test_bad_playlists(void **state)
{
    (void) state;
    const char *bad[] = {
        "",
        "#EXT-X-VERSION:7\n#EXT-X-ENDLIST\n",                                  /* no #EXTM3U */
        "#EXTM3U\n" SEG("2026-01-01T00:00:00Z", "5", "a.mp4", "1", "0"),       /* cut short */
        "#EXTM3U\n#EXTINF:5,\nx.mp4\n#EXT-X-ENDLIST\n",                        /* no MAP */
        "#EXTM3U\n#EXT-X-MAP:BYTERANGE=\"1@0\"\n#EXTINF:5,\nx.mp4\n#EXT-X-ENDLIST\n",
        "#EXTM3U\n#EXT-X-MAP:URI=\"x.mp4\n#EXTINF:5,\nx.mp4\n#EXT-X-ENDLIST\n",  /* unquoted end */
        "#EXTM3U\n#EXT-X-MAP:URI=\"x\"\n#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00Z\n"
        "#EXTINF:five,\nx.mp4\n#EXT-X-ENDLIST\n",                              /* no duration */
        "#EXTM3U\n#EXT-X-MAP:URI=\"x\"\n#EXTINF:5,\nx.mp4\n#EXT-X-ENDLIST\n",  /* no PDT */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc;
        char *m = merge(bad[i], NULL, "", &rc);
        if (rc == 0) {
            fail_msg("merged bad playlist %zu: %s", i, m);
        }
        assert_non_null(strstr(m, "node node-a: playlist: "));
        free(m);
    }
}

static void
test_spans(void **state)
{
    (void) state;
    pb_span_t *v = NULL;
    size_t n = 0;
    int64_t from, to;
    const char tl[] = "{\"camera_id\":\"cam1\",\"start\":\"2026-01-01T00:00:00Z\",\"end\":\"2026-01-01T00:02:00Z\","
                      "\"spans\":[{\"start\":\"2026-01-01T00:00:00Z\",\"end\":\"2026-01-01T00:00:10Z\",\"duration\":10}],"
                      "\"gaps\":[]}";
    assert_int_equal(pbr_timeline_spans(tl, strlen(tl), &v, &n, &from, &to), 0);
    assert_int_equal(n, 1);
    assert_true(from == 1767225600000000LL && to == from + 120000000LL);
    const char li[] = "[{\"start\":\"2026-01-01T00:00:10.4Z\",\"duration\":20,\"url\":\"x\"},"
                      "{\"start\":\"2026-01-01T00:01:00Z\",\"duration\":0.5,\"url\":\"x\"}]";
    assert_int_equal(pbr_list_spans(li, strlen(li), &v, &n), 0);
    assert_int_equal(n, 3);
    /* [0, 10) and [10.4, 30.4) are one span with a 500 ms gap rule; [60, 60.5) apart */
    n = pbr_spans_union(v, n, 500000);
    assert_int_equal(n, 2);
    assert_true(v[0].start_us == from && v[0].end_us == from + 30400000LL);
    assert_true(v[1].start_us == from + 60000000LL && v[1].end_us == from + 60500000LL);
    /* more spans than the first allocation */
    for (int i = 0; i < 100; i++) {
        assert_int_equal(pbr_list_spans(li, strlen(li), &v, &n), 0);
    }
    assert_int_equal(n, 202);
    assert_int_equal(pbr_spans_union(v, n, 0), 2);
    free(v);

    const char *bad[] = { "", "{}", "[{\"start\":\"x\",\"duration\":1}]", "[{\"start\":\"2026-01-01T00:00:00Z\"}]",
                          "[{\"start\":\"2026-01-01T00:00:00Z\",\"duration\":-1}]", "[1]" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = NULL;
        n = 0;
        assert_int_equal(pbr_list_spans(bad[i], strlen(bad[i]), &v, &n), -1);
        assert_int_equal(pbr_timeline_spans(bad[i], strlen(bad[i]), &v, &n, &from, &to), -1);
        free(v);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs_in_time_order),
        cmocka_unit_test(test_bad_playlists),
        cmocka_unit_test(test_spans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
