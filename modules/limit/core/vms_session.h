/*
 * Player sessions of the stream leases, nginx-free.
 *
 * A lease is held by one player session.  Its id (the member of the user's
 * lease set) is the canonical form of whatever names the session: kept as is
 * when it is short and made of [A-Za-z0-9._:-], otherwise "~" + 22
 * base64url characters of its SHA-256 (a token, an id with odd bytes).
 *
 * A playlist that opened (or renewed) a lease carries a signed session
 * parameter to every media URI it lists:
 *
 *     EXPIRY "." MAC "." SESSION
 *
 * EXPIRY is unix seconds (decimal), MAC the first 16 bytes of
 * HMAC-SHA256(key, "vms-session-v1" | scope | user | session | expiry), each
 * field length-prefixed, in base64url without padding (22 characters).
 * SESSION is last so it may contain dots.  Media requests check it with the
 * key alone (no shared state): scope (the camera) and user must be those of
 * the media request.
 */

#ifndef VMS_SESSION_H
#define VMS_SESSION_H

#include <stddef.h>
#include <stdint.h>

#define VMS_SESSION_ID_MAX     64
#define VMS_SESSION_MAC_LEN    22          /* base64url of 16 bytes */
#define VMS_SESSION_KEY_MIN    32
#define VMS_SESSION_KEY_MAX    256
/* expiry (at most 19 digits) "." mac "." id */
#define VMS_SESSION_PARAM_MAX  (19 + 1 + VMS_SESSION_MAC_LEN + 1 + VMS_SESSION_ID_MAX)

/* 1 when c may appear in a signed parameter: the digits and dots of its
 * frame, base64url, and the id's [A-Za-z0-9._:-] or "~" (what a URI query
 * carries unescaped).  Header-only: vms-playback-router checks with it. */
static inline int
vms_session_param_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':'
           || c == '-' || c == '~';
}

/* Canonical session id of `v` into out (VMS_SESSION_ID_MAX + 1 bytes, NUL
 * terminated); returns its length, 0 when v is empty. */
size_t vms_session_id(const char *v, size_t len, char *out);

/* 1 when s[0..len) is a canonical session id, else 0. */
int vms_session_id_valid(const char *s, size_t len);

/* Writes the signed parameter into out (VMS_SESSION_PARAM_MAX + 1 bytes);
 * returns its length, 0 on a bad argument or a crypto failure. */
size_t vms_session_sign(const unsigned char *key, size_t keylen,
    const char *scope, size_t scope_len, const char *user, size_t user_len,
    const char *id, size_t id_len, int64_t expires, char *out);

enum {
    VMS_SESSION_OK = 0,
    VMS_SESSION_MALFORMED,
    VMS_SESSION_BAD_MAC,        /* tampered, other user/scope, other key */
    VMS_SESSION_EXPIRED
};

/* Checks a parameter; on VMS_SESSION_OK, id and id_len point into p at the
 * session id.  The MAC is compared in constant time. */
int vms_session_verify(const unsigned char *key, size_t keylen,
    const char *scope, size_t scope_len, const char *user, size_t user_len,
    const char *p, size_t len, int64_t now, const char **id, size_t *id_len);

/* A key file's contents: trailing white space dropped; 0 when the result has
 * VMS_SESSION_KEY_MIN..VMS_SESSION_KEY_MAX bytes, else -1. */
int vms_session_key_check(const unsigned char *data, size_t *len);

#endif /* VMS_SESSION_H */
