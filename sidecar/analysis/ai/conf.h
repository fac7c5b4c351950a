/*
 * The ai_*, motion_* and roi_* keys of a camera (docs/ai.md lists them with
 * defaults and units).  Pure parsing into vms_ai_conf_t.
 */

#ifndef VMS_AI_CONF_H
#define VMS_AI_CONF_H

#include <stddef.h>

#include "pipeline.h"

/* Every key's default (docs/ai.md). */
void vms_ai_conf_default(vms_ai_conf_t *c);

/* 0; 1 when the key is not an analysis key; -1 with a message naming the
 * key (values of secret keys are never quoted). */
int vms_ai_conf_set(vms_ai_conf_t *c, const char *key, const char *value,
    char *err, size_t errlen);

/* Checks that need every key (e.g. rekognition needs no JPEG quality …).
 * 0 or -1 with a message. */
int vms_ai_conf_check(const vms_ai_conf_t *c, char *err, size_t errlen);

#endif /* VMS_AI_CONF_H */
