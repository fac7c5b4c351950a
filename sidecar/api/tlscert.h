/*
 * The API's certificate and key, replaceable while vmsd serves (docs/vmsd.md,
 * "Certificate rotation").  libmicrohttpd asks GnuTLS for the pair at each
 * handshake through vms_tlscert_retrieve (MHD_OPTION_HTTPS_CERT_CALLBACK),
 * so a pair installed by vms_tlscert_commit is what the next handshake
 * gets, while a connection already set up keeps the pair it was given.
 *
 *   vms_tlscert_t *p = vms_tlscert_prepare(cert_pem, key_pem, cert_file,
 *                                          key_file, err, sizeof(err));
 *   if (p != NULL) vms_tlscert_commit(p);      (or vms_tlscert_discard(p))
 *
 * A replaced pair is kept until vms_tlscert_free_all() (at stop): GnuTLS
 * holds pointers into it for the life of each session that got it, and a
 * rotation is rare (a few KB each), so no session can outlive its pair.
 */

#ifndef VMS_TLSCERT_H
#define VMS_TLSCERT_H

#include <stddef.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>

typedef struct vms_tlscert_s  vms_tlscert_t;

/* Parses the PEM chain and key and checks that the key is the first
 * certificate's.  NULL with err naming the file at fault (cert_file or
 * key_file, the names to report; never any of the key's text). */
vms_tlscert_t *vms_tlscert_prepare(const char *cert_pem, const char *key_pem,
    const char *cert_file, const char *key_file, char *err, size_t errlen);

/* Serial (hex) and notAfter (RFC 3339 UTC) of the pair's certificate. */
const char *vms_tlscert_describe(const vms_tlscert_t *p);

/* Makes p the pair new handshakes get; the previous one is retired. */
void vms_tlscert_commit(vms_tlscert_t *p);
void vms_tlscert_discard(vms_tlscert_t *p);

/* 1 when a pair is installed. */
int vms_tlscert_active(void);

/* gnutls_certificate_retrieve_function2, for MHD_OPTION_HTTPS_CERT_CALLBACK. */
int vms_tlscert_retrieve(gnutls_session_t session,
    const gnutls_datum_t *req_ca_dn, int nreqs,
    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
    gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *privkey);

/* After the HTTP daemon stopped: frees the current and retired pairs. */
void vms_tlscert_free_all(void);

#endif /* VMS_TLSCERT_H */
