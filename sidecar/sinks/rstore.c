#include "rstore.h"
#include "log.h"
#include "metrics.h"
#include "queue.h"
#include "reconnect.h"
#include "util.h"

#include <hiredis/hiredis.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    vms_qitem_t   q;
    int           argc;
    char        **argv;
    size_t       *lens;
} r_item_t;

static struct {
    char          *host;
    int            port;
    char          *unix_path;
    char          *password;
    vms_queue_t    queue;
    pthread_t      thread;
    int            started;
    atomic_int     stop;
    atomic_int     connected;
    redisContext  *c;
    vms_metric_t  *m_dropped, *m_errors;
} rs;

static void
item_free(r_item_t *it)
{
    int i;

    for (i = 0; i < it->argc; i++) {
        free(it->argv[i]);
    }
    free(it->argv);
    free(it->lens);
    free(it);
}

static int
try_connect(void)
{
    struct timeval  tv = { 2, 0 };
    redisReply     *r;

    rs.c = rs.unix_path ? redisConnectUnixWithTimeout(rs.unix_path, tv)
                        : redisConnectWithTimeout(rs.host, rs.port, tv);
    if (rs.c == NULL || rs.c->err) {
        vms_log_warn(NULL, "redis: cannot connect (%lld commands waiting):"
                     " %s", (long long) vms_queue_len(&rs.queue),
                     rs.c ? rs.c->errstr : "out of memory");
        goto fail;
    }
    redisSetTimeout(rs.c, tv);
    if (rs.password != NULL) {
        r = redisCommand(rs.c, "AUTH %s", rs.password);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            vms_log_error(NULL, "redis: AUTH refused");
            if (r) {
                freeReplyObject(r);
            }
            goto fail;
        }
        freeReplyObject(r);
    }
    atomic_store(&rs.connected, 1);
    vms_log_info(NULL, "redis: connected");
    return 0;
fail:
    if (rs.c) {
        redisFree(rs.c);
        rs.c = NULL;
    }
    return -1;
}

static void *
redis_thread(void *arg)
{
    vms_reconnect_t  rc;

    vms_reconnect_init(&rc, try_connect, 200, 5000);
    while (!atomic_load(&rs.stop)) {
        r_item_t    *it;
        redisReply  *r;

        if (rs.c == NULL && !vms_reconnect(&rc, &rs.queue)) {
            continue;
        }
        it = (r_item_t *) vms_queue_peek(&rs.queue, 200);
        if (it == NULL) {
            continue;
        }
        r = redisCommandArgv(rs.c, it->argc, (const char **) it->argv,
                             it->lens);
        if (r == NULL) {
            vms_log_warn(NULL, "redis: connection lost: %s", rs.c->errstr);
            redisFree(rs.c);
            rs.c = NULL;
            atomic_store(&rs.connected, 0);
            continue;       /* the command stays queued */
        }
        if (r->type == REDIS_REPLY_ERROR) {
            vms_log_error(NULL, "redis: %s refused: %s", it->argv[0], r->str);
            vms_series_add(vms_metric_series(rs.m_errors, ""), 1);
        }
        freeReplyObject(r);
        vms_queue_pop(&rs.queue);
        item_free(it);
    }
    if (rs.c != NULL) {
        redisFree(rs.c);
        rs.c = NULL;
    }
    return NULL;
}

static void
collect(vms_buf_t *out, void *data)
{
    vms_buf_printf(out,
        "# HELP vms_redis_queue Commands waiting for Redis\n"
        "# TYPE vms_redis_queue gauge\nvms_redis_queue %lld\n"
        "# HELP vms_redis_connected 1 while vmsd is connected to Redis\n"
        "# TYPE vms_redis_connected gauge\nvms_redis_connected %d\n",
        (long long) vms_queue_len(&rs.queue), atomic_load(&rs.connected));
}

