/*
 * vms-login's endpoints (docs/users.md, "Endpoints"): the password check, refresh-token rotation
 * and logout.  PostgreSQL through libpq and Redis through hiredis, both synchronous with short
 * timeouts: this runs in a libmicrohttpd pool thread, never in nginx.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <openssl/sha.h>

#include "../consumer_common/svc.h"
#include "login.h"
#include "pw.h"
#include "vms_jwt.h"

#define REFRESH_BYTES   32
#define REFRESH_B64     43          /* base64url of 32 bytes, unpadded */
#define JTI_BYTES       16

static __thread PGconn *pg;
static __thread redisContext *rds;
static char dummy_phc[LG_PHC_MAX];
static vms_jwt_keyset_t *keys;

/* one body for a wrong password, an unknown user and a disabled one, byte for byte */
static const char INVALID[] = "{\"error\":\"invalid_credentials\",\"message\":\"wrong user name or password\",\"status\":401}";

int
lg_setup(void)
{
    char pw[33], err[200];
    unsigned char raw[24];
    /* a hash of a password nobody knows: an unknown user's attempt costs what a known one's does */
    if (lg_random(raw, sizeof(raw)) != 0) {
        svc_say("getrandom failed");
        return -1;
    }
    vms_b64url_encode(raw, sizeof(raw), pw);
    if (lg_pw_hash(pw, dummy_phc) != 0) {
        svc_say("argon2id: cannot hash");
        return -1;
    }
    keys = vms_jwt_keyset_new();
    if (keys == NULL || vms_jwt_keyset_add_secret(keys, lg_conf.key, lg_conf.key_len, VMS_JWT_HS256,
                                                  lg_conf.kid, err, sizeof(err)) != 0) {
        svc_say("--jwt-secret-file: %s", keys ? err : "out of memory");
        return -1;
    }
    return 0;
}

/* ---- PostgreSQL ---- */

static int
pg_ready(void)
{
    if (pg && PQstatus(pg) == CONNECTION_OK) {
        return 0;
    }
    if (pg) {
        PQfinish(pg);
    }
    const char *k[] = { "dbname", "connect_timeout", "options", "application_name", NULL };
    const char *v[] = { lg_conf.dsn, "3", "-c statement_timeout=5000", "vms-login", NULL };
    pg = PQconnectdbParams(k, v, 1);
    if (PQstatus(pg) != CONNECTION_OK) {
        /* libpq's message names host and port, never the password */
        char *m = PQerrorMessage(pg), *nl = strchr(m, '\n');
        svc_say("postgres: connect failed: %.*s", nl ? (int) (nl - m) : (int) strlen(m), m);
        PQfinish(pg);
        pg = NULL;
        return -1;
    }
    return 0;
}

/* the result, or NULL with a 503 in r (PostgreSQL unreachable, or the statement failed) */
static PGresult *
query(lg_reply_t *r, const char *sql, int n, const char *const *params)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (pg_ready() != 0) {
            break;
        }
        PGresult *res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            return res;
        }
        char *m = PQresultErrorMessage(res), *nl = strchr(m, '\n');
        svc_say("postgres: %.*s", nl ? (int) (nl - m) : (int) strlen(m), m);
        PQclear(res);
        if (PQstatus(pg) == CONNECTION_OK) {
            break;            /* the statement failed, not the connection: do not repeat it */
        }
    }
    lg_reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "the user database is unavailable");
    r->retry_after = 5;
    return NULL;
}

/* "\x…" (bytea's text input) of SHA-256(s): names and refresh tokens are stored hashed */
static void
sha256_param(const char *s, char out[2 + 64 + 1])
{
    unsigned char h[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *) s, strlen(s), h);
    out[0] = '\\';
    out[1] = 'x';
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        snprintf(out + 2 + 2 * i, 3, "%02x", h[i]);
    }
}

/* ---- Redis (logout's revocation, as nginx's /api/auth/revoke) ---- */

static int
redis_ready(void)
{
    if (rds && rds->err == 0) {
        return 0;
    }
    if (rds) {
        redisFree(rds);
        rds = NULL;
    }
    char host[64];
    const char *colon = strrchr(lg_conf.redis, ':');
    if (colon == NULL || (size_t) (colon - lg_conf.redis) >= sizeof(host)) {
        svc_say("redis: --redis %s: expected IP:PORT", lg_conf.redis);
        return -1;
    }
    memcpy(host, lg_conf.redis, (size_t) (colon - lg_conf.redis));
    host[colon - lg_conf.redis] = '\0';
    struct timeval tv = { 0, 500000 };
    rds = redisConnectWithTimeout(host, atoi(colon + 1), tv);
    if (rds == NULL || rds->err) {
        svc_say("redis %s: connect failed: %s", lg_conf.redis, rds ? rds->errstr : "out of memory");
        if (rds) {
            redisFree(rds);
            rds = NULL;
        }
        return -1;
    }
    redisSetTimeout(rds, tv);
    return 0;
}

