/*
 * Index/file reconciliation; see reconcile.h.
 *
 * The MP4 reading here is deliberately small: top-level box headers, the
 * moov's track ids, timescales, handlers and trex defaults, and per moof the
 * tfhd/tfdt/trun fields that give a fragment's start, duration and first
 * sample's sync flag.  Everything is bounds-checked; a malformed file is
 * reported and left alone.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "recfs.h"
#include "reconcile.h"
#include "segpath.h"
#include "util.h"

#define MAX_TRACKS        16
#define MAX_MOOV          (16u << 20)
#define MAX_MOOF          (16u << 20)
#define RUNTIME_DIR_AGE   600           /* s: empty dirs younger are kept */

/* ---- MP4 boxes ---- */

typedef struct {
    const uint8_t *p;
    size_t         n;
} span_t;

static uint32_t
rd32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}

static uint64_t
rd64(const uint8_t *p)
{
    return (uint64_t) rd32(p) << 32 | rd32(p + 4);
}

#define FOURCC(a, b, c, d) \
    ((uint32_t) (a) << 24 | (uint32_t) (b) << 16 | (uint32_t) (c) << 8 | (d))

/* Next child box of s: 1 with its type and body, 0 at the end, -1 when
 * malformed. */
static int
box_next(span_t *s, uint32_t *type, span_t *body)
{
    uint64_t size;
    size_t   hdr = 8;

    if (s->n == 0) {
        return 0;
    }
    if (s->n < 8) {
        return -1;
    }
    size = rd32(s->p);
    *type = rd32(s->p + 4);
    if (size == 1) {
        if (s->n < 16) {
            return -1;
        }
        size = rd64(s->p + 8);
        hdr = 16;
    } else if (size == 0) {
        size = s->n;
    }
    if (size < hdr || size > s->n) {
        return -1;
    }
    body->p = s->p + hdr;
    body->n = (size_t) size - hdr;
    s->p += size;
    s->n -= (size_t) size;
    return 1;
}

/* The first child of s of the given type. */
static int
box_find(span_t s, uint32_t type, span_t *body)
{
    uint32_t t;
    int      rc;

    while ((rc = box_next(&s, &t, body)) == 1) {
        if (t == type) {
            return 1;
        }
    }
    return rc;
}

typedef struct {
    uint32_t  id;
    uint32_t  timescale;
    int       video;
    uint32_t  def_duration;      /* trex */
    uint32_t  def_flags;
} track_t;

typedef struct {
    track_t   t[MAX_TRACKS];
    int       n;
    int       key;               /* index of the track that times fragments */
} tracks_t;

static track_t *
track_by_id(tracks_t *tr, uint32_t id)
{
    int i;

    for (i = 0; i < tr->n; i++) {
        if (tr->t[i].id == id) {
            return &tr->t[i];
        }
    }
    return NULL;
}

static int
parse_moov(span_t moov, tracks_t *tr)
{
    span_t   s = moov, body, mdia, b;
    uint32_t type;
    int      rc, i;

    memset(tr, 0, sizeof(*tr));
    tr->key = -1;
    while ((rc = box_next(&s, &type, &body)) == 1) {
        if (type == FOURCC('t', 'r', 'a', 'k') && tr->n < MAX_TRACKS) {
            track_t *t = &tr->t[tr->n];

            if (box_find(body, FOURCC('t', 'k', 'h', 'd'), &b) != 1 || b.n < 24) {
                return -1;
            }
            t->id = rd32(b.p + (b.p[0] == 1 ? 20 : 12));
            if (box_find(body, FOURCC('m', 'd', 'i', 'a'), &mdia) != 1) {
                return -1;
            }
            if (box_find(mdia, FOURCC('m', 'd', 'h', 'd'), &b) != 1 || b.n < 24) {
                return -1;
            }
            t->timescale = rd32(b.p + (b.p[0] == 1 ? 20 : 12));
            if (box_find(mdia, FOURCC('h', 'd', 'l', 'r'), &b) == 1 && b.n >= 12) {
                t->video = rd32(b.p + 8) == FOURCC('v', 'i', 'd', 'e');
            }
            if (t->timescale == 0) {
                return -1;
            }
            tr->n++;
        }
    }
    if (rc < 0 || tr->n == 0) {
        return -1;
    }
    /* per-track defaults of the fragments */
    if (box_find(moov, FOURCC('m', 'v', 'e', 'x'), &body) == 1) {
        span_t m = body;

        while (box_next(&m, &type, &b) == 1) {
            track_t *t;

            if (type == FOURCC('t', 'r', 'e', 'x') && b.n >= 24
                && (t = track_by_id(tr, rd32(b.p + 4))) != NULL)
            {
                t->def_duration = rd32(b.p + 12);
                t->def_flags = rd32(b.p + 20);
            }
        }
    }
    for (i = 0; i < tr->n; i++) {
        if (tr->t[i].video) {
            tr->key = i;
            break;
        }
    }
    if (tr->key < 0) {
        tr->key = 0;
    }
    return 0;
}

