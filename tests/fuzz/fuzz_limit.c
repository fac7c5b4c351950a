/*
 * vms_limit core under random operation sequences: the rate-spec and claim
 * parsers never crash and return bounded values, and the GCRA and lease
 * arithmetic keep their invariants (never more admitted than the limit).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vms_gcra.h"
#include "vms_lease.h"

#define CHECK(c)  do { if (!(c)) abort(); } while (0)


static void
parsers(const uint8_t *d, size_t n)
{
    int64_t  limit = -1, period = -1, v;

    if (vms_rate_parse((const char *) d, n, &limit, &period) == 0) {
        CHECK(limit >= 1 && limit <= 1000000000LL);
        CHECK(period >= 1000 && period <= 366LL * 86400 * 1000000);
    } else {
        CHECK(limit == -1 && period == -1);
    }

    v = vms_lease_parse_limit((const char *) d, n);
    CHECK(v >= -1 && v <= 999999999);
}


static void
gcra(const uint8_t *d, size_t n)
{
    vms_gcra_t         g;
    vms_gcra_result_t  r;
    int64_t            tat = 0, now, t0, allowed = 0;
    size_t             i;

    if (n < 3 || vms_gcra_init(&g, 1 + d[0] % 50, 1000000LL * (1 + d[1] % 10),
                               1 + d[2] % 60) != 0)
    {
        return;
    }

    t0 = now = 1700000000LL * 1000000;
    for (i = 3; i < n; i++) {
        now += (int64_t) (d[i] % 16) * g.interval_us / 4;
        vms_gcra_check(&g, tat, now, &r);
        if (r.allowed) {
            allowed++;
            tat = r.tat_us;
            CHECK(r.remaining >= 0 && r.remaining < g.burst);
        } else {
            CHECK(r.retry_after_us > 0 && r.retry_after_us <= g.burst * g.interval_us);
        }
        /* never more than the burst plus what has refilled since the start */
        CHECK(allowed <= g.burst + (now - t0) / g.interval_us);
    }
}


static void
leases(const uint8_t *d, size_t n)
{
    vms_lease_set_t     s;
    vms_lease_result_t  r;
    int64_t             now = 1700000000LL * 1000000, limit;
    uint32_t            i, j;
    size_t              k;

    if (n < 1) {
        return;
    }

    memset(&s, 0, sizeof(s));
    limit = d[0] % 80;

    for (k = 1; k + 1 < n; k += 2) {
        uint64_t  session = d[k + 1] % 100, from;

        now += (int64_t) (d[k] >> 2) * 100000;
        switch (d[k] & 3) {
        case 0:
        case 1:
            /* case 1: with an opener's handover (one of two openers) */
            vms_lease_acquire_handover(&s, session,
                                       (d[k] & 3) == 1 ? 1 + d[k + 1] / 128 : 0,
                                       1000000, now, 3000000, limit, &r, &from);
            CHECK(from == 0 || r.outcome == VMS_LEASE_RENEWED);
            CHECK(r.active == s.n);
            if (r.outcome == VMS_LEASE_REFUSED) {
                CHECK((int64_t) s.n >= (limit < VMS_LEASE_MAX ? limit : VMS_LEASE_MAX));
                CHECK(s.n == 0 || r.retry_after_us > 0);
            }
            break;
        case 2:
            (void) vms_lease_renew(&s, session, now, 3000000);
            break;
        default:
            (void) vms_lease_release(&s, session);
        }

        CHECK((int64_t) s.n <= (limit < VMS_LEASE_MAX ? limit : VMS_LEASE_MAX));
        for (i = 0; i < s.n; i++) {
            for (j = i + 1; j < s.n; j++) {
                CHECK(s.v[i].session != s.v[j].session);
            }
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    parsers(data, size);
    gcra(data, size);
    leases(data, size);
    return 0;
}
