/*
 * A DetectionResult as vmsd produces it to vms.detections (docs/ai.md):
 * {"schema":1,"type":"detection","id","camera_id","ts","ts_us","provider","kind","label",
 *  "confidence","bbox":{x,y,width,height}|null,"attributes":{…},"snapshot":…|null,
 *  "frame":{width,height},"trace_id"}.
 * Parsing is strict about what PostgreSQL and the review events need (id, camera_id, ts,
 * label, confidence, kind) and about the shape of what is present; any other message type
 * parses as VMS_DET_OTHER (skipped, not an error).
 */
#ifndef VMS_DETECTION_H
#define VMS_DETECTION_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define VMS_DET_OK      0
#define VMS_DET_BAD    (-1)     /* malformed: *why says what */
#define VMS_DET_OTHER  (-2)     /* valid JSON of another type (ai.budget_exceeded ...) */

typedef struct {
    json_t      *doc;           /* owned */
    const char  *id, *camera_id, *ts, *label, *kind, *provider, *snapshot, *trace_id;
    int64_t      ts_us;         /* from ts (RFC 3339 UTC) */
    double       confidence;
    int          has_bbox, has_frame;
    double       bx, by, bw, bh;    /* source pixels */
    double       fw, fh;
} vms_detection_t;

int  vms_detection_parse(vms_detection_t *d, const char *text, size_t len, const char **why);
void vms_detection_free(vms_detection_t *d);

/* RFC 3339 time ("2026-11-24T01:02:03.456Z", "+03:00" offsets too) to unix µs; -1 if malformed. */
int  vms_rfc3339_us(const char *s, int64_t *out);

#endif
