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

/* Stops serving and removes the socket file of a unix: listener. */
void svc_httpd_stop(struct MHD_Daemon *d, const char *listen);

#endif /* VMS_SVC_HTTPD_H */
