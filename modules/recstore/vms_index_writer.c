/*
 * Segment index: the writer side (vmsd, the CLI).
 * Layout in vms_index_format.h, rationale in docs/index-format.md.
 *
 * Writers of one camera serialize on {camera_dir}/.index/lock (flock).
 * Append: fragment block to .frag, fdatasync; record to .seg, fdatasync;
 * directory fsync when a file was created.  An out-of-order or removal
 * change rewrites the day's .seg through temp + fsync + rename + dir fsync,
 * so readers see either the old or the new file, never a mix.
 */
#include "vms_index_format.h"
#include "vms_fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- writer ---- */


static int
fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}



typedef struct {
    char dir[VMS_INDEX_PATH_MAX + 512];
    int  lock_fd;
} vmsi_wlock_t;

static int
wlock(vmsi_wlock_t *l, const char *camera_dir, char *err, size_t errlen)
{
    int n = snprintf(l->dir, sizeof(l->dir), "%s/" VMS_INDEX_DIRNAME, camera_dir);
    if (n < 0 || (size_t) n >= sizeof(l->dir)) {
        return vmsi_fail(err, errlen, -ENAMETOOLONG, "index: camera directory path too long: %s", camera_dir);
    }
    if (mkdir(l->dir, 0755) == 0) {
        int rc = fsync_dir(camera_dir);
        if (rc < 0) {
            return vmsi_fail(err, errlen, rc, "index: fsync %s: %s", camera_dir, strerror(-rc));
        }
    } else if (errno != EEXIST) {
        int rc = -errno;
        return vmsi_fail(err, errlen, rc, "index: mkdir %s: %s", l->dir, strerror(-rc));
    }
    char p[sizeof(l->dir) + 8];
    snprintf(p, sizeof(p), "%s/lock", l->dir);
    l->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (l->lock_fd < 0) {
        int rc = -errno;
        return vmsi_fail(err, errlen, rc, "index: open %s: %s", p, strerror(-rc));
    }
    while (flock(l->lock_fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            int rc = -errno;
            close(l->lock_fd);
            return vmsi_fail(err, errlen, rc, "index: lock %s: %s", p, strerror(-rc));
        }
    }
    return 0;
}

static void
wunlock(vmsi_wlock_t *l)
{
    close(l->lock_fd);   /* releases the flock */
}

static int
seg_to_record(const vms_index_segment_t *seg, uint64_t frag_off, vmsi_seg_record_t *r)
{
    size_t len = strnlen(seg->path, VMS_INDEX_PATH_MAX);
    if (len == VMS_INDEX_PATH_MAX || !vmsi_path_ok(seg->path, len) || seg->start_us <= 0
        || seg->duration_us < 0 || seg->init_size > seg->bytes || seg->nfrags > VMSI_MAX_FRAGS
        || (seg->nfrags > 0 && seg->frags == NULL)) {
        return -EINVAL;
    }
    memset(r, 0, sizeof(*r));
    r->start_us = seg->start_us;
    r->duration_us = seg->duration_us;
    r->bytes = seg->bytes;
    r->frag_off = frag_off;
    r->init_size = seg->init_size;
    r->flags = seg->flags & ~(uint32_t) VMS_SEG_OPEN;
    r->nfrags = seg->nfrags;
    r->media_time_us = (seg->flags & VMS_SEG_MEDIA_TIME) ? seg->media_time_us : 0;
    memcpy(r->path, seg->path, len);
    r->crc = vmsi_crc32(0, r, offsetof(vmsi_seg_record_t, crc));
    return 0;
}

static int
write_block(int fd, off_t off, const vms_index_segment_t *seg)
{
    vmsi_block_header_t h;
    memset(&h, 0, sizeof(h));
    h.magic = VMSI_BLOCK_MAGIC;
    h.nfrags = seg->nfrags;
    h.seg_start_us = seg->start_us;
    h.crc = vmsi_block_crc(&h, seg->frags);
    int rc = vms_pwrite_all(fd, &h, sizeof(h), off);
    if (rc == 0 && seg->nfrags > 0) {
        rc = vms_pwrite_all(fd, seg->frags, (size_t) seg->nfrags * sizeof(vms_index_fragment_t),
                       off + (off_t) sizeof(h));
    }
    return rc;
}

