/* vms-login's login body parser and user-name rule (sidecar/login/body.c, docs/users.md). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "body.h"

static char user[LG_USER_MAX + 1], pw[LG_PASSWORD_MAX + 1];

static int
parse(const char *s)
{
    return lg_parse_login(s, strlen(s), user, pw);
}

static void
test_valid(void **state)
{
    (void) state;
    assert_int_equal(parse("{\"username\":\"alice\",\"password\":\"s3cret pw\",\"extra\":1}"), LG_OK);
    assert_string_equal(user, "alice");
    assert_string_equal(pw, "s3cret pw");
    assert_int_equal(parse("{\"password\":\"p\\u00e9\",\"username\":\"a.b@c-d_e\"}"), LG_OK);
    assert_string_equal(pw, "p\xc3\xa9");
}

static void
test_refused(void **state)
{
    (void) state;
    assert_int_equal(parse(""), LG_NOT_JSON);
    assert_int_equal(parse("[1]"), LG_NOT_JSON);
    assert_int_equal(parse("username=a&password=b"), LG_NOT_JSON);
    assert_int_equal(parse("{\"username\":\"a\",\"username\":\"b\",\"password\":\"c\"}"), LG_NOT_JSON);
    assert_int_equal(parse("{\"username\":\"a\"}"), LG_MISSING);
    assert_int_equal(parse("{\"username\":\"\",\"password\":\"x\"}"), LG_MISSING);
    assert_int_equal(parse("{\"username\":1,\"password\":\"x\"}"), LG_MISSING);
    assert_int_equal(parse("{\"username\":\"a\",\"password\":\"x\\u0000y\"}"), LG_BAD_CHAR);
    assert_string_equal(pw, "");                 /* nothing of a refused body is left behind */
}

static void
test_lengths(void **state)
{
    (void) state;
    char body[LG_BODY_MAX + 64], name[LG_USER_MAX + 2], pass[LG_PASSWORD_MAX + 2];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';                                   /* 65 bytes */
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"x\"}", name);
    assert_int_equal(parse(body), LG_TOO_LONG);
    name[LG_USER_MAX] = '\0';                                         /* 64 */
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"x\"}", name);
    assert_int_equal(parse(body), LG_OK);
    memset(pass, 'p', sizeof(pass) - 1);
    pass[sizeof(pass) - 1] = '\0';                                    /* 1025 */
    snprintf(body, sizeof(body), "{\"username\":\"a\",\"password\":\"%s\"}", pass);
    assert_int_equal(parse(body), LG_TOO_LONG);
    pass[LG_PASSWORD_MAX] = '\0';
    snprintf(body, sizeof(body), "{\"username\":\"a\",\"password\":\"%s\"}", pass);
    assert_int_equal(parse(body), LG_OK);
    assert_int_equal(lg_parse_login(body, LG_BODY_MAX + 1, user, pw), LG_NOT_JSON);
}

static void
test_user_names(void **state)
{
    (void) state;
    assert_true(lg_user_name_ok("alice"));
    assert_true(lg_user_name_ok("a.b_c-d@example.com"));
    assert_false(lg_user_name_ok(""));
    assert_false(lg_user_name_ok("al ice"));
    assert_false(lg_user_name_ok("al'ice"));
    assert_false(lg_user_name_ok("\xc3\xa9"));
    assert_false(lg_user_name_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));   /* 65 */
    /* a name outside the rule is still parsed: it is answered as an unknown user */
    assert_int_equal(parse("{\"username\":\"no such name!\",\"password\":\"x\"}"), LG_OK);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_user_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
