/* Fuzz: vms-login's login body (sidecar/login/body.c), straight from an unauthenticated client.
 * What it accepts is a name and password of allowed lengths without NUL. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char user[LG_USER_MAX + 1], pw[LG_PASSWORD_MAX + 1];
    int rc = lg_parse_login((const char *) data, size, user, pw);
    if (rc == LG_OK) {
        size_t u = strlen(user), p = strlen(pw);
        if (u == 0 || u > LG_USER_MAX || p == 0 || p > LG_PASSWORD_MAX) {
            abort();
        }
        (void) lg_user_name_ok(user);
    } else if (user[0] || pw[0]) {
        abort();
    }
    (void) lg_parse_error(rc);
    return 0;
}
