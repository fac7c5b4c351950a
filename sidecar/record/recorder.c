/*
 * Recorder: stream copy of one camera connection into fragmented MP4
 * segments; see recorder.h and docs/recording.md.
 *
 * libavformat's mp4 muxer runs with +frag_custom: it cuts a fragment only
 * when we call av_write_frame(oc, NULL), so every fragment boundary is ours.
 * Its output goes through an AVIOContext whose write callback appends to the
 * segment file and counts bytes, so after avio_flush() the byte count is the
 * exact offset of the next moof: that is how the fragment table of the index
 * is built without parsing MP4.
 *
 * The video stream (else the first audio stream) is the "key" stream: it
 * cuts fragments and segments.  Its packets are held back by one, so each
 * one's duration is the distance to the next (RTSP gives none), which makes
 * fragments and consecutive segments exactly contiguous.
 *
 * Time: the connection's first packet is anchored to the wall clock given at
 * open; everything after that is the stream's own timestamps.  Each file
 * starts at zero (its keyframe); its exact UTC start is in the index and in
 * the file's "comment" tag, and the next segment of the connection starts
 * exactly where this one ends.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavutil/avstring.h>
#include <libavutil/mathematics.h>

#include "vms_index.h"
#include "log.h"
#include "recfs.h"
#include "recorder.h"
#include "vms_segpath.h"
#include "util.h"

#define REC_IOBUF            65536
/* A timestamp step beyond these is a new timeline, not jitter. */
#define REC_JUMP_BACK_US     1000000
#define REC_JUMP_FWD_US      10000000
#define REC_DEFAULT_DUR_US   40000
#define REC_LOG_EVERY        500

typedef struct {
    int         out;          /* output stream index, -1: not recorded */
    int         video;
    AVRational  tb;           /* input time base */
    AVCodecParameters *par;
    int64_t     base;         /* connection origin in tb, or AV_NOPTS_VALUE */
    int64_t     last_dts;     /* last accepted dts (rebased), or NOPTS */
    int64_t     last_dur;     /* last known packet duration (tb) */
    int64_t     seg_base;     /* segment start in tb: the file's zero */
    int         seg_seen;     /* a packet of this stream is in the file */
} rec_stream_t;

struct vms_recorder_s {
    char            *camera_id;
    char            *root;
    char            *tmpl;
    char             camera_dir[PATH_MAX];
    int64_t          segment_us;
    int64_t          fragment_us;
    vms_segment_closed_pt  on_closed;
    void            *data;
    vms_recorder_clock_pt  clock;
    void            *clock_data;

    rec_stream_t    *st;
    int              nst;
    int              key;           /* input index of the key stream */

    int64_t          anchor_us;     /* UTC of the first packet */
    int64_t          first_raw_us;  /* its stream time, or NOPTS */
    int64_t          origin_raw_us; /* stream time of the origin (1st key) */
    int              have_origin;
    int              discont;       /* next segment starts a timeline */

    AVPacket        *held;          /* key-stream packet held back by one */
    int              has_held;

    /* the open segment */
    AVFormatContext *oc;
    AVIOContext     *pb;
    int              fd;
    int              io_error;
    char             relpath[VMS_INDEX_PATH_MAX];
    char             fullpath[PATH_MAX];
    uint64_t         written;
    uint32_t         init_size;
    uint32_t         seg_flags;
    int64_t          seg_start_t;   /* us since origin */
    int64_t          seg_start_utc;
    int64_t          seg_end_t;
    vms_index_fragment_t *frags;
    uint32_t         nfrags;
    uint32_t         frags_cap;
    uint64_t         frag_off;
    int64_t          frag_start_t;
    int              frag_key;      /* its first key-stream packet is a key */
    int              frag_keyseen;  /* it has a key-stream packet */
    int              frag_pkts;

    int              new_params;    /* extradata changed: cut at next key */
    uint64_t         packets;       /* given to vms_recorder_write() */
    uint64_t         fixed_ts;      /* counters for rate-limited logs */
    uint64_t         dropped;
    vms_fence_t     *fence;         /* NULL: never shut */
    int              fenced;        /* the fence shut on this segment */
    vms_buf_t        held_bytes;    /* the segment's bytes while the fence
                                       is PENDING, written once it opens */
};

static void rec_segment_close(vms_recorder_t *rec, const char *why);

/* ---- output I/O: append to the segment file, count every byte ---- */

static int
rec_write_all(vms_recorder_t *rec, const uint8_t *buf, size_t size)
{
    size_t   done = 0;
    ssize_t  n;

    while (done < size) {
        n = write(rec->fd, buf + done, size - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            rec->io_error = errno;
            return -1;
        }
        done += (size_t) n;
    }
    return 0;
}

