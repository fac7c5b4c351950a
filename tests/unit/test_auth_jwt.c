/* vms_jwt: signature verification, algorithm pinning, key loading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "vms_jwt.h"

static const char secret[] = "0123456789abcdef0123456789abcdef-test-secret";
static char err[256];

static char *
b64(const void *data, size_t len)
{
    char *out = malloc(len * 4 / 3 + 8);
    vms_b64url_encode(data, len, out);
    return out;
}

/* Builds header.payload from JSON text; signs with HMAC or a private key (independent of the core). */
static char *
make_token(const char *hdr, const char *payload, unsigned alg, const void *key, size_t keylen,
           EVP_PKEY *priv)
{
    char *h = b64(hdr, strlen(hdr)), *p = b64(payload, strlen(payload));
    size_t n = strlen(h) + strlen(p) + 1;
    char *tok = malloc(n + 1200);
    sprintf(tok, "%s.%s", h, p);
    free(h);
    free(p);
    unsigned char sig[1024];
    size_t siglen = 0;
    const EVP_MD *md = (alg & (VMS_JWT_HS384 | VMS_JWT_RS384 | VMS_JWT_ES384)) ? EVP_sha384()
                     : (alg & (VMS_JWT_HS512 | VMS_JWT_RS512 | VMS_JWT_ES512)) ? EVP_sha512()
                     : EVP_sha256();
    if (alg & VMS_JWT_HS_ALGS) {
        unsigned int l = 0;
        HMAC(md, key, (int) keylen, (unsigned char *) tok, strlen(tok), sig, &l);
        siglen = l;
    } else if (alg == 0) {
        strcat(tok, ".");
        return tok;
    } else {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned char der[1024];
        size_t dl = sizeof(der);
        assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, priv), 1);
        assert_int_equal(EVP_DigestSign(ctx, der, &dl, (unsigned char *) tok, strlen(tok)), 1);
        EVP_MD_CTX_free(ctx);
        if (alg & (VMS_JWT_ES256 | VMS_JWT_ES384 | VMS_JWT_ES512)) {
            int cl = alg == VMS_JWT_ES256 ? 32 : alg == VMS_JWT_ES384 ? 48 : 66;
            const unsigned char *dp = der;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &dp, (long) dl);
            BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, cl);
            BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + cl, cl);
            ECDSA_SIG_free(es);
            siglen = (size_t) cl * 2;
        } else {
            memcpy(sig, der, dl);
            siglen = dl;
        }
    }
    char *s = b64(sig, siglen);
    strcat(tok, ".");
    strcat(tok, s);
    free(s);
    return tok;
}

static char *
pub_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, k);
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *out = strndup(data, (size_t) n);
    BIO_free(b);
    return out;
}

static EVP_PKEY *rsa, *ec256, *ec384;
static char *rsa_pem, *ec_pem;

static int
setup(void **state)
{
    rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    ec256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    rsa_pem = pub_pem(rsa);
    ec_pem = pub_pem(ec256);
    return rsa && ec256 && ec384 ? 0 : -1;
}

static int
teardown(void **state)
{
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec256);
    EVP_PKEY_free(ec384);
    free(rsa_pem);
    free(ec_pem);
    return 0;
}

static const char *PAYLOAD = "{\"sub\":\"alice\",\"exp\":4102444800}";

static int
verify(vms_jwt_keyset_t *ks, const char *tok, const char **why)
{
    vms_jwt_t out;
    *why = NULL;
    int rc = vms_jwt_verify(ks, tok, strlen(tok), &out, why);
    if (rc == 0) {
        assert_string_equal(json_string_value(json_object_get(out.payload, "sub")), "alice");
        json_decref(out.payload);
    }
    return rc;
}

