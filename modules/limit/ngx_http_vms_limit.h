/*
 * vms_limit: shared declarations of the module's files.
 *
 *   ngx_http_vms_limit_module.c   command table, configuration, phase handler
 *   ngx_http_vms_limit_conf.c     directive handlers
 *   ngx_http_vms_limit_http.c     request helpers (Redis calls, resume, keys,
 *                                 JSON answers)
 *   ngx_http_vms_limit_rate.c     per-consumer rate limit (GCRA)
 *   ngx_http_vms_limit_fail.c     per-client budget of failed-auth answers
 *   ngx_http_vms_limit_streams.c  concurrent stream leases, release endpoint
 *   ngx_http_vms_limit_session.c  player sessions: ids, signed media parameter
 *   ngx_http_vms_limit_shm.c      shared memory zone: local GCRA/leases, counters
 *   ngx_http_vms_limit_status.c   Prometheus counters location
 *   ngx_http_vms_limit_routes.c   requests per route and status (log phase)
 *   ngx_http_vms_limit_scripts.h  the Redis Lua scripts
 *   core/                         nginx-free arithmetic (unit-tested)
 */

#ifndef NGX_HTTP_VMS_LIMIT_H
#define NGX_HTTP_VMS_LIMIT_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_vms_redis.h"
#include "ngx_vms_shm.h"
#include "vms_gcra.h"
#include "vms_lease.h"
#include "vms_session.h"


#define NGX_HTTP_VMS_LIMIT_STORE_AUTO     0
#define NGX_HTTP_VMS_LIMIT_STORE_REDIS    1
#define NGX_HTTP_VMS_LIMIT_STORE_LOCAL    2

#define NGX_HTTP_VMS_LIMIT_POLICY_LOCAL   0
#define NGX_HTTP_VMS_LIMIT_POLICY_OPEN    1
#define NGX_HTTP_VMS_LIMIT_POLICY_CLOSED  2

#define NGX_HTTP_VMS_LIMIT_STREAMS_OFF      0
#define NGX_HTTP_VMS_LIMIT_STREAMS_OPEN     1
#define NGX_HTTP_VMS_LIMIT_STREAMS_RENEW    2
#define NGX_HTTP_VMS_LIMIT_STREAMS_RELEASE  3
#define NGX_HTTP_VMS_LIMIT_STREAMS_ADMIT    4   /* open, answered 204 by itself */
#define NGX_HTTP_VMS_LIMIT_STREAMS_MEDIA    5   /* signed session parameter */
#define NGX_HTTP_VMS_LIMIT_STREAMS_READER_RENEW    6   /* by media server reader id */
#define NGX_HTTP_VMS_LIMIT_STREAMS_READER_RELEASE  7

/* how long an admitted lease may be handed over to its opener's next
 * session id (an RTSP reader's SETUP after its DESCRIBE) */
#define NGX_HTTP_VMS_LIMIT_HANDOVER_WINDOW  10000

/* vms_limit_route: names (Prometheus label values) and answers counted per
 * name; the table lives in the shared zone, sized once */
#define NGX_HTTP_VMS_LIMIT_ROUTES         64
#define NGX_HTTP_VMS_LIMIT_ROUTE_LEN      48
#define NGX_HTTP_VMS_LIMIT_STATUSES       600   /* 0 = none / out of range */

/* keys longer than this are replaced by a hash of themselves */
#define NGX_HTTP_VMS_LIMIT_KEY_MAX        200


typedef struct {
    ngx_atomic_t           requests;          /* vms_api_requests */
    ngx_atomic_t           rate_allowed;
    ngx_atomic_t           rate_rejected;
    ngx_atomic_t           rate_dry_run;
    ngx_atomic_t           fail_rejected;     /* failed-auth budget: 429 */
    ngx_atomic_t           fail_charged;      /* 401/403 answers counted */
    ngx_atomic_t           streams_admitted;
    ngx_atomic_t           streams_renewed;
    ngx_atomic_t           streams_rejected;
    ngx_atomic_t           streams_released;
    ngx_atomic_t           unavailable;       /* policy closed: 503 */
    ngx_atomic_t           fallback_local;
    ngx_atomic_t           fallback_open;
    ngx_atomic_t           shm_full;
    ngx_vms_redis_stats_t  redis;
} ngx_http_vms_limit_counters_t;


