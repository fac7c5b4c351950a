/*
 * vms-review-api: review events from PostgreSQL over loopback HTTP, behind nginx's vms_auth
 * (docs/events.md, "Review API").
 *
 *   vms-review-api --listen 127.0.0.1:PORT|unix:/PATH [--listen-mode 0660]
 *                  (--dsn DSN | --dsn-file FILE | env VMS_PG_DSN)
 *                  [--snapshot-dir DIR] [--threads 4]
 *
 * nginx passes the token's cameras as X-VMS-Cameras ("*", "-" or "a,b"); nothing of a camera
 * outside them is answered.  One PostgreSQL connection per server thread, opened on first use
 * and again after it broke; every statement has a 5 s timeout; PostgreSQL unreachable is a 503
 * with Retry-After.  Parameterised statements only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <microhttpd.h>

#include "../consumer_common/dsn.h"
#include "../consumer_common/pgq.h"
#include "../consumer_common/svc.h"
#include "../consumer_common/httpd.h"
#include "query.h"

#define PAGE_DEFAULT    50
#define PAGE_MAX        200
#define ROLL_US         5000000LL          /* clips start 5 s before an event and end 5 s after */
#define EXPORT_MAX_US   3600000000LL
#define EXPORT_CAMERAS  16
#define SNAPSHOT_MAX    (8 << 20)

static char *dsn;
static char snapshot_dir[PATH_MAX];

typedef struct {
    unsigned  status;
    char     *body;           /* malloc'd */
    size_t    len;
    const char *type;
    int       retry_after;
} reply_t;

static void
reply_json(reply_t *r, unsigned status, json_t *doc)
{
    r->status = status;
    r->body = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(6));   /* scores are PostgreSQL reals */
    r->len = r->body ? strlen(r->body) : 0;
    r->type = "application/json";
    json_decref(doc);
}

static void
reply_error(reply_t *r, unsigned status, const char *code, const char *fmt, const char *arg)
{
    char msg[300];
    snprintf(msg, sizeof(msg), fmt, arg ? arg : "");
    reply_json(r, status, json_pack("{s:s,s:s,s:i}", "error", code, "message", msg, "status", (int) status));
}

/* ---- PostgreSQL ---- */

/* NULL and a 503 in r when PostgreSQL is unreachable or the statement failed */
static PGresult *
query(reply_t *r, const char *sql, int n, const char *const *params)
{
    PGresult *res = svc_pgq_exec(sql, n, params);

    if (res == NULL) {
        reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "service_unavailable", "database unavailable%s", "");
        r->retry_after = 5;
    }
    return res;
}

/* An event's columns, turned into JSON here (event_json): PostgreSQL's json_build_object and
 * to_char per row cost more than the query itself (bench/events_bench.py). */
#define EVENT_COLUMNS \
    "id, camera_id, (extract(epoch FROM start_ts) * 1000000)::bigint," \
    " (extract(epoch FROM end_ts) * 1000000)::bigint, array_to_json(labels)::text, max_score," \
    " detections, snapshot_detection, state, snapshot"
enum { C_ID, C_CAMERA, C_START, C_END, C_LABELS, C_SCORE, C_DETECTIONS, C_SNAPDET, C_STATE, C_SNAPSHOT };

static json_t *
event_json(const PGresult *res, int row)
{
    char s[40], e[40];
    rq_time_format(strtoll(PQgetvalue(res, row, C_START), NULL, 10), s, sizeof(s));
    rq_time_format(strtoll(PQgetvalue(res, row, C_END), NULL, 10), e, sizeof(e));
    json_t *labels = json_loads(PQgetvalue(res, row, C_LABELS), 0, NULL);
    return json_pack("{s:s,s:s,s:s,s:s,s:o,s:f,s:i,s:o,s:s}", "id", PQgetvalue(res, row, C_ID),
                     "camera_id", PQgetvalue(res, row, C_CAMERA), "start", s, "end", e,
                     "labels", labels ? labels : json_array(),
                     "max_score", strtod(PQgetvalue(res, row, C_SCORE), NULL),
                     "detections", atoi(PQgetvalue(res, row, C_DETECTIONS)),
                     "snapshot_detection", PQgetisnull(res, row, C_SNAPDET) ? json_null()
                                           : json_string(PQgetvalue(res, row, C_SNAPDET)),
                     "state", PQgetvalue(res, row, C_STATE));
}

