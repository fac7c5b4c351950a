/* Query-string and name validation for playback (see pb_query.h). */
#include "pb_query.h"

#include <string.h>

#include "vms_camera_id.h"
#include "vms_pct.h"

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
            if (vms_form_decode(q + i + nlen + 1, end - i - nlen - 1, out, outlen) < 0) {
                return -1;
            }
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
    const char *end = s + len;

    for (size_t ncomp = 1; ncomp <= 4; ncomp++) {
        const char *slash = nested ? memchr(s, '/', (size_t) (end - s)) : NULL;
        const char *e = slash != NULL ? slash : end;
        if (!vms_camera_id_valid(s, (size_t) (e - s))) {
            return 0;
        }
        if (slash == NULL) {
            return 1;
        }
        s = slash + 1;
    }
    return 0;
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

/* ---- one parse of the whole query (see pb_query.h) ---- */

const char *const pb_arg_names[PB_A_N] = {
    "path", "start", "end", "duration", "format", "gaps", "s", "t", "jwt", "token"
};

/* Decodes q[from, to) (%XX, '+') into out; -1 on a bad escape or a NUL.  out has room for the
 * decoded bytes and a NUL (pb_args_parse's buf is at least qlen + PB_A_N bytes, and what is already
 * stored in it was decoded from the query before from), so the decoder's bound never cuts. */
static long
decode(const char *q, size_t from, size_t to, char *out)
{
    return vms_form_decode(q + from, to - from, out, to - from + 1);
}

static int
known_name(const char *name, size_t len)
{
    for (int i = 0; i < PB_A_N; i++) {
        const char *k = pb_arg_names[i];
        size_t j = 0;
        while (j < len && k[j] != '\0') {
            int c = (unsigned char) name[j];
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != k[j]) {
                break;
            }
            j++;
        }
        if (j == len && k[j] == '\0') {
            return i;
        }
    }
    return -1;
}

int
pb_args_parse(const char *q, size_t qlen, char *buf, size_t buflen, pb_args_t *a, const char **why)
{
    size_t used = 0;
    memset(a, 0, sizeof(*a));
    if (buflen < qlen + PB_A_N) {
        *why = "query string too long";
        return -1;
    }
    for (size_t i = 0; i <= qlen;) {
        size_t end = i, eq;
        while (end < qlen && q[end] != '&') {
            end++;
        }
        for (eq = i; eq < end && q[eq] != '='; eq++) {
        }
        if (end == i) {          /* "&&" or a trailing '&': nothing there */
            i = end + 1;
            continue;
        }
        /* decoded into the free end of buf: "%64uration" is "duration" too */
        long nlen = decode(q, i, eq, buf + used);
        if (nlen < 0) {
            *why = "malformed query string: bad %-escape or NUL in an argument name";
            return -1;
        }
        int k = known_name(buf + used, (size_t) nlen);
        if (k >= 0) {
            size_t klen = strlen(pb_arg_names[k]);
            if (eq - i != klen || memcmp(q + i, pb_arg_names[k], klen) != 0) {
                *why = "argument names must be lowercase and unencoded";
                return -1;
            }
            if (a->v[k] != NULL) {
                *why = "repeated argument";
                return -1;
            }
            long vlen = eq < end ? decode(q, eq + 1, end, buf + used) : 0;
            if (vlen < 0) {
                *why = "malformed query string: bad %-escape or NUL in an argument value";
                return -1;
            }
            buf[used + (size_t) vlen] = '\0';
            a->v[k] = buf + used;
            a->len[k] = (size_t) vlen;
            used += (size_t) vlen + 1;
        }
        i = end + 1;
    }
    return 0;
}