/* one route's answers by status; name written once, before len (readers
 * take len > 0 as "name complete") */
typedef struct {
    ngx_atomic_t           len;
    u_char                 name[NGX_HTTP_VMS_LIMIT_ROUTE_LEN];
    ngx_atomic_t           status[NGX_HTTP_VMS_LIMIT_STATUSES];
} ngx_http_vms_limit_route_t;


typedef struct {
    ngx_rbtree_t                   rbtree;
    ngx_rbtree_node_t              sentinel;
    ngx_queue_t                    lru;
    ngx_http_vms_limit_counters_t  counters;
    ngx_http_vms_limit_route_t     routes[NGX_HTTP_VMS_LIMIT_ROUTES];
} ngx_http_vms_limit_shctx_t;


typedef struct {
    ngx_str_t                      name;
    ngx_int_t                      max;
} ngx_http_vms_limit_plan_t;


typedef struct {
    ngx_vms_redis_t               *redis;
    ngx_vms_redis_conf_t          *redis_conf;
    ngx_vms_redis_script_t        *gcra_script;
    ngx_vms_redis_script_t        *acquire_script;
    ngx_vms_redis_script_t        *renew_script;
    ngx_vms_redis_script_t        *release_script;
    ngx_vms_redis_script_t        *reader_script;

    ngx_array_t                   *plans;        /* ngx_http_vms_limit_plan_t */
    vms_plan_t                    *plan_table;   /* same, for core/ */
    ngx_uint_t                     default_plan;
    ngx_str_t                      default_plan_name;

    /* defaults of the per-request values: the auth module's variables
     * when it is loaded, else the client address (see init_main_conf) */
    const char                    *default_keys[3];
    const char                    *default_user;
    const char                    *default_plan_var;
    const char                    *default_max;
    const char                    *default_session[5];

    size_t                         zone_size;
    ngx_shm_zone_t                *shm_zone;

    ngx_str_t                      session_key;  /* vms_limit_session_key */
} ngx_http_vms_limit_main_conf_t;


typedef struct {
    /* rate limit */
    ngx_flag_t                     rate_on;
    vms_gcra_t                     gcra;
    ngx_str_t                      rate_scope;
    ngx_array_t                   *rate_keys;    /* ngx_http_complex_value_t */
    ngx_flag_t                     dry_run;

    /* failed-auth budget (fail.c) */
    ngx_flag_t                     fail_on;
    vms_gcra_t                     fail_gcra;
    ngx_http_complex_value_t      *fail_key;

    /* concurrent streams */
    ngx_uint_t                     streams;
    ngx_http_complex_value_t      *stream_user;
    ngx_array_t                   *stream_session;  /* complex values */
    ngx_http_complex_value_t      *stream_plan;
    ngx_http_complex_value_t      *stream_max;
    ngx_http_complex_value_t      *stream_handover;  /* opener identity */
    ngx_http_complex_value_t      *stream_reader;    /* media server reader id */
    ngx_msec_t                     stream_ttl;

    /* player sessions */
    ngx_http_complex_value_t      *session_scope;
    time_t                         session_ttl;
    ngx_msec_t                     session_renew;

    /* Redis use */
    ngx_uint_t                     store;
    ngx_msec_t                     redis_timeout;
    ngx_uint_t                     on_error;

    ngx_flag_t                     status;

    /* vms_limit_route: empty = not counted; route_slot is this worker's
     * cache of the zone's slot (-1 not looked up, -2 table full) */
    ngx_str_t                      route;
    ngx_int_t                      route_slot;
} ngx_http_vms_limit_loc_conf_t;