int
vms_redis_start(const char *addr, const char *password, int64_t queue_max)
{
    const char *colon;
    int64_t     port;

    rs.m_dropped = vms_metric_new("vms_redis_dropped_total",
        "Redis commands refused because the queue was full", VMS_COUNTER,
        NULL, 0);
    rs.m_errors = vms_metric_new("vms_redis_errors_total",
        "Redis commands answered with an error", VMS_COUNTER, NULL, 0);
    vms_queue_init(&rs.queue, queue_max);
    if (addr == NULL) {
        vms_log_warn(NULL, "redis: no address configured; camera status and"
                     " snapshots are not published");
        return 0;
    }
    if (strncmp(addr, "unix:", 5) == 0) {
        rs.unix_path = strdup(addr + 5);
    } else {
        colon = strrchr(addr, ':');
        if (colon == NULL || vms_parse_int(colon + 1, 1, 65535, &port) != 0) {
            vms_log_error(NULL, "redis: address \"%s\" is not host:port or"
                          " unix:/path", addr);
            return -1;
        }
        rs.host = strndup(addr, (size_t) (colon - addr));
        rs.port = (int) port;
    }
    rs.password = password ? strdup(password) : NULL;
    if (pthread_create(&rs.thread, NULL, redis_thread, NULL) != 0) {
        vms_log_error(NULL, "redis: cannot start the writer thread");
        return -1;
    }
    rs.started = 1;
    vms_metrics_register_collector(collect, NULL);
    return 0;
}

void
vms_redis_stop(void)
{
    r_item_t *it;

    if (rs.started) {
        /* give queued status updates a moment to land */
        int64_t until = vms_mono_us() + 1000000;
        struct timespec ts = { 0, 20000000 };
        while (vms_queue_len(&rs.queue) > 0 && atomic_load(&rs.connected)
               && vms_mono_us() < until)
        {
            nanosleep(&ts, NULL);
        }
        atomic_store(&rs.stop, 1);
        vms_queue_kick(&rs.queue);
        pthread_join(rs.thread, NULL);
        rs.started = 0;
    }
    vms_queue_close(&rs.queue);
    while ((it = (r_item_t *) vms_queue_peek(&rs.queue, 0)) != NULL) {
        vms_queue_pop(&rs.queue);
        item_free(it);
    }
    free(rs.host);
    free(rs.unix_path);
    free(rs.password);
    rs.host = rs.unix_path = rs.password = NULL;
}

int
vms_redis_command(int argc, const char **argv, const size_t *argvlen)
{
    r_item_t *it;
    int       i;

    if (!rs.started) {
        return -1;
    }
    it = calloc(1, sizeof(*it));
    if (it == NULL) {
        goto fail;
    }
    it->argv = calloc((size_t) argc, sizeof(char *));
    it->lens = calloc((size_t) argc, sizeof(size_t));
    if (it->argv == NULL || it->lens == NULL) {
        goto fail;
    }
    for (i = 0; i < argc; i++) {
        size_t n = argvlen ? argvlen[i] : strlen(argv[i]);
        it->argv[i] = malloc(n + 1);
        if (it->argv[i] == NULL) {
            goto fail;
        }
        it->argc = i + 1;
        memcpy(it->argv[i], argv[i], n);
        it->argv[i][n] = '\0';
        it->lens[i] = n;
    }
    if (vms_queue_push(&rs.queue, &it->q) != 0) {
        vms_log_error(NULL, "redis: queue full; %s %s dropped", argv[0],
                      argc > 1 ? argv[1] : "");
        goto fail;
    }
    return 0;
fail:
    vms_series_add(vms_metric_series(rs.m_dropped, ""), 1);
    if (it != NULL) {
        item_free(it);
    }
    return -1;
}

int
vms_redis_set(const char *key, const void *value, size_t len, int64_t ttl_ms)
{
    const char  *argv[5];
    size_t       lens[5];
    char         ttl[32];
    int          argc = 3;

    argv[0] = "SET";    lens[0] = 3;
    argv[1] = key;      lens[1] = strlen(key);
    argv[2] = value;    lens[2] = len;
    if (ttl_ms > 0) {
        snprintf(ttl, sizeof(ttl), "%lld", (long long) ttl_ms);
        argv[3] = "PX";  lens[3] = 2;
        argv[4] = ttl;   lens[4] = strlen(ttl);
        argc = 5;
    }
    return vms_redis_command(argc, argv, lens);
}

void
vms_redis_stats(vms_redis_stats_t *st)
{
    st->enabled = rs.started;
    st->connected = atomic_load(&rs.connected);
    st->queued = vms_queue_len(&rs.queue);
}
