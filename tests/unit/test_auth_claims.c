/* vms_claims and vms_authreq: roles, cameras, tenants, MediaMTX permissions, request parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "vms_authreq.h"
#include "vms_claims.h"

#define NOW 1700000000

static vms_claims_t
claims(const char *json)
{
    vms_claims_t c;
    const char *why = NULL;
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    int rc = vms_claims_parse(&c, j, &why);
    if (rc != 0) {
        fail_msg("parse failed: %s", why);
    }
    return c;
}

static int
parse_fails(const char *json, const char *want)
{
    vms_claims_t c;
    const char *why = NULL;
    int rc = vms_claims_parse(&c, json_loads(json, 0, NULL), &why);
    vms_claims_free(&c);
    if (rc == 0) {
        return 0;
    }
    return want == NULL || strcmp(why, want) == 0;
}

static void
test_roles(void **state)
{
    vms_claims_t v = claims("{\"exp\":1800000000,\"role\":\"viewer\"}");
    vms_claims_t o = claims("{\"exp\":1800000000,\"role\":\"operator\"}");
    vms_claims_t a = claims("{\"exp\":1800000000,\"role\":\"admin\"}");
    vms_claims_t x = claims("{\"exp\":1800000000,\"role\":\"superuser\"}");
    assert_true(vms_claims_allows(&v, VMS_PERM_VIEW_STREAM, "cam1", NULL));
    assert_false(vms_claims_allows(&v, VMS_PERM_CONTROL_CAMERA, "cam1", NULL));
    assert_false(vms_claims_allows(&v, VMS_PERM_MANAGE_CONFIG, NULL, NULL));
    assert_false(vms_claims_allows(&v, VMS_PERM_PLAYBACK, "cam1", NULL));
    assert_true(vms_claims_allows(&o, VMS_PERM_CONTROL_CAMERA, "cam1", NULL));
    assert_true(vms_claims_allows(&o, VMS_PERM_VIEW_STREAM, "cam1", NULL));
    assert_false(vms_claims_allows(&o, VMS_PERM_MANAGE_CONFIG, NULL, NULL));
    assert_true(vms_claims_allows(&a, VMS_PERM_MANAGE_CONFIG, NULL, NULL));
    assert_true(vms_claims_allows(&a, VMS_PERM_PLAYBACK, "cam9", NULL));
    assert_false(vms_claims_allows(&x, VMS_PERM_VIEW_STREAM, "cam1", NULL));
    vms_claims_free(&v); vms_claims_free(&o); vms_claims_free(&a); vms_claims_free(&x);
}

static void
test_permissions_and_cameras(void **state)
{
    vms_claims_t c = claims("{\"exp\":1800000000,\"camera_id\":\"cam1\",\"permissions\":[\"view_stream\",\"playback\",\"whatever\"]}");
    assert_true(vms_claims_allows(&c, VMS_PERM_VIEW_STREAM, "cam1", NULL));
    assert_true(vms_claims_allows(&c, VMS_PERM_PLAYBACK, "cam1", NULL));
    assert_false(vms_claims_allows(&c, VMS_PERM_VIEW_STREAM, "cam2", NULL));
    assert_false(vms_claims_allows(&c, VMS_PERM_CONTROL_CAMERA, "cam1", NULL));
    vms_claims_free(&c);
    c = claims("{\"exp\":1800000000,\"cameras\":[\"a\",\"b-2\"],\"permissions\":\"view_stream control_camera\"}");
    assert_true(vms_claims_allows(&c, VMS_PERM_VIEW_STREAM, "b-2", NULL));
    assert_true(vms_claims_allows(&c, VMS_PERM_CONTROL_CAMERA, "a", NULL));
    assert_false(vms_claims_allows(&c, VMS_PERM_VIEW_STREAM, "c", NULL));
    vms_claims_free(&c);
    assert_true(parse_fails("{\"exp\":1800000000,\"camera_id\":\"../etc\"}", "token names an invalid camera id"));
    assert_true(parse_fails("{\"exp\":1800000000,\"cameras\":[\"ok\",7]}", "cameras must hold strings"));
    assert_true(parse_fails("{\"exp\":1800000000,\"permissions\":[1]}", "permissions must be an array of strings"));
    assert_true(parse_fails("{\"role\":\"admin\"}", "token has no exp"));
    assert_true(parse_fails("{\"exp\":\"tomorrow\"}", "exp, nbf and iat must be NumericDate values"));
    assert_true(parse_fails("{\"exp\":1800000000,\"sub\":5}", NULL));
    assert_true(parse_fails("[1]", NULL));
}

static void
test_tenant(void **state)
{
    vms_claims_t c = claims("{\"exp\":1800000000,\"tenant_id\":\"acme\"}");
    assert_true(vms_claims_tenant_is(&c, "acme", 4));
    assert_false(vms_claims_tenant_is(&c, "acm", 3));
    assert_false(vms_claims_tenant_is(&c, "other", 5));
    vms_claims_free(&c);
    c = claims("{\"exp\":1800000000}");
    assert_false(vms_claims_tenant_is(&c, "acme", 4));
    vms_claims_free(&c);
}

static void
test_times(void **state)
{
    vms_claims_policy_t p = { .leeway = 30 };
    const char *why;
    vms_claims_t c = claims("{\"exp\":1700000000,\"nbf\":1699999000,\"iat\":1699999000}");
    assert_int_equal(vms_claims_validate(&c, NOW, &p, &why), 0);
    assert_int_equal(vms_claims_validate(&c, NOW + 30, &p, &why), 0);
    assert_int_equal(vms_claims_validate(&c, NOW + 31, &p, &why), -1);
    assert_string_equal(why, "token expired");
    vms_claims_free(&c);
    c = claims("{\"exp\":1800000000,\"nbf\":1700000100}");
    assert_int_equal(vms_claims_validate(&c, NOW, &p, &why), -1);
    assert_string_equal(why, "token not yet valid (nbf)");
    assert_int_equal(vms_claims_validate(&c, NOW + 70, &p, &why), 0);
    vms_claims_free(&c);
    c = claims("{\"exp\":1800000000,\"iat\":1700000500}");
    assert_int_equal(vms_claims_validate(&c, NOW, &p, &why), -1);
    assert_string_equal(why, "token issued in the future (iat)");
    vms_claims_free(&c);
    c = claims("{\"exp\":1800000000,\"iss\":\"vms\",\"aud\":[\"x\",\"vms-api\"]}");
    p.issuer = "vms";
    p.audience = "vms-api";
    assert_int_equal(vms_claims_validate(&c, NOW, &p, &why), 0);
    p.audience = "other";
    assert_int_equal(vms_claims_validate(&c, NOW, &p, &why), -1);
    assert_string_equal(why, "token audience not accepted");
    p.audience = NULL;
    p.issuer = "someone";
    assert_int_equal(vms_claims_validate(&c, NOW, &p, &why), -1);
    assert_string_equal(why, "token issuer not accepted");
    vms_claims_free(&c);
}

/* a MediaMTX path whose last part is no camera id (cam.1): every camera, or MediaMTX's own grant */
static void
test_path_without_camera(void **state)
{
    vms_claims_t all = claims("{\"exp\":1800000000,\"role\":\"admin\"}");
    vms_claims_t one = claims("{\"exp\":1800000000,\"camera_id\":\"cam1\",\"permissions\":[\"playback\"]}");
    vms_claims_t mtx = claims("{\"exp\":1800000000,\"mediamtx_permissions\":["
                              "{\"action\":\"playback\",\"path\":\"site.a/cam.7\"}]}");
    assert_true(vms_claims_allows_path(&all, VMS_PERM_PLAYBACK, "cam.1"));
    assert_false(vms_claims_allows_path(&one, VMS_PERM_PLAYBACK, "cam.1"));
    assert_false(vms_claims_allows_path(&one, VMS_PERM_VIEW_STREAM, "cam.1"));
    assert_true(vms_claims_allows_path(&mtx, VMS_PERM_PLAYBACK, "site.a/cam.7"));
    assert_false(vms_claims_allows_path(&mtx, VMS_PERM_PLAYBACK, "site.a/cam.8"));
    assert_false(vms_claims_allows_path(&mtx, VMS_PERM_VIEW_STREAM, "site.a/cam.7"));
    vms_claims_free(&all); vms_claims_free(&one); vms_claims_free(&mtx);
}

