/* Claims parsing, time validation and permission checks.  See vms_claims.h for the rules. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <stdlib.h>
#include <string.h>
#include <pcre2.h>

#include "vms_claims.h"

static const struct { const char *name; unsigned bit; } vms_perms[] = {
    { "view_stream", VMS_PERM_VIEW_STREAM }, { "control_camera", VMS_PERM_CONTROL_CAMERA },
    { "manage_config", VMS_PERM_MANAGE_CONFIG }, { "playback", VMS_PERM_PLAYBACK },
    { "publish", VMS_PERM_PUBLISH },
};
static const char *vms_actions[] = { "", "publish", "read", "playback", "api", "metrics", "pprof" };

unsigned
vms_perm_from_name(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(vms_perms) / sizeof(vms_perms[0]); i++) {
        if (strlen(vms_perms[i].name) == len && memcmp(vms_perms[i].name, name, len) == 0) {
            return vms_perms[i].bit;
        }
    }
    return 0;
}

const char *
vms_perm_name(unsigned perm)
{
    for (size_t i = 0; i < sizeof(vms_perms) / sizeof(vms_perms[0]); i++) {
        if (vms_perms[i].bit == perm) {
            return vms_perms[i].name;
        }
    }
    return "?";
}

int
vms_action_from_name(const char *name, size_t len)
{
    for (int i = VMS_ACT_PUBLISH; i <= VMS_ACT_PPROF; i++) {
        if (strlen(vms_actions[i]) == len && memcmp(vms_actions[i], name, len) == 0) {
            return i;
        }
    }
    return 0;
}

static unsigned
vms_role_perms(const char *role)
{
    if (role == NULL) {
        return 0;
    }
    if (strcmp(role, "viewer") == 0) {
        return VMS_PERM_VIEW_STREAM;
    }
    if (strcmp(role, "operator") == 0) {
        return VMS_PERM_VIEW_STREAM | VMS_PERM_CONTROL_CAMERA;
    }
    if (strcmp(role, "admin") == 0) {
        return VMS_PERM_ALL;
    }
    return 0;   /* unknown roles grant nothing */
}

