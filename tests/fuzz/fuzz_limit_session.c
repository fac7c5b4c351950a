/*
 * vms_limit's signed session parameter (untrusted: it rides in media URLs) and session ids:
 * the parser never crashes, accepts a parameter only when it is exactly what signing its own
 * fields gives (no second spelling of a valid parameter), and every id it makes is canonical.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vms_session.h"

#define CHECK(c)  do { if (!(c)) abort(); } while (0)

static const unsigned char KEY[] = "0123456789abcdef0123456789abcdef";


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int          rc;
    char         out[VMS_SESSION_PARAM_MAX + 1], id2[VMS_SESSION_ID_MAX + 1];
    size_t       id_len = 0, n, k;
    const char  *id = NULL, *p = (const char *) data;
    int64_t      exp;

    rc = vms_session_verify(KEY, 32, "cam1", 4, "alice", 5, p, size, 0, &id, &id_len);
    CHECK(rc >= VMS_SESSION_OK && rc <= VMS_SESSION_EXPIRED);

    if (rc == VMS_SESSION_OK) {
        CHECK(id >= p && id + id_len == p + size && vms_session_id_valid(id, id_len));
        exp = 0;
        for (k = 0; p[k] != '.'; k++) {
            exp = exp * 10 + (p[k] - '0');
        }
        n = vms_session_sign(KEY, 32, "cam1", 4, "alice", 5, id, id_len, exp, out);
        CHECK(n == size && memcmp(out, p, size) == 0);
    }

    n = vms_session_id(p, size, id2);
    CHECK(n <= VMS_SESSION_ID_MAX && (n == 0) == (size == 0));
    CHECK(n == 0 || vms_session_id_valid(id2, n));

    return 0;
}