enum {
    NGX_HTTP_VMS_LIMIT_STEP_RATE = 0,
    NGX_HTTP_VMS_LIMIT_STEP_STREAMS,
    NGX_HTTP_VMS_LIMIT_STEP_DONE
};

/* result of an asynchronous step, filled by the Redis handler */
enum {
    NGX_HTTP_VMS_LIMIT_R_NONE = 0,
    NGX_HTTP_VMS_LIMIT_R_WAITING,
    NGX_HTTP_VMS_LIMIT_R_REPLY,        /* Redis decided */
    NGX_HTTP_VMS_LIMIT_R_UNAVAILABLE,  /* error/timeout: apply the policy */
    NGX_HTTP_VMS_LIMIT_R_PASSED        /* failed-auth budget: checked, go on */
};


typedef struct {
    ngx_http_request_t            *request;
    ngx_uint_t                     step;
    ngx_uint_t                     result;

    ngx_str_t                      key;          /* rate key or user */
    vms_gcra_result_t              rate;
    vms_lease_result_t             lease;

    ngx_str_t                      user;
    ngx_str_t                      session;      /* canonical session id */
    ngx_str_t                      handover;     /* opener identity or empty */
    ngx_str_t                      reader;       /* reader id or empty */
    ngx_str_t                      handed_from;  /* session this one took over */
    ngx_str_t                      signed_param; /* $vms_limit_session */
    unsigned                       signable:1;   /* admitted: may be signed */
    int64_t                        base_limit;   /* plan or claim, before the admin override */

    /* failed-auth budget, checked in the preaccess phase */
    ngx_uint_t                     fail_result;
    ngx_str_t                      fail_key;     /* empty: not checked */
    const vms_gcra_t              *fail_gcra;    /* of the checking location */
    vms_gcra_result_t              fail;
} ngx_http_vms_limit_ctx_t;


extern ngx_module_t  ngx_http_vms_limit_module;


/* shm.c */
ngx_int_t ngx_http_vms_limit_shm_add(ngx_conf_t *cf,
    ngx_http_vms_limit_main_conf_t *lmcf);
ngx_http_vms_limit_counters_t *ngx_http_vms_limit_counters(
    ngx_http_vms_limit_main_conf_t *lmcf);
ngx_int_t ngx_http_vms_limit_shm_rate(ngx_http_vms_limit_main_conf_t *lmcf,
    ngx_str_t *key, const vms_gcra_t *g, int64_t now_us, ngx_uint_t peek,
    vms_gcra_result_t *res);

enum {
    NGX_HTTP_VMS_LIMIT_LEASE_ACQUIRE = 0,
    NGX_HTTP_VMS_LIMIT_LEASE_RECORD,     /* acquire without enforcing (mirror) */
    NGX_HTTP_VMS_LIMIT_LEASE_RENEW,
    NGX_HTTP_VMS_LIMIT_LEASE_RELEASE,
    NGX_HTTP_VMS_LIMIT_LEASE_FORGET,     /* release, mirror only */
    NGX_HTTP_VMS_LIMIT_LEASE_TOUCH       /* media: renew at most every `limit` µs;
                                            NGX_DONE fresh, NGX_OK renewed,
                                            NGX_DECLINED no lease */
};

ngx_int_t ngx_http_vms_limit_shm_lease(ngx_http_vms_limit_main_conf_t *lmcf,
    ngx_uint_t op, ngx_str_t *user, uint64_t session, int64_t now_us,
    int64_t ttl_us, int64_t limit, vms_lease_result_t *res);
/* ACQUIRE with an opener identity (core/vms_lease.h handover); *from: the
 * session hash taken over, or 0 */
ngx_int_t ngx_http_vms_limit_shm_acquire_handover(
    ngx_http_vms_limit_main_conf_t *lmcf, ngx_str_t *user, uint64_t session,
    uint64_t handover, int64_t now_us, int64_t ttl_us, int64_t limit,
    vms_lease_result_t *res, uint64_t *from);