/* One traf's timing: decode time, summed duration, first sample's flags. */
typedef struct {
    uint32_t  track_id;
    uint64_t  tfdt;
    int       has_tfdt;
    uint64_t  duration;
    uint32_t  first_flags;
} traf_t;

static int
parse_traf(span_t traf, tracks_t *tr, traf_t *out)
{
    span_t         s = traf, b;
    uint32_t       type, tf_flags = 0, def_dur = 0, def_flags = 0, i;
    const uint8_t *p, *end;
    track_t       *t = NULL;
    int            rc, first = 1;

    memset(out, 0, sizeof(*out));
    if (box_find(traf, FOURCC('t', 'f', 'h', 'd'), &b) != 1 || b.n < 8) {
        return -1;
    }
    tf_flags = rd32(b.p) & 0xffffff;
    out->track_id = rd32(b.p + 4);
    t = track_by_id(tr, out->track_id);
    if (t == NULL) {
        return -1;
    }
    def_dur = t->def_duration;
    def_flags = t->def_flags;
    p = b.p + 8;
    end = b.p + b.n;
    if (tf_flags & 0x1) { p += 8; }
    if (tf_flags & 0x2) { p += 4; }
    if (tf_flags & 0x8) {
        if (p + 4 > end) { return -1; }
        def_dur = rd32(p);
        p += 4;
    }
    if (tf_flags & 0x10) { p += 4; }
    if (tf_flags & 0x20) {
        if (p + 4 > end) { return -1; }
        def_flags = rd32(p);
    }
    out->first_flags = def_flags;

    while ((rc = box_next(&s, &type, &b)) == 1) {
        if (type == FOURCC('t', 'f', 'd', 't')) {
            if (b.n >= 12 && b.p[0] == 1) {
                out->tfdt = rd64(b.p + 4);
            } else if (b.n >= 8) {
                out->tfdt = rd32(b.p + 4);
            } else {
                return -1;
            }
            out->has_tfdt = 1;
        } else if (type == FOURCC('t', 'r', 'u', 'n')) {
            uint32_t fl, count, first_flags = 0;
            int      has_first = 0;

            if (b.n < 8) {
                return -1;
            }
            fl = rd32(b.p) & 0xffffff;
            count = rd32(b.p + 4);
            p = b.p + 8;
            end = b.p + b.n;
            if (fl & 0x1) { p += 4; }
            if (fl & 0x4) {
                if (p + 4 > end) { return -1; }
                first_flags = rd32(p);
                has_first = 1;
                p += 4;
            }
            if ((fl & 0xf00) == 0) {
                /* no per-sample fields: every sample has the defaults */
                if (count > 0 && first) {
                    out->first_flags = has_first ? first_flags : def_flags;
                    first = 0;
                }
                out->duration += (uint64_t) count * def_dur;
                continue;
            }
            if (count > (uint32_t) (end - p) / 4) {
                return -1;              /* more samples than the box holds */
            }
            for (i = 0; i < count; i++) {
                uint32_t dur = def_dur, sflags = def_flags;

                if (fl & 0x100) {
                    if (p + 4 > end) { return -1; }
                    dur = rd32(p);
                    p += 4;
                }
                if (fl & 0x200) { p += 4; }
                if (fl & 0x400) {
                    if (p + 4 > end) { return -1; }
                    sflags = rd32(p);
                    p += 4;
                }
                if (fl & 0x800) { p += 4; }
                if (p > end) {
                    return -1;
                }
                if (first) {
                    out->first_flags = (i == 0 && has_first) ? first_flags : sflags;
                    first = 0;
                }
                out->duration += dur;
            }
        }
    }
    return rc < 0 ? -1 : 0;
}

