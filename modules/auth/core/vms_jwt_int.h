/* Internal layout shared by vms_jwt.c and vms_jwt_keys.c; not part of the contract. */
#ifndef VMS_JWT_INT_H
#define VMS_JWT_INT_H

#include <openssl/evp.h>
#include "vms_jwt.h"

struct vms_jwt_key {
    unsigned        algs;
    char            kid[VMS_JWT_KID_MAX + 1];
    int             has_kid;
    unsigned char  *secret;       /* HS keys */
    size_t          secret_len;
    EVP_PKEY       *pkey;         /* RS/PS/ES/EdDSA public keys */
    int             ec_len;       /* ES: bytes of r and of s in the JOSE signature */
    /*
     * Per-process caches made on first use (after fork): an initialised verify context per
     * algorithm, an HMAC context holding the key.  OpenSSL 3 spends more time setting these up
     * (provider fetches) than verifying, so they are kept.  Not thread-safe: one per worker.
     */
    EVP_PKEY_CTX   *vctx[13];
    EVP_MAC_CTX    *mctx[3];
};

struct vms_jwt_keyset {
    vms_jwt_key_t  *keys;
    size_t          n, cap;
};

#endif
