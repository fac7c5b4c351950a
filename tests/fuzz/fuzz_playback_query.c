/* libFuzzer: playback request input — query arguments, RFC 3339 times,
 * durations, camera ids and segment paths (all untrusted). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pb_query.h"
#include "pb_time.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *) data;
    static const char *names[] = { "path", "start", "end", "duration", "format", "gaps", "jwt" };
    char v[512], esc[3 * 512 + 1];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int rc = pb_arg(s, size, names[i], v, sizeof(v));
        if (rc == 1) {
            size_t len = strlen(v);
            int64_t us;
            if (pb_time_parse(v, len, &us) == 0) {
                char out[40];
                int64_t back;
                pb_time_format(out, us);
                /* what we print parses back to the same instant */
                if (pb_time_parse(out, strlen(out), &back) != 0 || back != us) {
                    __builtin_trap();
                }
            }
            if (pb_duration_parse(v, len, &us) == 0 && us <= 0) {
                __builtin_trap();
            }
            pb_camera_ok(v, len, 1);
            pb_query_escape(esc, v, len);
        }
    }
    int64_t us;
    pb_time_parse(s, size, &us);
    pb_duration_parse(s, size, &us);
    if (pb_media_path_ok(s, size)) {
        /* an accepted segment path never climbs out nor starts at the root */
        if (s[0] == '/' || s[0] == '.' || memmem(s, size, "/.", 2) != NULL) {
            __builtin_trap();
        }
    }
    if (pb_camera_ok(s, size, 1) && (memchr(s, '.', size) != NULL || s[0] == '/')) {
        __builtin_trap();
    }
    return 0;
}
