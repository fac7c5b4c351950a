/* MediaMTX / nginx-rtmp authorization request parsing.  See vms_authreq.h. */
#include <string.h>

#include "vms_authreq.h"
#include "vms_claims.h"

static int
vms_hex(char c)
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

static long
vms_pct_decode(const char *s, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= len) {
                return -2;
            }
            int hi = vms_hex(s[i + 1]), lo = vms_hex(s[i + 2]);
            if (hi < 0 || lo < 0) {
                return -2;
            }
            c = (char) (hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || o + 1 >= outlen) {
            return -2;
        }
        out[o++] = c;
    }
    if (outlen == 0) {
        return -2;
    }
    out[o] = '\0';
    return (long) o;
}

long
vms_form_get(const char *s, size_t len, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name), i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != '&') {
            j++;
        }
        if (j - i > nl && memcmp(s + i, name, nl) == 0 && s[i + nl] == '=') {
            return vms_pct_decode(s + i + nl + 1, j - i - nl - 1, out, outlen);
        }
        if (j - i == nl && memcmp(s + i, name, nl) == 0) {
            if (outlen == 0) {
                return -2;
            }
            out[0] = '\0';
            return 0;
        }
        i = j + 1;
    }
    return -1;
}

static int
vms_mtx_field(json_t *doc, const char *name, const char **out)
{
    json_t *v = json_object_get(doc, name);
    if (v == NULL || json_is_null(v)) {
        *out = "";
        return 0;
    }
    if (!json_is_string(v)) {
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

int
vms_mtx_req_parse(vms_mtx_req_t *m, const char *body, size_t len, const char **why)
{
    const char *action;
    memset(m, 0, sizeof(*m));
    if (len > VMS_AUTHREQ_BODY_MAX) {
        *why = "request body too large";
        return -1;
    }
    m->doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(m->doc)) {
        *why = "request body is not a JSON object";
        goto fail;
    }
    if (vms_mtx_field(m->doc, "ip", &m->ip) || vms_mtx_field(m->doc, "user", &m->user)
        || vms_mtx_field(m->doc, "password", &m->password)
        || vms_mtx_field(m->doc, "token", &m->token) || vms_mtx_field(m->doc, "path", &m->path)
        || vms_mtx_field(m->doc, "protocol", &m->protocol) || vms_mtx_field(m->doc, "id", &m->id)
        || vms_mtx_field(m->doc, "query", &m->query)
        || vms_mtx_field(m->doc, "userAgent", &m->user_agent)
        || vms_mtx_field(m->doc, "action", &action)) {
        *why = "request fields must be strings";
        goto fail;
    }
    m->action = vms_action_from_name(action, strlen(action));
    if (m->action == 0) {
        *why = "unknown action";
        goto fail;
    }
    return 0;
fail:
    json_decref(m->doc);
    m->doc = NULL;
    return -1;
}

void
vms_mtx_req_free(vms_mtx_req_t *m)
{
    json_decref(m->doc);
    m->doc = NULL;
}

int
vms_mtx_req_token(const vms_mtx_req_t *m, char *buf, size_t buflen, const char **tok, size_t *toklen)
{
    if (m->token[0]) {
        *tok = m->token;
        *toklen = strlen(m->token);
        return 0;
    }
    if (m->password[0]) {
        *tok = m->password;
        *toklen = strlen(m->password);
        return 0;
    }
    static const char *names[] = { "token", "jwt" };
    for (size_t i = 0; i < 2; i++) {
        long n = vms_form_get(m->query, strlen(m->query), names[i], buf, buflen);
        if (n > 0) {
            *tok = buf;
            *toklen = (size_t) n;
            return 0;
        }
    }
    return -1;
}

int
vms_rtmp_req_parse(vms_rtmp_req_t *q, const char *body, size_t len, char *tokbuf, size_t tokbuflen,
                   size_t *toklen, const char **why)
{
    char call[16], args[4096];
    memset(q, 0, sizeof(*q));
    *toklen = 0;
    if (len > VMS_AUTHREQ_BODY_MAX) {
        *why = "request body too large";
        return -1;
    }
    if (vms_form_get(body, len, "call", call, sizeof(call)) < 0) {
        *why = "missing call";
        return -1;
    }
    if (strcmp(call, "play") == 0) {
        q->action = VMS_ACT_READ;
    } else if (strcmp(call, "publish") == 0) {
        q->action = VMS_ACT_PUBLISH;
    } else {
        *why = "call must be play or publish";
        return -1;
    }
    if (vms_form_get(body, len, "name", q->name, sizeof(q->name)) < 0) {
        *why = "missing or malformed name";
        return -1;
    }
    if (vms_form_get(body, len, "app", q->app, sizeof(q->app)) == -2
        || vms_form_get(body, len, "addr", q->addr, sizeof(q->addr)) == -2) {
        *why = "malformed app or addr";
        return -1;
    }
    static const char *names[] = { "token", "jwt" };
    for (size_t i = 0; i < 2; i++) {
        long n = vms_form_get(body, len, names[i], tokbuf, tokbuflen);
        if (n == -2) {
            *why = "malformed or oversized token";
            return -1;
        }
        if (n > 0) {
            *toklen = (size_t) n;
            return 0;
        }
    }
    static const char *carriers[] = { "args", "tcurl", "tcUrl" };
    for (size_t c = 0; c < 3; c++) {
        long al = vms_form_get(body, len, carriers[c], args, sizeof(args));
        if (al <= 0) {
            continue;
        }
        const char *qs = args;
        if (c > 0) {
            qs = memchr(args, '?', (size_t) al);
            if (qs == NULL) {
                continue;
            }
            qs++;
        }
        size_t ql = (size_t) al - (size_t) (qs - args);
        for (size_t i = 0; i < 2; i++) {
            long n = vms_form_get(qs, ql, names[i], tokbuf, tokbuflen);
            if (n > 0) {
                *toklen = (size_t) n;
                return 0;
            }
        }
    }
    return 0;
}