static int64_t
ts_to_us(uint64_t ts, uint32_t timescale)
{
    return (int64_t) ((unsigned __int128) ts * 1000000 / timescale);
}

/* ---- file scan ---- */

static int
read_at(int fd, void *buf, size_t n, uint64_t off)
{
    size_t  done = 0;
    ssize_t r;

    while (done < n) {
        r = pread(fd, (char *) buf + done, n - done, (off_t) (off + done));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return -1;
        }
        done += (size_t) r;
    }
    return 0;
}

/* Top-level box at off: type, total size, header size.  0 ok, 1 the file
 * ends inside the header or the box, -1 malformed. */
static int
top_box(int fd, uint64_t off, uint64_t fsize, uint32_t *type, uint64_t *size)
{
    uint8_t h[16];

    if (off + 8 > fsize) {
        return 1;
    }
    if (read_at(fd, h, 8, off) != 0) {
        return -1;
    }
    *type = rd32(h + 4);
    *size = rd32(h);
    if (*size == 1) {
        if (off + 16 > fsize || read_at(fd, h + 8, 8, off + 8) != 0) {
            return 1;
        }
        *size = rd64(h + 8);
    } else if (*size == 0) {
        *size = fsize - off;
    }
    if (*size < 8) {
        return -1;
    }
    return off + *size > fsize ? 1 : 0;
}

static void
parse_comment(span_t moov, int64_t *start_us, uint32_t *flags)
{
    static const char key[] = "vms start_us=";
    const uint8_t    *p = memmem(moov.p, moov.n, key, sizeof(key) - 1);
    char              buf[64];
    size_t            n;
    long long         s;
    unsigned          f = 0;

    if (p == NULL) {
        return;
    }
    n = (size_t) (moov.p + moov.n - p);
    n = n < sizeof(buf) - 1 ? n : sizeof(buf) - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    if (sscanf(buf, "vms start_us=%lld flags=%u", &s, &f) >= 1 && s > 0) {
        *start_us = s;
        *flags = f & VMS_SEG_DISCONTINUITY;
    }
}

