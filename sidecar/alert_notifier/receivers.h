/*
 * Alert receivers (conf/alerts/receivers.json, docs/events.md "vms-alert-notifier"):
 * {"receivers":[{"name":"ops","url":"https://…","kinds":["detection","camera.offline"],
 *                "min_severity":"warning","timeout":"5s","retries":3,"headers_file":"/etc/vms/ops.headers"}]}
 * Loading checks everything and reports each problem with its place; a file with any error loads
 * nothing.  headers_file holds "Name: value" lines (secrets stay out of the config and the logs).
 */
#ifndef VMS_RECEIVERS_H
#define VMS_RECEIVERS_H

#include <stddef.h>

#define VMS_RECEIVERS_MAX   32
#define VMS_ALERT_KINDS     4          /* detection, camera.offline, camera.online, stream.frozen */

typedef struct {
    char      name[65];
    char     *url;
    unsigned  kinds;                 /* bit per vms_alert_kind() */
    int       min_severity;          /* vms_severity(): 0 info, 1 warning, 2 critical */
    long      timeout_ms;
    int       retries;
    char     *headers_file;          /* NULL: none */
} vms_receiver_t;

typedef struct {
    vms_receiver_t *v;
    size_t          n;
} vms_receivers_t;

/* 0, or -1 with err holding one line per problem ("receivers[1] (\"ops\"): url: …") */
int  vms_receivers_load(const char *text, size_t len, vms_receivers_t *out, char *err, size_t errlen);
void vms_receivers_free(vms_receivers_t *rs);
/* index of an alert kind name, or -1 */
int  vms_alert_kind(const char *name);
/* 0 info, 1 warning, 2 critical, -1 unknown */
int  vms_severity(const char *name);

#endif
