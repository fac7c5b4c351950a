/*
 * A camera record of the vms.cameras topic (docs/scale-out.md, "Cameras
 * API"): one flat JSON object whose keys are a [camera ID] section's.
 * Parsed by vmsd.conf's own rules (config.h), so a record gets the same
 * defaults, ranges and messages as a section; untrusted input (the API's
 * body, any producer's record): fuzzed by tests/fuzz/fuzz_camera_record.c.
 */

#ifndef VMS_RECORD_H
#define VMS_RECORD_H

#include <stddef.h>

#include "config.h"

/* How camera JSON is written (jansson flags): compact, and a real as it was typed (0.05, not
 * 0.050000000000000003).  Records the cameras API writes also sort their keys (JSON_SORT_KEYS),
 * so one configuration is always one text. */
#define VMS_RECORD_JSON  (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* conf_path: the node's vmsd.conf (its [vmsd] section gives the defaults).
 * NULL with err (no file or line named) and field (the first key at fault,
 * or "") when the record is not a valid camera. */
vms_camera_conf_t *vms_camera_record_parse(const char *conf_path,
    const char *id, const char *json, char *field, size_t fieldlen,
    char *err, size_t errlen);

/* 1 when the record says "enabled": false (or "no", "off", 0). */
int vms_camera_record_disabled(const char *json);

#endif /* VMS_RECORD_H */
