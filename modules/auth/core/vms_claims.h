/*
 * Claims -> permissions (nginx-free core).
 *
 * Our claims: sub, tenant_id, plan (free|pro|enterprise, for vms_limit), camera_id or cameras[], role (viewer|operator|admin), permissions[]
 * (or a space-separated string), jti, exp/nbf/iat/iss/aud.  MediaMTX's claim format is understood
 * too: "mediamtx_permissions":[{"action":"read","path":"cam1"}], path "" = any, "~regex" = PCRE2.
 * That claim is parsed with MediaMTX's own rules (internal/auth/jwt_claims.go, conf/jsonwrapper):
 * an array, or a JSON string holding one; each entry null or an object with no member but
 * "action" (one of the six actions) and "path" (a string or null); anything else invalidates the
 * whole token, so a misspelt member ("paths") can never widen a grant to "any path".
 *
 * Roles:  viewer -> view_stream;  operator -> + control_camera;  admin -> every permission.
 * A token without camera_id/cameras is not restricted by camera (tenant scoping still applies).
 * Camera ids must match [A-Za-z0-9_-]{1,64} (vms_camera_id.h); a token carrying another one is
 * invalid.
 */
#ifndef VMS_CLAIMS_H
#define VMS_CLAIMS_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "vms_camera_id.h"

enum {
    VMS_PERM_VIEW_STREAM    = 1u << 0,
    VMS_PERM_CONTROL_CAMERA = 1u << 1,
    VMS_PERM_MANAGE_CONFIG  = 1u << 2,
    VMS_PERM_PLAYBACK       = 1u << 3,
    VMS_PERM_PUBLISH        = 1u << 4,
};
#define VMS_PERM_ALL 0x1fu

/* MediaMTX actions. */
enum {
    VMS_ACT_PUBLISH = 1, VMS_ACT_READ, VMS_ACT_PLAYBACK, VMS_ACT_API, VMS_ACT_METRICS, VMS_ACT_PPROF
};

#define VMS_CLAIMS_MAX_CAMERAS 256
#define VMS_CLAIMS_MAX_MTX 256

typedef struct {
    int          action;
    const char  *path;     /* "" = any; leading '~' = regex; points into payload */
} vms_mtx_perm_t;

typedef struct {
    json_t         *payload;           /* owned: released by vms_claims_free */
    const char     *sub, *tenant, *role, *jti, *iss, *plan;
    int64_t         exp, nbf, iat;
    int             has_exp, has_nbf, has_iat;
    unsigned        perms;             /* from role and permissions */
    const char    **cameras;           /* NULL = any camera */
    size_t          ncameras;
    vms_mtx_perm_t *mtx;               /* MediaMTX permissions; NULL when the claim is absent */
    size_t          nmtx;
    int             has_mtx;           /* the claim is present (and valid) */
    json_t         *mtx_doc;           /* owned: the claim's array when it came as a JSON string */
} vms_claims_t;

typedef struct {
    int64_t      leeway;      /* seconds */
    const char  *issuer;      /* NULL = not checked */
    const char  *audience;    /* NULL = not checked */
    int          exp_optional; /* 1: a token with mediamtx_permissions may lack exp (MediaMTX) */
} vms_claims_policy_t;

/* Takes ownership of payload (even on failure).  Returns 0 or -1 with a client-safe *why. */
int  vms_claims_parse(vms_claims_t *c, json_t *payload, const char **why);
/*
 * exp required, except with exp_optional for a token carrying mediamtx_permissions (such a token
 * grants through those only: role/permissions are ignored without exp); nbf, iat, iss, aud per policy.
 */
int  vms_claims_validate(const vms_claims_t *c, int64_t now, const vms_claims_policy_t *p,
                         const char **why);
void vms_claims_free(vms_claims_t *c);

unsigned    vms_perm_from_name(const char *name, size_t len);
const char *vms_perm_name(unsigned perm);
int         vms_action_from_name(const char *name, size_t len);

/*
 * Does the token grant perm on camera (NULL/"" = no camera involved)?  Our claims and MediaMTX
 * permissions each can grant; path is what MediaMTX permissions are matched against (the camera
 * id when NULL).
 */
int vms_claims_allows(const vms_claims_t *c, unsigned perm, const char *camera, const char *path);
/* MediaMTX-style check: action on path (camera = the path's last segment). */
int vms_claims_allows_action(const vms_claims_t *c, int action, const char *path);
/*
 * A MediaMTX path whose last part is no camera id (dots are allowed in path names): granted by a
 * token whose permission is on every camera (no camera claim), or by its mediamtx_permissions on
 * the whole path.
 */
int vms_claims_allows_path(const vms_claims_t *c, unsigned perm, const char *path);
/* Camera id from a MediaMTX path: its last '/' segment when every segment is a valid id. */
int vms_camera_from_path(const char *path, char *out, size_t outlen);
/*
 * A MediaMTX path name as MediaMTX accepts it (internal/conf/path.go): 1..VMS_MTX_PATH_MAX bytes of
 * A-Z a-z 0-9 _ - . / (MediaMTX's rePathName), no leading or trailing '/', no "." or ".."
 * segment; stricter than MediaMTX in one point: no empty segment ("a//b").  Returns 1 when valid.
 */
#define VMS_MTX_PATH_MAX 1024
/* 1 when a "~" permission pattern stays within Go's RE2 syntax (what MediaMTX can compile). */
int vms_regex_re2_subset(const char *pattern);
int vms_mtx_path_valid(const char *path, size_t len);
/* Tenant check: 1 when the token's tenant_id equals tenant. */
int vms_claims_tenant_is(const vms_claims_t *c, const char *tenant, size_t len);

#endif
