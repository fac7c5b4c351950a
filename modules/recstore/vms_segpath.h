/*
 * Segment path templates with MediaMTX's placeholders (recordPath):
 *   %path  the camera id          %Y %m %d %H %M %S  UTC date and time
 *   %f     microseconds (6 digits, as MediaMTX)       %s  Unix seconds
 * The default "%path/%Y/%m/%d/%H/segment_%s" gives, below the recordings
 * root, {camera_id}/{yyyy}/{mm}/{dd}/{hh}/segment_{unix}; the recorder adds
 * ".mp4".  A template must begin with "%path/" so that every segment of a
 * camera lives below that camera's directory (where its index is).
 *
 * Pure functions, no allocation; used by the recorder, reconciliation and
 * config validation.
 */

#ifndef VMS_SEGPATH_H
#define VMS_SEGPATH_H

#include <stddef.h>
#include <stdint.h>

#define VMS_SEGPATH_DEFAULT  "%path/%Y/%m/%d/%H/segment_%s"

/* 0 when tmpl is usable, else -1 with the reason in err. */
int vms_segpath_check(const char *tmpl, char *err, size_t errlen);

/* Expand tmpl for camera path and UTC time t_us into out.  Returns the
 * length written, or -1 when the template is invalid or out is too small. */
int vms_segpath_expand(const char *tmpl, const char *path, int64_t t_us,
    char *out, size_t outlen);

/* The part of an expanded path below the camera directory: expanded minus
 * its leading "{path}/".  NULL when expanded does not start with it. */
const char *vms_segpath_relative(const char *expanded, const char *path);

/*
 * Inverse of expand (for camera path) for a path relative to the camera directory (the
 * template minus its "%path/"), without the extension: recovers the UTC time
 * the template encodes.  Precision is what the template holds (%s or
 * %Y..%S: seconds, plus %f: microseconds).  Returns 0, or -1 when rel does
 * not match the template or the template holds no complete time.
 */
int vms_segpath_parse(const char *tmpl, const char *path, const char *rel,
    int64_t *t_us);

#endif /* VMS_SEGPATH_H */
