/*
 * vms-user: the users vms-login signs in (docs/users.md).
 *
 *   vms-user [--dsn-file F] add NAME [--role R] [--plan P] [--max-streams N] [--cameras a,b]
 *                                    [--tenant T] [--password-stdin]
 *   vms-user [--dsn-file F] passwd NAME [--password-stdin]
 *   vms-user [--dsn-file F] disable NAME | enable NAME | list [--json]
 *   (passwd and disable take [--redis IP:PORT], else VMS_REDIS_ADDR)
 *
 * The password comes from the terminal (no echo, asked twice) or one line of stdin with
 * --password-stdin; never from argv.  The DSN from --dsn-file, VMS_PG_DSN_FILE or VMS_PG_DSN.
 * passwd and disable revoke every session (refresh token) of the user and, with Redis, the newest
 * access token of each (vms:revoked:{jti}, as nginx's /api/auth/revoke).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "body.h"
#include "pw.h"

#define PW_MIN 8

static void
usage(void)
{
    fprintf(stderr,
            "usage: vms-user [--dsn-file F] add NAME [--role viewer|operator|admin] [--plan P] [--max-streams N]\n"
            "                               [--cameras a,b] [--tenant T] [--password-stdin]\n"
            "       vms-user [--dsn-file F] passwd NAME [--password-stdin]\n"
            "       vms-user [--dsn-file F] disable NAME | enable NAME | list [--json]\n"
            "  passwd, disable: [--redis IP:PORT] (or VMS_REDIS_ADDR) also revokes the sessions' access tokens\n"
            "  DSN: --dsn-file F, else VMS_PG_DSN_FILE or VMS_PG_DSN in the environment\n");
}

static char *
read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "vms-user: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    while (n > 0 && isspace((unsigned char) buf[n - 1])) {
        n--;
    }
    buf[n] = '\0';
    return strdup(buf);
}

/* one line into buf (without its newline); 0, or -1 at EOF / over-long */
static int
read_line(FILE *f, char *buf, size_t len)
{
    if (fgets(buf, (int) len, f) == NULL) {
        return -1;
    }
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n') {
        buf[--n] = '\0';
    } else if (!feof(f)) {
        return -1;
    }
    if (n > 0 && buf[n - 1] == '\r') {
        buf[--n] = '\0';
    }
    return 0;
}

static int
ask(FILE *tty, const char *prompt, char *buf, size_t len)
{
    struct termios old, quiet;
    fputs(prompt, stderr);
    fflush(stderr);
    int echo_off = tcgetattr(fileno(tty), &old) == 0;
    if (echo_off) {
        quiet = old;
        quiet.c_lflag &= (tcflag_t) ~ECHO;
        tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    }
    int rc = read_line(tty, buf, len);
    if (echo_off) {
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
    }
    fputc('\n', stderr);
    return rc;
}

/* the new password's argon2id hash into phc; 0 or -1 (said why) */
static int
new_password(int from_stdin, char *phc)
{
    char a[LG_PASSWORD_MAX + 2], b[LG_PASSWORD_MAX + 2];
    int rc = -1;
    if (from_stdin) {
        if (read_line(stdin, a, sizeof(a)) != 0) {
            fprintf(stderr, "vms-user: --password-stdin: no password line (at most %d bytes)\n", LG_PASSWORD_MAX);
            goto done;
        }
    } else {
        FILE *tty = fopen("/dev/tty", "r+");
        if (tty == NULL) {
            fprintf(stderr, "vms-user: no terminal to ask the password on: use --password-stdin\n");
            goto done;
        }
        int bad = ask(tty, "password: ", a, sizeof(a)) != 0 || ask(tty, "again: ", b, sizeof(b)) != 0;
        fclose(tty);
        if (bad || strcmp(a, b) != 0) {
            fprintf(stderr, "vms-user: the passwords differ\n");
            goto done;
        }
    }
    if (strlen(a) < PW_MIN || strlen(a) > LG_PASSWORD_MAX) {
        fprintf(stderr, "vms-user: a password has %d..%d bytes\n", PW_MIN, LG_PASSWORD_MAX);
        goto done;
    }
    if (lg_pw_hash(a, phc) != 0) {
        fprintf(stderr, "vms-user: argon2id failed\n");
        goto done;
    }
    rc = 0;
done:
    explicit_bzero(a, sizeof(a));
    explicit_bzero(b, sizeof(b));
    return rc;
}

/* runs sql; prints PostgreSQL's message; the result or NULL */
static PGresult *
run(PGconn *pg, const char *sql, int n, const char *const *p)
{
    PGresult *res = PQexecParams(pg, sql, n, NULL, p, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        fprintf(stderr, "vms-user: %s", PQresultErrorMessage(res));
        PQclear(res);
        return NULL;
    }
    return res;
}