int
vms_reconcile_scan(const char *file, int truncate, vms_index_segment_t *seg,
    vms_index_fragment_t **frags_out, char *err, size_t errlen)
{
    vms_index_fragment_t *frags = NULL;
    uint32_t              nfrags = 0, cap = 0, type, mtype;
    uint64_t              off = 0, size, msize, good_end = 0, fsize;
    uint64_t              first_tfdt = 0;
    uint8_t              *buf = NULL;
    struct stat           st;
    tracks_t              tr;
    int                   fd, rc, have_moov = 0, torn = 0, result = -1;
    int64_t               end_us = 0, media_us = 0;

    memset(seg, 0, sizeof(*seg));
    *frags_out = NULL;
    fd = open(file, (truncate ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    fsize = (uint64_t) st.st_size;

    for (;;) {
        rc = top_box(fd, off, fsize, &type, &size);
        if (rc != 0) {
            torn = rc > 0 && off < fsize;
            if (rc < 0) {
                snprintf(err, errlen, "%s: malformed box at offset %" PRIu64,
                         file, off);
                goto done;
            }
            break;
        }

        if (type == FOURCC('m', 'o', 'o', 'v')) {
            if (size > MAX_MOOV || (buf = malloc(size)) == NULL
                || read_at(fd, buf, size, off) != 0)
            {
                snprintf(err, errlen, "%s: cannot read moov", file);
                goto done;
            }
            span_t moov = { buf + 8, size - 8 };

            if (rd32(buf) == 1) {
                moov.p = buf + 16;
                moov.n = size - 16;
            }
            if (parse_moov(moov, &tr) != 0) {
                snprintf(err, errlen, "%s: moov without usable tracks", file);
                goto done;
            }
            parse_comment(moov, &seg->start_us, &seg->flags);
            free(buf);
            buf = NULL;
            have_moov = 1;
            seg->init_size = (uint32_t) (off + size);
            good_end = off + size;

        } else if (type == FOURCC('m', 'o', 'o', 'f')) {
            vms_index_fragment_t *f;
            span_t                moof, s, b;
            traf_t                t, keyt = { 0 };
            int                   have_key = 0, have_any = 0;

            if (!have_moov) {
                snprintf(err, errlen, "%s: moof before moov", file);
                goto done;
            }
            /* the mdat that carries its samples must be complete too */
            rc = top_box(fd, off + size, fsize, &mtype, &msize);
            if (rc != 0 || mtype != FOURCC('m', 'd', 'a', 't')) {
                torn = 1;
                break;
            }
            if (size > MAX_MOOF || (buf = malloc(size)) == NULL
                || read_at(fd, buf, size, off) != 0)
            {
                snprintf(err, errlen, "%s: cannot read moof at %" PRIu64, file, off);
                goto done;
            }
            moof.p = buf + 8;
            moof.n = size - 8;
            s = moof;
            while ((rc = box_next(&s, &type, &b)) == 1) {
                if (type != FOURCC('t', 'r', 'a', 'f')) {
                    continue;
                }
                if (parse_traf(b, &tr, &t) != 0) {
                    rc = -1;
                    break;
                }
                if (t.track_id == tr.t[tr.key].id) {
                    keyt = t;
                    have_key = 1;
                } else if (!have_key && !have_any) {
                    keyt = t;
                }
                have_any = 1;
            }
            free(buf);
            buf = NULL;
            if (rc < 0 || !have_any || !keyt.has_tfdt) {
                snprintf(err, errlen, "%s: malformed moof at %" PRIu64, file, off);
                goto done;
            }

            if (nfrags == cap) {
                uint32_t ncap = cap ? cap * 2 : 128;
                void    *q = realloc(frags, ncap * sizeof(*frags));

                if (q == NULL) {
                    snprintf(err, errlen, "out of memory");
                    goto done;
                }
                frags = q;
                cap = ncap;
            }
            {
                track_t *kt = track_by_id(&tr, keyt.track_id);
                int64_t  start;

                if (nfrags == 0) {
                    first_tfdt = keyt.tfdt;
                    media_us = ts_to_us(first_tfdt, kt->timescale);
                }
                start = ts_to_us(keyt.tfdt, kt->timescale)
                        - ts_to_us(first_tfdt, kt->timescale);
                f = &frags[nfrags++];
                f->offset = off;
                f->size = (uint32_t) (size + msize);
                f->flags = have_key && !(keyt.first_flags & 0x10000)
                           ? VMS_FRAG_KEY : 0;
                f->start_us = start;
                f->duration_us = ts_to_us(keyt.duration, kt->timescale);
                if (start + f->duration_us > end_us) {
                    end_us = start + f->duration_us;
                }
            }
            size += msize;
            good_end = off + size;
        } else {
            good_end = off + size;   /* ftyp, mfra, free...: complete, kept */
        }
        off += size;
    }

    if (!have_moov) {
        snprintf(err, errlen, "%s: no moov (not an MP4 the recorder wrote, or "
                 "cut inside its header)", file);
        goto done;
    }
    if (torn || good_end < fsize) {
        if (truncate) {
            if (ftruncate(fd, (off_t) good_end) != 0 || fsync(fd) != 0) {
                snprintf(err, errlen, "%s: truncating to %" PRIu64 ": %s", file,
                         good_end, strerror(errno));
                goto done;
            }
            result = 1;
        }
    }
    if (result != 1) {
        result = 0;
    }
    seg->bytes = good_end;
    seg->duration_us = end_us;
    if (nfrags > 0) {
        seg->flags |= VMS_SEG_MEDIA_TIME;
        seg->media_time_us = media_us;
    }
    seg->nfrags = nfrags;
    seg->frags = frags;
    *frags_out = frags;
    frags = NULL;

done:
    free(buf);
    free(frags);
    close(fd);
    return result;
}

/* ---- camera reconciliation ---- */

typedef struct {
    char    **v;
    size_t    n, cap;
} strset_t;

static int
strset_add(strset_t *s, const char *p)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 256;
        void  *q = realloc(s->v, ncap * sizeof(char *));

        if (q == NULL) {
            return -1;
        }
        s->v = q;
        s->cap = ncap;
    }
    s->v[s->n] = strdup(p);
    if (s->v[s->n] == NULL) {
        return -1;
    }
    s->n++;
    return 0;
}

