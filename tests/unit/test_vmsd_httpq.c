/* vmsd's API request target and camera scope (sidecar/api/httpq.c): the whole
 * decoded value reaches a route, or the request is refused (#20). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "httpq.h"

static vms_httpq_rc_e
parse(vms_httpq_t *q, const char *target)
{
    return vms_httpq_parse(q, target, strlen(target));
}

static void
test_decodes_whole_values(void **state)
{
    vms_httpq_t  q;
    const char  *bad = NULL;

    assert_int_equal(parse(&q, "/record/stop?camera=cam%31&x=a+b%2Fc&e="),
                     VMS_HTTPQ_OK);
    assert_string_equal(q.path, "/record/stop");
    assert_int_equal(q.nargs, 3);
    assert_string_equal(vms_httpq_get(&q, "camera"), "cam1");
    assert_string_equal(vms_httpq_get(&q, "x"), "a b/c");
    assert_string_equal(vms_httpq_get(&q, "e"), "");
    assert_null(vms_httpq_get(&q, "CAMERA"));
    assert_int_equal(vms_httpq_only(&q, "camera x e", &bad), 1);
    assert_int_equal(vms_httpq_only(&q, "camera", &bad), 0);
    assert_string_equal(bad, "x");
    assert_int_equal(vms_httpq_only(&q, NULL, &bad), 1);
    vms_httpq_free(&q);

    assert_int_equal(parse(&q, "/health"), VMS_HTTPQ_OK);
    assert_int_equal(q.nargs, 0);
    assert_int_equal(vms_httpq_only(&q, "", &bad), 1);
    vms_httpq_free(&q);
    assert_int_equal(parse(&q, "/health?"), VMS_HTTPQ_OK);
    assert_int_equal(q.nargs, 0);
    vms_httpq_free(&q);
}

static void
test_refuses_hostile_targets(void **state)
{
    static const char *bad[] = {
        "/record/stop?camera=cam1%00/../../etc",
        "/record/stop?camera=cam1%0d%0a",
        "/record/stop?camera=cam1%7f",
        "/record/stop?camera=cam1&camera=cam2",
        "/record/stop?camera=cam1&Camera=cam2",
        "/record/stop?camera=%",
        "/record/stop?camera=%4",
        "/record/stop?camera=%g1",
        "/record/stop?camera=cam1&",
        "/record/stop?&camera=cam1",
        "/record/stop?camera=cam1&&x=1",
        "/record/stop?=cam1",
        "/record/stop?ca%6dera=cam1",
        "/record/stop?camera=cam1#x",
        "/record%2Fstop?camera=cam1",
        "/record/stop\x01?camera=cam1",
        "/record/stop?camera=caf\xc3\xa9",
        "record/stop?camera=cam1",
        "http://evil/record/stop",
        "",
    };
    vms_httpq_t q;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(&q, bad[i]), VMS_HTTPQ_BAD);
        assert_true(q.why[0] != '\0');
        assert_null(strstr(q.why, "cam1"));   /* never a value */
        vms_httpq_free(&q);
    }
    /* a NUL inside the bytes received is refused too */
    assert_int_equal(vms_httpq_parse(&q, "/health\0x", 9), VMS_HTTPQ_BAD);
    vms_httpq_free(&q);
}

static void
test_limits(void **state)
{
    vms_httpq_t  q;
    char         t[VMS_HTTPQ_MAX_TARGET + 16];
    size_t       n = 0;
    int          i;

    n += (size_t) snprintf(t, sizeof(t), "/h?");
    for (i = 0; i < VMS_HTTPQ_MAX_ARGS; i++) {
        n += (size_t) snprintf(t + n, sizeof(t) - n, "%sa%d=1", i ? "&" : "", i);
    }
    assert_int_equal(parse(&q, t), VMS_HTTPQ_OK);
    assert_int_equal(q.nargs, VMS_HTTPQ_MAX_ARGS);
    vms_httpq_free(&q);
    snprintf(t + n, sizeof(t) - n, "&b=1");
    assert_int_equal(parse(&q, t), VMS_HTTPQ_BAD);
    vms_httpq_free(&q);

    memset(t, 'a', sizeof(t) - 1);
    t[0] = '/';
    t[VMS_HTTPQ_MAX_TARGET + 1] = '\0';
    assert_int_equal(parse(&q, t), VMS_HTTPQ_TOO_LONG);
    vms_httpq_free(&q);
    t[VMS_HTTPQ_MAX_TARGET] = '\0';
    assert_int_equal(parse(&q, t), VMS_HTTPQ_OK);
    vms_httpq_free(&q);

    memset(t, 'n', 40);
    memcpy(t, "/h?", 3);
    t[40] = '\0';
    assert_int_equal(parse(&q, t), VMS_HTTPQ_BAD);    /* name over 32 */
    vms_httpq_free(&q);
}

static void
test_scope(void **state)
{
    assert_true(vms_httpq_scope_valid("*"));
    assert_true(vms_httpq_scope_valid("-"));
    assert_true(vms_httpq_scope_valid("cam1"));
    assert_true(vms_httpq_scope_valid("cam1,cam_2,CAM-3"));
    assert_false(vms_httpq_scope_valid(""));
    assert_false(vms_httpq_scope_valid("cam1,"));
    assert_false(vms_httpq_scope_valid(",cam1"));
    assert_false(vms_httpq_scope_valid("cam1,,cam2"));
    assert_false(vms_httpq_scope_valid("cam1 cam2"));
    assert_false(vms_httpq_scope_valid("../x"));
    assert_false(vms_httpq_scope_valid("cam.1"));
    assert_false(vms_httpq_scope_valid("*,cam1"));
    assert_false(vms_httpq_scope_valid(
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));

    assert_true(vms_httpq_scope_has("*", "cam9"));
    assert_false(vms_httpq_scope_has("-", "cam1"));
    assert_true(vms_httpq_scope_has("cam1,cam2", "cam2"));
    assert_false(vms_httpq_scope_has("cam1,cam2", "cam"));
    assert_false(vms_httpq_scope_has("cam1,cam2", "cam1,cam2"));
    assert_false(vms_httpq_scope_has("cam10", "cam1"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decodes_whole_values),
        cmocka_unit_test(test_refuses_hostile_targets),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_scope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