/* vms:revoked:{jti} for the access token of each revoked session (rows: jti, exp); 0 or -1 */
static int
revoke_tokens(const char *addr, PGresult *res)
{
    char host[64];
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || (size_t) (colon - addr) >= sizeof(host)) {
        fprintf(stderr, "vms-user: --redis %s: expected IP:PORT\n", addr);
        return -1;
    }
    memcpy(host, addr, (size_t) (colon - addr));
    host[colon - addr] = '\0';
    struct timeval tv = { 2, 0 };
    redisContext *c = redisConnectWithTimeout(host, atoi(colon + 1), tv);
    int rc = 0;
    if (c == NULL || c->err) {
        fprintf(stderr, "vms-user: redis %s: %s\n", addr, c ? c->errstr : "out of memory");
        rc = -1;
    }
    for (int i = 0; rc == 0 && i < PQntuples(res); i++) {
        if (PQgetisnull(res, i, 1) || PQgetisnull(res, i, 2)) {
            continue;
        }
        long long ttl = strtoll(PQgetvalue(res, i, 2), NULL, 10) - (long long) time(NULL) + 30;
        if (ttl <= 0) {
            continue;
        }
        redisReply *rep = redisCommand(c, "SET vms:revoked:%s 1 EX %lld", PQgetvalue(res, i, 1), ttl);
        if (rep == NULL || rep->type != REDIS_REPLY_STATUS) {
            fprintf(stderr, "vms-user: redis SET failed: %s\n", rep ? rep->str : c->errstr);
            rc = -1;
        }
        freeReplyObject(rep);
    }
    if (c) {
        redisFree(c);
    }
    return rc;
}

