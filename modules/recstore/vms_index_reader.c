/*
 * Segment index: the reader side (nginx workers, the CLI).
 *
 * Day files are mmap()ed read-only and validated once per change (identity
 * = dev, ino, mtime, size); a query is then a binary search per day plus a
 * walk over the records in range.  Fragment blocks are verified lazily, only
 * for the segments whose fragments a caller needs (the cut ends of a range).
 * The open-segment record is small and read fresh on every query.
 */
#include "vms_index_format.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    dev_t     dev;
    ino_t     ino;
    off_t     size;
    struct timespec mtime;
} vmsi_ident_t;

typedef struct {
    char        *path;           /* the .seg file */
    int64_t      day;
    vmsi_ident_t id;
    const unsigned char *map;
    size_t       len;
    const vmsi_seg_record_t *recs;
    size_t       nrec;
    /* .frag, mapped on demand once per query */
    vmsi_ident_t fid;
    const unsigned char *fmap;
    size_t       flen;
    uint64_t     fgen;
    uint64_t     used;           /* query generation of last use */
} vmsi_day_t;

struct vms_index_reader_s {
    vmsi_day_t  **days;
    size_t        ndays, max_days;
    uint64_t      gen;
    vms_index_entry_t *ents;
    size_t        cap;
    unsigned char *open_buf;     /* this query's open-segment file */
};


static void
ident_of(const struct stat *st, vmsi_ident_t *id)
{
    id->dev = st->st_dev;
    id->ino = st->st_ino;
    id->size = st->st_size;
    id->mtime = st->st_mtim;
}

static int
ident_eq(const vmsi_ident_t *a, const vmsi_ident_t *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size
           && a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Maps path read-only; *len 0 maps nothing. */
static int
map_file(const char *path, vmsi_ident_t *id, const unsigned char **map, size_t *len,
    char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT) {
            return -ENOENT;
        }
        return vmsi_fail(err, errlen, VMS_INDEX_EIO, "index: open %s: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return vmsi_fail(err, errlen, VMS_INDEX_EIO, "index: %s: not a regular file", path);
    }
    ident_of(&st, id);
    *len = (size_t) st.st_size;
    *map = NULL;
    if (*len > 0) {
        void *p = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return vmsi_fail(err, errlen, VMS_INDEX_EIO, "index: mmap %s: %s", path, strerror(e));
        }
        *map = p;
    }
    close(fd);
    return 0;
}

static void
unmap(const unsigned char *map, size_t len)
{
    if (map != NULL && len > 0) {
        munmap((void *) map, len);
    }
}

static void
day_free(vmsi_day_t *d)
{
    unmap(d->map, d->len);
    unmap(d->fmap, d->flen);
    free(d->path);
    free(d);
}

/* Header + records of a .seg image; NULL or the reason it is corrupt. */
static const char *
check_seg_image(const unsigned char *buf, size_t len, int64_t day, size_t *bad_rec)
{
    *bad_rec = (size_t) -1;
    if (len < sizeof(vmsi_file_header_t)) {
        return "truncated header";
    }
    const vmsi_file_header_t *h = (const void *) buf;
    const char *why = vmsi_header_check(h, VMSI_MAGIC_SEG, sizeof(vmsi_seg_record_t));
    if (why != NULL) {
        return why;
    }
    if (day != INT64_MIN && h->day_start_us != day * VMSI_DAY_US) {
        return "header day does not match the file name";
    }
    /* a torn tail (crash mid-append, or an append in progress) is not yet a record */
    size_t n = (len - sizeof(*h)) / sizeof(vmsi_seg_record_t);
    const vmsi_seg_record_t *r = (const void *) (buf + sizeof(*h));
    for (size_t i = 0; i < n; i++) {
        why = vmsi_record_check(&r[i]);
        if (why == NULL && vmsi_day_of(r[i].start_us) * VMSI_DAY_US != h->day_start_us) {
            why = "record starts on another day";
        }
        if (why == NULL && i > 0 && r[i].start_us <= r[i - 1].start_us) {
            why = "records out of order";
        }
        if (why == NULL && (r[i].frag_off % 32 != 0 || r[i].frag_off < sizeof(*h))) {
            why = "record has an invalid fragment offset";
        }
        if (why != NULL) {
            *bad_rec = i;
            return why;
        }
    }
    return NULL;
}

