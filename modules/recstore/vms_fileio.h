/* Whole-buffer positional reads and writes for the recording store (the
 * index writer, the MP4 scanner, crash recovery).  Header-only, nginx-free. */
#ifndef VMS_FILEIO_H
#define VMS_FILEIO_H

#include <errno.h>
#include <sys/types.h>
#include <unistd.h>

/* Reads len bytes at off.  0, -errno, or -EIO when the file ends first. */
static inline int
vms_pread_all(int fd, void *buf, size_t len, off_t off)
{
    char *p = buf;

    while (len > 0) {
        ssize_t n = pread(fd, p, len, off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        if (n == 0) {
            return -EIO;
        }
        p += n; len -= (size_t) n; off += n;
    }
    return 0;
}

/* Writes len bytes at off.  0 or -errno. */
static inline int
vms_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        p += n; len -= (size_t) n; off += n;
    }
    return 0;
}

#endif /* VMS_FILEIO_H */
