/*
 * vms-playback-router: playback when each vmsd node keeps its own recordings
 * (cluster_storage = local; docs/scale-out.md, "Per-node storage").
 *
 *   vms-playback-router --listen 127.0.0.1:PORT|unix:/PATH [--listen-mode 0660]
 *                       (--nodes NAME=URL,... | env VMS_PLAYBACK_NODES)
 *                       [--timeout 10s] [--gap 500ms] [--threads 4]
 *
 * The front nginx checks the request (vms_playback's parse, vms_auth,
 * vms_limit) and proxies playlists, timelines, /list and clips here with the
 * raw query as X-VMS-Args, its player session as X-VMS-Session and its own
 * scheme://host as X-VMS-Base-URL.  Each node answers from its own index
 * through its nginx (vms_playback on the node's recordings, no auth: a
 * private network).  This asks every node at once and:
 *   - playlist, timeline, /list: merges what the nodes hold (merge.h); the
 *     media URIs of a playlist name their node (node=), and nginx proxies a
 *     media request straight to that node;
 *   - a clip (format=mp4|fmp4) and /get: a clip stops at the first gap and a
 *     handover is one, so it comes from one node: the one holding the
 *     earliest recording in the range.  Answered with X-Accel-Redirect to
 *     /_vms_pb_node/NODE/..., which nginx proxies to that node: the clip's
 *     bytes never pass through here.
 * When no node holds anything, the first node's own answer is relayed (the
 * module's exact 400/404).  A node that does not answer (connection, timeout,
 * 5xx) is left out and named in X-VMS-Playback-Missing; if none answers: 503.
 * The caller's jwt/token never goes to a node: it is taken out of the query
 * and put back on the media URIs only.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "../consumer_common/httpd.h"
#include "../consumer_common/svc.h"
#include "merge.h"
#include "vms_camera_id.h"
#include "vms_session.h"
#include "pb_time.h"

#define NODES_MAX    64
#define NAME_MAX_LEN VMS_CAMERA_ID_MAX   /* node names and camera ids: vms_camera_id.h */
#define BODY_MAX     (64u << 20)     /* a 32-day playlist is ~12 MB */

typedef struct {
    char           name[NAME_MAX_LEN + 1];
    char          *url;              /* http://host:port, no trailing / */
    time_t         said_at;          /* its last "not answering" log line */
    unsigned long  unsaid;           /* failures since, not logged */
} node_t;

static node_t  nodes[NODES_MAX];
static size_t  nnodes;
static long    timeout_ms = 10000;
static int64_t gap_us = 500000;

typedef struct {
    const node_t *node;
    long          status;            /* 0: no HTTP answer */
    char         *body;
    size_t        len;
    char          type[96];
    char          err[CURL_ERROR_SIZE];
} answer_t;

typedef struct {
    unsigned     status;
    char        *body;               /* malloc'd */
    size_t       len;
    char         type[96];
    char         accel[1024];        /* X-Accel-Redirect */
    char         missing[1024];      /* X-VMS-Playback-Missing */
} reply_t;

enum { R_PLAYLIST, R_TIMELINE, R_LIST, R_CLIP, R_GET };

static void
reply_error(reply_t *r, unsigned status, const char *msg)
{
    r->status = status;
    snprintf(r->type, sizeof(r->type), "application/json");
    /* msg names nodes and resources only: no quote or backslash */
    if (asprintf(&r->body, "{\"status\":\"error\",\"error\":\"%s\"}\n", msg) < 0) {
        r->body = NULL;
    }
    r->len = r->body ? strlen(r->body) : 0;
}

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
    answer_t *a = ud;
    size_t len = size * n;
    if (a->len + len > BODY_MAX) {
        snprintf(a->err, sizeof(a->err), "answer larger than %u bytes", BODY_MAX);
        return 0;
    }
    char *b = realloc(a->body, a->len + len + 1);
    if (b == NULL) {
        return 0;
    }
    memcpy(b + a->len, p, len);
    a->body = b;
    a->len += len;
    b[a->len] = '\0';
    return len;
}

