/*
 * Key loading for vms_jwt: HMAC secrets, PEM public keys and JWKS documents, each pinned to the
 * algorithms it may verify.  Runs at configuration load only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "vms_jwt_int.h"

static const struct { const char *name; unsigned bit; } vms_jwt_algs[] = {
    { "HS256", VMS_JWT_HS256 }, { "HS384", VMS_JWT_HS384 }, { "HS512", VMS_JWT_HS512 },
    { "RS256", VMS_JWT_RS256 }, { "RS384", VMS_JWT_RS384 }, { "RS512", VMS_JWT_RS512 },
    { "PS256", VMS_JWT_PS256 }, { "PS384", VMS_JWT_PS384 }, { "PS512", VMS_JWT_PS512 },
    { "ES256", VMS_JWT_ES256 }, { "ES384", VMS_JWT_ES384 }, { "ES512", VMS_JWT_ES512 },
    { "EdDSA", VMS_JWT_EDDSA },
};

unsigned
vms_jwt_alg_from_name(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(vms_jwt_algs) / sizeof(vms_jwt_algs[0]); i++) {
        if (strlen(vms_jwt_algs[i].name) == len && memcmp(vms_jwt_algs[i].name, name, len) == 0) {
            return vms_jwt_algs[i].bit;
        }
    }
    return 0;
}

const char *
vms_jwt_alg_name(unsigned alg)
{
    for (size_t i = 0; i < sizeof(vms_jwt_algs) / sizeof(vms_jwt_algs[0]); i++) {
        if (vms_jwt_algs[i].bit == alg) {
            return vms_jwt_algs[i].name;
        }
    }
    return "?";
}

unsigned
vms_jwt_algs_parse(const char *list, size_t len)
{
    unsigned mask = 0;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && list[j] != ',') {
            j++;
        }
        unsigned bit = vms_jwt_alg_from_name(list + i, j - i);
        if (bit == 0) {
            return 0;
        }
        mask |= bit;
        i = j + 1;
    }
    return mask;
}

vms_jwt_keyset_t *
vms_jwt_keyset_new(void)
{
    return calloc(1, sizeof(vms_jwt_keyset_t));
}

void
vms_jwt_keyset_free(vms_jwt_keyset_t *ks)
{
    if (ks == NULL) {
        return;
    }
    for (size_t i = 0; i < ks->n; i++) {
        if (ks->keys[i].secret) {
            OPENSSL_clear_free(ks->keys[i].secret, ks->keys[i].secret_len);
        }
        EVP_PKEY_free(ks->keys[i].pkey);
        for (size_t j = 0; j < 13; j++) {
            EVP_PKEY_CTX_free(ks->keys[i].vctx[j]);
        }
        for (size_t j = 0; j < 3; j++) {
            EVP_MAC_CTX_free(ks->keys[i].mctx[j]);
        }
    }
    free(ks->keys);
    free(ks);
}

int
vms_jwt_keyset_fingerprint(const vms_jwt_keyset_t *ks, unsigned char out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && i < ks->n; i++) {
        const vms_jwt_key_t *k = &ks->keys[i];
        unsigned char *der = NULL;
        ok = EVP_DigestUpdate(ctx, &k->algs, sizeof(k->algs)) == 1
             && EVP_DigestUpdate(ctx, k->kid, strlen(k->kid) + 1) == 1;
        if (ok && k->secret) {
            ok = EVP_DigestUpdate(ctx, k->secret, k->secret_len) == 1;
        }
        if (ok && k->pkey) {
            int n = i2d_PUBKEY(k->pkey, &der);
            ok = n > 0 && EVP_DigestUpdate(ctx, der, (size_t) n) == 1;
            OPENSSL_free(der);
        }
    }
    ok = ok && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

size_t
vms_jwt_keyset_count(const vms_jwt_keyset_t *ks)
{
    return ks->n;
}

static vms_jwt_key_t *
vms_jwt_key_push(vms_jwt_keyset_t *ks, const char *kid, char *err, size_t errlen)
{
    if (kid && strlen(kid) > VMS_JWT_KID_MAX) {
        snprintf(err, errlen, "kid longer than %d bytes", VMS_JWT_KID_MAX);
        return NULL;
    }
    if (kid) {
        for (size_t i = 0; i < ks->n; i++) {
            if (ks->keys[i].has_kid && strcmp(ks->keys[i].kid, kid) == 0) {
                snprintf(err, errlen, "duplicate kid \"%s\"", kid);
                return NULL;
            }
        }
    }
    if (ks->n == ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 4;
        vms_jwt_key_t *k = realloc(ks->keys, cap * sizeof(*k));
        if (k == NULL) {
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        ks->keys = k;
        ks->cap = cap;
    }
    vms_jwt_key_t *k = &ks->keys[ks->n];
    memset(k, 0, sizeof(*k));
    if (kid) {
        strcpy(k->kid, kid);
        k->has_kid = 1;
    }
    return k;
}

int
vms_jwt_keyset_add_secret(vms_jwt_keyset_t *ks, const void *secret, size_t len, unsigned algs,
                          const char *kid, char *err, size_t errlen)
{
    if (algs == 0) {
        algs = VMS_JWT_HS256;
    }
    if (algs & ~VMS_JWT_HS_ALGS) {
        snprintf(err, errlen, "an HMAC secret may only verify HS256/HS384/HS512");
        return -1;
    }
    if (len < VMS_JWT_HS_MIN_SECRET) {
        snprintf(err, errlen, "HMAC secret is %zu bytes; at least %d required", len,
                 VMS_JWT_HS_MIN_SECRET);
        return -1;
    }
    vms_jwt_key_t *k = vms_jwt_key_push(ks, kid, err, errlen);
    if (k == NULL) {
        return -1;
    }
    k->secret = OPENSSL_malloc(len);
    if (k->secret == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(k->secret, secret, len);
    k->secret_len = len;
    k->algs = algs;
    ks->n++;
    return 0;
}

/* Pins a public key: checks the requested algorithms fit its type and picks the default. */
static int
vms_jwt_key_take_pkey(vms_jwt_keyset_t *ks, EVP_PKEY *pkey, unsigned algs, const char *kid,
                      char *err, size_t errlen)
{
    unsigned allowed, dflt;
    int ec_len = 0;
    int type = EVP_PKEY_get_base_id(pkey);

    if (type == EVP_PKEY_RSA || type == EVP_PKEY_RSA_PSS) {
        if (EVP_PKEY_get_bits(pkey) < VMS_JWT_RSA_MIN_BITS) {
            snprintf(err, errlen, "RSA key has %d bits; at least %d required",
                     EVP_PKEY_get_bits(pkey), VMS_JWT_RSA_MIN_BITS);
            goto fail;
        }
        allowed = VMS_JWT_RSA_ALGS;
        dflt = VMS_JWT_RS256;
    } else if (type == EVP_PKEY_EC) {
        char group[64];
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                            sizeof(group), NULL)) {
            snprintf(err, errlen, "EC key without a named curve");
            goto fail;
        }
        if (strcmp(group, "prime256v1") == 0) {
            allowed = VMS_JWT_ES256, ec_len = 32;
        } else if (strcmp(group, "secp384r1") == 0) {
            allowed = VMS_JWT_ES384, ec_len = 48;
        } else if (strcmp(group, "secp521r1") == 0) {
            allowed = VMS_JWT_ES512, ec_len = 66;
        } else {
            snprintf(err, errlen, "EC curve %s not usable for JWT (P-256, P-384, P-521)", group);
            goto fail;
        }
        dflt = allowed;
    } else if (type == EVP_PKEY_ED25519) {
        allowed = dflt = VMS_JWT_EDDSA;
    } else {
        snprintf(err, errlen, "unsupported public key type");
        goto fail;
    }
    if (algs == 0) {
        algs = dflt;
    }
    if (algs & ~allowed) {
        snprintf(err, errlen, "algorithm(s) not usable with this key type");
        goto fail;
    }
    vms_jwt_key_t *k = vms_jwt_key_push(ks, kid, err, errlen);
    if (k == NULL) {
        goto fail;
    }
    k->pkey = pkey;
    k->algs = algs;
    k->ec_len = ec_len;
    ks->n++;
    return 0;
