/* vmsd configuration: defaults, per-camera overrides, analysis keys handed
 * over, and errors that name file, line and key (sidecar/base/config.c). */
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
#include "log.h"
#include "util.h"

/* Test double of the analysis configuration (analysis.c is another
 * component): records the keys it receives, refuses "ai_provider = nope". */
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
    if (strcmp(key, "ai_provider") == 0 && strcmp(value, "nope") == 0) {
        snprintf(err, errlen, "expected rekognition, deepstack or local");
        return -1;
    }
    size_t n = strlen(conf->keys);
    snprintf(conf->keys + n, sizeof(conf->keys) - n, "%s=%s;", key, value);
    return 0;
}

static char path[64];
static char err[4096];

static vms_config_t *
load(const char *text)
{
    FILE *f;

    snprintf(path, sizeof(path), "/tmp/vmsd-conf-test-%d.conf", (int) getpid());
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return vms_config_load(path, err, sizeof(err));
}

/* err must contain "PATH:LINE: rest" */
static void
expect_error(const char *text, int line, const char *rest)
{
    char want[512];

    assert_null(load(text));
    snprintf(want, sizeof(want), "%s:%d: %s", path, line, rest);
    if (strstr(err, want) == NULL) {
        fail_msg("want \"%s\"\n got \"%s\"", want, err);
    }
}

#define HEAD "[vmsd]\nrecordings = /srv/rec\n"

static void
test_defaults_and_overrides(void **state)
{
    vms_config_t       *cfg;
    vms_camera_conf_t  *a, *b;

    cfg = load(HEAD
               "frozen_timeout = 2m\n"
               "backoff = 200ms,400ms\n"
               "\n[camera cam1]\nurl = rtsp://10.0.0.1/s\n"
               "retention_days = 30\nwatchdog_interval = 500ms\n"
               "\n[camera cam-2]\nurl = rtsp://u:p@10.0.0.2/s\nrecord = no\n"
               "backoff = 1s\n");
    assert_non_null(cfg);
    assert_string_equal(cfg->listen_host, "127.0.0.1");
    assert_int_equal(cfg->listen_port, 8091);
    assert_string_equal(cfg->recordings, "/srv/rec");
    assert_string_equal(cfg->events_topic, "vms.events");
    assert_string_equal(cfg->spool_dir, "/srv/rec/.spool");
    assert_int_equal(cfg->ncameras, 2);
    assert_int_equal(cfg->kafka_probe_interval_ms, 10000);
    assert_null(cfg->api_allowed_origins);

    a = vms_config_find_camera(cfg, "cam1");
    b = vms_config_find_camera(cfg, "cam-2");
    assert_non_null(a);
    assert_non_null(b);
    /* production defaults */
    assert_int_equal(a->s.backoff.max_attempts, 10);
    assert_int_equal(a->s.probe_ms, 30000);
    assert_int_equal(a->s.still_ms, 30000);
    assert_int_equal(a->s.snapshot_ms, 30000);
    assert_int_equal(a->s.snapshot_ttl_ms, 300000);
    assert_int_equal(a->s.segment_ms, 60000);
    assert_int_equal(a->s.fragment_ms, 1000);
    assert_string_equal(a->s.path_template, "%path/%Y/%m/%d/%H/segment_%s");
    /* [vmsd] defaults, then the camera's own keys */
    assert_int_equal(a->s.frozen_ms, 120000);
    assert_int_equal(a->s.backoff.nschedule, 2);
    assert_int_equal(a->s.backoff.schedule_ms[1], 400);
    assert_int_equal(a->s.retention_days, 30);
    assert_int_equal(a->s.watchdog_ms, 500);
    assert_int_equal(b->s.watchdog_ms, 15000);
    assert_int_equal(b->s.retention_days, 7);
    assert_int_equal(b->s.record, 0);
    assert_int_equal(b->s.backoff.nschedule, 1);
    assert_int_equal(b->s.backoff.schedule_ms[0], 1000);
    assert_int_equal(b->s.frozen_ms, 120000);
    vms_config_free(cfg);
}

static void
test_analysis_keys_are_handed_over(void **state)
{
    vms_config_t       *cfg;
    vms_camera_conf_t  *a;

    cfg = load(HEAD "ai_provider = local\n"
               "[camera cam1]\nurl = rtsp://h/s\nmotion_threshold = 3\n"
               "roi = 0,0,10,10\nai_provider = deepstack\n");
    assert_non_null(cfg);
    a = vms_config_find_camera(cfg, "cam1");
    /* the [vmsd] default first, the camera's value after it */
    assert_string_equal(a->analysis->keys, "ai_provider=local;motion_threshold=3;"
                        "roi=0,0,10,10;ai_provider=deepstack;");
    vms_config_free(cfg);

    expect_error(HEAD "[camera cam1]\nurl = rtsp://h/s\nai_provider = nope\n", 5,
                 "camera cam1: key \"ai_provider\": expected rekognition,"
                 " deepstack or local");
}

