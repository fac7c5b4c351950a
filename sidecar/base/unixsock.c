#include "unixsock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

const char *
vms_unix_path(const char *listen)
{
    if (listen != NULL && strncmp(listen, "unix:", 5) == 0 && listen[5] == '/') {
        return listen + 5;
    }
    return NULL;
}

int
vms_unix_parse_mode(const char *text, char *why, size_t whylen)
{
    char  *end;
    long   mode;

    errno = 0;
    mode = strtol(text, &end, 8);
    if (errno != 0 || end == text || *end != '\0' || (mode & 0600) != 0600
        || mode > 0777 || (mode & 0007) != 0)
    {
        snprintf(why, whylen, "expected an octal mode such as 0660, owner rw"
                 " and no access for others");
        return -1;
    }
    return (int) mode;
}

/* Removes a socket file left by a process that is gone; refuses to take
 * over one a live process still accepts on. */
static int
clear_stale(const struct sockaddr_un *sa, int *stale, char *err,
    size_t errlen)
{
    struct stat  st;
    int          fd, rc;

    if (lstat(sa->sun_path, &st) != 0) {
        if (errno == ENOENT) {
            return 0;
        }
        snprintf(err, errlen, "%s: %s", sa->sun_path, strerror(errno));
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "%s exists and is not a socket", sa->sun_path);
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    rc = connect(fd, (const struct sockaddr *) sa, sizeof(*sa));
    close(fd);
    if (rc == 0) {
        snprintf(err, errlen, "another process listens on %s", sa->sun_path);
        return -1;
    }
    if (unlink(sa->sun_path) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot remove stale %s: %s", sa->sun_path,
                 strerror(errno));
        return -1;
    }
    *stale = 1;
    return 0;
}

int
vms_unix_listen(const char *path, int mode, int *stale, char *err,
    size_t errlen)
{
    struct sockaddr_un  sa;
    mode_t              old;
    int                 fd, rc;

    *stale = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "socket path too long: %s", path);
        return -1;
    }
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (clear_stale(&sa, stale, err, errlen) != 0) {
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    old = umask((mode_t) (0777 & ~mode));
    rc = bind(fd, (struct sockaddr *) &sa, sizeof(sa));
    umask(old);
    if (rc != 0 || chmod(path, (mode_t) mode) != 0 || listen(fd, 64) != 0) {
        snprintf(err, errlen, "cannot listen on unix:%s: %s", path,
                 strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}
