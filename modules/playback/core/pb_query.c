/* Query-string and name validation for playback (see pb_query.h). */
#include "pb_query.h"

#include <string.h>

static int
hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int
pb_arg(const char *q, size_t qlen, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name), i = 0;
    while (i <= qlen) {
        size_t end = i;
        while (end < qlen && q[end] != '&') {
            end++;
        }
        if (end - i > nlen && memcmp(q + i, name, nlen) == 0 && q[i + nlen] == '=') {
            size_t o = 0;
            for (size_t k = i + nlen + 1; k < end; k++) {
                int c = (unsigned char) q[k];
                if (c == '%') {
                    int h = k + 2 < end ? hexval(q[k + 1]) : -1;
                    int l = h >= 0 ? hexval(q[k + 2]) : -1;
                    if (l < 0) {
                        return -1;
                    }
                    c = h * 16 + l;
                    k += 2;
                } else if (c == '+') {
                    c = ' ';
                }
                if (c == 0 || o + 1 >= outlen) {
                    return -1;
                }
                out[o++] = (char) c;
            }
            if (outlen == 0) {
                return -1;
            }
            out[o] = '\0';
            return 1;
        }
        i = end + 1;
    }
    return 0;
}

static int
id_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
           || c == '-';
}

int
pb_camera_ok(const char *s, size_t len, int nested)
{
    size_t comp = 0, ncomp = 1;
    if (len == 0) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '/') {
            if (!nested || comp == 0 || ++ncomp > 4) {
                return 0;
            }
            comp = 0;
            continue;
        }
        if (!id_char((unsigned char) s[i]) || ++comp > 64) {
            return 0;
        }
    }
    return comp > 0;
}

int
pb_media_path_ok(const char *s, size_t len)
{
    if (len == 0 || len >= 160) {
        return 0;
    }
    size_t comp = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char) s[i];
        if (c == '/') {
            if (comp == 0) {
                return 0;
            }
            comp = 0;
            continue;
        }
        if (!(id_char(c) || c == '.') || (comp == 0 && c == '.')) {
            return 0;
        }
        comp++;
    }
    return comp > 0;
}

size_t
pb_query_escape(char *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        if (id_char(c) || c == '.' || c == '~') {
            out[o++] = (char) c;
        } else if (c == ' ') {
            out[o++] = '+';
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return o;
}

int
pb_int_parse(const char *s, int64_t *out)
{
    int neg = *s == '-';
    const char *p = s + neg;
    uint64_t v = 0;
    if (*p == '\0') {
        return -1;
    }
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > (uint64_t) INT64_MAX / 10) {
            return -1;
        }
        v = v * 10 + (uint64_t) (*p - '0');
        if (v > (uint64_t) INT64_MAX) {
            return -1;
        }
    }
    *out = neg ? -(int64_t) v : (int64_t) v;
    return 0;
}
