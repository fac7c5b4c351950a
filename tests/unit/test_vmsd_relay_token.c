/* The live relay's publish token (sidecar/ingest/relay.c): byte-exact HS256 JWT
 * (vector made with PyJWT) and short enough for nginx-rtmp's query limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "relay.h"

static void
test_matches_pyjwt(void **state)
{
    char tok[512];

    assert_int_equal(vms_relay_token((const unsigned char *) "secret", 6, "cam1",
                                     1700000000, 3600, tok, sizeof(tok)), 0);
    assert_string_equal(tok,
        "eyJhbGciOiJIUzI1NiJ9."
        "eyJjYW1lcmFfaWQiOiJjYW0xIiwicGVybWlzc2lvbnMiOiJwdWJsaXNoIiwiZXhwIjoxNzAwMDAzNjAwfQ."
        "s7taVFA__-wCHqtuce26JB39gD9WVOA-EV-zLDYw7vw");
}

static void
test_fits_nginx_rtmp_query_limit(void **state)
{
    char  tok[512], id[65];

    memset(id, 'x', 64);
    id[64] = '\0';
    assert_int_equal(vms_relay_token((const unsigned char *) "k", 1, id,
                                     4102444800LL, 3600, tok, sizeof(tok)), 0);
    /* "token=" + the token */
    assert_true(strlen("token=") + strlen(tok) <= 240);
}

static void
test_small_buffer_refused(void **state)
{
    char tok[64];

    assert_int_equal(vms_relay_token((const unsigned char *) "secret", 6, "cam1",
                                     1700000000, 3600, tok, sizeof(tok)), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_pyjwt),
        cmocka_unit_test(test_fits_nginx_rtmp_query_limit),
        cmocka_unit_test(test_small_buffer_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
