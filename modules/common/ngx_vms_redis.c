/*
 * ngx_vms_redis: hiredis async API on nginx's event loop.  Contract in the
 * header.  Design notes:
 *
 *  - Events are level-triggered (NGX_LEVEL_EVENT).  hiredis reads at most one
 *    buffer per redisAsyncHandleRead(), so with edge-triggered epoll a reply
 *    larger than that buffer could sit in the socket unnoticed.
 *
 *  - A call's memory is owned by the adapter and freed exactly once, in the
 *    hiredis reply callback: hiredis runs every queued callback, with a NULL
 *    reply when the context is freed, so no call leaks and none is freed
 *    twice.  The user's handler is detached (handler = NULL) by delivery,
 *    timeout or cancel, whichever comes first.
 *
 *  - The hiredis context is gone when ev.cleanup runs; that hook is the one
 *    place that releases the nginx connection and schedules the reconnect.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_sha1.h>

#include <sys/socket.h>
#include <arpa/inet.h>

#include "ngx_vms_redis.h"


enum {
    VMS_REDIS_IDLE = 0,       /* worker not started (or master process) */
    VMS_REDIS_CONNECTING,
    VMS_REDIS_CONNECTED,
    VMS_REDIS_BACKOFF,        /* waiting to reconnect; calls are declined */
    VMS_REDIS_EXITING
};


struct ngx_vms_redis_script_s {
    ngx_vms_redis_script_t   *next;
    char                      sha[41];
    char                     *lua;
    size_t                    len;
};


struct ngx_vms_redis_s {
    ngx_vms_redis_conf_t      conf;
    char                     *host;        /* NUL-terminated numeric IP, or NULL */
    char                     *path;        /* unix socket path, or NULL */
    int                       port;

    ngx_vms_redis_script_t   *scripts;
    ngx_vms_redis_stats_t    *stats;
    ngx_vms_redis_stats_t     local_stats;

    /* per worker, after init_process */
    ngx_log_t                *log;
    redisAsyncContext        *ac;
    ngx_connection_t         *conn;
    ngx_event_t               reconnect_ev;
    ngx_event_t               connect_timer;
    ngx_event_t               stall_timer;
    ngx_msec_t                backoff;
    ngx_uint_t                timeouts_in_row;
    ngx_uint_t                failures;     /* connect attempts failed in a row */
    ngx_uint_t                state;
    ngx_uint_t                pending;
    unsigned                  in_write:1;
};


struct ngx_vms_redis_call_s {
    ngx_vms_redis_t          *rds;
    ngx_vms_redis_handler_pt  handler;     /* NULL once delivered/cancelled */
    void                     *data;
    ngx_pool_cleanup_t       *cln;
    ngx_event_t               timer;
    ngx_vms_redis_script_t   *script;      /* set for EVALSHA: NOSCRIPT fallback */
    int                       argc;
    const char              **argv;
    size_t                   *argvlen;
};


static void ngx_vms_redis_connect(ngx_vms_redis_t *rds);
static void ngx_vms_redis_schedule(ngx_vms_redis_t *rds);


/* A Redis that stays down is logged at its first failures, then about once a
 * minute (every 12th attempt at the 5 s backoff ceiling), not every attempt. */
#define vms_fail_level(rds)                                                   \
    (((rds)->failures < 3 || (rds)->failures % 12 == 0) ? NGX_LOG_ERR          \
                                                         : NGX_LOG_INFO)


#define vms_stat(rds, f)  (void) ngx_atomic_fetch_add(&(rds)->stats->f, 1)


/* ---- config time ------------------------------------------------------- */

