/*
 * Camera leases in Redis; see lease.h.
 */

#include "lease.h"
#include "log.h"
#include "util.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vms_lease_conn_s {
    char          *host;
    int            port;
    char          *unix_path;
    char          *password;
    redisContext  *c;
    int            warned;
};

/* Compare-and-extend: the holder's own value is extended; a lease that
 * expired while Redis could not be reached (or was paused) is taken back
 * with the same token only if nobody took it since (the fencing counter is
 * still that token: every take increments it). */
static const char *renew_lua =
    "local v = redis.call('GET', KEYS[1])"
    " if v == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end"
    " if not v and redis.call('GET', KEYS[2]) == ARGV[3] then"
    "  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end"
    " return 0";
/* Compare-and-delete: only the holder's own value. */
static const char *release_lua =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then"
    " return redis.call('DEL', KEYS[1]) else return 0 end";

vms_lease_conn_t *
vms_lease_conn_new(const char *addr, const char *password)
{
    vms_lease_conn_t *lc = calloc(1, sizeof(*lc));
    const char       *colon;
    int64_t           port;

    if (lc == NULL) {
        return NULL;
    }
    if (strncmp(addr, "unix:", 5) == 0) {
        lc->unix_path = strdup(addr + 5);
    } else {
        colon = strrchr(addr, ':');
        if (colon == NULL || vms_parse_int(colon + 1, 1, 65535, &port) != 0) {
            vms_log_error(NULL, "cluster: redis address \"%s\" is not"
                          " host:port or unix:/path", addr);
            free(lc);
            return NULL;
        }
        lc->host = strndup(addr, (size_t) (colon - addr));
        lc->port = (int) port;
    }
    lc->password = password ? strdup(password) : NULL;
    return lc;
}

void
vms_lease_conn_free(vms_lease_conn_t *lc)
{
    if (lc == NULL) {
        return;
    }
    if (lc->c != NULL) {
        redisFree(lc->c);
    }
    free(lc->host);
    free(lc->unix_path);
    if (lc->password != NULL) {
        explicit_bzero(lc->password, strlen(lc->password));
    }
    free(lc->password);
    free(lc);
}

static void
drop(vms_lease_conn_t *lc, const char *why)
{
    if (!lc->warned++) {
        vms_log_warn(NULL, "cluster: redis: %s", why);
    }
    if (lc->c != NULL) {
        redisFree(lc->c);
        lc->c = NULL;
    }
}

static int
conn(vms_lease_conn_t *lc)
{
    struct timeval  tv = { 1, 0 };
    redisReply     *r;

    if (lc->c != NULL) {
        return 0;
    }
    lc->c = lc->unix_path ? redisConnectUnixWithTimeout(lc->unix_path, tv)
                          : redisConnectWithTimeout(lc->host, lc->port, tv);
    if (lc->c == NULL || lc->c->err) {
        drop(lc, lc->c ? lc->c->errstr : "out of memory");
        return -1;
    }
    redisSetTimeout(lc->c, tv);
    if (lc->password != NULL) {
        r = redisCommand(lc->c, "AUTH %s", lc->password);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            if (r != NULL) {
                freeReplyObject(r);
            }
            drop(lc, "AUTH refused");
            return -1;
        }
        freeReplyObject(r);
    }
    if (lc->warned) {
        vms_log_info(NULL, "cluster: redis: connected again");
    }
    lc->warned = 0;
    return 0;
}

