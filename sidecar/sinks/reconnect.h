/*
 * The connection of a writer thread (pg.c, rstore.c) to its peer: connect
 * when there is none; after a failure wait before the next attempt, the
 * wait doubling from first_ms up to max_ms (base/backoff.h, no jitter); a
 * success resets it.  While waiting, the thread sleeps on its queue, so a
 * stop request (vms_queue_kick) is seen within 100 ms.
 */

#ifndef VMS_RECONNECT_H
#define VMS_RECONNECT_H

#include <stdint.h>

#include "backoff.h"
#include "queue.h"

typedef struct {
    int                (*connect)(void);  /* 0, or -1 having logged why */
    vms_backoff_conf_t   conf;
    int                  failures;        /* since the last success */
    int64_t              retry_at_us;     /* vms_mono_us() */
} vms_reconnect_t;

void vms_reconnect_init(vms_reconnect_t *r, int (*connect)(void),
    int64_t first_ms, int64_t max_ms);

/* For the writer loop while it has no connection: 1 when connected now;
 * 0 when not (waiting, or the attempt failed): loop again. */
int vms_reconnect(vms_reconnect_t *r, vms_queue_t *q);

#endif /* VMS_RECONNECT_H */
