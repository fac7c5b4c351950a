#include "http.h"
#include "apiauth.h"
#include "log.h"
#include "metrics.h"

#include "httpq.h"
#include "tlscert.h"
#include "unixsock.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_ROUTES    64
#define MAX_HOSTS     8
/* The largest body: a route that reads one (BODY_READ_PATH: one camera's
 * config) takes BODY_MAX_READ, every other route BODY_MAX; a larger one is
 * refused (413) rather than read. */
#define BODY_MAX         4096
#define BODY_MAX_READ    65536
#define BODY_READ_PATH   "/cameras/item"
#define REJECT_LOG_PER_SEC  10

/* Per request, from the raw request line (MHD's URI log callback) on. */
typedef struct {
    char    *target;         /* as received, not decoded */
    size_t   body;           /* bytes of body seen */
    vms_buf_t data;          /* the body, up to body_max */
    size_t   body_max;
    int      headers_done;
} conn_ctx_t;

struct vms_http_req_s {
    struct MHD_Connection  *conn;
    const char             *method;
    const vms_httpq_t      *q;
    const vms_buf_t        *body;
};

typedef struct {
    char                 method[8];
    char                 path[128];
    char                *params;     /* space-separated; NULL: any name */
    vms_http_handler_pt  handler;
    void                *data;
    unsigned             need;       /* apiauth.h: what the caller's token must grant */
    char                 camera_arg[16];   /* the query argument naming the camera, or "" */
} route_t;

static pthread_mutex_t    lock = PTHREAD_MUTEX_INITIALIZER;
static route_t            routes[MAX_ROUTES];
static int                nroutes;
static char               hosts[MAX_HOSTS][80];   /* accepted Host values */
static int                nhosts;
static char               unix_path[108];       /* "": TCP */

static void init_metrics(void);

/* The listener of metrics_listen: its tag, its daemon. */
static int                metrics_only;
static struct MHD_Daemon *metrics_daemon;
static char              *origins;                /* accepted Origins */
static struct MHD_Daemon *daemon_;
static vms_metric_t      *m_requests;
static vms_metric_t      *m_rejected;
static int64_t            reject_second;
static int                reject_logged, reject_suppressed;