ngx_vms_redis_conf_t *
ngx_vms_redis_conf_parse(ngx_conf_t *cf, ngx_str_t *addr)
{
    u_char                *p, *last, *host_end, *port_start;
    ngx_int_t              port;
    ngx_vms_redis_conf_t  *rc;
    u_char                 buf[INET6_ADDRSTRLEN + 1];
    struct in6_addr        a6;
    struct in_addr         a4;

    rc = ngx_pcalloc(cf->pool, sizeof(ngx_vms_redis_conf_t));
    if (rc == NULL) {
        return NULL;
    }

    rc->addr = *addr;
    rc->connect_timeout = 500;
    rc->backoff_min = 100;
    rc->backoff_max = 5000;
    rc->max_pending = 4096;
    rc->stall_after = 3;
    rc->stall_timeout = 2000;

    if (addr->len > 5 && ngx_strncmp(addr->data, "unix:", 5) == 0) {
        if (addr->len == 5 || addr->data[5] != '/') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "redis address \"%V\": unix socket path must be absolute",
                               addr);
            return NULL;
        }
        return rc;
    }

    p = addr->data;
    last = addr->data + addr->len;
    port_start = NULL;

    if (addr->len && *p == '[') {
        host_end = ngx_strlchr(p, last, ']');
        if (host_end == NULL) {
            goto invalid;
        }
        p++;
        if (host_end + 1 < last) {
            if (host_end[1] != ':') {
                goto invalid;
            }
            port_start = host_end + 2;
        }

    } else {
        host_end = ngx_strlchr(p, last, ':');
        if (host_end != NULL) {
            if (ngx_strlchr(host_end + 1, last, ':') != NULL) {
                /* bare IPv6 without brackets: whole string is the host */
                host_end = last;
            } else {
                port_start = host_end + 1;
            }
        } else {
            host_end = last;
        }
    }

    if (host_end == p || (size_t) (host_end - p) > INET6_ADDRSTRLEN) {
        goto invalid;
    }

    ngx_memcpy(buf, p, host_end - p);
    buf[host_end - p] = '\0';

    if (inet_pton(AF_INET, (char *) buf, &a4) != 1
        && inet_pton(AF_INET6, (char *) buf, &a6) != 1)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "redis address \"%V\": host must be a numeric IP "
                           "address or unix:/path (no DNS lookups in workers)",
                           addr);
        return NULL;
    }

    if (port_start != NULL) {
        port = ngx_atoi(port_start, last - port_start);
        if (port < 1 || port > 65535) {
            goto invalid;
        }
    }

    return rc;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid redis address \"%V\" (expected IP:PORT, "
                       "[IPv6]:PORT or unix:/path)", addr);
    return NULL;
}


ngx_vms_redis_t *
ngx_vms_redis_create(ngx_conf_t *cf, ngx_vms_redis_conf_t *conf)
{
    u_char           *p, *last, *h, *he;
    ngx_str_t        *addr;
    ngx_vms_redis_t  *rds;

    rds = ngx_pcalloc(cf->pool, sizeof(ngx_vms_redis_t));
    if (rds == NULL) {
        return NULL;
    }

    rds->conf = *conf;
    rds->stats = &rds->local_stats;
    addr = &conf->addr;

    if (addr->len > 5 && ngx_strncmp(addr->data, "unix:", 5) == 0) {
        rds->path = ngx_pnalloc(cf->pool, addr->len - 5 + 1);
        if (rds->path == NULL) {
            return NULL;
        }
        ngx_memcpy(rds->path, addr->data + 5, addr->len - 5);
        rds->path[addr->len - 5] = '\0';
        return rds;
    }

    /* already validated by ngx_vms_redis_conf_parse() */
    p = addr->data;
    last = addr->data + addr->len;
    rds->port = 6379;

    if (*p == '[') {
        h = p + 1;
        he = ngx_strlchr(p, last, ']');
        if (he + 1 < last) {
            rds->port = ngx_atoi(he + 2, last - he - 2);
        }

    } else {
        h = p;
        he = ngx_strlchr(p, last, ':');
        if (he == NULL || ngx_strlchr(he + 1, last, ':') != NULL) {
            he = last;
        } else {
            rds->port = ngx_atoi(he + 1, last - he - 1);
        }
    }

    rds->host = ngx_pnalloc(cf->pool, he - h + 1);
    if (rds->host == NULL) {
        return NULL;
    }
    ngx_memcpy(rds->host, h, he - h);
    rds->host[he - h] = '\0';

    return rds;
}


ngx_vms_redis_script_t *
ngx_vms_redis_script(ngx_conf_t *cf, ngx_vms_redis_t *rds, const char *lua)
{
    u_char                   digest[20];
    ngx_sha1_t               sha1;
    ngx_vms_redis_script_t  *s;

    s = ngx_pcalloc(cf->pool, sizeof(ngx_vms_redis_script_t));
    if (s == NULL) {
        return NULL;
    }

    s->len = ngx_strlen(lua);
    s->lua = ngx_pnalloc(cf->pool, s->len + 1);
    if (s->lua == NULL) {
        return NULL;
    }
    ngx_memcpy(s->lua, lua, s->len + 1);

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, s->lua, s->len);
    ngx_sha1_final(digest, &sha1);
    ngx_hex_dump((u_char *) s->sha, digest, 20);
    s->sha[40] = '\0';

    s->next = rds->scripts;
    rds->scripts = s;

    return s;
}