/* Optional string claim: absent is fine, another type is not. */
static int
vms_claim_str(json_t *p, const char *name, const char **out)
{
    json_t *v = json_object_get(p, name);
    *out = NULL;
    if (v == NULL) {
        return 0;
    }
    if (!json_is_string(v)) {
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

static int
vms_claim_time(json_t *p, const char *name, int64_t *out, int *has)
{
    json_t *v = json_object_get(p, name);
    *has = 0;
    if (v == NULL) {
        return 0;
    }
    if (!json_is_number(v)) {
        return -1;
    }
    double d = json_number_value(v);
    if (!(d >= 0 && d < 1e13)) {
        return -1;
    }
    *out = (int64_t) d;
    *has = 1;
    return 0;
}

static int
vms_claims_parse_perms(vms_claims_t *c, json_t *v)
{
    if (json_is_string(v)) {            /* OAuth-style "scope" string */
        const char *s = json_string_value(v);
        while (*s) {
            while (*s == ' ') {
                s++;
            }
            size_t n = strcspn(s, " ");
            c->perms |= vms_perm_from_name(s, n);
            s += n;
        }
        return 0;
    }
    if (!json_is_array(v)) {
        return -1;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i);
        if (!json_is_string(e)) {
            return -1;
        }
        c->perms |= vms_perm_from_name(json_string_value(e), json_string_length(e));
    }
    return 0;
}

static int
vms_claims_parse_cameras(vms_claims_t *c, const char **why)
{
    json_t *one = json_object_get(c->payload, "camera_id");
    json_t *many = json_object_get(c->payload, "cameras");
    size_t n = (one ? 1 : 0) + (json_is_array(many) ? json_array_size(many) : 0);

    if ((one && !json_is_string(one)) || (many && !json_is_array(many))) {
        *why = "camera_id must be a string and cameras an array";
        return -1;
    }
    if (one == NULL && many == NULL) {
        return 0;
    }
    if (n > VMS_CLAIMS_MAX_CAMERAS) {
        *why = "too many cameras in token";
        return -1;
    }
    c->cameras = calloc(n ? n : 1, sizeof(char *));
    if (c->cameras == NULL) {
        *why = "out of memory";
        return -1;
    }
    if (one) {
        c->cameras[c->ncameras++] = json_string_value(one);
    }
    for (size_t i = 0; many && i < json_array_size(many); i++) {
        json_t *e = json_array_get(many, i);
        if (!json_is_string(e)) {
            *why = "cameras must hold strings";
            return -1;
        }
        c->cameras[c->ncameras++] = json_string_value(e);
    }
    for (size_t i = 0; i < c->ncameras; i++) {
        if (!vms_camera_id_valid(c->cameras[i], strlen(c->cameras[i]))) {
            *why = "token names an invalid camera id";
            return -1;
        }
    }
    return 0;
}

/*
 * One mediamtx_permissions entry, as MediaMTX decodes it into conf.AuthInternalUserPermission with
 * its strict JSON wrapper: null decodes to the zero permission (no action: grants nothing); an
 * object may hold only "action" and "path" (exact case); "action", when present, must be one of the
 * six action strings; "path" a string, or null (= "", any path).  Everything else is an error that
 * MediaMTX answers by refusing the token, so we do too: an unknown member like "paths" would
 * otherwise leave "path" absent, i.e. any path.
 */
static int
vms_claims_parse_mtx_entry(vms_mtx_perm_t *m, json_t *e, const char **why)
{
    const char *key;
    json_t *val;

    m->action = 0;
    m->path = "";
    if (json_is_null(e)) {
        return 0;
    }
    if (!json_is_object(e)) {
        *why = "mediamtx_permissions entries must be objects";
        return -1;
    }
    json_object_foreach(e, key, val) {
        if (strcmp(key, "action") == 0) {
            if (!json_is_string(val)
                || (m->action = vms_action_from_name(json_string_value(val), json_string_length(val)))
                   == 0) {
                *why = "mediamtx_permissions entry has an unknown action";
                return -1;
            }
        } else if (strcmp(key, "path") == 0) {
            if (json_is_string(val)) {
                m->path = json_string_value(val);
            } else if (!json_is_null(val)) {
                *why = "mediamtx_permissions entry path must be a string";
                return -1;
            }
        } else {
            *why = "mediamtx_permissions entry has an unknown field";
            return -1;
        }
    }
    return 0;
}

static int
vms_claims_parse_mtx(vms_claims_t *c, const char **why)
{
    json_t *v = json_object_get(c->payload, "mediamtx_permissions");
    if (v == NULL) {
        return 0;
    }
    if (json_is_string(v)) {
        /* MediaMTX's second form: a string holding the JSON array (identity servers that can only
         * emit string claims).  One level only, parsed as strictly as the payload itself. */
        c->mtx_doc = json_loadb(json_string_value(v), json_string_length(v), JSON_REJECT_DUPLICATES,
                                NULL);
        v = c->mtx_doc;
    }
    if (!json_is_array(v)) {
        *why = "mediamtx_permissions must be an array or a string holding one";
        return -1;
    }
    if (json_array_size(v) > VMS_CLAIMS_MAX_MTX) {
        *why = "mediamtx_permissions has more than 256 entries";
        return -1;
    }
    c->mtx = calloc(json_array_size(v) + 1, sizeof(vms_mtx_perm_t));
    if (c->mtx == NULL) {
        *why = "out of memory";
        return -1;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        if (vms_claims_parse_mtx_entry(&c->mtx[c->nmtx], json_array_get(v, i), why) != 0) {
            return -1;
        }
        if (c->mtx[c->nmtx].action != 0) {
            c->nmtx++;
        }
    }
    c->has_mtx = 1;
    return 0;
}

int
vms_claims_parse(vms_claims_t *c, json_t *payload, const char **why)
{
    memset(c, 0, sizeof(*c));
    c->payload = payload;
    if (!json_is_object(payload)) {
        *why = "token payload is not a JSON object";
        return -1;
    }
    if (vms_claim_str(payload, "sub", &c->sub) || vms_claim_str(payload, "tenant_id", &c->tenant)
        || vms_claim_str(payload, "role", &c->role) || vms_claim_str(payload, "jti", &c->jti)
        || vms_claim_str(payload, "iss", &c->iss) || vms_claim_str(payload, "plan", &c->plan)) {
        *why = "sub, tenant_id, role, jti, iss and plan must be strings";
        return -1;
    }
    if (vms_claim_time(payload, "exp", &c->exp, &c->has_exp)
        || vms_claim_time(payload, "nbf", &c->nbf, &c->has_nbf)
        || vms_claim_time(payload, "iat", &c->iat, &c->has_iat)) {
        *why = "exp, nbf and iat must be NumericDate values";
        return -1;
    }
    if (c->jti && (strlen(c->jti) == 0 || strlen(c->jti) > 128)) {
        *why = "jti must be 1..128 bytes";
        return -1;
    }
    c->perms = vms_role_perms(c->role);
    json_t *pv = json_object_get(payload, "permissions");
    if (pv && vms_claims_parse_perms(c, pv) != 0) {
        *why = "permissions must be an array of strings";
        return -1;
    }
    if (vms_claims_parse_cameras(c, why) != 0 || vms_claims_parse_mtx(c, why) != 0) {
        return -1;
    }
    if (!c->has_exp && !c->has_mtx) {
        *why = "token has no exp";
        return -1;
    }
    if (!c->has_exp) {
        /* Only a MediaMTX token may lack exp (vms_claims_validate decides whether it may here);
         * it grants through its mediamtx_permissions alone. */
        c->perms = 0;
        free(c->cameras);
        c->cameras = NULL;
        c->ncameras = 0;
    }
    return 0;
}

void
vms_claims_free(vms_claims_t *c)
{
    free(c->cameras);
    free(c->mtx);
    json_decref(c->mtx_doc);
    json_decref(c->payload);
    memset(c, 0, sizeof(*c));
}

static int
vms_claims_aud_has(json_t *aud, const char *want)
{
    if (json_is_string(aud)) {
        return strcmp(json_string_value(aud), want) == 0;
    }
    for (size_t i = 0; json_is_array(aud) && i < json_array_size(aud); i++) {
        const char *s = json_string_value(json_array_get(aud, i));
        if (s && strcmp(s, want) == 0) {
            return 1;
        }
    }
    return 0;
}

int
vms_claims_validate(const vms_claims_t *c, int64_t now, const vms_claims_policy_t *p,
                    const char **why)
{
    if (!c->has_exp) {
        if (!p->exp_optional) {
            *why = "token has no exp";
            return -1;
        }
    } else if (now > c->exp + p->leeway) {
        *why = "token expired";
        return -1;
    }
    if (c->has_nbf && now + p->leeway < c->nbf) {
        *why = "token not yet valid (nbf)";
        return -1;
    }
    if (c->has_iat && now + p->leeway < c->iat) {
        *why = "token issued in the future (iat)";
        return -1;
    }
    if (p->issuer && (c->iss == NULL || strcmp(c->iss, p->issuer) != 0)) {
        *why = "token issuer not accepted";
        return -1;
    }
    if (p->audience && !vms_claims_aud_has(json_object_get(c->payload, "aud"), p->audience)) {
        *why = "token audience not accepted";
        return -1;
    }
    return 0;
}

/*
 * MediaMTX compiles "~" paths with Go's regexp (RE2 syntax); a pattern Go refuses grants nothing
 * there.  PCRE2 understands more (backreferences, lookaround, atomic groups, possessive
 * quantifiers, recursion, verbs, \K \R \g \k ...), so such a pattern could grant here what it
 * never grants in MediaMTX.  This conservative scan refuses every construct outside the RE2 subset
 * (it may refuse an odd pattern Go accepts: that grants less, never more).
 */
int
vms_regex_re2_subset(const char *p)
{
    static const char escapes[] = "afntrvdDsSwWbBAzpPQEx";
    for (size_t i = 0; p[i]; i++) {
        char c = p[i];
        if (c == '\\') {
            char e = p[++i];
            if (e == '\0') {
                return 0;
            }
            if (e == 'Q') {                 /* \Q...\E quotes literally, in both */
                const char *end = strstr(p + i + 1, "\\E");
                if (end == NULL) {
                    return 1;               /* quoted to the end */
                }
                i = (size_t) (end - p) + 1;
                continue;
            }
            if ((e >= '0' && e <= '9') || ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z'))) {
                if (e == '0' || (e != '\0' && strchr(escapes, e) == NULL)) {
                    /* digits: backreferences in PCRE, errors or octal in Go; letters: only
                     * the escapes both know */
                    return 0;
                }
            }
            continue;
        }
        if (c == '(' && p[i + 1] == '*') {
            return 0;                       /* PCRE verbs (*SKIP) ... */
        }
        if (c == '(' && p[i + 1] == '?') {
            const char *g = p + i + 2;
            if (*g == ':') {
                continue;
            }
            if ((g[0] == 'P' && g[1] == '<') || (g[0] == '<' && g[1] != '=' && g[1] != '!')) {
                continue;                   /* named group */
            }
            size_t n = strspn(g, "imsU-");
            if (n > 0 && (g[n] == ')' || g[n] == ':')) {
                continue;                   /* flags RE2 knows */
            }
            return 0;       /* lookaround, atomic, conditional, recursion, comments, other flags */
        }
        if ((c == '*' || c == '+' || c == '?' || c == '}') && p[i + 1] == '+') {
            return 0;                       /* possessive (an error in Go) */
        }
    }
    return 1;
}

/*
 * Compiled patterns are kept per thread (an nginx worker has one): a token's regex is compiled the
 * first time it is checked, not on every request. Least recently used out when the cache is full;
 * a pattern that does not compile is cached too (as NULL code: it grants nothing, and fails fast).
 */
#define VMS_REGEX_CACHE 32

typedef struct {
    char              *pattern;
    pcre2_code        *re;
    pcre2_match_data  *md;
    unsigned long      used;
} vms_regex_slot_t;

static _Thread_local vms_regex_slot_t     vms_regex_cache[VMS_REGEX_CACHE];
static _Thread_local pcre2_match_context *vms_regex_mc;
static _Thread_local unsigned long        vms_regex_clock;

static vms_regex_slot_t *
vms_regex_get(const char *pattern)
{
    vms_regex_slot_t *s, *victim = &vms_regex_cache[0];
    int               errcode;
    PCRE2_SIZE        erroff;

    for (size_t i = 0; i < VMS_REGEX_CACHE; i++) {
        s = &vms_regex_cache[i];
        if (s->pattern != NULL && strcmp(s->pattern, pattern) == 0) {
            s->used = ++vms_regex_clock;
            return s;
        }
        if (s->used < victim->used) {
            victim = s;
        }
    }
    char *copy = strdup(pattern);
    if (copy == NULL) {
        return NULL;
    }
    free(victim->pattern);
    pcre2_match_data_free(victim->md);
    pcre2_code_free(victim->re);
    /* DOLLAR_ENDONLY: "$" is the end of the text, as in Go (not also before a final newline) */
    victim->re = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED,
                               PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &errcode, &erroff, NULL);
    victim->md = victim->re ? pcre2_match_data_create_from_pattern(victim->re, NULL) : NULL;
    if (victim->re != NULL && victim->md == NULL) {
        pcre2_code_free(victim->re);
        free(copy);
        *victim = (vms_regex_slot_t) { 0 };
        return NULL;
    }
    victim->pattern = copy;
    victim->used = ++vms_regex_clock;
    return victim;
}