int
vms_http_route_args(const char *method, const char *path, const char *params,
    vms_http_handler_pt handler, void *data)
{
    int rc = -1;

    pthread_mutex_lock(&lock);
    if (nroutes < MAX_ROUTES && strlen(method) < sizeof(routes[0].method)
        && strlen(path) < sizeof(routes[0].path))
    {
        route_t *r = &routes[nroutes];
        snprintf(r->method, sizeof(r->method), "%s", method);
        snprintf(r->path, sizeof(r->path), "%s", path);
        r->params = params ? strdup(params) : NULL;
        r->handler = handler;
        r->data = data;
        r->need = VMS_APIAUTH_MANAGE_CONFIG;     /* until vms_http_route_access() says less */
        r->camera_arg[0] = '\0';
        if (params == NULL || r->params != NULL) {
            nroutes++;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&lock);
    if (rc != 0) {
        vms_log_error(NULL, "http: cannot register %s %s", method, path);
    }
    return rc;
}

int
vms_http_route(const char *method, const char *path,
    vms_http_handler_pt handler, void *data)
{
    return vms_http_route_args(method, path, NULL, handler, data);
}

int
vms_http_route_access(const char *method, const char *path, unsigned need,
    const char *camera_arg)
{
    int i, rc = -1;

    pthread_mutex_lock(&lock);
    for (i = 0; i < nroutes; i++) {
        if (strcmp(routes[i].method, method) == 0 && strcmp(routes[i].path, path) == 0
            && (camera_arg == NULL || strlen(camera_arg) < sizeof(routes[i].camera_arg)))
        {
            routes[i].need = need;
            snprintf(routes[i].camera_arg, sizeof(routes[i].camera_arg), "%s",
                     camera_arg ? camera_arg : "");
            rc = 0;
        }
    }
    pthread_mutex_unlock(&lock);
    if (rc != 0) {
        vms_log_error(NULL, "http: cannot set the access of %s %s", method, path);
    }
    return rc;
}

void
vms_http_allow_origins(const char *list)
{
    char *copy = list ? strdup(list) : NULL;

    pthread_mutex_lock(&lock);
    free(origins);
    origins = copy;
    pthread_mutex_unlock(&lock);
}

const char *
vms_http_arg(const vms_http_req_t *req, const char *name)
{
    return vms_httpq_get(req->q, name);
}

const char *
vms_http_body(const vms_http_req_t *req, size_t *len)
{
    *len = req->body->len;
    return req->body->p != NULL ? req->body->p : "";
}

const char *
vms_http_method(const vms_http_req_t *req)
{
    return req->method;
}

const char *
vms_http_header(const vms_http_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* The error code of a status, as nginx's /_vms/error names it (conf/nginx/nginx.conf.in). */
static const char *
status_code_name(int status)
{
    switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 409: return "conflict";
    case 413: return "payload_too_large";
    case 414: return "uri_too_long";
    case 415: return "unsupported_media_type";
    case 421: return "misdirected_request";
    case 429: return "too_many_requests";
    case 500: return "internal_error";
    case 502: return "bad_gateway";
    case 503: return "service_unavailable";
    case 504: return "gateway_timeout";
    case 507: return "insufficient_storage";
    default:  return "error";
    }
}

/* Our APIs' one error shape: {"error":CODE,"message":TEXT,"status":N}, as nginx's own errors. */
void
vms_http_error(vms_http_resp_t *resp, int status, const char *msg)
{
    char  tail[32];
    int   n;

    resp->status = status;
    resp->content_type = "application/json";
    resp->body.len = 0;
    vms_buf_append(&resp->body, "{\"error\":", 9);
    vms_buf_json_str(&resp->body, status_code_name(status));
    vms_buf_append(&resp->body, ",\"message\":", 11);
    vms_buf_json_str(&resp->body, msg);
    n = snprintf(tail, sizeof(tail), ",\"status\":%d}\n", status);
    vms_buf_append(&resp->body, tail, (size_t) n);
}

/* allow: the Allow header of a 405; a 401 gets WWW-Authenticate (RFC 6750) */
static enum MHD_Result
reply(struct MHD_Connection *conn, vms_http_resp_t *w, const char *allow)
{
    struct MHD_Response  *r;
    enum MHD_Result       ret;

    r = MHD_create_response_from_buffer(w->body.len,
                                        w->body.p ? w->body.p : (char *) "",
                                        MHD_RESPMEM_MUST_COPY);
    vms_buf_free(&w->body);
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type",
                            w->content_type ? w->content_type
                                            : "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (allow != NULL) {
        MHD_add_response_header(r, "Allow", allow);
    }
    if (w->status == 401) {
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"vmsd\"");
    }
    ret = MHD_queue_response(conn, (unsigned) w->status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The raw path of a target for logs and labels: only when it is clean. */
static void
log_path(const char *target, char *out, size_t len)
{
    size_t n = target ? strcspn(target, "?") : 0;
    size_t i;

    for (i = 0; i < n; i++) {
        char c = target[i];
        if (!(isalnum((unsigned char) c) || strchr("/._~-", c) != NULL)) {
            break;
        }
    }
    if (n == 0 || i < n || n >= len) {
        snprintf(out, len, "(malformed)");
    } else {
        snprintf(out, len, "%.*s", (int) n, target);
    }
}

/* Refusals of bad input, logged at a bounded rate (never the values). */
static enum MHD_Result
refuse(struct MHD_Connection *conn, const char *method, const char *target,
    int status, const char *why)
{
    vms_http_resp_t  w = { 200, "application/json", { 0 } };
    char             path[128], labels[160];
    int64_t          sec = vms_mono_us() / 1000000;
    int              suppressed = 0, log_it = 0;

    log_path(target, path, sizeof(path));
    pthread_mutex_lock(&lock);
    if (sec != reject_second) {
        suppressed = reject_suppressed;
        reject_second = sec;
        reject_logged = reject_suppressed = 0;
    }
    if (reject_logged < REJECT_LOG_PER_SEC) {
        reject_logged++;
        log_it = 1;
    } else {
        reject_suppressed++;
    }
    pthread_mutex_unlock(&lock);
    if (suppressed > 0) {
        vms_log_warn(NULL, "http: %d refusal log lines suppressed", suppressed);
    }
    if (log_it) {
        vms_log_warn(NULL, "http: %d %s %s: %s", status, method, path, why);
    }
    vms_metric_labels(labels, sizeof(labels), "code",
                      status == 400 ? "400" : status == 401 ? "401" : status == 403 ? "403"
                      : status == 413 ? "413" : status == 414 ? "414"
                      : status == 421 ? "421" : "other", NULL);
    vms_series_add(vms_metric_series(m_rejected, labels), 1);
    vms_http_error(&w, status, why);
    return reply(conn, &w, NULL);
}

typedef struct {
    int host, origin, clen, cameras, request_id;
} hdr_count_t;

static enum MHD_Result
count_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
    hdr_count_t *c = cls;

    c->host += strcasecmp(key, "Host") == 0;
    c->origin += strcasecmp(key, "Origin") == 0;
    c->clen += strcasecmp(key, "Content-Length") == 0;
    c->cameras += strcasecmp(key, VMS_HTTP_CAMERAS_HEADER) == 0;
    c->request_id += strcasecmp(key, VMS_HTTP_REQUEST_ID_HEADER) == 0;
    return MHD_YES;
}

