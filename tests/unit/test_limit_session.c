/* Player session ids and signed session parameters of vms_limit (modules/limit/core/vms_session.c).
 * Expected values were computed independently (Python hmac/hashlib) from the format in docs/limit.md. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vms_session.h"

static const unsigned char KEY[] = "0123456789abcdef0123456789abcdef";
#define KEYLEN  32
#define EXP     1800000000LL

#define S(x)  x, strlen(x)


static void
test_id_kept_or_hashed(void **state)
{
    char  out[VMS_SESSION_ID_MAX + 1];

    (void) state;
    assert_int_equal(vms_session_id(S("tile-0"), out), 6);
    assert_string_equal(out, "tile-0");
    assert_int_equal(vms_session_id(S("rtmp:127.0.0.1:1"), out), 16);
    assert_string_equal(out, "rtmp:127.0.0.1:1");
    /* a token (space), a "~" id, 65 characters: hashed */
    assert_int_equal(vms_session_id(S("Bearer abc"), out), 23);
    assert_string_equal(out, "~w1Xc6WwWEogNEZQP_dkBTQ");
    assert_int_equal(vms_session_id(S("~w1Xc6WwWEogNEZQP_dkBTQ"), out), 23);
    assert_string_not_equal(out, "~w1Xc6WwWEogNEZQP_dkBTQ");
    char long_id[66];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    assert_int_equal(vms_session_id(long_id, 65, out), 23);
    assert_int_equal(out[0], '~');
    assert_int_equal(vms_session_id(long_id, 64, out), 64);
    assert_int_equal(vms_session_id("", 0, out), 0);
    /* NUL and bytes >= 0x80 are hashed, never kept */
    assert_int_equal(vms_session_id("a\0b", 3, out), 23);
    assert_int_equal(vms_session_id(S("caf\xc3\xa9"), out), 23);
}


static void
test_sign_known_answer_and_verify(void **state)
{
    char         p[VMS_SESSION_PARAM_MAX + 1];
    size_t       n, id_len = 0;
    const char  *id = NULL;

    (void) state;
    n = vms_session_sign(KEY, KEYLEN, S("cam1"), S("alice"), S("tile-0"), EXP, p);
    assert_string_equal(p, "1800000000.PsV5oUrDgGPr8GC_f6Zs9g.tile-0");
    assert_int_equal(n, strlen(p));

    assert_int_equal(vms_session_verify(KEY, KEYLEN, S("cam1"), S("alice"), p, n, EXP - 1,
                                        &id, &id_len), VMS_SESSION_OK);
    assert_int_equal(id_len, 6);
    assert_memory_equal(id, "tile-0", 6);

    /* expiry is exclusive */
    assert_int_equal(vms_session_verify(KEY, KEYLEN, S("cam1"), S("alice"), p, n, EXP,
                                        &id, &id_len), VMS_SESSION_EXPIRED);
    /* another camera, user or key */
    assert_int_equal(vms_session_verify(KEY, KEYLEN, S("cam2"), S("alice"), p, n, 0, &id, &id_len),
                     VMS_SESSION_BAD_MAC);
    assert_int_equal(vms_session_verify(KEY, KEYLEN, S("cam1"), S("alicf"), p, n, 0, &id, &id_len),
                     VMS_SESSION_BAD_MAC);
    assert_int_equal(vms_session_verify((const unsigned char *) "1123456789abcdef0123456789abcdef",
                                        KEYLEN, S("cam1"), S("alice"), p, n, 0, &id, &id_len),
                     VMS_SESSION_BAD_MAC);
    /* fields are length-prefixed: moving a byte from scope to user changes the MAC */
    assert_int_equal(vms_session_verify(KEY, KEYLEN, S("cam"), S("1alice"), p, n, 0, &id, &id_len),
                     VMS_SESSION_BAD_MAC);
}


static void
test_tampered_and_malformed(void **state)
{
    size_t       i, id_len;
    const char  *id;
    char         t[VMS_SESSION_PARAM_MAX + 2];
    const char  *good = "1800000000.PsV5oUrDgGPr8GC_f6Zs9g.tile-0";
    static const char  *bad[] = {
        "", ".", "..", "1800000000", "1800000000.PsV5oUrDgGPr8GC_f6Zs9g",
        "1800000000.PsV5oUrDgGPr8GC_f6Zs9g.", "01800000000.PsV5oUrDgGPr8GC_f6Zs9g.tile-0",
        "-1.PsV5oUrDgGPr8GC_f6Zs9g.tile-0", "+1800000000.PsV5oUrDgGPr8GC_f6Zs9g.tile-0",
        "1800000000.PsV5oUrDgGPr8GC_f6Zs9.tile-0", "1800000000.PsV5oUrDgGPr8GC_f6Zs9gg.tile-0",
        "1800000000.PsV5oUrDgGPr8GC_f6Zs9g.tile 0", "1800000000.PsV5oUrDgGPr8GC_f6Zs9g.tile%2D0",
        "9999999999999999999999.PsV5oUrDgGPr8GC_f6Zs9g.tile-0",
        "1800000000.PsV5oUrDgGPr8GC_f6Zs9g.~short",
    };

    (void) state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(vms_session_verify(KEY, KEYLEN, S("cam1"), S("alice"), S(bad[i]), 0,
                                            &id, &id_len), VMS_SESSION_MALFORMED);
    }

    /* every single-character change of a good parameter is refused */
    for (i = 0; i < strlen(good); i++) {
        strcpy(t, good);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        assert_int_not_equal(vms_session_verify(KEY, KEYLEN, S("cam1"), S("alice"), S(t), 0,
                                                &id, &id_len), VMS_SESSION_OK);
    }

    /* the last MAC character encodes 4 unused bits: a variant in them is still refused */
    strcpy(t, good);
    t[11 + 21] = 'h';
    assert_int_equal(vms_session_verify(KEY, KEYLEN, S("cam1"), S("alice"), S(t), 0, &id, &id_len),
                     VMS_SESSION_BAD_MAC);
}


static void
test_sign_refuses_bad_input(void **state)
{
    char  p[VMS_SESSION_PARAM_MAX + 1];

    (void) state;
    assert_int_equal(vms_session_sign(KEY, 31, S("c"), S("u"), S("id"), EXP, p), 0);
    assert_int_equal(vms_session_sign(KEY, KEYLEN, S("c"), S("u"), S("a b"), EXP, p), 0);
    assert_int_equal(vms_session_sign(KEY, KEYLEN, S("c"), S("u"), "", 0, EXP, p), 0);
    assert_int_equal(vms_session_sign(KEY, KEYLEN, S("c"), S("u"), S("id"), -1, p), 0);
}


static void
test_key_file_contents(void **state)
{
    size_t  n;

    (void) state;
    n = 33;
    assert_int_equal(vms_session_key_check(KEY, &n), 0);           /* 33: fine */
    n = 34;
    assert_int_equal(vms_session_key_check((const unsigned char *)
                         "0123456789abcdef0123456789abcdef\n\n", &n), 0);
    assert_int_equal(n, 32);
    n = 32;
    assert_int_equal(vms_session_key_check((const unsigned char *)
                         "0123456789abcdef0123456789abcde\n", &n), -1);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_kept_or_hashed),
        cmocka_unit_test(test_sign_known_answer_and_verify),
        cmocka_unit_test(test_tampered_and_malformed),
        cmocka_unit_test(test_sign_refuses_bad_input),
        cmocka_unit_test(test_key_file_contents),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