static void
test_mediamtx_permissions(void **state)
{
    vms_claims_t c = claims("{\"exp\":1800000000,\"mediamtx_permissions\":["
                            "{\"action\":\"read\",\"path\":\"cam1\"},"
                            "{\"action\":\"publish\",\"path\":\"~^camera/ent[0-9]+$\"},"
                            "{\"action\":\"playback\",\"path\":\"\"}]}");
    assert_true(vms_claims_allows_action(&c, VMS_ACT_READ, "cam1"));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_READ, "cam2"));
    assert_true(vms_claims_allows_action(&c, VMS_ACT_PUBLISH, "camera/ent42"));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_PUBLISH, "camera/ent42x"));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_PUBLISH, "cam1"));
    assert_true(vms_claims_allows_action(&c, VMS_ACT_PLAYBACK, "anything/at/all"));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_API, ""));
    /* our permission checks consult MediaMTX permissions too */
    assert_true(vms_claims_allows(&c, VMS_PERM_VIEW_STREAM, "cam1", NULL));
    assert_false(vms_claims_allows(&c, VMS_PERM_VIEW_STREAM, "cam2", NULL));
    assert_true(vms_claims_allows(&c, VMS_PERM_PLAYBACK, "cam2", NULL));
    vms_claims_free(&c);
    /* a broken regex grants nothing */
    c = claims("{\"exp\":1800000000,\"mediamtx_permissions\":[{\"action\":\"read\",\"path\":\"~(\"}]}");
    assert_false(vms_claims_allows_action(&c, VMS_ACT_READ, "("));
    vms_claims_free(&c);
    assert_true(parse_fails("{\"exp\":1800000000,\"mediamtx_permissions\":{}}", NULL));
    assert_true(parse_fails("{\"exp\":1800000000,\"mediamtx_permissions\":[{\"action\":1}]}", NULL));
}

