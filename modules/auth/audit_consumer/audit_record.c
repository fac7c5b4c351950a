/* Audit record parsing; see audit_record.h. */
#include <stdio.h>
#include <string.h>

#include "audit_record.h"

static int
opt_str(json_t *doc, const char *name, const char **out)
{
    json_t *v = json_object_get(doc, name);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!json_is_string(v)) {
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

/* RFC 3339 UTC as we write it: 2026-11-24T01:02:03[.fff]Z */
static int
ts_valid(const char *s)
{
    int y, mo, d, h, mi, se, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n != 19) {
        return 0;
    }
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9')) {
            return 0;
        }
        while (*p >= '0' && *p <= '9') {
            p++;
        }
    }
    return p[0] == 'Z' && p[1] == '\0' && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60
           && se < 61;
}

int
vms_audit_record_parse(vms_audit_record_t *a, const char *text, size_t len, const char **why)
{
    memset(a, 0, sizeof(*a));
    a->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(a->doc)) {
        *why = "not a JSON object";
        goto fail;
    }
    const char *type = json_string_value(json_object_get(a->doc, "type"));
    if (type == NULL || strcmp(type, "audit") != 0) {
        *why = "type is not \"audit\"";
        goto fail;
    }
    if (opt_str(a->doc, "id", &a->id) || opt_str(a->doc, "user", &a->user)
        || opt_str(a->doc, "action", &a->action) || opt_str(a->doc, "resource", &a->resource)
        || opt_str(a->doc, "ts", &a->ts) || opt_str(a->doc, "ip", &a->ip)
        || opt_str(a->doc, "trace_id", &a->trace_id) || opt_str(a->doc, "tenant_id", &a->tenant_id)) {
        *why = "a field has the wrong type";
        goto fail;
    }
    json_t *st = json_object_get(a->doc, "status");
    if (a->id == NULL || strlen(a->id) == 0 || strlen(a->id) > 64 || a->action == NULL
        || a->resource == NULL || a->ts == NULL || !json_is_integer(st)) {
        *why = "id, action, resource, status and ts are required";
        goto fail;
    }
    if (!ts_valid(a->ts)) {
        *why = "ts is not RFC 3339 UTC";
        goto fail;
    }
    json_int_t s = json_integer_value(st);
    if (s < 0 || s > 999) {
        *why = "status out of range";
        goto fail;
    }
    a->status = (int) s;
    snprintf(a->status_text, sizeof(a->status_text), "%d", a->status);
    return 0;
fail:
    json_decref(a->doc);
    a->doc = NULL;
    return -1;
}

void
vms_audit_record_free(vms_audit_record_t *a)
{
    json_decref(a->doc);
    a->doc = NULL;
}
