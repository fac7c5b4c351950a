/* Alert receivers: see receivers.h. */
#include "receivers.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../consumer_common/jcheck.h"
#include "../consumer_common/svc.h"

static const char *fields[] = { "name", "url", "kinds", "min_severity", "timeout", "retries", "headers_file",
                                NULL };
static const char *kind_names[VMS_ALERT_KINDS] = { "detection", "camera.offline", "camera.online",
                                                   "stream.frozen" };
static const char *severity_names[] = { "info", "warning", "critical" };

int
vms_alert_kind(const char *name)
{
    for (int i = 0; name && i < VMS_ALERT_KINDS; i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

int
vms_severity(const char *name)
{
    for (int i = 0; name && i < 3; i++) {
        if (strcmp(name, severity_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static void
receiver_load(vms_errs_t *e, size_t idx, json_t *o, void *item, json_t *seen)
{
    vms_receiver_t *r = item;
    char where[120];
    const char *name = json_string_value(json_object_get(o, "name"));
    if (name && vms_name_ok(name, 64, "_-")) {
        snprintf(where, sizeof(where), "receivers[%zu] (\"%s\")", idx, name);
    } else {
        snprintf(where, sizeof(where), "receivers[%zu]", idx);
    }
    vms_unknown_fields(e, where, o, fields);
    if (name == NULL || !vms_name_ok(name, 64, "_-")) {
        vms_bad(e, "%s: name: 1..64 of A-Z a-z 0-9 _ - (it names the consumer group vms-alerts-NAME)", where);
    } else if (json_object_get(seen, name)) {
        vms_bad(e, "%s: name: duplicate", where);
    } else {
        json_object_set_new(seen, name, json_true());
        snprintf(r->name, sizeof(r->name), "%s", name);
    }
    const char *url = json_string_value(json_object_get(o, "url"));
    if (url == NULL || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        || strlen(url) > 2048 || strpbrk(url, " \r\n\t") != NULL || strlen(url) < 10) {
        vms_bad(e, "%s: url: must be http:// or https://, without spaces", where);
    } else {
        r->url = strdup(url);
    }
    json_t *kinds = json_object_get(o, "kinds");
    if (kinds == NULL) {
        r->kinds = (1u << VMS_ALERT_KINDS) - 1;
    } else if (!json_is_array(kinds) || json_array_size(kinds) == 0) {
        vms_bad(e, "%s: kinds: a non-empty list of detection, camera.offline, camera.online, stream.frozen", where);
    } else {
        size_t i;
        json_t *k;
        json_array_foreach(kinds, i, k) {
            int kind = vms_alert_kind(json_string_value(k));
            if (kind < 0) {
                vms_bad(e, "%s: kinds[%zu]: not one of detection, camera.offline, camera.online, stream.frozen",
                        where, i);
            } else {
                r->kinds |= 1u << kind;
            }
        }
    }
    json_t *sev = json_object_get(o, "min_severity");
    r->min_severity = sev ? vms_severity(json_string_value(sev)) : 0;
    if (r->min_severity < 0) {
        vms_bad(e, "%s: min_severity: info, warning or critical", where);
    }
    json_t *to = json_object_get(o, "timeout");
    r->timeout_ms = to ? (json_is_string(to) ? svc_duration_ms(json_string_value(to)) : -1) : 5000;
    if (r->timeout_ms < 100 || r->timeout_ms > 60000) {
        vms_bad(e, "%s: timeout: a duration from 100ms to 60s, such as \"5s\"", where);
    }
    json_t *re = json_object_get(o, "retries");
    if (re == NULL) {
        r->retries = 3;
    } else if (!json_is_integer(re) || json_integer_value(re) < 0 || json_integer_value(re) > 10) {
        vms_bad(e, "%s: retries: an integer 0..10", where);
    } else {
        r->retries = (int) json_integer_value(re);
    }
    json_t *hf = json_object_get(o, "headers_file");
    if (hf != NULL) {
        const char *path = json_string_value(hf);
        if (path == NULL || path[0] != '/') {
            vms_bad(e, "%s: headers_file: an absolute path", where);
        } else {
            r->headers_file = strdup(path);
        }
    }
}

int
vms_receivers_load(const char *text, size_t len, vms_receivers_t *out, char *err, size_t errlen)
{
    vms_errs_t e = VMS_ERRS(err, errlen);
    if (errlen) {
        err[0] = '\0';
    }
    out->v = vms_jcheck_list(text, len, "receivers", VMS_RECEIVERS_MAX, sizeof(*out->v), receiver_load,
                             &out->n, &e);
    if (e.n > 0) {
        vms_receivers_free(out);
        return -1;
    }
    return 0;
}

void
vms_receivers_free(vms_receivers_t *rs)
{
    for (size_t i = 0; rs->v && i < rs->n; i++) {
        free(rs->v[i].url);
        free(rs->v[i].headers_file);
    }
    free(rs->v);
    memset(rs, 0, sizeof(*rs));
}