/* The list's statement holds only the conditions asked for (each a parameter), so PostgreSQL plans
 * it on the indexes (camera_id, start_ts DESC, id DESC) and (start_ts DESC, id DESC): a generic
 * "$1 IS NULL OR …" form reads the whole table on every page. */
static const char *LIST_COLUMNS =
    "SELECT " EVENT_COLUMNS " FROM review_events WHERE true";

static const char *LIST_CONDS[] = {
    " AND camera_id = ANY($%d::text[])",
    " AND end_ts >= to_timestamp($%d::bigint / 1000000.0)",
    " AND start_ts <= to_timestamp($%d::bigint / 1000000.0)",
    " AND $%d::text = ANY(labels)",
    " AND max_score >= $%d::real",
    " AND (start_ts, id) < (to_timestamp($%d::bigint / 1000000.0), $%d::text)",
};

static const char *EVENT_SQL = "SELECT " EVENT_COLUMNS " FROM review_events WHERE id = $1";

static const char *DETECTIONS_SQL =
    "SELECT coalesce(json_agg(d ORDER BY d.ts), '[]')::text FROM (SELECT id,"
    " to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS ts, label, kind, confidence,"
    " CASE WHEN bbox_x IS NULL THEN NULL ELSE json_build_object('x', bbox_x, 'y', bbox_y, 'width', bbox_w,"
    " 'height', bbox_h) END AS bbox, snapshot, provider FROM detection_results"
    " WHERE camera_id = $1 AND ts >= to_timestamp($2::bigint / 1000000.0)"
    " AND ts <= to_timestamp($3::bigint / 1000000.0) ORDER BY ts LIMIT 200) d";

/* ---- clips ---- */

static json_t *
clip(const char *camera, int64_t start_us, int64_t end_us)
{
    char s[40], e[40], mp4[256], hls[256];
    rq_time_format(start_us, s, sizeof(s));
    rq_time_format(end_us, e, sizeof(e));
    snprintf(mp4, sizeof(mp4), "/api/playback/%s?start=%s&end=%s&format=mp4", camera, s, e);
    snprintf(hls, sizeof(hls), "/api/playback/%s?start=%s&end=%s", camera, s, e);
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "camera", camera, "start", s, "end", e, "mp4", mp4, "hls", hls);
}

/* ---- routes ---- */

typedef struct {
    struct MHD_Connection *c;
    const char *scope;
} req_t;

static const char *
arg(req_t *q, const char *name)
{
    const char *v = MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, name);
    return v && *v ? v : NULL;           /* an empty argument is the same as none */
}

/* 0, or -1 with a 400 in r */
static int
arg_time(req_t *q, reply_t *r, const char *name, int64_t *us, int *set)
{
    const char *v = arg(q, name);
    *set = 0;
    if (v == NULL) {
        return 0;
    }
    if (rq_time(v, us) != 0) {
        reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
                    "%s: not a time (RFC 3339 such as 2026-12-03T10:00:00Z, or unix seconds)", name);
        return -1;
    }
    *set = 1;
    return 0;
}

/* the cameras asked for, all in the token's scope; 0, or -1 with a 400/403 in r */
static int
arg_cameras(req_t *q, reply_t *r, const char *name, rq_cameras_t *cams)
{
    const char *v = arg(q, name);
    if (rq_cameras(v, cams) != 0) {
        reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request",
                    "%s: a comma-separated list of 1..64 camera ids", name);
        return -1;
    }
    for (size_t i = 0; i < cams->n; i++) {
        if (!rq_scope_allows(q->scope, cams->v[i])) {
            reply_error(r, MHD_HTTP_FORBIDDEN, "forbidden",
                        "the token does not grant every camera asked for%s", "");
            return -1;
        }
    }
    return 0;
}

/* {a,b} as a PostgreSQL text[] literal (ids are [A-Za-z0-9_-]: nothing to quote) */
static void
pg_array(const rq_cameras_t *cams, char *out, size_t len)
{
    size_t o = 0;
    out[o++] = '{';
    for (size_t i = 0; i < cams->n && o + VMS_CAMERA_ID_MAX + 3 < len; i++) {
        o += (size_t) snprintf(out + o, len - o, "%s%s", i ? "," : "", cams->v[i]);
    }
    out[o++] = '}';
    out[o] = '\0';
}

