/* A request-serving sidecar's PostgreSQL: see pgq.h. */
#include "pgq.h"

#include <string.h>

#include "svc.h"

static const char      *pgq_dsn;
static const char      *pgq_app;
static __thread PGconn *pg;

void
svc_pgq_init(const char *dsn, const char *app)
{
    pgq_dsn = dsn;
    pgq_app = app;
}

/* libpq's messages end in a newline and may go on for lines: the first one */
static void
say_first_line(const char *what, const char *m)
{
    const char *nl = strchr(m, '\n');
    svc_say("postgres: %s%.*s", what, nl ? (int) (nl - m) : (int) strlen(m), m);
}

static int
pg_ready(void)
{
    if (pg && PQstatus(pg) == CONNECTION_OK) {
        return 0;
    }
    if (pg) {
        PQfinish(pg);
    }
    const char *keys[] = { "dbname", "connect_timeout", "options", "application_name", NULL };
    const char *vals[] = { pgq_dsn, "3", "-c statement_timeout=5000", pgq_app, NULL };
    pg = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(pg) != CONNECTION_OK) {
        /* libpq's message names host and port, never the password */
        say_first_line("connect failed: ", PQerrorMessage(pg));
        PQfinish(pg);
        pg = NULL;
        return -1;
    }
    return 0;
}

PGresult *
svc_pgq_exec(const char *sql, int n, const char *const *params)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (pg_ready() != 0) {
            return NULL;
        }
        PGresult *res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            return res;
        }
        say_first_line("", PQresultErrorMessage(res));
        PQclear(res);
        if (PQstatus(pg) == CONNECTION_OK) {
            return NULL;      /* the statement failed, not the connection: do not repeat it */
        }
    }
    return NULL;
}
