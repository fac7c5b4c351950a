/* Kafka TLS settings from the environment (modules/common/vms_kafka_ssl.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vms_kafka_ssl.h"


static void
clear(void)
{
    unsetenv("VMS_KAFKA_SECURITY_PROTOCOL");
    unsetenv("VMS_KAFKA_SSL_CA_FILE");
    unsetenv("VMS_KAFKA_SSL_CERT_FILE");
    unsetenv("VMS_KAFKA_SSL_KEY_FILE");
}


/* the value librdkafka holds for name after vms_kafka_ssl_apply(), or "" when it failed */
static int
apply(char *out, size_t outlen, const char *name, char *err, size_t errlen)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    int rc = vms_kafka_ssl_apply(c, err, errlen);
    size_t n = outlen;

    out[0] = '\0';
    if (rc == 0 && rd_kafka_conf_get(c, name, out, &n) != RD_KAFKA_CONF_OK) {
        out[0] = '\0';
    }
    rd_kafka_conf_destroy(c);
    return rc;
}


static void
test_plaintext_by_default(void **state)
{
    char v[256], err[256];
    (void) state;
    clear();
    assert_int_equal(apply(v, sizeof(v), "security.protocol", err, sizeof(err)), 0);
    assert_string_equal(v, "plaintext");
    setenv("VMS_KAFKA_SECURITY_PROTOCOL", "plaintext", 1);
    setenv("VMS_KAFKA_SSL_CA_FILE", "/nonexistent/ca.crt", 1);   /* ignored without ssl */
    assert_int_equal(apply(v, sizeof(v), "security.protocol", err, sizeof(err)), 0);
    assert_string_equal(v, "plaintext");
}


static void
test_ssl_sets_protocol_ca_and_name_check(void **state)
{
    char v[256], err[256];
    (void) state;
    clear();
    setenv("VMS_KAFKA_SECURITY_PROTOCOL", "ssl", 1);
    assert_int_equal(apply(v, sizeof(v), "security.protocol", err, sizeof(err)), 0);
    assert_string_equal(v, "ssl");
    assert_int_equal(apply(v, sizeof(v), "ssl.endpoint.identification.algorithm", err, sizeof(err)), 0);
    assert_string_equal(v, "https");
    setenv("VMS_KAFKA_SSL_CA_FILE", "/etc/vms/tls/ca.crt", 1);
    assert_int_equal(apply(v, sizeof(v), "ssl.ca.location", err, sizeof(err)), 0);
    assert_string_equal(v, "/etc/vms/tls/ca.crt");
}


static void
test_refused_settings(void **state)
{
    char v[256], err[256];
    (void) state;
    clear();
    setenv("VMS_KAFKA_SECURITY_PROTOCOL", "sasl_ssl", 1);
    assert_int_equal(apply(v, sizeof(v), "security.protocol", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "neither plaintext nor ssl"));
    setenv("VMS_KAFKA_SECURITY_PROTOCOL", "ssl", 1);
    setenv("VMS_KAFKA_SSL_CERT_FILE", "/etc/vms/tls/vmsd.crt", 1);   /* a certificate without its key */
    assert_int_equal(apply(v, sizeof(v), "security.protocol", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "go together"));
    clear();
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plaintext_by_default),
        cmocka_unit_test(test_ssl_sets_protocol_ca_and_name_check),
        cmocka_unit_test(test_refused_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
