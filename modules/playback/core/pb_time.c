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

/* One Go duration unit at s[*i]: its length in nanoseconds, 0 when unknown. */
static int64_t
go_unit(const char *s, size_t len, size_t *i)
{
    static const struct { const char *u; int64_t ns; } units[] = {
        { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
        { "ms", 1000000 }, { "s", 1000000000 }, { "m", 60000000000LL }, { "h", 3600000000000LL },
    };
    size_t best = 0;
    int64_t ns = 0;
    for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
        size_t ul = strlen(units[k].u);
        if (ul > best && *i + ul <= len && memcmp(s + *i, units[k].u, ul) == 0) {
            best = ul;
            ns = units[k].ns;
        }
    }
    /* Go reads the unit up to the next digit or '.': "5sec" is not "5s" */
    size_t e = *i + best;
    if (best == 0 || (e < len && !(s[e] == '.' || (s[e] >= '0' && s[e] <= '9')))) {
        return 0;
    }
    *i = e;
    return ns;
}

int
pb_go_duration_parse(const char *s, size_t len, int64_t *us)
{
    const int64_t max_ns = 10LL * 366 * 86400 * 1000000000LL;
    size_t i = 0;
    int64_t total = 0;
    if (i < len && s[i] == '+') {
        i++;
    }
    if (i == len) {
        return -1;
    }
    if (len - i == 1 && s[i] == '0') {
        return -1;                          /* Go's "0": valid, but not a positive duration */
    }
    while (i < len) {
        int64_t whole = 0, frac = 0, scale = 1;
        int digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            whole = whole * 10 + (s[i++] - '0');
            digits = 1;
            if (whole > max_ns) {
                return -1;
            }
        }
        if (i < len && s[i] == '.') {
            i++;
            while (i < len && s[i] >= '0' && s[i] <= '9') {
                if (scale < 1000000000LL) {         /* beyond nanoseconds: ignored */
                    frac = frac * 10 + (s[i] - '0');
                    scale *= 10;
                }
                digits = 1;
                i++;
            }
        }
        int64_t unit = digits ? go_unit(s, len, &i) : 0;
        if (unit == 0 || whole > max_ns / unit) {
            return -1;
        }
        /* frac < scale <= 1e9: exact in int64 either way (units from 1 s up divide by scale) */
        total += whole * unit + (unit >= 1000000000LL ? frac * (unit / scale) : frac * unit / scale);
        if (total > max_ns) {
            return -1;
        }
    }
    *us = total / 1000;
    return *us > 0 ? 0 : -1;
}

int
pb_get_duration_parse(const char *s, size_t len, int64_t *us)
{
    return pb_duration_parse(s, len, us) == 0 || pb_go_duration_parse(s, len, us) == 0 ? 0 : -1;
}
