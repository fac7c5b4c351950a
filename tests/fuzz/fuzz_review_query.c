/* Fuzz: the review API's parameters (sidecar/review_api/query.c), all straight from a request:
 * times, camera lists, scopes, ids and cursors.  A cursor that decodes encodes back the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[512];
    if (size >= sizeof(s)) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t us, start;
    char out[64], id[RQ_ID_MAX + 1], again[300];
    if (rq_time(s, &us) == 0) {
        rq_time_format(us, out, sizeof(out));
    }
    rq_cameras_t cams;
    if (rq_cameras(s, &cams) == 0) {
        for (size_t i = 0; i < cams.n; i++) {
            (void) rq_scope_allows(s, cams.v[i]);
        }
    }
    (void) rq_id_ok(s);
    if (rq_cursor_decode(s, &start, id, sizeof(id)) == 0) {
        rq_cursor_encode(start, id, again, sizeof(again));
        int64_t start2;
        char id2[RQ_ID_MAX + 1];
        if (rq_cursor_decode(again, &start2, id2, sizeof(id2)) != 0 || start2 != start || strcmp(id, id2) != 0) {
            abort();
        }
    }
    return 0;
}
