/* Concurrent-stream lease arithmetic; contract in vms_lease.h. */

#include <stdio.h>
#include <string.h>

#include "vms_lease.h"


uint32_t
vms_lease_expire(vms_lease_set_t *s, int64_t now_us)
{
    uint32_t  i, j;

    for (i = 0, j = 0; i < s->n; i++) {
        if (s->v[i].expires_us > now_us) {
            s->v[j++] = s->v[i];
        }
    }
    s->n = j;

    return j;
}


static int
vms_lease_find(const vms_lease_set_t *s, uint64_t session)
{
    uint32_t  i;

    for (i = 0; i < s->n; i++) {
        if (s->v[i].session == session) {
            return (int) i;
        }
    }

    return -1;
}


void
vms_lease_acquire(vms_lease_set_t *s, uint64_t session, int64_t now_us,
    int64_t ttl_us, int64_t limit, vms_lease_result_t *res)
{
    uint64_t  from;

    vms_lease_acquire_handover(s, session, 0, 0, now_us, ttl_us, limit, res,
                               &from);
}


void
vms_lease_acquire_handover(vms_lease_set_t *s, uint64_t session,
    uint64_t handover, int64_t window_us, int64_t now_us, int64_t ttl_us,
    int64_t limit, vms_lease_result_t *res, uint64_t *from)
{
    int       i;
    uint32_t  k;
    int64_t   cap, earliest;

    vms_lease_expire(s, now_us);

    res->limit = limit;
    res->retry_after_us = 0;
    *from = 0;

    i = vms_lease_find(s, session);
    if (i >= 0) {
        s->v[i].expires_us = now_us + ttl_us;
        res->outcome = VMS_LEASE_RENEWED;
        res->active = s->n;
        return;
    }

    if (handover != 0) {
        for (k = 0; k < s->n; k++) {
            if (s->v[k].handover == handover
                && s->v[k].handover_until_us > now_us)
            {
                *from = s->v[k].session;
                s->v[k].session = session;
                s->v[k].expires_us = now_us + ttl_us;
                s->v[k].handover = 0;
                res->outcome = VMS_LEASE_RENEWED;
                res->active = s->n;
                return;
            }
        }
    }

    cap = limit < VMS_LEASE_MAX ? limit : VMS_LEASE_MAX;

    if ((int64_t) s->n >= cap) {
        earliest = s->n ? s->v[0].expires_us : now_us;
        for (k = 1; k < s->n; k++) {
            if (s->v[k].expires_us < earliest) {
                earliest = s->v[k].expires_us;
            }
        }
        res->outcome = VMS_LEASE_REFUSED;
        res->active = s->n;
        res->retry_after_us = earliest - now_us;
        return;
    }

    s->v[s->n].session = session;
    s->v[s->n].expires_us = now_us + ttl_us;
    s->v[s->n].handover = handover;
    s->v[s->n].handover_until_us = handover ? now_us + window_us : 0;
    s->n++;

    res->outcome = VMS_LEASE_ADMITTED;
    res->active = s->n;
}


int
vms_lease_renew(vms_lease_set_t *s, uint64_t session, int64_t now_us,
    int64_t ttl_us)
{
    int  i;

    vms_lease_expire(s, now_us);

    i = vms_lease_find(s, session);
    if (i < 0) {
        return 0;
    }

    s->v[i].expires_us = now_us + ttl_us;
    return 1;
}


int
vms_lease_touch(vms_lease_set_t *s, uint64_t session, int64_t now_us,
    int64_t ttl_us, int64_t every_us)
{
    int  i;

    vms_lease_expire(s, now_us);

    i = vms_lease_find(s, session);
    if (i < 0) {
        return 0;
    }

    /* expiry = last renewal + ttl */
    if (s->v[i].expires_us - ttl_us + every_us > now_us) {
        return 1;
    }

    s->v[i].expires_us = now_us + ttl_us;
    return 2;
}


int
vms_lease_release(vms_lease_set_t *s, uint64_t session)
{
    int  i;

    i = vms_lease_find(s, session);
    if (i < 0) {
        return 0;
    }

    s->v[i] = s->v[s->n - 1];
    s->n--;
    return 1;
}


int64_t
vms_lease_limit(int64_t plan_limit, int64_t claim, int64_t admin)
{
    if (admin >= 0) {
        return admin;
    }

    if (claim >= 0) {
        return claim;
    }

    return plan_limit;
}


int64_t
vms_lease_parse_limit(const char *s, size_t len)
{
    size_t   i;
    int64_t  v;

    if (len == 0 || len > 9) {
        return -1;
    }

    v = 0;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }

    return v;
}


int64_t
vms_plan_limit(const vms_plan_t *plans, size_t n, size_t dflt,
    const char *name, size_t len)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        if (plans[i].len == len && memcmp(plans[i].name, name, len) == 0) {
            return plans[i].max;
        }
    }

    return dflt < n ? plans[dflt].max : 0;
}


size_t
vms_lease_exceeded_json(char *buf, size_t size, int64_t limit, int64_t active)
{
    int  n;

    n = snprintf(buf, size,
                 "{\"error\":\"limit_exceeded\","
                 "\"message\":\"Limite de %lld streams atingido\","
                 "\"limit\":%lld,\"active\":%lld}\n",
                 (long long) limit, (long long) limit, (long long) active);

    if (n < 0) {
        return 0;
    }

    return (size_t) n < size ? (size_t) n : size - 1;
}


uint64_t
vms_lease_hash(const char *s, size_t len)
{
    size_t    i;
    uint64_t  h = 14695981039346656037ULL;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char) s[i];
        h *= 1099511628211ULL;
    }

    return h;
}
