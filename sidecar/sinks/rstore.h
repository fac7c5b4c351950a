/*
 * Redis writer: one thread owns a synchronous hiredis connection (fine in
 * vmsd, never on a camera thread); any thread queues commands without
 * blocking.  Commands run in order; while Redis is unreachable they wait
 * (reconnect with capped backoff), bounded by redis_queue_max (refused,
 * logged and counted in vms_redis_dropped_total beyond).
 *
 * Keys written by vmsd (docs/vmsd.md):
 *   vms:camera:{id}:status   online | connecting | reconnecting | offline
 *   vms:snapshot:{id}        JPEG bytes, TTL snapshot_ttl
 */

#ifndef VMS_RSTORE_H
#define VMS_RSTORE_H

#include <stddef.h>
#include <stdint.h>

/* addr "host:port" or "unix:/path"; NULL: Redis off. */
int vms_redis_start(const char *addr, const char *password, int64_t queue_max);
void vms_redis_stop(void);

/* SET key value [PX ttl_ms]; ttl_ms 0 keeps it.  0 queued, -1 refused. */
int vms_redis_set(const char *key, const void *value, size_t len,
    int64_t ttl_ms);
/* Any command, binary-safe arguments (copied). */
int vms_redis_command(int argc, const char **argv, const size_t *argvlen);

typedef struct {
    int       enabled;
    int       connected;
    int64_t   queued;
} vms_redis_stats_t;

void vms_redis_stats(vms_redis_stats_t *st);

#endif /* VMS_RSTORE_H */
