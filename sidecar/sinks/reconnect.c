#include "reconnect.h"
#include "util.h"

#include <string.h>

void
vms_reconnect_init(vms_reconnect_t *r, int (*connect)(void),
    int64_t first_ms, int64_t max_ms)
{
    int64_t  d = first_ms;

    memset(r, 0, sizeof(*r));
    r->connect = connect;
    while (r->conf.nschedule < VMS_BACKOFF_MAX_STEPS) {
        r->conf.schedule_ms[r->conf.nschedule++] = d < max_ms ? d : max_ms;
        if (d >= max_ms) {
            break;
        }
        d *= 2;
    }
}

int
vms_reconnect(vms_reconnect_t *r, vms_queue_t *q)
{
    if (vms_mono_us() < r->retry_at_us) {
        vms_queue_peek(q, 100);
        return 0;
    }
    if (r->connect() != 0) {
        r->failures++;
        r->retry_at_us = vms_mono_us()
                         + vms_backoff_delay_ms(&r->conf, r->failures, 0)
                           * 1000;
        return 0;
    }
    r->failures = 0;
    return 1;
}