static void
list_events(req_t *q, reply_t *r)
{
    rq_cameras_t cams;
    int64_t start = 0, end = 0, cur_start = 0;
    int has_start, has_end, has_cams = arg(q, "camera") != NULL;
    char cur_id[RQ_ID_MAX + 1] = "", cams_lit[RQ_CAMERAS_MAX * (VMS_CAMERA_ID_MAX + 1) + 8];
    char s_start[24], s_end[24], s_cur[24], s_limit[8];
    long limit = PAGE_DEFAULT;

    if ((has_cams && arg_cameras(q, r, "camera", &cams) != 0)
        || arg_time(q, r, "start", &start, &has_start) != 0 || arg_time(q, r, "end", &end, &has_end) != 0) {
        return;
    }
    if (has_start && has_end && end < start) {
        reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", "end: before start%s", "");
        return;
    }
    const char *label = arg(q, "label");
    if (label && (strlen(label) > 64 || strpbrk(label, "\"\\{},") != NULL)) {
        reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", "label: at most 64 characters%s", "");
        return;
    }
    const char *min_score = arg(q, "min_score");
    if (min_score) {
        char *endp;
        double v = strtod(min_score, &endp);
        if (*endp || !(v >= 0 && v <= 1)) {
            reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", "min_score: a number 0..1%s", "");
            return;
        }
    }
    const char *lim = arg(q, "limit");
    if (lim) {
        char *endp;
        limit = strtol(lim, &endp, 10);
        if (*endp || limit < 1 || limit > PAGE_MAX) {
            reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", "limit: an integer 1..200%s", "");
            return;
        }
    }
    const char *cursor = arg(q, "cursor");
    if (cursor && rq_cursor_decode(cursor, &cur_start, cur_id, sizeof(cur_id)) != 0) {
        reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", "cursor: not a cursor this API gave%s", "");
        return;
    }
    if (!has_cams && (q->scope == NULL || strcmp(q->scope, "*") != 0)) {
        /* no camera= : every camera of the token's scope ("-" or no header: none) */
        if (q->scope == NULL || strcmp(q->scope, "-") == 0 || rq_cameras(q->scope, &cams) != 0) {
            reply_json(r, MHD_HTTP_OK, json_pack("{s:[],s:n}", "events", "next_cursor"));
            return;
        }
        has_cams = 1;
    }
    if (has_cams) {
        pg_array(&cams, cams_lit, sizeof(cams_lit));
    }
    snprintf(s_start, sizeof(s_start), "%lld", (long long) start);
    snprintf(s_end, sizeof(s_end), "%lld", (long long) end);
    snprintf(s_cur, sizeof(s_cur), "%lld", (long long) cur_start);
    snprintf(s_limit, sizeof(s_limit), "%ld", limit + 1);
    const char *given[6] = { has_cams ? cams_lit : NULL, has_start ? s_start : NULL, has_end ? s_end : NULL,
                             label, min_score, cursor ? s_cur : NULL };
    const char *p[8];
    char sql[2048];
    int np = 0;
    size_t len = (size_t) snprintf(sql, sizeof(sql), "%s", LIST_COLUMNS);
    for (int i = 0; i < 6; i++) {
        if (given[i] == NULL) {
            continue;
        }
        p[np++] = given[i];
        if (i == 5) {
            p[np++] = cur_id;
        }
        len += (size_t) snprintf(sql + len, sizeof(sql) - len, LIST_CONDS[i], i == 5 ? np - 1 : np, np);
    }
    p[np++] = s_limit;
    snprintf(sql + len, sizeof(sql) - len, " ORDER BY start_ts DESC, id DESC LIMIT $%d::int", np);
    PGresult *res = query(r, sql, np, p);
    if (res == NULL) {
        return;
    }
    json_t *events = json_array();
    int rows = PQntuples(res);
    for (int i = 0; i < rows && i < limit; i++) {
        json_array_append_new(events, event_json(res, i));
    }
    json_t *next = json_null();
    if (rows > limit) {
        char c[256];
        rq_cursor_encode(strtoll(PQgetvalue(res, (int) limit - 1, C_START), NULL, 10),
                         PQgetvalue(res, (int) limit - 1, C_ID), c, sizeof(c));
        next = json_string(c);
    }
    PQclear(res);
    reply_json(r, MHD_HTTP_OK, json_pack("{s:o,s:o}", "events", events, "next_cursor", next));
}

