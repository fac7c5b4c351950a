/* Secrets from files and NAME / NAME_FILE variables (sidecar/base/secret.h):
 * one trailing newline trimmed, both forms set refused, a file others can
 * read warned about, aws-sm: refused without a region before any request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"

static char path[64];
static char warned[512];

static void
on_warn(const char *msg)
{
    snprintf(warned, sizeof(warned), "%s", msg);
}

static void
put(const char *bytes, size_t n, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
    chmod(path, mode);
}

static void
test_file_trims_one_newline(void **state)
{
    char  why[256];
    char *s;

    put("k3y\n", 4, 0600);
    s = vms_secret_get(path, why, sizeof(why));
    assert_string_equal(s, "k3y");
    vms_secret_free(s);
    put("k3y\r\n", 5, 0600);
    s = vms_secret_get(path, why, sizeof(why));
    assert_string_equal(s, "k3y");
    vms_secret_free(s);
    put("k3y \n\n", 6, 0600);                /* only one newline is framing */
    s = vms_secret_get(path, why, sizeof(why));
    assert_string_equal(s, "k3y \n");
    vms_secret_free(s);
    put("\n", 1, 0600);
    assert_null(vms_secret_get(path, why, sizeof(why)));
    assert_non_null(strstr(why, "is empty"));
    put("a\0b", 3, 0600);
    assert_null(vms_secret_get(path, why, sizeof(why)));
    assert_non_null(strstr(why, "NUL byte"));
    unlink(path);
    assert_null(vms_secret_get(path, why, sizeof(why)));
    assert_non_null(strstr(why, "cannot read"));
}

static void
test_readable_by_others_warns(void **state)
{
    char  why[256];
    char *s;

    vms_secret_set_warn(on_warn);
    warned[0] = '\0';
    put("hunter2\n", 8, 0600);
    s = vms_secret_get(path, why, sizeof(why));
    vms_secret_free(s);
    assert_string_equal(warned, "");
    put("hunter2\n", 8, 0644);
    s = vms_secret_get(path, why, sizeof(why));
    assert_string_equal(s, "hunter2");          /* a warning, not a refusal */
    vms_secret_free(s);
    assert_non_null(strstr(warned, "readable by other users"));
    assert_null(strstr(warned, "hunter2"));
    vms_secret_set_warn(NULL);
    unlink(path);
}

static void
test_env_and_env_file(void **state)
{
    char  why[256];
    char *s;

    unsetenv("T_SECRET");
    unsetenv("T_SECRET_FILE");
    assert_null(vms_secret_env("T_SECRET", why, sizeof(why)));
    assert_string_equal(why, "");                /* neither: not an error */

    setenv("T_SECRET", "from-env", 1);
    s = vms_secret_env("T_SECRET", why, sizeof(why));
    assert_string_equal(s, "from-env");
    vms_secret_free(s);

    put("from-file\n", 10, 0600);
    setenv("T_SECRET_FILE", path, 1);
    assert_null(vms_secret_env("T_SECRET", why, sizeof(why)));
    assert_non_null(strstr(why, "both T_SECRET and T_SECRET_FILE are set"));
    assert_null(strstr(why, "from-"));

    unsetenv("T_SECRET");
    s = vms_secret_env("T_SECRET", why, sizeof(why));
    assert_string_equal(s, "from-file");
    vms_secret_free(s);
    unlink(path);
    assert_null(vms_secret_env("T_SECRET", why, sizeof(why)));
    assert_non_null(strstr(why, "T_SECRET_FILE: cannot read"));
    unsetenv("T_SECRET_FILE");
}

static void
test_aws_sm_refs(void **state)
{
    char why[256];

    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    assert_null(vms_secret_get("aws-sm:", why, sizeof(why)));
    assert_non_null(strstr(why, "expected aws-sm:SECRET-ID[#JSON-KEY]"));
    assert_null(vms_secret_get("aws-sm:id#", why, sizeof(why)));
    assert_non_null(strstr(why, "expected aws-sm:SECRET-ID[#JSON-KEY]"));
    assert_null(vms_secret_get("aws-sm:vms/db#dsn", why, sizeof(why)));
    assert_non_null(strstr(why, "aws-sm:vms/db: set AWS_REGION"));
    /* the AWS credentials cannot themselves come from Secrets Manager */
    setenv("AWS_REGION", "eu-west-1", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
    setenv("AWS_SECRET_ACCESS_KEY_FILE", "aws-sm:loop", 1);
    assert_null(vms_secret_get("aws-sm:vms/db", why, sizeof(why)));
    assert_non_null(strstr(why, "cannot come from aws-sm:"));
    unsetenv("AWS_SECRET_ACCESS_KEY_FILE");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_REGION");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_trims_one_newline),
        cmocka_unit_test(test_readable_by_others_warns),
        cmocka_unit_test(test_env_and_env_file),
        cmocka_unit_test(test_aws_sm_refs),
    };
    snprintf(path, sizeof(path), "/tmp/vms-secret-test-%d", (int) getpid());
    return cmocka_run_group_tests(tests, NULL, NULL);
}
