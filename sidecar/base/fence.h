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
 * A deadline that passes only because Redis did not answer is not a loss:
 * the fence is PENDING, the recorder holds the segment's bytes in memory
 * (up to lease_hold_max) and writes them when a renewal confirms the lease
 * is still this node's under the same token (nobody took it meanwhile:
 * every take increments the token).  A lease found another's shuts it.
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
    _Atomic int64_t   valid_until_us;   /* monotonic */
    _Atomic int       lost;             /* the lease is another's: shut */
    _Atomic uint64_t  refused;          /* writes refused while shut */
    uint64_t          token;            /* fencing token of the lease */
    int64_t           hold_max;         /* bytes a segment may hold while
                                           PENDING (lease_hold_max) */
} vms_fence_t;

typedef enum {
    VMS_FENCE_OPEN = 0,     /* write */
    VMS_FENCE_PENDING,      /* the lease ran past its deadline unconfirmed
                               (Redis did not answer): hold bytes in memory,
                               write them once it is confirmed again */
    VMS_FENCE_SHUT          /* the lease is lost: write nothing more */
} vms_fence_state_e;

static inline vms_fence_state_e
vms_fence_state(const vms_fence_t *f)
{
    if (f == NULL) {
        return VMS_FENCE_OPEN;
    }
    if (atomic_load(&f->lost)) {
        return VMS_FENCE_SHUT;
    }
    return vms_mono_us() < atomic_load(&f->valid_until_us)
           ? VMS_FENCE_OPEN : VMS_FENCE_PENDING;
}

static inline int
vms_fence_open(const vms_fence_t *f)
{
    return vms_fence_state(f) == VMS_FENCE_OPEN;
}

/* vms_fence_open(), counting a refusal when shut. */
static inline int
vms_fence_pass(vms_fence_t *f)
{
    vms_fence_state_e st = vms_fence_state(f);

    if (st == VMS_FENCE_SHUT) {
        atomic_fetch_add(&f->refused, 1);
    }
    return st == VMS_FENCE_OPEN;
}

#endif /* VMS_FENCE_H */