fail:
    EVP_PKEY_free(pkey);
    return -1;
}

int
vms_jwt_keyset_add_pem(vms_jwt_keyset_t *ks, const char *pem, size_t len, unsigned algs,
                       const char *kid, char *err, size_t errlen)
{
    if (algs & VMS_JWT_HS_ALGS) {
        snprintf(err, errlen, "a public key cannot verify HS* tokens");
        return -1;
    }
    BIO *bio = BIO_new_mem_buf(pem, (int) len);
    if (bio == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    if (pkey == NULL) {
        (void) BIO_reset(bio);
        X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (x) {
            pkey = X509_get_pubkey(x);
            X509_free(x);
        }
    }
    BIO_free(bio);
    if (pkey == NULL) {
        snprintf(err, errlen, "no PEM public key or certificate found");
        return -1;
    }
    return vms_jwt_key_take_pkey(ks, pkey, algs, kid, err, errlen);
}

/* JWKS member as raw bytes (base64url-decoded); malloc'd. */
static unsigned char *
vms_jwks_bytes(json_t *jwk, const char *name, size_t *len)
{
    const char *s = json_string_value(json_object_get(jwk, name));
    if (s == NULL) {
        return NULL;
    }
    size_t sl = strlen(s);
    unsigned char *out = malloc(sl * 3 / 4 + 3);
    if (out == NULL) {
        return NULL;
    }
    long n = vms_b64url_decode(s, sl, out);
    if (n <= 0) {
        free(out);
        return NULL;
    }
    *len = (size_t) n;
    return out;
}

static EVP_PKEY *
vms_jwks_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1) {
        if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
            pkey = NULL;
        }
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *
vms_jwks_rsa(json_t *jwk, char *err, size_t errlen)
{
    size_t nl = 0, el = 0;
    unsigned char *n = vms_jwks_bytes(jwk, "n", &nl), *e = vms_jwks_bytes(jwk, "e", &el);
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn = NULL, *be = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (n == NULL || e == NULL) {
        snprintf(err, errlen, "RSA JWK needs base64url \"n\" and \"e\"");
        goto done;
    }
    bn = BN_bin2bn(n, (int) nl, NULL);
    be = BN_bin2bn(e, (int) el, NULL);
    if (bld && bn && be && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn)
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be)) {
        pkey = vms_jwks_fromdata("RSA", bld);
    }
    if (pkey == NULL) {
        snprintf(err, errlen, "RSA JWK rejected by OpenSSL");
    }