/* the event's row, or NULL with a 404/503 in r */
static PGresult *
find_event(req_t *q, reply_t *r, const char *id)
{
    const char *p[1] = { id };
    PGresult *res = query(r, EVENT_SQL, 1, p);
    if (res == NULL) {
        return NULL;
    }
    if (PQntuples(res) != 1 || !rq_scope_allows(q->scope, PQgetvalue(res, 0, C_CAMERA))) {
        PQclear(res);      /* another camera's event is as absent as a missing one */
        reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no event %s", id);
        return NULL;
    }
    return res;
}

static void
get_event(req_t *q, reply_t *r, const char *id)
{
    PGresult *res = find_event(q, r, id);
    if (res == NULL) {
        return;
    }
    json_t *ev = event_json(res, 0);
    const char *camera = PQgetvalue(res, 0, C_CAMERA);
    int64_t s = strtoll(PQgetvalue(res, 0, C_START), NULL, 10), e = strtoll(PQgetvalue(res, 0, C_END), NULL, 10);
    int has_snapshot = !PQgetisnull(res, 0, C_SNAPSHOT);
    const char *p[3];
    char ss[24], se[24], url[300];
    snprintf(ss, sizeof(ss), "%lld", (long long) s);
    snprintf(se, sizeof(se), "%lld", (long long) e);
    p[0] = camera;
    p[1] = ss;
    p[2] = se;
    PGresult *dres = query(r, DETECTIONS_SQL, 3, p);
    if (dres == NULL) {
        json_decref(ev);
        PQclear(res);
        return;
    }
    json_object_set_new(ev, "detections_list", json_loads(PQgetvalue(dres, 0, 0), 0, NULL));
    PQclear(dres);
    snprintf(url, sizeof(url), "/api/events/%s/snapshot.jpg", id);
    json_object_set_new(ev, "snapshot_url", has_snapshot ? json_string(url) : json_null());
    json_object_set_new(ev, "clip", clip(camera, s - ROLL_US, e + ROLL_US));
    PQclear(res);
    reply_json(r, MHD_HTTP_OK, ev);
}

static void
get_snapshot(req_t *q, reply_t *r, const char *id)
{
    PGresult *res = find_event(q, r, id);
    if (res == NULL) {
        return;
    }
    const char *snap = PQgetisnull(res, 0, C_SNAPSHOT) ? NULL : PQgetvalue(res, 0, C_SNAPSHOT);
    char real[PATH_MAX];
    int fd = -1;
    struct stat st;
    /* only file:// snapshots inside --snapshot-dir: realpath() settles .. and symlinks */
    if (snap && snapshot_dir[0] && strncmp(snap, "file://", 7) == 0 && realpath(snap + 7, real) != NULL
        && strncmp(real, snapshot_dir, strlen(snapshot_dir)) == 0 && real[strlen(snapshot_dir)] == '/') {
        fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    PQclear(res);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > SNAPSHOT_MAX) {
        if (fd >= 0) {
            close(fd);
        }
        reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no snapshot for event %s", id);
        return;
    }
    r->body = malloc((size_t) st.st_size + 1);
    ssize_t got = r->body ? read(fd, r->body, (size_t) st.st_size) : -1;
    close(fd);
    if (got != st.st_size) {
        free(r->body);
        r->body = NULL;
        reply_error(r, MHD_HTTP_NOT_FOUND, "not_found", "no snapshot for event %s", id);
        return;
    }
    r->status = MHD_HTTP_OK;
    r->len = (size_t) got;
    r->type = "image/jpeg";
}

static void
export_clips(req_t *q, reply_t *r)
{
    rq_cameras_t cams;
    int64_t start, end;
    int has_start, has_end;
    if (arg_cameras(q, r, "cameras", &cams) != 0 || arg_time(q, r, "start", &start, &has_start) != 0
        || arg_time(q, r, "end", &end, &has_end) != 0) {
        return;
    }
    if (!has_start || !has_end) {
        reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", "%s: required", has_start ? "end" : "start");
        return;
    }
    if (end <= start || end - start > EXPORT_MAX_US) {
        reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", "end: after start, at most 1 h later%s", "");
        return;
    }
    if (cams.n > EXPORT_CAMERAS) {
        reply_error(r, MHD_HTTP_BAD_REQUEST, "bad_request", "cameras: at most 16%s", "");
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < cams.n; i++) {
        json_array_append_new(list, clip(cams.v[i], start, end));
    }
    char s[40], e[40];
    rq_time_format(start, s, sizeof(s));
    rq_time_format(end, e, sizeof(e));
    reply_json(r, MHD_HTTP_OK, json_pack("{s:s,s:s,s:o}", "start", s, "end", e, "cameras", list));
}