static int
str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

static int
strset_has(const strset_t *s, const char *p)
{
    return s->n > 0 && bsearch(&p, s->v, s->n, sizeof(char *), str_cmp) != NULL;
}

static void
strset_free(strset_t *s)
{
    size_t i;

    for (i = 0; i < s->n; i++) {
        free(s->v[i]);
    }
    free(s->v);
}

typedef struct {
    const char            *root;
    const char            *camera_id;
    const char            *tmpl;
    char                   camera_dir[PATH_MAX];
    unsigned               flags;
    strset_t               indexed;
    int64_t                open_start;       /* from the open record */
    char                   open_path[VMS_INDEX_PATH_MAX];
    vms_reconcile_stats_t *st;
} rc_ctx_t;

static void
index_orphan(rc_ctx_t *c, const char *rel, const char *full)
{
    vms_index_segment_t   seg;
    vms_index_fragment_t *frags = NULL;
    char                  err[512], name[VMS_INDEX_PATH_MAX];
    int                   rc, cut;
    size_t                n;

    rc = vms_reconcile_scan(full, 1, &seg, &frags, err, sizeof(err));
    cut = rc == 1;
    if (rc < 0) {
        vms_log_warn(c->camera_id, "reconcile: %s left unindexed: %s", rel, err);
        c->st->failed++;
        return;
    }
    if (seg.nfrags == 0) {
        vms_log_warn(c->camera_id, "reconcile: %s holds no complete fragment; "
                     "removed", rel);
        unlink(full);
        vms_fsync_parent(full);
        c->st->deleted++;
        free(frags);
        return;
    }
    if (seg.start_us <= 0 && c->open_start > 0 && strcmp(rel, c->open_path) == 0) {
        seg.start_us = c->open_start;
    }
    if (seg.start_us <= 0) {
        /* Not written by this recorder version: date it by its name. */
        n = strlen(rel);
        memcpy(name, rel, n + 1);           /* walk() checked the length */
        if (n > 4 && strcmp(name + n - 4, ".mp4") == 0) {
            name[n - 4] = '\0';
        }
        if (vms_segpath_parse(c->tmpl, c->camera_id, name, &seg.start_us) != 0) {
            vms_log_warn(c->camera_id, "reconcile: %s left unindexed: no start "
                         "time in the file and its name does not match the "
                         "path template", rel);
            c->st->failed++;
            free(frags);
            return;
        }
    }
    if (cut) {
        c->st->truncated++;
    }
    vms_fsync_parent(full);
    memcpy(seg.path, rel, strlen(rel) + 1);
    rc = vms_index_append_e(c->camera_dir, &seg, err, sizeof(err));
    if (rc != 0) {
        vms_log_error(c->camera_id, "reconcile: indexing %s failed: %s", rel, err);
        c->st->failed++;
    } else {
        vms_log_info(c->camera_id, "reconcile: indexed %s (%.3f s, %u fragments, "
                     "%" PRIu64 " bytes%s)", rel, (double) seg.duration_us / 1e6,
                     seg.nfrags, seg.bytes, cut ? ", torn fragment cut" : "");
        c->st->indexed++;
    }
    free(frags);
}

/* Walks dir (rel: its path below the camera directory, "" at the top). */
static void
walk(rc_ctx_t *c, const char *dir, const char *rel, int depth)
{
    DIR           *d;
    struct dirent *de;
    struct stat    st;
    char           full[PATH_MAX], sub[VMS_INDEX_PATH_MAX + 256];
    size_t         n;

    if (depth > 16 || (d = opendir(dir)) == NULL) {
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;                 /* ".", "..", ".index", temp files */
        }
        if (snprintf(full, sizeof(full), "%s/%s", dir, de->d_name) >= (int) sizeof(full)
            || snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "",
                        de->d_name) >= (int) sizeof(sub))
        {
            continue;
        }
        if (lstat(full, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            walk(c, full, sub, depth + 1);
            /* Remove it when the walk left it empty; at run time only an old
             * one (the recorder may have just made it for a new segment). */
            if (((c->flags & VMS_RECONCILE_ORPHANS)
                 || time(NULL) - st.st_mtime > RUNTIME_DIR_AGE)
                && rmdir(full) == 0)
            {
                vms_fsync_dir(dir);
            }
            continue;
        }
        n = strlen(sub);
        if (!S_ISREG(st.st_mode) || n < 4 || strcmp(sub + n - 4, ".mp4") != 0
            || !(c->flags & VMS_RECONCILE_ORPHANS) || strlen(sub) >= VMS_INDEX_PATH_MAX
            || strset_has(&c->indexed, sub))
        {
            continue;
        }
        index_orphan(c, sub, full);
    }
    closedir(d);
}

