/* GCRA arithmetic; contract in vms_gcra.h. */

#include "vms_gcra.h"

#define VMS_GCRA_MAX_LIMIT   1000000000LL
#define VMS_GCRA_MAX_PERIOD  (366LL * 86400 * 1000000)


int
vms_gcra_init(vms_gcra_t *g, int64_t limit, int64_t period_us, int64_t burst)
{
    if (limit < 1 || limit > VMS_GCRA_MAX_LIMIT
        || period_us < 1 || period_us > VMS_GCRA_MAX_PERIOD
        || burst < 1 || burst > VMS_GCRA_MAX_LIMIT)
    {
        return -1;
    }

    g->limit = limit;
    g->period_us = period_us;
    g->burst = burst;
    g->interval_us = period_us / limit;
    if (g->interval_us < 1) {
        g->interval_us = 1;
    }

    return 0;
}


void
vms_gcra_check(const vms_gcra_t *g, int64_t tat_us, int64_t now_us,
    vms_gcra_result_t *res)
{
    int64_t  tat, new_tat, allow_at;

    tat = tat_us > now_us ? tat_us : now_us;
    new_tat = tat + g->interval_us;
    allow_at = new_tat - g->burst * g->interval_us;

    if (now_us < allow_at) {
        res->allowed = 0;
        res->tat_us = tat_us;
        res->remaining = 0;
        res->retry_after_us = allow_at - now_us;
        res->reset_us = tat - now_us;
        return;
    }

    res->allowed = 1;
    res->tat_us = new_tat;
    res->remaining = (now_us - allow_at) / g->interval_us;
    res->retry_after_us = 0;
    res->reset_us = new_tat - now_us;
}


int64_t
vms_gcra_seconds(int64_t us, int64_t min)
{
    int64_t  s;

    s = us <= 0 ? 0 : (us + 999999) / 1000000;

    return s < min ? min : s;
}


int
vms_rate_parse(const char *s, size_t len, int64_t *limit, int64_t *period_us)
{
    size_t   i;
    int64_t  n, count, mult, unit;

    count = 0;
    for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        count = count * 10 + (s[i] - '0');
        if (count > VMS_GCRA_MAX_LIMIT) {
            return -1;
        }
    }

    if (i == 0 || count < 1 || i == len || s[i] != '/') {
        return -1;
    }
    i++;

    n = 0;
    mult = 1;
    if (i < len && s[i] >= '0' && s[i] <= '9') {
        for ( ; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            n = n * 10 + (s[i] - '0');
            if (n > 1000000) {
                return -1;
            }
        }
        if (n < 1) {
            return -1;
        }
        mult = n;
    }

    if (len - i == 2 && s[i] == 'm' && s[i + 1] == 's') {
        unit = 1000;
    } else if (len - i == 1 && s[i] == 's') {
        unit = 1000000;
    } else if (len - i == 1 && s[i] == 'm') {
        unit = 60LL * 1000000;
    } else if (len - i == 1 && s[i] == 'h') {
        unit = 3600LL * 1000000;
    } else if (len - i == 1 && s[i] == 'd') {
        unit = 86400LL * 1000000;
    } else {
        return -1;
    }

    if (mult * unit > VMS_GCRA_MAX_PERIOD) {
        return -1;
    }

    *limit = count;
    *period_us = mult * unit;
    return 0;
}
