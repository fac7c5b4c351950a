/* Camera records of vms.cameras (sidecar/cluster/record.c): a record is a
 * [camera ID] section in JSON, checked by vmsd.conf's rules with the node's
 * [vmsd] defaults; what is refused names the key; cluster mode refuses
 * [camera] sections in the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "config.h"
#include "record.h"

/* Test double of the analysis configuration: records the keys it gets,
 * refuses motion_threshold = 7. */
struct vms_analysis_conf_s {
    char keys[512];
};

vms_analysis_conf_t *
vms_analysis_conf_new(void)
{
    return calloc(1, sizeof(vms_analysis_conf_t));
}

void
vms_analysis_conf_free(vms_analysis_conf_t *conf)
{
    free(conf);
}

int
vms_analysis_conf_set(vms_analysis_conf_t *conf, const char *key,
    const char *value, char *err, size_t errlen)
{
    size_t n = strlen(conf->keys);

    if (strcmp(key, "motion_threshold") == 0 && strcmp(value, "7") == 0) {
        snprintf(err, errlen, "expected a fraction 0-1");
        return -1;
    }
    snprintf(conf->keys + n, sizeof(conf->keys) - n, "%s=%s;", key, value);
    return 0;
}

static char path[64];
static char err[1024], field[64];

static void
write_conf(const char *text)
{
    FILE *f;

    snprintf(path, sizeof(path), "/tmp/vms-record-test-%d.conf", (int) getpid());
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

#define NODE "[vmsd]\nrecordings = /srv/rec\ncluster = on\nkafka_brokers = k:9092\n" \
             "redis = r:6379\nsegment_duration = 30s\nmotion_min_area = 0.01\n"

static vms_camera_conf_t *
parse(const char *json)
{
    return vms_camera_record_parse(path, "cam7", json, field, sizeof(field), err, sizeof(err));
}

static void
expect_refused(const char *json, const char *want_field, const char *want_err)
{
    assert_null(parse(json));
    assert_string_equal(field, want_field);
    if (strstr(err, want_err) == NULL) {
        fail_msg("want \"%s\" in \"%s\"", want_err, err);
    }
    assert_null(strstr(err, path));        /* the API's caller sees no file */
}

static void
test_a_record_is_a_section_with_the_node_defaults(void **state)
{
    vms_camera_conf_t *cc;

    write_conf(NODE);
    cc = parse("{\"url\":\"rtsp://u:p@10.0.0.7/s\",\"record\":false,\"retention_days\":3,"
               "\"roi_areas\":[{\"x\":1,\"y\":2,\"width\":3,\"height\":4}],\"motion_threshold\":0.05}");
    assert_non_null(cc);
    assert_string_equal(cc->id, "cam7");
    assert_string_equal(cc->url, "rtsp://u:p@10.0.0.7/s");
    assert_int_equal(cc->s.record, 0);
    assert_int_equal(cc->s.retention_days, 3);
    assert_int_equal(cc->s.segment_ms, 30000);            /* from [vmsd] */
    if (strstr(cc->analysis->keys, "roi_areas=[{\"x\":1,\"y\":2,\"width\":3,\"height\":4}];") == NULL) {
        fail_msg("keys: %s", cc->analysis->keys);
    }
    assert_non_null(strstr(cc->analysis->keys, "motion_threshold=0.05;"));
    if (strstr(cc->analysis->keys, "motion_min_area=0.01;") == NULL) {
        fail_msg("keys: %s", cc->analysis->keys);
    }
    assert_int_equal(cc->enabled, 1);
    vms_camera_conf_free(cc);

    /* the same record, the same sig; another value, another sig */
    {
        vms_camera_conf_t *a = parse("{\"url\":\"rtsp://a/b\",\"segment_duration\":\"10s\"}");
        vms_camera_conf_t *b = parse("{\"segment_duration\":\"10s\",\"url\":\"rtsp://a/b\"}");
        vms_camera_conf_t *c = parse("{\"url\":\"rtsp://a/b\",\"segment_duration\":\"11s\"}");
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(c);
        assert_int_equal(a->s.segment_ms, 10000);
        assert_string_not_equal(a->sig, c->sig);
        vms_camera_conf_free(a);
        vms_camera_conf_free(b);
        vms_camera_conf_free(c);
    }
}

static void
test_what_is_refused_names_the_key(void **state)
{
    write_conf(NODE);
    expect_refused("{\"record\":true}", "url", "\"url\": missing");
    expect_refused("{\"url\":\"http://a/b\"}", "url", "rtsp://");
    expect_refused("{\"url\":\"rtsp://a/b\",\"retention_days\":-1}", "retention_days",
                   "\"retention_days\": expected a positive integer");
    expect_refused("{\"url\":\"rtsp://a/b\",\"colour\":1}", "colour", "unknown camera key");
    expect_refused("{\"url\":\"rtsp://a/b\",\"Bad-Key\":1}", "Bad-Key", "unknown camera key");
    expect_refused("{\"url\":\"rtsp://a/b\",\"record\":[1]}", "record", "");
    expect_refused("{\"url\":\"rtsp://a/b\",\"record\":null}", "record", "expected a string");
    expect_refused("{\"url\":\"rtsp://a/b\\n[vmsd]\\nrecordings = /\"}", "url", "one line");
    expect_refused("{\"url\":\"rtsp://a/b ;x\"}", "url", "one line");
    expect_refused("{\"url\":\"rtsp://a/b\",\"motion_threshold\":7}", "motion_threshold",
                   "expected a fraction");
    expect_refused("{\"url\":\"rtsp://a/b\",\"id\":\"cam8\"}", "id", "differs from the path");
    expect_refused("[1,2]", "", "expected a JSON object");
    expect_refused("{\"url\":\"rtsp://a/b\",\"url\":\"rtsp://c/d\"}", "", "expected a JSON object");
    expect_refused("{", "", "expected a JSON object");
}

static void
test_enabled_no_is_disabled(void **state)
{
    assert_int_equal(vms_camera_record_disabled("{\"url\":\"rtsp://a\",\"enabled\":false}"), 1);
    assert_int_equal(vms_camera_record_disabled("{\"url\":\"rtsp://a\",\"enabled\":\"no\"}"), 1);
    assert_int_equal(vms_camera_record_disabled("{\"url\":\"rtsp://a\",\"enabled\":0}"), 1);
    assert_int_equal(vms_camera_record_disabled("{\"url\":\"rtsp://a\",\"enabled\":true}"), 0);
    assert_int_equal(vms_camera_record_disabled("{\"url\":\"rtsp://a\"}"), 0);
    assert_int_equal(vms_camera_record_disabled("not json"), 0);
}

static void
test_cluster_refuses_camera_sections_and_needs_its_peers(void **state)
{
    vms_config_t *cfg;
    char          e[1024];

    write_conf(NODE "\n[camera c1]\nurl = rtsp://a/b\n");
    cfg = vms_config_load(path, e, sizeof(e));
    assert_null(cfg);
    assert_non_null(strstr(e, "cluster is on: cameras come from the vms.cameras topic"));

    write_conf("[vmsd]\nrecordings = /srv/rec\ncluster = on\n");
    assert_null(vms_config_load(path, e, sizeof(e)));
    assert_non_null(strstr(e, "needs kafka_brokers"));
    assert_non_null(strstr(e, "needs redis"));

    write_conf(NODE "lease_duration = 10s\n");
    assert_null(vms_config_load(path, e, sizeof(e)));
    assert_non_null(strstr(e, "key \"lease_duration\": longer than cluster_session_timeout"));

    write_conf(NODE "node_id = a.b\n");
    assert_null(vms_config_load(path, e, sizeof(e)));
    assert_non_null(strstr(e, "key \"node_id\""));

    write_conf(NODE "node_id = node-2\n");
    cfg = vms_config_load(path, e, sizeof(e));
    assert_non_null(cfg);
    assert_string_equal(cfg->node_id, "node-2");
    assert_string_equal(cfg->spool_dir, "/srv/rec/.spool-node-2");   /* one per node */
    assert_int_equal(cfg->lease_ms, 5000);
    assert_int_equal(cfg->cluster_session_ms, 6000);
    vms_config_free(cfg);
}

static int
teardown(void **state)
{
    unlink(path);
    return 0;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_record_is_a_section_with_the_node_defaults),
        cmocka_unit_test(test_what_is_refused_names_the_key),
        cmocka_unit_test(test_enabled_no_is_disabled),
        cmocka_unit_test(test_cluster_refuses_camera_sections_and_needs_its_peers),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
