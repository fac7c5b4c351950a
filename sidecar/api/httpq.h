/*
 * The request target of vmsd's API ("/path?name=value&…"), parsed once and
 * strictly, before any route sees it (pure C: unit-tested and fuzzed).
 *
 * libmicrohttpd's own argument table cannot be used for decisions: it cuts a
 * value at a decoded %00 (so "camera=cam1%00/../x" reads as "cam1"), keeps
 * only the first of repeated names and lets bad escapes through.  Here:
 *
 *   - the path is taken raw and may hold only [A-Za-z0-9/._~-] (routes are
 *     matched on it byte for byte: no escape can alias a route);
 *   - arguments are name=value pairs separated by '&'; a name is
 *     [A-Za-z0-9_.-]{1,32}, raw; a value is percent-decoded ('+' is a space);
 *   - refused: an escape that is not '%' + two hex digits, a decoded control
 *     byte (NUL included) or DEL, a raw byte outside 0x21-0x7e, an empty
 *     argument ("a=1&&b=2"), a name given twice (in any letter case), more
 *     than VMS_HTTPQ_MAX_ARGS arguments, a fragment, a target longer than
 *     VMS_HTTPQ_MAX_TARGET.
 *
 * Errors are client-safe fixed strings (an argument's name at most, never
 * its value).
 */

#ifndef VMS_HTTPQ_H
#define VMS_HTTPQ_H

#include <stddef.h>

#define VMS_HTTPQ_MAX_ARGS    16
#define VMS_HTTPQ_MAX_NAME    32
#define VMS_HTTPQ_MAX_TARGET  4096

typedef enum {
    VMS_HTTPQ_OK = 0,
    VMS_HTTPQ_BAD,          /* 400 */
    VMS_HTTPQ_TOO_LONG,     /* 414 */
} vms_httpq_rc_e;

typedef struct {
    const char  *name;
    const char  *value;     /* decoded, NUL-terminated, no control bytes */
} vms_httpq_arg_t;

typedef struct {
    char            *buf;   /* owned storage of path, names and values */
    const char      *path;
    vms_httpq_arg_t  args[VMS_HTTPQ_MAX_ARGS];
    int              nargs;
    char             why[96];
} vms_httpq_t;

/* target: the request target as received (not decoded), len bytes. */
vms_httpq_rc_e vms_httpq_parse(vms_httpq_t *q, const char *target, size_t len);
void vms_httpq_free(vms_httpq_t *q);

/* The decoded value of name, NULL when absent. */
const char *vms_httpq_get(const vms_httpq_t *q, const char *name);

/*
 * Every argument's name in allowed (space-separated)?  NULL allowed: any
 * name.  Otherwise 0 and the first other name in *bad.
 */
int vms_httpq_only(const vms_httpq_t *q, const char *allowed, const char **bad);

/*
 * A camera scope (the X-VMS-Cameras header nginx sets from the token):
 * "*" every camera, "-" none, else ids [A-Za-z0-9_-]{1,64} separated by
 * commas (at most 256).  has() expects a valid scope.
 */
int vms_httpq_scope_valid(const char *scope);
int vms_httpq_scope_has(const char *scope, const char *id);

#endif /* VMS_HTTPQ_H */