static int
vms_regex_match(const char *pattern, const char *subject)
{
    if (!vms_regex_re2_subset(pattern)) {
        return 0;
    }
    if (vms_regex_mc == NULL) {
        vms_regex_mc = pcre2_match_context_create(NULL);
        if (vms_regex_mc == NULL) {
            return 0;
        }
        pcre2_set_match_limit(vms_regex_mc, 100000);
    }
    vms_regex_slot_t *s = vms_regex_get(pattern);
    if (s == NULL || s->re == NULL) {
        return 0;   /* a pattern that does not compile grants nothing */
    }
    return pcre2_match(s->re, (PCRE2_SPTR) subject, PCRE2_ZERO_TERMINATED, 0, 0, s->md,
                       vms_regex_mc) >= 0;
}

static int
vms_perm_to_action(unsigned perm)
{
    switch (perm) {
    case VMS_PERM_VIEW_STREAM: return VMS_ACT_READ;
    case VMS_PERM_PLAYBACK:    return VMS_ACT_PLAYBACK;
    case VMS_PERM_PUBLISH:     return VMS_ACT_PUBLISH;
    default:                   return VMS_ACT_API;
    }
}

static unsigned
vms_action_to_perm(int action)
{
    switch (action) {
    case VMS_ACT_READ:     return VMS_PERM_VIEW_STREAM;
    case VMS_ACT_PLAYBACK: return VMS_PERM_PLAYBACK;
    case VMS_ACT_PUBLISH:  return VMS_PERM_PUBLISH;
    default:               return VMS_PERM_MANAGE_CONFIG;
    }
}

