/*
 * vmsd's loopback HTTP API (libmicrohttpd, its own thread).  Routes are
 * registered by any component before or after vms_http_start():
 *
 *   static int cost(const vms_http_req_t *r, vms_http_resp_t *w, void *d);
 *   vms_http_route("GET", "/api/analytics/ai-cost", cost, NULL);
 *
 * A handler fills w (status, content type, body) and returns 0; it runs on
 * the HTTP thread and must not block for long.  Unknown path: 404; known
 * path, other method: 405 with Allow.  Every error body is JSON
 * {"error":"…"}.
 *
 * Before any route runs (docs/vmsd.md, "HTTP API"): the request target is
 * parsed strictly (httpq.h: 400, 414); Host must name this socket (421:
 * DNS rebinding); a request other than GET/HEAD with an Origin not in
 * api_allowed_origins is refused (403: a web page posting cross-site); a
 * body over 4 KB is refused (413); a malformed or repeated X-Request-ID is
 * refused (400).  Then the caller's credential (apiauth.h): a route needs
 * manage_config unless vms_http_route_access() says otherwise (401 without
 * a valid token, 403 without the permission).  Refusals are logged at a
 * bounded rate.
 */

#ifndef VMS_HTTP_H
#define VMS_HTTP_H

#include "util.h"

typedef struct vms_http_req_s  vms_http_req_t;

typedef struct {
    int          status;             /* default 200 */
    const char  *content_type;       /* default application/json */
    vms_buf_t    body;
} vms_http_resp_t;

typedef int (*vms_http_handler_pt)(const vms_http_req_t *req,
    vms_http_resp_t *resp, void *data);

int vms_http_route(const char *method, const char *path,
    vms_http_handler_pt handler, void *data);

/* The same, accepting only the query arguments named in params
 * (space-separated; "" none); any other name is refused with 400. */
int vms_http_route_args(const char *method, const char *path,
    const char *params, vms_http_handler_pt handler, void *data);

/* What route method+path asks of the caller (apiauth.h): need is
 * VMS_APIAUTH_OPEN, a VMS_APIAUTH_* permission or VMS_APIAUTH_METRICS, on the
 * camera its query argument camera_arg names (NULL: no camera).  0, or -1
 * when no such route is registered. */
int vms_http_route_access(const char *method, const char *path, unsigned need,
    const char *camera_arg);

/* Origins (space- or comma-separated, e.g. "http://127.0.0.1:8080") whose
 * browser requests other than GET/HEAD are accepted; NULL: none. */
void vms_http_allow_origins(const char *list);

/* nginx's camera scope of the caller's token (httpq.h: scope grammar). */
#define VMS_HTTP_CAMERAS_HEADER  "X-VMS-Cameras"

/* The caller's trace id (nginx sends its $request_id): 1-64 characters of
 * [A-Za-z0-9_-], at most once, else 400.  While the request is handled it
 * is the thread's trace id (log.h): its log lines and the events it emits
 * carry it. */
#define VMS_HTTP_REQUEST_ID_HEADER  "X-Request-ID"

/* Decoded query argument by name, NULL when absent.  The whole target was
 * validated before the handler runs (httpq.h): no NUL or control byte, no
 * repeated name, no bad escape. */
const char *vms_http_arg(const vms_http_req_t *req, const char *name);
/* Request header (each of Host, Origin, Content-Length, X-Request-ID and
 * X-VMS-Cameras is known to appear at most once). */
const char *vms_http_header(const vms_http_req_t *req, const char *name);

/* The request's body (at most 64 KiB, NUL-terminated by vms_buf). */
const char *vms_http_body(const vms_http_req_t *req, size_t *len);
const char *vms_http_method(const vms_http_req_t *req);

/* Sets status and the JSON body {"error":CODE,"message":msg,"status":N} (CODE from the status). */
void vms_http_error(vms_http_resp_t *resp, int status, const char *msg);

/* Serves the API on host:port; HTTPS when tls, with the pair installed by
 * vms_tlscert_commit() (tlscert.h) before, and whatever pair is installed
 * at each later handshake (rotation on SIGHUP); plain HTTP when 0. */
int vms_http_start(const char *host, int port, int tls, char *err,
    size_t errlen);

/* The API on a unix socket file at path with the given mode instead of
 * TCP.  A socket file nobody listens on (a vmsd that died) is replaced;
 * one a live process listens on is an error. */
int vms_http_start_unix(const char *path, int mode, char *err,
    size_t errlen);

/* A second, TCP listener that answers /metrics and /health only (for
 * Prometheus when the API is on a unix socket); after a start above. */
int vms_http_start_metrics(const char *host, int port, char *err,
    size_t errlen);
void vms_http_stop(void);

#endif /* VMS_HTTP_H */
