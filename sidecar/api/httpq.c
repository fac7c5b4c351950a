#include "httpq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vms_pct.h"

static int
path_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '/' || c == '.' || c == '_'
           || c == '~' || c == '-';
}

static int
name_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static vms_httpq_rc_e
bad(vms_httpq_t *q, const char *fmt, const char *name)
{
    snprintf(q->why, sizeof(q->why), fmt, name ? name : "");
    return VMS_HTTPQ_BAD;
}

/*
 * Decodes [s, e) into out (NUL-terminated; out has room for e - s + 1).
 * 0, or -1 bad escape, -2 control byte.
 */
static int
decode(const char *s, const char *e, char *out)
{
    while (s < e) {
        int c = (unsigned char) *s;
        if (c == '%') {
            int hi, lo;
            if (e - s < 3 || (hi = vms_hexval((unsigned char) s[1])) < 0
                || (lo = vms_hexval((unsigned char) s[2])) < 0)
            {
                return -1;
            }
            c = hi * 16 + lo;
            s += 3;
        } else {
            if (c == '+') {
                c = ' ';
            }
            s++;
        }
        if (c < 0x20 || c == 0x7f) {
            return -2;
        }
        *out++ = (char) c;
    }
    *out = '\0';
    return 0;
}

vms_httpq_rc_e
vms_httpq_parse(vms_httpq_t *q, const char *target, size_t len)
{
    const char  *end = target + len, *qs, *p;
    char        *w;
    size_t       i;

    memset(q, 0, sizeof(*q));
    if (len > VMS_HTTPQ_MAX_TARGET) {
        snprintf(q->why, sizeof(q->why), "request target too long");
        return VMS_HTTPQ_TOO_LONG;
    }
    if (len == 0 || target[0] != '/') {
        return bad(q, "request target must be a path%s", NULL);
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char) target[i];
        if (c < 0x21 || c > 0x7e || c == '#') {
            return bad(q, "invalid character in the request target%s", NULL);
        }
    }
    /* decoding only shrinks: one buffer of len + NUL per piece is enough */
    q->buf = malloc(2 * len + 2);
    if (q->buf == NULL) {
        return bad(q, "out of memory%s", NULL);
    }
    w = q->buf;

    qs = memchr(target, '?', len);
    p = qs ? qs : end;
    for (const char *c = target; c < p; c++) {
        if (!path_char((unsigned char) *c)) {
            return bad(q, "invalid character in the path%s", NULL);
        }
    }
    q->path = w;
    memcpy(w, target, (size_t) (p - target));
    w += p - target;
    *w++ = '\0';
    if (qs == NULL || qs + 1 == end) {
        return VMS_HTTPQ_OK;
    }

    for (p = qs + 1; p <= end; ) {
        const char  *amp = memchr(p, '&', (size_t) (end - p));
        const char  *seg_end = amp ? amp : end;
        const char  *eq = memchr(p, '=', (size_t) (seg_end - p));
        const char  *name_end = eq ? eq : seg_end;
        char        *name, *value;
        int          rc;

        if (seg_end == p) {
            return bad(q, "empty query argument%s", NULL);
        }
        if (name_end == p || name_end - p > VMS_HTTPQ_MAX_NAME) {
            return bad(q, "malformed query argument name%s", NULL);
        }
        for (const char *c = p; c < name_end; c++) {
            if (!name_char((unsigned char) *c)) {
                return bad(q, "malformed query argument name%s", NULL);
            }
        }
        name = w;
        memcpy(w, p, (size_t) (name_end - p));
        w += name_end - p;
        *w++ = '\0';
        for (int k = 0; k < q->nargs; k++) {
            if (strcasecmp(q->args[k].name, name) == 0) {
                return bad(q, "query argument \"%s\" given more than once",
                           name);
            }
        }
        if (q->nargs == VMS_HTTPQ_MAX_ARGS) {
            return bad(q, "too many query arguments%s", NULL);
        }
        value = w;
        rc = decode(eq ? eq + 1 : seg_end, seg_end, w);
        if (rc == -1) {
            return bad(q, "query argument \"%s\": bad percent-encoding", name);
        }
        if (rc == -2) {
            return bad(q, "query argument \"%s\": control character", name);
        }
        w += strlen(w) + 1;
        q->args[q->nargs].name = name;
        q->args[q->nargs].value = value;
        q->nargs++;
        if (amp == NULL) {
            break;
        }
        p = amp + 1;
        if (p == end) {
            return bad(q, "empty query argument%s", NULL);
        }
    }
    return VMS_HTTPQ_OK;
}

void
vms_httpq_free(vms_httpq_t *q)
{
    free(q->buf);
    q->buf = NULL;
    q->path = NULL;
    q->nargs = 0;
}

const char *
vms_httpq_get(const vms_httpq_t *q, const char *name)
{
    for (int i = 0; i < q->nargs; i++) {
        if (strcmp(q->args[i].name, name) == 0) {
            return q->args[i].value;
        }
    }
    return NULL;
}

int
vms_httpq_only(const vms_httpq_t *q, const char *allowed, const char **bad_name)
{
    if (allowed == NULL) {
        return 1;
    }
    for (int i = 0; i < q->nargs; i++) {
        const char  *a = allowed;
        size_t       n = strlen(q->args[i].name);
        int          ok = 0;

        while (*a != '\0' && !ok) {
            size_t l = strcspn(a, " ");
            ok = l == n && memcmp(a, q->args[i].name, n) == 0;
            a += l;
            a += strspn(a, " ");
        }
        if (!ok) {
            *bad_name = q->args[i].name;
            return 0;
        }
    }
    return 1;
}

static size_t
id_len(const char *s)
{
    size_t n = 0;

    while (name_char((unsigned char) s[n]) && s[n] != '.') {
        n++;
    }
    return n;
}

int
vms_httpq_scope_valid(const char *scope)
{
    size_t n = 0;

    if (strcmp(scope, "*") == 0 || strcmp(scope, "-") == 0) {
        return 1;
    }
    for ( ;; ) {
        size_t l = id_len(scope);
        if (l == 0 || l > 64 || ++n > 256) {
            return 0;
        }
        scope += l;
        if (*scope == '\0') {
            return 1;
        }
        if (*scope++ != ',') {
            return 0;
        }
    }
}

int
vms_httpq_scope_has(const char *scope, const char *id)
{
    size_t n = strlen(id);

    if (strcmp(scope, "*") == 0) {
        return 1;
    }
    while (*scope != '\0') {
        size_t l = strcspn(scope, ",");
        if (l == n && memcmp(scope, id, n) == 0) {
            return 1;
        }
        scope += l;
        scope += *scope == ',';
    }
    return 0;
}