#if LIBAVFORMAT_VERSION_MAJOR >= 61
static int rec_io_write(void *opaque, const uint8_t *buf, int size)
#else
static int rec_io_write(void *opaque, uint8_t *buf, int size)
#endif
{
    vms_recorder_t *rec = opaque;

    switch (vms_fence_state(rec->fence)) {
    case VMS_FENCE_SHUT:
        atomic_fetch_add(&rec->fence->refused, 1);
        break;
    case VMS_FENCE_PENDING:
        /* Redis did not confirm the lease in time: keep the bytes until it
         * does (fence.h), up to lease_hold_max */
        if ((int64_t) (rec->held_bytes.len + (size_t) size)
            <= rec->fence->hold_max
            && vms_buf_append(&rec->held_bytes, buf, (size_t) size) == 0)
        {
            if (rec->held_bytes.len == (size_t) size) {
                vms_log_warn(rec->camera_id, "recorder: lease not confirmed"
                             " (Redis?): holding %s's bytes in memory",
                             rec->relpath);
            }
            rec->written += (uint64_t) size;
            return size;
        }
        vms_log_error(rec->camera_id, "recorder: lease still not confirmed"
                      " after %zu bytes held: %s is dropped", rec->held_bytes.len,
                      rec->relpath);
        break;
    case VMS_FENCE_OPEN:
        if (rec->held_bytes.len > 0) {
            size_t held = rec->held_bytes.len;

            if (rec_write_all(rec, (const uint8_t *) rec->held_bytes.p, held)
                != 0)
            {
                return AVERROR(rec->io_error);
            }
            vms_buf_free(&rec->held_bytes);
            vms_log_info(rec->camera_id, "recorder: lease confirmed again;"
                         " %zu held bytes written", held);
        }
        if (rec_write_all(rec, buf, (size_t) size) != 0) {
            return AVERROR(rec->io_error);
        }
        rec->written += (uint64_t) size;
        return size;
    }
    rec->fenced = 1;
    rec->io_error = EPERM;
    vms_buf_free(&rec->held_bytes);
    return AVERROR(EPERM);
}

/* ---- time ---- */

static int64_t
to_us(int64_t ts, AVRational tb)
{
    return av_rescale_q(ts, tb, AV_TIME_BASE_Q);
}

static int64_t
from_us(int64_t us, AVRational tb)
{
    return av_rescale_q(us, AV_TIME_BASE_Q, tb);
}

static int64_t
rec_now_us(const vms_recorder_t *rec)
{
    return rec->clock != NULL ? rec->clock(rec->clock_data) : vms_now_us();
}

/* Packet time in microseconds since the connection's origin. */
static int64_t
rec_t(const vms_recorder_t *rec, int i, int64_t dts)
{
    return to_us(dts, rec->st[i].tb);
}

/* ---- open ---- */

vms_recorder_t *
vms_recorder_open(const vms_recorder_conf_t *conf, const AVFormatContext *in,
    int64_t wallclock_us)
{
    const AVOutputFormat *mp4 = av_guess_format("mp4", NULL, NULL);
    vms_recorder_t       *rec;
    char                  err[160];
    unsigned              i;
    int                   nout = 0, n;

    if (vms_segpath_check(conf->path_template, err, sizeof(err)) != 0) {
        vms_log_error(conf->camera_id, "recorder: %s", err);
        return NULL;
    }
    if (mp4 == NULL) {
        vms_log_error(conf->camera_id, "recorder: libavformat has no mp4 muxer");
        return NULL;
    }

    rec = calloc(1, sizeof(*rec));
    if (rec == NULL) {
        return NULL;
    }
    rec->fd = -1;
    rec->camera_id = strdup(conf->camera_id);
    rec->root = strdup(conf->root);
    rec->fence = conf->fence;
    rec->tmpl = strdup(conf->path_template);
    rec->segment_us = conf->segment_us > 0 ? conf->segment_us : 60000000;
    rec->fragment_us = conf->fragment_us > 0 ? conf->fragment_us : 1000000;
    rec->on_closed = conf->on_segment_closed;
    rec->data = conf->data;
    rec->anchor_us = wallclock_us;
    rec->clock = conf->clock;
    rec->clock_data = conf->clock_data;
    rec->first_raw_us = AV_NOPTS_VALUE;
    rec->discont = 1;
    rec->key = -1;
    rec->held = av_packet_alloc();
    rec->nst = (int) in->nb_streams;
    rec->st = calloc(in->nb_streams ? in->nb_streams : 1, sizeof(rec_stream_t));
    n = snprintf(rec->camera_dir, sizeof(rec->camera_dir), "%s/%s",
                 conf->root, conf->camera_id);

    if (rec->camera_id == NULL || rec->root == NULL || rec->tmpl == NULL
        || rec->held == NULL || rec->st == NULL || n < 0
        || (size_t) n >= sizeof(rec->camera_dir))
    {
        vms_log_error(conf->camera_id, "recorder: out of memory");
        vms_recorder_close(rec);
        return NULL;
    }

    for (i = 0; i < in->nb_streams; i++) {
        const AVStream    *s = in->streams[i];
        const AVCodecParameters *p = s->codecpar;
        rec_stream_t      *rs = &rec->st[i];
        const char        *cname = avcodec_get_name(p->codec_id);

        rs->out = -1;
        rs->tb = s->time_base;
        rs->base = AV_NOPTS_VALUE;
        rs->last_dts = AV_NOPTS_VALUE;

        if (p->codec_type != AVMEDIA_TYPE_VIDEO
            && p->codec_type != AVMEDIA_TYPE_AUDIO)
        {
            vms_log_info(rec->camera_id, "recorder: stream %u (%s %s) not "
                         "recorded: only video and audio are", i,
                         av_get_media_type_string(p->codec_type) ?
                         av_get_media_type_string(p->codec_type) : "data",
                         cname);
            continue;
        }
        if (s->disposition & AV_DISPOSITION_ATTACHED_PIC) {
            continue;
        }
        if (avformat_query_codec(mp4, p->codec_id, FF_COMPLIANCE_NORMAL) != 1) {
            vms_log_warn(rec->camera_id, "recorder: stream %u (%s) not "
                         "recorded: MP4 cannot hold %s", i,
                         av_get_media_type_string(p->codec_type), cname);
            continue;
        }
        rs->par = avcodec_parameters_alloc();
        if (rs->par == NULL || avcodec_parameters_copy(rs->par, p) < 0) {
            vms_log_error(rec->camera_id, "recorder: out of memory");
            vms_recorder_close(rec);
            return NULL;
        }
        rs->video = p->codec_type == AVMEDIA_TYPE_VIDEO;
        rs->out = nout++;
        if (rec->key < 0 || (rs->video && !rec->st[rec->key].video)) {
            rec->key = (int) i;
        }
    }

    if (rec->key < 0) {
        vms_log_error(rec->camera_id, "recorder: no stream MP4 can hold "
                      "(%u streams in the input)", in->nb_streams);
        vms_recorder_close(rec);
        return NULL;
    }
    vms_log_info(rec->camera_id, "recorder: recording %d stream(s), "
                 "segments of %" PRId64 " ms, fragments of %" PRId64 " ms",
                 nout, rec->segment_us / 1000, rec->fragment_us / 1000);
    return rec;
}

