/* Playback time parsing and formatting (see pb_time.h). */
#include "pb_time.h"

#include <stdio.h>
#include <string.h>

#define US 1000000LL

static int
digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9') {
            return -1;
        }
        v = v * 10 + (s[*i] - '0');
    }
    *out = v;
    return 0;
}

/* days since 1970-01-01 of a civil date (Howard Hinnant's algorithm) */
static int64_t
days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int64_t) era * 146097 + doe - 719468;
}

static int
month_days(int y, int m)
{
    static const int md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : md[m - 1];
}

int
pb_time_parse(const char *s, size_t len, int64_t *us)
{
    size_t i = 0;
    int y, mo, d, h, mi, se;
    if (digits(s, len, &i, 4, &y) || i >= len || s[i++] != '-'
        || digits(s, len, &i, 2, &mo) || i >= len || s[i++] != '-'
        || digits(s, len, &i, 2, &d) || i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
        || (i++, digits(s, len, &i, 2, &h)) || i >= len || s[i++] != ':'
        || digits(s, len, &i, 2, &mi) || i >= len || s[i++] != ':'
        || digits(s, len, &i, 2, &se)) {
        return -1;
    }
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59
        || se > 60) {
        return -1;
    }
    int64_t frac = 0;
    if (i < len && (s[i] == '.' || s[i] == ',')) {
        i++;
        size_t start = i;
        int64_t scale = 100000;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            frac += (s[i] - '0') * scale;
            scale /= 10;
            i++;
            if (i - start > 9) {
                return -1;
            }
        }
        if (i == start) {
            return -1;
        }
    }
    int64_t off = 0;
    if (i < len) {
        if (s[i] == 'Z' || s[i] == 'z') {
            i++;
        } else if (s[i] == '+' || s[i] == '-') {
            int sign = s[i++] == '-' ? -1 : 1, oh, om;
            if (digits(s, len, &i, 2, &oh)) {
                return -1;
            }
            if (i < len && s[i] == ':') {
                i++;
            }
            if (digits(s, len, &i, 2, &om) || oh > 23 || om > 59) {
                return -1;
            }
            off = sign * ((int64_t) oh * 3600 + om * 60);
        } else {
            return -1;
        }
    }
    if (i != len) {
        return -1;
    }
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
    if (secs < 0) {
        return -1;
    }
    *us = secs * US + frac;
    return 0;
}

int
pb_duration_parse(const char *s, size_t len, int64_t *us)
{
    size_t i = 0;
    int64_t whole = 0, frac = 0, scale = 100000;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        whole = whole * 10 + (s[i] - '0');
        if (whole > 10LL * 366 * 86400) {
            return -1;
        }
        i++;
    }
    int have = i > 0;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            frac += (s[i] - '0') * scale;     /* digits beyond microseconds add 0 */
            scale /= 10;
            have = 1;
            i++;
        }
    }
    if (!have || i != len) {
        return -1;
    }
    *us = whole * US + frac;
    return *us > 0 ? 0 : -1;
}

size_t
pb_time_format(char *buf, int64_t us)
{
    int64_t secs = us >= 0 ? us / US : -((-us + US - 1) / US);
    int64_t frac = us - secs * US;
    int64_t z = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - z * 86400;
    /* civil from days (Howard Hinnant's algorithm) */
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    int n = snprintf(buf, 32, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld", (long long) y,
                     (long long) m, (long long) d, (long long) (rem / 3600),
                     (long long) (rem / 60 % 60), (long long) (rem % 60));
    if (frac > 0) {
        char f[24];
        snprintf(f, sizeof(f), "%06lld", (long long) frac);
        int fl = 6;
        while (fl > 0 && f[fl - 1] == '0') {
            fl--;
        }
        n += snprintf(buf + n, 32 - (size_t) n, ".%.*s", fl, f);
    }
    buf[n++] = 'Z';
    buf[n] = '\0';
    return (size_t) n;
}

size_t
pb_seconds_format(char *buf, int64_t us)
{
    int neg = us < 0;
    uint64_t a = neg ? (uint64_t) -us : (uint64_t) us;
    int n = snprintf(buf, 32, "%s%llu", neg ? "-" : "", (unsigned long long) (a / US));
    if (a % US) {
        n += snprintf(buf + n, 32 - (size_t) n, ".%06llu", (unsigned long long) (a % US));
        while (buf[n - 1] == '0') {
            n--;
        }
        buf[n] = '\0';
    }
    return (size_t) n;
}
