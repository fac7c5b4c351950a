/*
 * The review API's request parameters (docs/events.md, "Review API"): times, camera lists, the
 * token's camera scope (X-VMS-Cameras), event ids and page cursors.  Pure functions: unit-tested
 * and fuzzed (tests/fuzz/fuzz_review_query.c).
 */
#ifndef VMS_REVIEW_QUERY_H
#define VMS_REVIEW_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "vms_camera_id.h"

#define RQ_CAMERAS_MAX  64      /* cameras in one camera= list */
#define RQ_ID_MAX       128     /* characters of an event id */

typedef struct {
    char    v[RQ_CAMERAS_MAX][VMS_CAMERA_ID_MAX + 1];
    size_t  n;
} rq_cameras_t;

/* RFC 3339 ("2026-12-03T10:00:05.123Z", "+01:00" offsets) or unix seconds ("1796350000.5") to
 * microseconds since the epoch; 0 or -1 */
int rq_time(const char *s, int64_t *us);
/* "2026-12-03T10:00:05.123Z" (milliseconds); out >= 32 bytes */
void rq_time_format(int64_t us, char *out, size_t len);
/* "a,b,c": 1..RQ_CAMERAS_MAX valid ids (vms_camera_id_valid); 0 or -1 */
int rq_cameras(const char *s, rq_cameras_t *out);
/* X-VMS-Cameras: "*" every camera, "-" or NULL none, else a comma list; 1 when camera is in it */
int rq_scope_allows(const char *scope, const char *camera);
/* ids the consumer makes: [A-Za-z0-9._:-]{1,128} */
int rq_id_ok(const char *s);
/* opaque page cursor: base64url of "<start_us>.<id>"; out >= 256 bytes */
void rq_cursor_encode(int64_t start_us, const char *id, char *out, size_t len);
int rq_cursor_decode(const char *s, int64_t *start_us, char *id, size_t idlen);

#endif
