/* libFuzzer: vmsd's API request target (any bytes a client may send as
 * "/path?query") and the X-VMS-Cameras scope, both untrusted. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpq.h"

static int
id_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 64) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-'))
        {
            return 0;
        }
    }
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vms_httpq_t  q;
    const char  *bad;
    char        *s;

    if (vms_httpq_parse(&q, (const char *) data, size) == VMS_HTTPQ_OK) {
        /* what a route sees: a clean path, at most MAX_ARGS distinct names,
         * values without control bytes */
        if (q.path == NULL || q.path[0] != '/' || strchr(q.path, '%') != NULL
            || strchr(q.path, '?') != NULL || q.nargs > VMS_HTTPQ_MAX_ARGS)
        {
            __builtin_trap();
        }
        for (int i = 0; i < q.nargs; i++) {
            const unsigned char *v = (const unsigned char *) q.args[i].value;
            for (; *v; v++) {
                if (*v < 0x20 || *v == 0x7f) {
                    __builtin_trap();
                }
            }
            for (int j = 0; j < i; j++) {
                if (strcasecmp(q.args[i].name, q.args[j].name) == 0) {
                    __builtin_trap();
                }
            }
            if (vms_httpq_get(&q, q.args[i].name) != q.args[i].value) {
                __builtin_trap();
            }
        }
        vms_httpq_only(&q, "camera", &bad);
        vms_httpq_only(&q, "", &bad);
    }
    vms_httpq_free(&q);

    s = malloc(size + 1);
    if (s == NULL) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';
    if (vms_httpq_scope_valid(s) && strcmp(s, "*") != 0) {
        /* a valid list names valid ids only, so "*" or a path never matches
         * through it */
        if (vms_httpq_scope_has(s, "*") || vms_httpq_scope_has(s, "")) {
            __builtin_trap();
        }
        for (char *tok = strtok(s, ","); tok != NULL; tok = strtok(NULL, ",")) {
            if (strcmp(tok, "-") != 0 && !id_ok(tok)) {
                __builtin_trap();
            }
        }
    }
    free(s);
    return 0;
}
