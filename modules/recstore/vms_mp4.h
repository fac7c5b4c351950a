/*
 * The recording store's MP4 reading: a box iterator over an in-memory image
 * (the playback core's init/moof work uses it too) and the one fragmented
 * MP4 scanner, shared by `vms-index rebuild` and vmsd's crash recovery
 * (never in the request path), so both index a file the same way.  It finds
 * the init section (ftyp+moov), each fragment (moof + its mdat), its decode
 * time, duration and whether it starts with a keyframe, from the video track
 * (the first track when there is no video), and the start time the recorder
 * wrote into the moov ("vms start_us=... flags=..." in a comment tag).
 * Reads box headers and moof/moov boxes only, never mdat payloads.
 */
#ifndef VMS_MP4_H
#define VMS_MP4_H

#include <stddef.h>
#include <stdint.h>
#include "vms_index.h"

/* Box iterator over [*off, end): type and payload; 0, or -1 when malformed. */
int vms_mp4_box(const unsigned char *b, size_t end, size_t *off, char type[5], size_t *ps, size_t *pe);

/* What a trak box says of its track: id (tkhd), timescale (mdhd), whether
 * it is video (hdlr "vide").  0 where the box is missing or short. */
typedef struct {
    uint32_t  id;
    uint32_t  timescale;
    int       video;
} vms_mp4_trak_t;

/* Reads the trak whose payload is [ps, pe) of b. */
void vms_mp4_trak(const unsigned char *b, size_t ps, size_t pe, vms_mp4_trak_t *t);

typedef struct {
    uint64_t  bytes;           /* file size */
    uint64_t  complete;        /* end of the last complete fragment or other box:
                                  < bytes when the file ends inside one (torn) */
    uint32_t  init_size;       /* offset of the first moof (no fragment: end of moov) */
    int64_t   duration_us;
    int64_t   media_time_us;   /* tfdt of the first fragment */
    int64_t   tag_start_us;    /* the recorder's start time, or 0 (another writer) */
    uint32_t  tag_flags;       /* the recorder's segment flags (VMS_SEG_DISCONTINUITY) */
    uint32_t  nfrags;          /* 0: an init section without a complete fragment */
    vms_index_fragment_t *frags;   /* malloc'd; start_us relative to the first */
} vms_mp4_info_t;

/* 0, or -1 with the reason in err (no moov, a malformed box).  A file cut
 * short mid-fragment (a segment being written, a crash) yields its complete
 * fragments; info->complete says where the torn part begins. */
int vms_mp4_scan_fd(int fd, vms_mp4_info_t *info, char *err, size_t errlen);
int vms_mp4_scan(const char *path, vms_mp4_info_t *info, char *err, size_t errlen);
void vms_mp4_info_free(vms_mp4_info_t *info);

/*
 * The index segment of a scanned file: start_us is the recorder's tag, else
 * name_start_us (the time its name gives; <= 0: none); bytes end at
 * info->complete; flags are the tag's, and VMS_SEG_MEDIA_TIME when there is
 * a fragment.  seg->frags borrows info->frags; the caller sets seg->path.
 * 0, or -1 (seg still filled) when the file has no complete fragment or no
 * start time: it cannot be indexed as it is.
 */
int vms_mp4_segment(const vms_mp4_info_t *info, int64_t name_start_us, vms_index_segment_t *seg);

#endif /* VMS_MP4_H */