/* vms:revoked:{jti} = 1 until exp + leeway; 0 (also when already expired) or -1 */
static int
revoke_jti(const char *jti, long long exp)
{
    long long ttl = exp - (long long) time(NULL) + lg_conf.leeway;
    if (jti == NULL || *jti == '\0' || ttl <= 0) {
        return 0;
    }
    if (lg_conf.redis == NULL) {
        svc_say("logout: no --redis: token %s not revoked", jti);
        return -1;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        if (redis_ready() != 0) {
            return -1;
        }
        redisReply *rep = redisCommand(rds, "SET vms:revoked:%s 1 EX %lld", jti, ttl);
        int ok = rep && rep->type == REDIS_REPLY_STATUS;
        if (rep == NULL) {
            svc_say("redis: SET failed: %s", rds->errstr);
        }
        freeReplyObject(rep);
        if (ok) {
            return 0;
        }
        if (rds->err == 0) {
            return -1;
        }
    }
    return -1;
}

/* ---- tokens ---- */

typedef struct {
    const char *id, *username, *role, *plan, *max_streams, *cameras, *tenant;  /* NULL: SQL NULL */
} user_t;

static const char *
col(PGresult *res, int c)
{
    return PQgetisnull(res, 0, c) ? NULL : PQgetvalue(res, 0, c);
}

static int
random_b64(size_t bytes, char *out)
{
    unsigned char raw[REFRESH_BYTES];
    if (bytes > sizeof(raw) || lg_random(raw, bytes) != 0) {
        return -1;
    }
    vms_b64url_encode(raw, bytes, out);
    return 0;
}

/* the signed user JWT (malloc'd) with a fresh jti; NULL on failure */
static char *
sign_token(const user_t *u, const char *jti, long long now, long long exp)
{
    json_t *p = json_pack("{s:s,s:s,s:I,s:I,s:I,s:s,s:s}", "sub", u->username, "jti", jti, "iat", now,
                          "nbf", now, "exp", exp, "role", u->role, "auth", "password");
    if (p == NULL) {
        return NULL;
    }
    if (u->plan) {
        json_object_set_new(p, "plan", json_string(u->plan));
    }
    if (u->max_streams) {
        json_object_set_new(p, "max_concurrent_streams", json_integer(strtol(u->max_streams, NULL, 10)));
    }
    if (u->cameras) {
        json_t *c = json_loads(u->cameras, 0, NULL);
        if (c) {
            json_object_set_new(p, "cameras", c);
        }
    }
    if (u->tenant) {
        json_object_set_new(p, "tenant_id", json_string(u->tenant));
    }
    if (lg_conf.issuer) {
        json_object_set_new(p, "iss", json_string(lg_conf.issuer));
    }
    if (lg_conf.audience) {
        json_object_set_new(p, "aud", json_string(lg_conf.audience));
    }
    char *t = vms_jwt_sign_hs(lg_conf.key, lg_conf.key_len, VMS_JWT_HS256, lg_conf.kid, p);
    json_decref(p);
    return t;
}

static void
reply_token(lg_reply_t *r, const user_t *u, char *token, long long exp, const char *refresh, long max_age)
{
    char at[40];
    time_t e = (time_t) exp;
    struct tm tm;
    gmtime_r(&e, &tm);
    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    lg_reply_json(r, MHD_HTTP_OK,
                  json_pack("{s:s,s:s,s:I,s:s,s:{s:s,s:s,s:o}}", "token", token, "token_type", "Bearer",
                            "expires_in", (json_int_t) lg_conf.token_ttl, "expires_at", at, "user",
                            "username", u->username, "role", u->role, "plan",
                            u->plan ? json_string(u->plan) : json_null()));
    free(token);
    lg_cookie(r, refresh, max_age);
}

/* ---- login ---- */

static const char *FAIL_CHECK_SQL =
    "SELECT failures, ceil(extract(epoch FROM window_start + make_interval(secs => $2::float8) - now()))::bigint"
    " FROM login_failures WHERE name_hash = $1::bytea AND window_start > now() - make_interval(secs => $2::float8)";