static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
    answer_t *a = ud;
    size_t len = size * n;
    if (len > 13 && strncasecmp(p, "Content-Type:", 13) == 0) {
        const char *v = p + 13;
        size_t vl = len - 13;
        while (vl && (*v == ' ' || *v == '\t')) {
            v++, vl--;
        }
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ')) {
            vl--;
        }
        snprintf(a->type, sizeof(a->type), "%.*s", (int) vl, v);
    }
    return len;
}

/* Connections to the nodes are kept and reused by every request's transfers
 * (one pool for the server's threads): a merged answer costs no TCP
 * handshake per node.  libcurl asks for a lock per kind of shared data. */
static CURLSH          *share;
static pthread_mutex_t  share_lock[CURL_LOCK_DATA_LAST];

static void
share_lock_cb(CURL *e, curl_lock_data data, curl_lock_access access, void *u)
{
    pthread_mutex_lock(&share_lock[data]);
}

static void
share_unlock_cb(CURL *e, curl_lock_data data, void *u)
{
    pthread_mutex_unlock(&share_lock[data]);
}

static int
share_init(void)
{
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) {
        pthread_mutex_init(&share_lock[i], NULL);
    }
    share = curl_share_init();
    return share == NULL
           || curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock_cb) != CURLSHE_OK
           || curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock_cb) != CURLSHE_OK
           || curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK
           || curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK
           ? -1 : 0;
}

/* GET node URL + path_query from every node at once; a[i] for nodes[i]. */
static void
ask_all(const char *path_query, answer_t *a)
{
    CURLM *m = curl_multi_init();
    CURL *e[NODES_MAX] = { 0 };
    int running = 0;

    for (size_t i = 0; i < nnodes; i++) {
        char *url = NULL;
        a[i] = (answer_t) { .node = &nodes[i] };
        if (m == NULL || asprintf(&url, "%s%s", nodes[i].url, path_query) < 0
            || (e[i] = curl_easy_init()) == NULL) {
            snprintf(a[i].err, sizeof(a[i].err), "out of memory");
            free(url);
            continue;
        }
        curl_easy_setopt(e[i], CURLOPT_URL, url);
        curl_easy_setopt(e[i], CURLOPT_SHARE, share);
        curl_easy_setopt(e[i], CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e[i], CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(e[i], CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 3000 ? timeout_ms : 3000L);
        curl_easy_setopt(e[i], CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e[i], CURLOPT_WRITEDATA, &a[i]);
        curl_easy_setopt(e[i], CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(e[i], CURLOPT_HEADERDATA, &a[i]);
        curl_easy_setopt(e[i], CURLOPT_ERRORBUFFER, a[i].err);
        curl_easy_setopt(e[i], CURLOPT_PRIVATE, &a[i]);
        curl_multi_add_handle(m, e[i]);
        free(url);                    /* libcurl copied it */
    }
    do {
        if (curl_multi_perform(m, &running) != CURLM_OK) {
            break;
        }
        if (running) {
            curl_multi_poll(m, NULL, 0, 1000, NULL);
        }
    } while (running);
    CURLMsg *msg;
    int left;
    while (m != NULL && (msg = curl_multi_info_read(m, &left)) != NULL) {
        answer_t *x;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &x);
        if (msg->msg == CURLMSG_DONE && msg->data.result == CURLE_OK) {
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &x->status);
        } else if (x->err[0] == '\0') {
            snprintf(x->err, sizeof(x->err), "%s", curl_easy_strerror(msg->data.result));
        }
    }
    for (size_t i = 0; i < nnodes; i++) {
        if (e[i] != NULL) {
            curl_multi_remove_handle(m, e[i]);
            curl_easy_cleanup(e[i]);
        }
    }
    curl_multi_cleanup(m);
}