/* conf.c: directive handlers */
char *ngx_http_vms_limit_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_vms_limit_plan(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_vms_limit_rate_cmd(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_vms_limit_rate_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_vms_limit_streams_session(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_vms_limit_streams_cmd(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_vms_limit_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_vms_limit_fail_rate_cmd(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/* module.c: the request's ctx (kept across internal redirects) */
ngx_http_vms_limit_ctx_t *ngx_http_vms_limit_ctx(ngx_http_request_t *r,
    ngx_uint_t create);

/* http.c: request helpers */
ngx_int_t ngx_http_vms_limit_wait(ngx_int_t rc, ngx_uint_t *result);
ngx_int_t ngx_http_vms_limit_sent(ngx_http_request_t *r,
    ngx_http_vms_limit_main_conf_t *lmcf, ngx_int_t rc);
void ngx_http_vms_limit_redis_failed(ngx_http_request_t *r,
    ngx_vms_redis_status_e status, redisReply *reply, const char *what);
ngx_int_t ngx_http_vms_limit_gcra_eval(ngx_http_request_t *r,
    ngx_pool_t *pool, ngx_str_t *key, const vms_gcra_t *g, ngx_uint_t peek,
    ngx_vms_redis_handler_pt handler, void *data);
ngx_uint_t ngx_http_vms_limit_gcra_reply(ngx_http_request_t *r,
    ngx_vms_redis_status_e status, redisReply *reply, vms_gcra_result_t *res,
    const char *what);
ngx_int_t ngx_http_vms_limit_use_redis(ngx_http_vms_limit_main_conf_t *lmcf,
    ngx_http_vms_limit_loc_conf_t *llcf);
void ngx_http_vms_limit_resume(ngx_http_request_t *r);
ngx_int_t ngx_http_vms_limit_send_json(ngx_http_request_t *r,
    ngx_uint_t status, u_char *body, size_t len);
ngx_int_t ngx_http_vms_limit_unavailable(ngx_http_request_t *r,
    ngx_http_vms_limit_main_conf_t *lmcf);
int64_t ngx_http_vms_limit_now_us(void);
ngx_int_t ngx_http_vms_limit_key(ngx_http_request_t *r, ngx_str_t *prefix,
    ngx_str_t *value, ngx_uint_t digest, ngx_str_t *key);
ngx_int_t ngx_http_vms_limit_set_header(ngx_http_request_t *r,
    const char *name, int64_t value);

/* rate.c */
ngx_int_t ngx_http_vms_limit_rate(ngx_http_request_t *r,
    ngx_http_vms_limit_ctx_t *ctx);

/* fail.c: preaccess check and log-phase charge of the failed-auth budget */
ngx_int_t ngx_http_vms_limit_fail_check(ngx_http_request_t *r);
ngx_int_t ngx_http_vms_limit_fail_charge(ngx_http_request_t *r);

/* streams.c */
ngx_int_t ngx_http_vms_limit_streams(ngx_http_request_t *r,
    ngx_http_vms_limit_ctx_t *ctx);
ngx_int_t ngx_http_vms_limit_release_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_vms_limit_admit_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_vms_limit_reader_handler(ngx_http_request_t *r);

/* session.c */
char *ngx_http_vms_limit_session_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_vms_limit_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_vms_limit_session_mint(ngx_http_request_t *r,
    ngx_http_vms_limit_ctx_t *ctx);
ngx_int_t ngx_http_vms_limit_session_check(ngx_http_request_t *r,
    ngx_http_vms_limit_ctx_t *ctx);
ngx_int_t ngx_http_vms_limit_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *error, const char *message);

/* routes.c */
char *ngx_http_vms_limit_route_cmd(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_vms_limit_route_mark(ngx_http_request_t *r);
ngx_int_t ngx_http_vms_limit_route_count(ngx_http_request_t *r);
ngx_http_vms_limit_route_t *ngx_http_vms_limit_routes(
    ngx_http_vms_limit_main_conf_t *lmcf);

/* status.c */
ngx_int_t ngx_http_vms_limit_status_handler(ngx_http_request_t *r);

#endif /* NGX_HTTP_VMS_LIMIT_H */
