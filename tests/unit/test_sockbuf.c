/* Read-ahead of the camera thread's RTSP socket (sidecar/ingest/sockbuf.c):
 * FFmpeg's read pattern gets the same bytes with far fewer system calls,
 * datagrams keep their boundaries, a reused fd number never sees an old
 * socket's bytes, and other threads are untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockbuf.h"

#define PACKETS  40

static void
pair(int type, int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, type, 0, sv), 0);
}

static void
write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        assert_true(w > 0);
        p += w;
        n -= (size_t) w;
    }
}

/* as libavformat's tcp_read: wait for the socket, then one recv() */
static ssize_t
ff_read(int fd, unsigned char *buf, size_t n)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    assert_int_equal(poll(&p, 1, -1), 1);
    assert_true(p.revents & POLLIN);
    return recv(fd, buf, n, 0);
}

static void
ff_read_complete(int fd, unsigned char *buf, size_t n)
{
    while (n > 0) {
        ssize_t r = ff_read(fd, buf, n);
        assert_true(r > 0);
        buf += r;
        n -= (size_t) r;
    }
}

/* PACKETS interleaved RTP packets ('$', channel, 16-bit length, payload)
 * of lengths 1000..1399, payload bytes a function of packet and offset */
static size_t
interleaved(unsigned char *out)
{
    size_t o = 0, len, i, k;

    for (k = 0; k < PACKETS; k++) {
        len = 1000 + (k * 37) % 400;
        out[o++] = '$';
        out[o++] = (unsigned char) (k & 1);
        out[o++] = (unsigned char) (len >> 8);
        out[o++] = (unsigned char) len;
        for (i = 0; i < len; i++) {
            out[o++] = (unsigned char) (k * 7 + i);
        }
    }
    return o;
}

static void
read_interleaved(int fd)
{
    unsigned char hdr[3], pl[2000];
    size_t        len, i, k;

    for (k = 0; k < PACKETS; k++) {
        ff_read_complete(fd, hdr, 1);
        assert_int_equal(hdr[0], '$');
        ff_read_complete(fd, hdr, 3);
        assert_int_equal(hdr[0], k & 1);
        len = ((size_t) hdr[1] << 8) | hdr[2];
        assert_int_equal(len, 1000 + (k * 37) % 400);
        ff_read_complete(fd, pl, len);
        for (i = 0; i < len; i++) {
            assert_int_equal(pl[i], (unsigned char) (k * 7 + i));
        }
    }
}

static void
test_interleaved_packets_read_in_few_system_calls(void **state)
{
    static unsigned char  wire[PACKETS * 1500];
    vms_sockbuf_stats_t   a, b;
    size_t                n = interleaved(wire);
    int                   sv[2];

    pair(SOCK_STREAM, sv);
    write_all(sv[1], wire, n);          /* a burst, as a frame's packets */
    vms_sockbuf_begin();
    a = vms_sockbuf_stats();
    read_interleaved(sv[0]);
    b = vms_sockbuf_stats();
    vms_sockbuf_end();
    /* 3 reads a packet; ~55 KB fits one buffer */
    assert_int_equal(b.reads - a.reads, 3 * PACKETS);
    assert_true(b.syscalls - a.syscalls <= 2);
    assert_true(b.polls_saved - a.polls_saved >= 3 * PACKETS - 2);
    close(sv[0]);
    close(sv[1]);
    vms_sockbuf_release();
}

static void
test_outside_begin_end_reads_pass_through(void **state)
{
    static unsigned char  wire[PACKETS * 1500];
    vms_sockbuf_stats_t   a, b;
    size_t                n = interleaved(wire);
    int                   sv[2];

    pair(SOCK_STREAM, sv);
    write_all(sv[1], wire, n);
    vms_sockbuf_begin();                /* the thread has buffers, but is */
    vms_sockbuf_end();                  /* outside its FFmpeg calls */
    a = vms_sockbuf_stats();
    read_interleaved(sv[0]);
    b = vms_sockbuf_stats();
    assert_int_equal(b.reads, a.reads);
    assert_int_equal(b.syscalls, a.syscalls);
    close(sv[0]);
    close(sv[1]);
    vms_sockbuf_release();
}

static void
test_datagrams_keep_their_boundaries(void **state)
{
    unsigned char  buf[4096];
    const char    *msg[] = { "one", "second message", "3" };
    int            sv[2], i;

    pair(SOCK_DGRAM, sv);
    for (i = 0; i < 3; i++) {
        assert_int_equal(send(sv[1], msg[i], strlen(msg[i]), 0), strlen(msg[i]));
    }
    vms_sockbuf_begin();
    for (i = 0; i < 3; i++) {
        /* a short read of a datagram drops its rest: the next read is the
         * next datagram, never the rest of this one */
        size_t want = strlen(msg[i]) < 6 ? strlen(msg[i]) : 6;
        assert_int_equal(ff_read(sv[0], buf, 6), want);
        assert_memory_equal(buf, msg[i], want);
    }
    vms_sockbuf_end();
    close(sv[0]);
    close(sv[1]);
    vms_sockbuf_release();
}

