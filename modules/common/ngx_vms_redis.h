/*
 * ngx_vms_redis: a hiredis async connection driven by nginx's event loop.
 *
 * Contract (read this before using it from a module):
 *
 *  - One ngx_vms_redis_t per configured Redis server per module, created at
 *    configuration time (ngx_vms_redis_create) and connected in each worker by
 *    ngx_vms_redis_init_process().  The master process never connects.  Each
 *    worker holds exactly one TCP (or unix socket) connection per object;
 *    calls are pipelined on it.
 *
 *  - Nothing blocks the worker: the address must be a numeric IPv4/IPv6
 *    address or "unix:/path" (checked at config time, no DNS lookup ever),
 *    the connect is non-blocking and bounded by connect_timeout, and every
 *    call has its own timer.
 *
 *  - A call's handler runs at most once, with status OK, ERROR or TIMEOUT.
 *    It never runs synchronously from inside ngx_vms_redis_call(): when the
 *    call cannot be queued (no connection during reconnect backoff, too many
 *    calls in flight) ngx_vms_redis_call() returns NGX_DECLINED and the caller
 *    applies its outage policy at once.
 *
 *  - Cancellation: pass the request's pool (r->pool) as `pool`; a pool
 *    cleanup cancels the call, so a finalized request never receives a
 *    callback.  ngx_vms_redis_cancel() does the same explicitly.  The reply
 *    that arrives later for a cancelled or timed-out call is read and dropped;
 *    the call's memory belongs to the adapter and is freed then.
 *
 *  - The handler runs from the Redis connection's event handler or from the
 *    call's timer, not from the request's own connection handler.  An HTTP
 *    phase handler waiting on it (returned NGX_AGAIN, r->main->count++) must
 *    resume with ngx_http_core_run_phases(r) and then
 *    ngx_http_run_posted_requests(r->connection) (see ngx_http_vms_limit).
 *
 *  - The reply pointer is valid only during the handler; copy what you need.
 *
 *  - Scripts: ngx_vms_redis_script() registers Lua source at config time and
 *    computes its SHA1; each (re)connect sends SCRIPT LOAD for every script
 *    before any user command, and ngx_vms_redis_eval() sends EVALSHA.  If
 *    Redis answers NOSCRIPT (e.g. SCRIPT FLUSH), the same call is re-sent as
 *    EVAL transparently, within the same timeout.
 *
 *  - Reconnect: on connect failure, connect timeout or connection loss the
 *    adapter waits backoff (doubling from backoff_min to backoff_max, with
 *    jitter) and connects again; no reload needed.  Calls in flight when the
 *    connection drops get ERROR.
 *
 *  - Stalls: a Redis that keeps the connection but does not answer (stopped
 *    process, silent network) is detected after stall_after call timeouts in
 *    a row: new calls are declined at once (no one waits for a timeout any
 *    more) until a reply arrives; after stall_timeout without any reply the
 *    connection is dropped and made again.
 *
 *  - Counters: `stats` points at ngx_atomic_t counters; by default a
 *    per-process struct, but a module may point it into its shared memory
 *    zone (before init_process) so a status page sees all workers.
 *
 * The same source is linked into several module .so files; each module gets
 * its own copy of the code and its own connection (-Wl,-Bsymbolic).
 */

#ifndef NGX_VMS_REDIS_H
#define NGX_VMS_REDIS_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>


typedef enum {
    NGX_VMS_REDIS_OK = 0,     /* a reply arrived that is not an error reply */
    NGX_VMS_REDIS_ERROR,      /* error reply (reply != NULL), or connection
                                 lost / not writable (reply == NULL) */
    NGX_VMS_REDIS_TIMEOUT     /* no reply within the call's timeout */
} ngx_vms_redis_status_e;


typedef struct ngx_vms_redis_s         ngx_vms_redis_t;
typedef struct ngx_vms_redis_call_s    ngx_vms_redis_call_t;
typedef struct ngx_vms_redis_script_s  ngx_vms_redis_script_t;

typedef void (*ngx_vms_redis_handler_pt)(ngx_vms_redis_status_e status,
    redisReply *reply, void *data);


