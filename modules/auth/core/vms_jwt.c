/*
 * JWT (JWS compact) parsing and signature verification with pre-parsed keys.
 * Crypto and base64 are OpenSSL's; JSON is jansson's, with duplicate members rejected so no two
 * parsers can disagree on which "alg" or "exp" a token carries.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/core_names.h>

#include "vms_jwt_int.h"

#define VMS_JWT_HEADER_MAX 2048   /* base64url bytes */

static int
vms_b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/*
 * Strict (canonical) base64url without padding, RFC 7515 section 2: no '=', no whitespace, no
 * other alphabet, and the unused low bits of the last character must be zero -- otherwise four
 * different strings decode to the same signature, and a token could be altered without touching
 * what is signed or verified.
 */
long
vms_b64url_decode(const char *in, size_t len, unsigned char *out)
{
    size_t o = 0;
    uint32_t acc = 0;

    if (len % 4 == 1) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        int v = vms_b64url_value((unsigned char) in[i]);
        if (v < 0) {
            return -1;
        }
        acc = (acc << 6) | (uint32_t) v;
        if (i % 4 == 3) {
            out[o++] = (unsigned char) (acc >> 16);
            out[o++] = (unsigned char) (acc >> 8);
            out[o++] = (unsigned char) acc;
            acc = 0;
        }
    }
    switch (len % 4) {
    case 2:                             /* 12 bits: one byte, 4 unused bits */
        if (acc & 0xf) {
            return -1;
        }
        out[o++] = (unsigned char) (acc >> 4);
        break;
    case 3:                             /* 18 bits: two bytes, 2 unused bits */
        if (acc & 0x3) {
            return -1;
        }
        out[o++] = (unsigned char) (acc >> 10);
        out[o++] = (unsigned char) (acc >> 2);
        break;
    }
    return (long) o;
}

size_t
vms_b64url_encode(const unsigned char *in, size_t len, char *out)
{
    int n = EVP_EncodeBlock((unsigned char *) out, in, (int) len);
    while (n > 0 && out[n - 1] == '=') {
        n--;
    }
    for (int i = 0; i < n; i++) {
        if (out[i] == '+') {
            out[i] = '-';
        } else if (out[i] == '/') {
            out[i] = '_';
        }
    }
    out[n] = '\0';
    return (size_t) n;
}

static json_t *
vms_jwt_json_segment(const char *b64, size_t len, const char **why, const char *what)
{
    unsigned char stackbuf[1024];
    size_t cap = len * 3 / 4 + 3;
    unsigned char *buf = cap <= sizeof(stackbuf) ? stackbuf : malloc(cap);
    if (buf == NULL) {
        *why = "out of memory";
        return NULL;
    }
    long n = vms_b64url_decode(b64, len, buf);
    json_t *j = NULL;
    if (n <= 0) {
        *why = what[0] == 'h' ? "malformed token header encoding" : "malformed token payload encoding";
    } else {
        j = json_loadb((const char *) buf, (size_t) n, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j)) {
            json_decref(j);
            j = NULL;
            *why = what[0] == 'h' ? "token header is not a JSON object"
                                  : "token payload is not a JSON object";
        }
    }
    if (buf != stackbuf) {
        free(buf);
    }
    return j;
}

json_t *
vms_jwt_payload_parse(const char *b64, size_t len, const char **why)
{
    return vms_jwt_json_segment(b64, len, why, "payload");
}

static const EVP_MD *
vms_jwt_md(unsigned alg)
{
    if (alg & (VMS_JWT_HS256 | VMS_JWT_RS256 | VMS_JWT_PS256 | VMS_JWT_ES256)) {
        return EVP_sha256();
    }
    if (alg & (VMS_JWT_HS384 | VMS_JWT_RS384 | VMS_JWT_PS384 | VMS_JWT_ES384)) {
        return EVP_sha384();
    }
    if (alg & (VMS_JWT_HS512 | VMS_JWT_RS512 | VMS_JWT_PS512 | VMS_JWT_ES512)) {
        return EVP_sha512();
    }
    return NULL;   /* EdDSA hashes internally */
}

/* JOSE ECDSA signatures are r||s of fixed width; OpenSSL wants DER. */
static int
vms_jwt_es_to_der(const unsigned char *sig, size_t len, int clen, unsigned char **der)
{
    if (len != (size_t) clen * 2) {
        return -1;
    }
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, clen, NULL), *s = BN_bin2bn(sig + clen, clen, NULL);
    if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return -1;
    }
    *der = NULL;
    int n = i2d_ECDSA_SIG(es, der);
    ECDSA_SIG_free(es);
    return n;
}