static int
host_allowed(const char *host)
{
    int i;

    for (i = 0; i < nhosts; i++) {
        if (strcasecmp(hosts[i], host) == 0) {
            return 1;
        }
    }
    return 0;
}

static int
origin_allowed(const char *origin)
{
    int          ok = 0;
    size_t       n = strlen(origin);
    const char  *a;

    pthread_mutex_lock(&lock);
    for (a = origins; a != NULL && *a != '\0' && !ok; ) {
        a += strspn(a, " ,");
        size_t l = strcspn(a, " ,");
        ok = l > 0 && l == n && strncasecmp(a, origin, n) == 0;
        a += l;
    }
    pthread_mutex_unlock(&lock);
    return ok;
}

/*
 * Checks that need only the headers: Host (DNS rebinding), Origin
 * (cross-site requests from a browser), body size.  0 or an HTTP status
 * with *why.
 */
static int
check_headers(struct MHD_Connection *conn, const char *method,
    const char *version, size_t body_max, const char **why)
{
    hdr_count_t  c = {0};
    const char  *host, *origin, *clen, *rid;
    char        *end;

    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &c);
    if (c.host > 1 || c.origin > 1 || c.clen > 1 || c.cameras > 1
        || c.request_id > 1)
    {
        *why = "a header that must appear once is repeated";
        return 400;
    }
    /* the id ends up in log lines and Kafka events: refused rather than
     * escaped or cut, so one request has one id everywhere */
    rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                      VMS_HTTP_REQUEST_ID_HEADER);
    if (rid != NULL && !vms_trace_id_valid(rid)) {
        *why = "malformed " VMS_HTTP_REQUEST_ID_HEADER
               " (expected 1-64 characters of [A-Za-z0-9_-])";
        return 400;
    }
    host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    if (host == NULL ? strcmp(version, MHD_HTTP_VERSION_1_0) != 0
                     : !host_allowed(host))
    {
        /* a browser led here by a rebound DNS name sends that name */
        *why = "Host is not this API's address (use 127.0.0.1:PORT)";
        return 421;
    }
    origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    if (origin != NULL && strcmp(method, "GET") != 0
        && strcmp(method, "HEAD") != 0 && !origin_allowed(origin))
    {
        *why = "cross-origin request refused (Origin not in"
               " api_allowed_origins)";
        return 403;
    }
    clen = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                       "Content-Length");
    if (clen != NULL) {
        unsigned long long n;
        errno = 0;
        n = strtoull(clen, &end, 10);
        if (clen[0] < '0' || clen[0] > '9' || *end != '\0' || errno != 0) {
            *why = "malformed Content-Length";
            return 400;
        }
        if (n > body_max) {
            *why = "request body too large";
            return 413;
        }
    }
    return 0;
}

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    conn_ctx_t *ctx = calloc(1, sizeof(*ctx));

    if (ctx != NULL) {
        ctx->target = strdup(uri);
        if (ctx->target == NULL) {
            free(ctx);
            ctx = NULL;
        } else {
            size_t n = strlen(BODY_READ_PATH);
            ctx->body_max = strncmp(uri, BODY_READ_PATH, n) == 0
                            && (uri[n] == '\0' || uri[n] == '?')
                            ? BODY_MAX_READ : BODY_MAX;
        }
    }
    return ctx;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
    conn_ctx_t *ctx = *con_cls;

    if (ctx != NULL) {
        free(ctx->target);
        vms_buf_free(&ctx->data);
        free(ctx);
        *con_cls = NULL;
    }
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
    conn_ctx_t      *ctx = *con_cls;
    vms_httpq_t      q;
    vms_httpq_rc_e   qrc;
    vms_http_req_t   req;
    vms_http_resp_t  w = { 200, "application/json", { 0 } };
    route_t          r;
    char             allow[64] = "";
    char             labels[256];
    const char      *why = NULL, *bad_name = NULL;
    int              i, found = 0, path_known = 0, status;

    if (ctx == NULL) {
        vms_http_error(&w, 500, "out of memory");
        return reply(conn, &w, NULL);
    }
    if (!ctx->headers_done) {
        ctx->headers_done = 1;
        status = check_headers(conn, method, version, ctx->body_max, &why);
        if (status != 0) {
            return refuse(conn, method, ctx->target, status, why);
        }
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        /* chunked bodies have no Content-Length: count what arrives */
        ctx->body += *upload_data_size;
        if (ctx->body <= ctx->body_max) {
            vms_buf_append(&ctx->data, upload_data, *upload_data_size);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (ctx->body > ctx->body_max) {
        return refuse(conn, method, ctx->target, 413,
                      "request body too large");
    }

    qrc = vms_httpq_parse(&q, ctx->target, strlen(ctx->target));
    if (qrc != VMS_HTTPQ_OK) {
        enum MHD_Result ret = refuse(conn, method, ctx->target,
                                     qrc == VMS_HTTPQ_TOO_LONG ? 414 : 400,
                                     q.why);
        vms_httpq_free(&q);
        return ret;
    }

    pthread_mutex_lock(&lock);
    for (i = 0; i < nroutes; i++) {
        if (strcmp(routes[i].path, q.path) != 0) {
            continue;
        }
        path_known = 1;
        size_t n = strlen(allow);
        snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "",
                 routes[i].method);
        if (strcmp(routes[i].method, method) == 0
            || (strcmp(method, "HEAD") == 0
                && strcmp(routes[i].method, "GET") == 0))
        {
            r = routes[i];
            found = 1;
            break;
        }
    }
    /* route strings live as long as the process: r may point into them */
    pthread_mutex_unlock(&lock);
    if (cls == &metrics_only && strcmp(q.path, "/metrics") != 0
        && strcmp(q.path, "/health") != 0)
    {
        found = path_known = 0;     /* the API itself is on the unix socket */
    }

    if (found && !vms_httpq_only(&q, r.params, &bad_name)) {
        char msg[96];
        snprintf(msg, sizeof(msg), "unknown query argument \"%s\"", bad_name);
        enum MHD_Result ret = refuse(conn, method, ctx->target, 400, msg);
        vms_httpq_free(&q);
        return ret;
    }
    if (found) {
        status = vms_apiauth_check(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                               "Authorization"),
                                   r.need, r.camera_arg[0] ? vms_httpq_get(&q, r.camera_arg) : NULL,
                                   &why);
        if (status != 0) {
            enum MHD_Result ret = refuse(conn, method, ctx->target, status, why);
            vms_httpq_free(&q);
            return ret;
        }
        req.conn = conn;
        req.method = method;
        req.q = &q;
        req.body = &ctx->data;
        if (r.handler(&req, &w, r.data) != 0 && w.status < 400) {
            vms_http_error(&w, 500, "internal error");
        }
    } else if (path_known) {
        vms_http_error(&w, 405, "method not allowed");
    } else {
        vms_http_error(&w, 404, "not found");
    }
    vms_metric_labels(labels, sizeof(labels), "path",
                      found || path_known ? q.path : "other", "code",
                      w.status >= 500 ? "5xx" : w.status >= 400 ? "4xx"
                                                                : "2xx", NULL);
    vms_series_add(vms_metric_series(m_requests, labels), 1);
    vms_httpq_free(&q);
    return reply(conn, &w, !found && path_known ? allow : NULL);
}

