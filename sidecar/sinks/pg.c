#include "pg.h"
#include "log.h"
#include "metrics.h"
#include "queue.h"
#include "reconnect.h"
#include "util.h"

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

typedef struct {
    vms_qitem_t   q;
    char         *sql;
    int           nparams;
    char        **params;
} pg_item_t;

static struct {
    char          *conninfo;
    char          *schema_file;
    vms_queue_t    queue;
    pthread_t      thread;
    int            started;
    atomic_int     stop;
    int64_t        drain_until;    /* mono us; 0 = not draining */
    atomic_int     connected;
    PGconn        *conn;
    vms_metric_t  *m_dropped, *m_errors, *m_done;
} pg;

static void
item_free(pg_item_t *it)
{
    int i;

    for (i = 0; i < it->nparams; i++) {
        free(it->params[i]);
    }
    free(it->params);
    free(it->sql);
    free(it);
}

static int
run_schema(PGconn *conn)
{
    vms_buf_t  b = {0};
    PGresult  *res;
    int        ok;

    if (pg.schema_file == NULL) {
        return 0;
    }
    if (vms_buf_read_file(&b, pg.schema_file, 16u << 20) != 0) {
        vms_log_error(NULL, "postgres: cannot read schema %s: %s", pg.schema_file,
                      strerror(errno));
        vms_buf_free(&b);
        return -1;
    }
    res = PQexec(conn, b.p ? b.p : "");
    ok = PQresultStatus(res) == PGRES_COMMAND_OK
         || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok) {
        vms_log_error(NULL, "postgres: schema %s failed: %s", pg.schema_file,
                      PQresultErrorMessage(res));
    }
    PQclear(res);
    vms_buf_free(&b);
    return ok ? 0 : -1;
}

static void
strip_nl(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ')) {
        s[--n] = '\0';
    }
}

static int
try_connect(void)
{
    const char *keys[] = { "dbname", "connect_timeout",
                           "application_name", NULL };
    const char *vals[] = { pg.conninfo, "5", "vmsd", NULL };
    char        msg[512];

    pg.conn = PQconnectdbParams(keys, vals, 1);
    if (pg.conn == NULL || PQstatus(pg.conn) != CONNECTION_OK) {
        /* libpq's message names host/port, never the password */
        snprintf(msg, sizeof(msg), "%s",
                 pg.conn ? PQerrorMessage(pg.conn) : "out of memory");
        strip_nl(msg);
        vms_log_warn(NULL, "postgres: cannot connect (%lld statements"
                     " waiting): %s", (long long) vms_queue_len(&pg.queue),
                     msg);
        PQfinish(pg.conn);
        pg.conn = NULL;
        return -1;
    }
    if (run_schema(pg.conn) != 0 && PQstatus(pg.conn) != CONNECTION_OK) {
        PQfinish(pg.conn);
        pg.conn = NULL;
        return -1;
    }
    atomic_store(&pg.connected, 1);
    vms_log_info(NULL, "postgres: connected");
    return 0;
}

/* 1 done (drop it), 0 connection lost (keep it). */
static int
execute(pg_item_t *it)
{
    PGresult        *res;
    ExecStatusType   st;
    char             msg[512];

    res = PQexecParams(pg.conn, it->sql, it->nparams, NULL,
                       (const char *const *) it->params, NULL, NULL, 0);
    st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(res);
        vms_series_add(vms_metric_series(pg.m_done, ""), 1);
        return 1;
    }
    snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(res));
    strip_nl(msg);
    PQclear(res);
    if (PQstatus(pg.conn) != CONNECTION_OK) {
        vms_log_warn(NULL, "postgres: connection lost: %s", msg);
        PQfinish(pg.conn);
        pg.conn = NULL;
        atomic_store(&pg.connected, 0);
        return 0;
    }
    vms_log_error(NULL, "postgres: statement rejected, dropped: %s", msg);
    vms_series_add(vms_metric_series(pg.m_errors, ""), 1);
    return 1;
}

static void *
pg_thread(void *arg)
{
    vms_reconnect_t  rc;

    vms_reconnect_init(&rc, try_connect, 500, 5000);
    for (;;) {
        int64_t   now = vms_mono_us();
        pg_item_t *it;

        if (atomic_load(&pg.stop)
            && (pg.drain_until == 0 || now >= pg.drain_until
                || vms_queue_len(&pg.queue) == 0))
        {
            break;
        }
        if (pg.conn == NULL && !vms_reconnect(&rc, &pg.queue)) {
            continue;
        }
        it = (pg_item_t *) vms_queue_peek(&pg.queue, 200);
        if (it == NULL) {
            continue;
        }
        if (execute(it)) {
            vms_queue_pop(&pg.queue);
            item_free(it);
        }
    }
    if (pg.conn != NULL) {
        PQfinish(pg.conn);
        pg.conn = NULL;
    }
    return NULL;
}

