/* The offline-camera probe (sidecar/ingest/probe.c) against a one-shot TCP peer:
 * 200 and 401 answer, 404 and garbage do not, silence ends at the deadline,
 * a stop request ends it early, and credentials never go on the wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe.h"

typedef struct {
    int          fd;
    const char  *reply;          /* NULL: say nothing */
    char         got[1024];
} peer_t;

static void *
serve(void *arg)
{
    peer_t  *p = arg;
    int      c = accept(p->fd, NULL, NULL);
    ssize_t  n;
    char     drain[256];

    if (c < 0) {
        return NULL;
    }
    n = recv(c, p->got, sizeof(p->got) - 1, 0);
    p->got[n > 0 ? n : 0] = '\0';
    if (p->reply != NULL) {
        if (send(c, p->reply, strlen(p->reply), 0) < 0) {
            /* the probe may be gone */
        }
    } else {
        /* Silent until the probe hangs up at its deadline: a fixed sleep here would end
         * the silence early whenever the machine is slow enough. */
        while (recv(c, drain, sizeof(drain), 0) > 0) {
        }
    }
    close(c);
    return NULL;
}

static int
probe(const char *reply, const char *userinfo, int64_t timeout_ms,
    atomic_int *stop, char *got, size_t gotlen, char *why)
{
    struct sockaddr_in  a;
    socklen_t           alen = sizeof(a);
    peer_t              p;
    pthread_t           t;
    char                url[128];
    int                 r;

    memset(&p, 0, sizeof(p));
    p.reply = reply;
    p.fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(p.fd, (struct sockaddr *) &a, sizeof(a)), 0);
    assert_int_equal(listen(p.fd, 1), 0);
    getsockname(p.fd, (struct sockaddr *) &a, &alen);
    pthread_create(&t, NULL, serve, &p);
    snprintf(url, sizeof(url), "rtsp://%s127.0.0.1:%d/camera/cam1",
             userinfo ? userinfo : "", ntohs(a.sin_port));
    r = vms_rtsp_probe(url, timeout_ms, stop, why, 256);
    shutdown(p.fd, SHUT_RDWR);
    pthread_join(t, NULL);
    close(p.fd);
    if (got != NULL) {
        snprintf(got, gotlen, "%s", p.got);
    }
    return r;
}

static void
test_answers(void **state)
{
    char why[256], got[1024];

    assert_int_equal(probe("RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n", "admin:s3cret@",
                           2000, NULL, got, sizeof(got), why), 1);
    assert_non_null(strstr(got, "DESCRIBE rtsp://127.0.0.1:"));
    assert_null(strstr(got, "s3cret"));
    assert_int_equal(probe("RTSP/1.0 401 Unauthorized\r\n\r\n", NULL, 2000, NULL,
                           NULL, 0, why), 1);
}

static void
test_down(void **state)
{
    char       why[256];
    atomic_int stop = 1;

    assert_int_equal(probe("RTSP/1.0 404 Not Found\r\n\r\n", NULL, 2000, NULL, NULL,
                           0, why), 0);
    assert_string_equal(why, "DESCRIBE answered 404");
    assert_int_equal(probe("HTTP/1.1 200 OK\r\n\r\n", NULL, 2000, NULL, NULL, 0, why), 0);
    assert_string_equal(why, "not an RTSP answer");
    assert_int_equal(probe(NULL, NULL, 300, NULL, NULL, 0, why), 0);
    assert_string_equal(why, "no answer within 300ms");
    /* a stop request ends the wait at once */
    assert_int_equal(probe(NULL, NULL, 5000, &stop, NULL, 0, why), 0);
    assert_int_equal(vms_rtsp_probe("rtsps://h/x", 100, NULL, why, sizeof(why)), -1);
    assert_int_equal(vms_rtsp_probe("rtsp://127.0.0.1:1/x", 500, NULL, why, sizeof(why)), 0);
    assert_non_null(strstr(why, "connect"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
