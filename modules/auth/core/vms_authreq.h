/*
 * Parsers for authorization requests that arrive from media servers (nginx-free core):
 * MediaMTX's external-auth JSON body and nginx-rtmp's form-encoded on_play/on_publish callbacks,
 * plus query-string lookup with percent-decoding.  All input is untrusted (fuzzed in tests/fuzz).
 */
#ifndef VMS_AUTHREQ_H
#define VMS_AUTHREQ_H

#include <stddef.h>
#include <jansson.h>

#define VMS_AUTHREQ_BODY_MAX 16384

typedef struct {
    json_t     *doc;        /* owned */
    /* "" when absent (id: also when null); point into doc */
    const char *ip, *user, *password, *token, *path, *protocol, *id, *query, *user_agent;
    int         action;     /* VMS_ACT_* */
} vms_mtx_req_t;

/*
 * Exactly MediaMTX's members (ip, user, password, token, action, path, protocol, id, query,
 * userAgent), strings, id a UUID or null; action one of the six; protocol rtsp|rtmp|hls|webrtc|srt|moq
 * (may be "" except for publish/read); path a valid MediaMTX path name for publish/read/playback
 * (vms_mtx_path_valid), "" or valid for the others.  0 or -1 with *why (client-safe; a 400 answer).
 */
int  vms_mtx_req_parse(vms_mtx_req_t *m, const char *body, size_t len, const char **why);
void vms_mtx_req_free(vms_mtx_req_t *m);

/*
 * The credential a MediaMTX request carries: "token", else "password", else token=/jwt= inside
 * "query".  Decoded query values are written to buf.  Returns 0 with *tok and *toklen or -1 (none).
 */
int  vms_mtx_req_token(const vms_mtx_req_t *m, char *buf, size_t buflen, const char **tok,
                       size_t *toklen);

/*
 * Looks up name in an application/x-www-form-urlencoded string and percent-decodes its value into
 * out (NUL-terminated).  Returns the decoded length, -1 when absent, -2 when it does not fit or is
 * malformed.
 */
long vms_form_get(const char *s, size_t len, const char *name, char *out, size_t outlen);

enum { VMS_RTMP_START = 0, VMS_RTMP_UPDATE, VMS_RTMP_DONE };

typedef struct {
    int   action;                       /* VMS_ACT_READ for play, VMS_ACT_PUBLISH for publish */
    int   phase;                        /* VMS_RTMP_START play|publish, _UPDATE update_play|
                                           update_publish (on_update), _DONE play_done|publish_done */
    char  name[256];                    /* stream name (the camera id in our stack) */
    char  app[128];
    char  addr[64];
} vms_rtmp_req_t;

/*
 * nginx-rtmp on_play/on_publish body (and on_update's update_play/update_publish, on_play_done's
 * play_done, on_publish_done's publish_done: the same fields).  The token is taken from a form field token=/jwt=, else from
 * "args" (the stream's query string), else from tcUrl's query.  Returns 0 (token may be absent:
 * *toklen = 0) or -1 with *why.
 */
int  vms_rtmp_req_parse(vms_rtmp_req_t *q, const char *body, size_t len, char *tokbuf,
                        size_t tokbuflen, size_t *toklen, const char **why);

#endif