static void
test_a_reused_fd_number_never_sees_old_bytes(void **state)
{
    unsigned char  buf[64];
    int            a[2], b[2], old;

    vms_sockbuf_begin();
    pair(SOCK_STREAM, a);
    write_all(a[1], (const unsigned char *) "old-bytes-left", 14);
    assert_int_equal(ff_read(a[0], buf, 4), 4);      /* the rest is buffered */
    assert_memory_equal(buf, "old-", 4);
    old = a[0];
    close(a[0]);
    close(a[1]);
    pair(SOCK_STREAM, b);
    if (b[0] != old) {
        assert_int_equal(dup2(b[0], old), old);
        close(b[0]);
        b[0] = old;
    }
    write_all(b[1], (const unsigned char *) "new", 3);
    assert_int_equal(ff_read(b[0], buf, sizeof(buf)), 3);
    assert_memory_equal(buf, "new", 3);
    vms_sockbuf_end();
    close(b[0]);
    close(b[1]);
    vms_sockbuf_release();
}

static void
test_end_of_stream_after_the_buffered_bytes(void **state)
{
    unsigned char  buf[64];
    int            sv[2];

    pair(SOCK_STREAM, sv);
    write_all(sv[1], (const unsigned char *) "last", 4);
    close(sv[1]);
    vms_sockbuf_begin();
    assert_int_equal(ff_read(sv[0], buf, 2), 2);
    assert_int_equal(recv(sv[0], buf, sizeof(buf), MSG_PEEK), 2);   /* peek keeps */
    assert_int_equal(ff_read(sv[0], buf, sizeof(buf)), 2);
    assert_memory_equal(buf, "st", 2);
    assert_int_equal(ff_read(sv[0], buf, sizeof(buf)), 0);
    vms_sockbuf_end();
    close(sv[0]);
    vms_sockbuf_release();
}

static void
test_poll_of_buffered_and_idle_sockets_does_not_wait(void **state)
{
    struct pollfd  p[2];
    unsigned char  buf[8];
    int            a[2], b[2];

    pair(SOCK_STREAM, a);
    pair(SOCK_STREAM, b);                   /* b never gets a byte */
    write_all(a[1], (const unsigned char *) "abcdef", 6);
    vms_sockbuf_begin();
    assert_int_equal(ff_read(a[0], buf, 1), 1);
    p[0] = (struct pollfd) { .fd = b[0], .events = POLLIN };
    p[1] = (struct pollfd) { .fd = a[0], .events = POLLIN };
    alarm(20);                              /* a wrong poll() waits forever */
    assert_int_equal(poll(p, 2, -1), 1);
    alarm(0);
    assert_int_equal(p[0].revents, 0);
    assert_int_equal(p[1].revents, POLLIN);
    vms_sockbuf_end();
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    vms_sockbuf_release();
}

static void *
other_thread(void *arg)
{
    int            *fd = arg;
    unsigned char   buf[16];
    vms_sockbuf_stats_t s;

    assert_int_equal(ff_read(*fd, buf, 2), 2);
    assert_int_equal(ff_read(*fd, buf, 2), 2);
    s = vms_sockbuf_stats();
    return (void *) (uintptr_t) s.reads;
}

static void
test_other_threads_pass_through(void **state)
{
    pthread_t  th;
    void      *reads;
    int        sv[2];

    pair(SOCK_STREAM, sv);
    write_all(sv[1], (const unsigned char *) "abcd", 4);
    vms_sockbuf_begin();                    /* this thread's, not the other's */
    assert_int_equal(pthread_create(&th, NULL, other_thread, &sv[0]), 0);
    assert_int_equal(pthread_join(th, &reads), 0);
    assert_int_equal((uintptr_t) reads, 0);
    vms_sockbuf_end();
    close(sv[0]);
    close(sv[1]);
    vms_sockbuf_release();
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interleaved_packets_read_in_few_system_calls),
        cmocka_unit_test(test_outside_begin_end_reads_pass_through),
        cmocka_unit_test(test_datagrams_keep_their_boundaries),
        cmocka_unit_test(test_a_reused_fd_number_never_sees_old_bytes),
        cmocka_unit_test(test_end_of_stream_after_the_buffered_bytes),
        cmocka_unit_test(test_poll_of_buffered_and_idle_sockets_does_not_wait),
        cmocka_unit_test(test_other_threads_pass_through),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