static int
vms_jwt_alg_index(unsigned alg)
{
    return __builtin_ctz(alg);
}

/* One-shot digests: SHA256() and friends skip the provider fetch EVP_Digest pays per call. */
static size_t
vms_jwt_digest(unsigned alg, const unsigned char *data, size_t dlen, unsigned char *out)
{
    if (alg & (VMS_JWT_RS256 | VMS_JWT_PS256 | VMS_JWT_ES256)) {
        SHA256(data, dlen, out);
        return 32;
    }
    if (alg & (VMS_JWT_RS384 | VMS_JWT_PS384 | VMS_JWT_ES384)) {
        SHA384(data, dlen, out);
        return 48;
    }
    SHA512(data, dlen, out);
    return 64;
}

static EVP_MAC *vms_jwt_hmac;

static int
vms_jwt_hmac_verify(vms_jwt_key_t *k, unsigned alg, const unsigned char *data, size_t dlen,
                    const unsigned char *sig, size_t slen)
{
    int i = alg == VMS_JWT_HS256 ? 0 : alg == VMS_JWT_HS384 ? 1 : 2;
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t maclen = 0;

    if (vms_jwt_hmac == NULL && (vms_jwt_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL) {
        return 0;
    }
    if (k->mctx[i] == NULL) {
        const char *md = i == 0 ? "SHA256" : i == 1 ? "SHA384" : "SHA512";
        OSSL_PARAM params[2] = { OSSL_PARAM_construct_utf8_string("digest", (char *) md, 0),
                                 OSSL_PARAM_construct_end() };
        k->mctx[i] = EVP_MAC_CTX_new(vms_jwt_hmac);
        if (k->mctx[i] == NULL || EVP_MAC_init(k->mctx[i], k->secret, k->secret_len, params) != 1) {
            EVP_MAC_CTX_free(k->mctx[i]);
            k->mctx[i] = NULL;
            return 0;
        }
    } else if (EVP_MAC_init(k->mctx[i], NULL, 0, NULL) != 1) {   /* same key, fresh state */
        return 0;
    }
    if (EVP_MAC_update(k->mctx[i], data, dlen) != 1
        || EVP_MAC_final(k->mctx[i], mac, &maclen, sizeof(mac)) != 1) {
        return 0;
    }
    return maclen == slen && CRYPTO_memcmp(mac, sig, slen) == 0;
}

/* A verify context initialised once per key and algorithm, then reused for every token. */
static EVP_PKEY_CTX *
vms_jwt_vctx(vms_jwt_key_t *k, unsigned alg)
{
    int i = vms_jwt_alg_index(alg);
    if (k->vctx[i]) {
        return k->vctx[i];
    }
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
    if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1
        || EVP_PKEY_CTX_set_signature_md(ctx, vms_jwt_md(alg)) != 1) {
        goto fail;
    }
    if (alg & VMS_JWT_RSA_ALGS) {
        int pss = (alg & (VMS_JWT_PS256 | VMS_JWT_PS384 | VMS_JWT_PS512)) != 0;
        if (EVP_PKEY_CTX_set_rsa_padding(ctx, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) != 1
            || (pss && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
            goto fail;
        }
    }
    k->vctx[i] = ctx;
    return ctx;
fail:
    EVP_PKEY_CTX_free(ctx);
    return NULL;
}

static int
vms_jwt_verify_one(const vms_jwt_key_t *ck, unsigned alg, const unsigned char *data, size_t dlen,
                   const unsigned char *sig, size_t slen)
{
    vms_jwt_key_t *k = (vms_jwt_key_t *) ck;   /* only the per-process caches change */

    if (alg & VMS_JWT_HS_ALGS) {
        return vms_jwt_hmac_verify(k, alg, data, dlen, sig, slen);
    }
    if (alg == VMS_JWT_EDDSA) {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1
                 && EVP_DigestVerify(ctx, sig, slen, data, dlen) == 1;
        EVP_MD_CTX_free(ctx);
        return ok;
    }
    unsigned char *der = NULL;
    if (alg & (VMS_JWT_ES256 | VMS_JWT_ES384 | VMS_JWT_ES512)) {
        int n = vms_jwt_es_to_der(sig, slen, k->ec_len, &der);
        if (n <= 0) {
            return 0;
        }
        sig = der;
        slen = (size_t) n;
    }
    unsigned char dgst[EVP_MAX_MD_SIZE];
    size_t dl = vms_jwt_digest(alg, data, dlen, dgst);
    EVP_PKEY_CTX *ctx = vms_jwt_vctx(k, alg);
    int ok = ctx && EVP_PKEY_verify(ctx, sig, slen, dgst, dl) == 1;
    OPENSSL_free(der);
    return ok;
}

int
vms_jwt_verify(const vms_jwt_keyset_t *ks, const char *token, size_t len, vms_jwt_t *out,
               const char **why)
{
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t) (d1 + 1 - token)) : NULL;
    json_t *hdr = NULL;
    unsigned char *sig = NULL;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t) (d2 + 1 - token)) != NULL) {
        *why = "malformed token";
        return -1;
    }
    size_t hlen = (size_t) (d1 - token), plen = (size_t) (d2 - d1 - 1);
    size_t slen = len - (size_t) (d2 + 1 - token);
    if (hlen == 0 || plen == 0) {
        *why = "malformed token";
        return -1;
    }
    if (hlen > VMS_JWT_HEADER_MAX) {
        *why = "token header too large";
        return -1;
    }
    hdr = vms_jwt_json_segment(token, hlen, why, "header");
    if (hdr == NULL) {
        return -1;
    }
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    json_t *jkid = json_object_get(hdr, "kid");
    const char *kid = json_string_value(jkid);
    if (alg == NULL) {
        *why = "token header has no alg";
        goto done;
    }
    if (strcasecmp(alg, "none") == 0) {
        *why = "unsigned tokens (alg none) are refused";
        goto done;
    }
    unsigned bit = vms_jwt_alg_from_name(alg, strlen(alg));
    if (bit == 0) {
        *why = "unsupported token algorithm";
        goto done;
    }
    if (json_object_get(hdr, "crit") != NULL) {
        *why = "unsupported critical header";
        goto done;
    }
    if (jkid != NULL && (kid == NULL || strlen(kid) > VMS_JWT_KID_MAX)) {
        *why = "malformed kid";
        goto done;
    }
    if (slen == 0) {
        *why = "token has no signature";
        goto done;
    }
    sig = malloc(slen * 3 / 4 + 3);
    long sn = sig ? vms_b64url_decode(d2 + 1, slen, sig) : -1;
    if (sn <= 0) {
        *why = "malformed token signature encoding";
        goto done;
    }

    size_t tried = 0;
    int ok = 0;
    for (size_t i = 0; i < ks->n && !ok; i++) {
        const vms_jwt_key_t *k = &ks->keys[i];
        if (!(k->algs & bit)) {
            continue;
        }
        if (kid && k->has_kid && strcmp(k->kid, kid) != 0) {
            continue;
        }
        tried++;
        ok = vms_jwt_verify_one(k, bit, (const unsigned char *) token, (size_t) (d2 - token),
                                sig, (size_t) sn);
    }
    if (!ok) {
        *why = tried == 0 ? "token algorithm or kid not accepted by any configured key"
                          : "token signature mismatch";
        goto done;
    }
    out->payload = vms_jwt_json_segment(d1 + 1, plen, why, "payload");
    if (out->payload == NULL) {
        goto done;
    }
    out->alg = bit;
    if (kid) {
        strcpy(out->kid, kid);
    }
    out->payload_b64 = d1 + 1;
    out->payload_b64_len = plen;
    rc = 0;