/* One command; NULL when Redis did not answer (the connection is dropped). */
static redisReply *
cmd(vms_lease_conn_t *lc, int argc, const char **argv)
{
    redisReply *r;

    if (conn(lc) != 0) {
        return NULL;
    }
    r = redisCommandArgv(lc->c, argc, argv, NULL);
    if (r == NULL) {
        drop(lc, lc->c->errstr);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        vms_log_error(NULL, "cluster: redis %s refused: %s", argv[0], r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

static void
value_of(char *buf, size_t len, const char *node, uint64_t token)
{
    snprintf(buf, len, "%s %" PRIu64, node, token);
}

vms_lease_rc_e
vms_lease_take(vms_lease_conn_t *lc, const char *camera, const char *node,
    int64_t lease_ms, uint64_t *token)
{
    char         key[96], fkey[96], val[96], px[24];
    const char  *incr[2] = { "INCR", fkey };
    const char  *set[6] = { "SET", key, val, "NX", "PX", px };
    redisReply  *r;
    int          ok;

    snprintf(key, sizeof(key), "vms:lease:%s", camera);
    snprintf(fkey, sizeof(fkey), "vms:fence:%s", camera);
    snprintf(px, sizeof(px), "%lld", (long long) lease_ms);
    /* cheap look first: no token spent while another node holds it */
    {
        const char *get[3] = { "EXISTS", key };
        r = cmd(lc, 2, get);
        if (r == NULL) {
            return VMS_LEASE_ERROR;
        }
        ok = r->type == REDIS_REPLY_INTEGER && r->integer == 0;
        freeReplyObject(r);
        if (!ok) {
            return VMS_LEASE_HELD;
        }
    }
    r = cmd(lc, 2, incr);
    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
        if (r != NULL) {
            freeReplyObject(r);
        }
        return VMS_LEASE_ERROR;
    }
    *token = (uint64_t) r->integer;
    freeReplyObject(r);
    value_of(val, sizeof(val), node, *token);
    r = cmd(lc, 6, set);
    if (r == NULL) {
        return VMS_LEASE_ERROR;
    }
    ok = r->type == REDIS_REPLY_STATUS;      /* "OK"; nil: someone holds it */
    freeReplyObject(r);
    return ok ? VMS_LEASE_OK : VMS_LEASE_HELD;
}

vms_lease_rc_e
vms_lease_renew(vms_lease_conn_t *lc, const char *camera, const char *node,
    uint64_t token, int64_t lease_ms)
{
    char         key[96], fkey[96], val[96], px[24], tok[24];
    const char  *argv[8] = { "EVAL", renew_lua, "2", key, fkey, val, px, tok };
    redisReply  *r;
    int          ok;

    snprintf(key, sizeof(key), "vms:lease:%s", camera);
    snprintf(fkey, sizeof(fkey), "vms:fence:%s", camera);
    value_of(val, sizeof(val), node, token);
    snprintf(px, sizeof(px), "%lld", (long long) lease_ms);
    snprintf(tok, sizeof(tok), "%" PRIu64, token);
    r = cmd(lc, 8, argv);
    if (r == NULL) {
        return VMS_LEASE_ERROR;
    }
    ok = r->type == REDIS_REPLY_INTEGER && (r->integer == 1 || r->integer == 2);
    if (r->type == REDIS_REPLY_INTEGER && r->integer == 2) {
        vms_log_info(camera, "cluster: lease had expired unseen; taken back"
                     " with the same token %" PRIu64 " (nobody took it)", token);
    }
    freeReplyObject(r);
    return ok ? VMS_LEASE_OK : VMS_LEASE_HELD;
}

vms_lease_rc_e
vms_lease_release(vms_lease_conn_t *lc, const char *camera, const char *node,
    uint64_t token)
{
    char         key[96], val[96];
    const char  *argv[5] = { "EVAL", release_lua, "1", key, val };
    redisReply  *r;
    int          ok;

    snprintf(key, sizeof(key), "vms:lease:%s", camera);
    value_of(val, sizeof(val), node, token);
    r = cmd(lc, 5, argv);
    if (r == NULL) {
        return VMS_LEASE_ERROR;
    }
    ok = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    return ok ? VMS_LEASE_OK : VMS_LEASE_HELD;
}

vms_lease_rc_e
vms_lease_owner_set(vms_lease_conn_t *lc, const char *camera, const char *node,
    const char *state, int64_t since_ms, uint64_t token)
{
    char         key[96], since[24], tok[24];
    const char  *argv[10] = { "HSET", key, "node", node, "state", state,
                              "since", since, "token", tok };
    redisReply  *r;

    snprintf(key, sizeof(key), "vms:owner:%s", camera);
    snprintf(since, sizeof(since), "%lld", (long long) since_ms);
    snprintf(tok, sizeof(tok), "%" PRIu64, token);
    r = cmd(lc, 10, argv);
    if (r == NULL) {
        return VMS_LEASE_ERROR;
    }
    freeReplyObject(r);
    return VMS_LEASE_OK;
}

static void
copy_str(char *dst, size_t len, const redisReply *r)
{
    if (r != NULL && r->type == REDIS_REPLY_STRING) {
        snprintf(dst, len, "%.*s", (int) r->len, r->str);
    }
}

int
vms_lease_owners(vms_lease_conn_t *lc, const char *const *cameras, int n,
    vms_lease_owner_t *out)
{
    redisReply *r;
    int         i, failed = 0;

    memset(out, 0, sizeof(*out) * (size_t) n);
    if (n == 0) {
        return 0;
    }
    if (conn(lc) != 0) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        redisAppendCommand(lc->c, "HMGET vms:owner:%s node state since",
                           cameras[i]);
        redisAppendCommand(lc->c, "GET vms:camera:%s:status", cameras[i]);
    }
    for (i = 0; i < n; i++) {
        char since[24] = "";

        if (redisGetReply(lc->c, (void **) &r) != REDIS_OK || r == NULL) {
            failed = 1;
            break;
        }
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3) {
            copy_str(out[i].node, sizeof(out[i].node), r->element[0]);
            copy_str(out[i].state, sizeof(out[i].state), r->element[1]);
            copy_str(since, sizeof(since), r->element[2]);
            out[i].since_ms = strtoll(since, NULL, 10);
        }
        freeReplyObject(r);
        if (redisGetReply(lc->c, (void **) &r) != REDIS_OK || r == NULL) {
            failed = 1;
            break;
        }
        copy_str(out[i].status, sizeof(out[i].status), r);
        freeReplyObject(r);
    }
    if (failed) {
        drop(lc, lc->c->errstr[0] ? lc->c->errstr : "no answer");
        memset(out, 0, sizeof(*out) * (size_t) n);
        return -1;
    }
    return 0;
}

int
vms_lease_count(vms_lease_conn_t *lc, const char *const *cameras, int n)
{
    redisReply *r;
    int         i, held = 0;

    if (n == 0) {
        return 0;
    }
    if (conn(lc) != 0) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        redisAppendCommand(lc->c, "EXISTS vms:lease:%s", cameras[i]);
    }
    for (i = 0; i < n; i++) {
        if (redisGetReply(lc->c, (void **) &r) != REDIS_OK || r == NULL) {
            drop(lc, lc->c->errstr[0] ? lc->c->errstr : "no answer");
            return -1;
        }
        held += r->type == REDIS_REPLY_INTEGER && r->integer == 1;
        freeReplyObject(r);
    }
    return held;
}
