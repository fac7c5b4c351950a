/*
 * Kafka over TLS for every librdkafka client of the sidecar (vmsd, vms-topics, vms-push,
 * vms-alert-notifier, vms-detections-consumer, vms-audit-consumer): one shared way, from the
 * environment (docs/security.md, "Transport (TLS)"):
 *
 *   VMS_KAFKA_SECURITY_PROTOCOL   plaintext (default) or ssl
 *   VMS_KAFKA_SSL_CA_FILE         ssl.ca.location: the CA that signed the brokers' certificates
 *   VMS_KAFKA_SSL_CERT_FILE       ssl.certificate.location (optional, mutual TLS; with the key)
 *   VMS_KAFKA_SSL_KEY_FILE        ssl.key.location (optional; a file, never the key itself)
 *
 * With ssl the broker's name is checked (ssl.endpoint.identification.algorithm=https). Only file
 * paths are read from the environment; no key material. nginx's workers drop the environment:
 * its producer takes the same properties as `vms_auth_kafka BROKERS name=value...`.
 */
#ifndef VMS_KAFKA_SSL_H
#define VMS_KAFKA_SSL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>

/* -1 with the message in err (cut to len: a long librdkafka message may lose its end) */
static inline int
vms_kafka_ssl_fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline int
vms_kafka_ssl_fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* One property: 0, or -1 with "kafka: KEY: librdkafka's reason" in err. */
static inline int
vms_kafka_conf_set(rd_kafka_conf_t *c, const char *k, const char *v, char *err, size_t len)
{
    char e[256];

    if (rd_kafka_conf_set(c, k, v, e, sizeof(e)) != RD_KAFKA_CONF_OK) {
        return vms_kafka_ssl_fail(err, len, "kafka: %s: %s", k, e);
    }
    return 0;
}

/* 0, or -1 with a message in err (an unknown protocol, a lone cert or key, librdkafka's refusal). */
static inline int
vms_kafka_ssl_apply(rd_kafka_conf_t *c, char *err, size_t len)
{
    const char *proto = getenv("VMS_KAFKA_SECURITY_PROTOCOL");
    const char *ca = getenv("VMS_KAFKA_SSL_CA_FILE");
    const char *cert = getenv("VMS_KAFKA_SSL_CERT_FILE");
    const char *key = getenv("VMS_KAFKA_SSL_KEY_FILE");
    const char *set[5][2] = {{ NULL, NULL }};
    int n = 0;

    if (proto == NULL || proto[0] == '\0' || strcmp(proto, "plaintext") == 0) {
        return 0;
    }
    if (strcmp(proto, "ssl") != 0) {
        return vms_kafka_ssl_fail(err, len, "VMS_KAFKA_SECURITY_PROTOCOL: \"%s\" is neither plaintext nor ssl",
                                  proto);
    }
    if ((cert && cert[0]) != (key && key[0])) {
        return vms_kafka_ssl_fail(err, len, "VMS_KAFKA_SSL_CERT_FILE and VMS_KAFKA_SSL_KEY_FILE go together");
    }
    set[n][0] = "security.protocol", set[n++][1] = "ssl";
    set[n][0] = "ssl.endpoint.identification.algorithm", set[n++][1] = "https";
    if (ca && ca[0]) {
        set[n][0] = "ssl.ca.location", set[n++][1] = ca;
    }
    if (cert && cert[0]) {
        set[n][0] = "ssl.certificate.location", set[n++][1] = cert;
        set[n][0] = "ssl.key.location", set[n++][1] = key;
    }
    for (int i = 0; i < n; i++) {
        if (vms_kafka_conf_set(c, set[i][0], set[i][1], err, len) != 0) {
            return -1;
        }
    }
    return 0;
}

#endif /* VMS_KAFKA_SSL_H */