/*
 * The caller's X-Request-ID (nginx's $request_id) is this thread's trace
 * id while the request is handled: every log line and event it causes
 * carries it (log.h).  An invalid one is not set (and refused: above).
 */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
    enum MHD_Result ret;

    vms_log_trace_set(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                  VMS_HTTP_REQUEST_ID_HEADER));
    ret = handle(cls, conn, url, method, version, upload_data,
                 upload_data_size, con_cls);
    vms_log_trace_set(NULL);
    return ret;
}

static void
add_host(const char *fmt, const char *host, int port)
{
    if (nhosts < MAX_HOSTS) {
        snprintf(hosts[nhosts++], sizeof(hosts[0]), fmt, host, port);
    }
    if (port == 80 && nhosts < MAX_HOSTS) {
        /* a client leaves the default port out */
        char tmp[80];
        snprintf(tmp, sizeof(tmp), fmt, host, port);
        tmp[strlen(tmp) - 3] = '\0';
        snprintf(hosts[nhosts++], sizeof(hosts[0]), "%s", tmp);
    }
}

/* A TCP listener on host:port, HTTPS with tlscert.h's pair when tls; cls is
 * &metrics_only for the listener that serves /metrics and /health alone.
 * Adds its names to hosts[]. */
static int
start_tcp(const char *host, int port, int tls_on, void *cls,
    struct MHD_Daemon **out, char *err, size_t errlen)
{
    struct MHD_OptionItem    tls[4];
    int                      ntls = 0;
    struct sockaddr_storage  ss;
    struct sockaddr_in      *s4 = (struct sockaddr_in *) &ss;
    struct sockaddr_in6     *s6 = (struct sockaddr_in6 *) &ss;
    unsigned int             flags = MHD_USE_INTERNAL_POLLING_THREAD
                                     | MHD_USE_ERROR_LOG;