static void
test_hs256_valid_and_wrong_secret(void **state)
{
    vms_jwt_keyset_t *ks = vms_jwt_keyset_new();
    const char *why;
    assert_int_equal(vms_jwt_keyset_add_secret(ks, secret, strlen(secret), 0, NULL, err, sizeof(err)), 0);
    char *tok = make_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", PAYLOAD, VMS_JWT_HS256, secret,
                           strlen(secret), NULL);
    assert_int_equal(verify(ks, tok, &why), 0);
    free(tok);
    tok = make_token("{\"alg\":\"HS256\"}", PAYLOAD, VMS_JWT_HS256, "another-secret-of-32-bytes-xxxxxxxx", 35, NULL);
    assert_int_equal(verify(ks, tok, &why), -1);
    assert_string_equal(why, "token signature mismatch");
    free(tok);
    /* HS384 is not pinned for this key */
    tok = make_token("{\"alg\":\"HS384\"}", PAYLOAD, VMS_JWT_HS384, secret, strlen(secret), NULL);
    assert_int_equal(verify(ks, tok, &why), -1);
    assert_string_equal(why, "token algorithm or kid not accepted by any configured key");
    free(tok);
    vms_jwt_keyset_free(ks);
}

static void
test_alg_none_refused(void **state)
{
    vms_jwt_keyset_t *ks = vms_jwt_keyset_new();
    const char *why;
    assert_int_equal(vms_jwt_keyset_add_secret(ks, secret, strlen(secret), 0, NULL, err, sizeof(err)), 0);
    const char *hdrs[] = { "{\"alg\":\"none\"}", "{\"alg\":\"None\"}", "{\"alg\":\"NONE\"}" };
    for (size_t i = 0; i < 3; i++) {
        char *tok = make_token(hdrs[i], PAYLOAD, 0, NULL, 0, NULL);
        assert_int_equal(verify(ks, tok, &why), -1);
        assert_string_equal(why, "unsigned tokens (alg none) are refused");
        free(tok);
    }
    vms_jwt_keyset_free(ks);
}

static void
test_hs256_forged_with_public_key(void **state)
{
    vms_jwt_keyset_t *ks = vms_jwt_keyset_new();
    const char *why;
    assert_int_equal(vms_jwt_keyset_add_pem(ks, rsa_pem, strlen(rsa_pem), 0, NULL, err, sizeof(err)), 0);
    assert_int_equal(vms_jwt_keyset_add_pem(ks, ec_pem, strlen(ec_pem), 0, NULL, err, sizeof(err)), 0);
    const char *pems[] = { rsa_pem, ec_pem };
    for (size_t i = 0; i < 2; i++) {
        char *tok = make_token("{\"alg\":\"HS256\"}", PAYLOAD, VMS_JWT_HS256, pems[i], strlen(pems[i]), NULL);
        assert_int_equal(verify(ks, tok, &why), -1);
        assert_string_equal(why, "token algorithm or kid not accepted by any configured key");
        free(tok);
    }
    /* and a PEM key cannot be configured for HS algorithms at all */
    assert_int_equal(vms_jwt_keyset_add_pem(ks, rsa_pem, strlen(rsa_pem), VMS_JWT_HS256, NULL, err, sizeof(err)), -1);
    vms_jwt_keyset_free(ks);
}