done:
    BN_free(bn);
    BN_free(be);
    OSSL_PARAM_BLD_free(bld);
    free(n);
    free(e);
    return pkey;
}

static EVP_PKEY *
vms_jwks_ec(json_t *jwk, char *err, size_t errlen)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    const char *group;
    size_t clen;
    if (crv && strcmp(crv, "P-256") == 0) {
        group = "prime256v1", clen = 32;
    } else if (crv && strcmp(crv, "P-384") == 0) {
        group = "secp384r1", clen = 48;
    } else if (crv && strcmp(crv, "P-521") == 0) {
        group = "secp521r1", clen = 66;
    } else {
        snprintf(err, errlen, "EC JWK curve must be P-256, P-384 or P-521");
        return NULL;
    }
    size_t xl = 0, yl = 0;
    unsigned char *x = vms_jwks_bytes(jwk, "x", &xl), *y = vms_jwks_bytes(jwk, "y", &yl);
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    unsigned char pt[1 + 2 * 66];
    if (x == NULL || y == NULL || xl != clen || yl != clen) {
        snprintf(err, errlen, "EC JWK needs \"x\" and \"y\" of %zu bytes", clen);
        goto done;
    }
    pt[0] = 0x04;
    memcpy(pt + 1, x, clen);
    memcpy(pt + 1 + clen, y, clen);
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0)
        && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * clen)) {
        pkey = vms_jwks_fromdata("EC", bld);
    }
    if (pkey == NULL) {
        snprintf(err, errlen, "EC JWK rejected by OpenSSL (point not on curve?)");
    }
