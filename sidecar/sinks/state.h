/*
 * What vmsd tells the rest of the system about its cameras and recordings,
 * and the one place that spells where: Redis keys (docs/vmsd.md "Redis
 * keys") and PostgreSQL rows (docs/vmsd.md "PostgreSQL").  Callers say what
 * happened; the key formats and the SQL live in state.c.  Every call queues
 * (rstore.h, pg.h): none blocks the caller.
 */
#ifndef VMS_STATE_H
#define VMS_STATE_H

#include <stddef.h>
#include <stdint.h>

/* vms:camera:{id}:status = status (online | connecting | reconnecting | offline | removed …) */
void vms_state_camera_status(const char *id, const char *status);

/* vms:snapshot:{id} = the JPEG, expiring after ttl_ms (0: kept) */
void vms_state_snapshot(const char *id, const void *jpeg, size_t len, int64_t ttl_ms);

/* cameras row: inserted, or updated to these settings */
void vms_state_camera_row(const char *id, int enabled, int record, int64_t retention_days);

/* recordings row of a closed segment (start and end RFC 3339, bytes in decimal); a repeat of
 * the same (camera, start) is ignored */
void vms_state_recording_row(const char *id, const char *start, const char *end, const char *path,
    const char *bytes);

/* ai_costs row of the day of ts_us (UTC): the calls and their cost added to it */
void vms_state_ai_cost_row(const char *id, int64_t ts_us, const char *provider, const char *api,
    int calls, double usd);

#endif /* VMS_STATE_H */
