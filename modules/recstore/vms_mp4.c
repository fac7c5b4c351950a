/* MP4 boxes and the fragmented MP4 scanner (see vms_mp4.h). */
#include "vms_mp4.h"
#include "vms_fileio.h"
#include "vms_bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TRACKS 16

typedef struct {
    uint32_t id, timescale, def_dur, def_flags;
    int      video;
} track_t;

typedef struct {
    track_t  t[MAX_TRACKS];
    int      n;
} tracks_t;

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static track_t *
track_by_id(tracks_t *ts, uint32_t id)
{
    for (int i = 0; i < ts->n; i++) {
        if (ts->t[i].id == id) {
            return &ts->t[i];
        }
    }
    return NULL;
}

/* The recorder's "vms start_us=N flags=F" comment tag in a moov image. */
static void
parse_tag(const unsigned char *moov, size_t len, int64_t *start_us, uint32_t *flags)
{
    static const char key[] = "vms start_us=";
    const unsigned char *p = memmem(moov, len, key, sizeof(key) - 1);
    char buf[64];
    long long s;
    unsigned f = 0;

    if (p == NULL) {
        return;
    }
    size_t n = (size_t) (moov + len - p);
    n = n < sizeof(buf) - 1 ? n : sizeof(buf) - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    if (sscanf(buf, "vms start_us=%lld flags=%u", &s, &f) >= 1 && s > 0) {
        *start_us = s;
        *flags = f & VMS_SEG_DISCONTINUITY;
    }
}

static int
parse_moov(const unsigned char *b, size_t len, tracks_t *ts)
{
    size_t off = 0, ps, pe;
    char type[5];
    while (off < len) {
        if (vms_mp4_box(b, len, &off, type, &ps, &pe) < 0) {
            return -1;
        }
        if (strcmp(type, "trak") == 0 && ts->n < MAX_TRACKS) {
            track_t *t = &ts->t[ts->n++];
            vms_mp4_trak_t k;
            memset(t, 0, sizeof(*t));
            vms_mp4_trak(b, ps, pe, &k);
            t->id = k.id;
            t->timescale = k.timescale;
            t->video = k.video;
        } else if (strcmp(type, "mvex") == 0) {
            size_t o2 = ps, s2, e2;
            while (o2 < pe && vms_mp4_box(b, pe, &o2, type, &s2, &e2) == 0) {
                if (strcmp(type, "trex") == 0 && e2 - s2 >= 24) {
                    track_t *t = track_by_id(ts, vms_be32(b + s2 + 4));
                    if (t != NULL) {
                        t->def_dur = vms_be32(b + s2 + 12);
                        t->def_flags = vms_be32(b + s2 + 20);
                    }
                }
            }
        }
    }
    return 0;
}

/* Decode time, duration (track units) and keyframe of track tr in a moof. */
/* Media ticks to microseconds; -1 when the result would not fit (a hostile
 * or corrupt file: ~292,000 years is not a recording). */
static int
ticks_to_us(uint64_t ticks, uint32_t timescale, int64_t *us)
{
    double  v = (double) ticks * 1000000.0 / timescale + 0.5;

    if (!(v < 9.0e18)) {
        return -1;
    }
    *us = (int64_t) v;
    return 0;
}