static int
day_load(vmsi_day_t *d, char *err, size_t errlen)
{
    int rc = map_file(d->path, &d->id, &d->map, &d->len, err, errlen);
    if (rc < 0) {
        return rc;
    }
    size_t bad;
    const char *why = check_seg_image(d->map, d->len, d->day, &bad);
    if (why != NULL) {
        unmap(d->map, d->len);
        d->map = NULL;
        d->len = 0;
        if (bad != (size_t) -1) {
            return vmsi_fail(err, errlen, VMS_INDEX_ECORRUPT, "index: %s: record %zu: %s", d->path, bad, why);
        }
        return vmsi_fail(err, errlen, VMS_INDEX_ECORRUPT, "index: %s: %s", d->path, why);
    }
    d->recs = (const void *) (d->map + sizeof(vmsi_file_header_t));
    d->nrec = (d->len - sizeof(vmsi_file_header_t)) / sizeof(vmsi_seg_record_t);
    return 0;
}

vms_index_reader_t *
vms_index_reader_new(size_t max_cached_days)
{
    vms_index_reader_t *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    r->max_days = max_cached_days ? max_cached_days : 64;
    return r;
}

void
vms_index_reader_free(vms_index_reader_t *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->ndays; i++) {
        day_free(r->days[i]);
    }
    free(r->days);
    free(r->ents);
    free(r->open_buf);
    free(r);
}

/* Drops least recently used days beyond the limit; called between queries
 * only, so no entry handed out by the running query points into them. */
static void
evict(vms_index_reader_t *r)
{
    while (r->ndays > r->max_days) {
        size_t lru = 0;
        for (size_t i = 1; i < r->ndays; i++) {
            if (r->days[i]->used < r->days[lru]->used) {
                lru = i;
            }
        }
        day_free(r->days[lru]);
        r->days[lru] = r->days[--r->ndays];
    }
}

/* The day's mapped .seg, current with the file; NULL + *rc (-ENOENT when absent). */
static vmsi_day_t *
day_get(vms_index_reader_t *r, const char *camera_dir, int64_t day, int *rc, char *err, size_t errlen)
{
    char path[4096];
    if (vmsi_day_path(path, sizeof(path), camera_dir, day, "seg") < 0) {
        *rc = vmsi_fail(err, errlen, VMS_INDEX_EIO, "index: path too long for %s", camera_dir);
        return NULL;
    }
    vmsi_day_t *d = NULL;
    for (size_t i = 0; i < r->ndays; i++) {
        if (r->days[i]->day == day && strcmp(r->days[i]->path, path) == 0) {
            d = r->days[i];
            break;
        }
    }
    struct stat st;
    if (stat(path, &st) < 0) {
        *rc = errno == ENOENT ? -ENOENT
              : vmsi_fail(err, errlen, VMS_INDEX_EIO, "index: stat %s: %s", path, strerror(errno));
        if (d != NULL && d->used != r->gen) {
            /* the day is gone (retention): unmap it now, so its blocks are freed on disk */
            for (size_t i = 0; i < r->ndays; i++) {
                if (r->days[i] == d) {
                    r->days[i] = r->days[--r->ndays];
                    break;
                }
            }
            day_free(d);
        }
        return NULL;
    }
    vmsi_ident_t id;
    ident_of(&st, &id);
    if (d != NULL && ident_eq(&id, &d->id) && d->map != NULL) {
        d->used = r->gen;
        return d;
    }
    if (d == NULL) {
        vmsi_day_t **nd = realloc(r->days, (r->ndays + 1) * sizeof(*nd));
        d = calloc(1, sizeof(*d));
        if (nd == NULL || d == NULL || (d->path = strdup(path)) == NULL) {
            if (nd != NULL) {
                r->days = nd;
            }
            free(d);
            *rc = vmsi_fail(err, errlen, VMS_INDEX_ENOMEM, "index: out of memory");
            return NULL;
        }
        r->days = nd;
        r->days[r->ndays++] = d;
        d->day = day;
    } else {
        /* changed: drop the old maps (no entry of this query points into them yet) */
        unmap(d->map, d->len);
        unmap(d->fmap, d->flen);
        d->map = d->fmap = NULL;
        d->len = d->flen = 0;
        d->fgen = 0;
    }
    d->used = r->gen;
    *rc = day_load(d, err, errlen);
    return *rc < 0 ? NULL : d;
}

static int
push(vms_index_reader_t *r, size_t *n, const vmsi_seg_record_t *rec, const void *src)
{
    if (*n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        vms_index_entry_t *v = realloc(r->ents, cap * sizeof(*v));
        if (v == NULL) {
            return VMS_INDEX_ENOMEM;
        }
        r->ents = v;
        r->cap = cap;
    }
    vms_index_entry_t *e = &r->ents[(*n)++];
    e->start_us = rec->start_us;
    e->duration_us = rec->duration_us;
    e->bytes = rec->bytes;
    e->init_size = rec->init_size;
    e->flags = rec->flags;
    e->nfrags = rec->nfrags;
    e->path = rec->path;
    e->media_time_us = rec->media_time_us;
    e->frags = NULL;
    e->src_ = src;
    e->frag_off_ = rec->frag_off;
    return 0;
}

