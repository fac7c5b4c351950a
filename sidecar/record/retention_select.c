/*
 * Which segments retention deletes: a pure function of the segments, their
 * cameras' age limits and the disk's numbers; see retention.h.
 */

#include "retention.h"

uint64_t
vms_retention_need(const vms_ret_disk_t *d)
{
    uint64_t need = 0, total = d->used_bytes + d->avail_bytes, allowed;

    if (d->min_free_bytes > d->avail_bytes) {
        need = d->min_free_bytes - d->avail_bytes;
    }
    if (d->max_used_pct > 0 && d->max_used_pct < 100 && total > 0) {
        /* used / total <= pct, in integers: used * 100 <= pct * total */
        allowed = (uint64_t) ((unsigned __int128) total
                              * (uint64_t) d->max_used_pct / 100);
        if (d->used_bytes > allowed && d->used_bytes - allowed > need) {
            need = d->used_bytes - allowed;
        }
    }
    return need;
}

uint64_t
vms_retention_select(vms_ret_item_t *items, size_t n, const vms_ret_disk_t *d)
{
    uint64_t  need = vms_retention_need(d), marked = 0;
    size_t    i;

    for (i = 0; i < n; i++) {
        vms_ret_item_t *it = &items[i];

        it->reason = VMS_RET_KEEP;
        if (!it->open && it->max_age_us > 0
            && it->end_us < d->now_us - it->max_age_us)
        {
            it->reason = VMS_RET_AGE;
            marked += it->bytes;
        }
    }

    for (i = 0; i < n && marked < need; i++) {
        vms_ret_item_t *it = &items[i];

        if (it->open || it->reason != VMS_RET_KEEP) {
            continue;
        }
        it->reason = VMS_RET_PRESSURE;
        marked += it->bytes;
    }
    return marked;
}
