/*
 * Concurrent-stream leases, nginx-free.
 *
 * A user's open streams are a set of leases (session id -> expiry time).
 * Admission drops expired leases, renews the lease of a session already
 * present (a player re-requesting its playlist never counts twice), and
 * admits a new session only while fewer than `limit` leases are live.  The
 * Redis sorted-set script (ngx_http_vms_limit_scripts.h) implements exactly
 * this with score = expiry; this file is the reference and the local
 * (shared-memory) implementation, and is unit-tested.
 */

#ifndef VMS_LEASE_H
#define VMS_LEASE_H

#include <stdint.h>
#include <stddef.h>

/* Leases kept per user in local (shared-memory) mode; larger limits are
 * capped at this value there (Redis mode has no cap). */
#define VMS_LEASE_MAX  64

typedef struct {
    uint64_t  session;      /* hash of the session id */
    int64_t   expires_us;
    uint64_t  handover;     /* open for handover to this identity (0: none) */
    int64_t   handover_until_us;
} vms_lease_t;

typedef struct {
    uint32_t     n;
    vms_lease_t  v[VMS_LEASE_MAX];
} vms_lease_set_t;

enum {
    VMS_LEASE_ADMITTED = 1,   /* new lease */
    VMS_LEASE_RENEWED,        /* session already held a lease */
    VMS_LEASE_REFUSED,        /* limit reached */
    VMS_LEASE_ENDED           /* (Redis, media requests) released moments ago */
};

typedef struct {
    int       outcome;
    uint32_t  active;          /* live leases after the decision */
    int64_t   limit;
    int64_t   retry_after_us;  /* refused: until the earliest lease expires */
} vms_lease_result_t;

/* Drops leases with expires_us <= now; returns how many remain. */
uint32_t vms_lease_expire(vms_lease_set_t *s, int64_t now_us);

void vms_lease_acquire(vms_lease_set_t *s, uint64_t session, int64_t now_us,
    int64_t ttl_us, int64_t limit, vms_lease_result_t *res);

/*
 * Handover: one stream whose opening is authorized twice under two session
 * ids (an RTSP reader: DESCRIBE names the connection, SETUP the session) holds
 * one lease.  `handover` names the opener (a hash of user, token, address and
 * path; 0: none).  A session without a lease takes over a lease that another
 * session of the same opener admitted less than `window_us` ago and that has
 * not been handed over yet (outcome RENEWED, *from = that session's hash);
 * otherwise it is admitted as by vms_lease_acquire() and, when admitted, its
 * lease is open for handover for `window_us`.  A lease is handed over once.
 */
void vms_lease_acquire_handover(vms_lease_set_t *s, uint64_t session,
    uint64_t handover, int64_t window_us, int64_t now_us, int64_t ttl_us,
    int64_t limit, vms_lease_result_t *res, uint64_t *from);

/* Extends an existing lease only; returns 1 when found, 0 otherwise. */
int vms_lease_renew(vms_lease_set_t *s, uint64_t session, int64_t now_us,
    int64_t ttl_us);

/*
 * Renewal by media requests, at most once per `every_us`: 0 when the session
 * holds no live lease, 1 when its lease was renewed less than `every_us` ago
 * (left as is), 2 when it was renewed now.
 */
int vms_lease_touch(vms_lease_set_t *s, uint64_t session, int64_t now_us,
    int64_t ttl_us, int64_t every_us);

/* Returns 1 when the session held a lease, 0 otherwise. */
int vms_lease_release(vms_lease_set_t *s, uint64_t session);

/*
 * The effective limit: an administrator's per-user override (Redis hash) wins
 * over the token's `max_concurrent_streams` claim, which wins over the plan's
 * limit.  Negative means "not given".
 */
int64_t vms_lease_limit(int64_t plan_limit, int64_t claim, int64_t admin);

/* Parses a non-negative decimal limit; -1 when empty or malformed. */
int64_t vms_lease_parse_limit(const char *s, size_t len);

typedef struct {
    const char  *name;
    size_t       len;
    int64_t      max;
} vms_plan_t;

/* Limit of plan `name`; the plan at index `dflt` when the name is unknown
 * or empty (a token without a plan gets the default plan, not unlimited). */
int64_t vms_plan_limit(const vms_plan_t *plans, size_t n, size_t dflt,
    const char *name, size_t len);

/* The 429 body: {"error":"limit_exceeded","message":"Limite de X streams
 * atingido","limit":X,"active":N}.  Returns the length written (< size). */
size_t vms_lease_exceeded_json(char *buf, size_t size, int64_t limit,
    int64_t active);

/* 64-bit FNV-1a, for session ids in local mode. */
uint64_t vms_lease_hash(const char *s, size_t len);

#endif /* VMS_LEASE_H */