static int
vms_claims_has_camera(const vms_claims_t *c, const char *camera)
{
    if (c->cameras == NULL) {
        return 1;
    }
    for (size_t i = 0; i < c->ncameras; i++) {
        if (strcmp(c->cameras[i], camera) == 0) {
            return 1;
        }
    }
    return 0;
}

static int
vms_claims_mtx_allows(const vms_claims_t *c, int action, const char *path)
{
    for (size_t i = 0; i < c->nmtx; i++) {
        const vms_mtx_perm_t *m = &c->mtx[i];
        if (m->action != action) {
            continue;
        }
        /* MediaMTX matches paths for publish, read and playback only; api, metrics and pprof
         * permissions hold whatever path they carry */
        if (action != VMS_ACT_PUBLISH && action != VMS_ACT_READ && action != VMS_ACT_PLAYBACK) {
            return 1;
        }
        if (m->path[0] == '\0' || strcmp(m->path, path) == 0
            || (m->path[0] == '~' && vms_regex_match(m->path + 1, path))) {
            return 1;
        }
    }
    return 0;
}

int
vms_claims_allows(const vms_claims_t *c, unsigned perm, const char *camera, const char *path)
{
    if ((c->perms & perm) && (camera == NULL || camera[0] == '\0' || vms_claims_has_camera(c, camera))) {
        return 1;
    }
    if (c->nmtx == 0) {
        return 0;
    }
    if (path == NULL) {
        path = camera ? camera : "";
    }
    return vms_claims_mtx_allows(c, vms_perm_to_action(perm), path);
}

