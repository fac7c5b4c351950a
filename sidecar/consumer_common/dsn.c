/* A sidecar's PostgreSQL DSN: see dsn.h. */
#include "dsn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

/* "password=" in key/value form, or user:password@ in a URI */
static int
has_password(const char *dsn)
{
    const char *at, *scheme, *p;

    /* the keyword (libpq allows spaces before '='), also as a URI parameter */
    for (p = strstr(dsn, "password"); p != NULL; p = strstr(p + 1, "password")) {
        const char *q = p + 8;
        while (*q == ' ') {
            q++;
        }
        if (*q == '=') {
            return 1;
        }
    }
    scheme = strstr(dsn, "://");
    if (scheme == NULL) {
        return 0;
    }
    at = strchr(scheme + 3, '@');
    return at != NULL && memchr(scheme + 3, ':', (size_t) (at - scheme - 3))
           != NULL;
}

char *
svc_dsn(const char *dsn_arg, const char *dsn_file, char *why, size_t whylen)
{
    char *s;

    why[0] = '\0';
    if ((dsn_arg != NULL) + (dsn_file != NULL) > 1) {
        snprintf(why, whylen, "give --dsn or --dsn-file, not both");
        return NULL;
    }
    if (dsn_arg != NULL) {
        if (has_password(dsn_arg)) {
            snprintf(why, whylen, "--dsn holds a password, which every user"
                     " sees in ps; give it in --dsn-file or VMS_PG_DSN_FILE");
            return NULL;
        }
        s = strdup(dsn_arg);
        if (s == NULL) {
            snprintf(why, whylen, "out of memory");
        }
        return s;
    }
    if (dsn_file != NULL) {
        s = vms_secret_get(dsn_file, why, whylen);
        if (s == NULL) {
            char inner[512];
            snprintf(inner, sizeof(inner), "%s", why);
            snprintf(why, whylen, "--dsn-file: %s", inner);
        }
        return s;
    }
    s = vms_secret_env("VMS_PG_DSN", why, whylen);
    if (s == NULL && why[0] == '\0') {
        snprintf(why, whylen, "no DSN: give --dsn-file, VMS_PG_DSN_FILE or"
                 " VMS_PG_DSN");
    }
    return s;
}