static int
parse_moof(const unsigned char *b, size_t len, const track_t *tr, uint64_t *tfdt, uint64_t *dur,
    int *key, int *found)
{
    size_t off = 0, ps, pe;
    char type[5];
    *found = 0;
    while (off < len) {
        if (vms_mp4_box(b, len, &off, type, &ps, &pe) < 0) {
            return -1;
        }
        if (strcmp(type, "traf") != 0) {
            continue;
        }
        uint32_t def_dur = tr->def_dur, def_flags = tr->def_flags, id = 0;
        uint64_t t0 = 0, d = 0;
        int k = -1, have_tfdt = 0;
        size_t o2 = ps, s2, e2;
        while (o2 < pe) {
            if (vms_mp4_box(b, pe, &o2, type, &s2, &e2) < 0) {
                return -1;
            }
            const unsigned char *p = b + s2;
            size_t n = e2 - s2;
            if (strcmp(type, "tfhd") == 0 && n >= 8) {
                uint32_t fl = vms_be32(p) & 0xffffff;
                size_t q = 8;
                id = vms_be32(p + 4);
                if (fl & 0x1) { q += 8; }
                if (fl & 0x2) { q += 4; }
                if (fl & 0x8) { if (q + 4 > n) { return -1; } def_dur = vms_be32(p + q); q += 4; }
                if (fl & 0x10) { q += 4; }
                if (fl & 0x20) { if (q + 4 > n) { return -1; } def_flags = vms_be32(p + q); }
            } else if (strcmp(type, "tfdt") == 0 && n >= 8) {
                t0 = p[0] == 1 ? (n >= 12 ? vms_be64(p + 4) : 0) : vms_be32(p + 4);
                have_tfdt = 1;
            } else if (strcmp(type, "trun") == 0 && n >= 8) {
                uint32_t fl = vms_be32(p) & 0xffffff, cnt = vms_be32(p + 4);
                size_t q = 8;
                uint32_t first_flags = 0;
                int have_first = 0;
                if (fl & 0x1) { q += 4; }
                if (fl & 0x4) { if (q + 4 > n) { return -1; } first_flags = vms_be32(p + q); q += 4; have_first = 1; }
                if (q > n) {
                    return -1;
                }
                size_t per = ((fl & 0x100) ? 4 : 0) + ((fl & 0x200) ? 4 : 0) + ((fl & 0x400) ? 4 : 0)
                             + ((fl & 0x800) ? 4 : 0);
                if (per && (n - q) / per < cnt) {
                    return -1;
                }
                if (per == 0 && cnt > 0) {
                    /* every sample takes the defaults: no loop over a count the file chose */
                    if (k < 0) {
                        k = !((have_first ? first_flags : def_flags) & 0x10000);
                    }
                    d += (uint64_t) def_dur * cnt;
                    cnt = 0;
                }
                for (uint32_t i = 0; i < cnt; i++) {
                    uint32_t sd = def_dur, sf = def_flags;
                    if (fl & 0x100) { sd = vms_be32(p + q); q += 4; }
                    if (fl & 0x200) { q += 4; }
                    if (fl & 0x400) { sf = vms_be32(p + q); q += 4; }
                    if (fl & 0x800) { q += 4; }
                    if (i == 0 && have_first) {
                        sf = first_flags;
                    }
                    if (k < 0) {
                        k = !(sf & 0x10000);   /* sample_is_non_sync_sample clear */
                    }
                    d += sd;
                }
            }
        }
        if (id == tr->id) {
            if (!have_tfdt) {
                return -1;
            }
            *tfdt = t0;
            *dur = d;
            *key = k > 0;
            *found = 1;
        }
    }
    return 0;
}

