/*
 * The PostgreSQL connection string of a sidecar, from where a secret may
 * live (docs/security.md "Secrets"):
 *   --dsn-file REF           a file or aws-sm:SECRET-ID[#KEY] (secret.h)
 *   VMS_PG_DSN / VMS_PG_DSN_FILE   the environment (NAME_FILE convention)
 *   --dsn DSN                only without a password: argv is visible to
 *                            every user in ps and /proc/PID/cmdline
 */

#ifndef VMS_SVC_DSN_H
#define VMS_SVC_DSN_H

#include <stddef.h>

/* malloc'd DSN, or NULL with the reason in why (never the DSN itself) */
char *svc_dsn(const char *dsn_arg, const char *dsn_file, char *why,
    size_t whylen);

#endif /* VMS_SVC_DSN_H */
