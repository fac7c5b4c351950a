/*
 * Recording housekeeping glue; see recording.h.
 */

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reconcile.h"
#include "recording.h"
#include "retention.h"

static vms_retention_t *retention;
static char            *root;

int
vms_recording_start(const vms_config_t *cfg)
{
    vms_retention_conf_t rc;

    root = strdup(cfg->recordings);
    memset(&rc, 0, sizeof(rc));
    rc.root = cfg->recordings;
    rc.interval_ms = cfg->retention_interval_ms;
    rc.daily_at = cfg->retention_daily_at;
    rc.max_used_pct = cfg->disk_max_used_pct;
    rc.min_free_bytes = cfg->disk_min_free_bytes;
    retention = vms_retention_start(&rc);
    return root != NULL && retention != NULL ? 0 : -1;
}

void
vms_recording_camera(const vms_camera_conf_t *cc)
{
    if (root == NULL) {
        return;
    }
    vms_reconcile_camera(root, cc->id, cc->s.path_template,
                         VMS_RECONCILE_ORPHANS, NULL);
    if (retention != NULL) {
        vms_retention_camera(retention, cc->id, cc->s.retention_days);
    }
}

void
vms_recording_stop(void)
{
    vms_retention_stop(retention);
    retention = NULL;
    free(root);
    root = NULL;
}
