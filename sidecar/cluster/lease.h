/*
 * Camera leases in Redis (docs/scale-out.md, "Fencing").
 *
 *   vms:lease:{camera}   string "NODE TOKEN", PX = lease_duration; taken
 *                        with SET NX, renewed and released only by the
 *                        holder (compare-and-PEXPIRE / compare-and-DEL)
 *   vms:fence:{camera}   integer, INCR at each take: the fencing token
 *   vms:owner:{camera}   hash node, state, since (ms UTC), token: the
 *                        cluster view /api/cameras shows; no TTL
 *
 * One blocking hiredis connection per user (a thread of vmsd, never nginx),
 * every call bounded by a 1 s timeout; a lost connection is made again at
 * the next call.
 */

#ifndef VMS_LEASE_H
#define VMS_LEASE_H

#include <stddef.h>
#include <stdint.h>

typedef struct vms_lease_conn_s  vms_lease_conn_t;

typedef enum {
    VMS_LEASE_OK = 0,
    VMS_LEASE_HELD = 1,        /* another holder (or not ours any more) */
    VMS_LEASE_ERROR = -1       /* Redis did not answer: nothing known */
} vms_lease_rc_e;

/* addr: host:port or unix:/path; password may be NULL. */
vms_lease_conn_t *vms_lease_conn_new(const char *addr, const char *password);
void vms_lease_conn_free(vms_lease_conn_t *lc);

/* Takes the lease of camera for node with a new fencing token (*token). */
vms_lease_rc_e vms_lease_take(vms_lease_conn_t *lc, const char *camera,
    const char *node, int64_t lease_ms, uint64_t *token);

/* Extends the lease while it is still node's with token. */
vms_lease_rc_e vms_lease_renew(vms_lease_conn_t *lc, const char *camera,
    const char *node, uint64_t token, int64_t lease_ms);

/* Deletes the lease if it is still node's with token. */
vms_lease_rc_e vms_lease_release(vms_lease_conn_t *lc, const char *camera,
    const char *node, uint64_t token);

/* Writes vms:owner:{camera}. */
vms_lease_rc_e vms_lease_owner_set(vms_lease_conn_t *lc, const char *camera,
    const char *node, const char *state, int64_t since_ms, uint64_t token);

/* How many of n cameras have a lease (one pipelined EXISTS each); -1 when
 * Redis did not answer. */
int vms_lease_count(vms_lease_conn_t *lc, const char *const *cameras, int n);

typedef struct {
    char      node[65];
    char      state[24];
    char      status[24];      /* vms:camera:{id}:status, "" unknown */
    int64_t   since_ms;        /* 0 unknown */
} vms_lease_owner_t;

/* Reads vms:owner:{camera} and vms:camera:{camera}:status of n cameras in
 * one round trip; -1 when Redis did not answer (out[] zeroed). */
int vms_lease_owners(vms_lease_conn_t *lc, const char *const *cameras,
    int n, vms_lease_owner_t *out);

#endif /* VMS_LEASE_H */
