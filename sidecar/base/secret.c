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
    return vms_secret_env_with(name, vms_secret_get, why, whylen);
}

void
vms_secret_flush(void)
{
    vms_secret_aws_flush();
}