static void
collect(vms_buf_t *out, void *data)
{
    vms_buf_printf(out,
        "# HELP vms_pg_queue Statements waiting for PostgreSQL\n"
        "# TYPE vms_pg_queue gauge\nvms_pg_queue %lld\n"
        "# HELP vms_pg_connected 1 while vmsd is connected to PostgreSQL\n"
        "# TYPE vms_pg_connected gauge\nvms_pg_connected %d\n",
        (long long) vms_queue_len(&pg.queue), atomic_load(&pg.connected));
}

int
vms_pg_start(const char *conninfo, const char *schema_file, int64_t queue_max)
{
    pg.m_dropped = vms_metric_new("vms_pg_dropped_total",
        "Statements refused because the PostgreSQL queue was full",
        VMS_COUNTER, NULL, 0);
    pg.m_errors = vms_metric_new("vms_pg_errors_total",
        "Statements rejected by PostgreSQL (dropped)", VMS_COUNTER, NULL, 0);
    pg.m_done = vms_metric_new("vms_pg_statements_total",
        "Statements executed", VMS_COUNTER, NULL, 0);
    vms_queue_init(&pg.queue, queue_max);
    if (conninfo == NULL) {
        vms_log_warn(NULL, "postgres: no connection configured"
                     " (postgres_file or VMS_PG_CONNINFO); not writing rows");
        return 0;
    }
    pg.conninfo = strdup(conninfo);
    pg.schema_file = schema_file ? strdup(schema_file) : NULL;
    if (pthread_create(&pg.thread, NULL, pg_thread, NULL) != 0) {
        vms_log_error(NULL, "postgres: cannot start the writer thread");
        return -1;
    }
    pg.started = 1;
    vms_metrics_register_collector(collect, NULL);
    return 0;
}

void
vms_pg_stop(int64_t drain_ms)
{
    pg_item_t *it;
    int64_t    left = 0;

    if (pg.started) {
        pg.drain_until = vms_mono_us() + drain_ms * 1000;
        atomic_store(&pg.stop, 1);
        vms_queue_kick(&pg.queue);
        pthread_join(pg.thread, NULL);
        pg.started = 0;
    }
    vms_queue_close(&pg.queue);
    while ((it = (pg_item_t *) vms_queue_peek(&pg.queue, 0)) != NULL) {
        vms_queue_pop(&pg.queue);
        item_free(it);
        left++;
    }
    if (left > 0) {
        vms_log_error(NULL, "postgres: %lld statements not written at exit",
                      (long long) left);
        vms_series_add(vms_metric_series(pg.m_dropped, ""), (double) left);
    }
    free(pg.conninfo);
    free(pg.schema_file);
    pg.conninfo = pg.schema_file = NULL;
}

int
vms_pg_exec_async(const char *sql, int nparams, const char *const *params)
{
    pg_item_t *it;
    int        i;

    if (pg.conninfo == NULL) {
        return -1;
    }
    it = calloc(1, sizeof(*it));
    if (it == NULL) {
        goto fail;
    }
    it->sql = strdup(sql);
    it->params = calloc((size_t) (nparams > 0 ? nparams : 1), sizeof(char *));
    if (it->sql == NULL || it->params == NULL) {
        goto fail;
    }
    for (i = 0; i < nparams; i++) {
        if (params[i] != NULL && (it->params[i] = strdup(params[i])) == NULL) {
            goto fail;
        }
        it->nparams = i + 1;
    }
    it->nparams = nparams;
    if (vms_queue_push(&pg.queue, &it->q) != 0) {
        vms_log_error(NULL, "postgres: queue full (%lld); statement dropped",
                      (long long) vms_queue_len(&pg.queue));
        goto fail;
    }
    return 0;
fail:
    vms_series_add(vms_metric_series(pg.m_dropped, ""), 1);
    if (it != NULL) {
        item_free(it);
    }
    return -1;
}

void
vms_pg_stats(vms_pg_stats_t *st)
{
    st->enabled = pg.conninfo != NULL;
    st->connected = atomic_load(&pg.connected);
    st->queued = vms_queue_len(&pg.queue);
}