done:
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    return pkey;
}

static EVP_PKEY *
vms_jwks_okp(json_t *jwk, char *err, size_t errlen)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    size_t xl = 0;
    if (crv == NULL || strcmp(crv, "Ed25519") != 0) {
        snprintf(err, errlen, "OKP JWK curve must be Ed25519");
        return NULL;
    }
    unsigned char *x = vms_jwks_bytes(jwk, "x", &xl);
    EVP_PKEY *pkey = NULL;
    if (x && xl == 32) {
        pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xl);
    }
    if (pkey == NULL) {
        snprintf(err, errlen, "Ed25519 JWK needs a 32-byte \"x\"");
    }
    free(x);
    return pkey;
}

int
vms_jwt_keyset_add_jwks(vms_jwt_keyset_t *ks, const char *json, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *keys = doc ? json_object_get(doc, "keys") : NULL;
    int rc = -1;
    char kerr[160];

    if (doc == NULL) {
        snprintf(err, errlen, "JWKS is not JSON: %s at line %d", jerr.text, jerr.line);
        return -1;
    }
    if (!json_is_array(keys) || json_array_size(keys) == 0) {
        snprintf(err, errlen, "JWKS needs a non-empty \"keys\" array");
        goto done;
    }
    for (size_t i = 0; i < json_array_size(keys); i++) {
        json_t *jwk = json_array_get(keys, i);
        const char *kty = json_string_value(json_object_get(jwk, "kty"));
        const char *kid = json_string_value(json_object_get(jwk, "kid"));
        const char *use = json_string_value(json_object_get(jwk, "use"));
        const char *alg = json_string_value(json_object_get(jwk, "alg"));
        unsigned algs = 0;

        if (use && strcmp(use, "sig") != 0) {
            continue;   /* encryption keys are not ours to use */
        }
        if (kty == NULL) {
            snprintf(err, errlen, "JWKS key %zu: missing \"kty\"", i);
            goto done;
        }
        if (alg) {
            algs = vms_jwt_alg_from_name(alg, strlen(alg));
            if (algs == 0) {
                snprintf(err, errlen, "JWKS key %zu: unsupported alg \"%.16s\"", i, alg);
                goto done;
            }
        }
        kerr[0] = '\0';
        if (strcmp(kty, "oct") == 0) {
            size_t kl = 0;
            unsigned char *k = vms_jwks_bytes(jwk, "k", &kl);
            if (k == NULL) {
                snprintf(err, errlen, "JWKS key %zu: oct key needs \"k\"", i);
                goto done;
            }
            int r = vms_jwt_keyset_add_secret(ks, k, kl, algs, kid, kerr, sizeof(kerr));
            OPENSSL_cleanse(k, kl);
            free(k);
            if (r != 0) {
                snprintf(err, errlen, "JWKS key %zu: %s", i, kerr);
                goto done;
            }
            continue;
        }
        EVP_PKEY *pkey = NULL;
        if (strcmp(kty, "RSA") == 0) {
            pkey = vms_jwks_rsa(jwk, kerr, sizeof(kerr));
        } else if (strcmp(kty, "EC") == 0) {
            pkey = vms_jwks_ec(jwk, kerr, sizeof(kerr));
        } else if (strcmp(kty, "OKP") == 0) {
            pkey = vms_jwks_okp(jwk, kerr, sizeof(kerr));
        } else {
            snprintf(kerr, sizeof(kerr), "unsupported kty \"%.16s\"", kty);
        }
        if (pkey == NULL || vms_jwt_key_take_pkey(ks, pkey, algs, kid, kerr, sizeof(kerr)) != 0) {
            snprintf(err, errlen, "JWKS key %zu: %s", i, kerr);
            goto done;
        }
    }
    rc = 0;
done:
    json_decref(doc);
    return rc;
}
