/* Player session ids and signed session parameters; contract in vms_session.h. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "vms_session.h"


static const char  b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


/* base64url of 16 bytes, no padding: 22 characters */
static void
vms_session_b64_16(const unsigned char *in, char *out)
{
    size_t    i, o = 0;
    uint32_t  v;

    for (i = 0; i + 3 <= 15; i += 3) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        out[o++] = b64url[(v >> 6) & 63];
        out[o++] = b64url[v & 63];
    }

    /* the 16th byte: two characters */
    v = (uint32_t) in[15] << 16;
    out[o++] = b64url[(v >> 18) & 63];
    out[o++] = b64url[(v >> 12) & 63];
}


static int
vms_session_id_char(unsigned char c)
{
    return c != '~' && vms_session_param_char(c);
}


int
vms_session_id_valid(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > VMS_SESSION_ID_MAX) {
        return 0;
    }

    if (s[0] == '~') {
        if (len != 1 + VMS_SESSION_MAC_LEN) {
            return 0;
        }
        for (i = 1; i < len; i++) {
            if (strchr(b64url, s[i]) == NULL || s[i] == '\0') {
                return 0;
            }
        }
        return 1;
    }

    for (i = 0; i < len; i++) {
        if (!vms_session_id_char((unsigned char) s[i])) {
            return 0;
        }
    }

    return 1;
}


size_t
vms_session_id(const char *v, size_t len, char *out)
{
    unsigned char  md[SHA256_DIGEST_LENGTH];

    if (len == 0) {
        out[0] = '\0';
        return 0;
    }

    if (v[0] != '~' && vms_session_id_valid(v, len)) {
        memcpy(out, v, len);
        out[len] = '\0';
        return len;
    }

    /* "~" never starts a kept id, so a hashed id cannot equal a kept one */
    SHA256((const unsigned char *) v, len, md);
    out[0] = '~';
    vms_session_b64_16(md, out + 1);
    out[1 + VMS_SESSION_MAC_LEN] = '\0';

    return 1 + VMS_SESSION_MAC_LEN;
}


static int
vms_session_mac(const unsigned char *key, size_t keylen, const char *scope,
    size_t scope_len, const char *user, size_t user_len, const char *id,
    size_t id_len, int64_t expires, char *out)
{
    char           num[32];
    unsigned int   mdlen;
    unsigned char  md[EVP_MAX_MD_SIZE], *msg, *m;
    size_t         i, k, lens[4], total;
    const char    *parts[4];

    /* length-prefixed fields: no two inputs give the same message */
    parts[0] = scope;
    lens[0] = scope_len;
    parts[1] = user;
    lens[1] = user_len;
    parts[2] = id;
    lens[2] = id_len;
    parts[3] = num;
    lens[3] = (size_t) snprintf(num, sizeof(num), "%lld", (long long) expires);

    total = 14 + 4 * 8 + scope_len + user_len + id_len + lens[3];
    msg = malloc(total);
    if (msg == NULL) {
        return -1;
    }

    m = msg;
    memcpy(m, "vms-session-v1", 14);
    m += 14;

    for (i = 0; i < 4; i++) {
        for (k = 0; k < 8; k++) {
            *m++ = (unsigned char) ((uint64_t) lens[i] >> (56 - 8 * k));
        }
        if (lens[i]) {
            memcpy(m, parts[i], lens[i]);
            m += lens[i];
        }
    }

    mdlen = 0;
    if (HMAC(EVP_sha256(), key, (int) keylen, msg, total, md, &mdlen) == NULL
        || mdlen < 16)
    {
        free(msg);
        return -1;
    }

    free(msg);
    vms_session_b64_16(md, out);
    return 0;
}


size_t
vms_session_sign(const unsigned char *key, size_t keylen, const char *scope,
    size_t scope_len, const char *user, size_t user_len, const char *id,
    size_t id_len, int64_t expires, char *out)
{
    int   n;
    char  mac[VMS_SESSION_MAC_LEN];

    if (expires < 0 || !vms_session_id_valid(id, id_len)
        || keylen < VMS_SESSION_KEY_MIN || keylen > VMS_SESSION_KEY_MAX)
    {
        return 0;
    }

    if (vms_session_mac(key, keylen, scope, scope_len, user, user_len, id,
                        id_len, expires, mac) != 0)
    {
        return 0;
    }

    n = snprintf(out, VMS_SESSION_PARAM_MAX + 1, "%lld.%.*s.%.*s",
                 (long long) expires, VMS_SESSION_MAC_LEN, mac, (int) id_len,
                 id);

    return n > 0 && n <= VMS_SESSION_PARAM_MAX ? (size_t) n : 0;
}


int
vms_session_verify(const unsigned char *key, size_t keylen, const char *scope,
    size_t scope_len, const char *user, size_t user_len, const char *p,
    size_t len, int64_t now, const char **id, size_t *id_len)
{
    size_t       i;
    int64_t      exp;
    const char  *mac;
    char         want[VMS_SESSION_MAC_LEN];

    if (len > VMS_SESSION_PARAM_MAX) {
        return VMS_SESSION_MALFORMED;
    }

    /* expiry: 1..19 digits, no sign, no leading zero */
    exp = 0;
    for (i = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
        if (i == 18 || (i == 1 && p[0] == '0')) {
            return VMS_SESSION_MALFORMED;
        }
        exp = exp * 10 + (p[i] - '0');
    }

    if (i == 0 || i >= len || p[i] != '.') {
        return VMS_SESSION_MALFORMED;
    }

    i++;
    if (len - i < VMS_SESSION_MAC_LEN + 2 || p[i + VMS_SESSION_MAC_LEN] != '.') {
        return VMS_SESSION_MALFORMED;
    }

    mac = p + i;
    i += VMS_SESSION_MAC_LEN + 1;

    if (!vms_session_id_valid(p + i, len - i)) {
        return VMS_SESSION_MALFORMED;
    }

    if (keylen < VMS_SESSION_KEY_MIN || keylen > VMS_SESSION_KEY_MAX
        || vms_session_mac(key, keylen, scope, scope_len, user, user_len,
                           p + i, len - i, exp, want) != 0)
    {
        return VMS_SESSION_BAD_MAC;
    }

    if (CRYPTO_memcmp(want, mac, VMS_SESSION_MAC_LEN) != 0) {
        return VMS_SESSION_BAD_MAC;
    }

    if (exp <= now) {
        return VMS_SESSION_EXPIRED;
    }

    *id = p + i;
    *id_len = len - i;

    return VMS_SESSION_OK;
}


int
vms_session_key_check(const unsigned char *data, size_t *len)
{
    while (*len && (data[*len - 1] == '\n' || data[*len - 1] == '\r'
                    || data[*len - 1] == ' ' || data[*len - 1] == '\t'))
    {
        (*len)--;
    }

    return *len >= VMS_SESSION_KEY_MIN && *len <= VMS_SESSION_KEY_MAX ? 0 : -1;
}