static void
test_errors_name_file_line_and_key(void **state)
{
    expect_error(HEAD "\n[camera cam3]\nurl = rtsp://h/s\nretention_days = seven\n",
                 6, "camera cam3: key \"retention_days\": expected a positive"
                 " integer");
    expect_error(HEAD "[camera cam1]\nurl = rtsp://h/s\nfrozen_timeout = 30\n", 5,
                 "camera cam1: key \"frozen_timeout\": expected a duration");
    expect_error(HEAD "[camera cam1]\nurl = rtsp://h/s\ncolour = red\n", 5,
                 "camera cam1: key \"colour\": unknown camera key");
    expect_error(HEAD "[camera cam1]\nurl = rtsp://h/s\nrecord = no\nrecord = yes\n",
                 6, "camera cam1: key \"record\": set twice");
    expect_error(HEAD "[camera cam1]\nurl = http://h/s\n", 4,
                 "camera cam1: key \"url\": expected an rtsp:// or rtsps:// URL");
    expect_error(HEAD "[camera cam1]\nrecord = no\n", 4,
                 "camera cam1: key \"url\": missing");
    expect_error(HEAD "[camera cam/1]\nurl = rtsp://h/s\n", 4,
                 "section [camera cam/1]: camera id must match");
    expect_error(HEAD "[camera a]\nurl = rtsp://h/s\n[camera b]\nurl = rtsp://h/t\n"
                 "[camera a]\nrecord = no\n", 8,
                 "camera a: section [camera a] appears twice (first at line 4)");
    assert_null(load(HEAD "listen = 0.0.0.0:8091\n"));
    assert_non_null(strstr(err, "key \"listen\": 0.0.0.0 is not loopback: the API listens"
                           " elsewhere only over TLS"));
    expect_error(HEAD "[cams]\nx = 1\n", 4, "unknown section [cams]");
    expect_error(HEAD "bogus = 1\n", 3, "key \"bogus\": unknown key in [vmsd]");
    expect_error("[vmsd]\nkafka_brokers = h:9092\n", 2,
                 "key \"recordings\": missing");
    expect_error(HEAD "this line has no equals sign\n", 3, "syntax error");
    expect_error(HEAD "backoff_jitter = 150\n", 3,
                 "key \"backoff_jitter\": expected a percentage 0-100");
    expect_error(HEAD "path_template = ../%path\n", 3,
                 "key \"path_template\": expected a relative path template");
    expect_error(HEAD "[camera c]\nurl = rtsp://h/s\nrelay = http://h/live/%id\n", 5,
                 "camera c: key \"relay\": expected off or an rtmp:// URL");
}

static void
test_api_and_kafka_probe_keys(void **state)
{
    vms_config_t *cfg;

    cfg = load(HEAD "kafka_probe_interval = 250ms\n"
               "api_allowed_origins = http://127.0.0.1:8080 https://vms.example\n");
    assert_non_null(cfg);
    assert_int_equal(cfg->kafka_probe_interval_ms, 250);
    assert_string_equal(cfg->api_allowed_origins,
                        "http://127.0.0.1:8080 https://vms.example");
    vms_config_free(cfg);
    expect_error(HEAD "kafka_probe_interval = 10ms\n", 3,
                 "key \"kafka_probe_interval\": must be at least 100ms");
    expect_error(HEAD "api_allowed_origins =\n", 3,
                 "key \"api_allowed_origins\": must not be empty");
}

/* api_tls_cert_file and api_tls_key_file come as a pair; a missing or empty file is named */
static void
test_api_tls_pair(void **state)
{
    char          text[1024];
    vms_config_t *cfg;

    snprintf(text, sizeof(text), HEAD "api_tls_cert_file = %s\n", path);
    assert_null(load(text));
    assert_non_null(strstr(err, "key \"api_tls_key_file\": missing: the API serves HTTPS with"));
    snprintf(text, sizeof(text), HEAD "api_tls_cert_file = /nonexistent/vmsd.crt\n");
    assert_null(load(text));
    assert_non_null(strstr(err, "/nonexistent/vmsd.crt: No such file or directory"));
    /* another address than loopback: only with TLS (and api_auth, on by default) */
    snprintf(text, sizeof(text), HEAD "listen = 0.0.0.0:8091\napi_tls_cert_file = %s\n"
             "api_tls_key_file = %s\n", path, path);
    cfg = load(text);
    assert_non_null(cfg);
    assert_true(cfg->listen_public);
    vms_config_free(cfg);
    snprintf(text, sizeof(text), HEAD "listen = 0.0.0.0:8091\napi_auth = off\napi_tls_cert_file = %s\n"
             "api_tls_key_file = %s\n", path, path);
    assert_null(load(text));
    assert_non_null(strstr(err, "with api_auth on"));
    snprintf(text, sizeof(text), HEAD "listen = unix:/run/vms/api.sock\napi_tls_cert_file = %s\n"
             "api_tls_key_file = %s\n", path, path);
    assert_null(load(text));
    assert_non_null(strstr(err, "TLS is for a TCP listen address"));
    /* both given: the texts are kept for vms_http_start (here the config file itself stands in) */
    snprintf(text, sizeof(text), HEAD "api_tls_cert_file = %s\napi_tls_key_file = %s\n", path, path);
    cfg = load(text);
    assert_non_null(cfg);
    assert_non_null(strstr(cfg->api_tls_cert, "[vmsd]"));
    assert_non_null(strstr(cfg->api_tls_key, "api_tls_cert_file"));
    vms_config_free(cfg);
}