/* compiled patterns are cached per thread (#19): more patterns than the cache holds, each checked
 * again after it was evicted, still match exactly their own paths */
static void
test_mediamtx_regex_cache(void **state)
{
    char json[160], path[32], other[32];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 80; i++) {
            snprintf(json, sizeof(json), "{\"exp\":1800000000,\"mediamtx_permissions\":"
                     "[{\"action\":\"read\",\"path\":\"~^site%d/cam[0-9]$\"}]}", i);
            vms_claims_t c = claims(json);
            snprintf(path, sizeof(path), "site%d/cam%d", i, i % 10);
            snprintf(other, sizeof(other), "site%d/cam%d", i + 1, i % 10);
            assert_true(vms_claims_allows_action(&c, VMS_ACT_READ, path));
            assert_false(vms_claims_allows_action(&c, VMS_ACT_READ, other));
            /* the broken pattern stays refused whether it is cached or not */
            vms_claims_free(&c);
            c = claims("{\"exp\":1800000000,\"mediamtx_permissions\":[{\"action\":\"read\",\"path\":\"~(\"}]}");
            assert_false(vms_claims_allows_action(&c, VMS_ACT_READ, "("));
            vms_claims_free(&c);
        }
    }
}

/* #11: MediaMTX refuses the whole token on any entry it cannot decode; so do we. */
static void
test_mediamtx_permissions_strict(void **state)
{
#define MTX(x) "{\"exp\":1800000000,\"mediamtx_permissions\":" x "}"
    /* the security defect: "paths" left "path" absent, i.e. any path */
    assert_true(parse_fails(MTX("[{\"action\":\"read\",\"paths\":\"cam1\"}]"),
                            "mediamtx_permissions entry has an unknown field"));
    assert_true(parse_fails(MTX("[{\"action\":\"read\",\"path\":\"cam1\"},{\"action\":\"teleport\"}]"),
                            "mediamtx_permissions entry has an unknown action"));
    assert_true(parse_fails(MTX("[{\"action\":\"Read\",\"path\":\"cam1\"}]"), NULL));
    assert_true(parse_fails(MTX("[{\"Action\":\"read\",\"path\":\"cam1\"}]"), NULL));
    assert_true(parse_fails(MTX("[{\"action\":\"read\",\"Path\":\"cam1\"}]"), NULL));
    assert_true(parse_fails(MTX("[{\"action\":null}]"), NULL));
    assert_true(parse_fails(MTX("[{\"action\":\"\"}]"), NULL));
    assert_true(parse_fails(MTX("[{\"action\":\"read\",\"path\":7}]"), NULL));
    assert_true(parse_fails(MTX("[{\"action\":\"read\",\"path\":[\"cam1\"]}]"), NULL));
    assert_true(parse_fails(MTX("[\"read\"]"), "mediamtx_permissions entries must be objects"));
    assert_true(parse_fails(MTX("[[]]"), NULL));
    assert_true(parse_fails(MTX("null"), NULL));
    assert_true(parse_fails(MTX("7"), NULL));
    assert_true(parse_fails(MTX("\"\""), NULL));                       /* a string not holding an array */
    assert_true(parse_fails(MTX("\"null\""), NULL));
    assert_true(parse_fails(MTX("\"[{\\\"action\\\":\\\"read\\\",\\\"paths\\\":\\\"x\\\"}]\""), NULL));
    assert_true(parse_fails(MTX("\"\\\"[]\\\"\""), NULL));          /* two levels of string */
    assert_true(parse_fails(MTX("\"[] x\""), NULL));                  /* trailing bytes */
    assert_true(parse_fails(MTX("\"[{\\\"action\\\":\\\"read\\\",\\\"action\\\":\\\"api\\\"}]\""), NULL));
}