static void
test_rs_es_valid_and_pinned(void **state)
{
    vms_jwt_keyset_t *ks = vms_jwt_keyset_new();
    const char *why;
    assert_int_equal(vms_jwt_keyset_add_pem(ks, rsa_pem, strlen(rsa_pem), 0, NULL, err, sizeof(err)), 0);
    assert_int_equal(vms_jwt_keyset_add_pem(ks, ec_pem, strlen(ec_pem), 0, NULL, err, sizeof(err)), 0);
    char *tok = make_token("{\"alg\":\"RS256\"}", PAYLOAD, VMS_JWT_RS256, NULL, 0, rsa);
    assert_int_equal(verify(ks, tok, &why), 0);
    free(tok);
    tok = make_token("{\"alg\":\"ES256\"}", PAYLOAD, VMS_JWT_ES256, NULL, 0, ec256);
    assert_int_equal(verify(ks, tok, &why), 0);
    free(tok);
    /* RS384 with the same RSA key: the key is pinned to RS256 */
    tok = make_token("{\"alg\":\"RS384\"}", PAYLOAD, VMS_JWT_RS384, NULL, 0, rsa);
    assert_int_equal(verify(ks, tok, &why), -1);
    free(tok);
    /* ES384 from an unknown key */
    tok = make_token("{\"alg\":\"ES384\"}", PAYLOAD, VMS_JWT_ES384, NULL, 0, ec384);
    assert_int_equal(verify(ks, tok, &why), -1);
    free(tok);
    /* ES256 signed by another P-256 key */
    EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    tok = make_token("{\"alg\":\"ES256\"}", PAYLOAD, VMS_JWT_ES256, NULL, 0, other);
    assert_int_equal(verify(ks, tok, &why), -1);
    assert_string_equal(why, "token signature mismatch");
    free(tok);
    EVP_PKEY_free(other);
    /* explicit pin allowing RS384 */
    vms_jwt_keyset_t *ks2 = vms_jwt_keyset_new();
    assert_int_equal(vms_jwt_keyset_add_pem(ks2, rsa_pem, strlen(rsa_pem), VMS_JWT_RS256 | VMS_JWT_RS384, NULL, err, sizeof(err)), 0);
    tok = make_token("{\"alg\":\"RS384\"}", PAYLOAD, VMS_JWT_RS384, NULL, 0, rsa);
    assert_int_equal(verify(ks2, tok, &why), 0);
    free(tok);
    /* EC key cannot be pinned to RS256 */
    assert_int_equal(vms_jwt_keyset_add_pem(ks2, ec_pem, strlen(ec_pem), VMS_JWT_RS256, NULL, err, sizeof(err)), -1);
    vms_jwt_keyset_free(ks2);
    vms_jwt_keyset_free(ks);
}

static void
test_tampering(void **state)
{
    vms_jwt_keyset_t *ks = vms_jwt_keyset_new();
    const char *why;
    assert_int_equal(vms_jwt_keyset_add_pem(ks, ec_pem, strlen(ec_pem), 0, NULL, err, sizeof(err)), 0);
    char *tok = make_token("{\"alg\":\"ES256\"}", PAYLOAD, VMS_JWT_ES256, NULL, 0, ec256);
    char *forged = make_token("{\"alg\":\"ES256\"}", "{\"sub\":\"alice\",\"exp\":4102444801}", VMS_JWT_ES256, NULL, 0, ec256);
    assert_int_equal(verify(ks, tok, &why), 0);
    assert_int_equal(verify(ks, forged, &why), 0);
    /* payload of one token with the signature of the other */
    char *mixed = strdup(tok);
    char *d1 = strchr(mixed, '.'), *d2 = strrchr(mixed, '.');
    char *fd1 = strchr(forged, '.'), *fd2 = strrchr(forged, '.');
    assert_int_equal(d2 - d1, fd2 - fd1);
    memcpy(d1, fd1, (size_t) (fd2 - fd1));
    assert_int_equal(verify(ks, mixed, &why), -1);
    /* flip a signature character */
    char *flip = strdup(tok);
    char *last = flip + strlen(flip) - 3;
    *last = *last == 'A' ? 'B' : 'A';
    assert_int_equal(verify(ks, flip, &why), -1);
    /* structure */
    assert_int_equal(verify(ks, "abc", &why), -1);
    assert_int_equal(verify(ks, "a.b.c.d.e", &why), -1);
    assert_int_equal(verify(ks, "..", &why), -1);
    char *dup = make_token("{\"alg\":\"ES256\",\"alg\":\"HS256\"}", PAYLOAD, VMS_JWT_ES256, NULL, 0, ec256);
    assert_int_equal(verify(ks, dup, &why), -1);
    assert_string_equal(why, "token header is not a JSON object");
    char *crit = make_token("{\"alg\":\"ES256\",\"crit\":[\"b64\"],\"b64\":false}", PAYLOAD, VMS_JWT_ES256, NULL, 0, ec256);
    assert_int_equal(verify(ks, crit, &why), -1);
    assert_string_equal(why, "unsupported critical header");
    char *duppay = make_token("{\"alg\":\"ES256\"}", "{\"sub\":\"alice\",\"exp\":1,\"exp\":4102444800}", VMS_JWT_ES256, NULL, 0, ec256);
    assert_int_equal(verify(ks, duppay, &why), -1);
    free(tok); free(forged); free(mixed); free(flip); free(dup); free(crit); free(duppay);
    vms_jwt_keyset_free(ks);
}

