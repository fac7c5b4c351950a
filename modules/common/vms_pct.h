/* Hex digits and form (application/x-www-form-urlencoded) value decoding, shared by the
 * nginx modules' core code and vmsd.  nginx-free, header-only.  Only the common part lives
 * here: each caller keeps its own policy (which bytes it refuses, its return codes). */
#ifndef VMS_PCT_H
#define VMS_PCT_H

#include <stddef.h>

/* The value of hex digit c (either case), or -1. */
static inline int
vms_hexval(int c)
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

/*
 * Decodes the form value [s, s + len) ("%XX", '+' is a space) into out, NUL-terminated.
 * Returns the decoded length, or -1 on a truncated or non-hex escape, a NUL (literal or
 * "%00": it would cut the C string short), or when out (outlen bytes) has no room.
 */
static inline long
vms_form_decode(const char *s, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char) s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < len ? vms_hexval((unsigned char) s[i + 1]) : -1;
            int lo = hi >= 0 ? vms_hexval((unsigned char) s[i + 2]) : -1;
            if (lo < 0) {
                return -1;
            }
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == '\0' || o + 1 >= outlen) {
            return -1;
        }
        out[o++] = (char) c;
    }
    if (outlen == 0) {
        return -1;
    }
    out[o] = '\0';
    return (long) o;
}

#endif /* VMS_PCT_H */
