/*
 * Private to config.c and config_value.c: the parsers of the vmsd keys whose
 * values are not one of confkey.h's plain types.
 */

#ifndef VMS_CONFIG_KEYS_H
#define VMS_CONFIG_KEYS_H

#include "confkey.h"

/* VMS_CK_FUNC parsers (confkey.h): base is a vms_cam_settings_t for camera
 * keys, a vms_config_t for [vmsd]-only ones. */
int vms_config_parse_schedule(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen);   /* vms_backoff_conf_t */
int vms_config_parse_template(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen);   /* char[size] */
int vms_config_parse_relay(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen);   /* char[size], rtmp(s) */
/* api_tls_cert_file (public PEM) or api_tls_key_file (secret): the text,
 * and the file's name in api_tls_*_path for the rotation's log lines. */
int vms_config_parse_api_tls_file(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen);
int vms_config_parse_listen_mode(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen);
int vms_config_parse_metrics_listen(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen);
int vms_config_parse_listen(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen);   /* host:port, loopback */
int vms_config_parse_loglevel(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen);   /* int */
int vms_config_parse_logformat(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen);   /* int */
int vms_config_parse_storage(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen);   /* int: 1 local */
int vms_config_parse_timeofday(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen);   /* char[8] "HH:MM" */
int vms_config_parse_pem_file(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen);
int vms_config_parse_secret_file(const vms_confkey_t *k, void *base,
    const char *value, char *why, size_t whylen);   /* char *, the file's */

/* A secret file's content (trailing newline and blanks dropped), malloc'd;
 * NULL with why (which never holds the content). */
char *vms_config_read_secret(const char *path, char *why, size_t whylen);

#endif /* VMS_CONFIG_KEYS_H */