static void
test_kid_selection(void **state)
{
    vms_jwt_keyset_t *ks = vms_jwt_keyset_new();
    const char *why;
    const char s2[] = "second-secret-second-secret-second-secret";
    assert_int_equal(vms_jwt_keyset_add_secret(ks, secret, strlen(secret), 0, "k1", err, sizeof(err)), 0);
    assert_int_equal(vms_jwt_keyset_add_secret(ks, s2, strlen(s2), 0, "k2", err, sizeof(err)), 0);
    assert_int_equal(vms_jwt_keyset_add_secret(ks, s2, strlen(s2), 0, "k2", err, sizeof(err)), -1);
    char *tok = make_token("{\"alg\":\"HS256\",\"kid\":\"k2\"}", PAYLOAD, VMS_JWT_HS256, s2, strlen(s2), NULL);
    assert_int_equal(verify(ks, tok, &why), 0);
    free(tok);
    tok = make_token("{\"alg\":\"HS256\",\"kid\":\"k1\"}", PAYLOAD, VMS_JWT_HS256, s2, strlen(s2), NULL);
    assert_int_equal(verify(ks, tok, &why), -1);
    free(tok);
    tok = make_token("{\"alg\":\"HS256\",\"kid\":\"k9\"}", PAYLOAD, VMS_JWT_HS256, s2, strlen(s2), NULL);
    assert_int_equal(verify(ks, tok, &why), -1);
    assert_string_equal(why, "token algorithm or kid not accepted by any configured key");
    free(tok);
    tok = make_token("{\"alg\":\"HS256\"}", PAYLOAD, VMS_JWT_HS256, s2, strlen(s2), NULL);
    assert_int_equal(verify(ks, tok, &why), 0);   /* no kid: every HS256 key is tried */
    free(tok);
    vms_jwt_keyset_free(ks);
}

static void
test_key_loading_limits(void **state)
{
    vms_jwt_keyset_t *ks = vms_jwt_keyset_new();
    assert_int_equal(vms_jwt_keyset_add_secret(ks, "short", 5, 0, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "at least 32"));
    assert_int_equal(vms_jwt_keyset_add_secret(ks, secret, strlen(secret), VMS_JWT_RS256, NULL, err, sizeof(err)), -1);
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 1024);
    char *pem = pub_pem(small);
    assert_int_equal(vms_jwt_keyset_add_pem(ks, pem, strlen(pem), 0, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "2048"));
    assert_int_equal(vms_jwt_keyset_add_pem(ks, "garbage", 7, 0, NULL, err, sizeof(err)), -1);
    free(pem);
    EVP_PKEY_free(small);
    assert_int_equal(vms_jwt_keyset_count(ks), 0);
    vms_jwt_keyset_free(ks);
    assert_int_equal(vms_jwt_algs_parse("RS256,ES256", 11), VMS_JWT_RS256 | VMS_JWT_ES256);
    assert_int_equal(vms_jwt_algs_parse("RS256,none", 10), 0);
}

static char *
bn_b64(const BIGNUM *bn, int pad)
{
    unsigned char buf[600];
    int n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
    return b64(buf, (size_t) n);
}

