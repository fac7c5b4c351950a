/*
 * JWT verification with keys parsed once and algorithms pinned per key (nginx-free core).
 *
 * Contract:
 * - A keyset is built at configuration load (vms_jwt_keyset_add_*) and only read afterwards.
 * - Every key accepts an explicit set of algorithms.  A token is checked only against keys whose set
 *   contains the token's "alg"; "none", unknown algorithms and "crit" headers are refused.  So an
 *   HS256 token "signed" with an RSA/EC public key's PEM bytes never meets an HMAC key.
 * - vms_jwt_verify() checks the signature only; time and audience checks live in vms_claims.
 * - Errors are static strings safe to show to clients and logs: they never contain token or key bytes.
 */
#ifndef VMS_JWT_H
#define VMS_JWT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

enum {
    VMS_JWT_HS256 = 1u << 0, VMS_JWT_HS384 = 1u << 1, VMS_JWT_HS512 = 1u << 2,
    VMS_JWT_RS256 = 1u << 3, VMS_JWT_RS384 = 1u << 4, VMS_JWT_RS512 = 1u << 5,
    VMS_JWT_PS256 = 1u << 6, VMS_JWT_PS384 = 1u << 7, VMS_JWT_PS512 = 1u << 8,
    VMS_JWT_ES256 = 1u << 9, VMS_JWT_ES384 = 1u << 10, VMS_JWT_ES512 = 1u << 11,
    VMS_JWT_EDDSA = 1u << 12,
};
#define VMS_JWT_HS_ALGS (VMS_JWT_HS256 | VMS_JWT_HS384 | VMS_JWT_HS512)
#define VMS_JWT_RSA_ALGS (VMS_JWT_RS256 | VMS_JWT_RS384 | VMS_JWT_RS512 | \
                          VMS_JWT_PS256 | VMS_JWT_PS384 | VMS_JWT_PS512)

#define VMS_JWT_HS_MIN_SECRET 32     /* RFC 7518 3.2: at least the hash size; we ask 256 bits */
#define VMS_JWT_RSA_MIN_BITS  2048
#define VMS_JWT_KID_MAX       128

typedef struct vms_jwt_key    vms_jwt_key_t;
typedef struct vms_jwt_keyset vms_jwt_keyset_t;

/* Algorithm name <-> bit.  Returns 0 for unknown names (incl. "none"). */
unsigned    vms_jwt_alg_from_name(const char *name, size_t len);
const char *vms_jwt_alg_name(unsigned alg);
/* Parses "RS256,ES256" into a mask; 0 on any unknown name. */
unsigned    vms_jwt_algs_parse(const char *list, size_t len);

vms_jwt_keyset_t *vms_jwt_keyset_new(void);
/* SHA-256 over every key's algorithms, kid and material: changes whenever the keys change. */
int               vms_jwt_keyset_fingerprint(const vms_jwt_keyset_t *ks, unsigned char out[32]);
void              vms_jwt_keyset_free(vms_jwt_keyset_t *ks);
size_t            vms_jwt_keyset_count(const vms_jwt_keyset_t *ks);

/*
 * Adders return 0 or -1 with a message in err (names what is wrong, never key bytes).
 * algs = 0 picks the default for the key type: HS256; RS256 for RSA; ES256/384/512 by curve; EdDSA.
 * kid may be NULL.
 */
int vms_jwt_keyset_add_secret(vms_jwt_keyset_t *ks, const void *secret, size_t len, unsigned algs,
                              const char *kid, char *err, size_t errlen);
int vms_jwt_keyset_add_pem(vms_jwt_keyset_t *ks, const char *pem, size_t len, unsigned algs,
                           const char *kid, char *err, size_t errlen);
/* A JWKS document {"keys":[...]}; kty RSA/EC/OKP/oct; "alg" when present pins the key. */
int vms_jwt_keyset_add_jwks(vms_jwt_keyset_t *ks, const char *json, size_t len,
                            char *err, size_t errlen);

typedef struct {
    unsigned  alg;                      /* the verified algorithm */
    char      kid[VMS_JWT_KID_MAX + 1]; /* "" when the header had none */
    json_t   *payload;                  /* owned by the caller: json_decref() */
    const char *payload_b64;            /* points into the token: the signed payload part */
    size_t    payload_b64_len;
} vms_jwt_t;

/* Returns 0 when the signature is valid under a key allowed for the token's alg, else -1 and *why. */
int vms_jwt_verify(const vms_jwt_keyset_t *ks, const char *token, size_t len, vms_jwt_t *out,
                   const char **why);

/* Parses a base64url payload segment into a JSON object (for cached, already-verified tokens). */
json_t *vms_jwt_payload_parse(const char *b64, size_t len, const char **why);

/*
 * Signs header+payload with an HS key; header gets alg and kid (when set).  Returns a malloc'd
 * NUL-terminated token or NULL.
 */
char *vms_jwt_sign_hs(const void *secret, size_t secret_len, unsigned alg, const char *kid,
                      const json_t *payload);

/* base64url without padding.  decode returns decoded length or -1; out must hold len*3/4+3 bytes. */
long   vms_b64url_decode(const char *in, size_t len, unsigned char *out);
size_t vms_b64url_encode(const unsigned char *in, size_t len, char *out); /* out: 4*ceil(len/3)+1 */

#endif