typedef struct {
    ngx_atomic_t   calls;        /* calls queued */
    ngx_atomic_t   replies;      /* replies received (incl. error replies) */
    ngx_atomic_t   errors;       /* error replies + calls failed by a lost connection */
    ngx_atomic_t   timeouts;     /* calls whose timer fired first */
    ngx_atomic_t   declined;     /* calls refused: not connected / too many in flight */
    ngx_atomic_t   connects;     /* successful connects */
    ngx_atomic_t   disconnects;  /* connection losses and failed connects */
} ngx_vms_redis_stats_t;


typedef struct {
    ngx_str_t      addr;             /* as configured, for logs */
    ngx_str_t      password;         /* AUTH after connect if len > 0 */
    ngx_int_t      db;               /* SELECT after connect if > 0 */
    ngx_msec_t     connect_timeout;  /* default 500 ms */
    ngx_msec_t     backoff_min;      /* default 100 ms */
    ngx_msec_t     backoff_max;      /* default 5000 ms */
    ngx_uint_t     max_pending;      /* calls in flight per worker, default 4096 */
    ngx_uint_t     stall_after;      /* timeouts in a row that mean "stalled", default 3 */
    ngx_msec_t     stall_timeout;    /* stalled this long without a reply: reconnect,
                                        default 2000 ms */
} ngx_vms_redis_conf_t;


/*
 * Config time.  `addr` is "IP:PORT", "[IPv6]:PORT", "IP" (port 6379) or
 * "unix:/path"; a host name is rejected with a clear message.  Returns NULL
 * after logging with ngx_conf_log_error.  The returned conf has defaults
 * filled in; the caller may change them before ngx_vms_redis_create().
 */
ngx_vms_redis_conf_t *ngx_vms_redis_conf_parse(ngx_conf_t *cf, ngx_str_t *addr);
ngx_vms_redis_t *ngx_vms_redis_create(ngx_conf_t *cf, ngx_vms_redis_conf_t *conf);

/* Config time: register a Lua script (NUL-terminated, copied). */
ngx_vms_redis_script_t *ngx_vms_redis_script(ngx_conf_t *cf,
    ngx_vms_redis_t *rds, const char *lua);

/* Point the counters somewhere else (e.g. shared memory); before init_process. */
void ngx_vms_redis_set_stats(ngx_vms_redis_t *rds, ngx_vms_redis_stats_t *stats);

/* Worker start / exit (call from the module's init_process / exit_process). */
ngx_int_t ngx_vms_redis_init_process(ngx_vms_redis_t *rds, ngx_cycle_t *cycle);
void ngx_vms_redis_exit_process(ngx_vms_redis_t *rds);

/*
 * Queue a command.  argv/argvlen are copied.  `handler` may be NULL for
 * fire-and-forget (then `pool` should be NULL too; the reply is dropped).
 * `timeout` 0 means no timer (only for fire-and-forget).
 * Returns NGX_OK (handler will run exactly once unless cancelled),
 * NGX_DECLINED (not queued; handler will not run), NGX_ERROR (no memory).
 * `callp` (may be NULL) receives the call handle for ngx_vms_redis_cancel().
 */
ngx_int_t ngx_vms_redis_call(ngx_vms_redis_t *rds, ngx_pool_t *pool,
    ngx_msec_t timeout, ngx_vms_redis_handler_pt handler, void *data,
    int argc, const char **argv, const size_t *argvlen,
    ngx_vms_redis_call_t **callp);

/* EVALSHA script nkeys argv... with EVAL fallback; same contract as above. */
ngx_int_t ngx_vms_redis_eval(ngx_vms_redis_t *rds, ngx_pool_t *pool,
    ngx_msec_t timeout, ngx_vms_redis_script_t *script,
    ngx_vms_redis_handler_pt handler, void *data,
    int nkeys, int argc, const char **argv, const size_t *argvlen,
    ngx_vms_redis_call_t **callp);

/* The handler of `call` will not run; safe to call once per call handle,
 * and only while the handler has not run yet. */
void ngx_vms_redis_cancel(ngx_vms_redis_call_t *call);

#endif /* NGX_VMS_REDIS_H */