static const char *FAIL_ADD_SQL =
    "INSERT INTO login_failures AS f (name_hash, window_start, failures) VALUES ($1::bytea, now(), 1)"
    " ON CONFLICT (name_hash) DO UPDATE SET"
    " failures = CASE WHEN f.window_start <= now() - make_interval(secs => $2::float8) THEN 1 ELSE f.failures + 1 END,"
    " window_start = CASE WHEN f.window_start <= now() - make_interval(secs => $2::float8) THEN now()"
    " ELSE f.window_start END";
static const char *FAIL_CLEAR_SQL = "DELETE FROM login_failures WHERE name_hash = $1::bytea";
static const char *USER_SQL =
    "SELECT id, username, role, plan, max_concurrent_streams, array_to_json(cameras)::text, tenant,"
    " password_hash, disabled FROM users WHERE username = $1";
/* the user's ended sessions go at each sign-in (their spent tokens with them: ON DELETE CASCADE) */
static const char *PRUNE_SESSIONS_SQL =
    "DELETE FROM auth_sessions WHERE user_id = $1::bigint AND (expires_at < now()"
    " OR revoked_at < now() - interval '1 day')";
/* names that stopped failing, now and then: a guesser trying many names leaves one row each */
static const char *PRUNE_FAILURES_SQL =
    "DELETE FROM login_failures WHERE window_start <= now() - make_interval(secs => $2::float8)";
static const char *SESSION_SQL =
    "INSERT INTO auth_sessions (user_id, refresh_hash, expires_at, last_jti, last_exp)"
    " VALUES ($1::bigint, $2::bytea, now() + make_interval(secs => $3::float8), $4, to_timestamp($5::float8))";

