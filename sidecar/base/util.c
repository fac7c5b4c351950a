#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int
buf_reserve(vms_buf_t *b, size_t extra)
{
    size_t  need = b->len + extra + 1;
    size_t  cap;
    char   *p;

    if (need <= b->cap) {
        return 0;
    }
    cap = b->cap ? b->cap : 256;
    while (cap < need) {
        cap *= 2;
    }
    p = realloc(b->p, cap);
    if (p == NULL) {
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

int
vms_buf_append(vms_buf_t *b, const void *data, size_t n)
{
    if (buf_reserve(b, n) != 0) {
        return -1;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int
vms_buf_read_file(vms_buf_t *b, const char *path, size_t max)
{
    FILE    *f = fopen(path, "re");
    char     chunk[4096];
    size_t   n, total = 0;
    int      err = 0;

    if (f == NULL) {
        return -1;
    }
    while (err == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        total += n;
        err = total > max ? EFBIG : vms_buf_append(b, chunk, n) != 0 ? ENOMEM : 0;
    }
    if (err == 0 && ferror(f)) {
        err = EIO;
    }
    fclose(f);
    errno = err;
    return err ? -1 : 0;
}

int
vms_buf_printf(vms_buf_t *b, const char *fmt, ...)
{
    va_list  ap;
    int      n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_reserve(b, (size_t) n) != 0) {
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t) n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t) n;
    return 0;
}

/* The JSON escape of c, or NULL when c stands for itself; esc is the room
 * for a \u escape. */
static const char *
json_escape_of(unsigned char c, char esc[8])
{
    switch (c) {
    case '"':  return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default:
        if (c < 0x20) {
            snprintf(esc, 8, "\\u%04x", c);
            return esc;
        }
    }
    return NULL;
}

int
vms_buf_json_str(vms_buf_t *b, const char *s)
{
    const unsigned char *p;
    char                 esc[8];

    if (vms_buf_append(b, "\"", 1) != 0) {
        return -1;
    }
    for (p = (const unsigned char *) s; *p; p++) {
        const char *r = json_escape_of(*p, esc);

        if (r != NULL) {
            if (vms_buf_append(b, r, strlen(r)) != 0) {
                return -1;
            }
        } else if (vms_buf_append(b, p, 1) != 0) {
            return -1;
        }
    }
    return vms_buf_append(b, "\"", 1);
}

void
vms_buf_free(vms_buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void
vms_json_escape(char *out, size_t outlen, const char *s)
{
    const unsigned char *p;
    size_t               o = 0;
    char                 esc[8];

    if (outlen == 0) {
        return;
    }
    for (p = (const unsigned char *) s; *p; p++) {
        const char *r = json_escape_of(*p, esc);
        size_t      n = r ? strlen(r) : 1;

        if (o + n >= outlen) {
            break;      /* never cut an escape sequence in half */
        }
        if (r) {
            memcpy(out + o, r, n);
        } else {
            out[o] = (char) *p;
        }
        o += n;
    }
    out[o] = '\0';
}

int64_t
vms_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
vms_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
vms_mono_coarse_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *
vms_rfc3339(int64_t us, char *buf, size_t len)
{
    time_t     t = (time_t) (us / 1000000);
    struct tm  tm;

    gmtime_r(&t, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int) ((us % 1000000) / 1000));
    return buf;
}

static int
parse_number(const char *s, int64_t *v, const char **rest)
{
    char       *end;
    long long   n;

    while (isspace((unsigned char) *s)) {
        s++;
    }
    if (!isdigit((unsigned char) *s)) {
        return -1;
    }
    errno = 0;
    n = strtoll(s, &end, 10);
    if (errno != 0 || n < 0) {
        return -1;
    }
    *v = n;
    *rest = end;
    return 0;
}

int
vms_parse_duration_ms(const char *s, int64_t *ms)
{
    static const struct { const char *unit; int64_t mul; } units[] = {
        { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
        { "d", 86400000 },
    };
    const char  *rest;
    int64_t      n;
    size_t       i;

    if (parse_number(s, &n, &rest) != 0) {
        return -1;
    }
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(rest, units[i].unit) == 0) {
            if (n > INT64_MAX / units[i].mul / 1000) {
                return -1;
            }
            *ms = n * units[i].mul;
            return 0;
        }
    }
    return -1;
}

int
vms_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    char       *end;
    long long   n;

    if (*s == '\0' || isspace((unsigned char) *s)) {
        return -1;
    }
    errno = 0;
    n = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || n < min || n > max) {
        return -1;
    }
    *out = n;
    return 0;
}