done:
    free(sig);
    json_decref(hdr);
    return rc;
}

char *
vms_jwt_sign_hs(const void *secret, size_t secret_len, unsigned alg, const char *kid,
                const json_t *payload)
{
    if (!(alg & VMS_JWT_HS_ALGS)) {
        return NULL;
    }
    json_t *hdr = json_pack("{s:s, s:s}", "alg", vms_jwt_alg_name(alg), "typ", "JWT");
    if (hdr && kid && kid[0]) {
        json_object_set_new(hdr, "kid", json_string(kid));
    }
    char *h = hdr ? json_dumps(hdr, JSON_COMPACT) : NULL;
    char *p = json_dumps(payload, JSON_COMPACT);
    char *tok = NULL;
    json_decref(hdr);
    if (h && p) {
        size_t hl = strlen(h), pl = strlen(p);
        tok = malloc((hl + pl + 64) / 3 * 4 + 8 + 4 * ((EVP_MAX_MD_SIZE + 2) / 3));
        if (tok) {
            size_t n = vms_b64url_encode((unsigned char *) h, hl, tok);
            tok[n++] = '.';
            n += vms_b64url_encode((unsigned char *) p, pl, tok + n);
            unsigned char mac[EVP_MAX_MD_SIZE];
            unsigned int maclen = 0;
            if (HMAC(vms_jwt_md(alg), secret, (int) secret_len, (unsigned char *) tok, n, mac,
                     &maclen) == NULL) {
                free(tok);
                tok = NULL;
            } else {
                tok[n++] = '.';
                vms_b64url_encode(mac, maclen, tok + n);
            }
        }
    }
    free(h);
    free(p);
    return tok;
}