static void
test_jwks(void **state)
{
    BIGNUM *n = NULL, *e = NULL, *x = NULL, *y = NULL;
    EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_E, &e);
    EVP_PKEY_get_bn_param(ec256, OSSL_PKEY_PARAM_EC_PUB_X, &x);
    EVP_PKEY_get_bn_param(ec256, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
    char *ns = bn_b64(n, 0), *es = bn_b64(e, 0), *xs = bn_b64(x, 32), *ys = bn_b64(y, 32);
    char *ks64 = b64(secret, strlen(secret));
    char doc[4096];
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r1\",\"alg\":\"RS256\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"},"
             "{\"kty\":\"EC\",\"kid\":\"e1\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"},"
             "{\"kty\":\"oct\",\"kid\":\"h1\",\"alg\":\"HS512\",\"k\":\"%s\"},"
             "{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}", ns, es, xs, ys, ks64);
    vms_jwt_keyset_t *ks = vms_jwt_keyset_new();
    const char *why;
    assert_int_equal(vms_jwt_keyset_add_jwks(ks, doc, strlen(doc), err, sizeof(err)), 0);
    assert_int_equal(vms_jwt_keyset_count(ks), 3);
    char *tok = make_token("{\"alg\":\"RS256\",\"kid\":\"r1\"}", PAYLOAD, VMS_JWT_RS256, NULL, 0, rsa);
    assert_int_equal(verify(ks, tok, &why), 0);
    free(tok);
    tok = make_token("{\"alg\":\"ES256\",\"kid\":\"e1\"}", PAYLOAD, VMS_JWT_ES256, NULL, 0, ec256);
    assert_int_equal(verify(ks, tok, &why), 0);
    free(tok);
    tok = make_token("{\"alg\":\"HS512\",\"kid\":\"h1\"}", PAYLOAD, VMS_JWT_HS512, secret, strlen(secret), NULL);
    assert_int_equal(verify(ks, tok, &why), 0);
    free(tok);
    /* kid r1 is RS256 only: an ES256 token claiming it fails */
    tok = make_token("{\"alg\":\"ES256\",\"kid\":\"r1\"}", PAYLOAD, VMS_JWT_ES256, NULL, 0, ec256);
    assert_int_equal(verify(ks, tok, &why), -1);
    free(tok);
    vms_jwt_keyset_free(ks);
    ks = vms_jwt_keyset_new();
    assert_int_equal(vms_jwt_keyset_add_jwks(ks, "{\"keys\":[]}", 11, err, sizeof(err)), -1);
    assert_int_equal(vms_jwt_keyset_add_jwks(ks, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}]}", 55, err, sizeof(err)), -1);
    vms_jwt_keyset_free(ks);
    free(ns); free(es); free(xs); free(ys); free(ks64);
    BN_free(n); BN_free(e); BN_free(x); BN_free(y);
}

static void
test_sign_roundtrip(void **state)
{
    vms_jwt_keyset_t *ks = vms_jwt_keyset_new();
    const char *why;
    assert_int_equal(vms_jwt_keyset_add_secret(ks, secret, strlen(secret), VMS_JWT_HS256, "s", err, sizeof(err)), 0);
    json_t *p = json_pack("{s:s, s:I}", "sub", "alice", "exp", (json_int_t) 4102444800);
    char *tok = vms_jwt_sign_hs(secret, strlen(secret), VMS_JWT_HS256, "s", p);
    assert_non_null(tok);
    assert_int_equal(verify(ks, tok, &why), 0);
    free(tok);
    json_decref(p);
    vms_jwt_keyset_free(ks);
}

