#include "tlscert.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gnutls/x509.h>

#define CHAIN_MAX  16

struct vms_tlscert_s {
    gnutls_pcert_st   chain[CHAIN_MAX];
    unsigned          n;
    gnutls_privkey_t  key;
    char              desc[160];       /* "serial 0A1B…, notAfter 2027-…Z" */
    vms_tlscert_t    *retired_next;
};

/* current is read at each handshake by MHD's threads and replaced by the
 * main thread on SIGHUP; the lock covers only the pointer swap and read. */
static pthread_mutex_t  lock = PTHREAD_MUTEX_INITIALIZER;
static vms_tlscert_t   *current;
static vms_tlscert_t   *retired;

static void
pair_free(vms_tlscert_t *p)
{
    unsigned i;

    for (i = 0; i < p->n; i++) {
        gnutls_pcert_deinit(&p->chain[i]);
    }
    if (p->key != NULL) {
        gnutls_privkey_deinit(p->key);
    }
    free(p);
}

/* The key's public half is the first certificate's: their key ids agree. */
static int
key_matches(vms_tlscert_t *p)
{
    gnutls_pubkey_t  pub;
    unsigned char    a[64], b[64];
    size_t           alen = sizeof(a), blen = sizeof(b);
    int              ok;

    if (gnutls_pubkey_init(&pub) < 0) {
        return 0;
    }
    ok = gnutls_pubkey_import_privkey(pub, p->key, 0, 0) >= 0
         && gnutls_pubkey_get_key_id(pub, 0, a, &alen) >= 0
         && gnutls_pubkey_get_key_id(p->chain[0].pubkey, 0, b, &blen) >= 0
         && alen == blen && memcmp(a, b, alen) == 0;
    gnutls_pubkey_deinit(pub);
    return ok;
}

static void
describe(vms_tlscert_t *p)
{
    gnutls_x509_crt_t  crt;
    unsigned char      serial[40];
    size_t             slen = sizeof(serial), i;
    char               hex[2 * sizeof(serial) + 1] = "?", when[32] = "?";
    time_t             t;
    struct tm          tm;

    if (gnutls_x509_crt_init(&crt) < 0) {
        snprintf(p->desc, sizeof(p->desc), "serial ?, notAfter ?");
        return;
    }
    if (gnutls_x509_crt_import(crt, &p->chain[0].cert, GNUTLS_X509_FMT_DER) >= 0) {
        if (gnutls_x509_crt_get_serial(crt, serial, &slen) >= 0) {
            /* as `openssl x509 -serial` prints it: without the DER sign
             * byte (a 00 before a first byte >= 0x80) */
            size_t skip = 0;
            while (skip + 1 < slen && serial[skip] == 0) {
                skip++;
            }
            for (i = skip; i < slen; i++) {
                snprintf(hex + 2 * (i - skip), 3, "%02X", serial[i]);
            }
        }
        t = gnutls_x509_crt_get_expiration_time(crt);
        if (t != (time_t) -1 && gmtime_r(&t, &tm) != NULL) {
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
    }
    gnutls_x509_crt_deinit(crt);
    snprintf(p->desc, sizeof(p->desc), "serial %s, notAfter %s", hex, when);
}

vms_tlscert_t *
vms_tlscert_prepare(const char *cert_pem, const char *key_pem,
    const char *cert_file, const char *key_file, char *err, size_t errlen)
{
    vms_tlscert_t   *p;
    gnutls_datum_t   d;
    int              rc;

    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        snprintf(err, errlen, "http: out of memory");
        return NULL;
    }
    d.data = (unsigned char *) cert_pem;
    d.size = (unsigned) strlen(cert_pem);
    p->n = CHAIN_MAX;
    rc = gnutls_pcert_list_import_x509_raw(p->chain, &p->n, &d,
                                           GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0 || p->n == 0) {
        p->n = 0;
        snprintf(err, errlen, "http: api_tls_cert_file %s: no certificate"
                 " chain in it (%s)", cert_file, gnutls_strerror(rc));
        pair_free(p);
        return NULL;
    }
    d.data = (unsigned char *) key_pem;
    d.size = (unsigned) strlen(key_pem);
    if (gnutls_privkey_init(&p->key) < 0) {
        p->key = NULL;
        snprintf(err, errlen, "http: out of memory");
        pair_free(p);
        return NULL;
    }
    rc = gnutls_privkey_import_x509_raw(p->key, &d, GNUTLS_X509_FMT_PEM,
                                        NULL, 0);
    if (rc < 0) {
        /* GnuTLS's message is generic; the key's text is never quoted */
        snprintf(err, errlen, "http: api_tls_key_file %s: not a private key"
                 " (%s)", key_file, gnutls_strerror(rc));
        pair_free(p);
        return NULL;
    }
    if (!key_matches(p)) {
        snprintf(err, errlen, "http: api_tls_key_file %s is not the key of"
                 " the certificate in api_tls_cert_file %s", key_file,
                 cert_file);
        pair_free(p);
        return NULL;
    }
    describe(p);
    return p;
}

const char *
vms_tlscert_describe(const vms_tlscert_t *p)
{
    return p->desc;
}

void
vms_tlscert_commit(vms_tlscert_t *p)
{
    pthread_mutex_lock(&lock);
    if (current != NULL) {
        current->retired_next = retired;
        retired = current;
    }
    current = p;
    pthread_mutex_unlock(&lock);
}

void
vms_tlscert_discard(vms_tlscert_t *p)
{
    if (p != NULL) {
        pair_free(p);
    }
}

int
vms_tlscert_active(void)
{
    int on;

    pthread_mutex_lock(&lock);
    on = current != NULL;
    pthread_mutex_unlock(&lock);
    return on;
}

int
vms_tlscert_retrieve(gnutls_session_t session,
    const gnutls_datum_t *req_ca_dn, int nreqs,
    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
    gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *privkey)
{
    vms_tlscert_t *p;

    (void) session;
    (void) req_ca_dn;
    (void) nreqs;
    (void) pk_algos;
    (void) pk_algos_length;
    pthread_mutex_lock(&lock);
    p = current;
    pthread_mutex_unlock(&lock);
    if (p == NULL) {
        *pcert_length = 0;
        return -1;                /* GnuTLS ends the handshake */
    }
    /* not freed by GnuTLS (retrieve_function2); the pair outlives the session */
    *pcert = p->chain;
    *pcert_length = p->n;
    *privkey = p->key;
    return 0;
}

void
vms_tlscert_free_all(void)
{
    vms_tlscert_t *p, *next;

    pthread_mutex_lock(&lock);
    p = current;
    current = NULL;
    if (p != NULL) {
        p->retired_next = retired;
    } else {
        p = retired;
    }
    retired = NULL;
    pthread_mutex_unlock(&lock);
    for (; p != NULL; p = next) {
        next = p->retired_next;
        pair_free(p);
    }
}