    memset(&ss, 0, sizeof(ss));
    if (strcmp(host, "localhost") == 0) {
        host = "127.0.0.1";
    }
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t) port);
    } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t) port);
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, errlen, "http: bad listen address %s", host);
        return -1;
    }
    /* The names a legitimate client uses for this socket: the loopback
     * names and the configured address.  A browser sent here by a DNS
     * name that rebinds to 127.0.0.1 sends that name instead. */
    add_host("%s:%d", "127.0.0.1", port);
    add_host("%s:%d", "localhost", port);
    add_host("[%s]:%d", "::1", port);
    if (strcmp(host, "127.0.0.1") != 0 && strcmp(host, "::1") != 0) {
        add_host(strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    }
    if (tls_on) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            snprintf(err, errlen, "http: api_tls_cert_file given, but this"
                     " libmicrohttpd has no TLS");
            return -1;
        }
        /* TLS 1.2 and 1.3, forward-secret key exchange and no CBC suites,
         * close to nginx's server.d/tls.conf (GnuTLS priority syntax) */
        flags |= MHD_USE_TLS;
        /* the pair is asked for at each handshake: a SIGHUP that installs a
         * renewed one (tlscert.h) reaches new connections only */
        tls[ntls++] = (struct MHD_OptionItem) { MHD_OPTION_HTTPS_CERT_CALLBACK, 0,
            (void *) &vms_tlscert_retrieve };
        tls[ntls++] = (struct MHD_OptionItem) { MHD_OPTION_HTTPS_PRIORITIES, 0,
            (void *) "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-RSA:-AES-128-CBC:-AES-256-CBC"
                     ":-CAMELLIA-128-CBC:-CAMELLIA-256-CBC" };
    }
    tls[ntls] = (struct MHD_OptionItem) { MHD_OPTION_END, 0, NULL };
    *out = MHD_start_daemon(flags, (uint16_t) port, NULL, NULL, on_request,
                            cls,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 10,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned) 64,
                            MHD_OPTION_ARRAY, tls,
                            MHD_OPTION_END);
    if (*out == NULL) {
        snprintf(err, errlen, "http: cannot listen on %s:%d%s", host, port,
                 tls_on ? " (or TLS does not start)" : "");
        return -1;
    }
    vms_log_info(NULL, "http: %s on %s://%s%s%s:%d/",
                 cls == &metrics_only ? "/metrics and /health" : "API",
                 tls_on ? "https" : "http",
                 strchr(host, ':') ? "[" : "", host,
                 strchr(host, ':') ? "]" : "", port);
    return 0;
}

