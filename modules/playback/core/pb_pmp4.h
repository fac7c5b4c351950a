/*
 * Plain ("progressive") MP4 clips made from recorded fragmented MP4: the
 * sample tables of a moov (stts, stss, ctts, stsc, stsz, stco/co64) built
 * from the fragments' moof/trun boxes, and the layout of the mdat as byte
 * ranges of the original files, so the caller sends the media by reference
 * (sendfile) and only the header is built in memory.
 *
 * The clip's timeline is MediaMTX's (internal/playback, muxer_mp4.go): t=0
 * is the asked start.  Each track keeps its samples from the sync sample at
 * or before start (a decoder needs the GOP from its keyframe) and an edit
 * list (elst media_time) hides the part before start; samples whose decode
 * time is at or past start + duration are dropped.  A track that begins
 * after start gets an empty edit first.
 *
 * Three steps, all on memory the caller read (an init section, whole moof
 * boxes at offsets the index gives): pb_pmp4_init_parse(), then
 * pb_pmp4_moof_samples() per fragment, pb_pmp4_cut(), pb_pmp4_write().
 * nginx-free; runs in nginx's thread pool.
 */
#ifndef PB_PMP4_H
#define PB_PMP4_H

#include <stddef.h>
#include <stdint.h>

#include "pb_fmp4.h"

#define PB_PMP4_MAX_TRACKS  PB_FMP4_MAX_TRACKS

/* A bound on the samples one clip may hold (memory of the sample list and
 * the moov): about 9 hours of 25 fps video with 48 kHz AAC. */
#define PB_PMP4_MAX_SAMPLES 1000000

typedef struct {
    uint32_t  id, timescale;
    uint32_t  def_dur, def_size, def_flags;   /* trex */
    size_t    trak_off, trak_len;             /* the trak box in the init image */
} pb_pmp4_track_t;

typedef struct {
    const unsigned char *init;
    size_t               len;
    pb_pmp4_track_t      t[PB_PMP4_MAX_TRACKS];
    int                  n;
} pb_pmp4_init_t;

typedef struct {
    int64_t   dts;        /* track timescale, on the clip's timeline (0 = start) */
    uint64_t  offset;     /* of the sample's bytes in its file */
    uint32_t  size;
    uint32_t  duration;
    int32_t   cts;        /* composition time offset */
    uint32_t  file;       /* caller's file number */
    uint32_t  frag;       /* caller's fragment number (groups a fragmented output) */
    uint8_t   track;      /* index in pb_pmp4_init_t.t */
    uint8_t   sync;
} pb_pmp4_sample_t;

typedef struct {
    pb_pmp4_sample_t *v;
    size_t            n, cap;
} pb_pmp4_samples_t;

/* Tracks of an init section (ftyp + moov with mvex/trex), in trak order
 * (the order of pb_fmp4_tracks()).  init must outlive the result.  0 or -1. */
int pb_pmp4_init_parse(const unsigned char *init, size_t len, pb_pmp4_init_t *in);

/*
 * Appends the samples of one fragment: moof is the whole moof box, read from
 * file offset moof_off of file `file`; the fragment (moof, mdat and anything
 * between) spans frag_size bytes from moof_off, and every sample must lie
 * inside it.  A sample's dts is its decode time minus shift[track].  0, or -1
 * with err (malformed, a track not in the init section, a traf without tfdt,
 * more than PB_PMP4_MAX_SAMPLES samples: err says "too many samples").
 */
int pb_pmp4_moof_samples(const pb_pmp4_init_t *in, const unsigned char *moof, size_t len,
    uint64_t moof_off, uint64_t frag_size, uint32_t file, const int64_t *shift,
    pb_pmp4_samples_t *out, char *err, size_t errlen);

/*
 * Cuts s (samples in file order, each track's in decode order) to the clip
 * [0, end[track]) in each track's timescale: keeps each track from the sync
 * sample at or before its first sample with dts >= 0, drops samples with dts
 * >= end[track], and sets each sample's duration to the decode-time step to
 * the track's next sample (the last keeps its own): the tables then add up
 * to the timeline even where files were joined.
 */
void pb_pmp4_cut(pb_pmp4_samples_t *s, const pb_pmp4_init_t *in, const int64_t *end);

/* A piece of the output: bytes of a file, or of out->head (file PB_PMP4_HEAD). */
#define PB_PMP4_HEAD  UINT32_MAX

typedef struct {
    uint32_t  file;
    uint64_t  offset, length;
} pb_pmp4_range_t;

typedef struct {
    unsigned char    *head;       /* what is made in memory (boxes) */
    size_t            head_len;
    pb_pmp4_range_t  *ranges;     /* the whole output, in order */
    size_t            nranges;
    uint64_t          total;      /* bytes of the whole file */
    int64_t           duration_us;    /* presentation: the longest track */
    int               ntracks;    /* tracks written (those with samples) */
} pb_pmp4_out_t;

/* The plain MP4 for the (cut) samples: ranges[0] is the head (ftyp, moov,
 * the mdat header), then the samples' bytes.  0, or -1 with err (no samples,
 * out of memory).  Tracks without samples are left out. */
int pb_pmp4_write(const pb_pmp4_init_t *in, const pb_pmp4_samples_t *s, pb_pmp4_out_t *out,
    char *err, size_t errlen);

/*
 * A fragmented MP4 for the (cut) samples, as MediaMTX's fmp4 muxer makes
 * it: the init section as it is, then one moof + mdat per source fragment
 * (samples grouped by .frag), each traf's tfdt on the clip's timeline.  The
 * samples before start (from their keyframe) are kept with a duration of 0
 * at the decode time of the track's first sample at or after start, so
 * playback begins at start without an edit list.  0 or -1 with err.
 */
int pb_pmp4_write_fragmented(const pb_pmp4_init_t *in, const pb_pmp4_samples_t *s,
    pb_pmp4_out_t *out, char *err, size_t errlen);

void pb_pmp4_samples_free(pb_pmp4_samples_t *s);
void pb_pmp4_out_free(pb_pmp4_out_t *o);

/* v * num / den rounded to nearest, without overflow for any int64 v and
 * 32-bit num/den (saturates). */
int64_t pb_pmp4_rescale(int64_t v, int64_t num, int64_t den);

#endif /* PB_PMP4_H */