/* Fragment block at off in buf[0..len) for a segment; NULL + reason when bad. */
static const char *
block_at(const unsigned char *buf, size_t len, uint64_t off, int64_t start_us, uint32_t nfrags,
    uint64_t bytes, uint32_t init_size, const vms_index_fragment_t **out)
{
    if (off % 32 != 0 || off > len || len - off < sizeof(vmsi_block_header_t)
        || (len - off - sizeof(vmsi_block_header_t)) / sizeof(vms_index_fragment_t) < nfrags) {
        return "fragment block outside the file";
    }
    const vmsi_block_header_t *h = (const void *) (buf + off);
    const vms_index_fragment_t *f = (const void *) (h + 1);
    if (h->magic != VMSI_BLOCK_MAGIC || h->nfrags != nfrags || h->seg_start_us != start_us) {
        return "fragment block does not belong to its segment";
    }
    if (h->crc != vmsi_block_crc(h, f)) {
        return "fragment block checksum mismatch";
    }
    for (uint32_t i = 0; i < nfrags; i++) {
        if (f[i].offset < init_size || f[i].offset > bytes || f[i].size > bytes - f[i].offset
            || f[i].start_us < 0 || f[i].duration_us < 0
            || (i > 0 && f[i].offset < f[i - 1].offset + f[i - 1].size)) {
            return "fragment outside its segment or out of order";
        }
    }
    *out = f;
    return NULL;
}

/* The open-segment record, when present and valid, appended after closed ones. */
static int
push_open(vms_index_reader_t *r, const char *camera_dir, int64_t from_us, int64_t to_us, size_t *n,
    char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/" VMS_INDEX_DIRNAME "/open", camera_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        return 0;       /* nothing being written */
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size > (off_t) (1 << 22)
        || st.st_size < (off_t) (sizeof(vmsi_file_header_t) + sizeof(vmsi_seg_record_t))) {
        close(fd);
        return vmsi_fail(err, errlen, VMS_INDEX_ECORRUPT, "index: %s: bad size", path);
    }
    size_t len = (size_t) st.st_size;
    unsigned char *buf = malloc(len);
    ssize_t got = buf ? pread(fd, buf, len, 0) : -1;
    close(fd);
    if (got != (ssize_t) len) {
        free(buf);
        return vmsi_fail(err, errlen, VMS_INDEX_EIO, "index: read %s failed", path);
    }
    const vmsi_file_header_t *h = (const void *) buf;
    const vmsi_seg_record_t *rec = (const void *) (buf + sizeof(*h));
    const vms_index_fragment_t *f = NULL;
    const char *why = vmsi_header_check(h, VMSI_MAGIC_OPEN, sizeof(*rec));
    if (why == NULL) {
        why = vmsi_record_check(rec);
    }
    if (why == NULL) {
        why = block_at(buf, len, rec->frag_off, rec->start_us, rec->nfrags, rec->bytes,
                       rec->init_size, &f);
    }
    if (why != NULL) {
        free(buf);
        return vmsi_fail(err, errlen, VMS_INDEX_ECORRUPT, "index: %s: %s", path, why);
    }
    free(r->open_buf);
    r->open_buf = buf;
    if (rec->start_us >= to_us || rec->start_us + rec->duration_us <= from_us
        || (*n > 0 && r->ents[*n - 1].start_us >= rec->start_us)) {
        return 0;       /* outside the range, or already closed and indexed */
    }
    int rc = push(r, n, rec, r);
    if (rc < 0) {
        return vmsi_fail(err, errlen, rc, "index: out of memory");
    }
    r->ents[*n - 1].flags |= VMS_SEG_OPEN;
    r->ents[*n - 1].frags = f;
    return 0;
}

static int
cmp_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

/* Days present in the index directory within [d0, d1] (the index directory
 * only: one entry per recorded day, never the recordings). */
