/*
 * Reconnection policy of one camera, pure arithmetic (unit-tested):
 * capped schedule with jitter, offline after max_attempts failed attempts,
 * reset after a healthy period of streaming.
 *
 *   attempt k (1-based) waits schedule[min(k, n) - 1] ± jitter before it
 *   starts.  After max_attempts failures in a row the camera is offline and
 *   is probed every probe interval instead.  The count of failures resets
 *   only when a connection stayed up for the healthy period, so a camera that
 *   connects and drops at once still backs off and ends offline.
 */

#ifndef VMS_BACKOFF_H
#define VMS_BACKOFF_H

#include <stdint.h>

#define VMS_BACKOFF_MAX_STEPS  16

typedef struct {
    int64_t  schedule_ms[VMS_BACKOFF_MAX_STEPS];
    int      nschedule;
    int      jitter_pct;      /* delay is scaled by 1 ± jitter_pct/100 */
    int      max_attempts;    /* failures before offline */
    int64_t  healthy_ms;      /* streaming this long resets the count */
} vms_backoff_conf_t;

typedef struct {
    int      failures;        /* lost connection + failed attempts since the
                                 last healthy period; the next attempt is
                                 number `failures` */
    int      offline;
    int64_t  connected_at_ms; /* 0 when not connected */
} vms_backoff_t;

typedef enum {
    VMS_BACKOFF_RETRY = 0,    /* wait delay, then try again */
    VMS_BACKOFF_OFFLINE,      /* just went offline: emit camera.offline */
    VMS_BACKOFF_PROBE,        /* already offline: keep probing */
} vms_backoff_action_e;

/* Delay before attempt number `attempt` (1-based).  rnd: any 32-bit random
 * value, mapped onto [-jitter, +jitter]. */
int64_t vms_backoff_delay_ms(const vms_backoff_conf_t *conf, int attempt,
    uint32_t rnd);

/* Parse "5s,10s,30s,60s" into conf->schedule_ms.  0 or -1. */
int vms_backoff_parse_schedule(vms_backoff_conf_t *conf, const char *s);

void vms_backoff_init(vms_backoff_t *b);

/* A connection is up (first packet received); now in ms (monotonic). */
void vms_backoff_connected(vms_backoff_t *b, int64_t now_ms);

/* While connected: resets the failure count once healthy.  Returns 1 when
 * it reset just now. */
int vms_backoff_tick(vms_backoff_t *b, const vms_backoff_conf_t *conf,
    int64_t now_ms);

/* A connection attempt failed or a connection ended.  *delay_ms receives the
 * wait before the next attempt (RETRY only). */
vms_backoff_action_e vms_backoff_failed(vms_backoff_t *b,
    const vms_backoff_conf_t *conf, int64_t now_ms, uint32_t rnd,
    int64_t *delay_ms);

#endif /* VMS_BACKOFF_H */
