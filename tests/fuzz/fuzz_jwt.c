/*
 * Fuzzes the token path of vms_auth: JWS compact parsing, base64url, header/payload JSON,
 * signature dispatch over pinned keys, then claims parsing, validation and permission checks on
 * whatever payload a valid HS256 signature covers (the fuzzer can reach those: the secret is fixed).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "vms_claims.h"
#include "vms_jwt.h"

static const char SECRET[] = "fuzz-secret-fuzz-secret-fuzz-secret!";
static vms_jwt_keyset_t *ks;

static void
init(void)
{
    char err[256];
    ks = vms_jwt_keyset_new();
    vms_jwt_keyset_add_secret(ks, SECRET, strlen(SECRET), VMS_JWT_HS256 | VMS_JWT_HS512, NULL, err, sizeof(err));
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    EVP_PKEY *keys[2] = { ec, rsa };
    for (int i = 0; i < 2; i++) {
        BIO *b = BIO_new(BIO_s_mem());
        PEM_write_bio_PUBKEY(b, keys[i]);
        char *pem;
        long n = BIO_get_mem_data(b, &pem);
        vms_jwt_keyset_add_pem(ks, pem, (size_t) n, 0, i ? "rsa" : NULL, err, sizeof(err));
        BIO_free(b);
        EVP_PKEY_free(keys[i]);
    }
}

static void
exercise_claims(json_t *payload)
{
    vms_claims_t c;
    const char *why;
    if (vms_claims_parse(&c, payload, &why) == 0) {
        vms_claims_policy_t p = { .leeway = 30, .issuer = "vms", .audience = "vms-api" };
        vms_claims_policy_t m = { .leeway = 0, .exp_optional = 1 };
        (void) vms_claims_validate(&c, 1700000000, &p, &why);
        (void) vms_claims_validate(&c, 1700000000, &m, &why);
        (void) vms_claims_allows_action(&c, VMS_ACT_PLAYBACK, "site/cam.1");
        (void) vms_claims_allows_action(&c, VMS_ACT_PPROF, "cam1");
        (void) vms_claims_allows(&c, VMS_PERM_VIEW_STREAM, "cam1", NULL);
        (void) vms_claims_allows(&c, VMS_PERM_PLAYBACK, NULL, "camera/cam1");
        (void) vms_claims_allows_action(&c, VMS_ACT_READ, "camera/cam1");
        (void) vms_claims_allows_action(&c, VMS_ACT_API, "");
        (void) vms_claims_tenant_is(&c, "acme", 4);
    }
    vms_claims_free(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ks == NULL) {
        init();
    }
    const char *why;
    vms_jwt_t out;
    if (vms_jwt_verify(ks, (const char *) data, size, &out, &why) == 0) {
        exercise_claims(out.payload);
    }
    /* The payload part of the input, re-signed, so claims code sees fuzzer-chosen JSON. */
    const char *dot = memchr(data, '.', size);
    size_t plen = dot ? (size_t) (dot - (const char *) data) : size;
    json_t *payload = vms_jwt_payload_parse((const char *) data, plen, &why);
    if (payload) {
        char *tok = vms_jwt_sign_hs(SECRET, strlen(SECRET), VMS_JWT_HS256, NULL, payload);
        json_decref(payload);
        if (tok && vms_jwt_verify(ks, tok, strlen(tok), &out, &why) == 0) {
            exercise_claims(out.payload);
        }
        free(tok);
    }
    unsigned char buf[4096];
    if (size < sizeof(buf) * 4 / 3) {
        (void) vms_b64url_decode((const char *) data, size, buf);
    }
    (void) vms_jwt_algs_parse((const char *) data, size);
    return 0;
}