int
pb_path_ok(const char *s, size_t len)
{
    if (len == 0 || len > 255) {
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
pb_path_camera(const char *path, size_t len, char *out, size_t outlen)
{
    size_t b = len;
    while (b > 0 && path[b - 1] != '/') {
        b--;
    }
    size_t n = len - b;
    if (n + 1 > outlen || !vms_camera_id_valid(path + b, n)) {
        return 0;
    }
    memcpy(out, path + b, n);
    out[n] = '\0';
    return n;
}

/* "scheme://host[:port][/...]" -> its parts, the port filled in for http/https. */
typedef struct {
    const char *scheme, *host, *port;
    size_t      slen, hlen, plen;
} origin_t;

static int
origin_split(const char *s, size_t len, origin_t *o)
{
    const char *sep = NULL;
    for (size_t i = 0; i + 2 < len; i++) {
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
            sep = s + i;
            break;
        }
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (i > 0 && s[i] >= '0'
              && s[i] <= '9') || (i > 0 && (s[i] == '+' || s[i] == '-' || s[i] == '.')))) {
            return -1;
        }
    }
    if (sep == NULL || sep == s) {
        return -1;
    }
    o->scheme = s;
    o->slen = (size_t) (sep - s);
    const char *h = sep + 3, *end = s + len, *p;
    for (p = h; p < end && *p != '/' && *p != '?' && *p != '#'; p++) {
    }
    end = p;
    const char *colon = NULL;
    if (h < end && *h == '[') {
        const char *rb = memchr(h, ']', (size_t) (end - h));
        if (rb == NULL) {
            return -1;
        }
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
        if (colon == NULL && rb + 1 != end) {
            return -1;
        }
    } else {
        for (p = h; p < end; p++) {
            if (*p == ':') {
                colon = p;
            }
        }
    }
    o->host = h;
    o->hlen = (size_t) ((colon ? colon : end) - h);
    o->port = colon ? colon + 1 : NULL;
    o->plen = colon ? (size_t) (end - colon - 1) : 0;
    if (o->plen == 0) {
        if (o->slen == 4 && strncmp(s, "http", 4) == 0) {
            o->port = "80", o->plen = 2;
        } else if (o->slen == 5 && strncmp(s, "https", 5) == 0) {
            o->port = "443", o->plen = 3;
        }
    }
    return 0;
}

static int
same(const char *a, size_t al, const char *b, size_t bl)
{
    return al == bl && (al == 0 || memcmp(a, b, al) == 0);
}

/* glob: "*." matches nothing or anything ending in '.', '*' anything */
static int
glob(const char *p, size_t pl, const char *s, size_t sl, int depth)
{
    if (depth > 8) {
        return 0;
    }
    while (pl > 0) {
        if (*p == '*') {
            int dot = pl > 1 && p[1] == '.';
            size_t skip = dot ? 2 : 1;
            if (dot && glob(p + 2, pl - 2, s, sl, depth + 1)) {
                return 1;
            }
            for (size_t k = 0; k <= sl; k++) {
                if ((!dot || (k > 0 && s[k - 1] == '.'))
                    && glob(p + skip, pl - skip, s + k, sl - k, depth + 1)) {
                    return 1;
                }
            }
            return 0;
        }
        if (sl == 0 || *p != *s) {
            return 0;
        }
        p++, pl--, s++, sl--;
    }
    return sl == 0;
}

int
pb_origin_allowed(const char *origin, size_t olen, const char *const *allowed, size_t n)
{
    int any = 0;
    origin_t o;
    int have = olen > 0 && olen <= 256 && origin_split(origin, olen, &o) == 0;
    for (size_t i = 0; i < n; i++) {
        origin_t a;
        if (strcmp(allowed[i], "*") == 0) {
            any = 1;
            continue;
        }
        if (!have || origin_split(allowed[i], strlen(allowed[i]), &a) < 0
            || !same(a.scheme, a.slen, o.scheme, o.slen) || !same(a.port, a.plen, o.port, o.plen)) {
            continue;
        }
        if (same(a.host, a.hlen, o.host, o.hlen)
            || (memchr(a.host, '*', a.hlen) && glob(a.host, a.hlen, o.host, o.hlen, 0))) {
            return PB_ORIGIN_ECHO;
        }
    }
    return any ? PB_ORIGIN_ANY : PB_ORIGIN_NONE;
}

size_t
pb_json_escape(char *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char) c;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(out + o, "\\u00", 4);
            out[o + 4] = hex[c >> 4];
            out[o + 5] = hex[c & 15];
            o += 6;
        } else {
            out[o++] = (char) c;
        }
    }
    out[o] = '\0';
    return o;
}

int
pb_segment_path_ok(const char *s, size_t len)
{
    return pb_media_path_ok(s, len) && len > 4 && memcmp(s + len - 4, ".mp4", 4) == 0
           && s[len - 5] != '/';
}

int
pb_host_ok(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0 || len > 255) {
        return 0;
    }
    if (s[0] == '[') {
        for (i = 1; i < len && s[i] != ']'; i++) {
            if (vms_hexval((unsigned char) s[i]) < 0 && s[i] != ':' && s[i] != '.') {
                return 0;
            }
        }
        if (i == len || i == 1) {
            return 0;
        }
        i++;
    } else {
        for (; i < len && s[i] != ':'; i++) {
            if (!(id_char((unsigned char) s[i]) || s[i] == '.' || s[i] == '~')) {
                return 0;
            }
        }
        if (i == 0) {
            return 0;
        }
    }
    if (i == len) {
        return 1;
    }
    if (s[i] != ':' || i + 1 == len || len - i - 1 > 5) {
        return 0;
    }
    for (i++; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}