/* PS256 and EdDSA signed here directly with OpenSSL, verified through the cached contexts twice. */
static void
test_ps256_and_eddsa(void **state)
{
    vms_jwt_keyset_t *ks = vms_jwt_keyset_new();
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    char *ed_pem = pub_pem(ed);
    const char *why;
    assert_int_equal(vms_jwt_keyset_add_pem(ks, rsa_pem, strlen(rsa_pem), VMS_JWT_PS256, NULL, err, sizeof(err)), 0);
    assert_int_equal(vms_jwt_keyset_add_pem(ks, ed_pem, strlen(ed_pem), 0, NULL, err, sizeof(err)), 0);
    const char *heads[2] = { "{\"alg\":\"PS256\"}", "{\"alg\":\"EdDSA\"}" };
    for (int i = 0; i < 2; i++) {
        char *h = b64(heads[i], strlen(heads[i])), *p = b64(PAYLOAD, strlen(PAYLOAD));
        char tok[2048];
        snprintf(tok, sizeof(tok), "%s.%s", h, p);
        unsigned char sig[512];
        size_t sl = sizeof(sig);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        assert_int_equal(EVP_DigestSignInit(ctx, &pctx, i == 0 ? EVP_sha256() : NULL, NULL, i == 0 ? rsa : ed), 1);
        if (i == 0) {
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
        }
        assert_int_equal(EVP_DigestSign(ctx, sig, &sl, (unsigned char *) tok, strlen(tok)), 1);
        EVP_MD_CTX_free(ctx);
        char *s64 = b64(sig, sl);
        strcat(tok, ".");
        strcat(tok, s64);
        assert_int_equal(verify(ks, tok, &why), 0);
        assert_int_equal(verify(ks, tok, &why), 0);
        tok[strlen(tok) - 2] = tok[strlen(tok) - 2] == 'A' ? 'B' : 'A';
        assert_int_equal(verify(ks, tok, &why), -1);
        free(h); free(p); free(s64);
    }
    /* RS256 was not pinned for this RSA key (PS256 only) */
    char *rs = make_token("{\"alg\":\"RS256\"}", PAYLOAD, VMS_JWT_RS256, NULL, 0, rsa);
    assert_int_equal(verify(ks, rs, &why), -1);
    free(rs);
    free(ed_pem);
    EVP_PKEY_free(ed);
    vms_jwt_keyset_free(ks);
}

static void
test_b64url(void **state)
{
    unsigned char out[16];
    assert_int_equal(vms_b64url_decode("YQ", 2, out), 1);
    assert_int_equal(out[0], 'a');
    assert_int_equal(vms_b64url_decode("YWI", 3, out), 2);
    assert_int_equal(vms_b64url_decode("YWJj", 4, out), 3);
    assert_int_equal(vms_b64url_decode("Y", 1, out), -1);
    assert_int_equal(vms_b64url_decode("YQ==", 4, out), -1);   /* padding is not base64url */
    assert_int_equal(vms_b64url_decode("Y Q", 3, out), -1);
    assert_int_equal(vms_b64url_decode("-_8", 3, out), 2);
    assert_int_equal(out[0], 0xfb);
    assert_int_equal(out[1], 0xff);
    /* non-canonical: the unused low bits of the last character are not zero (#20) */
    assert_int_equal(vms_b64url_decode("YR", 2, out), -1);     /* 'Q' is the only "a" */
    assert_int_equal(vms_b64url_decode("YWJ", 3, out), -1);    /* 'I' is the only "ab" */
    assert_int_equal(vms_b64url_decode("-_9", 3, out), -1);
    assert_int_equal(vms_b64url_decode("YWJjYQ", 6, out), 4);
    assert_int_equal(vms_b64url_decode("YWJjYR", 6, out), -1);
    assert_int_equal(vms_b64url_decode("YW+j", 4, out), -1);   /* base64, not base64url */
    assert_int_equal(vms_b64url_decode("", 0, out), 0);
}

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* c with the low bit of its 6-bit value set */
static char
b64url_stray(char c)
{
    return b64url_alphabet[(strchr(b64url_alphabet, c) - b64url_alphabet) | 1];
}

/* "h.p" (the first len bytes of hp) signed with HS256 under secret: a malloc'd token. */
static char *
resign(const char *secret, const char *hp, size_t len)
{
    unsigned char mac[32];
    unsigned int ml = 0;
    char *t = malloc(len + 64);
    assert_non_null(t);
    assert_non_null(HMAC(EVP_sha256(), secret, 32, (const unsigned char *) hp, len, mac, &ml));
    memcpy(t, hp, len);
    t[len] = '.';
    vms_b64url_encode(mac, ml, t + len + 1);
    return t;
}

