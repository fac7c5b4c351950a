/* Review API parameters: see query.h. */
#include "query.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int
digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char) s[i])) {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil) */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

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
    /* RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM) */
    int y, mo, d, h, mi, se;
    if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-'
        || digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h)
        || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se)) {
        return -1;
    }
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap)
        || h > 23 || mi > 59 || se > 60) {
        return -1;
    }
    const char *p = s + 19;
    int64_t frac = 0, scale = 1000000;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char) *p)) {
            return -1;
        }
        for (; isdigit((unsigned char) *p); p++) {
            if (scale > 1) {
                scale /= 10;
                frac += (*p - '0') * scale;
            }
        }
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59) {
            return -1;
        }
        off = (*p == '+' ? 1 : -1) * (int64_t) (oh * 3600 + om * 60);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0') {
        return -1;
    }
    int64_t sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se) - off;
    *us = sec * 1000000 + frac;
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
rq_camera_ok(const char *s, size_t len)
{
    if (len == 0 || len > RQ_CAMERA_MAX) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char) s[i]) && s[i] != '_' && s[i] != '-') {
            return 0;
        }
    }
    return 1;
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
        if (!rq_camera_ok(s, len) || out->n == RQ_CAMERAS_MAX) {
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