void
ngx_vms_redis_set_stats(ngx_vms_redis_t *rds, ngx_vms_redis_stats_t *stats)
{
    rds->stats = stats ? stats : &rds->local_stats;
}


/* ---- nginx event hooks for hiredis ------------------------------------- */

static void
ngx_vms_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;
    ngx_vms_redis_t   *rds = c->data;

    /* may free the context and this connection: touch nothing afterwards */
    if (rds->ac != NULL) {
        redisAsyncHandleRead(rds->ac);
    }
}


static void
ngx_vms_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;
    ngx_vms_redis_t   *rds = c->data;

    if (rds->ac != NULL) {
        rds->in_write = 1;
        redisAsyncHandleWrite(rds->ac);   /* may free c; rds lives on */
        rds->in_write = 0;
    }
}


static void
ngx_vms_redis_add_read(void *privdata)
{
    ngx_vms_redis_t  *rds = privdata;

    if (rds->conn != NULL && !rds->conn->read->active) {
        if (ngx_add_event(rds->conn->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, rds->log, 0,
                          "redis %V: adding read event failed", &rds->conf.addr);
        }
    }
}


static void
ngx_vms_redis_del_read(void *privdata)
{
    ngx_vms_redis_t  *rds = privdata;

    if (rds->conn != NULL && rds->conn->read->active) {
        (void) ngx_del_event(rds->conn->read, NGX_READ_EVENT, 0);
    }
}


/*
 * Once connected, commands queued during one event loop iteration are
 * flushed together by a posted write event at the end of the iteration (one
 * write(2) for the lot, no epoll_ctl).  Only a partial write, or the connect
 * itself, waits for writability through epoll.
 */
static void
ngx_vms_redis_add_write(void *privdata)
{
    ngx_vms_redis_t  *rds = privdata;

    if (rds->conn == NULL) {
        return;
    }

    if (rds->state == VMS_REDIS_CONNECTED && !rds->in_write) {
        if (!rds->conn->write->posted && !rds->conn->write->active) {
            ngx_post_event(rds->conn->write, &ngx_posted_events);
        }
        return;
    }

    if (!rds->conn->write->active) {
        if (ngx_add_event(rds->conn->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, rds->log, 0,
                          "redis %V: adding write event failed", &rds->conf.addr);
        }
    }
}


static void
ngx_vms_redis_del_write(void *privdata)
{
    ngx_vms_redis_t  *rds = privdata;

    if (rds->conn == NULL) {
        return;
    }

    if (rds->conn->write->posted) {
        ngx_delete_posted_event(rds->conn->write);
    }

    if (rds->conn->write->active) {
        (void) ngx_del_event(rds->conn->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis is about to free the context (and close the fd right after). */
static void
ngx_vms_redis_cleanup(void *privdata)
{
    ngx_vms_redis_t   *rds = privdata;
    ngx_connection_t  *c = rds->conn;

    if (c != NULL) {
        if (c->read->active) {
            (void) ngx_del_event(c->read, NGX_READ_EVENT, 0);
        }
        if (c->write->active) {
            (void) ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
        }
        if (c->read->posted) {
            ngx_delete_posted_event(c->read);
        }
        if (c->write->posted) {
            ngx_delete_posted_event(c->write);
        }
        c->read->closed = 1;
        c->write->closed = 1;
        ngx_free_connection(c);
        c->fd = (ngx_socket_t) -1;   /* hiredis closes the fd itself */
        rds->conn = NULL;
    }

    rds->ac = NULL;

    if (rds->connect_timer.timer_set) {
        ngx_del_timer(&rds->connect_timer);
    }

    if (rds->stall_timer.timer_set) {
        ngx_del_timer(&rds->stall_timer);
    }
    rds->timeouts_in_row = 0;

    if (rds->state != VMS_REDIS_EXITING && rds->state != VMS_REDIS_IDLE) {
        vms_stat(rds, disconnects);
        ngx_vms_redis_schedule(rds);
    }
}


/* ---- connection life cycle --------------------------------------------- */

static void
ngx_vms_redis_on_connect(const redisAsyncContext *ac, int status)
{
    ngx_vms_redis_t  *rds = ac->data;

    if (status != REDIS_OK) {
        /* hiredis frees the context after this; cleanup schedules a retry */
        ngx_log_error(vms_fail_level(rds), rds->log, 0,
                      "redis %V: connect failed: %s", &rds->conf.addr,
                      ac->errstr ? ac->errstr : "unknown error");
        return;
    }

    if (rds->connect_timer.timer_set) {
        ngx_del_timer(&rds->connect_timer);
    }

    rds->state = VMS_REDIS_CONNECTED;
    rds->backoff = 0;
    rds->failures = 0;
    vms_stat(rds, connects);

    ngx_log_error(NGX_LOG_NOTICE, rds->log, 0,
                  "redis %V: connected", &rds->conf.addr);
}


static void
ngx_vms_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    ngx_vms_redis_t  *rds = ac->data;

    if (rds->state != VMS_REDIS_EXITING) {
        ngx_log_error(NGX_LOG_ERR, rds->log, 0,
                      "redis %V: connection lost: %s", &rds->conf.addr,
                      (status != REDIS_OK && ac->errstr) ? ac->errstr
                                                         : "closed");
    }
}


static void
ngx_vms_redis_init_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply       *reply = r;
    ngx_vms_redis_t  *rds = ac->data;

    if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rds->log, 0,
                      "redis %V: %s failed: %*s", &rds->conf.addr,
                      (char *) privdata, (size_t) reply->len, reply->str);
    }
}