/* #11: MediaMTX tokens that MediaMTX accepts are accepted, with MediaMTX's meaning. */
static void
test_mediamtx_permissions_forms(void **state)
{
    /* the claim as a JSON string holding the array */
    vms_claims_t c = claims(MTX("\"[{\\\"action\\\":\\\"read\\\",\\\"path\\\":\\\"cam1\\\"}]\""));
    assert_true(vms_claims_allows_action(&c, VMS_ACT_READ, "cam1"));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_READ, "cam2"));
    vms_claims_free(&c);
    /* path null = "" = any path; path absent too */
    c = claims(MTX("[{\"action\":\"read\",\"path\":null},{\"action\":\"playback\"}]"));
    assert_true(vms_claims_allows_action(&c, VMS_ACT_READ, "any/cam"));
    assert_true(vms_claims_allows_action(&c, VMS_ACT_PLAYBACK, "cam9"));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_PUBLISH, "cam9"));
    vms_claims_free(&c);
    /* api/metrics/pprof: the path is ignored */
    c = claims(MTX("[{\"action\":\"api\",\"path\":\"cam1\"},{\"action\":\"metrics\",\"path\":\"~^x$\"},"
                   "{\"action\":\"pprof\",\"path\":null}]"));
    assert_true(vms_claims_allows_action(&c, VMS_ACT_API, ""));
    assert_true(vms_claims_allows_action(&c, VMS_ACT_METRICS, ""));
    assert_true(vms_claims_allows_action(&c, VMS_ACT_PPROF, ""));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_READ, "cam1"));
    vms_claims_free(&c);
    /* null entries, entries without action and [] decode to permissions that grant nothing */
    c = claims(MTX("[null,{},{\"path\":\"cam1\"}]"));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_READ, "cam1"));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_API, ""));
    vms_claims_free(&c);
    c = claims(MTX("\"[]\""));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_READ, "cam1"));
    vms_claims_free(&c);
}

/* Tokens without exp: only MediaMTX tokens, only with exp_optional, and only through their
 * mediamtx_permissions. */
static void
test_exp_optional(void **state)
{
    const char *why;
    vms_claims_policy_t strict = { .leeway = 30 }, mtx = { .leeway = 30, .exp_optional = 1 };
    assert_true(parse_fails("{\"role\":\"admin\"}", "token has no exp"));
    vms_claims_t c = claims("{\"role\":\"admin\",\"mediamtx_permissions\":[{\"action\":\"read\",\"path\":\"cam1\"}]}");
    assert_int_equal(vms_claims_validate(&c, NOW, &strict, &why), -1);
    assert_string_equal(why, "token has no exp");
    assert_int_equal(vms_claims_validate(&c, NOW, &mtx, &why), 0);
    assert_true(vms_claims_allows_action(&c, VMS_ACT_READ, "cam1"));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_READ, "cam2"));   /* the role grants nothing */
    assert_false(vms_claims_allows_action(&c, VMS_ACT_API, ""));
    vms_claims_free(&c);
}

