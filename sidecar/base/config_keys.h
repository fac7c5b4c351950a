/*
 * Private to config.c and config_value.c: the key tables' types and the
 * parser of one value.
 */

#ifndef VMS_CONFIG_KEYS_H
#define VMS_CONFIG_KEYS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    K_DURATION,      /* "15s"; int64_t ms, > 0 */
    K_INT,           /* int64_t within [min, max] */
    K_BOOL,          /* int */
    K_SCHEDULE,      /* vms_backoff_conf_t.schedule */
    K_TEMPLATE,      /* char[VMS_PATH_TEMPLATE_MAX] */
    K_STRING,        /* char * (global only) */
    K_SIZE,          /* int64_t bytes */
    K_LISTEN,        /* host:port, loopback only (global only) */
    K_LOGLEVEL,      /* global only */
    K_LOGFORMAT,     /* json|text (global only) */
    K_TIMEOFDAY,     /* "HH:MM" (global only) */
    K_SECRET_FILE,   /* char *, read from a file (global only) */
    K_RELAY,         /* char[VMS_PATH_TEMPLATE_MAX], rtmp(s):// or "off" */
} key_type_e;

typedef struct {
    const char  *name;
    key_type_e   type;
    size_t       off;
    int64_t      min, max;
    const char  *expect;
} key_t_;

#define CAM(f)  offsetof(vms_cam_settings_t, f)
#define GLB(f)  offsetof(vms_config_t, f)

/* Parse value for key k into base + k->off.  0, or -1 with why. */
int vms_config_set_key(const key_t_ *k, void *base, const char *value,
    char *why, size_t whylen);

#endif /* VMS_CONFIG_KEYS_H */