/* Opens (creating with a header if new) a day file; *created set when new. */
static int
open_day_file(const char *path, const char *magic, uint32_t recsize, int64_t day,
    int *created, off_t *size, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        int rc = -errno;
        return vmsi_fail(err, errlen, rc, "index: open %s: %s", path, strerror(-rc));
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int rc = -errno;
        close(fd);
        return vmsi_fail(err, errlen, rc, "index: stat %s: %s", path, strerror(-rc));
    }
    vmsi_file_header_t h;
    if (st.st_size < (off_t) sizeof(h)) {
        /* new, or a crash before its header was complete: (re)start it */
        vmsi_header_init(&h, magic, recsize, day * VMSI_DAY_US);
        int rc = ftruncate(fd, 0) < 0 ? -errno : vms_pwrite_all(fd, &h, sizeof(h), 0);
        if (rc < 0) {
            close(fd);
            return vmsi_fail(err, errlen, rc, "index: write %s: %s", path, strerror(-rc));
        }
        *created = 1;
        *size = sizeof(h);
        return fd;
    }
    int rc = vms_pread_all(fd, &h, sizeof(h), 0);
    const char *why = rc < 0 ? strerror(-rc) : vmsi_header_check(&h, magic, recsize);
    if (why != NULL) {
        close(fd);
        return vmsi_fail(err, errlen, rc < 0 ? rc : -EBADMSG, "index: %s: %s", path, why);
    }
    *created = 0;
    *size = st.st_size;
    return fd;
}

/* Reads every complete record of a .seg file (a torn tail from a crash is dropped). */
static int
read_records(int fd, off_t size, const char *path, vmsi_seg_record_t **out, size_t *n,
    char *err, size_t errlen)
{
    size_t cnt = (size_t) (size - (off_t) sizeof(vmsi_file_header_t)) / sizeof(vmsi_seg_record_t);
    vmsi_seg_record_t *v = malloc((cnt + 1) * sizeof(*v));
    if (v == NULL) {
        return vmsi_fail(err, errlen, -ENOMEM, "index: out of memory reading %s", path);
    }
    int rc = cnt ? vms_pread_all(fd, v, cnt * sizeof(*v), sizeof(vmsi_file_header_t)) : 0;
    if (rc < 0) {
        free(v);
        return vmsi_fail(err, errlen, rc, "index: read %s: %s", path, strerror(-rc));
    }
    for (size_t i = 0; i < cnt; i++) {
        const char *why = vmsi_record_check(&v[i]);
        if (why == NULL && i > 0 && v[i].start_us <= v[i - 1].start_us) {
            why = "records out of order";
        }
        if (why != NULL) {
            free(v);
            return vmsi_fail(err, errlen, -EBADMSG, "index: %s: record %zu: %s", path, i, why);
        }
    }
    *out = v;
    *n = cnt;
    return 0;
}

/* Replaces path by header + records, atomically; an empty list unlinks it. */
static int
rewrite_records(const char *dir, const char *path, int64_t day, const vmsi_seg_record_t *v,
    size_t n, char *err, size_t errlen)
{
    if (n == 0) {
        if (unlink(path) < 0 && errno != ENOENT) {
            int rc = -errno;
            return vmsi_fail(err, errlen, rc, "index: unlink %s: %s", path, strerror(-rc));
        }
        int rc = fsync_dir(dir);
        return rc < 0 ? vmsi_fail(err, errlen, rc, "index: fsync %s: %s", dir, strerror(-rc)) : 0;
    }
    char tmp[VMS_INDEX_PATH_MAX + 600];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        int rc = -errno;
        return vmsi_fail(err, errlen, rc, "index: open %s: %s", tmp, strerror(-rc));
    }
    vmsi_file_header_t h;
    vmsi_header_init(&h, VMSI_MAGIC_SEG, sizeof(vmsi_seg_record_t), day * VMSI_DAY_US);
    int rc = vms_pwrite_all(fd, &h, sizeof(h), 0);
    if (rc == 0) {
        rc = vms_pwrite_all(fd, v, n * sizeof(*v), sizeof(h));
    }
    if (rc == 0 && fsync(fd) < 0) {
        rc = -errno;
    }
    close(fd);
    if (rc == 0 && rename(tmp, path) < 0) {
        rc = -errno;
    }
    if (rc < 0) {
        unlink(tmp);
        return vmsi_fail(err, errlen, rc, "index: rewrite %s: %s", path, strerror(-rc));
    }
    rc = fsync_dir(dir);
    return rc < 0 ? vmsi_fail(err, errlen, rc, "index: fsync %s: %s", dir, strerror(-rc)) : 0;
}

