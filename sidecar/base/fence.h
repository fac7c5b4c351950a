/*
 * Write fence of one camera under cluster ownership (docs/scale-out.md).
 *
 * The node that holds a camera's Redis lease may write its recordings until
 * valid_until_us (CLOCK_MONOTONIC, microseconds): the time it sent its last
 * successful lease renewal plus the lease's duration, less a margin for
 * clock rate.  Redis lets the lease expire no earlier, so once another node
 * has taken the lease, this one's fence is already shut: a node that was
 * paused (SIGSTOP) or cut off writes nothing when it wakes, before it has
 * even learnt that it lost the camera.  Every write to the recordings tree
 * (segment bytes, the open-segment record, the index) checks the fence
 * right before it happens.
 *
 * A camera of a single node (vmsd.conf [camera] sections) has no fence:
 * NULL everywhere means "always open".
 */

#ifndef VMS_FENCE_H
#define VMS_FENCE_H

#include <stdatomic.h>
#include <stdint.h>

#include "util.h"

typedef struct {
    _Atomic int64_t   valid_until_us;   /* monotonic; 0: shut */
    _Atomic uint64_t  refused;          /* writes refused while shut */
    uint64_t          token;            /* fencing token of the lease */
} vms_fence_t;

static inline int
vms_fence_open(const vms_fence_t *f)
{
    return f == NULL || vms_mono_us() < atomic_load(&f->valid_until_us);
}

/* vms_fence_open(), counting a refusal. */
static inline int
vms_fence_pass(vms_fence_t *f)
{
    if (vms_fence_open(f)) {
        return 1;
    }
    atomic_fetch_add(&f->refused, 1);
    return 0;
}

#endif /* VMS_FENCE_H */
