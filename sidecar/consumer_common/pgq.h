/*
 * A request-serving sidecar's PostgreSQL (vms-review-api, vms-login): one
 * connection per worker thread, made on first use and again after it broke,
 * with short timeouts so a request never waits long on a database that is
 * away.  The caller answers 503 when a query gives NULL.
 */

#ifndef VMS_SVC_PGQ_H
#define VMS_SVC_PGQ_H

#include <libpq-fe.h>

/* Once, before the first query: the DSN (kept, not copied) and the
 * application_name PostgreSQL shows for these connections. */
void svc_pgq_init(const char *dsn, const char *app);

/*
 * Runs sql with n text parameters on this thread's connection; the result
 * (PGRES_TUPLES_OK or PGRES_COMMAND_OK, PQclear it) or NULL, logged with
 * libpq's first line (never the DSN).  A broken connection is made again
 * and the statement tried once more; a statement that failed on a good
 * connection is not repeated.
 */
PGresult *svc_pgq_exec(const char *sql, int n, const char *const *params);

#endif /* VMS_SVC_PGQ_H */