/* #20: a signature, header or payload that differs only in a last character's unused bits. */
static void
test_noncanonical_token_parts(void **state)
{
    char err[128];
    const char *why;
    vms_jwt_t out;
    vms_jwt_keyset_t *ks = vms_jwt_keyset_new();
    static const char secret[] = "0123456789abcdef0123456789abcdef";
    assert_int_equal(vms_jwt_keyset_add_secret(ks, secret, 32, 0, NULL, err, sizeof(err)), 0);
    json_t *p = json_pack("{s:s, s:I}", "sub", "a", "exp", (json_int_t) 1800000000);
    char *tok = vms_jwt_sign_hs(secret, 32, VMS_JWT_HS256, NULL, p);
    json_decref(p);
    assert_non_null(tok);
    size_t n = strlen(tok);
    assert_int_equal(vms_jwt_verify(ks, tok, n, &out, &why), 0);
    json_decref(out.payload);
    /* HS256: 32 bytes -> 43 characters, the last carrying 2 unused bits */
    char last = tok[n - 1];
    int v = (int) (strchr(b64url_alphabet, last) - b64url_alphabet);
    for (int bits = 1; bits < 4; bits++) {
        tok[n - 1] = b64url_alphabet[(v & ~3) | bits];
        assert_int_equal(vms_jwt_verify(ks, tok, n, &out, &why), -1);
        assert_string_equal(why, "malformed token signature encoding");
    }
    tok[n - 1] = last;
    /* a payload with a stray bit, correctly signed as it stands: refused when decoded */
    char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
    size_t pl = (size_t) (d2 - d1 - 1);
    assert_true(pl % 4 >= 2);
    char pc = d2[-1];
    d2[-1] = b64url_stray(pc);
    char *bad = resign(secret, tok, (size_t) (d2 - tok));
    assert_int_equal(vms_jwt_verify(ks, bad, strlen(bad), &out, &why), -1);
    assert_string_equal(why, "malformed token payload encoding");
    free(bad);
    d2[-1] = pc;
    /* {"alg":"HS256","x":"y"}: 23 bytes -> 31 characters, the last with 2 unused bits */
    char two[512];
    static const char hdr[] = "{\"alg\":\"HS256\",\"x\":\"y\"}";
    size_t hn = vms_b64url_encode((const unsigned char *) hdr, strlen(hdr), two);
    assert_true(hn % 4 >= 2);
    snprintf(two + hn, sizeof(two) - hn, ".%.*s", (int) pl, d1 + 1);
    bad = resign(secret, two, strlen(two));
    assert_int_equal(vms_jwt_verify(ks, bad, strlen(bad), &out, &why), 0);    /* canonical: fine */
    json_decref(out.payload);
    free(bad);
    two[hn - 1] = b64url_stray(two[hn - 1]);
    bad = resign(secret, two, strlen(two));
    assert_int_equal(vms_jwt_verify(ks, bad, strlen(bad), &out, &why), -1);
    assert_string_equal(why, "malformed token header encoding");
    free(bad);
    free(tok);
    vms_jwt_keyset_free(ks);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hs256_valid_and_wrong_secret),
        cmocka_unit_test(test_alg_none_refused),
        cmocka_unit_test(test_hs256_forged_with_public_key),
        cmocka_unit_test(test_rs_es_valid_and_pinned),
        cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_kid_selection),
        cmocka_unit_test(test_key_loading_limits),
        cmocka_unit_test(test_jwks),
        cmocka_unit_test(test_sign_roundtrip),
        cmocka_unit_test(test_ps256_and_eddsa),
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_noncanonical_token_parts),
    };
    return cmocka_run_group_tests_name("auth_jwt", tests, setup, teardown);
}