static int
list_days(const char *dir, int64_t d0, int64_t d1, int64_t **out, size_t *n)
{
    DIR *dp = opendir(dir);
    if (dp == NULL) {
        return -errno;
    }
    size_t cap = 64;
    int64_t *v = malloc(cap * sizeof(*v));
    *n = 0;
    struct dirent *de;
    while (v != NULL && (de = readdir(dp)) != NULL) {
        int y, m, dd;
        char ext[8];
        if (sscanf(de->d_name, "%4d-%2d-%2d.%7s", &y, &m, &dd, ext) != 4 || strcmp(ext, "seg") != 0) {
            continue;
        }
        /* days since the epoch (civil calendar, Howard Hinnant's algorithm) */
        int yy = m <= 2 ? y - 1 : y;
        int era = (yy >= 0 ? yy : yy - 399) / 400;
        int yoe = yy - era * 400;
        int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + dd - 1;
        int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        int64_t day = (int64_t) era * 146097 + doe - 719468;
        if (day < d0 || day > d1) {
            continue;
        }
        if (*n == cap) {
            int64_t *nv = realloc(v, (cap *= 2) * sizeof(*v));
            if (nv == NULL) {
                free(v);
                v = NULL;
                break;
            }
            v = nv;
        }
        v[(*n)++] = day;
    }
    closedir(dp);
    if (v == NULL) {
        return -ENOMEM;
    }
    qsort(v, *n, sizeof(*v), cmp_day);
    *out = v;
    return 0;
}

int
vms_index_query(vms_index_reader_t *r, const char *camera_dir, int64_t from_us, int64_t to_us,
    vms_index_result_t *res, char *err, size_t errlen)
{
    res->v = NULL;
    res->n = 0;
    if (to_us <= from_us) {
        return 0;
    }
    evict(r);
    r->gen++;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/" VMS_INDEX_DIRNAME, camera_dir);
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        return vmsi_fail(err, errlen, VMS_INDEX_ENOINDEX, "index: no index directory %s "
                    "(run vms-index rebuild %s)", dir, camera_dir);
    }
    /* a segment starting the day before may run into the first day */
    int64_t d0 = vmsi_day_of(from_us) - 1, d1 = vmsi_day_of(to_us - 1);
    int64_t *days = NULL, nd = 0;
    size_t ndays = 0;
    if (d1 - d0 > 62) {
        int rc = list_days(dir, d0, d1, &days, &ndays);
        if (rc < 0) {
            return vmsi_fail(err, errlen, VMS_INDEX_EIO, "index: read %s: %s", dir, strerror(-rc));
        }
        nd = (int64_t) ndays;
    } else {
        nd = d1 - d0 + 1;
    }
    size_t n = 0;
    int rc = 0;
    for (int64_t i = 0; i < nd && rc == 0; i++) {
        int64_t day = days ? days[i] : d0 + i;
        vmsi_day_t *d = day_get(r, camera_dir, day, &rc, err, errlen);
        if (d == NULL) {
            if (rc == -ENOENT) {
                rc = 0;
            }
            continue;
        }
        /* first record starting at or after from, then back over any that
         * started earlier but still run into the range */
        size_t lo = 0, hi = d->nrec;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (d->recs[mid].start_us < from_us) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        while (lo > 0 && d->recs[lo - 1].start_us + d->recs[lo - 1].duration_us > from_us) {
            lo--;
        }
        for (size_t k = lo; k < d->nrec && d->recs[k].start_us < to_us; k++) {
            if (d->recs[k].start_us + d->recs[k].duration_us <= from_us) {
                continue;
            }
            if (n > 0 && r->ents[n - 1].start_us >= d->recs[k].start_us) {
                rc = vmsi_fail(err, errlen, VMS_INDEX_ECORRUPT, "index: %s: record %zu overlaps the "
                          "previous day's file", d->path, k);
                break;
            }
            if ((rc = push(r, &n, &d->recs[k], d)) < 0) {
                vmsi_fail(err, errlen, rc, "index: out of memory");
                break;
            }
        }
    }
    free(days);
    if (rc == 0) {
        rc = push_open(r, camera_dir, from_us, to_us, &n, err, errlen);
    }
    if (rc < 0) {
        return rc;
    }
    res->v = r->ents;
    res->n = n;
    return 0;
}