void
lg_login(lg_req_t *q, lg_reply_t *r)
{
    char user[LG_USER_MAX + 1], pw[LG_PASSWORD_MAX + 1], name_hash[68], window[24];
    int rc = lg_parse_login(q->body, q->len, user, pw);
    if (rc != LG_OK) {
        lg_reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", lg_parse_error(rc));
        return;
    }
    sha256_param(user, name_hash);
    snprintf(window, sizeof(window), "%ld", lg_conf.failure_window);
    const char *fp[2] = { name_hash, window };
    PGresult *res = query(r, FAIL_CHECK_SQL, 2, fp);
    if (res == NULL) {
        goto error;
    }
    if (PQntuples(res) == 1 && strtol(PQgetvalue(res, 0, 0), NULL, 10) >= lg_conf.max_failures) {
        long wait = strtol(PQgetvalue(res, 0, 1), NULL, 10);
        PQclear(res);
        lg_reply_error(r, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_attempts",
                       "too many failed sign-ins for this user name; try again later");
        r->retry_after = wait > 0 ? wait : 1;
        lg_count(0, LG_O_LOCKED);
        explicit_bzero(pw, sizeof(pw));
        return;
    }
    PQclear(res);
    const char *up[1] = { user };
    res = lg_user_name_ok(user) ? query(r, USER_SQL, 1, up) : PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    if (res == NULL) {
        goto error;
    }
    int found = PQntuples(res) == 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int ok = lg_pw_verify(found ? PQgetvalue(res, 0, 7) : dummy_phc, pw);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    explicit_bzero(pw, sizeof(pw));
    lg_observe_hash((double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9);
    ok = ok && found && strcmp(PQgetvalue(res, 0, 8), "t") != 0;
    if (!ok) {
        PQclear(res);
        PGresult *f = query(r, FAIL_ADD_SQL, 2, fp);
        if (f == NULL) {
            goto error;
        }
        PQclear(f);
        unsigned char dice;
        lg_reply_t scratch = { 0 };     /* a failed prune changes nothing of the answer */
        if (lg_random(&dice, 1) == 0 && dice < 4) {
            PQclear(query(&scratch, PRUNE_FAILURES_SQL, 2, fp));
            free(scratch.body);
        }
        r->status = MHD_HTTP_UNAUTHORIZED;
        r->body = strdup(INVALID);
        r->len = r->body ? strlen(r->body) : 0;
        r->type = "application/json";
        lg_count(0, LG_O_INVALID);
        svc_say("login: refused (user name hash %.16s)", name_hash + 2);
        return;
    }
    user_t u = { col(res, 0), col(res, 1), col(res, 2), col(res, 3), col(res, 4), col(res, 5), col(res, 6) };
    char refresh[REFRESH_B64 + 2], refresh_hash[68], jti[32], ttl[24], exps[24];
    long long now = (long long) time(NULL), exp = now + lg_conf.token_ttl;
    char *token = NULL;
    if (random_b64(REFRESH_BYTES, refresh) != 0 || random_b64(JTI_BYTES, jti) != 0
        || (token = sign_token(&u, jti, now, exp)) == NULL) {
        PQclear(res);
        lg_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error", "cannot sign a token");
        lg_count(0, LG_O_ERROR);
        return;
    }
    sha256_param(refresh, refresh_hash);
    snprintf(ttl, sizeof(ttl), "%ld", lg_conf.refresh_ttl);
    snprintf(exps, sizeof(exps), "%lld", exp);
    const char *sp[5] = { u.id, refresh_hash, ttl, jti, exps };
    PGresult *s = query(r, PRUNE_SESSIONS_SQL, 1, sp);
    PQclear(s);
    s = s ? query(r, SESSION_SQL, 5, sp) : NULL;
    PGresult *c = s ? query(r, FAIL_CLEAR_SQL, 1, fp) : NULL;
    if (c == NULL) {
        free(token);
        PQclear(s);
        PQclear(res);
        goto error;
    }
    PQclear(s);
    PQclear(c);
    svc_say("login: %s signed in (jti %s)", u.username, jti);
    reply_token(r, &u, token, exp, refresh, lg_conf.refresh_ttl);
    PQclear(res);
    lg_count(0, LG_O_OK);
    return;
error:
    explicit_bzero(pw, sizeof(pw));
    lg_count(0, LG_O_ERROR);
}

/* ---- refresh and logout ---- */

static const char *REFRESH_SQL =
    "WITH r AS (UPDATE auth_sessions s SET refresh_hash = $2::bytea, last_used_at = now(), last_jti = $3,"
    " last_exp = to_timestamp($4::float8) FROM users u WHERE s.refresh_hash = $1::bytea AND s.revoked_at IS NULL"
    " AND s.expires_at > now() AND u.id = s.user_id AND NOT u.disabled"
    " RETURNING s.id AS sid, u.id, u.username, u.role, u.plan, u.max_concurrent_streams,"
    " array_to_json(u.cameras)::text AS cameras, u.tenant,"
    " greatest(1, floor(extract(epoch FROM s.expires_at - now())))::bigint AS left_s),"
    " spent AS (INSERT INTO auth_refresh_spent (refresh_hash, session_id) SELECT $1::bytea, sid FROM r)"
    " SELECT id, username, role, plan, max_concurrent_streams, cameras, tenant, left_s FROM r";
/* a spent refresh token again: someone holds a copy, so the whole session ends */
static const char *REUSE_SQL =
    "UPDATE auth_sessions SET revoked_at = now() WHERE revoked_at IS NULL AND id ="
    " (SELECT session_id FROM auth_refresh_spent WHERE refresh_hash = $1::bytea)"
    " RETURNING last_jti, extract(epoch FROM last_exp)::bigint, user_id";
static const char *LOGOUT_SQL =
    "UPDATE auth_sessions SET revoked_at = coalesce(revoked_at, now()) WHERE refresh_hash = $1::bytea"
    " RETURNING last_jti, extract(epoch FROM last_exp)::bigint";

/* the vms_refresh cookie when well-formed, else NULL */
static const char *
refresh_cookie(lg_req_t *q)
{
    const char *v = MHD_lookup_connection_value(q->c, MHD_COOKIE_KIND, "vms_refresh");
    if (v == NULL || strlen(v) != REFRESH_B64 || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                          "0123456789-_") != REFRESH_B64) {
        return NULL;
    }
    return v;
}

/* a cookie-carrying call must also say X-Requested-With: vms (no cross-site form can); 0 or -1 with a 403 */
static int
csrf_ok(lg_req_t *q, lg_reply_t *r)
{
    const char *x = MHD_lookup_connection_value(q->c, MHD_HEADER_KIND, "X-Requested-With");
    if (x && strcmp(x, "vms") == 0) {
        return 0;
    }
    lg_reply_error(r, MHD_HTTP_FORBIDDEN, "forbidden", "X-Requested-With: vms required");
    return -1;
}

