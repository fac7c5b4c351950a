/* libFuzzer: playback request input — query arguments, RFC 3339 times,
 * durations, camera ids and segment paths (all untrusted). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

    /* the one parse every decision reads: an accepted query holds each known name at most once,
     * spelled exactly (a case-variant or encoded twin is what issue #20's bypass used) */
    pb_args_t a;
    const char *why;
    char *buf = malloc(size + PB_A_N);
    if (buf != NULL && pb_args_parse(s, size, buf, size + PB_A_N, &a, &why) == 0) {
        for (int k = 0; k < PB_A_N; k++) {
            size_t kl = strlen(pb_arg_names[k]), seen = 0;
            for (size_t i = 0; i <= size; i++) {
                if ((i == 0 || s[i - 1] == '&') && i + kl <= size && strncasecmp(s + i, pb_arg_names[k], kl) == 0
                    && (i + kl == size || s[i + kl] == '=' || s[i + kl] == '&')) {
                    seen++;
                }
            }
            if (seen > 1 || (seen == 1) != (a.v[k] != NULL)
                || (a.v[k] != NULL && (strlen(a.v[k]) != a.len[k] || a.len[k] > size))) {
                __builtin_trap();
            }
        }
        if (a.v[PB_A_PATH] != NULL && pb_path_ok(a.v[PB_A_PATH], a.len[PB_A_PATH])) {
            const char *p = a.v[PB_A_PATH];
            char cam[65];
            if (p[0] == '/' || p[0] == '.' || strstr(p, "/.") != NULL || strstr(p, "//") != NULL) {
                __builtin_trap();
            }
            size_t cl = pb_path_camera(p, a.len[PB_A_PATH], cam, sizeof(cam));
            if (cl > 0 && (strchr(cam, '/') != NULL || strchr(cam, '.') != NULL)) {
                __builtin_trap();
            }
        }
    }
    free(buf);
    if (pb_host_ok(s, size) && (memchr(s, '"', size) || memchr(s, '\\', size) || memchr(s, '/', size)
                                || memchr(s, '@', size) || memchr(s, ' ', size))) {
        __builtin_trap();
    }
    if (pb_go_duration_parse(s, size, &us) == 0 && us <= 0) {
        __builtin_trap();
    }
    static const char *const origins[] = { "https://app.example.com", "http://*.example.org", "*" };
    if (size <= 512) {
        char o[513];
        memcpy(o, s, size);
        o[size] = '\0';
        if (pb_origin_allowed(o, size, origins, 2) == PB_ORIGIN_ANY
            || pb_origin_allowed(o, size, origins, 3) == PB_ORIGIN_NONE) {
            __builtin_trap();
        }
        char esc[6 * 512 + 1];
        pb_json_escape(esc, s, size);
        for (size_t i = 0; esc[i]; i++) {
            if ((unsigned char) esc[i] < 0x20 || (esc[i] == '"' && (i == 0 || esc[i - 1] != '\\'))) {
                __builtin_trap();
            }
        }
    }
    return 0;
}