/* ---- segment open ---- */

static int
rec_open_file(vms_recorder_t *rec, const char *expanded)
{
    const char *rel = vms_segpath_relative(expanded, rec->camera_id);
    char        dir[PATH_MAX];
    char       *slash;
    int         k, rc;

    if (!vms_fence_pass(rec->fence)) {
        vms_log_warn(rec->camera_id, "recorder: fenced (the camera's lease is"
                     " not confirmed): no new segment");
        return -EPERM;
    }
    for (k = 0; k < 10; k++) {
        /* Two segments in one second (a fast reconnect) get "_1", "_2"... */
        if (k == 0) {
            rc = snprintf(rec->relpath, sizeof(rec->relpath), "%s.mp4", rel);
        } else {
            rc = snprintf(rec->relpath, sizeof(rec->relpath), "%s_%d.mp4",
                          rel, k);
        }
        if (rc < 0 || (size_t) rc >= sizeof(rec->relpath)) {
            vms_log_error(rec->camera_id, "recorder: segment path longer than "
                          "%d bytes: %s", VMS_INDEX_PATH_MAX - 1, rel);
            return -ENAMETOOLONG;
        }
        rc = snprintf(rec->fullpath, sizeof(rec->fullpath), "%s/%s",
                      rec->camera_dir, rec->relpath);
        if (rc < 0 || (size_t) rc >= sizeof(rec->fullpath)) {
            return -ENAMETOOLONG;
        }
        if (k == 0) {
            memcpy(dir, rec->fullpath, (size_t) rc + 1);
            slash = strrchr(dir, '/');
            *slash = '\0';
            rc = vms_mkdir_durable(rec->root, dir);
            if (rc != 0) {
                vms_log_error(rec->camera_id, "recorder: cannot create %s: %s",
                              dir, strerror(-rc));
                return rc;
            }
        }
        rec->fd = open(rec->fullpath,
                       O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (rec->fd >= 0) {
            return 0;
        }
        if (errno != EEXIST) {
            rc = -errno;
            vms_log_error(rec->camera_id, "recorder: cannot create %s: %s",
                          rec->fullpath, strerror(errno));
            return rc;
        }
    }
    vms_log_error(rec->camera_id, "recorder: %s and 9 alternatives exist",
                  rec->fullpath);
    return -EEXIST;
}

/* Opens a segment whose first key-stream packet is at t (us since origin). */
static void rec_fill_segment(const vms_recorder_t *rec,
    vms_index_segment_t *seg, uint32_t flags);

static int
rec_segment_open(vms_recorder_t *rec, int64_t t)
{
    vms_index_segment_t seg;
    char           expanded[PATH_MAX], meta[64];
    unsigned char *iobuf = NULL;
    AVDictionary  *opts = NULL;
    int            i, rc;

    rec->seg_start_t = t;
    rec->seg_end_t = t;
    rec->seg_start_utc = rec->anchor_us + (rec->origin_raw_us - rec->first_raw_us)
                         + t;
    rec->seg_flags = rec->discont ? VMS_SEG_DISCONTINUITY : 0;
    rec->written = 0;
    rec->io_error = 0;
    rec->fenced = 0;
    rec->nfrags = 0;
    rec->frag_pkts = 0;
    rec->frag_key = 0;
    rec->frag_keyseen = 0;

    if (vms_segpath_expand(rec->tmpl, rec->camera_id, rec->seg_start_utc,
                           expanded, sizeof(expanded)) < 0)
    {
        vms_log_error(rec->camera_id, "recorder: path template expansion "
                      "failed (too long?)");
        return AVERROR(ENAMETOOLONG);
    }
    rc = rec_open_file(rec, expanded);
    if (rc != 0) {
        return AVERROR(-rc);
    }

    rc = avformat_alloc_output_context2(&rec->oc, NULL, "mp4", NULL);
    if (rc < 0) {
        goto failed;
    }
    iobuf = av_malloc(REC_IOBUF);
    rec->pb = iobuf ? avio_alloc_context(iobuf, REC_IOBUF, 1, rec, NULL,
                                         rec_io_write, NULL) : NULL;
    if (rec->pb == NULL) {
        av_free(iobuf);
        rc = AVERROR(ENOMEM);
        goto failed;
    }
    rec->pb->seekable = 0;
    rec->oc->pb = rec->pb;
    rec->oc->flags |= AVFMT_FLAG_CUSTOM_IO;
    /* Each file starts at zero by construction (rec_mux); no shifting. */
    rec->oc->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;

    for (i = 0; i < rec->nst; i++) {
        rec_stream_t *rs = &rec->st[i];
        AVStream     *os;

        if (rs->out < 0) {
            continue;
        }
        os = avformat_new_stream(rec->oc, NULL);
        if (os == NULL) {
            rc = AVERROR(ENOMEM);
            goto failed;
        }
        rc = avcodec_parameters_copy(os->codecpar, rs->par);
        if (rc < 0) {
            goto failed;
        }
        /* H.265 as 'hvc1' (parameter sets in the sample entry), the tag
         * Apple's players and MediaMTX's recordings use; 'hev1', the mp4
         * muxer's default, does not play in Safari */
        os->codecpar->codec_tag = os->codecpar->codec_id == AV_CODEC_ID_HEVC
                                  ? MKTAG('h', 'v', 'c', '1') : 0;
        os->time_base = rs->tb;
        rs->seg_base = from_us(t, rs->tb);
        rs->seg_seen = 0;
    }

    /* The exact start, for reconciliation after a crash (the file name
     * holds only what the template does). */
    snprintf(meta, sizeof(meta), "vms start_us=%" PRId64 " flags=%u",
             rec->seg_start_utc, rec->seg_flags);
    av_dict_set(&rec->oc->metadata, "comment", meta, 0);

    av_dict_set(&opts, "movflags",
                "+frag_custom+empty_moov+default_base_moof+skip_trailer", 0);
    av_dict_set(&opts, "use_editlist", "0", 0);
    rc = avformat_write_header(rec->oc, &opts);
    av_dict_free(&opts);
    if (rc < 0) {
        goto failed;
    }
    avio_flush(rec->pb);
    if (rec->io_error) {
        rc = AVERROR(rec->io_error);
        goto failed;
    }
    rec->init_size = (uint32_t) rec->written;
    rec->frag_off = rec->written;
    rec->frag_start_t = t;
    rec->discont = 0;

    /* Announced at once (no fragment yet): readers and retention know the
     * file is being written. */
    rec_fill_segment(rec, &seg, VMS_SEG_OPEN);
    rc = vms_index_write_open(rec->camera_dir, &seg);
    if (rc != 0) {
        vms_log_warn(rec->camera_id, "recorder: open-segment record of %s "
                     "not written: %s", rec->relpath, strerror(-rc));
    }
    vms_log_debug(rec->camera_id, "recorder: segment %s opened", rec->relpath);
    return 0;

failed:
    vms_log_error(rec->camera_id, "recorder: cannot start segment %s: %s",
                  rec->relpath, av_err2str(rc));
    if (rec->oc != NULL) {
        avformat_free_context(rec->oc);
        rec->oc = NULL;
    }
    if (rec->pb != NULL) {
        av_freep(&rec->pb->buffer);
        avio_context_free(&rec->pb);
    }
    close(rec->fd);
    rec->fd = -1;
    unlink(rec->fullpath);
    return rc;
}

/* ---- fragments ---- */

static void
rec_fill_segment(const vms_recorder_t *rec, vms_index_segment_t *seg,
    uint32_t flags)
{
    memset(seg, 0, sizeof(*seg));
    seg->start_us = rec->seg_start_utc;
    seg->duration_us = rec->seg_end_t - rec->seg_start_t;
    seg->bytes = rec->frag_off;
    seg->init_size = rec->init_size;
    /* each file's decode time starts at zero (see the top of this file) */
    seg->flags = rec->seg_flags | flags | VMS_SEG_MEDIA_TIME;
    seg->media_time_us = 0;
    memcpy(seg->path, rec->relpath, sizeof(seg->path));
    seg->nfrags = rec->nfrags;
    seg->frags = rec->frags;
}

/* Cuts the fragment in progress; end_t: where the next one starts. */
static int
rec_fragment_flush(vms_recorder_t *rec, int64_t end_t)
{
    vms_index_segment_t   seg;
    vms_index_fragment_t *f;
    int                   rc;

    if (rec->frag_pkts == 0) {
        return 0;
    }
    rc = av_write_frame(rec->oc, NULL);
    avio_flush(rec->pb);
    if (rc < 0 || rec->io_error) {
        rc = rec->io_error ? AVERROR(rec->io_error) : rc;
        vms_log_error(rec->camera_id, "recorder: writing %s failed: %s",
                      rec->fullpath, av_err2str(rc));
        return rc;
    }
    if (rec->written == rec->frag_off) {
        return 0;
    }

    if (rec->nfrags == rec->frags_cap) {
        uint32_t cap = rec->frags_cap ? rec->frags_cap * 2 : 128;
        void    *p = realloc(rec->frags, cap * sizeof(*rec->frags));

        if (p == NULL) {
            return AVERROR(ENOMEM);
        }
        rec->frags = p;
        rec->frags_cap = cap;
    }
    f = &rec->frags[rec->nfrags++];
    f->offset = rec->frag_off;
    f->size = (uint32_t) (rec->written - rec->frag_off);
    f->flags = rec->frag_key ? VMS_FRAG_KEY : 0;
    f->start_us = rec->frag_start_t - rec->seg_start_t;
    f->duration_us = end_t - rec->frag_start_t;

    rec->frag_off = rec->written;
    rec->frag_pkts = 0;
    rec->frag_key = 0;
    rec->frag_keyseen = 0;
    rec->frag_start_t = end_t;
    if (rec->seg_end_t < end_t) {
        rec->seg_end_t = end_t;
    }

    /* Readers serve the open segment up to its last complete fragment;
     * not while the fence holds the bytes back */
    switch (vms_fence_state(rec->fence)) {
    case VMS_FENCE_SHUT:
        rec->fenced = 1;
        return AVERROR(EPERM);
    case VMS_FENCE_PENDING:
        return 0;
    case VMS_FENCE_OPEN:
        break;
    }
    rec_fill_segment(rec, &seg, VMS_SEG_OPEN);
    rc = vms_index_write_open(rec->camera_dir, &seg);
    if (rc != 0) {
        vms_log_warn(rec->camera_id, "recorder: open-segment record of %s "
                     "not written: %s", rec->relpath, strerror(-rc));
    }
    return 0;
}

/* ---- writing packets ---- */

/* pkt: rebased, in the input time base of stream i. */
static int
rec_mux(vms_recorder_t *rec, int i, AVPacket *pkt)
{
    rec_stream_t *rs = &rec->st[i];
    AVStream     *os = rec->oc->streams[rs->out];
    int64_t       dts = pkt->dts, end;
    int           rc;

    if (pkt->duration > 0) {
        rs->last_dur = pkt->duration;
    } else {
        pkt->duration = rs->last_dur;
    }
    end = rec_t(rec, i, dts + pkt->duration);

    pkt->dts -= rs->seg_base;
    pkt->pts -= rs->seg_base;
    if (!rs->seg_seen && i != rec->key && pkt->dts != 0) {
        /* Audio rarely starts exactly at the cut: the first sample is moved
         * to zero (ending where it did), one that ends before it dropped. */
        int64_t shift = pkt->dts;

        if (pkt->dts + pkt->duration <= 0) {
            return 0;
        }
        pkt->duration += shift;
        pkt->dts = 0;
        pkt->pts -= shift;
    }
    rs->seg_seen = 1;

    if (i == rec->key) {
        if (!rec->frag_keyseen) {
            rec->frag_key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
            rec->frag_keyseen = 1;
        }
        if (end > rec->seg_end_t) {
            rec->seg_end_t = end;
        }
    }

    pkt->stream_index = rs->out;
    pkt->pos = -1;
    av_packet_rescale_ts(pkt, rs->tb, os->time_base);
    rc = av_write_frame(rec->oc, pkt);
    if (rc < 0 || rec->io_error) {
        rc = rec->io_error ? AVERROR(rec->io_error) : rc;
        vms_log_error(rec->camera_id, "recorder: writing %s failed: %s",
                      rec->fullpath, av_err2str(rc));
        return rc;
    }
    rec->frag_pkts++;
    return 0;
}

/* Writes the held key-stream packet; next_dts: the dts that follows it, or
 * NOPTS to use the last known duration. */
static int
rec_write_held(vms_recorder_t *rec, int64_t next_dts)
{
    int rc = 0;

    if (!rec->has_held) {
        return 0;
    }
    if (next_dts != AV_NOPTS_VALUE && next_dts > rec->held->dts) {
        rec->held->duration = next_dts - rec->held->dts;
    } else if (rec->held->duration <= 0) {
        rec->held->duration = rec->st[rec->key].last_dur > 0
            ? rec->st[rec->key].last_dur
            : from_us(REC_DEFAULT_DUR_US, rec->st[rec->key].tb);
    }
    if (rec->oc != NULL) {
        rc = rec_mux(rec, rec->key, rec->held);
    }
    av_packet_unref(rec->held);
    rec->has_held = 0;
    return rc;
}

/* A write failed (disk full, I/O error): keep what is complete. */
static void rec_segment_drop(vms_recorder_t *rec);

static void
rec_segment_abort(vms_recorder_t *rec)
{
    if (rec->fenced) {
        rec_segment_drop(rec);       /* not even a truncation: not ours */
        rec->discont = 1;
        return;
    }
    vms_log_error(rec->camera_id, "recorder: segment %s cut short at %" PRIu64
                  " bytes (%u fragments) after a write error", rec->relpath,
                  rec->frag_off, rec->nfrags);
    rec->frag_pkts = 0;       /* the partial fragment is dropped */
    if (rec->fd >= 0 && ftruncate(rec->fd, (off_t) rec->frag_off) != 0) {
        vms_log_error(rec->camera_id, "recorder: truncating %s: %s",
                      rec->fullpath, strerror(errno));
    }
    rec->io_error = EIO;      /* no trailer */
    rec_segment_close(rec, "write error");
    rec->discont = 1;         /* what follows is not contiguous with it */
}

/* The fence shut (fence.h): the segment stays as it is on disk, untouched
 * (no trailer, no truncation, no index record); the camera's next owner
 * indexes its whole fragments when it reconciles the camera at start. */
static void
rec_segment_drop(vms_recorder_t *rec)
{
    if (rec->oc == NULL) {
        return;
    }
    vms_log_warn(rec->camera_id, "recorder: fenced: segment %s left as it is"
                 " on disk to the camera's next owner (%zu bytes held in memory"
                 " dropped); nothing more is written", rec->relpath,
                 rec->held_bytes.len);
    vms_buf_free(&rec->held_bytes);
    close(rec->fd);
    rec->fd = -1;
    avformat_free_context(rec->oc);
    rec->oc = NULL;
    av_freep(&rec->pb->buffer);
    avio_context_free(&rec->pb);
}

static void
rec_segment_close(vms_recorder_t *rec, const char *why)
{
    vms_index_segment_t seg;
    vms_segment_info_t  info;
    int                 rc, ok = 1;

    if (rec->oc == NULL) {
        return;
    }
    if (rec->fenced || !vms_fence_pass(rec->fence)) {
        rec_segment_drop(rec);
        return;
    }
    if (!rec->io_error) {
        if (rec_fragment_flush(rec, rec->seg_end_t) < 0) {
            rec->frag_pkts = 0;
            ok = 0;
        } else if (av_write_trailer(rec->oc) < 0 || rec->io_error) {
            ok = 0;
        } else {
            avio_flush(rec->pb);
        }
    }
    if (rec->fenced) {
        rec_segment_drop(rec);
        return;
    }
    if (!ok || rec->io_error || rec->written != rec->frag_off) {
        /* Only whole fragments count; drop anything after the last one. */
        if (ftruncate(rec->fd, (off_t) rec->frag_off) != 0) {
            vms_log_error(rec->camera_id, "recorder: truncating %s: %s",
                          rec->fullpath, strerror(errno));
        }
        rec->seg_end_t = rec->seg_start_t;
        if (rec->nfrags > 0) {
            const vms_index_fragment_t *f = &rec->frags[rec->nfrags - 1];

            rec->seg_end_t += f->start_us + f->duration_us;
        }
    }

    if (fsync(rec->fd) != 0) {
        vms_log_error(rec->camera_id, "recorder: fsync %s: %s", rec->fullpath,
                      strerror(errno));
    }
    close(rec->fd);
    rec->fd = -1;
    rc = vms_fsync_parent(rec->fullpath);
    if (rc != 0) {
        vms_log_error(rec->camera_id, "recorder: fsync of the directory of %s: "
                      "%s", rec->fullpath, strerror(-rc));
    }

    avformat_free_context(rec->oc);
    rec->oc = NULL;
    av_freep(&rec->pb->buffer);
    avio_context_free(&rec->pb);

    if (rec->nfrags == 0) {
        vms_log_warn(rec->camera_id, "recorder: segment %s has no complete "
                     "fragment (%s); removed", rec->relpath, why);
        unlink(rec->fullpath);
        vms_index_write_open(rec->camera_dir, NULL);
        return;
    }

    rec_fill_segment(rec, &seg, 0);
    if (!vms_fence_pass(rec->fence)) {
        vms_log_warn(rec->camera_id, "recorder: fenced: segment %s is whole"
                     " on disk but left out of the index, to the camera's next"
                     " owner", rec->relpath);
        return;
    }
    rc = vms_index_append(rec->camera_dir, &seg);
    if (rc != 0) {
        /* The file is complete and fsynced: reconciliation at the next
         * start-up indexes it. */
        vms_log_error(rec->camera_id, "recorder: indexing %s failed: %s",
                      rec->relpath, strerror(-rc));
    }
    vms_index_write_open(rec->camera_dir, NULL);

    vms_log_info(rec->camera_id, "recorder: segment %s closed (%s): %.3f s, "
                 "%" PRIu64 " bytes, %u fragments", rec->relpath, why,
                 (double) seg.duration_us / 1e6, seg.bytes, seg.nfrags);

    if (rc == 0 && rec->on_closed != NULL) {
        info.camera_id = rec->camera_id;
        info.camera_dir = rec->camera_dir;
        info.path = rec->relpath;
        info.start_us = seg.start_us;
        info.duration_us = seg.duration_us;
        info.bytes = seg.bytes;
        info.discontinuity = (seg.flags & VMS_SEG_DISCONTINUITY) != 0;
        rec->on_closed(&info, rec->data);
    }
}

/* A new timeline: close what is open, wait for the next keyframe. */
static void
rec_timeline_break(vms_recorder_t *rec, const char *why)
{
    int i;

    if (rec_write_held(rec, AV_NOPTS_VALUE) < 0 && rec->oc != NULL) {
        rec_segment_abort(rec);
    }
    rec_segment_close(rec, why);
    for (i = 0; i < rec->nst; i++) {
        rec->st[i].base = AV_NOPTS_VALUE;
        rec->st[i].last_dts = AV_NOPTS_VALUE;
    }
    rec->have_origin = 0;
    rec->discont = 1;
    /* The stream's clock no longer relates to the first packet's. */
    rec->anchor_us = rec_now_us(rec);
    rec->first_raw_us = AV_NOPTS_VALUE;
}

/*
 * Normalizes pkt's timestamps (rebased to the origin, monotonic).
 * Returns 1 to write, 0 to drop, -1 when the timeline broke (the caller
 * processes the packet again as the first of a new timeline).
 */
static int
rec_guard(vms_recorder_t *rec, int i, AVPacket *pkt)
{
    rec_stream_t *rs = &rec->st[i];
    int64_t       raw_us, step_us;

    if (pkt->dts == AV_NOPTS_VALUE && rs->par->video_delay == 0) {
        pkt->dts = pkt->pts;             /* no reordering: dts is pts */
    }
    if (pkt->dts == AV_NOPTS_VALUE) {
        /* RTSP's very first packet often has none: not worth a warning */
        if (rec->packets == 1) {
            vms_log_debug(rec->camera_id, "recorder: first packet without "
                          "timestamps dropped");
            return 0;
        }
        if (rec->dropped++ % REC_LOG_EVERY == 0) {
            vms_log_warn(rec->camera_id, "recorder: packet without timestamps "
                         "dropped (%" PRIu64 " so far)", rec->dropped);
        }
        return 0;
    }
    if (pkt->pts == AV_NOPTS_VALUE) {
        pkt->pts = pkt->dts;
    }
    raw_us = to_us(pkt->dts, rs->tb);

    if (rec->first_raw_us == AV_NOPTS_VALUE) {
        /* The anchor pairs the wall clock with this packet's time; when
         * earlier packets were dropped, the clock given at open is theirs. */
        if (rec->packets > 1) {
            rec->anchor_us = rec_now_us(rec);
        }
        rec->first_raw_us = raw_us;
    }
    if (!rec->have_origin) {
        int j;

        if (i != rec->key || !(pkt->flags & AV_PKT_FLAG_KEY)) {
            return 0;                    /* a segment starts at a keyframe */
        }
        rec->origin_raw_us = raw_us;
        rec->have_origin = 1;
        for (j = 0; j < rec->nst; j++) {
            rec->st[j].base = from_us(raw_us, rec->st[j].tb);
        }
    }

    pkt->dts -= rs->base;
    pkt->pts -= rs->base;
    if (rs->last_dts == AV_NOPTS_VALUE) {
        if (pkt->dts < 0) {
            return 0;                    /* before the first keyframe */
        }
        rs->last_dts = pkt->dts;
        return 1;
    }

    step_us = to_us(pkt->dts - rs->last_dts, rs->tb);
    if (step_us < -REC_JUMP_BACK_US || step_us > REC_JUMP_FWD_US) {
        vms_log_warn(rec->camera_id, "recorder: stream %d timestamp jumped by "
                     "%.3f s; starting a new segment", i, (double) step_us / 1e6);
        return -1;
    }
    if (pkt->dts <= rs->last_dts) {
        if (rec->fixed_ts++ % REC_LOG_EVERY == 0) {
            vms_log_warn(rec->camera_id, "recorder: stream %d non-monotonic "
                         "dts (%" PRId64 " after %" PRId64 ") corrected (%"
                         PRIu64 " so far)", i, pkt->dts, rs->last_dts,
                         rec->fixed_ts);
        }
        pkt->dts = rs->last_dts + 1;
        if (pkt->pts < pkt->dts) {
            pkt->pts = pkt->dts;
        }
    }
    /* compared with the last accepted packet, not the last written: the
     * key stream's newest packet is held back */
    rs->last_dts = pkt->dts;
    return 1;
}

static int
rec_write_key(vms_recorder_t *rec, AVPacket *pkt)
{
    int64_t t = rec_t(rec, rec->key, pkt->dts);
    int     key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
    int     rc;

    /* The previous key-stream packet ends where this one starts. */
    rc = rec_write_held(rec, pkt->dts);
    if (rc < 0) {
        rec_segment_abort(rec);
    }

    /* no cut while the fence holds bytes back: a segment can only be
     * closed (trailer, index) once they are written */
    if (rec->oc != NULL && key
        && (t - rec->seg_start_t >= rec->segment_us || rec->new_params)
        && vms_fence_state(rec->fence) == VMS_FENCE_OPEN)
    {
        rec_segment_close(rec, rec->new_params ? "new codec parameters"
                                               : "duration");
    }
    if (key) {
        rec->new_params = 0;
    }
    if (rec->oc == NULL) {
        if (!key) {
            return rc;                   /* resume at the next keyframe */
        }
        rc = rec_segment_open(rec, t);
        if (rc < 0) {
            return rc;
        }
    } else if (rec->frag_pkts > 0
               && ((key && t - rec->frag_start_t >= rec->fragment_us / 2)
                   || t - rec->frag_start_t >= rec->fragment_us))
    {
        rc = rec_fragment_flush(rec, t);
        if (rc < 0) {
            rec_segment_abort(rec);
            return rc;
        }
    }

    rc = av_packet_ref(rec->held, pkt);
    if (rc < 0) {
        return rc;
    }
    rec->has_held = 1;
    return 0;
}

/* In-band parameter sets that differ from the ones in the file's moov (a
 * camera changed resolution): later packets go to a new segment whose moov
 * carries them, from the next keyframe on. */
static void
rec_check_params(vms_recorder_t *rec, int i, const AVPacket *pkt)
{
    AVCodecParameters *par = rec->st[i].par;
    uint8_t           *nx, *copy;
    size_t             n = 0;

    nx = av_packet_get_side_data(pkt, AV_PKT_DATA_NEW_EXTRADATA, &n);
    if (nx == NULL || n == 0 || n > INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE
        || ((size_t) par->extradata_size == n && memcmp(par->extradata, nx, n) == 0))
    {
        return;
    }
    copy = av_mallocz(n + AV_INPUT_BUFFER_PADDING_SIZE);
    if (copy == NULL) {
        return;
    }
    memcpy(copy, nx, n);
    av_free(par->extradata);
    par->extradata = copy;
    par->extradata_size = (int) n;
    rec->new_params = 1;
    vms_log_info(rec->camera_id, "recorder: stream %d codec parameters "
                 "changed; a new segment starts at the next keyframe", i);
}

int
vms_recorder_write(vms_recorder_t *rec, const AVPacket *in_pkt)
{
    AVPacket *pkt;
    int       i = in_pkt->stream_index, rc;

    rec->packets++;
    if (i < 0 || i >= rec->nst || rec->st[i].out < 0) {
        return 0;
    }
    pkt = av_packet_clone(in_pkt);
    if (pkt == NULL) {
        return AVERROR(ENOMEM);
    }

    rec_check_params(rec, i, pkt);
    rc = rec_guard(rec, i, pkt);
    if (rc < 0) {
        rec_timeline_break(rec, "timestamp jump");
        av_packet_unref(pkt);
        av_packet_ref(pkt, in_pkt);
        rc = rec_guard(rec, i, pkt);
    }
    if (rc <= 0) {
        av_packet_free(&pkt);
        return 0;
    }

    if (i == rec->key) {
        rc = rec_write_key(rec, pkt);
    } else if (rec->oc != NULL) {
        rc = rec_mux(rec, i, pkt);
        if (rc < 0) {
            rec_segment_abort(rec);
        }
    } else {
        rc = 0;
    }
    av_packet_free(&pkt);
    return rc;
}

void
vms_recorder_close(vms_recorder_t *rec)
{
    int i;

    if (rec == NULL) {
        return;
    }
    if (rec->oc != NULL) {
        if (rec_write_held(rec, AV_NOPTS_VALUE) < 0) {
            rec_segment_abort(rec);
        }
        rec_segment_close(rec, "stop");
    }
    av_packet_free(&rec->held);
    vms_buf_free(&rec->held_bytes);
    for (i = 0; rec->st != NULL && i < rec->nst; i++) {
        avcodec_parameters_free(&rec->st[i].par);
    }
    free(rec->st);
    free(rec->frags);
    free(rec->camera_id);
    free(rec->root);
    free(rec->tmpl);
    free(rec);
}
