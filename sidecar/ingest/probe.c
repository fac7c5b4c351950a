#include "probe.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Waits for fd to be ready for events until deadline (mono us). */
static int
wait_fd(int fd, short events, int64_t deadline, atomic_int *stop)
{
    struct pollfd pfd = { fd, events, 0 };

    for (;;) {
        int64_t left = (deadline - vms_mono_us()) / 1000;
        int     rc;
        if (stop != NULL && atomic_load(stop)) {
            return -1;
        }
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        rc = poll(&pfd, 1, left > 100 ? 100 : (int) left);
        if (rc > 0) {
            return 0;
        }
        if (rc < 0 && errno != EINTR) {
            return -1;
        }
    }
}

int
vms_rtsp_probe(const char *url, int64_t timeout_ms, atomic_int *stop,
    char *why, size_t whylen)
{
    char              host[256], port[8] = "554", req[2048], clean[1024];
    char              resp[256];
    const char       *h, *end, *at, *p;
    struct addrinfo   hints, *ai = NULL;
    int64_t           deadline = vms_mono_us() + timeout_ms * 1000;
    int               fd = -1, rc, status, err = 0;
    socklen_t         errlen = sizeof(err);
    size_t            n, off;

    if (strncmp(url, "rtsp://", 7) != 0) {
        snprintf(why, whylen, "not rtsp://");
        return -1;
    }
    h = url + 7;
    end = h + strcspn(h, "/?");
    at = memchr(h, '@', (size_t) (end - h));
    if (at != NULL) {
        h = at + 1;
    }
    /* URL without credentials, for the request line */
    snprintf(clean, sizeof(clean), "rtsp://%.*s", (int) strlen(h), h);
    if (*h == '[') {
        p = memchr(h, ']', (size_t) (end - h));
        if (p == NULL) {
            snprintf(why, whylen, "bad host");
            return 0;
        }
        snprintf(host, sizeof(host), "%.*s", (int) (p - h - 1), h + 1);
        p++;
    } else {
        p = memchr(h, ':', (size_t) (end - h));
        snprintf(host, sizeof(host), "%.*s",
                 (int) ((p ? p : end) - h), h);
    }
    if (p != NULL && *p == ':') {
        snprintf(port, sizeof(port), "%.*s", (int) (end - p - 1), p + 1);
    }

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(why, whylen, "cannot resolve: %s", gai_strerror(rc));
        return 0;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, whylen, "socket: %s", strerror(errno));
        freeaddrinfo(ai);
        return 0;
    }
    rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (rc != 0 && errno != EINPROGRESS) {
        snprintf(why, whylen, "connect: %s", strerror(errno));
        goto down;
    }
    if (wait_fd(fd, POLLOUT, deadline, stop) != 0
        || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) != 0 || err)
    {
        snprintf(why, whylen, "connect: %s",
                 strerror(err ? err : errno ? errno : ETIMEDOUT));
        goto down;
    }
    n = (size_t) snprintf(req, sizeof(req),
                          "DESCRIBE %s RTSP/1.0\r\nCSeq: 1\r\n"
                          "Accept: application/sdp\r\n"
                          "User-Agent: vmsd-probe\r\n\r\n", clean);
    for (off = 0; off < n;) {
        ssize_t w = send(fd, req + off, n - off, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLOUT, deadline, stop) != 0) {
                snprintf(why, whylen, "send timed out");
                goto down;
            }
            continue;
        }
        if (w <= 0) {
            snprintf(why, whylen, "send: %s", strerror(errno));
            goto down;
        }
        off += (size_t) w;
    }
    for (off = 0; off < sizeof(resp) - 1 && !memchr(resp, '\n', off);) {
        ssize_t r;
        if (wait_fd(fd, POLLIN, deadline, stop) != 0) {
            snprintf(why, whylen, "no answer within %lldms",
                     (long long) timeout_ms);
            goto down;
        }
        r = recv(fd, resp + off, sizeof(resp) - 1 - off, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            continue;
        }
        if (r <= 0) {
            snprintf(why, whylen, "connection closed without an answer");
            goto down;
        }
        off += (size_t) r;
    }
    resp[off] = '\0';
    close(fd);
    if (sscanf(resp, "RTSP/%*d.%*d %d", &status) != 1) {
        snprintf(why, whylen, "not an RTSP answer");
        return 0;
    }
    if (status == 200 || status == 401) {
        snprintf(why, whylen, "DESCRIBE answered %d", status);
        return 1;
    }
    snprintf(why, whylen, "DESCRIBE answered %d", status);
    return 0;
down:
    close(fd);
    return 0;
}
