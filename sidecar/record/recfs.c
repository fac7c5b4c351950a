/*
 * Durable directory operations; see recfs.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recfs.h"

int
vms_fsync_dir(const char *path)
{
    int fd, rc = 0;

    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    if (fsync(fd) != 0) {
        rc = -errno;
    }
    close(fd);
    return rc;
}

int
vms_fsync_parent(const char *path)
{
    char        tmp[4096];
    const char *slash = strrchr(path, '/');
    size_t      n;

    if (slash == NULL) {
        return vms_fsync_dir(".");
    }
    n = (size_t) (slash - path);
    if (n == 0) {
        return vms_fsync_dir("/");
    }
    if (n >= sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    memcpy(tmp, path, n);
    tmp[n] = '\0';
    return vms_fsync_dir(tmp);
}

int
vms_mkdir_durable(const char *base, const char *dir)
{
    char    tmp[4096];
    size_t  nb = strlen(base), n = strlen(dir);
    char   *p;
    int     rc;

    if (n >= sizeof(tmp) || strncmp(dir, base, nb) != 0) {
        return -EINVAL;
    }
    memcpy(tmp, dir, n + 1);

    for (p = tmp + nb + 1; p <= tmp + n; p++) {
        if (*p != '/' && *p != '\0') {
            continue;
        }
        char saved = *p;

        *p = '\0';
        if (mkdir(tmp, 0755) == 0) {
            rc = vms_fsync_parent(tmp);
            if (rc != 0) {
                return rc;
            }
        } else if (errno != EEXIST) {
            return -errno;
        }
        *p = saved;
    }
    return 0;
}

void
vms_rmdir_empty_up(const char *stop, const char *path)
{
    char    tmp[4096];
    size_t  ns = strlen(stop), n = strlen(path);
    char   *slash;
    int     removed = 0;

    if (n >= sizeof(tmp) || strncmp(path, stop, ns) != 0) {
        return;
    }
    memcpy(tmp, path, n + 1);

    /* tmp: the file's directory, then each parent while it is empty */
    for (;;) {
        slash = strrchr(tmp, '/');
        if (slash == NULL || (size_t) (slash - tmp) <= ns) {
            break;
        }
        *slash = '\0';
        if (rmdir(tmp) != 0) {
            break;                  /* tmp exists: the parent to fsync */
        }
        removed = 1;
    }
    if (!removed) {
        return;
    }
    if (access(tmp, F_OK) == 0) {
        vms_fsync_dir(tmp);
    } else {
        vms_fsync_parent(tmp);
    }
}