int
vms_mp4_scan_fd(int fd, vms_mp4_info_t *info, char *err, size_t errlen)
{
    struct stat st;
    memset(info, 0, sizeof(*info));
    if (fstat(fd, &st) < 0) {
        return fail(err, errlen, "stat: %s", strerror(errno));
    }
    uint64_t size = (uint64_t) st.st_size, off = 0;
    info->bytes = size;
    tracks_t ts = { .n = 0 };
    const track_t *tr = NULL;
    int have_moov = 0;
    uint32_t moov_end = 0;
    size_t cap = 0;
    int64_t first_tfdt = -1;
    uint64_t cur_moof = 0;
    int in_frag = 0;
    uint64_t frag_end = 0;
    int pending = 0;        /* a moof whose mdat has not come yet */
    unsigned char *buf = NULL;
    int rc = 0;

    while (off + 8 <= size) {
        unsigned char h[16];
        if (vms_pread_all(fd, h, 8, (off_t) off) < 0) {
            rc = fail(err, errlen, "read error at %llu", (unsigned long long) off);
            break;
        }
        uint64_t sz = vms_be32(h), hdr = 8;
        char type[5];
        memcpy(type, h + 4, 4);
        type[4] = 0;
        if (sz == 1) {
            if (off + 16 > size || vms_pread_all(fd, h + 8, 8, (off_t) (off + 8)) < 0) {
                break;
            }
            sz = vms_be64(h + 8);
            hdr = 16;
        } else if (sz == 0) {
            sz = size - off;
        }
        if (sz < hdr) {
            rc = fail(err, errlen, "invalid box size at offset %llu", (unsigned long long) off);
            break;
        }
        if (sz > size - off) {
            break;          /* cut short: keep the complete fragments */
        }
        if (strcmp(type, "moov") == 0 || strcmp(type, "moof") == 0) {
            if (sz - hdr > (64u << 20)) {
                rc = fail(err, errlen, "%s box too large at offset %llu", type, (unsigned long long) off);
                break;
            }
            free(buf);
            buf = malloc((size_t) (sz - hdr) + 1);
            if (buf == NULL || vms_pread_all(fd, buf, (size_t) (sz - hdr), (off_t) (off + hdr)) < 0) {
                rc = fail(err, errlen, "cannot read %s at offset %llu", type, (unsigned long long) off);
                break;
            }
        }
        if (strcmp(type, "moov") == 0) {
            if (have_moov) {
                rc = fail(err, errlen, "second moov at offset %llu", (unsigned long long) off);
                break;
            }
            if (off + sz > UINT32_MAX) {
                rc = fail(err, errlen, "moov past 4 GiB");
                break;
            }
            if (parse_moov(buf, (size_t) (sz - hdr), &ts) < 0 || ts.n == 0) {
                rc = fail(err, errlen, "malformed moov");
                break;
            }
            have_moov = 1;
            parse_tag(buf, (size_t) (sz - hdr), &info->tag_start_us, &info->tag_flags);
            info->init_size = moov_end = (uint32_t) (off + sz);
            tr = &ts.t[0];
            for (int i = 0; i < ts.n; i++) {
                if (ts.t[i].video) {
                    tr = &ts.t[i];
                    break;
                }
            }
            if (tr->timescale == 0) {
                rc = fail(err, errlen, "track %u has no timescale", tr->id);
                break;
            }
        } else if (strcmp(type, "moof") == 0) {
            if (!have_moov) {
                rc = fail(err, errlen, "moof before moov (not a fragmented MP4 with an init section)");
                break;
            }
            if (in_frag) {
                info->frags[info->nfrags - 1].size = (uint32_t) (off - cur_moof);
            }
            pending = 1;
            uint64_t tfdt, dur;
            int key, found;
            if (parse_moof(buf, (size_t) (sz - hdr), tr, &tfdt, &dur, &key, &found) < 0) {
                rc = fail(err, errlen, "malformed moof at offset %llu", (unsigned long long) off);
                break;
            }
            if (!found) {
                /* another track's fragment: belongs to the current video
                 * fragment (its mdat extends it) */
                off += sz;
                continue;
            }
            if (info->nfrags == 0) {
                info->init_size = (uint32_t) off;
            }
            if (info->nfrags == cap) {
                cap = cap ? cap * 2 : 64;
                vms_index_fragment_t *nf = realloc(info->frags, cap * sizeof(*nf));
                if (nf == NULL) {
                    rc = fail(err, errlen, "out of memory");
                    break;
                }
                info->frags = nf;
            }
            int64_t t_us, d_us;
            if (ticks_to_us(tfdt, tr->timescale, &t_us) < 0
                || ticks_to_us(dur, tr->timescale, &d_us) < 0)
            {
                rc = fail(err, errlen, "moof at offset %llu: time out of range",
                          (unsigned long long) off);
                break;
            }
            if (first_tfdt < 0) {
                first_tfdt = t_us;
            }
            vms_index_fragment_t *f = &info->frags[info->nfrags++];
            f->offset = off;
            f->size = 0;
            f->flags = key ? VMS_FRAG_KEY : 0;
            f->start_us = t_us - first_tfdt;
            f->duration_us = d_us;
            cur_moof = off;
            in_frag = 1;
            frag_end = 0;
        } else if (strcmp(type, "mdat") == 0 && in_frag) {
            frag_end = off + sz;
            info->frags[info->nfrags - 1].size = (uint32_t) (frag_end - cur_moof);
        } else if (in_frag && frag_end != 0) {
            in_frag = 0;     /* mfra etc.: the fragment ended with its mdat */
        }
        if (strcmp(type, "mdat") == 0) {
            pending = 0;
        }
        if (!pending) {
            info->complete = off + sz;
        }
        off += sz;
    }
    free(buf);
    if (rc == 0 && !have_moov) {
        rc = fail(err, errlen, "no moov box (not an MP4 file, or cut short)");
    }
    /* trailing fragments that are not whole (a moof without its mdat, or
     * one that runs into the torn part) are not part of the file's
     * complete prefix */
    while (rc == 0 && info->nfrags > 0) {
        const vms_index_fragment_t *t = &info->frags[info->nfrags - 1];

        if (t->size != 0 && t->offset + t->size <= info->complete) {
            break;
        }
        info->nfrags--;
    }
    if (rc < 0) {
        vms_mp4_info_free(info);
        return -1;
    }
    if (info->nfrags == 0) {
        info->init_size = moov_end;     /* a moof seen but dropped is no part of it */
        return 0;
    }
    const vms_index_fragment_t *last = &info->frags[info->nfrags - 1];
    info->duration_us = last->start_us + last->duration_us;
    info->media_time_us = first_tfdt;
    return 0;
}

int
vms_mp4_scan(const char *path, vms_mp4_info_t *info, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        return fail(err, errlen, "open: %s", strerror(errno));
    }
    int rc = vms_mp4_scan_fd(fd, info, err, errlen);
    close(fd);
    return rc;
}

void
vms_mp4_info_free(vms_mp4_info_t *info)
{
    free(info->frags);
    info->frags = NULL;
    info->nfrags = 0;
}

int
vms_mp4_segment(const vms_mp4_info_t *info, int64_t name_start_us, vms_index_segment_t *seg)
{
    memset(seg, 0, sizeof(*seg));
    seg->start_us = info->tag_start_us > 0 ? info->tag_start_us : name_start_us;
    seg->duration_us = info->duration_us;
    seg->bytes = info->complete;
    seg->init_size = info->init_size;
    seg->flags = info->tag_flags | (info->nfrags > 0 ? VMS_SEG_MEDIA_TIME : 0);
    seg->media_time_us = info->media_time_us;
    seg->nfrags = info->nfrags;
    seg->frags = info->frags;
    return info->nfrags == 0 || seg->start_us <= 0 ? -1 : 0;
}
