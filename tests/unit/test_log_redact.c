/* Credential redaction of log text (modules/log/core/vms_redact.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vms_redact.h"

#define JWT  "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"


static void
expect(const char *in, const char *out)
{
    unsigned char  buf[1024];
    size_t         n = strlen(in);

    memcpy(buf, in, n);
    n = vms_redact(buf, n);
    buf[n] = '\0';
    assert_string_equal((char *) buf, out);
}


static void
test_request_context(void **state)
{
    (void) state;
    expect(", request: \"GET /live/cam1/index.m3u8?jwt=" JWT " HTTP/1.1\", host: \"x\"",
           ", request: \"GET /live/cam1/index.m3u8?jwt=*** HTTP/1.1\", host: \"x\"");
    expect("?a=1&TOKEN=abcdef&b=2", "?a=1&TOKEN=***&b=2");
    expect("?access_token=abc;sig=0123456789&password=p", "?access_token=***;sig=***&password=*");
    expect(", upstream: \"http://127.0.0.1:8091/health?secret=s3cr3t\"",
           ", upstream: \"http://127.0.0.1:8091/health?secret=***\"");
    expect("?jwt=&x=1", "?jwt=&x=1");
}


static void
test_names_only_as_arguments(void **state)
{
    (void) state;
    /* "token" in a path or as part of another name is not an argument */
    expect("/api/auth/stream-token?camera=cam1", "/api/auth/stream-token?camera=cam1");
    expect("?mytoken=abc&token2=x", "?mytoken=abc&token2=x");
    expect("token=abc", "token=abc");
}


static void
test_jwt_anywhere_and_schemes(void **state)
{
    (void) state;
    expect("referrer: \"http://h/player.html#" JWT "\"", "referrer: \"http://h/player.html#***\"");
    expect("/live/" JWT "/index.m3u8", "/live/***/index.m3u8");
    expect("Authorization: Bearer abc.def.ghi, x", "Authorization: Bearer ***, x");
    expect("basic dXNlcjpwYXNz\"", "basic ***\"");
    expect("eyJ without a dot", "eyJ without a dot");
    expect("Bearerish text", "Bearerish text");
}


static void
test_never_longer(void **state)
{
    unsigned char  buf[64];
    size_t         i, n;

    (void) state;
    for (i = 0; i < 40; i++) {
        n = (size_t) snprintf((char *) buf, sizeof(buf), "?jwt=%.*s", (int) i,
                              "0123456789012345678901234567890123456789");
        assert_true(vms_redact(buf, n) <= n);
    }
    assert_int_equal(vms_redact(buf, 0), 0);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_context),
        cmocka_unit_test(test_names_only_as_arguments),
        cmocka_unit_test(test_jwt_anywhere_and_schemes),
        cmocka_unit_test(test_never_longer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
