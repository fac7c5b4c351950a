#include "backoff.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

int64_t
vms_backoff_delay_ms(const vms_backoff_conf_t *conf, int attempt, uint32_t rnd)
{
    int64_t  base, span, off;
    int      i;

    if (conf->nschedule <= 0) {
        return 0;
    }
    i = attempt < 1 ? 0 : attempt - 1;
    if (i >= conf->nschedule) {
        i = conf->nschedule - 1;
    }
    base = conf->schedule_ms[i];
    if (conf->jitter_pct <= 0) {
        return base;
    }
    /* rnd -> [-span, +span] */
    span = base * conf->jitter_pct / 100;
    off = (int64_t) (rnd % (uint32_t) (2 * span + 1)) - span;
    return base + off;
}

int
vms_backoff_parse_schedule(vms_backoff_conf_t *conf, const char *s)
{
    char     tmp[512], *tok, *save = NULL;
    int      n = 0;
    int64_t  ms;

    if (strlen(s) >= sizeof(tmp)) {
        return -1;
    }
    memcpy(tmp, s, strlen(s) + 1);
    for (tok = strtok_r(tmp, ", ", &save); tok != NULL;
         tok = strtok_r(NULL, ", ", &save))
    {
        if (n == VMS_BACKOFF_MAX_STEPS || vms_parse_duration_ms(tok, &ms) != 0
            || ms <= 0)
        {
            return -1;
        }
        conf->schedule_ms[n++] = ms;
    }
    if (n == 0) {
        return -1;
    }
    conf->nschedule = n;
    return 0;
}

void
vms_backoff_init(vms_backoff_t *b)
{
    memset(b, 0, sizeof(*b));
}

void
vms_backoff_connected(vms_backoff_t *b, int64_t now_ms)
{
    b->connected_at_ms = now_ms;
    b->offline = 0;
}

int
vms_backoff_tick(vms_backoff_t *b, const vms_backoff_conf_t *conf,
    int64_t now_ms)
{
    if (b->connected_at_ms == 0 || b->failures == 0) {
        return 0;
    }
    if (now_ms - b->connected_at_ms >= conf->healthy_ms) {
        b->failures = 0;
        return 1;
    }
    return 0;
}

vms_backoff_action_e
vms_backoff_failed(vms_backoff_t *b, const vms_backoff_conf_t *conf,
    int64_t now_ms, uint32_t rnd, int64_t *delay_ms)
{
    vms_backoff_tick(b, conf, now_ms);
    b->connected_at_ms = 0;
    if (b->offline) {
        return VMS_BACKOFF_PROBE;
    }
    b->failures++;
    if (b->failures > conf->max_attempts) {
        b->offline = 1;
        return VMS_BACKOFF_OFFLINE;
    }
    *delay_ms = vms_backoff_delay_ms(conf, b->failures, rnd);
    return VMS_BACKOFF_RETRY;
}
