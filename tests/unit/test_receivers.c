/* receivers.json (sidecar/alert_notifier/receivers.c): defaults, and a problem per bad field. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "receivers.h"

static void
test_defaults(void **state)
{
    (void) state;
    const char *j = "{\"receivers\":[{\"name\":\"ops\",\"url\":\"https://hooks.example/x\"},"
                    "{\"name\":\"pager\",\"url\":\"http://10.0.0.1:9/p\",\"kinds\":[\"camera.offline\"],"
                    "\"min_severity\":\"critical\",\"timeout\":\"500ms\",\"retries\":0,\"headers_file\":\"/etc/h\"}]}";
    vms_receivers_t rs;
    char err[1024];
    assert_int_equal(vms_receivers_load(j, strlen(j), &rs, err, sizeof(err)), 0);
    assert_int_equal(rs.n, 2);
    assert_int_equal(rs.v[0].kinds, 0xf);
    assert_int_equal(rs.v[0].min_severity, 0);
    assert_int_equal(rs.v[0].timeout_ms, 5000);
    assert_int_equal(rs.v[0].retries, 3);
    assert_null(rs.v[0].headers_file);
    assert_int_equal(rs.v[1].kinds, 1u << vms_alert_kind("camera.offline"));
    assert_int_equal(rs.v[1].min_severity, vms_severity("critical"));
    assert_int_equal(rs.v[1].timeout_ms, 500);
    assert_int_equal(rs.v[1].retries, 0);
    assert_string_equal(rs.v[1].headers_file, "/etc/h");
    vms_receivers_free(&rs);
}

static void
test_errors(void **state)
{
    (void) state;
    const char *j = "{\"receivers\":[{\"url\":\"http://a.example/\"},{\"name\":\"x y\",\"url\":\"http://a b\"},"
                    "{\"name\":\"k\",\"url\":\"https://k.example/\",\"kinds\":[\"detection\",\"alarm\"],"
                    "\"headers_file\":\"relative\",\"retries\":\"3\"}],\"version\":2}";
    vms_receivers_t rs;
    char err[2048];
    assert_int_equal(vms_receivers_load(j, strlen(j), &rs, err, sizeof(err)), -1);
    assert_null(rs.v);
    const char *want[] = {
        "file: unknown field \"version\"",
        "receivers[0]: name: 1..64 of A-Z a-z 0-9 _ -",
        "receivers[1]: url: must be http:// or https://, without spaces",
        "receivers[2] (\"k\"): kinds[1]: not one of detection",
        "receivers[2] (\"k\"): headers_file: an absolute path",
        "receivers[2] (\"k\"): retries: an integer 0..10",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (strstr(err, want[i]) == NULL) {
            fail_msg("missing \"%s\" in:\n%s", want[i], err);
        }
    }
}

/* the messages an operator reads, exactly, with the receiver's index and name */
static void
test_named_errors(void **state)
{
    (void) state;
    const char *j = "{\"receivers\":[{\"name\":\"a\",\"url\":\"http://a.example/\"},"
                    "{\"name\":\"ops\",\"url\":\"ftp://ops.example/\",\"timeout\":\"2h\",\"retries\":-1},"
                    "{\"name\":\"a\",\"url\":\"https://b.example/\",\"min_severity\":\"loud\",\"kind\":[]}]}";
    vms_receivers_t rs;
    char err[2048];
    assert_int_equal(vms_receivers_load(j, strlen(j), &rs, err, sizeof(err)), -1);
    const char *want[] = {
        "receivers[1] (\"ops\"): url: must be http:// or https://",
        "receivers[1] (\"ops\"): timeout: a duration from 100ms to 60s",
        "receivers[1] (\"ops\"): retries: an integer 0..10",
        "receivers[2] (\"a\"): name: duplicate",
        "receivers[2] (\"a\"): min_severity: info, warning or critical",
        "receivers[2] (\"a\"): unknown field \"kind\" (did you mean \"kinds\"?)",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (strstr(err, want[i]) == NULL) {
            fail_msg("missing \"%s\" in:\n%s", want[i], err);
        }
    }
    assert_null(strstr(err, "receivers[0]"));
}

/* not JSON, the wrong shape, no receivers: refused with a message, nothing allocated */
static void
test_not_a_receivers_file(void **state)
{
    (void) state;
    const char *bad[] = { "", "{", "[]", "{\"receivers\":{}}", "{\"receivers\":[1]}", "{\"x\":[]}" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vms_receivers_t rs;
        char err[512];
        if (vms_receivers_load(bad[i], strlen(bad[i]), &rs, err, sizeof(err)) != -1 || err[0] == '\0') {
            fail_msg("accepted or silent: %s", bad[i]);
        }
        assert_null(rs.v);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_named_errors),
        cmocka_unit_test(test_not_a_receivers_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