int
vms_reconcile_camera(const char *root, const char *camera_id, const char *tmpl,
    unsigned flags, vms_reconcile_stats_t *stats)
{
    vms_index_reader_t   *r;
    vms_index_result_t    res;
    vms_reconcile_stats_t local;
    rc_ctx_t              c;
    struct stat           st;
    char                  err[512], file[PATH_MAX * 2];
    size_t                i;
    int                   rc;

    memset(&c, 0, sizeof(c));
    memset(&local, 0, sizeof(local));
    c.root = root;
    c.camera_id = camera_id;
    c.tmpl = tmpl ? tmpl : VMS_SEGPATH_DEFAULT;
    c.flags = flags;
    c.st = stats ? stats : &local;
    memset(c.st, 0, sizeof(*c.st));
    snprintf(c.camera_dir, sizeof(c.camera_dir), "%s/%s", root, camera_id);

    if (stat(c.camera_dir, &st) != 0) {
        return 0;                       /* nothing recorded yet */
    }

    r = vms_index_reader_new(8);
    if (r == NULL) {
        return -1;
    }
    rc = vms_index_query(r, c.camera_dir, 1,
                         vms_now_us() + 2 * 86400 * INT64_C(1000000),
                         &res, err, sizeof(err));
    if (rc != 0 && rc != VMS_INDEX_ENOINDEX) {
        vms_log_error(camera_id, "reconcile: %s", err);
        vms_index_reader_free(r);
        return -1;
    }
    if (rc == VMS_INDEX_ENOINDEX) {
        res.n = 0;
    }

    for (i = 0; i < res.n; i++) {
        const vms_index_entry_t *e = &res.v[i];

        if (e->flags & VMS_SEG_OPEN) {
            c.open_start = e->start_us;
            snprintf(c.open_path, sizeof(c.open_path), "%s", e->path);
            continue;
        }
        snprintf(file, sizeof(file), "%s/%s", c.camera_dir, e->path);
        if (stat(file, &st) == 0 || errno != ENOENT) {
            if (strset_add(&c.indexed, e->path) != 0) {
                goto nomem;
            }
            continue;
        }
        rc = vms_index_remove_e(c.camera_dir, e->start_us, err, sizeof(err));
        if (rc != 0) {
            vms_log_error(camera_id, "reconcile: %s", err);
            continue;
        }
        vms_log_warn(camera_id, "reconcile: %s vanished; removed from the index",
                     e->path);
        c.st->removed++;
    }
    vms_index_reader_free(r);
    r = NULL;

    if (c.indexed.n > 1) {
        qsort(c.indexed.v, c.indexed.n, sizeof(char *), str_cmp);
    }
    walk(&c, c.camera_dir, "", 0);

    if (flags & VMS_RECONCILE_ORPHANS) {
        /* whatever the open record said is settled now */
        vms_index_write_open(c.camera_dir, NULL);
    }
    if (c.st->removed + c.st->indexed + c.st->deleted + c.st->failed > 0) {
        vms_log_info(camera_id, "reconcile: %u vanished entries removed, %u "
                     "files indexed (%u cut at a torn fragment), %u unplayable "
                     "removed, %u left alone", c.st->removed, c.st->indexed,
                     c.st->truncated, c.st->deleted, c.st->failed);
    }
    strset_free(&c.indexed);
    return 0;

nomem:
    vms_log_error(camera_id, "reconcile: out of memory");
    vms_index_reader_free(r);
    strset_free(&c.indexed);
    return -1;
}
