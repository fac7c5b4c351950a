/* MediaMTX / nginx-rtmp authorization request parsing.  See vms_authreq.h. */
#include <string.h>

#include "vms_authreq.h"
#include "vms_claims.h"
#include "vms_pct.h"

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
            long n = vms_form_decode(s + i + nl + 1, j - i - nl - 1, out, outlen);
            return n < 0 ? -2 : n;
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

/*
 * The body MediaMTX posts to authHTTPAddress (internal/auth/manager.go, authenticateHTTP): a JSON
 * object of exactly these members, every one a string except "id" (a UUID string, or null when the
 * request has no session: HLS playlists, playback, api, metrics, pprof).  Older MediaMTX versions
 * omit "token", "userAgent" or "id", so a missing member is "" (null for "id"); a member we do not
 * know, a member of another type, a malformed id, an unknown action or protocol are refused (400):
 * nothing ambiguous reaches the decision.
 */
enum { F_IP, F_USER, F_PASSWORD, F_TOKEN, F_ACTION, F_PATH, F_PROTOCOL, F_ID, F_QUERY, F_UA, F_N };
static const char *vms_mtx_fields[F_N] = {
    "ip", "user", "password", "token", "action", "path", "protocol", "id", "query", "userAgent"
};
static const char *vms_mtx_protocols[] = { "rtsp", "rtmp", "hls", "webrtc", "srt", "moq" };

static int
vms_uuid_valid(const char *s, size_t len)
{
    if (len != 36) {
        return 0;
    }
    for (size_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }
        } else if (vms_hexval((unsigned char) s[i]) < 0) {
            return 0;
        }
    }
    return 1;
}

int
vms_mtx_req_parse(vms_mtx_req_t *m, const char *body, size_t len, const char **why)
{
    const char *f[F_N];
    const char *key;
    json_t *val;

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
    for (int i = 0; i < F_N; i++) {
        f[i] = "";
    }
    json_object_foreach(m->doc, key, val) {
        int i = 0;
        while (i < F_N && strcmp(key, vms_mtx_fields[i]) != 0) {
            i++;
        }
        if (i == F_N) {
            *why = "request body has an unknown field";
            goto fail;
        }
        if (i == F_ID && json_is_null(val)) {
            continue;
        }
        if (!json_is_string(val)) {
            *why = i == F_ID ? "id must be a UUID or null" : "request fields must be strings";
            goto fail;
        }
        f[i] = json_string_value(val);
        if (i == F_ID && !vms_uuid_valid(f[i], json_string_length(val))) {
            *why = "id must be a UUID or null";
            goto fail;
        }
    }
    m->ip = f[F_IP];
    m->user = f[F_USER];
    m->password = f[F_PASSWORD];
    m->token = f[F_TOKEN];
    m->path = f[F_PATH];
    m->protocol = f[F_PROTOCOL];
    m->id = f[F_ID];
    m->query = f[F_QUERY];
    m->user_agent = f[F_UA];
    m->action = vms_action_from_name(f[F_ACTION], strlen(f[F_ACTION]));
    if (m->action == 0) {
        *why = "unknown action";
        goto fail;
    }
    /* MediaMTX names the protocol for publish and read, and may leave it empty for the others */
    int known = 0;
    for (size_t i = 0; i < sizeof(vms_mtx_protocols) / sizeof(vms_mtx_protocols[0]); i++) {
        known |= strcmp(m->protocol, vms_mtx_protocols[i]) == 0;
    }
    if (!known && (m->protocol[0] || m->action == VMS_ACT_PUBLISH || m->action == VMS_ACT_READ)) {
        *why = "unknown protocol";
        goto fail;
    }
    /* A media action names a path MediaMTX has validated (conf.IsValidPathName); anything else
     * (traversal, NUL, empty) is refused before any permission is looked at.  api, metrics and
     * pprof carry "" (their path is ignored, as MediaMTX does). */
    int media = m->action == VMS_ACT_PUBLISH || m->action == VMS_ACT_READ
                || m->action == VMS_ACT_PLAYBACK;
    size_t pl = json_string_length(json_object_get(m->doc, "path"));
    if ((media || pl) && (!vms_mtx_path_valid(m->path, pl) || strlen(m->path) != pl)) {
        *why = "invalid path name";
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
    static const struct { const char *call; int action, phase; } calls[] = {
        { "play", VMS_ACT_READ, VMS_RTMP_START },
        { "publish", VMS_ACT_PUBLISH, VMS_RTMP_START },
        { "update_play", VMS_ACT_READ, VMS_RTMP_UPDATE },
        { "update_publish", VMS_ACT_PUBLISH, VMS_RTMP_UPDATE },
        { "play_done", VMS_ACT_READ, VMS_RTMP_DONE },
        { "publish_done", VMS_ACT_PUBLISH, VMS_RTMP_DONE },
    };
    size_t c;
    for (c = 0; c < sizeof(calls) / sizeof(calls[0]); c++) {
        if (strcmp(call, calls[c].call) == 0) {
            q->action = calls[c].action;
            q->phase = calls[c].phase;
            break;
        }
    }
    if (c == sizeof(calls) / sizeof(calls[0])) {
        *why = "call must be play, publish, update_play, update_publish, play_done or publish_done";
        return -1;
    }
    if (vms_form_get(body, len, "name", q->name, sizeof(q->name)) < 0) {
        *why = "missing or malformed name";
        return -1;
    }
    /* the same class of name as MediaMTX's paths: no traversal reaches a permission check */
    if (!vms_mtx_path_valid(q->name, strlen(q->name))) {
        *why = "invalid stream name";
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