static void
ngx_vms_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_vms_redis_t  *rds = ev->data;

    if (rds->state == VMS_REDIS_BACKOFF) {
        ngx_vms_redis_connect(rds);
    }
}


static void
ngx_vms_redis_connect_timeout(ngx_event_t *ev)
{
    ngx_vms_redis_t  *rds = ev->data;

    ngx_log_error(vms_fail_level(rds), rds->log, 0,
                  "redis %V: connect timed out after %M ms",
                  &rds->conf.addr, rds->conf.connect_timeout);

    if (rds->ac != NULL) {
        redisAsyncFree(rds->ac);   /* runs cleanup, which schedules a retry */
    }
}


static void
ngx_vms_redis_stall_handler(ngx_event_t *ev)
{
    ngx_vms_redis_t  *rds = ev->data;

    if (rds->ac != NULL && rds->timeouts_in_row >= rds->conf.stall_after) {
        ngx_log_error(NGX_LOG_ERR, rds->log, 0,
                      "redis %V: no reply for %M ms, reconnecting",
                      &rds->conf.addr, rds->conf.stall_timeout);
        redisAsyncFree(rds->ac);   /* runs cleanup, which schedules a retry */
    }
}


static void
ngx_vms_redis_schedule(ngx_vms_redis_t *rds)
{
    ngx_msec_t  delay;

    rds->state = VMS_REDIS_BACKOFF;
    rds->failures++;

    if (rds->backoff == 0) {
        rds->backoff = rds->conf.backoff_min;
    } else {
        rds->backoff = ngx_min(rds->backoff * 2, rds->conf.backoff_max);
    }

    /* jitter: up to +50 % so workers of several nginx nodes spread out */
    delay = rds->backoff + (ngx_msec_t) ngx_random() % (rds->backoff / 2 + 1);

    if (rds->reconnect_ev.timer_set) {
        ngx_del_timer(&rds->reconnect_ev);
    }
    ngx_add_timer(&rds->reconnect_ev, delay);
}


