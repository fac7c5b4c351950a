#include "http.h"
#include "log.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MAX_ROUTES  64

struct vms_http_req_s {
    struct MHD_Connection  *conn;
    const char             *method;
    const char             *path;
};

typedef struct {
    char                 method[8];
    char                 path[128];
    vms_http_handler_pt  handler;
    void                *data;
} route_t;

static pthread_mutex_t    lock = PTHREAD_MUTEX_INITIALIZER;
static route_t            routes[MAX_ROUTES];
static int                nroutes;
static struct MHD_Daemon *daemon_;
static vms_metric_t      *m_requests;

int
vms_http_route(const char *method, const char *path,
    vms_http_handler_pt handler, void *data)
{
    int rc = -1;

    pthread_mutex_lock(&lock);
    if (nroutes < MAX_ROUTES && strlen(method) < sizeof(routes[0].method)
        && strlen(path) < sizeof(routes[0].path))
    {
        route_t *r = &routes[nroutes++];
        snprintf(r->method, sizeof(r->method), "%s", method);
        snprintf(r->path, sizeof(r->path), "%s", path);
        r->handler = handler;
        r->data = data;
        rc = 0;
    }
    pthread_mutex_unlock(&lock);
    if (rc != 0) {
        vms_log_error(NULL, "http: cannot register %s %s", method, path);
    }
    return rc;
}

const char *
vms_http_arg(const vms_http_req_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
vms_http_method(const vms_http_req_t *req)
{
    return req->method;
}

const char *
vms_http_path(const vms_http_req_t *req)
{
    return req->path;
}

void
vms_http_error(vms_http_resp_t *resp, int status, const char *msg)
{
    resp->status = status;
    resp->content_type = "application/json";
    resp->body.len = 0;
    vms_buf_append(&resp->body, "{\"error\":", 9);
    vms_buf_json_str(&resp->body, msg);
    vms_buf_append(&resp->body, "}\n", 2);
}

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
    if (allow != NULL) {
        MHD_add_response_header(r, "Allow", allow);
    }
    ret = MHD_queue_response(conn, (unsigned) w->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
    static int       first;
    vms_http_req_t   req = { conn, method, url };
    vms_http_resp_t  w = { 200, "application/json", { 0 } };
    route_t          r;
    char             allow[64] = "";
    char             labels[256];
    int              i, found = 0, path_known = 0;

    if (*con_cls == NULL) {
        /* first call: headers only; answer once the body (ignored) is in */
        *con_cls = &first;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }

    pthread_mutex_lock(&lock);
    for (i = 0; i < nroutes; i++) {
        if (strcmp(routes[i].path, url) != 0) {
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
    pthread_mutex_unlock(&lock);

    if (found) {
        if (r.handler(&req, &w, r.data) != 0 && w.status < 400) {
            vms_http_error(&w, 500, "internal error");
        }
    } else if (path_known) {
        vms_http_error(&w, 405, "method not allowed");
    } else {
        vms_http_error(&w, 404, "not found");
    }
    vms_metric_labels(labels, sizeof(labels), "path",
                      found || path_known ? url : "other", "code",
                      w.status >= 500 ? "5xx" : w.status >= 400 ? "4xx"
                                                                : "2xx", NULL);
    vms_series_add(vms_metric_series(m_requests, labels), 1);
    return reply(conn, &w, !found && path_known ? allow : NULL);
}

int
vms_http_start(const char *host, int port, char *err, size_t errlen)
{
    struct sockaddr_storage  ss;
    struct sockaddr_in      *s4 = (struct sockaddr_in *) &ss;
    struct sockaddr_in6     *s6 = (struct sockaddr_in6 *) &ss;
    unsigned int             flags = MHD_USE_INTERNAL_POLLING_THREAD
                                     | MHD_USE_ERROR_LOG;

    m_requests = vms_metric_new("vms_api_requests",
        "Requests to the vmsd API by path and status class", VMS_COUNTER,
        NULL, 0);
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
    daemon_ = MHD_start_daemon(flags, (uint16_t) port, NULL, NULL, on_request,
                               NULL,
                               MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &ss,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 10,
                               MHD_OPTION_CONNECTION_LIMIT, (unsigned) 64,
                               MHD_OPTION_END);
    if (daemon_ == NULL) {
        snprintf(err, errlen, "http: cannot listen on %s:%d", host, port);
        return -1;
    }
    vms_log_info(NULL, "http: API on http://%s%s%s:%d/", 
                 strchr(host, ':') ? "[" : "", host,
                 strchr(host, ':') ? "]" : "", port);
    return 0;
}

void
vms_http_stop(void)
{
    if (daemon_ != NULL) {
        MHD_stop_daemon(daemon_);
        daemon_ = NULL;
    }
}
