/*
 * A request-serving sidecar's HTTP listener (see httpd.h).
 */

#include "httpd.h"

#include "svc.h"
#include "unixsock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HTTPD_FLAGS  (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY)

static struct MHD_Daemon *
start_unix(const char *listen, const char *path, const char *listen_mode,
    unsigned threads, MHD_AccessHandlerCallback handler,
    MHD_RequestCompletedCallback done, int *rc)
{
    struct MHD_Daemon  *d;
    char                why[256];
    int                 stale, fd, mode;

    mode = vms_unix_parse_mode(listen_mode, why, sizeof(why));
    if (mode < 0) {
        fprintf(stderr, "--listen-mode %s: %s\n", listen_mode, why);
        *rc = 2;
        return NULL;
    }
    fd = vms_unix_listen(path, mode, &stale, why, sizeof(why));
    if (fd < 0) {
        svc_say("%s", why);
        *rc = 1;
        return NULL;
    }
    if (stale) {
        svc_say("removing stale socket %s", path);
    }
    d = MHD_start_daemon(HTTPD_FLAGS, 0, NULL, NULL, handler, NULL,
                         MHD_OPTION_LISTEN_SOCKET, fd,
                         MHD_OPTION_THREAD_POOL_SIZE, threads,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 30,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned) 256,
                         MHD_OPTION_NOTIFY_COMPLETED, done, NULL,
                         MHD_OPTION_END);
    if (d == NULL) {
        svc_say("cannot serve on %s", listen);
        close(fd);
        unlink(path);
        *rc = 1;
        return NULL;
    }
    svc_say("listening on %s mode %04o", listen, mode);
    return d;
}

static struct MHD_Daemon *
start_tcp(const char *listen, unsigned threads,
    MHD_AccessHandlerCallback handler, MHD_RequestCompletedCallback done,
    int *rc)
{
    struct MHD_Daemon   *d;
    struct sockaddr_in   sa = { .sin_family = AF_INET };
    const char          *colon = strrchr(listen, ':');
    char                 host[64], *end;
    long                 port = colon ? strtol(colon + 1, &end, 10) : 0;

    if (colon == NULL || (size_t) (colon - listen) >= sizeof(host)
        || *end != '\0' || port <= 0 || port > 65535)
    {
        goto bad;
    }
    memcpy(host, listen, (size_t) (colon - listen));
    host[colon - listen] = '\0';
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        goto bad;
    }
    sa.sin_port = htons((uint16_t) port);
    d = MHD_start_daemon(HTTPD_FLAGS, (uint16_t) port, NULL, NULL, handler,
                         NULL,
                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sa,
                         MHD_OPTION_THREAD_POOL_SIZE, threads,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 30,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned) 256,
                         MHD_OPTION_NOTIFY_COMPLETED, done, NULL,
                         MHD_OPTION_END);
    if (d == NULL) {
        svc_say("cannot listen on %s: %s", listen, strerror(errno));
        *rc = 1;
    }
    return d;

bad:
    fprintf(stderr, "--listen %s: expected IPv4:PORT such as 127.0.0.1:8093, "
            "or unix:/PATH\n", listen);
    *rc = 2;
    return NULL;
}

struct MHD_Daemon *
svc_httpd_start(const char *listen, const char *listen_mode, unsigned threads,
    MHD_AccessHandlerCallback handler, MHD_RequestCompletedCallback done,
    int *rc)
{
    const char *path = vms_unix_path(listen);

    if (path != NULL) {
        return start_unix(listen, path, listen_mode, threads, handler, done,
                          rc);
    }
    return start_tcp(listen, threads, handler, done, rc);
}

void
svc_httpd_stop(struct MHD_Daemon *d, const char *listen)
{
    const char *path = vms_unix_path(listen);

    MHD_stop_daemon(d);
    if (path != NULL) {
        unlink(path);
    }
}

static svc_get_handler_t  get_handler;

/* MHD calls this once with the headers, then with any body (skipped), then a last time: the
 * handler answers then. */
static enum MHD_Result
on_get(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_len, void **state)
{
    static int  marker;

    if (*state == NULL) {          /* first call: headers only */
        *state = &marker;
        return MHD_YES;
    }
    if (*upload_len) {
        *upload_len = 0;           /* bodies are ignored (GET only) */
        return MHD_YES;
    }
    return get_handler(c, url, method);
}

struct MHD_Daemon *
svc_httpd_start_get(const char *listen, const char *listen_mode, unsigned threads,
    svc_get_handler_t handler, int *rc)
{
    get_handler = handler;
    return svc_httpd_start(listen, listen_mode, threads, on_get, NULL, rc);
}

enum MHD_Result
svc_httpd_send(struct MHD_Connection *c, unsigned status, char *body, size_t len,
    const char *const *headers)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, body ? body : (void *) "", body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    enum MHD_Result      ret;

    for (; headers != NULL && headers[0] != NULL; headers += 2) {
        if (headers[1] != NULL) {
            MHD_add_response_header(resp, headers[0], headers[1]);
        }
    }
    ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}
