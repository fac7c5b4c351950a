#include "spool.h"
#include "log.h"
#include "util.h"
#include "vms_bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SPOOL_MAGIC  0x564d5331u     /* "VMS1" */
#define HDR_SIZE     16

struct vms_spool_s {
    pthread_mutex_t  lock;
    char             path[4096];
    char             offpath[4096];
    int              fd;
    int64_t          max_bytes;
    uint64_t         committed;
    uint64_t         end;
};

static int
pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    char *p = buf;

    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t) off);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return -1;
        }
        p += r;
        n -= (size_t) r;
        off += (uint64_t) r;
    }
    return 0;
}

/* Validates the record at off; returns its end or 0 when invalid. */
static uint64_t
check_record(vms_spool_t *sp, uint64_t off, uint64_t size)
{
    unsigned char   hdr[HDR_SIZE];
    unsigned char  *body;
    uint32_t        len, crc;
    uint64_t        end;

    if (off + HDR_SIZE > size || pread_all(sp->fd, hdr, HDR_SIZE, off) != 0) {
        return 0;
    }
    len = vms_be32(hdr + 4);
    crc = vms_be32(hdr + 8);
    end = off + HDR_SIZE + len;
    if (vms_be32(hdr) != SPOOL_MAGIC || end > size || len > (64u << 20)) {
        return 0;
    }
    body = malloc(len ? len : 1);
    if (body == NULL || pread_all(sp->fd, body, len, off + HDR_SIZE) != 0
        || crc32(0, body, len) != crc)
    {
        free(body);
        return 0;
    }
    free(body);
    return end;
}

static int
write_offset(vms_spool_t *sp, uint64_t off)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long) off);
    return vms_write_file_atomic(sp->offpath, buf, strlen(buf));
}

vms_spool_t *
vms_spool_open(const char *dir, int64_t max_bytes, char *err, size_t errlen)
{
    vms_spool_t  *sp;
    struct stat   st;
    FILE         *f;
    uint64_t      off, next;
    int           rc;

    rc = vms_mkdir_p(dir, 0750);
    if (rc != 0) {
        snprintf(err, errlen, "spool: cannot create %s: %s", dir,
                 strerror(-rc));
        return NULL;
    }
    sp = calloc(1, sizeof(*sp));
    if (sp == NULL) {
        snprintf(err, errlen, "spool: out of memory");
        return NULL;
    }
    pthread_mutex_init(&sp->lock, NULL);
    sp->max_bytes = max_bytes;
    snprintf(sp->path, sizeof(sp->path), "%s/events.spool", dir);
    snprintf(sp->offpath, sizeof(sp->offpath), "%s/events.offset", dir);
    sp->fd = open(sp->path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (sp->fd < 0 || fstat(sp->fd, &st) != 0) {
        snprintf(err, errlen, "spool: cannot open %s: %s", sp->path,
                 strerror(errno));
        vms_spool_close(sp);
        return NULL;
    }
    f = fopen(sp->offpath, "re");
    if (f != NULL) {
        unsigned long long v;
        if (fscanf(f, "%llu", &v) == 1) {
            sp->committed = v;
        }
        fclose(f);
    }
    if (sp->committed > (uint64_t) st.st_size) {
        /* only after a crash between emptying the file and resetting the
         * offset (see commit), when the file is empty */
        if (st.st_size > 0) {
            vms_log_warn(NULL, "spool: committed offset %llu beyond %s (%lld"
                         " bytes); replaying it all",
                         (unsigned long long) sp->committed, sp->path,
                         (long long) st.st_size);
        }
        sp->committed = 0;
    }
    /* keep the valid prefix; a crash during append leaves a torn tail */
    for (off = sp->committed; off < (uint64_t) st.st_size; off = next) {
        next = check_record(sp, off, (uint64_t) st.st_size);
        if (next == 0) {
            vms_log_warn(NULL, "spool: %s: invalid record at %llu; cutting"
                         " %llu bytes", sp->path, (unsigned long long) off,
                         (unsigned long long) ((uint64_t) st.st_size - off));
            if (ftruncate(sp->fd, (off_t) off) != 0 || fsync(sp->fd) != 0) {
                snprintf(err, errlen, "spool: cannot truncate %s: %s",
                         sp->path, strerror(errno));
                vms_spool_close(sp);
                return NULL;
            }
            break;
        }
    }
    sp->end = off;
    if (sp->end > sp->committed) {
        vms_log_info(NULL, "spool: %llu bytes of undelivered events in %s",
                     (unsigned long long) (sp->end - sp->committed), sp->path);
    }
    return sp;
}

void
vms_spool_close(vms_spool_t *sp)
{
    if (sp == NULL) {
        return;
    }
    if (sp->fd >= 0) {
        close(sp->fd);
    }
    pthread_mutex_destroy(&sp->lock);
    free(sp);
}

int
vms_spool_append(vms_spool_t *sp, const char *topic, const char *key,
    size_t keylen, const void *value, size_t len)
{
    size_t          tlen = strlen(topic);
    size_t          blen = 4 + tlen + keylen + len;
    unsigned char  *rec;
    size_t          off = 0, total = HDR_SIZE + blen;
    int             rc = 0;

    if (tlen > 0xffff || keylen > 0xffff) {
        return -2;
    }
    rec = malloc(total);
    if (rec == NULL) {
        return -2;
    }
    vms_put_be32(rec, SPOOL_MAGIC);
    vms_put_be32(rec + 4, (uint32_t) blen);
    vms_put_be16(rec + HDR_SIZE, (uint16_t) tlen);
    vms_put_be16(rec + HDR_SIZE + 2, (uint16_t) keylen);
    memcpy(rec + HDR_SIZE + 4, topic, tlen);
    memcpy(rec + HDR_SIZE + 4 + tlen, key, keylen);
    memcpy(rec + HDR_SIZE + 4 + tlen + keylen, value, len);
    vms_put_be32(rec + 8, (uint32_t) crc32(0, rec + HDR_SIZE, (uInt) blen));
    vms_put_be32(rec + 12, 0);

    pthread_mutex_lock(&sp->lock);
    if ((int64_t) (sp->end - sp->committed + total) > sp->max_bytes) {
        rc = -1;
        goto done;
    }
    while (off < total) {
        ssize_t n = pwrite(sp->fd, rec + off, total - off,
                           (off_t) (sp->end + off));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rc = -2;
            break;
        }
        off += (size_t) n;
    }
    if (rc == 0 && fdatasync(sp->fd) != 0) {
        rc = -2;
    }
    if (rc == 0) {
        sp->end += total;
    } else if (ftruncate(sp->fd, (off_t) sp->end) != 0) {
        /* the torn tail is cut again at the next open */
    }
done:
    pthread_mutex_unlock(&sp->lock);
    free(rec);
    return rc;
}

