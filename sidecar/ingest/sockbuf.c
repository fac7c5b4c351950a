#include "sockbuf.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

typedef ssize_t (*recv_fn)(int, void *, size_t, int);
typedef int     (*poll_fn)(struct pollfd *, nfds_t, int);
typedef int     (*close_fn)(int);

typedef struct {
    int             fd;         /* -1: free */
    int             stream;     /* 0: not a stream socket, passes through */
    size_t          off;        /* buffered bytes: buf[off, off + len) */
    size_t          len;
    unsigned char  *buf;
} sb_slot_t;

typedef struct {
    int                  on;
    int                  used;
    sb_slot_t            slot[VMS_SOCKBUF_FDS];
    vms_sockbuf_stats_t  st;
} sb_thread_t;

static _Thread_local sb_thread_t  *tls;

/* libc's functions, found after ours; a library's constructor may close()
 * before vmsd's own constructors ran, so they are looked up on first use
 * (a race looks up the same address twice) */
static _Atomic(void *)  libc_recv;
static _Atomic(void *)  libc_poll;
static _Atomic(void *)  libc_close;

static void *
next_symbol(_Atomic(void *) *cache, const char *name)
{
    void *p = atomic_load_explicit(cache, memory_order_acquire);

    if (p == NULL) {
        p = dlsym(RTLD_NEXT, name);
        if (p == NULL) {
            /* libc always has it: without it no socket call can be made */
            fprintf(stderr, "vmsd: no libc %s(): %s\n", name, dlerror());
            abort();
        }
        atomic_store_explicit(cache, p, memory_order_release);
    }
    return p;
}

/* ---- the thread's table ----------------------------------------------- */

static sb_slot_t *
find(sb_thread_t *t, int fd)
{
    int i;

    for (i = 0; i < VMS_SOCKBUF_FDS; i++) {
        if (t->slot[i].fd == fd) {
            return &t->slot[i];
        }
    }
    return NULL;
}

/* the fd's slot, classified on first sight; NULL: the table is full */
static sb_slot_t *
slot_of(sb_thread_t *t, int fd)
{
    sb_slot_t *s = find(t, fd);
    socklen_t  sl;
    int        type = 0;

    if (s != NULL || t->used == VMS_SOCKBUF_FDS) {
        return s;
    }
    s = find(t, -1);
    s->fd = fd;
    s->off = s->len = 0;
    sl = sizeof(type);
    s->stream = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) == 0
                && type == SOCK_STREAM;
    if (s->stream) {
        s->buf = malloc(VMS_SOCKBUF_SIZE);
        s->stream = s->buf != NULL;
    }
    t->used++;
    return s;
}

static void
drop(sb_thread_t *t, sb_slot_t *s)
{
    free(s->buf);
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    t->used--;
}

static int
buffered(sb_thread_t *t, int fd)
{
    sb_slot_t *s = find(t, fd);

    return s != NULL && s->len > 0;
}

/* ---- the API ---------------------------------------------------------- */

void
vms_sockbuf_begin(void)
{
    int i;

    if (tls == NULL) {
        tls = calloc(1, sizeof(*tls));
        if (tls == NULL) {
            return;                 /* unbuffered: slower, not wrong */
        }
        for (i = 0; i < VMS_SOCKBUF_FDS; i++) {
            tls->slot[i].fd = -1;
        }
    }
    tls->on = 1;
}

void
vms_sockbuf_end(void)
{
    if (tls != NULL) {
        tls->on = 0;
    }
}

void
vms_sockbuf_release(void)
{
    int i;

    if (tls == NULL) {
        return;
    }
    for (i = 0; i < VMS_SOCKBUF_FDS; i++) {
        if (tls->slot[i].fd != -1) {
            drop(tls, &tls->slot[i]);
        }
    }
    free(tls);
    tls = NULL;
}

vms_sockbuf_stats_t
vms_sockbuf_stats(void)
{
    vms_sockbuf_stats_t none = {0};

    return tls != NULL ? tls->st : none;
}

/* ---- libc's functions, as vmsd sees them ------------------------------ */

ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
    sb_thread_t *t = tls;
    sb_slot_t   *s;
    ssize_t      r;
    size_t       c;
    recv_fn      real;

    *(void **) &real = next_symbol(&libc_recv, "recv");
    if (t == NULL || !t->on || (s = slot_of(t, fd)) == NULL || !s->stream) {
        return real(fd, buf, n, flags);
    }
    t->st.reads++;
    if (s->len == 0) {
        if (n >= VMS_SOCKBUF_SIZE || (flags & ~MSG_DONTWAIT) != 0) {
            /* as large as the buffer, or a peek or wait-for-all: the
             * caller's own read is the one to make */
            t->st.syscalls++;
            return real(fd, buf, n, flags);
        }
        r = real(fd, s->buf, VMS_SOCKBUF_SIZE, flags);
        t->st.syscalls++;
        if (r <= 0) {
            return r;               /* end of stream, or errno as libc's */
        }
        s->off = 0;
        s->len = (size_t) r;
    }
    /* what is buffered, possibly less than asked: a short read, as the
     * kernel's own reads of a stream socket may be */
    c = n < s->len ? n : s->len;
    memcpy(buf, s->buf + s->off, c);
    if (!(flags & MSG_PEEK)) {
        s->off += c;
        s->len -= c;
    }
    return (ssize_t) c;
}

int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
    sb_thread_t *t = tls;
    nfds_t       i, ready = 0;
    int          r;
    poll_fn      real;

    *(void **) &real = next_symbol(&libc_poll, "poll");
    if (t == NULL || !t->on || t->used == 0) {
        return real(fds, nfds, timeout);
    }
    for (i = 0; i < nfds; i++) {
        if ((fds[i].events & POLLIN) && buffered(t, fds[i].fd)) {
            ready++;
        }
    }
    if (ready == 0) {
        return real(fds, nfds, timeout);
    }
    if (ready < nfds) {
        /* the others as they are now: something is ready, nobody waits */
        r = real(fds, nfds, 0);
        if (r < 0) {
            return r;
        }
    } else {
        t->st.polls_saved++;
        for (i = 0; i < nfds; i++) {
            fds[i].revents = 0;
        }
    }
    r = 0;
    for (i = 0; i < nfds; i++) {
        if ((fds[i].events & POLLIN) && buffered(t, fds[i].fd)) {
            fds[i].revents |= POLLIN;
        }
        r += fds[i].revents != 0;
    }
    return r;
}

int
close(int fd)
{
    sb_thread_t *t = tls;
    sb_slot_t   *s;
    close_fn     real;

    *(void **) &real = next_symbol(&libc_close, "close");
    if (t != NULL && fd != -1 && (s = find(t, fd)) != NULL) {
        drop(t, s);
    }
    return real(fd);
}