int
vms_parse_bool(const char *s, int *out)
{
    if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcasecmp(s, "on")
        || !strcmp(s, "1"))
    {
        *out = 1;
        return 0;
    }
    if (!strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcasecmp(s, "off")
        || !strcmp(s, "0"))
    {
        *out = 0;
        return 0;
    }
    return -1;
}

int
vms_parse_size(const char *s, int64_t *out)
{
    static const struct { const char *unit; int64_t mul; } units[] = {
        { "", 1 }, { "B", 1 }, { "KB", 1LL << 10 }, { "MB", 1LL << 20 },
        { "GB", 1LL << 30 }, { "TB", 1LL << 40 },
    };
    const char  *rest;
    int64_t      n;
    size_t       i;

    if (parse_number(s, &n, &rest) != 0) {
        return -1;
    }
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(rest, units[i].unit) == 0) {
            if (n > INT64_MAX / units[i].mul) {
                return -1;
            }
            *out = n * units[i].mul;
            return 0;
        }
    }
    return -1;
}

void
vms_url_redact(const char *url, char *out, size_t outlen)
{
    const char  *scheme = strstr(url, "://");
    const char  *host, *at, *slash;

    if (scheme == NULL) {
        snprintf(out, outlen, "%s", url);
        return;
    }
    host = scheme + 3;
    slash = strchr(host, '/');
    at = memchr(host, '@', slash ? (size_t) (slash - host) : strlen(host));
    if (at == NULL) {
        snprintf(out, outlen, "%s", url);
        return;
    }
    snprintf(out, outlen, "%.*s***%s", (int) (host - url), url, at);
}

void
vms_trace_id(char *buf)
{
    static const char  hex[] = "0123456789abcdef";
    unsigned char      r[16];
    size_t             got = 0;
    int                i;

    while (got < sizeof(r)) {
        ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
        if (n <= 0) {
            /* getrandom cannot fail for 16 bytes after boot; keep going */
            int64_t t = vms_mono_us();
            memcpy(r + got, &t, sizeof(r) - got < 8 ? sizeof(r) - got : 8);
            got += sizeof(r) - got < 8 ? sizeof(r) - got : 8;
            continue;
        }
        got += (size_t) n;
    }
    for (i = 0; i < 16; i++) {
        buf[2 * i] = hex[r[i] >> 4];
        buf[2 * i + 1] = hex[r[i] & 0xf];
    }
    buf[32] = '\0';
}

int
vms_mkdir_p(const char *path, unsigned mode)
{
    char    tmp[4096];
    char   *p;
    size_t  n = strlen(path);

    if (n == 0 || n >= sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    memcpy(tmp, path, n + 1);
    for (p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, mode) != 0 && errno != EEXIST) {
                return -errno;
            }
            *p = '/';
        }
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

int
vms_write_file_atomic(const char *path, const void *data, size_t len)
{
    char         tmp[4096];
    const char  *p = data;
    int          fd, err;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int) getpid())
        >= (int) sizeof(tmp))
    {
        return -ENAMETOOLONG;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -errno;
    }
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            err = -errno;
            close(fd);
            unlink(tmp);
            return err;
        }
        p += n;
        len -= (size_t) n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        err = -errno;
        unlink(tmp);
        return err;
    }
    if (rename(tmp, path) != 0) {
        err = -errno;
        unlink(tmp);
        return err;
    }
    return 0;
}