void
lg_refresh(lg_req_t *q, lg_reply_t *r)
{
    if (csrf_ok(q, r) != 0) {
        return;
    }
    const char *old = refresh_cookie(q);
    if (old == NULL) {
        lg_reply_error(r, MHD_HTTP_UNAUTHORIZED, "invalid_refresh", "no valid refresh token");
        lg_cookie(r, "", 0);
        lg_count(1, LG_O_INVALID);
        return;
    }
    char old_hash[68], refresh[REFRESH_B64 + 2], new_hash[68], jti[32], exps[24];
    long long now = (long long) time(NULL), exp = now + lg_conf.token_ttl;
    if (random_b64(REFRESH_BYTES, refresh) != 0 || random_b64(JTI_BYTES, jti) != 0) {
        lg_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error", "no randomness");
        lg_count(1, LG_O_ERROR);
        return;
    }
    sha256_param(old, old_hash);
    sha256_param(refresh, new_hash);
    snprintf(exps, sizeof(exps), "%lld", exp);
    const char *p[4] = { old_hash, new_hash, jti, exps };
    PGresult *res = query(r, REFRESH_SQL, 4, p);
    if (res == NULL) {
        lg_count(1, LG_O_ERROR);
        return;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        PGresult *reuse = query(r, REUSE_SQL, 1, p);
        if (reuse == NULL) {
            lg_count(1, LG_O_ERROR);
            return;
        }
        if (PQntuples(reuse) == 1) {
            /* the session's current access token goes too: the thief may hold it */
            const char *last = col(reuse, 0);
            svc_say("refresh: a spent refresh token was presented again: session of user id %s revoked",
                    PQgetvalue(reuse, 0, 2));
            if (last && revoke_jti(last, strtoll(PQgetvalue(reuse, 0, 1), NULL, 10)) != 0) {
                svc_say("refresh: could not revoke jti %s in Redis", last);
            }
        }
        PQclear(reuse);
        lg_reply_error(r, MHD_HTTP_UNAUTHORIZED, "invalid_refresh", "no valid refresh token");
        lg_cookie(r, "", 0);
        lg_count(1, LG_O_INVALID);
        return;
    }
    user_t u = { col(res, 0), col(res, 1), col(res, 2), col(res, 3), col(res, 4), col(res, 5), col(res, 6) };
    char *token = sign_token(&u, jti, now, exp);
    if (token == NULL) {
        PQclear(res);
        lg_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error", "cannot sign a token");
        lg_count(1, LG_O_ERROR);
        return;
    }
    reply_token(r, &u, token, exp, refresh, strtol(PQgetvalue(res, 0, 7), NULL, 10));
    PQclear(res);
    lg_count(1, LG_O_OK);
}

void
lg_logout(lg_req_t *q, lg_reply_t *r)
{
    const char *cookie = MHD_lookup_connection_value(q->c, MHD_COOKIE_KIND, "vms_refresh");
    const char *authz = MHD_lookup_connection_value(q->c, MHD_HEADER_KIND, "Authorization");
    int failed = 0, refresh_revoked = 0;
    if (cookie && csrf_ok(q, r) != 0) {
        return;
    }
    const char *rt = refresh_cookie(q);
    if (rt) {
        char h[68];
        sha256_param(rt, h);
        const char *p[1] = { h };
        PGresult *res = query(r, LOGOUT_SQL, 1, p);
        if (res == NULL) {
            return;
        }
        refresh_revoked = 1;
        if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
            failed |= revoke_jti(PQgetvalue(res, 0, 0), strtoll(PQgetvalue(res, 0, 1), NULL, 10)) != 0;
        }
        PQclear(res);
    }
    if (authz && strncasecmp(authz, "Bearer ", 7) == 0) {
        const char *tok = authz + 7, *why = NULL;
        vms_jwt_t jwt = { 0 };
        /* only a token signed with our key: nobody revokes another's jti by making one up */
        if (vms_jwt_verify(keys, tok, strlen(tok), &jwt, &why) == 0) {
            json_t *jti = json_object_get(jwt.payload, "jti"), *exp = json_object_get(jwt.payload, "exp");
            if (json_is_string(jti) && json_is_integer(exp)) {
                failed |= revoke_jti(json_string_value(jti), (long long) json_integer_value(exp)) != 0;
            }
            json_decref(jwt.payload);
        }
    }
    if (failed) {
        lg_reply_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
                      json_pack("{s:s,s:s,s:i,s:b}", "error", "revocation_unavailable", "message",
                                "the access token could not be revoked (Redis unavailable)", "status", 503,
                                "refresh_revoked", refresh_revoked));
    } else {
        lg_reply_json(r, MHD_HTTP_OK, json_pack("{s:b}", "logged_out", 1));
    }
    lg_cookie(r, "", 0);
}
