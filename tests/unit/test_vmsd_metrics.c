/* vmsd's Prometheus registry (sidecar/base/metrics.c): text format of counters,
 * gauges and histograms, label escaping, one family per name, collectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "metrics.h"

static void
expect_line(const char *text, const char *line)
{
    char  want[512];
    const char *p;

    snprintf(want, sizeof(want), "%s\n", line);
    p = strstr(text, want);
    if (p == NULL || (p != text && p[-1] != '\n')) {
        fail_msg("missing line \"%s\" in:\n%s", line, text);
    }
}

static void
collector(vms_buf_t *out, void *data)
{
    vms_buf_printf(out, "# TYPE vms_test_collected gauge\nvms_test_collected %d\n",
                   *(int *) data);
}

static void
test_text_format(void **state)
{
    static const double buckets[] = { 0.5, 1, 5 };
    static int          collected = 7;
    vms_metric_t *c, *g, *h;
    vms_buf_t     out = {0};
    char          l[256];

    c = vms_metric_new("vms_test_total", "Things counted", VMS_COUNTER, NULL, 0);
    assert_ptr_equal(c, vms_metric_new("vms_test_total", "again", VMS_COUNTER, NULL, 0));
    vms_metric_labels(l, sizeof(l), "camera_id", "cam1", "status", "success", NULL);
    assert_string_equal(l, "camera_id=\"cam1\",status=\"success\"");
    vms_series_add(vms_metric_series(c, l), 1);
    vms_series_add(vms_metric_series(c, l), 2);
    vms_metric_labels(l, sizeof(l), "camera_id", "we\"ird\\", NULL);
    vms_series_add(vms_metric_series(c, l), 1);

    g = vms_metric_new("vms_test_gauge", "A level", VMS_GAUGE, NULL, 0);
    vms_series_set(vms_metric_series(g, ""), 2.5);

    h = vms_metric_new("vms_test_seconds", "Durations", VMS_HISTOGRAM, buckets, 3);
    vms_metric_labels(l, sizeof(l), "camera_id", "cam1", NULL);
    vms_series_observe(vms_metric_series(h, l), 0.2);
    vms_series_observe(vms_metric_series(h, l), 3);
    vms_series_observe(vms_metric_series(h, l), 60);

    vms_metrics_register_collector(collector, &collected);
    vms_metrics_render(&out);

    expect_line(out.p, "# HELP vms_test_total Things counted");
    expect_line(out.p, "# TYPE vms_test_total counter");
    expect_line(out.p, "vms_test_total{camera_id=\"cam1\",status=\"success\"} 3");
    expect_line(out.p, "vms_test_total{camera_id=\"we\\\"ird\\\\\"} 1");
    expect_line(out.p, "# TYPE vms_test_gauge gauge");
    expect_line(out.p, "vms_test_gauge 2.5");
    expect_line(out.p, "# TYPE vms_test_seconds histogram");
    expect_line(out.p, "vms_test_seconds_bucket{camera_id=\"cam1\",le=\"0.5\"} 1");
    expect_line(out.p, "vms_test_seconds_bucket{camera_id=\"cam1\",le=\"1\"} 1");
    expect_line(out.p, "vms_test_seconds_bucket{camera_id=\"cam1\",le=\"5\"} 2");
    expect_line(out.p, "vms_test_seconds_bucket{camera_id=\"cam1\",le=\"+Inf\"} 3");
    expect_line(out.p, "vms_test_seconds_sum{camera_id=\"cam1\"} 63.2");
    expect_line(out.p, "vms_test_seconds_count{camera_id=\"cam1\"} 3");
    expect_line(out.p, "vms_test_collected 7");
    /* one HELP per family even with several series */
    assert_null(strstr(strstr(out.p, "# HELP vms_test_total") + 1, "# HELP vms_test_total"));
    vms_buf_free(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