/* "~" patterns: PCRE2-only syntax grants nothing, as it cannot compile in MediaMTX (Go RE2). */
static void
test_mtx_regex_re2_subset(void **state)
{
    static const char *ok[] = { "^cam[0-9]+$", "^(?:site|hq)/cam\\d{1,3}$", "(?i)^CAM", "(?P<n>a)b",
                                "(?<n>a)b", "a*?b+?", "\\Q(?=x)\\E", "[a-z\\-]+", "\\pL+", "x{2}" };
    static const char *bad[] = { "^(a)\\1$", "^(?=cam)", "(?!x)", "(?<=a)b", "(?<!a)b", "(?>a)", "a*+",
                                 "a++", "a?+", "a{2}+", "(?R)", "(?1)", "(*SKIP)", "(?x) a", "\\K",
                                 "\\g1", "\\k<n>", "\\R", "\\h", "(?#c)", "(?(1)a|b)", "\\0", "\\" };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (!vms_regex_re2_subset(ok[i])) {
            fail_msg("refused: %s", ok[i]);
        }
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (vms_regex_re2_subset(bad[i])) {
            fail_msg("accepted: %s", bad[i]);
        }
    }
    vms_claims_t c = claims("{\"exp\":1800000000,\"mediamtx_permissions\":["
                            "{\"action\":\"read\",\"path\":\"~^(?!secret).*$\"},"
                            "{\"action\":\"publish\",\"path\":\"~^cam[0-9]+$\"}]}");
    assert_false(vms_claims_allows_action(&c, VMS_ACT_READ, "cam1"));    /* lookahead: nothing */
    assert_true(vms_claims_allows_action(&c, VMS_ACT_PUBLISH, "cam12"));
    vms_claims_free(&c);
}

static void
test_mtx_path_names(void **state)
{
    static const char *ok[] = { "cam1", "camera/cam1", "a.b", "v1.2/x_y-z", "...", "a/.b", "..a" };
    static const char *bad[] = { "", "../cam1", "cam1/..", "a/../b", "./cam1", "a/./b", ".", "..",
                                 "/cam1", "cam1/", "a//b", "cam 1", "cam%2e", "a\\b", "cam~1", "caméra",
                                 "cam1?x", "cam1#" };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_true(vms_mtx_path_valid(ok[i], strlen(ok[i])));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (vms_mtx_path_valid(bad[i], strlen(bad[i]))) {
            fail_msg("path \"%s\" accepted", bad[i]);
        }
    }
    assert_false(vms_mtx_path_valid("cam\0x", 5));
    char big[VMS_MTX_PATH_MAX + 2];
    memset(big, 'a', sizeof(big));
    assert_true(vms_mtx_path_valid(big, VMS_MTX_PATH_MAX));
    assert_false(vms_mtx_path_valid(big, VMS_MTX_PATH_MAX + 1));
#undef MTX
}

static void
test_actions_with_our_claims(void **state)
{
    vms_claims_t c = claims("{\"exp\":1800000000,\"camera_id\":\"cam1\",\"role\":\"viewer\"}");
    assert_true(vms_claims_allows_action(&c, VMS_ACT_READ, "cam1"));
    assert_true(vms_claims_allows_action(&c, VMS_ACT_READ, "camera/cam1"));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_READ, "camera/cam2"));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_READ, "cam1/../cam2"));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_PUBLISH, "cam1"));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_PLAYBACK, "cam1"));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_API, ""));
    assert_false(vms_claims_allows_action(&c, VMS_ACT_METRICS, ""));
    vms_claims_free(&c);
    c = claims("{\"exp\":1800000000,\"role\":\"admin\"}");
    assert_true(vms_claims_allows_action(&c, VMS_ACT_API, ""));
    assert_true(vms_claims_allows_action(&c, VMS_ACT_PPROF, ""));
    assert_true(vms_claims_allows_action(&c, VMS_ACT_PUBLISH, "camera/x"));
    vms_claims_free(&c);
    char cam[65];
    assert_int_equal(vms_camera_from_path("camera/cam7", cam, sizeof(cam)), 0);
    assert_string_equal(cam, "cam7");
    assert_int_equal(vms_camera_from_path("", cam, sizeof(cam)), -1);
    assert_int_equal(vms_camera_from_path("a//b", cam, sizeof(cam)), -1);
    assert_int_equal(vms_camera_from_path("a/b c", cam, sizeof(cam)), -1);
}

