/*
 * A secret from a file (secret.h): plain libc, no libcurl, so the nginx
 * modules link it too (vms_limit_redis password_file=).
 */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_MAX  65536

static void
warn_stderr(const char *msg)
{
    fprintf(stderr, "%s\n", msg);
}

static vms_secret_warn_pt  warn_fn = warn_stderr;

void
vms_secret_set_warn(vms_secret_warn_pt fn)
{
    warn_fn = fn ? fn : warn_stderr;
}

void
vms_secret_free(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

char *
vms_secret_read_file(const char *path, char *why, size_t whylen)
{
    struct stat  st;
    char        *buf;
    size_t       n = 0;
    ssize_t      r;
    /* O_NONBLOCK: a FIFO or device named by mistake must not hang the open */
    int          fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0) {
        snprintf(why, whylen, "cannot read \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "\"%s\" is not a regular file", path);
        close(fd);
        return NULL;
    }
    if (st.st_mode & S_IROTH) {
        char msg[512];
        snprintf(msg, sizeof(msg), "secret file \"%s\" is readable by other"
                 " users (mode %03o); chmod o-r it", path,
                 (unsigned) (st.st_mode & 0777));
        warn_fn(msg);
    }
    buf = malloc(SECRET_MAX + 1);
    if (buf == NULL) {
        snprintf(why, whylen, "\"%s\": out of memory", path);
        close(fd);
        return NULL;
    }
    while (n < SECRET_MAX
           && (r = read(fd, buf + n, SECRET_MAX - n)) != 0)
    {
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            snprintf(why, whylen, "cannot read \"%s\": %s", path,
                     strerror(errno));
            close(fd);
            explicit_bzero(buf, n);
            free(buf);
            return NULL;
        }
        n += (size_t) r;
    }
    close(fd);
    if (n == SECRET_MAX) {
        snprintf(why, whylen, "\"%s\" is larger than %d bytes", path,
                 SECRET_MAX - 1);
        explicit_bzero(buf, n);
        free(buf);
        return NULL;
    }
    /* one trailing newline is how editors and `echo` end a file; more is
     * content (a key may legitimately end in spaces) */
    if (n > 0 && buf[n - 1] == '\n') {
        n--;
        if (n > 0 && buf[n - 1] == '\r') {
            n--;
        }
    }
    buf[n] = '\0';
    if (n == 0) {
        snprintf(why, whylen, "\"%s\" is empty", path);
        free(buf);
        return NULL;
    }
    if (strlen(buf) != n) {
        snprintf(why, whylen, "\"%s\" holds a NUL byte", path);
        explicit_bzero(buf, n);
        free(buf);
        return NULL;
    }
    return buf;
}

char *
vms_secret_env_with(const char *name, vms_secret_get_pt get, char *why,
    size_t whylen)
{
    char         fname[128];
    const char  *v, *f;
    char        *s;

    why[0] = '\0';
    snprintf(fname, sizeof(fname), "%s_FILE", name);
    v = getenv(name);
    f = getenv(fname);
    if (v != NULL && v[0] == '\0') {
        v = NULL;
    }
    if (f != NULL && f[0] == '\0') {
        f = NULL;
    }
    if (v != NULL && f != NULL) {
        snprintf(why, whylen, "both %s and %s are set; set one", name, fname);
        return NULL;
    }
    if (v != NULL) {
        s = strdup(v);
        if (s == NULL) {
            snprintf(why, whylen, "%s: out of memory", name);
        }
        return s;
    }
    if (f == NULL) {
        return NULL;
    }
    s = get(f, why, whylen);
    if (s == NULL) {
        char inner[512];
        snprintf(inner, sizeof(inner), "%s", why);
        snprintf(why, whylen, "%s: %s", fname, inner);
    }
    return s;
}