int
vms_index_frags(vms_index_reader_t *r, vms_index_entry_t *e, char *err, size_t errlen)
{
    if (e->frags != NULL || e->nfrags == 0 || e->src_ == r) {
        return 0;
    }
    vmsi_day_t *d = (vmsi_day_t *) e->src_;
    char fpath[4096];
    size_t plen = strlen(d->path);
    memcpy(fpath, d->path, plen - 3);
    memcpy(fpath + plen - 3, "frag", 5);
    if (d->fgen != r->gen || d->fmap == NULL) {
        vmsi_ident_t id;
        const unsigned char *map;
        size_t len;
        int rc = map_file(fpath, &id, &map, &len, err, errlen);
        if (rc == -ENOENT) {
            return vmsi_fail(err, errlen, VMS_INDEX_ECORRUPT, "index: %s missing (its .seg lists "
                        "fragments)", fpath);
        }
        if (rc < 0) {
            return rc;
        }
        if (len < sizeof(vmsi_file_header_t)
            || vmsi_header_check((const void *) map, VMSI_MAGIC_FRAG, sizeof(vms_index_fragment_t))) {
            unmap(map, len);
            return vmsi_fail(err, errlen, VMS_INDEX_ECORRUPT, "index: %s: bad header", fpath);
        }
        /* Pointers handed out earlier in this query stay valid: a file only
         * gets remapped in a later query. */
        if (d->fmap == NULL || !ident_eq(&id, &d->fid)) {
            unmap(d->fmap, d->flen);
            d->fmap = map;
            d->flen = len;
            d->fid = id;
        } else {
            unmap(map, len);
        }
        d->fgen = r->gen;
    }
    const char *why = block_at(d->fmap, d->flen, e->frag_off_, e->start_us, e->nfrags, e->bytes,
                               e->init_size, &e->frags);
    if (why != NULL) {
        return vmsi_fail(err, errlen, VMS_INDEX_ECORRUPT, "index: %s: segment %s: %s", fpath, e->path, why);
    }
    return 0;
}

int
vms_index_validate_buf(const unsigned char *buf, size_t len, char *err, size_t errlen)
{
    if (len < sizeof(vmsi_file_header_t)) {
        return vmsi_fail(err, errlen, VMS_INDEX_ECORRUPT, "truncated header");
    }
    /* the image may be unaligned (fuzzer input): work on an aligned copy */
    unsigned char *b = malloc(len);
    if (b == NULL) {
        return vmsi_fail(err, errlen, VMS_INDEX_ENOMEM, "out of memory");
    }
    memcpy(b, buf, len);
    const char *why = NULL;
    size_t bad = (size_t) -1;
    const vmsi_file_header_t *h = (const void *) b;
    if (memcmp(h->magic, VMSI_MAGIC_SEG, 8) == 0) {
        why = check_seg_image(b, len, INT64_MIN, &bad);
    } else if (memcmp(h->magic, VMSI_MAGIC_FRAG, 8) == 0) {
        why = vmsi_header_check(h, VMSI_MAGIC_FRAG, sizeof(vms_index_fragment_t));
        size_t off = sizeof(*h);
        while (why == NULL && len - off >= sizeof(vmsi_block_header_t)) {
            const vmsi_block_header_t *bh = (const void *) (b + off);
            const vms_index_fragment_t *f;
            why = block_at(b, len, off, bh->seg_start_us, bh->nfrags, UINT64_MAX, 0, &f);
            off += sizeof(*bh) + (size_t) bh->nfrags * sizeof(*f);
        }
    } else if (memcmp(h->magic, VMSI_MAGIC_OPEN, 8) == 0) {
        const vmsi_seg_record_t *rec = (const void *) (b + sizeof(*h));
        const vms_index_fragment_t *f;
        why = vmsi_header_check(h, VMSI_MAGIC_OPEN, sizeof(*rec));
        if (why == NULL && len < sizeof(*h) + sizeof(*rec)) {
            why = "truncated record";
        }
        if (why == NULL) {
            why = vmsi_record_check(rec);
        }
        if (why == NULL) {
            why = block_at(b, len, rec->frag_off, rec->start_us, rec->nfrags, rec->bytes,
                           rec->init_size, &f);
        }
    } else {
        why = "bad magic (not a vms index file)";
    }
    free(b);
    if (why == NULL) {
        return 0;
    }
    if (bad != (size_t) -1) {
        return vmsi_fail(err, errlen, VMS_INDEX_ECORRUPT, "record %zu: %s", bad, why);
    }
    return vmsi_fail(err, errlen, VMS_INDEX_ECORRUPT, "%s", why);
}

int
vms_index_open_path(const char *camera_dir, char *out, size_t outlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/" VMS_INDEX_DIRNAME "/open", camera_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        return 0;
    }
    struct {
        vmsi_file_header_t h;
        vmsi_seg_record_t  r;
    } b;
    ssize_t n = pread(fd, &b, sizeof(b), 0);
    close(fd);
    if (n != (ssize_t) sizeof(b) || vmsi_header_check(&b.h, VMSI_MAGIC_OPEN, sizeof(b.r)) != NULL
        || vmsi_record_check(&b.r) != NULL || strlen(b.r.path) >= outlen) {
        return 0;
    }
    memcpy(out, b.r.path, strlen(b.r.path) + 1);
    return 1;
}
