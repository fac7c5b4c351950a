/* vmsd's API credentials; see apiauth.h. */
#include "apiauth.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util.h"
#include "vms_claims.h"
#include "vms_jwt.h"

#define MAX_TOKEN  8192     /* as vms_auth_max_token_size's default */

_Static_assert(VMS_APIAUTH_VIEW_STREAM == VMS_PERM_VIEW_STREAM
               && VMS_APIAUTH_CONTROL_CAMERA == VMS_PERM_CONTROL_CAMERA
               && VMS_APIAUTH_MANAGE_CONFIG == VMS_PERM_MANAGE_CONFIG,
               "apiauth.h's permission bits are vms_claims.h's");

/* The keys and policy in force; replaced whole on SIGHUP while the HTTP
 * thread may be checking a token, hence the lock. */
typedef struct {
    vms_jwt_keyset_t    *keys;
    vms_claims_policy_t  policy;
    int                  on;
} state_t;

static pthread_rwlock_t  lock = PTHREAD_RWLOCK_INITIALIZER;
static state_t           cur;

static void
state_free(state_t *st)
{
    if (st->keys != NULL) {
        vms_jwt_keyset_free(st->keys);
    }
    free((char *) st->policy.issuer);
    free((char *) st->policy.audience);
    memset(st, 0, sizeof(*st));
}

static int
state_load(state_t *st, const vms_apiauth_conf_t *conf, char *err, size_t errlen)
{
    char       why[256];
    vms_buf_t  jwks = { 0 };

    st->on = conf->on;
    if (!st->on) {
        return 0;
    }
    st->keys = vms_jwt_keyset_new();
    st->policy.issuer = conf->issuer ? strdup(conf->issuer) : NULL;
    st->policy.audience = conf->audience ? strdup(conf->audience) : NULL;
    if (st->keys == NULL || (conf->issuer && !st->policy.issuer)
        || (conf->audience && !st->policy.audience))
    {
        snprintf(err, errlen, "api_auth: out of memory");
        return -1;
    }
    st->policy.leeway = conf->leeway_ms / 1000;
    st->policy.exp_optional = 1;   /* as vms_auth: a MediaMTX-permissions token may lack exp */
    if (conf->secret != NULL
        && vms_jwt_keyset_add_secret(st->keys, conf->secret, strlen(conf->secret), 0, NULL,
                                     why, sizeof(why)) != 0)
    {
        snprintf(err, errlen, "api_token_secret_file: %s", why);
        return -1;
    }
    if (conf->jwks != NULL) {
        if (vms_buf_read_file(&jwks, conf->jwks, 1u << 20) != 0) {
            snprintf(err, errlen, "api_token_jwks: cannot read \"%s\": %s", conf->jwks,
                     strerror(errno));
            vms_buf_free(&jwks);
            return -1;
        }
        if (vms_jwt_keyset_add_jwks(st->keys, jwks.p ? jwks.p : "", jwks.len, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "api_token_jwks: \"%s\": %s", conf->jwks, why);
            vms_buf_free(&jwks);
            return -1;
        }
        vms_buf_free(&jwks);
    }
    if (vms_jwt_keyset_count(st->keys) == 0) {
        snprintf(err, errlen, "api_auth is on but vmsd has no key to check a token with: set "
                 "api_token_secret_file or api_token_jwks (the keys vms_auth verifies with), "
                 "or api_auth = off");
        return -1;
    }
    return 0;
}

int
vms_apiauth_init(const vms_apiauth_conf_t *conf, char *err, size_t errlen)
{
    state_t next = { 0 }, old;

    if (state_load(&next, conf, err, errlen) != 0) {
        state_free(&next);
        return -1;
    }
    pthread_rwlock_wrlock(&lock);
    old = cur;
    cur = next;
    pthread_rwlock_unlock(&lock);
    state_free(&old);
    return 0;
}

void
vms_apiauth_free(void)
{
    state_t old;

    pthread_rwlock_wrlock(&lock);
    old = cur;
    memset(&cur, 0, sizeof(cur));
    pthread_rwlock_unlock(&lock);
    state_free(&old);
}

static int
allows(const vms_claims_t *c, unsigned need, const char *camera)
{
    if (need == VMS_APIAUTH_METRICS) {
        return vms_claims_allows_action(c, VMS_ACT_METRICS, "");
    }
    return vms_claims_allows(c, need, camera, NULL);
}

static int
check(const state_t *st, const char *authorization, unsigned need, const char *camera,
    const char **why)
{
    vms_jwt_t     jwt;
    vms_claims_t  claims;
    const char   *tok;
    size_t        len;
    int           rc;

    if (!st->on || need == VMS_APIAUTH_OPEN) {
        return 0;
    }
    if (authorization == NULL || strncasecmp(authorization, "Bearer ", 7) != 0) {
        *why = "this route needs a credential: Authorization: Bearer <token>";
        return 401;
    }
    tok = authorization + 7;
    while (*tok == ' ') {
        tok++;
    }
    len = strlen(tok);
    if (len == 0 || len > MAX_TOKEN) {
        *why = len ? "token too large" : "empty bearer token";
        return 401;
    }
    if (vms_jwt_verify(st->keys, tok, len, &jwt, why) != 0) {
        return 401;
    }
    if (vms_claims_parse(&claims, jwt.payload, why) != 0) {
        return 401;                             /* parse took the payload */
    }
    if (vms_claims_validate(&claims, (int64_t) time(NULL), &st->policy, why) != 0) {
        vms_claims_free(&claims);
        return 401;
    }
    rc = allows(&claims, need, camera) ? 0 : 403;
    if (rc == 403) {
        *why = camera != NULL ? "the token does not grant this on this camera"
                              : "the token does not grant this";
    }
    vms_claims_free(&claims);
    return rc;
}

int
vms_apiauth_check(const char *authorization, unsigned need, const char *camera,
    const char **why)
{
    int rc;

    *why = NULL;
    pthread_rwlock_rdlock(&lock);
    rc = check(&cur, authorization, need, camera, why);
    pthread_rwlock_unlock(&lock);
    return rc;
}