static void
test_log_format_and_trace_ids(void **state)
{
    vms_config_t *cfg;
    char          id[80];

    cfg = load(HEAD);
    assert_non_null(cfg);
    assert_int_equal(cfg->log_format, VMS_LOG_JSON);
    vms_config_free(cfg);
    cfg = load(HEAD "log_format = text\n");
    assert_non_null(cfg);
    assert_int_equal(cfg->log_format, VMS_LOG_TEXT);
    vms_config_free(cfg);
    expect_error(HEAD "log_format = xml\n", 3,
                 "key \"log_format\": expected json or text");

    /* cluster_storage (docs/scale-out.md): shared by default, local, nothing else */
    cfg = load(HEAD);
    assert_non_null(cfg);
    assert_int_equal(cfg->storage_local, 0);
    vms_config_free(cfg);
    cfg = load(HEAD "cluster_storage = local\n");
    assert_non_null(cfg);
    assert_int_equal(cfg->storage_local, 1);
    vms_config_free(cfg);
    expect_error(HEAD "cluster_storage = nfs\n", 3,
                 "key \"cluster_storage\": expected shared or local");

    /* X-Request-ID / trace ids: 1-64 of [A-Za-z0-9_-] */
    assert_true(vms_trace_id_valid("0123456789abcdef0123456789abcdef"));
    assert_true(vms_trace_id_valid("A-z_9"));
    memset(id, 'a', 64);
    id[64] = '\0';
    assert_true(vms_trace_id_valid(id));
    id[64] = 'a';
    id[65] = '\0';
    assert_false(vms_trace_id_valid(id));
    assert_false(vms_trace_id_valid(""));
    assert_false(vms_trace_id_valid(NULL));
    assert_false(vms_trace_id_valid("a b"));
    assert_false(vms_trace_id_valid("a\"b"));
    assert_false(vms_trace_id_valid("a\nb"));
    assert_false(vms_trace_id_valid("a.b"));
    assert_false(vms_trace_id_valid("\xc3\xa9"));

    /* the thread's trace id: an invalid one is never set */
    vms_log_trace_set("abc");
    assert_string_equal(vms_log_trace(), "abc");
    vms_log_trace_set("bad id");
    assert_null(vms_log_trace());
    vms_log_trace_set("abc");
    vms_log_trace_set(NULL);
    assert_null(vms_log_trace());
}

static void
test_relay(void **state)
{
    vms_config_t *cfg;

    cfg = load(HEAD "relay = rtmp://127.0.0.1:1935/live/%id\n"
               "[camera a]\nurl = rtsp://h/a\n"
               "[camera b]\nurl = rtsp://h/b\nrelay = off\n");
    assert_non_null(cfg);
    assert_string_equal(vms_config_find_camera(cfg, "a")->s.relay,
                        "rtmp://127.0.0.1:1935/live/%id");
    assert_string_equal(vms_config_find_camera(cfg, "b")->s.relay, "");
    vms_config_free(cfg);
}

static void
test_every_error_is_reported(void **state)
{
    assert_null(load(HEAD "[camera c1]\nurl = rtsp://h/s\nstill_timeout = x\n"
                     "snapshot_width = 3\n"));
    assert_non_null(strstr(err, ":5: camera c1: key \"still_timeout\""));
    assert_non_null(strstr(err, "\n"));
    assert_non_null(strstr(err, ":6: camera c1: key \"snapshot_width\""));
}

