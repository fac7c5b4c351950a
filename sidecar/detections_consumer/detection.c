/* DetectionResult parsing (see detection.h). */
#include "detection.h"
#include "pb_time.h"

#include <ctype.h>
#include <string.h>

static int
id_ok(const char *s, size_t max, int camera)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if (!(isalnum(c) || c == '_' || c == '-' || (!camera && (c == '.' || c == ':')))) {
            return 0;
        }
    }
    return 1;
}

/* RFC 3339 with its zone (a time without one is ambiguous here), read by the one parser of
 * the tree (pb_time_parse, modules/playback/core/pb_time.h), at or after 1970. */
int
vms_rfc3339_us(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    int zoned = n > 0 && (s[n - 1] == 'Z' || s[n - 1] == 'z'
                          || (n > 6 && (s[n - 6] == '+' || s[n - 6] == '-') && s[n - 3] == ':'));
    return zoned && pb_time_parse(s, n, out) == 0 && *out >= 0 ? 0 : -1;
}

static const char *
str_field(json_t *o, const char *k, int required, size_t max, const char **why, const char *msg)
{
    json_t *v = json_object_get(o, k);
    if (v == NULL || json_is_null(v)) {
        if (required) {
            *why = msg;
        }
        return NULL;
    }
    if (!json_is_string(v) || json_string_length(v) > max) {
        *why = msg;
        return NULL;
    }
    return json_string_value(v);
}

static int
num_field(json_t *o, const char *k, double *out)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_number(v)) {
        return -1;
    }
    *out = json_number_value(v);
    return 0;
}

int
vms_detection_parse(vms_detection_t *d, const char *text, size_t len, const char **why)
{
    json_error_t je;
    memset(d, 0, sizeof(*d));
    *why = NULL;
    d->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (d->doc == NULL || !json_is_object(d->doc)) {
        *why = "not a JSON object";
        return VMS_DET_BAD;
    }
    json_t *type = json_object_get(d->doc, "type");
    if (!json_is_string(type)) {
        *why = "type missing";
        return VMS_DET_BAD;
    }
    if (strcmp(json_string_value(type), "detection") != 0) {
        return VMS_DET_OTHER;
    }
    d->id = str_field(d->doc, "id", 1, 200, why, "id missing or not a string");
    if (*why == NULL && !id_ok(d->id, 200, 0)) {
        *why = "id has characters outside [A-Za-z0-9_.:-]";
    }
    if (*why == NULL) {
        d->camera_id = str_field(d->doc, "camera_id", 1, 64, why, "camera_id missing");
    }
    if (*why == NULL && !id_ok(d->camera_id, 64, 1)) {
        *why = "camera_id is not a camera id";
    }
    if (*why == NULL) {
        d->ts = str_field(d->doc, "ts", 1, 64, why, "ts missing");
    }
    if (*why == NULL && vms_rfc3339_us(d->ts, &d->ts_us) < 0) {
        *why = "ts is not an RFC 3339 time";
    }
    if (*why == NULL) {
        d->label = str_field(d->doc, "label", 1, 200, why, "label missing");
    }
    if (*why == NULL && d->label[0] == '\0') {
        *why = "label is empty";
    }
    if (*why == NULL && (num_field(d->doc, "confidence", &d->confidence) < 0
                         || !(d->confidence >= 0 && d->confidence <= 1))) {
        *why = "confidence missing or not in 0..1";
    }
    if (*why == NULL) {
        d->kind = str_field(d->doc, "kind", 0, 16, why, "kind is not a string");
        if (d->kind == NULL && *why == NULL) {
            d->kind = "label";
        }
    }
    if (*why == NULL && strcmp(d->kind, "label") && strcmp(d->kind, "face") && strcmp(d->kind, "text")) {
        *why = "kind is not label, face or text";
    }
    if (*why == NULL) {
        d->provider = str_field(d->doc, "provider", 0, 64, why, "provider is not a string");
        if (d->provider == NULL && *why == NULL) {
            d->provider = "unknown";
        }
    }
    if (*why == NULL) {
        d->snapshot = str_field(d->doc, "snapshot", 0, 1024, why, "snapshot is not a string");
    }
    if (*why == NULL) {
        d->trace_id = str_field(d->doc, "trace_id", 0, 64, why, "trace_id is not a string");
    }
    json_t *bbox = json_object_get(d->doc, "bbox");
    if (*why == NULL && bbox != NULL && !json_is_null(bbox)) {
        if (!json_is_object(bbox) || num_field(bbox, "x", &d->bx) || num_field(bbox, "y", &d->by)
            || num_field(bbox, "width", &d->bw) || num_field(bbox, "height", &d->bh)
            || d->bw < 0 || d->bh < 0 || d->bx < -1e6 || d->by < -1e6 || d->bx > 1e6 || d->by > 1e6
            || d->bw > 1e6 || d->bh > 1e6) {
            *why = "bbox is not {x,y,width,height} in pixels";
        }
        d->has_bbox = *why == NULL;
    }
    json_t *frame = json_object_get(d->doc, "frame");
    if (*why == NULL && frame != NULL && !json_is_null(frame)) {
        if (!json_is_object(frame) || num_field(frame, "width", &d->fw)
            || num_field(frame, "height", &d->fh) || d->fw < 1 || d->fh < 1 || d->fw > 1e6 || d->fh > 1e6) {
            *why = "frame is not {width,height}";
        }
        d->has_frame = *why == NULL;
    }
    json_t *attrs = json_object_get(d->doc, "attributes");
    if (*why == NULL && attrs != NULL && !json_is_null(attrs) && !json_is_object(attrs)) {
        *why = "attributes is not an object";
    }
    return *why == NULL ? VMS_DET_OK : VMS_DET_BAD;
}

void
vms_detection_free(vms_detection_t *d)
{
    json_decref(d->doc);
    d->doc = NULL;
}