static void
test_mtx_request(void **state)
{
    vms_mtx_req_t m;
    const char *why, *tok;
    size_t tl;
    char buf[256];
    const char *body = "{\"ip\":\"127.0.0.1\",\"user\":\"\",\"password\":\"\",\"token\":\"T1\","
                       "\"action\":\"read\",\"path\":\"cam1\",\"protocol\":\"rtsp\",\"id\":null,"
                       "\"query\":\"jwt=Q1\"}";
    assert_int_equal(vms_mtx_req_parse(&m, body, strlen(body), &why), 0);
    assert_int_equal(m.action, VMS_ACT_READ);
    assert_string_equal(m.path, "cam1");
    assert_int_equal(vms_mtx_req_token(&m, buf, sizeof(buf), &tok, &tl), 0);
    assert_string_equal(tok, "T1");
    vms_mtx_req_free(&m);
    body = "{\"user\":\"u\",\"password\":\"P1\",\"action\":\"publish\",\"path\":\"cam1\",\"protocol\":\"rtmp\",\"query\":\"token=Q1\"}";
    assert_int_equal(vms_mtx_req_parse(&m, body, strlen(body), &why), 0);
    assert_int_equal(vms_mtx_req_token(&m, buf, sizeof(buf), &tok, &tl), 0);
    assert_string_equal(tok, "P1");
    vms_mtx_req_free(&m);
    body = "{\"action\":\"playback\",\"path\":\"cam1\",\"query\":\"a=1&jwt=Q%2B1&b\"}";
    assert_int_equal(vms_mtx_req_parse(&m, body, strlen(body), &why), 0);
    assert_int_equal(vms_mtx_req_token(&m, buf, sizeof(buf), &tok, &tl), 0);
    assert_string_equal(tok, "Q+1");
    vms_mtx_req_free(&m);
    body = "{\"action\":\"api\",\"path\":\"\"}";
    assert_int_equal(vms_mtx_req_parse(&m, body, strlen(body), &why), 0);
    assert_int_equal(vms_mtx_req_token(&m, buf, sizeof(buf), &tok, &tl), -1);
    vms_mtx_req_free(&m);
    assert_int_equal(vms_mtx_req_parse(&m, "{\"action\":\"fly\"}", 16, &why), -1);
    assert_string_equal(why, "unknown action");
    assert_int_equal(vms_mtx_req_parse(&m, "{\"action\":\"read\",\"path\":3}", 27, &why), -1);
    assert_int_equal(vms_mtx_req_parse(&m, "not json", 8, &why), -1);
    assert_int_equal(vms_mtx_req_parse(&m, "[]", 2, &why), -1);
}

#define REQ_OK(b) do { const char *_b = (b); \
    if (vms_mtx_req_parse(&m, _b, strlen(_b), &why) != 0) fail_msg("refused (%s): %s", why, _b); \
    vms_mtx_req_free(&m); } while (0)
#define REQ_BAD(b, w) do { const char *_b = (b); \
    if (vms_mtx_req_parse(&m, _b, strlen(_b), &why) == 0) fail_msg("accepted: %s", _b); \
    if ((w) != NULL && strcmp(why, (w) ? (w) : "") != 0) fail_msg("%s: %s", why, _b); } while (0)