static int
list(PGconn *pg, int as_json)
{
    PGresult *res = run(pg, "SELECT username, role, coalesce(plan, ''), disabled,"
                            " coalesce(array_to_string(cameras, ','), '*'), coalesce(tenant, ''),"
                            " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                            " FROM users ORDER BY username", 0, NULL);
    if (res == NULL) {
        return 1;
    }
    json_t *all = json_array();
    if (!as_json) {
        printf("%-24s %-9s %-10s %-8s %s\n", "USER", "ROLE", "PLAN", "STATE", "CAMERAS");
    }
    for (int i = 0; i < PQntuples(res); i++) {
        int disabled = strcmp(PQgetvalue(res, i, 3), "t") == 0;
        if (as_json) {
            json_array_append_new(all, json_pack("{s:s,s:s,s:s,s:b,s:s,s:s,s:s}", "username", PQgetvalue(res, i, 0),
                                                 "role", PQgetvalue(res, i, 1), "plan", PQgetvalue(res, i, 2),
                                                 "disabled", disabled, "cameras", PQgetvalue(res, i, 4),
                                                 "tenant", PQgetvalue(res, i, 5), "created_at", PQgetvalue(res, i, 6)));
        } else {
            printf("%-24s %-9s %-10s %-8s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
                   PQgetvalue(res, i, 2), disabled ? "disabled" : "enabled", PQgetvalue(res, i, 4));
        }
    }
    if (as_json) {
        json_dumpf(all, stdout, JSON_COMPACT);
        putchar('\n');
    }
    json_decref(all);
    PQclear(res);
    return 0;
}

/* "a,b" as a text[] literal ({a,b}); camera ids are [A-Za-z0-9_-]: nothing to quote */
/* the rest of passwd's and disable's statement: every open session ends; rows (user id, the
 * sessions' newest jti and its exp), one with NULLs when there was none */
#define REVOKE_SESSIONS \
    " s AS (UPDATE auth_sessions SET revoked_at = now() WHERE user_id IN (SELECT id FROM u)" \
    " AND revoked_at IS NULL RETURNING last_jti, extract(epoch FROM last_exp)::bigint AS exp)" \
    " SELECT u.id, s.last_jti, s.exp FROM u LEFT JOIN s ON true"

static int
cameras_literal(const char *in, char *out, size_t len)
{
    if (strlen(in) + 3 > len || strspn(in, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-,")
                                    != strlen(in)) {
        return -1;
    }
    snprintf(out, len, "{%s}", in);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *dsn_file = NULL, *cmd = NULL, *name = NULL, *role = "viewer", *plan = NULL, *max = NULL,
               *cams = NULL, *tenant = NULL, *redis = getenv("VMS_REDIS_ADDR");
    int from_stdin = 0, as_json = 0;
    for (int i = 1; i < argc; i++) {
        const char **dst = NULL;
        if (strcmp(argv[i], "--dsn-file") == 0) dst = &dsn_file;
        else if (strcmp(argv[i], "--role") == 0) dst = &role;
        else if (strcmp(argv[i], "--plan") == 0) dst = &plan;
        else if (strcmp(argv[i], "--max-streams") == 0) dst = &max;
        else if (strcmp(argv[i], "--cameras") == 0) dst = &cams;
        else if (strcmp(argv[i], "--tenant") == 0) dst = &tenant;
        else if (strcmp(argv[i], "--redis") == 0) dst = &redis;
        else if (strcmp(argv[i], "--password-stdin") == 0) { from_stdin = 1; continue; }
        else if (strcmp(argv[i], "--json") == 0) { as_json = 1; continue; }
        else if (strcmp(argv[i], "--password") == 0) {
            fprintf(stderr, "vms-user: no --password: argv is visible to every user (use --password-stdin)\n");
            return 2;
        } else if (argv[i][0] == '-') { usage(); return 2; }
        else if (cmd == NULL) { cmd = argv[i]; continue; }
        else if (name == NULL) { name = argv[i]; continue; }
        else { usage(); return 2; }
        if (i + 1 >= argc) {
            usage();
            return 2;
        }
        *dst = argv[++i];
    }
    if (cmd == NULL || (strcmp(cmd, "list") != 0 && name == NULL)) {
        usage();
        return 2;
    }
    if (name && !lg_user_name_ok(name)) {
        fprintf(stderr, "vms-user: a user name is 1..64 of A-Z a-z 0-9 . _ @ -\n");
        return 2;
    }
    if (dsn_file == NULL) {
        dsn_file = getenv("VMS_PG_DSN_FILE");
    }
    char *dsn = dsn_file ? read_file(dsn_file) : getenv("VMS_PG_DSN") ? strdup(getenv("VMS_PG_DSN")) : NULL;
    if (dsn == NULL) {
        fprintf(stderr, "vms-user: no DSN (--dsn-file F, VMS_PG_DSN_FILE or VMS_PG_DSN)\n");
        return 2;
    }
    const char *k[] = { "dbname", "connect_timeout", "application_name", NULL };
    const char *v[] = { dsn, "5", "vms-user", NULL };
    PGconn *pg = PQconnectdbParams(k, v, 1);
    free(dsn);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "vms-user: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return 1;
    }
    int rc = 1;
    char phc[LG_PHC_MAX], cam_lit[4096];
    PGresult *res = NULL;
    if (strcmp(cmd, "list") == 0) {
        rc = list(pg, as_json);
    } else if (strcmp(cmd, "add") == 0) {
        if (cams && cameras_literal(cams, cam_lit, sizeof(cam_lit)) != 0) {
            fprintf(stderr, "vms-user: --cameras: a comma-separated list of camera ids\n");
        } else if (new_password(from_stdin, phc) == 0) {
            const char *p[7] = { name, phc, role, plan, max, cams ? cam_lit : NULL, tenant };
            res = run(pg, "INSERT INTO users (username, password_hash, role, plan, max_concurrent_streams, cameras,"
                          " tenant) VALUES ($1, $2, $3, $4, $5::int, $6::text[], $7)", 7, p);
            rc = res ? 0 : 1;
        }
    } else if (strcmp(cmd, "passwd") == 0 || strcmp(cmd, "disable") == 0 || strcmp(cmd, "enable") == 0) {
        const char *p[2] = { name, phc };
        const char *sql;
        if (strcmp(cmd, "passwd") == 0) {
            if (new_password(from_stdin, phc) != 0) {
                goto out;
            }
            sql = "WITH u AS (UPDATE users SET password_hash = $2, updated_at = now(), password_changed_at = now()"
                  " WHERE username = $1 RETURNING id)," REVOKE_SESSIONS;
        } else if (strcmp(cmd, "disable") == 0) {
            sql = "WITH u AS (UPDATE users SET disabled = true, updated_at = now() WHERE username = $1"
                  " RETURNING id)," REVOKE_SESSIONS;
        } else {
            sql = "UPDATE users SET disabled = false, updated_at = now() WHERE username = $1 RETURNING id";
        }
        res = run(pg, sql, strcmp(cmd, "passwd") == 0 ? 2 : 1, p);
        if (res && PQntuples(res) == 0) {
            fprintf(stderr, "vms-user: no user %s\n", name);
        } else if (res) {
            rc = 0;
            if (strcmp(cmd, "enable") != 0 && redis && revoke_tokens(redis, res) != 0) {
                fprintf(stderr, "vms-user: sessions revoked, but their access tokens stay valid until they expire\n");
                rc = 1;
            }
        }
    } else {
        usage();
        rc = 2;
    }
    if (rc == 0 && strcmp(cmd, "list") != 0) {
        printf("%s: %s\n", name, cmd);
    }
out:
    explicit_bzero(phc, sizeof(phc));
    PQclear(res);
    PQfinish(pg);
    return rc;
}