/* An answer that counts: HTTP below 500.  Others are logged and named in *missing. */
static int
answered(answer_t *a, const char *path, char *missing, size_t mlen)
{
    if (a->status > 0 && a->status < 500) {
        return 1;
    }
    if (a->status >= 500) {
        snprintf(a->err, sizeof(a->err), "HTTP %ld", a->status);
    }
    /* a node down meets every request: one line per node per 10 s, with what was not said */
    node_t *n = (node_t *) a->node;
    time_t now = time(NULL), last = __atomic_load_n(&n->said_at, __ATOMIC_RELAXED);
    if (now - last >= 10 && __atomic_compare_exchange_n(&n->said_at, &last, now, 0, __ATOMIC_RELAXED,
                                                        __ATOMIC_RELAXED)) {
        unsigned long quiet = __atomic_exchange_n(&n->unsaid, 0, __ATOMIC_RELAXED);
        svc_say("node %s: %s: %s (%lu more failures since the last such line)", a->node->name, path,
                a->err[0] ? a->err : "no answer", quiet);
    } else {
        __atomic_add_fetch(&n->unsaid, 1, __ATOMIC_RELAXED);
    }
    size_t used = strlen(missing);
    snprintf(missing + used, mlen - used, "%s%s", used ? "," : "", a->node->name);
    return 0;
}

/* The first answering node's own answer (its 400/404), or 503 when none answered. */
static void
relay_first(reply_t *r, answer_t *a, const char *missing)
{
    for (size_t i = 0; i < nnodes; i++) {
        if (a[i].status > 0 && a[i].status < 500) {
            r->status = (unsigned) a[i].status;
            r->body = a[i].body;
            r->len = a[i].len;
            a[i].body = NULL;
            snprintf(r->type, sizeof(r->type), "%s", a[i].type[0] ? a[i].type : "application/json");
            return;
        }
    }
    char msg[1200];
    snprintf(msg, sizeof(msg), "playback nodes unavailable: %s", missing);
    reply_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
}

/*
 * The query without jwt= and token= (the front refused repeated, encoded or case-variant names);
 * *cred is the first of those, as received ("jwt=..."), or NULL.
 */
static char *
strip_credentials(const char *args, const char **cred, size_t *credlen)
{
    size_t len = strlen(args), o = 0;
    char *out = malloc(len + 1);
    *cred = NULL;
    *credlen = 0;
    if (out == NULL) {
        return NULL;
    }
    for (const char *p = args; *p != '\0';) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t) (amp - p) : strlen(p);
        if ((n >= 4 && memcmp(p, "jwt=", 4) == 0) || (n >= 6 && memcmp(p, "token=", 6) == 0)) {
            if (*cred == NULL) {
                *cred = p;
                *credlen = n;
            }
        } else if (n > 0) {
            if (o) {
                out[o++] = '&';
            }
            memcpy(out + o, p, n);
            o += n;
        }
        p += n + (amp != NULL);
    }
    out[o] = '\0';
    return out;
}

static int
session_ok(const char *s)
{
    size_t n = strlen(s);

    if (n > VMS_SESSION_PARAM_MAX) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!vms_session_param_char((unsigned char) s[i])) {
            return 0;
        }
    }
    return 1;
}