static void
ngx_vms_redis_connect(ngx_vms_redis_t *rds)
{
    redisAsyncContext       *ac;
    ngx_connection_t        *c;
    ngx_vms_redis_script_t  *s;
    char                     db[NGX_INT_T_LEN + 1];

    rds->state = VMS_REDIS_CONNECTING;

    if (rds->path != NULL) {
        ac = redisAsyncConnectUnix(rds->path);
    } else {
        ac = redisAsyncConnect(rds->host, rds->port);
    }

    if (ac == NULL) {
        ngx_log_error(NGX_LOG_ERR, rds->log, 0,
                      "redis %V: cannot allocate context", &rds->conf.addr);
        vms_stat(rds, disconnects);
        ngx_vms_redis_schedule(rds);
        return;
    }

    if (ac->err) {
        ngx_log_error(vms_fail_level(rds), rds->log, 0,
                      "redis %V: connect failed: %s", &rds->conf.addr, ac->errstr);
        redisAsyncFree(ac);   /* no hooks attached yet: no cleanup call */
        vms_stat(rds, disconnects);
        ngx_vms_redis_schedule(rds);
        return;
    }

    c = ngx_get_connection(ac->c.fd, rds->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        vms_stat(rds, disconnects);
        ngx_vms_redis_schedule(rds);
        return;
    }

    c->data = rds;
    c->read->handler = ngx_vms_redis_read_handler;
    c->write->handler = ngx_vms_redis_write_handler;
    c->read->log = rds->log;
    c->write->log = rds->log;

    rds->ac = ac;
    rds->conn = c;

    ac->data = rds;
    ac->ev.data = rds;
    ac->ev.addRead = ngx_vms_redis_add_read;
    ac->ev.delRead = ngx_vms_redis_del_read;
    ac->ev.addWrite = ngx_vms_redis_add_write;
    ac->ev.delWrite = ngx_vms_redis_del_write;
    ac->ev.cleanup = ngx_vms_redis_cleanup;

    (void) redisAsyncSetDisconnectCallback(ac, ngx_vms_redis_on_disconnect);
    (void) redisAsyncSetConnectCallback(ac, ngx_vms_redis_on_connect);

    ngx_add_timer(&rds->connect_timer, rds->conf.connect_timeout);

    /* queued before any user command; sent once the socket is writable */
    if (rds->conf.password.len) {
        const char  *argv[2] = { "AUTH", (const char *) rds->conf.password.data };
        size_t       len[2] = { 4, rds->conf.password.len };

        (void) redisAsyncCommandArgv(ac, ngx_vms_redis_init_reply, "AUTH",
                                     2, argv, len);
    }

    if (rds->conf.db > 0) {
        const char  *argv[2] = { "SELECT", db };
        size_t       len[2];

        len[0] = 6;
        len[1] = ngx_sprintf((u_char *) db, "%i", rds->conf.db) - (u_char *) db;
        (void) redisAsyncCommandArgv(ac, ngx_vms_redis_init_reply, "SELECT",
                                     2, argv, len);
    }

    for (s = rds->scripts; s; s = s->next) {
        const char  *argv[3] = { "SCRIPT", "LOAD", s->lua };
        size_t       len[3] = { 6, 4, s->len };

        (void) redisAsyncCommandArgv(ac, ngx_vms_redis_init_reply,
                                     "SCRIPT LOAD", 3, argv, len);
    }
}


ngx_int_t
ngx_vms_redis_init_process(ngx_vms_redis_t *rds, ngx_cycle_t *cycle)
{
    /* cache manager/loader processes run init_process too: no connection */
    if (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE) {
        return NGX_OK;
    }

    rds->log = cycle->log;

    rds->reconnect_ev.handler = ngx_vms_redis_reconnect_handler;
    rds->reconnect_ev.data = rds;
    rds->reconnect_ev.log = cycle->log;
    rds->reconnect_ev.cancelable = 1;

    rds->connect_timer.handler = ngx_vms_redis_connect_timeout;
    rds->connect_timer.data = rds;
    rds->connect_timer.log = cycle->log;
    rds->connect_timer.cancelable = 1;

    rds->stall_timer.handler = ngx_vms_redis_stall_handler;
    rds->stall_timer.data = rds;
    rds->stall_timer.log = cycle->log;
    rds->stall_timer.cancelable = 1;

    ngx_vms_redis_connect(rds);

    return NGX_OK;
}


void
ngx_vms_redis_exit_process(ngx_vms_redis_t *rds)
{
    if (rds->state == VMS_REDIS_IDLE) {
        return;
    }

    rds->state = VMS_REDIS_EXITING;

    if (rds->reconnect_ev.timer_set) {
        ngx_del_timer(&rds->reconnect_ev);
    }

    if (rds->stall_timer.timer_set) {
        ngx_del_timer(&rds->stall_timer);
    }

    if (rds->ac != NULL) {
        redisAsyncFree(rds->ac);
    }
}


/* ---- calls ------------------------------------------------------------- */

static void
ngx_vms_redis_detach(ngx_vms_redis_call_t *call)
{
    call->handler = NULL;

    if (call->timer.timer_set) {
        ngx_del_timer(&call->timer);
    }

    if (call->cln != NULL) {
        call->cln->handler = NULL;
        call->cln = NULL;
    }
}


