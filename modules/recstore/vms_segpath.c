/*
 * MediaMTX-style segment path templates; see vms_segpath.h.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vms_segpath.h"

enum {
    PH_NONE = 0, PH_PATH, PH_Y, PH_m, PH_d, PH_H, PH_M, PH_S, PH_f, PH_s
};

/* Placeholder at p (which points at '%'): its kind and length, or PH_NONE. */
static int
placeholder(const char *p, size_t *len)
{
    if (strncmp(p, "%path", 5) == 0) {
        *len = 5;
        return PH_PATH;
    }
    *len = 2;
    switch (p[1]) {
    case 'Y': return PH_Y;
    case 'm': return PH_m;
    case 'd': return PH_d;
    case 'H': return PH_H;
    case 'M': return PH_M;
    case 'S': return PH_S;
    case 'f': return PH_f;
    case 's': return PH_s;
    default:  return PH_NONE;
    }
}

static int
literal_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'
           || c == '/';
}

int
vms_segpath_check(const char *tmpl, char *err, size_t errlen)
{
    unsigned    seen = 0;
    size_t      len;
    const char *p, *comp;
    int         ph;

    if (tmpl == NULL || strncmp(tmpl, "%path/", 6) != 0) {
        snprintf(err, errlen, "path template must begin with \"%%path/\"");
        return -1;
    }
    if (strlen(tmpl) > 200) {
        snprintf(err, errlen, "path template longer than 200 characters");
        return -1;
    }

    for (p = tmpl; *p != '\0'; p += len) {
        if (*p == '%') {
            ph = placeholder(p, &len);
            if (ph == PH_NONE) {
                snprintf(err, errlen, "path template: unknown placeholder "
                         "\"%%%c\" (known: %%path %%Y %%m %%d %%H %%M %%S "
                         "%%f %%s)", p[1] ? p[1] : ' ');
                return -1;
            }
            seen |= 1u << ph;
            continue;
        }
        len = 1;
        if (!literal_ok(*p)) {
            snprintf(err, errlen, "path template: character '%c' not "
                     "allowed (use A-Z a-z 0-9 _ - . /)", *p);
            return -1;
        }
    }

    /* Components: no empty, "." or ".." ones (no escape from the root). */
    for (comp = tmpl; ; ) {
        const char *slash = strchr(comp, '/');
        size_t      n = slash ? (size_t) (slash - comp) : strlen(comp);

        if (n == 0 || (n == 1 && comp[0] == '.')
            || (n == 2 && comp[0] == '.' && comp[1] == '.'))
        {
            snprintf(err, errlen, "path template: empty, \".\" or \"..\" "
                     "path component");
            return -1;
        }
        if (slash == NULL) {
            break;
        }
        comp = slash + 1;
    }

    if (!(seen & (1u << PH_s))
        && (seen & ((1u << PH_Y) | (1u << PH_m) | (1u << PH_d) | (1u << PH_H)
                    | (1u << PH_M) | (1u << PH_S)))
           != ((1u << PH_Y) | (1u << PH_m) | (1u << PH_d) | (1u << PH_H)
               | (1u << PH_M) | (1u << PH_S)))
    {
        snprintf(err, errlen, "path template must hold a complete time: %%s, "
                 "or all of %%Y %%m %%d %%H %%M %%S");
        return -1;
    }
    return 0;
}