/* The bodies MediaMTX builds (internal/auth/manager.go), and what strays from them. */
static void
test_mtx_request_shapes(void **state)
{
    vms_mtx_req_t m;
    const char *why;
    static const char *protos[] = { "rtsp", "rtmp", "hls", "webrtc", "srt", "moq" };
    static const char *acts[] = { "publish", "read", "playback", "api", "metrics", "pprof" };
    char b[512];
    for (size_t a = 0; a < 6; a++) {
        for (size_t p = 0; p < 6; p++) {
            snprintf(b, sizeof(b), "{\"ip\":\"127.0.0.1\",\"user\":\"\",\"password\":\"\",\"token\":\"t\","
                     "\"action\":\"%s\",\"path\":\"%s\",\"protocol\":\"%s\","
                     "\"id\":\"6f1c6a54-3c0e-4b64-9d3e-0f3c9b0fa1d2\",\"query\":\"\",\"userAgent\":\"ffmpeg\"}",
                     acts[a], a < 3 ? "camera/cam1" : "", protos[p]);
            REQ_OK(b);
        }
        /* playback, api, metrics, pprof arrive without protocol and with id null */
        snprintf(b, sizeof(b), "{\"ip\":\"::1\",\"user\":\"u\",\"password\":\"p\",\"token\":\"\","
                 "\"action\":\"%s\",\"path\":\"%s\",\"protocol\":\"\",\"id\":null,\"query\":\"a=1\","
                 "\"userAgent\":\"\"}", acts[a], a < 3 ? "cam1" : "");
        if (a >= 2) {
            REQ_OK(b);
        } else {
            REQ_BAD(b, "unknown protocol");
        }
    }
    REQ_OK("{\"ip\":\"1.2.3.4\",\"user\":\"\",\"password\":\"\",\"action\":\"read\",\"path\":\"cam1\","
           "\"protocol\":\"rtsp\",\"id\":null,\"query\":\"\"}");                  /* an older MediaMTX */
    REQ_OK("{\"action\":\"api\",\"path\":\"ignored/path\"}");
    REQ_BAD("{\"action\":\"read\",\"path\":\"cam1\",\"protocol\":\"rtsp\",\"paths\":\"x\"}",
            "request body has an unknown field");
    REQ_BAD("{\"action\":\"read\",\"path\":\"cam1\",\"protocol\":\"gopher\"}", "unknown protocol");
    REQ_BAD("{\"action\":\"read\",\"path\":\"cam1\",\"protocol\":\"RTSP\"}", "unknown protocol");
    REQ_BAD("{\"action\":\"read\",\"path\":\"cam1\",\"protocol\":\"rtsp\",\"id\":\"42\"}",
            "id must be a UUID or null");
    REQ_BAD("{\"action\":\"read\",\"path\":\"cam1\",\"protocol\":\"rtsp\",\"id\":7}",
            "id must be a UUID or null");
    REQ_BAD("{\"action\":\"read\",\"path\":\"cam1\",\"protocol\":\"rtsp\",\"user\":null}",
            "request fields must be strings");
    REQ_BAD("{\"action\":\"read\",\"path\":\"cam1\",\"protocol\":\"rtsp\",\"query\":{}}",
            "request fields must be strings");
    REQ_BAD("{\"action\":\"read\",\"path\":\"../cam1\",\"protocol\":\"rtsp\"}", "invalid path name");
    REQ_BAD("{\"action\":\"playback\",\"path\":\"\"}", "invalid path name");
    REQ_BAD("{\"action\":\"publish\",\"protocol\":\"srt\"}", "invalid path name");
    REQ_BAD("{\"action\":\"api\",\"path\":\"a/../b\"}", "invalid path name");
    REQ_BAD("{\"action\":\"read\",\"path\":\"cam1\\u0000x\",\"protocol\":\"rtsp\"}", NULL);
    REQ_BAD("{\"action\":\"read\",\"path\":\"cam1\",\"protocol\":\"rtsp\",\"path\":\"cam2\"}", NULL);
}

