/*
 * PostgreSQL writer: one thread owns the libpq connection; any thread queues
 * statements without blocking.
 *
 *   const char *p[] = { id, start, end, path, bytes };
 *   vms_pg_exec_async("INSERT INTO recordings … VALUES ($1, …)", 5, p);
 *
 * Statements run in queue order.  While the database is unreachable they
 * wait (the writer reconnects with a capped backoff); the queue is bounded
 * by postgres_queue_max, beyond which statements are refused, logged and
 * counted in vms_pg_dropped_total.  A statement the server rejects (SQL
 * error) is logged and dropped, never retried.  Make statements idempotent
 * (ON CONFLICT DO NOTHING): one interrupted by a connection loss is sent
 * again.  At shutdown the queue is drained for a bounded time; what is left
 * is logged and counted.
 */

#ifndef VMS_PG_H
#define VMS_PG_H

#include <stdint.h>

/* conninfo NULL: PostgreSQL off (statements are refused quietly). */
int vms_pg_start(const char *conninfo, const char *schema_file,
    int64_t queue_max);
void vms_pg_stop(int64_t drain_ms);

/* 0 queued, -1 refused (PostgreSQL off or queue full). */
int vms_pg_exec_async(const char *sql, int nparams, const char *const *params);

typedef struct {
    int       enabled;
    int       connected;
    int64_t   queued;
} vms_pg_stats_t;

void vms_pg_stats(vms_pg_stats_t *st);

#endif /* VMS_PG_H */
