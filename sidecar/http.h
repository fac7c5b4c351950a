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

/* Query argument by name, NULL when absent. */
const char *vms_http_arg(const vms_http_req_t *req, const char *name);
const char *vms_http_method(const vms_http_req_t *req);
const char *vms_http_path(const vms_http_req_t *req);

/* Sets status and a JSON {"error": msg} body. */
void vms_http_error(vms_http_resp_t *resp, int status, const char *msg);

int vms_http_start(const char *host, int port, char *err, size_t errlen);
void vms_http_stop(void);

#endif /* VMS_HTTP_H */