static void
test_rtmp_request(void **state)
{
    vms_rtmp_req_t q;
    char tok[512];
    size_t tl;
    const char *why;
    const char *body = "app=live&flashver=LNX&swfurl=&tcurl=rtmp%3A%2F%2Fh%2Flive&pageurl=&addr=127.0.0.1"
                       "&clientid=1&call=play&name=cam1&start=-2000&duration=0&reset=0&token=abc.def.ghi";
    assert_int_equal(vms_rtmp_req_parse(&q, body, strlen(body), tok, sizeof(tok), &tl, &why), 0);
    assert_int_equal(q.action, VMS_ACT_READ);
    assert_string_equal(q.name, "cam1");
    assert_string_equal(q.app, "live");
    assert_int_equal(tl, 11);
    assert_string_equal(tok, "abc.def.ghi");
    body = "call=publish&name=cam2&args=jwt%3Dxyz%26foo%3D1";
    assert_int_equal(vms_rtmp_req_parse(&q, body, strlen(body), tok, sizeof(tok), &tl, &why), 0);
    assert_int_equal(q.action, VMS_ACT_PUBLISH);
    assert_string_equal(tok, "xyz");
    body = "call=play&name=cam2&tcurl=rtmp%3A%2F%2Fh%2Flive%3Ftoken%3Dt1";
    assert_int_equal(vms_rtmp_req_parse(&q, body, strlen(body), tok, sizeof(tok), &tl, &why), 0);
    assert_string_equal(tok, "t1");
    body = "call=play&name=cam2";
    assert_int_equal(vms_rtmp_req_parse(&q, body, strlen(body), tok, sizeof(tok), &tl, &why), 0);
    assert_int_equal(tl, 0);
    body = "call=done&name=cam2";
    assert_int_equal(vms_rtmp_req_parse(&q, body, strlen(body), tok, sizeof(tok), &tl, &why), -1);
    body = "call=play&name=cam%2";
    assert_int_equal(vms_rtmp_req_parse(&q, body, strlen(body), tok, sizeof(tok), &tl, &why), -1);
    /* #20: the stream name follows the path-name rules (no traversal for an admin token either) */
    static const char *badnames[] = { "call=play&name=..%2Fcam1", "call=play&name=../cam1",
                                      "call=publish&name=cam1%00x", "call=play&name=", "call=play&name=a%20b" };
    for (size_t i = 0; i < sizeof(badnames) / sizeof(badnames[0]); i++) {
        assert_int_equal(vms_rtmp_req_parse(&q, badnames[i], strlen(badnames[i]), tok, sizeof(tok), &tl, &why), -1);
    }
    body = "call=play&name=..%2Fcam1";
    assert_int_equal(vms_rtmp_req_parse(&q, body, strlen(body), tok, sizeof(tok), &tl, &why), -1);
    assert_string_equal(why, "invalid stream name");
    body = "call=play&name=cam.1";
    assert_int_equal(vms_rtmp_req_parse(&q, body, strlen(body), tok, sizeof(tok), &tl, &why), 0);
}

static void
test_form_get(void **state)
{
    char out[8];
    assert_int_equal(vms_form_get("a=1&b=2", 7, "b", out, sizeof(out)), 1);
    assert_string_equal(out, "2");
    assert_int_equal(vms_form_get("ab=1&b=%41+", 11, "b", out, sizeof(out)), 2);
    assert_string_equal(out, "A ");
    assert_int_equal(vms_form_get("a=1", 3, "b", out, sizeof(out)), -1);
    assert_int_equal(vms_form_get("b=%4", 4, "b", out, sizeof(out)), -2);
    assert_int_equal(vms_form_get("b=%00", 5, "b", out, sizeof(out)), -2);
    assert_int_equal(vms_form_get("b=12345678", 10, "b", out, sizeof(out)), -2);
    assert_int_equal(vms_form_get("b", 1, "b", out, sizeof(out)), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_permissions_and_cameras),
        cmocka_unit_test(test_tenant),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_path_without_camera),
        cmocka_unit_test(test_mediamtx_permissions),
        cmocka_unit_test(test_mediamtx_permissions_strict),
        cmocka_unit_test(test_mediamtx_permissions_forms),
        cmocka_unit_test(test_exp_optional),
        cmocka_unit_test(test_mtx_path_names),
        cmocka_unit_test(test_mtx_regex_re2_subset),
        cmocka_unit_test(test_mediamtx_regex_cache),
        cmocka_unit_test(test_actions_with_our_claims),
        cmocka_unit_test(test_mtx_request),
        cmocka_unit_test(test_mtx_request_shapes),
        cmocka_unit_test(test_rtmp_request),
        cmocka_unit_test(test_form_get),
    };
    return cmocka_run_group_tests_name("auth_claims", tests, NULL, NULL);
}