static void
take(reply_t *r, pb_buf_t *b, const char *type)
{
    if (b->oom) {
        pb_buf_free(b);
        reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    r->status = MHD_HTTP_OK;
    r->body = b->p;
    r->len = b->len;
    snprintf(r->type, sizeof(r->type), "%s", type);
}

static void
merge_playlists(struct MHD_Connection *c, reply_t *r, answer_t *a, const char *cred, size_t credlen)
{
    pbr_part_t parts[NODES_MAX];
    size_t n = 0;
    for (size_t i = 0; i < nnodes; i++) {
        if (a[i].status == MHD_HTTP_OK) {
            parts[n++] = (pbr_part_t) { a[i].node->name, a[i].body, a[i].len };
        }
    }
    const char *sess = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-VMS-Session");
    if (sess != NULL && !session_ok(sess)) {
        reply_error(r, MHD_HTTP_BAD_REQUEST, "X-VMS-Session: not a player session");
        return;
    }
    char *extra = NULL;
    if (asprintf(&extra, "%s%.*s%s%s", cred ? "&" : "", (int) credlen, cred ? cred : "",
                 sess && sess[0] ? "&vms_session=" : "", sess && sess[0] ? sess : "") < 0) {
        reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    pb_buf_t b = { 0 };
    char why[256];
    if (pbr_merge_playlists(&b, parts, n, extra, why, sizeof(why)) != 0) {
        svc_say("%s", why);
        pb_buf_free(&b);
        reply_error(r, MHD_HTTP_BAD_GATEWAY, "a playback node's playlist could not be read");
    } else {
        take(r, &b, "application/vnd.apple.mpegurl");
    }
    free(extra);
}

static void
merge_spans(struct MHD_Connection *c, reply_t *r, answer_t *a, int kind, const char *camera)
{
    pb_span_t *v = NULL;
    size_t n = 0;
    int64_t from = 0, to = 0;
    int have = 0;
    for (size_t i = 0; i < nnodes; i++) {
        if (a[i].status != MHD_HTTP_OK) {
            continue;
        }
        int64_t f, t;
        int rc = kind == R_TIMELINE ? pbr_timeline_spans(a[i].body, a[i].len, &v, &n, &f, &t)
                                    : pbr_list_spans(a[i].body, a[i].len, &v, &n);
        if (rc != 0) {
            svc_say("node %s: not a %s answer", a[i].node->name, kind == R_TIMELINE ? "timeline" : "/list");
            free(v);
            reply_error(r, MHD_HTTP_BAD_GATEWAY, "a playback node's answer could not be read");
            return;
        }
        if (kind == R_TIMELINE && !have) {
            from = f, to = t, have = 1;
        }
    }
    n = pbr_spans_union(v, n, gap_us);
    pb_buf_t b = { 0 };
    if (kind == R_TIMELINE) {
        pb_render_timeline(&b, camera, from, to, v, n);
    } else {
        const char *base = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-VMS-Base-URL");
        const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
        const char *path = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "path");
        char get_url[600];
        if (base != NULL && base[0] != '\0') {
            snprintf(get_url, sizeof(get_url), "%.*s/get", (int) strcspn(base, "\r\n"), base);
        } else {
            snprintf(get_url, sizeof(get_url), "http://%.256s/get", host ? host : "localhost");
        }
        pb_render_list(&b, v, n, get_url, path ? path : "");
    }
    free(v);
    take(r, &b, "application/json");
}

/* The node holding the earliest recording in the range: spans from its timeline or /list. */
static void
route_clip(reply_t *r, answer_t *a, int kind, const char *url, const char *args, const char *missing)
{
    const node_t *best = NULL;
    int64_t best_us = INT64_MAX;
    for (size_t i = 0; i < nnodes; i++) {
        pb_span_t *v = NULL;
        size_t n = 0;
        int64_t f, t;
        if (a[i].status == MHD_HTTP_OK
            && (kind == R_CLIP ? pbr_timeline_spans(a[i].body, a[i].len, &v, &n, &f, &t)
                               : pbr_list_spans(a[i].body, a[i].len, &v, &n)) == 0) {
            for (size_t k = 0; k < n; k++) {
                if (v[k].start_us < best_us) {
                    best_us = v[k].start_us;
                    best = a[i].node;
                }
            }
        }
        free(v);
    }
    /* nothing recorded anywhere: the first answering node says so in the module's words */
    for (size_t i = 0; best == NULL && i < nnodes; i++) {
        if (a[i].status > 0 && a[i].status < 500) {
            best = a[i].node;
        }
    }
    if (best == NULL) {
        relay_first(r, a, missing);
        return;
    }
    r->status = MHD_HTTP_OK;
    snprintf(r->accel, sizeof(r->accel), "/_vms_pb_node/%s%s%s%s", best->name, url, args[0] ? "?" : "",
             args);
}

static void
serve(struct MHD_Connection *c, const char *url, reply_t *r)
{
    const char *raw = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-VMS-Args");
    const char *fmt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
    char camera[NAME_MAX_LEN + 1] = "";
    int kind;

    if (strcmp(url, "/list") == 0) {
        kind = R_LIST;
    } else if (strcmp(url, "/get") == 0) {
        kind = R_GET;
    } else if (strncmp(url, "/api/playback/", 14) == 0) {
        const char *id = url + 14, *slash = strchr(id, '/');
        size_t len = slash ? (size_t) (slash - id) : strlen(id);
        if (!vms_camera_id_valid(id, len) || (slash != NULL && strcmp(slash, "/timeline") != 0)) {
            reply_error(r, MHD_HTTP_NOT_FOUND, "no such playback resource");
            return;
        }
        memcpy(camera, id, len);
        camera[len] = '\0';
        kind = slash ? R_TIMELINE : (fmt == NULL || fmt[0] == '\0' || strcmp(fmt, "hls") == 0)
                                    ? R_PLAYLIST : R_CLIP;
    } else {
        reply_error(r, MHD_HTTP_NOT_FOUND, "no such playback resource");
        return;
    }
    if (raw == NULL || strpbrk(raw, " \r\n#") != NULL) {
        reply_error(r, MHD_HTTP_BAD_REQUEST, "X-VMS-Args: the raw query is needed (run behind nginx)");
        return;
    }
    const char *cred;
    size_t credlen;
    char *args = strip_credentials(raw, &cred, &credlen), *pq = NULL;
    const char *ask = kind == R_CLIP ? "/api/playback/%s/timeline%s%s"
                      : kind == R_GET ? "/list%.0s%s%s" : "%s%s%s";
    if (args == NULL || asprintf(&pq, ask, kind == R_CLIP ? camera : url, args[0] ? "?" : "", args) < 0) {
        free(args);
        reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return;
    }
    answer_t a[NODES_MAX];
    ask_all(pq, a);
    size_t content = 0;
    for (size_t i = 0; i < nnodes; i++) {
        if (answered(&a[i], kind == R_CLIP || kind == R_GET ? pq : url, r->missing, sizeof(r->missing))
            && a[i].status == MHD_HTTP_OK) {
            content++;
        }
    }
    if (kind == R_CLIP || kind == R_GET) {
        route_clip(r, a, kind, url, args, r->missing);
    } else if (content == 0) {
        relay_first(r, a, r->missing);
    } else if (kind == R_PLAYLIST) {
        merge_playlists(c, r, a, cred, credlen);
    } else {
        merge_spans(c, r, a, kind, camera);
    }
    for (size_t i = 0; i < nnodes; i++) {
        free(a[i].body);
    }
    free(pq);
    free(args);
}

static enum MHD_Result
on_request(struct MHD_Connection *c, const char *url, const char *method)
{
    reply_t r = { 0 };
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        reply_error(&r, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
    } else {
        serve(c, url, &r);
    }
    /* an X-Accel-Redirect answer is nginx's to follow: no type of its own */
    const char *headers[] = { "X-Accel-Redirect", r.accel[0] ? r.accel : NULL,
                              "Content-Type", r.accel[0] ? NULL : r.type[0] ? r.type : "application/json",
                              "Cache-Control", r.accel[0] ? NULL : "no-cache",
                              "X-VMS-Playback-Missing", r.missing[0] ? r.missing : NULL,
                              "Allow", r.status == MHD_HTTP_METHOD_NOT_ALLOWED ? "GET, HEAD" : NULL, NULL };
    return svc_httpd_send(c, r.status ? r.status : 500, r.body, r.len, headers);
}

/* "node-a=http://10.0.0.1:8086,node-b=http://10.0.0.2:8086"; 0 or -1 after saying why */
static int
parse_nodes(const char *spec)
{
    char *copy = strdup(spec), *save = NULL;
    for (char *it = strtok_r(copy, ", ", &save); it != NULL; it = strtok_r(NULL, ", ", &save)) {
        char *eq = strchr(it, '=');
        if (eq == NULL || !vms_camera_id_valid(it, (size_t) (eq - it))
            || (strncmp(eq + 1, "http://", 7) != 0 && strncmp(eq + 1, "https://", 8) != 0)
            || strpbrk(eq + 1, "?#") != NULL) {
            svc_say("--nodes: %s: expected NAME=http://HOST:PORT (NAME: A-Z a-z 0-9 _ -)", it);
            free(copy);
            return -1;
        }
        if (nnodes == NODES_MAX) {
            svc_say("--nodes: more than %d nodes", NODES_MAX);
            free(copy);
            return -1;
        }
        for (size_t i = 0; i < nnodes; i++) {
            if (strncmp(nodes[i].name, it, (size_t) (eq - it)) == 0 && nodes[i].name[eq - it] == '\0') {
                svc_say("--nodes: %.*s twice", (int) (eq - it), it);
                free(copy);
                return -1;
            }
        }
        snprintf(nodes[nnodes].name, sizeof(nodes[nnodes].name), "%.*s", (int) (eq - it), it);
        size_t ul = strlen(eq + 1);
        while (ul && eq[ul] == '/') {          /* eq[ul] is the URL's last character */
            ul--;
        }
        nodes[nnodes].url = strndup(eq + 1, ul);
        nnodes++;
    }
    free(copy);
    if (nnodes == 0) {
        svc_say("--nodes: no node");
        return -1;
    }
    return 0;
}

static void
usage(void)
{
    fprintf(stderr, "usage: vms-playback-router --listen 127.0.0.1:PORT|unix:/PATH [--listen-mode 0660]\n"
                    "                           (--nodes NAME=URL,... | env VMS_PLAYBACK_NODES)\n"
                    "                           [--timeout 10s] [--gap 500ms] [--threads 4]\n");
}

int
main(int argc, char **argv)
{
    const char *listen_at = NULL, *listen_mode = "0660", *spec = getenv("VMS_PLAYBACK_NODES");
    const char *timeout = "10s", *gap = "500ms", *threads = "4";

    svc_init("playback-router");
    const svc_opt_t opts[] = { { "--listen", &listen_at }, { "--listen-mode", &listen_mode },
                               { "--nodes", &spec }, { "--timeout", &timeout }, { "--gap", &gap },
                               { "--threads", &threads }, { NULL, NULL } };
    if (svc_options(argc, argv, opts) != 0) {
        usage();
        return 2;
    }
    long nthreads = strtol(threads, NULL, 10), gap_ms = svc_duration_ms(gap);
    timeout_ms = svc_duration_ms(timeout);
    if (listen_at == NULL || spec == NULL || nthreads < 1 || nthreads > 64 || timeout_ms < 100
        || gap_ms < 0) {
        usage();
        return 2;
    }
    gap_us = gap_ms * 1000;
    if (parse_nodes(spec) != 0) {
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (share_init() != 0) {
        svc_say("libcurl: no shared connection pool");
        return 1;
    }
    int rc;
    struct MHD_Daemon *d = svc_httpd_start_get(listen_at, listen_mode, (unsigned) nthreads, on_request, &rc);
    if (d == NULL) {
        return rc;
    }
    svc_say("ready on %s (%zu nodes, %ld threads)", listen_at, nnodes, nthreads);
    while (!svc_stop) {
        svc_sleep_ms(500);
    }
    svc_httpd_stop(d, listen_at);
    curl_share_cleanup(share);
    curl_global_cleanup();
    svc_say("stopping");
    return 0;
}