int
vms_http_start(const char *host, int port, int tls, char *err, size_t errlen)
{
    init_metrics();
    nhosts = 0;
    if (tls && !vms_tlscert_active()) {
        snprintf(err, errlen, "http: TLS asked for, but no certificate installed");
        return -1;
    }
    return start_tcp(host, port, tls, NULL, &daemon_, err, errlen);
}

int
vms_http_start_metrics(const char *host, int port, char *err, size_t errlen)
{
    return start_tcp(host, port, 0, &metrics_only, &metrics_daemon, err,
                     errlen);
}

static void
init_metrics(void)
{
    m_requests = vms_metric_new("vms_api_requests",
        "Requests to the vmsd API by path and status class", VMS_COUNTER,
        NULL, 0);
    m_rejected = vms_metric_new("vms_api_rejected_total",
        "API requests refused before routing (bad target, Host, Origin,"
        " body)", VMS_COUNTER, NULL, 0);
}

int
vms_http_start_unix(const char *path, int mode, char *err, size_t errlen)
{
    char  why[256];
    int   fd, stale;

    init_metrics();
    fd = vms_unix_listen(path, mode, &stale, why, sizeof(why));
    if (fd < 0) {
        snprintf(err, errlen, "http: %s", why);
        return -1;
    }
    if (stale) {
        vms_log_info(NULL, "http: removing stale socket %s", path);
    }
    /* nginx sends "Host: localhost" to a unix: upstream; a browser cannot
     * reach a socket file, so no DNS-rebinding name can arrive here. */
    nhosts = 0;
    snprintf(hosts[nhosts++], sizeof(hosts[0]), "localhost");
    daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD
                               | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
                               NULL,
                               MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
                               MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                               MHD_OPTION_LISTEN_SOCKET, fd,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 10,
                               MHD_OPTION_CONNECTION_LIMIT, (unsigned) 64,
                               MHD_OPTION_END);
    if (daemon_ == NULL) {
        snprintf(err, errlen, "http: cannot serve on unix:%s", path);
        close(fd);
        unlink(path);
        return -1;
    }
    snprintf(unix_path, sizeof(unix_path), "%s", path);
    vms_log_info(NULL, "http: API on unix:%s mode %04o", path, mode);
    return 0;
}

void
vms_http_stop(void)
{
    if (metrics_daemon != NULL) {
        MHD_stop_daemon(metrics_daemon);
        metrics_daemon = NULL;
    }
    if (daemon_ != NULL) {
        MHD_stop_daemon(daemon_);
        daemon_ = NULL;
    }
    vms_tlscert_free_all();
    if (unix_path[0] != '\0') {
        unlink(unix_path);
        unix_path[0] = '\0';
    }
}
