/* Redis keys and PostgreSQL rows vmsd writes (see state.h). */
#include "state.h"
#include "pg.h"
#include "rstore.h"

#include <stdio.h>
#include <string.h>

void
vms_state_camera_status(const char *id, const char *status)
{
    char key[128];
    snprintf(key, sizeof(key), "vms:camera:%s:status", id);
    vms_redis_set(key, status, strlen(status), 0);
}

void
vms_state_snapshot(const char *id, const void *jpeg, size_t len, int64_t ttl_ms)
{
    char key[128];
    snprintf(key, sizeof(key), "vms:snapshot:%s", id);
    vms_redis_set(key, jpeg, len, ttl_ms);
}

void
vms_state_camera_row(const char *id, int enabled, int record, int64_t retention_days)
{
    char days[32];
    snprintf(days, sizeof(days), "%lld", (long long) retention_days);
    const char *p[4] = { id, enabled ? "true" : "false", record ? "true" : "false", days };
    vms_pg_exec_async("INSERT INTO cameras (id, enabled, record, retention_days, updated_at)"
                      " VALUES ($1, $2::boolean, $3::boolean, $4::integer, now())"
                      " ON CONFLICT (id) DO UPDATE SET enabled = EXCLUDED.enabled,"
                      " record = EXCLUDED.record, retention_days = EXCLUDED.retention_days,"
                      " updated_at = now()", 4, p);
}

void
vms_state_recording_row(const char *id, const char *start, const char *end, const char *path,
    const char *bytes)
{
    const char *p[5] = { id, start, end, path, bytes };
    vms_pg_exec_async("INSERT INTO recordings (camera_id, start_time, end_time, path, bytes)"
                      " VALUES ($1, $2::timestamptz, $3::timestamptz, $4, $5::bigint)"
                      " ON CONFLICT (camera_id, start_time) DO NOTHING", 5, p);
}

void
vms_state_ai_cost_row(const char *id, int64_t ts_us, const char *provider, const char *api,
    int calls, double usd)
{
    char ts[32], n[16], c[32];
    snprintf(ts, sizeof(ts), "%lld", (long long) (ts_us / 1000000));
    snprintf(n, sizeof(n), "%d", calls);
    snprintf(c, sizeof(c), "%.6f", usd);
    const char *p[6] = { id, ts, provider, api, n, c };
    vms_pg_exec_async("INSERT INTO ai_costs (camera_id, day, provider, api, calls, cost_usd)"
                      " VALUES ($1, (to_timestamp($2::double precision) AT TIME ZONE 'UTC')"
                      "::date, $3, $4, $5::bigint, $6::numeric)"
                      " ON CONFLICT (camera_id, day, provider, api) DO UPDATE SET"
                      " calls = ai_costs.calls + EXCLUDED.calls,"
                      " cost_usd = ai_costs.cost_usd + EXCLUDED.cost_usd, updated_at = now()",
                      6, p);
}