static enum MHD_Result
on_request(struct MHD_Connection *c, const char *url, const char *method)
{
    reply_t r = { 0 };
    req_t q = { c, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-VMS-Cameras") };
    const char *p = url;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        reply_error(&r, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "GET only%s", "");
    } else if (strcmp(p, "/api/events") == 0) {
        list_events(&q, &r);
    } else if (strcmp(p, "/api/export") == 0) {
        export_clips(&q, &r);
    } else if (strncmp(p, "/api/events/", 12) == 0) {
        char id[RQ_ID_MAX + 2];
        const char *rest = p + 12, *slash = strchr(rest, '/');
        size_t len = slash ? (size_t) (slash - rest) : strlen(rest);
        if (len > RQ_ID_MAX) {
            len = RQ_ID_MAX + 1;
        }
        memcpy(id, rest, len);
        id[len] = '\0';
        if (!rq_id_ok(id)) {
            reply_error(&r, MHD_HTTP_BAD_REQUEST, "bad_request", "event id: 1..128 of A-Z a-z 0-9 . _ : -%s", "");
        } else if (slash == NULL) {
            get_event(&q, &r, id);
        } else if (strcmp(slash, "/snapshot.jpg") == 0) {
            get_snapshot(&q, &r, id);
        } else {
            reply_error(&r, MHD_HTTP_NOT_FOUND, "not_found", "no such resource%s", "");
        }
    } else {
        reply_error(&r, MHD_HTTP_NOT_FOUND, "not_found", "no such resource%s", "");
    }
    const char *headers[] = { "Content-Type", r.type ? r.type : "application/json",
                              "Cache-Control", "no-store",
                              "Retry-After", r.retry_after ? "5" : NULL, NULL };
    return svc_httpd_send(c, r.status ? r.status : 500, r.body, r.len, headers);
}

static void
usage(void)
{
    fprintf(stderr, "usage: vms-review-api --listen 127.0.0.1:PORT|unix:/PATH [--listen-mode 0660]\n"
                    "                      (--dsn-file REF | env VMS_PG_DSN[_FILE] | --dsn DSN-WITHOUT-PASSWORD)\n"
                    "                      [--snapshot-dir DIR] [--threads 4]\n");
}

int
main(int argc, char **argv)
{
    const char *listen_at = NULL, *dsn_arg = NULL, *dsn_file = NULL, *snaps = NULL, *threads = "4";
    const char *listen_mode = "0660";

    svc_init("review-api");
    const svc_opt_t opts[] = { { "--listen", &listen_at }, { "--dsn", &dsn_arg }, { "--dsn-file", &dsn_file },
                               { "--snapshot-dir", &snaps }, { "--threads", &threads },
                               { "--listen-mode", &listen_mode }, { NULL, NULL } };
    if (svc_options(argc, argv, opts) != 0) {
        usage();
        return 2;
    }
    char why[512];
    dsn = svc_dsn(dsn_arg, dsn_file, why, sizeof(why));
    if (dsn == NULL) {
        svc_say("%s", why);
        return 2;
    }
    svc_pgq_init(dsn, "vms-review-api");
    long nthreads = strtol(threads, NULL, 10);
    if (dsn == NULL || listen_at == NULL || nthreads < 1 || nthreads > 64) {
        usage();
        return 2;
    }
    if (snaps && realpath(snaps, snapshot_dir) == NULL) {
        fprintf(stderr, "--snapshot-dir %s: %s\n", snaps, strerror(errno));
        return 2;
    }
    int rc;
    struct MHD_Daemon *d = svc_httpd_start_get(listen_at, listen_mode, (unsigned) nthreads, on_request, &rc);
    if (d == NULL) {
        return rc;
    }
    svc_say("ready on %s (%ld threads%s%s)", listen_at, nthreads, snapshot_dir[0] ? ", snapshots in " : "",
            snapshot_dir);
    while (!svc_stop) {
        svc_sleep_ms(500);
    }
    svc_httpd_stop(d, listen_at);
    svc_say("stopping");
    return 0;
}