int
vms_segpath_expand(const char *tmpl, const char *path, int64_t t_us,
    char *out, size_t outlen)
{
    char        err[128];
    int64_t     secs, usec;
    time_t      tt;
    struct tm   tm;
    size_t      o = 0, len;
    const char *p;
    int         n;

    if (vms_segpath_check(tmpl, err, sizeof(err)) != 0 || outlen == 0) {
        return -1;
    }

    secs = t_us / 1000000;
    usec = t_us % 1000000;
    if (usec < 0) {
        usec += 1000000;
        secs--;
    }
    tt = (time_t) secs;
    if (gmtime_r(&tt, &tm) == NULL) {
        return -1;
    }

    for (p = tmpl; *p != '\0'; p += len) {
        if (*p != '%') {
            len = 1;
            if (o + 1 >= outlen) {
                return -1;
            }
            out[o++] = *p;
            continue;
        }
        switch (placeholder(p, &len)) {
        case PH_PATH: n = snprintf(out + o, outlen - o, "%s", path); break;
        case PH_Y: n = snprintf(out + o, outlen - o, "%04d", tm.tm_year + 1900); break;
        case PH_m: n = snprintf(out + o, outlen - o, "%02d", tm.tm_mon + 1); break;
        case PH_d: n = snprintf(out + o, outlen - o, "%02d", tm.tm_mday); break;
        case PH_H: n = snprintf(out + o, outlen - o, "%02d", tm.tm_hour); break;
        case PH_M: n = snprintf(out + o, outlen - o, "%02d", tm.tm_min); break;
        case PH_S: n = snprintf(out + o, outlen - o, "%02d", tm.tm_sec); break;
        case PH_f: n = snprintf(out + o, outlen - o, "%06lld", (long long) usec); break;
        case PH_s: n = snprintf(out + o, outlen - o, "%lld", (long long) secs); break;
        default:   return -1;
        }
        if (n < 0 || (size_t) n >= outlen - o) {
            return -1;
        }
        o += (size_t) n;
    }
    out[o] = '\0';
    return (int) o;
}

const char *
vms_segpath_relative(const char *expanded, const char *path)
{
    size_t n = strlen(path);

    if (strncmp(expanded, path, n) != 0 || expanded[n] != '/') {
        return NULL;
    }
    return expanded + n + 1;
}

/* Reads exactly width digits (width 0: 1..19 digits) into *v. */
static const char *
digits(const char *s, int width, long long *v)
{
    int n = 0;

    *v = 0;
    while (s[n] >= '0' && s[n] <= '9' && (width == 0 ? n < 19 : n < width)) {
        *v = *v * 10 + (s[n] - '0');
        n++;
    }
    if (n == 0 || (width != 0 && n != width)) {
        return NULL;
    }
    return s + n;
}

int
vms_segpath_parse(const char *tmpl, const char *path, const char *rel,
    int64_t *t_us)
{
    char        err[128];
    struct tm   tm;
    long long   v, unix_s = -1, usec = 0;
    unsigned    seen = 0;
    const char *p = tmpl + 6, *s = rel;
    size_t      len;
    int         ph, width;
    time_t      tt;

    if (vms_segpath_check(tmpl, err, sizeof(err)) != 0) {
        return -1;
    }
    memset(&tm, 0, sizeof(tm));

    for (; *p != '\0'; p += len) {
        if (*p != '%') {
            len = 1;
            if (*s++ != *p) {
                return -1;
            }
            continue;
        }
        ph = placeholder(p, &len);
        if (ph == PH_PATH) {
            size_t n = strlen(path);

            if (strncmp(s, path, n) != 0) {
                return -1;
            }
            s += n;
            continue;
        }
        width = ph == PH_Y ? 4 : ph == PH_f ? 6 : ph == PH_s ? 0 : 2;
        s = digits(s, width, &v);
        if (s == NULL) {
            return -1;
        }
        seen |= 1u << ph;
        switch (ph) {
        case PH_Y: tm.tm_year = (int) v - 1900; break;
        case PH_m: tm.tm_mon = (int) v - 1; break;
        case PH_d: tm.tm_mday = (int) v; break;
        case PH_H: tm.tm_hour = (int) v; break;
        case PH_M: tm.tm_min = (int) v; break;
        case PH_S: tm.tm_sec = (int) v; break;
        case PH_f: usec = v; break;
        case PH_s: unix_s = v; break;
        default:   return -1;
        }
    }
    if (*s != '\0') {
        return -1;
    }

    if (seen & (1u << PH_s)) {
        *t_us = (int64_t) unix_s * 1000000 + usec;
        return 0;
    }
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31
        || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
    {
        return -1;
    }
    tt = timegm(&tm);
    if (tt == (time_t) -1) {
        return -1;
    }
    *t_us = (int64_t) tt * 1000000 + usec;
    return 0;
}
