/* Fuzz: vms-playback-router's merge (sidecar/pbrouter/merge.c) over what nodes answer: the input is
 * two node playlists (split at a form feed) and also a timeline
 * and a /list body.  A merged playlist is itself mergeable, and merging it again with no other
 * node keeps every segment's #EXTINF line. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"

/* lines that start with `what` */
static size_t
count(const char *s, size_t len, const char *what)
{
    size_t n = 0, wl = strlen(what);
    for (const char *p = s, *end = s + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        n += (size_t) ((nl ? nl : end) - p) >= wl && memcmp(p, what, wl) == 0;
        p = nl ? nl + 1 : end;
    }
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *) data;
    const char *ff = memchr(s, '\f', size);
    pbr_part_t parts[2] = { { "node-a", s, ff ? (size_t) (ff - s) : size },
                            { "node-b", ff ? ff + 1 : "", ff ? size - (size_t) (ff + 1 - s) : 0 } };
    pb_buf_t out = { 0 };
    char why[256];
    if (pbr_merge_playlists(&out, parts, 2, "&jwt=x", why, sizeof(why)) == 0) {
        pbr_part_t again = { "node-c", out.p, out.len };
        pb_buf_t out2 = { 0 };
        if (pbr_merge_playlists(&out2, &again, 1, "", why, sizeof(why)) != 0
            || count(out2.p, out2.len, "#EXTINF:") != count(out.p, out.len, "#EXTINF:")) {
            abort();
        }
        pb_buf_free(&out2);
    }
    pb_buf_free(&out);

    pb_span_t *v = NULL;
    size_t n = 0;
    int64_t from, to;
    (void) pbr_timeline_spans(s, size, &v, &n, &from, &to);
    (void) pbr_list_spans(s, size, &v, &n);
    n = pbr_spans_union(v, n, 500000);
    for (size_t i = 1; i < n; i++) {
        if (v[i].start_us <= v[i - 1].end_us + 500000) {
            abort();
        }
    }
    free(v);
    return 0;
}
