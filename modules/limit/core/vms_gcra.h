/*
 * GCRA (generic cell rate algorithm) arithmetic, nginx-free.
 *
 * A limit of `limit` requests per `period` with `burst` requests allowed at
 * once: emission interval T = period / limit, and a request at time `now` is
 * allowed when now >= TAT + T - burst * T, where TAT is the stored
 * "theoretical arrival time" (never earlier than now).  With burst == limit,
 * a fresh key admits exactly `limit` requests at once and then one every T,
 * so the (limit+1)-th request inside one period is refused.
 *
 * The same arithmetic runs in Redis (the Lua in ngx_http_vms_limit_scripts.h)
 * and in the shared-memory zone; this file is the reference, unit-tested.
 * Times are microseconds; all values fit int64 for centuries.
 */

#ifndef VMS_GCRA_H
#define VMS_GCRA_H

#include <stdint.h>
#include <stddef.h>

typedef struct {
    int64_t  limit;        /* requests per period (>= 1) */
    int64_t  period_us;    /* period length */
    int64_t  burst;        /* requests allowed at once (>= 1) */
    int64_t  interval_us;  /* T = period / limit, at least 1 */
} vms_gcra_t;

typedef struct {
    int      allowed;
    int64_t  tat_us;          /* TAT to store (== input TAT when refused) */
    int64_t  remaining;       /* requests still allowed right now */
    int64_t  retry_after_us;  /* refused: wait this long for one request */
    int64_t  reset_us;        /* until the burst is fully available again */
} vms_gcra_result_t;

/* Returns 0, or -1 when an argument is out of range. */
int vms_gcra_init(vms_gcra_t *g, int64_t limit, int64_t period_us, int64_t burst);

/* `tat_us` is the stored TAT, or 0 for a key never seen (or expired). */
void vms_gcra_check(const vms_gcra_t *g, int64_t tat_us, int64_t now_us,
    vms_gcra_result_t *res);

/* Whole seconds for Retry-After / RateLimit-Reset: rounded up, at least
 * `min` (Retry-After must never say 0 when a retry now would fail). */
int64_t vms_gcra_seconds(int64_t us, int64_t min);

/*
 * Parses a rate "COUNT/PERIOD": "100/m", "100/1m", "10/s", "5/30s",
 * "1000/h", "2/500ms".  Returns 0 or -1 (and leaves outputs untouched).
 */
int vms_rate_parse(const char *s, size_t len, int64_t *limit, int64_t *period_us);

#endif /* VMS_GCRA_H */