static void
ngx_vms_redis_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply                *reply = r;
    ngx_vms_redis_call_t      *call = privdata;
    ngx_vms_redis_t           *rds = call->rds;
    ngx_vms_redis_handler_pt   handler;
    ngx_vms_redis_status_e     status;
    const char               **argv;
    size_t                    *len;

    rds->pending--;

    if (reply != NULL) {
        vms_stat(rds, replies);

        /* Redis answers: not (or no longer) stalled */
        if (rds->timeouts_in_row >= rds->conf.stall_after) {
            ngx_log_error(NGX_LOG_NOTICE, rds->log, 0,
                          "redis %V: answering again", &rds->conf.addr);
        }
        rds->timeouts_in_row = 0;
        if (rds->stall_timer.timer_set) {
            ngx_del_timer(&rds->stall_timer);
        }
    }

    if (reply != NULL && reply->type == REDIS_REPLY_ERROR
        && call->script != NULL && call->handler != NULL
        && reply->len >= 8 && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0
        && rds->ac != NULL)
    {
        /* argv[0..1] are "EVALSHA", sha: reuse the slots for "EVAL", lua */
        argv = call->argv;
        len = call->argvlen;
        argv[0] = "EVAL";
        len[0] = 4;
        argv[1] = call->script->lua;
        len[1] = call->script->len;
        call->script = NULL;

        if (redisAsyncCommandArgv(rds->ac, ngx_vms_redis_reply, call,
                                  call->argc, argv, len)
            == REDIS_OK)
        {
            rds->pending++;
            return;
        }
    }

    if (call->handler != NULL) {
        if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
            vms_stat(rds, errors);
            status = NGX_VMS_REDIS_ERROR;
        } else {
            status = NGX_VMS_REDIS_OK;
        }

        handler = call->handler;
        ngx_vms_redis_detach(call);

        if (rds->state != VMS_REDIS_EXITING) {
            handler(status, reply, call->data);
        }

    } else if (reply != NULL && reply->type == REDIS_REPLY_ERROR) {
        /* fire-and-forget or already timed out: still worth a log line */
        vms_stat(rds, errors);
        ngx_log_error(NGX_LOG_WARN, rds->log, 0,
                      "redis %V: late or unattended error reply: %*s",
                      &rds->conf.addr, (size_t) reply->len, reply->str);
    }

    ngx_free(call);
}


static void
ngx_vms_redis_call_timeout(ngx_event_t *ev)
{
    ngx_vms_redis_call_t      *call = ev->data;
    ngx_vms_redis_t           *rds = call->rds;
    ngx_vms_redis_handler_pt   handler;

    vms_stat(rds, timeouts);

    if (++rds->timeouts_in_row == rds->conf.stall_after) {
        ngx_log_error(NGX_LOG_ERR, rds->log, 0,
                      "redis %V: %ui calls in a row timed out, failing fast "
                      "until it answers", &rds->conf.addr, rds->timeouts_in_row);
        if (!rds->stall_timer.timer_set) {
            ngx_add_timer(&rds->stall_timer, rds->conf.stall_timeout);
        }
    }

    handler = call->handler;
    ngx_vms_redis_detach(call);

    /* the call stays queued in hiredis; its late reply frees it */
    if (handler != NULL) {
        handler(NGX_VMS_REDIS_TIMEOUT, NULL, call->data);
    }
}


static void
ngx_vms_redis_pool_cleanup(void *data)
{
    ngx_vms_redis_call_t  *call = data;

    call->cln = NULL;
    ngx_vms_redis_detach(call);
}


void
ngx_vms_redis_cancel(ngx_vms_redis_call_t *call)
{
    if (call != NULL) {
        ngx_vms_redis_detach(call);
    }
}