int
vms_spool_read(vms_spool_t *sp, uint64_t off, vms_spool_rec_t *rec)
{
    unsigned char   hdr[HDR_SIZE];
    unsigned char  *body = NULL;
    uint32_t        len;
    size_t          tlen, klen;

    memset(rec, 0, sizeof(*rec));
    pthread_mutex_lock(&sp->lock);
    if (off >= sp->end) {
        pthread_mutex_unlock(&sp->lock);
        return 0;
    }
    if (pread_all(sp->fd, hdr, HDR_SIZE, off) != 0) {
        goto fail;
    }
    len = vms_be32(hdr + 4);
    if (vms_be32(hdr) != SPOOL_MAGIC || off + HDR_SIZE + len > sp->end || len < 4) {
        goto fail;
    }
    body = malloc(len);
    if (body == NULL || pread_all(sp->fd, body, len, off + HDR_SIZE) != 0) {
        goto fail;
    }
    pthread_mutex_unlock(&sp->lock);
    tlen = vms_be16(body);
    klen = vms_be16(body + 2);
    if (4 + tlen + klen > len) {
        free(body);
        return -1;
    }
    rec->topic = strndup((char *) body + 4, tlen);
    rec->key = malloc(klen + 1);
    rec->len = len - 4 - tlen - klen;
    rec->value = malloc(rec->len + 1);
    if (rec->topic == NULL || rec->key == NULL || rec->value == NULL) {
        free(body);
        vms_spool_rec_free(rec);
        return -1;
    }
    memcpy(rec->key, body + 4 + tlen, klen);
    rec->key[klen] = '\0';
    rec->keylen = klen;
    memcpy(rec->value, body + 4 + tlen + klen, rec->len);
    rec->value[rec->len] = '\0';
    rec->off = off;
    rec->end = off + HDR_SIZE + len;
    free(body);
    return 1;
fail:
    pthread_mutex_unlock(&sp->lock);
    free(body);
    return -1;
}

void
vms_spool_rec_free(vms_spool_rec_t *rec)
{
    free(rec->topic);
    free(rec->key);
    free(rec->value);
    memset(rec, 0, sizeof(*rec));
}

int
vms_spool_commit(vms_spool_t *sp, uint64_t off)
{
    int rc = 0;

    pthread_mutex_lock(&sp->lock);
    if (off <= sp->committed) {
        pthread_mutex_unlock(&sp->lock);
        return 0;
    }
    if (off >= sp->end) {
        /* all delivered: start over with empty files.  The file first: a
         * crash before the offset is rewritten leaves an offset beyond the
         * empty file, which open treats as nothing to replay. */
        if (ftruncate(sp->fd, 0) != 0 || fsync(sp->fd) != 0
            || write_offset(sp, 0) != 0)
        {
            rc = -1;
        } else {
            sp->committed = sp->end = 0;
        }
    } else if (write_offset(sp, off) != 0) {
        rc = -1;
    } else {
        sp->committed = off;
    }
    pthread_mutex_unlock(&sp->lock);
    return rc;
}

/* One of sp's offsets, read under its lock. */
static uint64_t
locked_offset(vms_spool_t *sp, const uint64_t *off)
{
    uint64_t v;

    pthread_mutex_lock(&sp->lock);
    v = *off;
    pthread_mutex_unlock(&sp->lock);
    return v;
}

uint64_t
vms_spool_committed(vms_spool_t *sp)
{
    return locked_offset(sp, &sp->committed);
}

uint64_t
vms_spool_end(vms_spool_t *sp)
{
    return locked_offset(sp, &sp->end);
}

int
vms_spool_pending(vms_spool_t *sp)
{
    int v;

    pthread_mutex_lock(&sp->lock);
    v = sp->end > sp->committed;
    pthread_mutex_unlock(&sp->lock);
    return v;
}
