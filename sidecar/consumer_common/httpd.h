/*
 * A request-serving sidecar's HTTP listener (vms-login, vms-review-api):
 * libmicrohttpd with its own polling thread pool, behind nginx, on either
 *   "unix:/PATH"  a socket file bound with listen_mode ("0660"; nginx on the
 *                 same host: the file's mode decides who may connect; a stale
 *                 file of a dead process is replaced, a live one refused), or
 *   "IPv4:PORT"   a TCP port.
 * 30 s idle timeout, 256 connections.
 */

#ifndef VMS_SVC_HTTPD_H
#define VMS_SVC_HTTPD_H

#include <microhttpd.h>

/*
 * Starts serving.  NULL on failure, with *rc 2 for a bad --listen or
 * --listen-mode (said on stderr) or 1 when it cannot listen (logged).
 * done may be NULL.
 */
struct MHD_Daemon *svc_httpd_start(const char *listen, const char *listen_mode,
    unsigned threads, MHD_AccessHandlerCallback handler,
    MHD_RequestCompletedCallback done, int *rc);

/*
 * A GET/HEAD service's handler: called once per request, after its headers (a body is skipped);
 * answers with svc_httpd_send.
 */
typedef enum MHD_Result (*svc_get_handler_t)(struct MHD_Connection *c, const char *url,
                                             const char *method);

/* svc_httpd_start for a GET/HEAD service (one handler per process). */
struct MHD_Daemon *svc_httpd_start_get(const char *listen, const char *listen_mode,
    unsigned threads, svc_get_handler_t handler, int *rc);

/*
 * Queues a response: body (malloc'd, freed by MHD; NULL for none) of len bytes, and the headers
 * as name, value pairs up to a NULL name (a NULL value leaves that header out).
 */
enum MHD_Result svc_httpd_send(struct MHD_Connection *c, unsigned status, char *body, size_t len,
    const char *const *headers);

/* Stops serving and removes the socket file of a unix: listener. */
void svc_httpd_stop(struct MHD_Daemon *d, const char *listen);

#endif /* VMS_SVC_HTTPD_H */