static void
test_secrets_from_file_and_env(void **state)
{
    vms_config_t  *cfg;
    char           secret[64], text[256];
    FILE          *f;

    snprintf(secret, sizeof(secret), "/tmp/vmsd-conf-secret-%d", (int) getpid());
    f = fopen(secret, "w");
    fputs("host=db password=hunter2\n", f);
    fclose(f);
    snprintf(text, sizeof(text), HEAD "postgres_file = %s\n", secret);
    cfg = load(text);
    assert_non_null(cfg);
    assert_string_equal(cfg->pg_conninfo, "host=db password=hunter2");
    vms_config_free(cfg);
    unlink(secret);

    snprintf(text, sizeof(text), HEAD "postgres_file = %s\n", secret);
    assert_null(load(text));
    assert_non_null(strstr(err, "key \"postgres_file\": cannot read"));

    setenv("VMS_PG_CONNINFO", "host=envdb", 1);
    cfg = load(HEAD);
    assert_string_equal(cfg->pg_conninfo, "host=envdb");
    vms_config_free(cfg);
    unsetenv("VMS_PG_CONNINFO");
}

static void
test_signature_changes_only_with_the_camera(void **state)
{
    vms_config_t *c1, *c2, *c3;

    c1 = load(HEAD "[camera a]\nurl = rtsp://h/a\n[camera b]\nurl = rtsp://h/b\n");
    c2 = load(HEAD "[camera a]\nurl = rtsp://h/a\n[camera b]\nurl = rtsp://h/b\n"
              "record = no\n");
    c3 = load(HEAD "frozen_timeout = 10s\n[camera a]\nurl = rtsp://h/a\n");
    assert_non_null(c1);
    assert_non_null(c2);
    assert_non_null(c3);
    assert_string_equal(vms_config_find_camera(c1, "a")->sig,
                        vms_config_find_camera(c2, "a")->sig);
    assert_string_not_equal(vms_config_find_camera(c1, "b")->sig,
                            vms_config_find_camera(c2, "b")->sig);
    /* a changed default changes every camera using it */
    assert_string_not_equal(vms_config_find_camera(c1, "a")->sig,
                            vms_config_find_camera(c3, "a")->sig);
    vms_config_free(c1);
    vms_config_free(c2);
    vms_config_free(c3);
}

static void
test_value_parsers(void **state)
{
    int64_t  v;
    char     out[128];

    assert_int_equal(vms_parse_duration_ms("500ms", &v), 0);
    assert_int_equal(v, 500);
    assert_int_equal(vms_parse_duration_ms("15s", &v), 0);
    assert_int_equal(v, 15000);
    assert_int_equal(vms_parse_duration_ms("2m", &v), 0);
    assert_int_equal(v, 120000);
    assert_int_equal(vms_parse_duration_ms("1h", &v), 0);
    assert_int_equal(v, 3600000);
    assert_int_equal(vms_parse_duration_ms("15", &v), -1);
    assert_int_equal(vms_parse_duration_ms("-1s", &v), -1);
    assert_int_equal(vms_parse_duration_ms("1.5s", &v), -1);
    assert_int_equal(vms_parse_duration_ms("99999999999999999d", &v), -1);
    assert_int_equal(vms_parse_size("512MB", &v), 0);
    assert_int_equal(v, 512LL << 20);
    assert_true(vms_camera_id_valid("cam_1-A", 7));
    assert_false(vms_camera_id_valid("", 0));
    assert_false(vms_camera_id_valid("a b", 3));
    assert_false(vms_camera_id_valid("../x", 4));
    assert_false(vms_camera_id_valid("cam\xe9", 4));   /* ASCII only, whatever the locale */
    assert_true(vms_camera_id_valid("cam1/x", 4));      /* the length given, not the NUL */
    {
        char id[VMS_CAMERA_ID_MAX + 2];
        memset(id, 'a', sizeof(id));
        assert_true(vms_camera_id_valid(id, VMS_CAMERA_ID_MAX));
        assert_false(vms_camera_id_valid(id, VMS_CAMERA_ID_MAX + 1));
    }
    vms_url_redact("rtsp://admin:secret@10.0.0.5:554/live", out, sizeof(out));
    assert_string_equal(out, "rtsp://***@10.0.0.5:554/live");
    vms_url_redact("rtsp://10.0.0.5/a@b", out, sizeof(out));
    assert_string_equal(out, "rtsp://10.0.0.5/a@b");
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
        cmocka_unit_test(test_defaults_and_overrides),
        cmocka_unit_test(test_analysis_keys_are_handed_over),
        cmocka_unit_test(test_errors_name_file_line_and_key),
        cmocka_unit_test(test_every_error_is_reported),
        cmocka_unit_test(test_secrets_from_file_and_env),
        cmocka_unit_test(test_signature_changes_only_with_the_camera),
        cmocka_unit_test(test_value_parsers),
        cmocka_unit_test(test_relay),
        cmocka_unit_test(test_api_and_kafka_probe_keys),
        cmocka_unit_test(test_api_tls_pair),
        cmocka_unit_test(test_log_format_and_trace_ids),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