int
vms_index_append_e(const char *camera_dir, const vms_index_segment_t *seg, char *err, size_t errlen)
{
    vmsi_seg_record_t rec;
    if (seg == NULL || seg_to_record(seg, 0, &rec) < 0) {
        return vmsi_fail(err, errlen, -EINVAL, "index: invalid segment for %s (path, times or sizes)",
                    camera_dir);
    }
    vmsi_wlock_t l;
    int rc = wlock(&l, camera_dir, err, errlen);
    if (rc < 0) {
        return rc;
    }
    int64_t day = vmsi_day_of(seg->start_us);
    char segp[sizeof(l.dir) + 32], fragp[sizeof(l.dir) + 32];
    if (vmsi_day_path(segp, sizeof(segp), camera_dir, day, "seg") < 0
        || vmsi_day_path(fragp, sizeof(fragp), camera_dir, day, "frag") < 0) {
        wunlock(&l);
        return vmsi_fail(err, errlen, -ENAMETOOLONG, "index: path too long under %s", l.dir);
    }
    int seg_created = 0, frag_created = 0, sfd = -1, ffd = -1;
    off_t ssize = 0, fsize = 0;
    vmsi_seg_record_t *v = NULL;
    size_t n = 0;

    sfd = open_day_file(segp, VMSI_MAGIC_SEG, sizeof(vmsi_seg_record_t), day,
                        &seg_created, &ssize, err, errlen);
    if (sfd < 0) {
        rc = sfd;
        goto done;
    }
    rc = read_records(sfd, ssize, segp, &v, &n, err, errlen);
    if (rc < 0) {
        goto done;
    }
    /* idempotent re-append (reconcile at start-up) */
    for (size_t i = n; i-- > 0 && v[i].start_us >= seg->start_us;) {
        if (v[i].start_us == seg->start_us) {
            rc = strcmp(v[i].path, rec.path) == 0 ? 0
                 : vmsi_fail(err, errlen, -EEXIST, "index: %s already has a segment starting at %lld (%s)",
                        segp, (long long) seg->start_us, v[i].path);
            goto done;
        }
    }
    ffd = open_day_file(fragp, VMSI_MAGIC_FRAG, sizeof(vms_index_fragment_t), day,
                        &frag_created, &fsize, err, errlen);
    if (ffd < 0) {
        rc = ffd;
        goto done;
    }
    rc = write_block(ffd, fsize, seg);
    if (rc == 0 && fdatasync(ffd) < 0) {
        rc = -errno;
    }
    if (rc < 0) {
        vmsi_fail(err, errlen, rc, "index: write %s: %s", fragp, strerror(-rc));
        goto done;
    }
    rec.frag_off = (uint64_t) fsize;
    rec.crc = vmsi_crc32(0, &rec, offsetof(vmsi_seg_record_t, crc));

    if (n == 0 || v[n - 1].start_us < rec.start_us) {
        off_t end = (off_t) sizeof(vmsi_file_header_t) + (off_t) (n * sizeof(rec));
        if (end != ssize && ftruncate(sfd, end) < 0) {   /* torn tail of a crashed append */
            rc = -errno;
        }
        if (rc == 0) {
            rc = vms_pwrite_all(sfd, &rec, sizeof(rec), end);
        }
        if (rc == 0 && fdatasync(sfd) < 0) {
            rc = -errno;
        }
        if (rc < 0) {
            vmsi_fail(err, errlen, rc, "index: write %s: %s", segp, strerror(-rc));
            goto done;
        }
        if (seg_created || frag_created) {
            rc = fsync_dir(l.dir);
            if (rc < 0) {
                vmsi_fail(err, errlen, rc, "index: fsync %s: %s", l.dir, strerror(-rc));
            }
        }
    } else {
        /* out of order (a rebuild, a late close): insert and rewrite the day */
        size_t pos = n;
        while (pos > 0 && v[pos - 1].start_us > rec.start_us) {
            pos--;
        }
        memmove(&v[pos + 1], &v[pos], (n - pos) * sizeof(rec));
        v[pos] = rec;
        rc = rewrite_records(l.dir, segp, day, v, n + 1, err, errlen);
    }

done:
    if (ffd >= 0) {
        close(ffd);
    }
    if (sfd >= 0) {
        close(sfd);
    }
    free(v);
    wunlock(&l);
    return rc;
}

int
vms_index_append(const char *camera_dir, const vms_index_segment_t *seg)
{
    return vms_index_append_e(camera_dir, seg, NULL, 0);
}

