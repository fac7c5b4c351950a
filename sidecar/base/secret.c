/* Secrets from refs and NAME_FILE variables: see secret.h. */
#include "secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
vms_secret_get(const char *ref, char *why, size_t whylen)
{
    if (ref == NULL || ref[0] == '\0') {
        snprintf(why, whylen, "empty secret reference");
        return NULL;
    }
    if (strncmp(ref, VMS_SECRET_AWS_PREFIX,
                sizeof(VMS_SECRET_AWS_PREFIX) - 1) == 0)
    {
        return vms_secret_aws_get(ref, why, whylen);
    }
    return vms_secret_read_file(ref, why, whylen);
}

char *
vms_secret_env(const char *name, char *why, size_t whylen)
{
    char         fname[128];
    const char  *v, *f;
    char        *s;

    why[0] = '\0';
    snprintf(fname, sizeof(fname), "%s_FILE", name);
    v = getenv(name);
    f = getenv(fname);
    if (v != NULL && v[0] == '\0') {
        v = NULL;
    }
    if (f != NULL && f[0] == '\0') {
        f = NULL;
    }
    if (v != NULL && f != NULL) {
        snprintf(why, whylen, "both %s and %s are set; set one", name, fname);
        return NULL;
    }
    if (v != NULL) {
        s = strdup(v);
        if (s == NULL) {
            snprintf(why, whylen, "%s: out of memory", name);
        }
        return s;
    }
    if (f == NULL) {
        return NULL;
    }
    s = vms_secret_get(f, why, whylen);
    if (s == NULL) {
        char inner[512];
        snprintf(inner, sizeof(inner), "%s", why);
        snprintf(why, whylen, "%s: %s", fname, inner);
    }
    return s;
}

void
vms_secret_flush(void)
{
    vms_secret_aws_flush();
}
