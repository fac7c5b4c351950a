/* Review API parameters: see query.h. */
#include "query.h"

#include "pb_time.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
rq_time(const char *s, int64_t *us)
{
    if (s == NULL || *s == '\0' || strlen(s) > 40) {
        return -1;
    }
    /* unix seconds, with an optional fraction */
    size_t i = 0;
    while (isdigit((unsigned char) s[i])) {
        i++;
    }
    if (i > 0 && i <= 11 && (s[i] == '\0' || s[i] == '.')) {
        int64_t sec = 0, frac = 0, scale = 1000000;
        for (size_t k = 0; k < i; k++) {
            sec = sec * 10 + (s[k] - '0');
        }
        if (s[i] == '.') {
            size_t k = i + 1;
            if (!isdigit((unsigned char) s[k])) {
                return -1;
            }
            for (; isdigit((unsigned char) s[k]); k++) {
                if (scale > 1) {
                    scale /= 10;
                    frac += (s[k] - '0') * scale;
                }
            }
            if (s[k] != '\0') {
                return -1;
            }
        }
        *us = sec * 1000000 + frac;
        return 0;
    }
    /* RFC 3339, as the playback API reads it (modules/playback/core/pb_time.c) */
    if (pb_time_parse(s, strlen(s), us) != 0 || *us < 0) {
        return -1;
    }
    return 0;
}

void
rq_time_format(int64_t us, char *out, size_t len)
{
    time_t sec = (time_t) (us >= 0 ? us / 1000000 : (us - 999999) / 1000000);
    int ms = (int) ((us - (int64_t) sec * 1000000) / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, len - n, ".%03dZ", ms);
}

int
rq_cameras(const char *s, rq_cameras_t *out)
{
    out->n = 0;
    if (s == NULL || *s == '\0') {
        return -1;
    }
    for (;;) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t) (comma - s) : strlen(s);
        if (!vms_camera_id_valid(s, len) || out->n == RQ_CAMERAS_MAX) {
            return -1;
        }
        memcpy(out->v[out->n], s, len);
        out->v[out->n][len] = '\0';
        out->n++;
        if (comma == NULL) {
            return 0;
        }
        s = comma + 1;
    }
}

int
rq_scope_allows(const char *scope, const char *camera)
{
    if (scope == NULL || strcmp(scope, "-") == 0 || *scope == '\0') {
        return 0;
    }
    if (strcmp(scope, "*") == 0) {
        return 1;
    }
    size_t clen = strlen(camera);
    for (const char *p = scope;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t) (comma - p) : strlen(p);
        if (len == clen && memcmp(p, camera, len) == 0) {
            return 1;
        }
        if (comma == NULL) {
            return 0;
        }
        p = comma + 1;
    }
}

int
rq_id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > RQ_ID_MAX) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char) s[i]) && strchr("._:-", s[i]) == NULL) {
            return 0;
        }
    }
    return 1;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
rq_cursor_encode(int64_t start_us, const char *id, char *out, size_t len)
{
    char raw[200];
    int n = snprintf(raw, sizeof(raw), "%lld.%s", (long long) start_us, id);
    size_t o = 0;
    if (n < 0 || (size_t) n >= sizeof(raw)) {
        n = 0;
    }
    for (int i = 0; i < n && o + 5 < len; i += 3) {
        unsigned v = (unsigned char) raw[i] << 16;
        int k = n - i;
        if (k > 1) v |= (unsigned char) raw[i + 1] << 8;
        if (k > 2) v |= (unsigned char) raw[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        if (k > 1) out[o++] = b64[(v >> 6) & 63];
        if (k > 2) out[o++] = b64[v & 63];
    }
    out[o] = '\0';
}

int
rq_cursor_decode(const char *s, int64_t *start_us, char *id, size_t idlen)
{
    char raw[200];
    size_t n = strlen(s), o = 0;
    unsigned v = 0;
    int bits = 0;
    if (n == 0 || n > 256) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *p = strchr(b64, s[i]);
        if (p == NULL || s[i] == '\0') {
            return -1;
        }
        v = (v << 6) | (unsigned) (p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= sizeof(raw)) {
                return -1;
            }
            raw[o++] = (char) ((v >> bits) & 0xff);
        }
    }
    raw[o] = '\0';
    if (memchr(raw, '\0', o) != NULL) {
        return -1;
    }
    char *dot = strchr(raw, '.');
    if (dot == NULL || dot == raw || (size_t) (dot - raw) > 17) {
        return -1;
    }
    int64_t t = 0;
    for (char *p = raw; p < dot; p++) {
        if (!isdigit((unsigned char) *p)) {
            return -1;
        }
        t = t * 10 + (*p - '0');
    }
    if (!rq_id_ok(dot + 1) || strlen(dot + 1) >= idlen) {
        return -1;
    }
    *start_us = t;
    strcpy(id, dot + 1);
    return 0;
}