int
vms_index_remove_e(const char *camera_dir, int64_t start_us, char *err, size_t errlen)
{
    vmsi_wlock_t l;
    int rc = wlock(&l, camera_dir, err, errlen);
    if (rc < 0) {
        return rc;
    }
    int64_t day = vmsi_day_of(start_us);
    char segp[sizeof(l.dir) + 32], fragp[sizeof(l.dir) + 32];
    vmsi_seg_record_t *v = NULL;
    size_t n = 0;
    int fd = -1;
    if (vmsi_day_path(segp, sizeof(segp), camera_dir, day, "seg") < 0
        || vmsi_day_path(fragp, sizeof(fragp), camera_dir, day, "frag") < 0) {
        rc = vmsi_fail(err, errlen, -ENAMETOOLONG, "index: path too long under %s", l.dir);
        goto done;
    }
    fd = open(segp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        rc = errno == ENOENT ? -ENOENT : -errno;
        vmsi_fail(err, errlen, rc, "index: %s: %s", segp, strerror(-rc));
        goto done;
    }
    struct stat st;
    vmsi_file_header_t h;
    if (fstat(fd, &st) < 0 || st.st_size < (off_t) sizeof(h)) {
        rc = vmsi_fail(err, errlen, -EBADMSG, "index: %s: truncated header", segp);
        goto done;
    }
    rc = vms_pread_all(fd, &h, sizeof(h), 0);
    const char *why = rc < 0 ? strerror(-rc) : vmsi_header_check(&h, VMSI_MAGIC_SEG, sizeof(*v));
    if (why != NULL) {
        rc = vmsi_fail(err, errlen, rc < 0 ? rc : -EBADMSG, "index: %s: %s", segp, why);
        goto done;
    }
    rc = read_records(fd, st.st_size, segp, &v, &n, err, errlen);
    if (rc < 0) {
        goto done;
    }
    size_t i = 0;
    while (i < n && v[i].start_us != start_us) {
        i++;
    }
    if (i == n) {
        rc = vmsi_fail(err, errlen, -ENOENT, "index: %s has no segment starting at %lld", segp,
                  (long long) start_us);
        goto done;
    }
    memmove(&v[i], &v[i + 1], (n - i - 1) * sizeof(*v));
    n--;
    /* The .frag keeps the removed segment's block (unreferenced) until the
     * day's last segment goes; then both files go. */
    rc = rewrite_records(l.dir, segp, day, v, n, err, errlen);
    if (rc == 0 && n == 0 && unlink(fragp) < 0 && errno != ENOENT) {
        rc = -errno;
        vmsi_fail(err, errlen, rc, "index: unlink %s: %s", fragp, strerror(-rc));
    }
done:
    if (fd >= 0) {
        close(fd);
    }
    free(v);
    wunlock(&l);
    return rc;
}

int
vms_index_remove(const char *camera_dir, int64_t start_us)
{
    return vms_index_remove_e(camera_dir, start_us, NULL, 0);
}

int
vms_index_write_open(const char *camera_dir, const vms_index_segment_t *seg)
{
    char dir[VMS_INDEX_PATH_MAX + 512], path[sizeof(dir) + 16], tmp[sizeof(dir) + 16];
    int n = snprintf(dir, sizeof(dir), "%s/" VMS_INDEX_DIRNAME, camera_dir);
    if (n < 0 || (size_t) n >= sizeof(dir)) {
        return -ENAMETOOLONG;
    }
    snprintf(path, sizeof(path), "%s/open", dir);
    if (seg == NULL) {
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
    }
    vmsi_seg_record_t rec;
    if (seg_to_record(seg, sizeof(vmsi_file_header_t) + sizeof(rec), &rec) < 0) {
        return -EINVAL;
    }
    rec.flags |= VMS_SEG_OPEN;
    rec.crc = vmsi_crc32(0, &rec, offsetof(vmsi_seg_record_t, crc));
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        return -errno;
    }
    /* Volatile by design: no fsync (after a crash the recorder closes or
     * drops the segment and clears this record). */
    snprintf(tmp, sizeof(tmp), "%s/open.tmp", dir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        return -errno;
    }
    vmsi_file_header_t h;
    vmsi_header_init(&h, VMSI_MAGIC_OPEN, sizeof(rec), 0);
    int rc = vms_pwrite_all(fd, &h, sizeof(h), 0);
    if (rc == 0) {
        rc = vms_pwrite_all(fd, &rec, sizeof(rec), sizeof(h));
    }
    if (rc == 0) {
        rc = write_block(fd, (off_t) rec.frag_off, seg);
    }
    close(fd);
    if (rc == 0 && rename(tmp, path) < 0) {
        rc = -errno;
    }
    if (rc < 0) {
        unlink(tmp);
    }
    return rc;
}
