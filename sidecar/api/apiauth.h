/*
 * Who may call vmsd's API (docs/vmsd.md, "API authentication").
 *
 * A caller presents a bearer token (Authorization: Bearer …), checked with
 * the keys nginx's vms_auth checks user tokens with, by the same nginx-free
 * code (modules/auth/core: algorithms pinned per key, "alg": "none" and
 * unknown claim shapes refused, exp required, the same roles and
 * permissions).  Each route says what it needs (http.h): /health needs
 * nothing; /record/start|stop control_camera on the camera; /metrics
 * MediaMTX's "metrics" action (an admin, or a scraper's token granting just
 * that); a route that says nothing needs manage_config.
 *
 * api_auth = off (only on a loopback listen) trusts every caller, as vmsd
 * did before.  The keyset is built once at start-up and only read after;
 * checks run on the HTTP thread.
 */
#ifndef VMS_APIAUTH_H
#define VMS_APIAUTH_H

#include <stddef.h>
#include <stdint.h>

/* What a route needs: nothing, a permission of vms_claims.h (the same
 * bits, checked in apiauth.c), or MediaMTX's "metrics" action. */
#define VMS_APIAUTH_OPEN            0u
#define VMS_APIAUTH_VIEW_STREAM     (1u << 0)     /* VMS_PERM_VIEW_STREAM */
#define VMS_APIAUTH_CONTROL_CAMERA  (1u << 1)     /* VMS_PERM_CONTROL_CAMERA */
#define VMS_APIAUTH_MANAGE_CONFIG   (1u << 2)     /* VMS_PERM_MANAGE_CONFIG */
#define VMS_APIAUTH_METRICS         0x80000000u

/* vmsd.conf's api_* options (docs/vmsd.md). */
typedef struct {
    int          on;            /* api_auth */
    const char  *secret;        /* api_token_secret_file's content (HS256/384/512), or NULL */
    const char  *jwks;          /* api_token_jwks: a JWKS file's path, or NULL */
    int64_t      leeway_ms;     /* api_token_leeway */
    const char  *issuer;        /* api_token_issuer, or NULL: not checked */
    const char  *audience;      /* api_token_audience, or NULL: not checked */
} vms_apiauth_conf_t;

/* Loads the keys.  0, or -1 with the reason in err (a key that does not
 * parse, no key while api_auth is on). */
int  vms_apiauth_init(const vms_apiauth_conf_t *conf, char *err, size_t errlen);
void vms_apiauth_free(void);

/*
 * Checks the Authorization header value (NULL: none) against need, for
 * camera (NULL: no camera involved).  Returns 0 (allowed), 401 (no token,
 * or one that does not verify) or 403 (a valid token without the
 * permission); *why is a client-safe reason, never token bytes.
 */
int vms_apiauth_check(const char *authorization, unsigned need, const char *camera,
    const char **why);

#endif /* VMS_APIAUTH_H */