static ngx_int_t
ngx_vms_redis_submit(ngx_vms_redis_t *rds, ngx_pool_t *pool,
    ngx_msec_t timeout, ngx_vms_redis_script_t *script,
    ngx_vms_redis_handler_pt handler, void *data,
    int argc, const char **argv, const size_t *argvlen, int skip,
    ngx_vms_redis_call_t **callp)
{
    int                    i;
    size_t                 size;
    u_char                *p;
    ngx_vms_redis_call_t  *call;

    if (callp) {
        *callp = NULL;
    }

    if ((rds->state != VMS_REDIS_CONNECTED
         && rds->state != VMS_REDIS_CONNECTING)
        || rds->ac == NULL || rds->pending >= rds->conf.max_pending
        || rds->timeouts_in_row >= rds->conf.stall_after)
    {
        vms_stat(rds, declined);
        return NGX_DECLINED;
    }

    /* one allocation: call, argv[], argvlen[], then the argument bytes */
    size = sizeof(ngx_vms_redis_call_t)
           + argc * (sizeof(char *) + sizeof(size_t));
    for (i = skip; i < argc; i++) {
        size += argvlen[i];
    }

    call = ngx_alloc(size, rds->log);
    if (call == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(call, sizeof(ngx_vms_redis_call_t));
    call->rds = rds;
    call->handler = handler;
    call->data = data;
    call->script = script;
    call->argc = argc;
    call->argv = (const char **) (call + 1);
    call->argvlen = (size_t *) (call->argv + argc);

    p = (u_char *) (call->argvlen + argc);
    for (i = 0; i < argc; i++) {
        call->argvlen[i] = argvlen[i];
        if (i < skip) {
            call->argv[i] = argv[i];   /* static strings owned by caller/script */
            continue;
        }
        call->argv[i] = (const char *) p;
        p = ngx_cpymem(p, argv[i], argvlen[i]);
    }

    if (handler != NULL && pool != NULL) {
        call->cln = ngx_pool_cleanup_add(pool, 0);
        if (call->cln == NULL) {
            ngx_free(call);
            return NGX_ERROR;
        }
        call->cln->handler = ngx_vms_redis_pool_cleanup;
        call->cln->data = call;
    }

    if (redisAsyncCommandArgv(rds->ac, ngx_vms_redis_reply, call, argc,
                              call->argv, call->argvlen)
        != REDIS_OK)
    {
        if (call->cln) {
            call->cln->handler = NULL;
        }
        ngx_free(call);
        vms_stat(rds, declined);
        return NGX_DECLINED;
    }

    rds->pending++;
    vms_stat(rds, calls);

    if (handler != NULL && timeout > 0) {
        call->timer.handler = ngx_vms_redis_call_timeout;
        call->timer.data = call;
        call->timer.log = rds->log;
        ngx_add_timer(&call->timer, timeout);
    }

    if (callp) {
        *callp = call;
    }

    return NGX_OK;
}


ngx_int_t
ngx_vms_redis_call(ngx_vms_redis_t *rds, ngx_pool_t *pool, ngx_msec_t timeout,
    ngx_vms_redis_handler_pt handler, void *data, int argc, const char **argv,
    const size_t *argvlen, ngx_vms_redis_call_t **callp)
{
    return ngx_vms_redis_submit(rds, pool, timeout, NULL, handler, data,
                                argc, argv, argvlen, 0, callp);
}


#define VMS_REDIS_MAX_EVAL_ARGS  32

ngx_int_t
ngx_vms_redis_eval(ngx_vms_redis_t *rds, ngx_pool_t *pool, ngx_msec_t timeout,
    ngx_vms_redis_script_t *script, ngx_vms_redis_handler_pt handler,
    void *data, int nkeys, int argc, const char **argv, const size_t *argvlen,
    ngx_vms_redis_call_t **callp)
{
    int          i;
    u_char       nk[NGX_INT_T_LEN];
    const char  *av[VMS_REDIS_MAX_EVAL_ARGS + 3];
    size_t       al[VMS_REDIS_MAX_EVAL_ARGS + 3];

    if (argc > VMS_REDIS_MAX_EVAL_ARGS || nkeys > argc || nkeys < 0) {
        ngx_log_error(NGX_LOG_ALERT, rds->log, 0,
                      "redis %V: eval with %d args (max %d)",
                      &rds->conf.addr, argc, VMS_REDIS_MAX_EVAL_ARGS);
        return NGX_ERROR;
    }

    av[0] = "EVALSHA";
    al[0] = 7;
    av[1] = script->sha;
    al[1] = 40;
    av[2] = (const char *) nk;
    al[2] = ngx_sprintf(nk, "%d", nkeys) - nk;

    for (i = 0; i < argc; i++) {
        av[i + 3] = argv[i];
        al[i + 3] = argvlen[i];
    }

    /* argv[0..1] point at static/script memory, not copied (skip = 2) */
    return ngx_vms_redis_submit(rds, pool, timeout, script, handler, data,
                                argc + 3, av, al, 2, callp);
}
