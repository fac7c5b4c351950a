/*
 * Secrets for every program (docs/security.md "Secrets"): from a file, from
 * the NAME_FILE environment convention of Docker and Kubernetes secrets, or
 * from AWS Secrets Manager.  Never from argv; no message of this module
 * carries a secret value.  secret_file.c (files, warnings, free) is plain
 * libc and linked by the nginx modules; secret.c (refs, NAME_FILE) and
 * secret_aws.c need libcurl and jansson.
 *
 * A reference ("ref") is where a secret lives:
 *   /path/to/file                 the file's contents, one trailing newline
 *                                 ("\n" or "\r\n") removed
 *   aws-sm:SECRET-ID[#JSON-KEY]   GetSecretValue's SecretString, or the
 *                                 string member JSON-KEY of it when it is
 *                                 a JSON object (secret_aws.c)
 */

#ifndef VMS_SECRET_H
#define VMS_SECRET_H

#include <stddef.h>

#define VMS_SECRET_AWS_PREFIX  "aws-sm:"

/* Where warnings go (a secret file readable by other users); default stderr.
 * The message names the file, never the value. */
typedef void (*vms_secret_warn_pt)(const char *msg);
void vms_secret_set_warn(vms_secret_warn_pt fn);

/* The secret a ref names: malloc'd, NUL-terminated, never empty; NULL with
 * the reason in why. */
char *vms_secret_get(const char *ref, char *why, size_t whylen);

/* A file's secret (no aws-sm: form): what vms_secret_get does for a path. */
char *vms_secret_read_file(const char *path, char *why, size_t whylen);

/*
 * The secret of environment variable NAME: NAME itself holds the value,
 * NAME_FILE holds a ref.  Both set is an error (a deployment that sets both
 * does not know which one it runs with).  Returns the malloc'd value; NULL
 * with why[0] == '\0' when neither is set; NULL with the reason otherwise.
 */
char *vms_secret_env(const char *name, char *why, size_t whylen);

/* vms_secret_env() with the NAME_FILE value resolved by get: the nginx
 * modules pass vms_secret_read_file (files only, no libcurl). */
typedef char *(*vms_secret_get_pt)(const char *ref, char *why, size_t whylen);
char *vms_secret_env_with(const char *name, vms_secret_get_pt get, char *why,
    size_t whylen);

/* Forgets the cached aws-sm: values: the next vms_secret_get fetches again
 * (vmsd calls it on SIGHUP before it reloads). */
void vms_secret_flush(void);

/* secret_aws.c: one GetSecretValue, cached for VMS_AWS_SM_TTL seconds
 * (default 3600) or until vms_secret_flush(). */
char *vms_secret_aws_get(const char *ref, char *why, size_t whylen);
void vms_secret_aws_flush(void);

/* Wipes and frees a secret. */
void vms_secret_free(char *s);

#endif /* VMS_SECRET_H */
