/*
 * Audit records as produced by vms_auth to Kafka vms.audit (and its fallback file):
 * {"schema":1,"type":"audit","id","user","action","resource","status","ts","ip","trace_id","tenant_id"}.
 * Parsing is strict about what the table needs (id, action, resource, status, ts) and lenient about
 * the optional fields (null or absent).
 */
#ifndef VMS_AUDIT_RECORD_H
#define VMS_AUDIT_RECORD_H

#include <stddef.h>
#include <jansson.h>

typedef struct {
    json_t      *doc;          /* owned */
    const char  *id, *user, *action, *resource, *ts, *ip, *trace_id, *tenant_id;
    int          status;
    char         status_text[8];
} vms_audit_record_t;

/* 0 or -1 with *why. */
int  vms_audit_record_parse(vms_audit_record_t *a, const char *text, size_t len, const char **why);
void vms_audit_record_free(vms_audit_record_t *a);

#endif