int
vms_claims_allows_path(const vms_claims_t *c, unsigned perm, const char *path)
{
    if ((c->perms & perm) && c->cameras == NULL) {
        return 1;
    }
    return c->nmtx > 0 && vms_claims_mtx_allows(c, vms_perm_to_action(perm), path);
}

int
vms_camera_from_path(const char *path, char *out, size_t outlen)
{
    const char *seg = path, *p = path;
    for (;; p++) {
        if (*p == '/' || *p == '\0') {
            if (!vms_camera_id_valid(seg, (size_t) (p - seg))) {
                return -1;
            }
            if (*p == '\0') {
                break;
            }
            seg = p + 1;
        }
    }
    size_t n = (size_t) (p - seg);
    if (n + 1 > outlen) {
        return -1;
    }
    memcpy(out, seg, n);
    out[n] = '\0';
    return 0;
}

int
vms_mtx_path_valid(const char *path, size_t len)
{
    size_t seg = 0;     /* start of the current segment */

    if (len == 0 || len > VMS_MTX_PATH_MAX) {
        return 0;
    }
    for (size_t i = 0; i <= len; i++) {
        char ch = i < len ? path[i] : '/';
        if (ch == '/') {
            size_t n = i - seg;
            /* empty (also a leading or trailing '/'), "." and ".." segments */
            if (n == 0 || (n == 1 && path[seg] == '.')
                || (n == 2 && path[seg] == '.' && path[seg + 1] == '.')) {
                return 0;
            }
            seg = i + 1;
        } else if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
                     || ch == '_' || ch == '-' || ch == '.')) {
            return 0;   /* NUL, '\\', '%', spaces, controls, non-ASCII ... */
        }
    }
    return 1;
}

int
vms_claims_allows_action(const vms_claims_t *c, int action, const char *path)
{
    unsigned perm = vms_action_to_perm(action);
    int media = action == VMS_ACT_READ || action == VMS_ACT_PLAYBACK || action == VMS_ACT_PUBLISH;
    char cam[VMS_CAMERA_ID_MAX + 1];

    if (path == NULL) {
        path = "";
    }
    if (c->perms & perm) {
        if (!media) {
            return 1;
        }
        if (vms_camera_from_path(path, cam, sizeof(cam)) == 0) {
            if (vms_claims_has_camera(c, cam)) {
                return 1;
            }
        } else if (c->cameras == NULL) {
            return 1;   /* unrestricted token; the path is not a camera id we could check */
        }
    }
    return vms_claims_mtx_allows(c, action, path);
}

int
vms_claims_tenant_is(const vms_claims_t *c, const char *tenant, size_t len)
{
    return c->tenant && strlen(c->tenant) == len && memcmp(c->tenant, tenant, len) == 0;
}
