/*
 * Segment index: the contract between vmsd (writer, at segment close) and the
 * nginx playback module and the vms-index CLI (readers).
 *
 * nginx-free: no nginx headers here.  Readers never scan directories or parse
 * MP4; everything playback needs (segment times, byte sizes, the init section,
 * fragment byte ranges and keyframe flags) is in the index.
 *
 * One index per camera, kept in the camera's directory under the recordings
 * root ({camera_dir}/.index/, a pair of files per UTC day).  The on-disk
 * format is defined in vms_index.c and documented in docs/index-format.md;
 * callers use only this API.
 *
 * Durability: vms_index_append() is called after the segment file and its
 * directory were fsynced, and fsyncs the index before returning, so an
 * indexed segment is always complete on disk.  Deletion goes the other way:
 * remove from the index first, then unlink the file.
 *
 * The API below is the writer/reader contract; the implementation may add
 * functions but keeps these signatures.
 */

#ifndef VMS_INDEX_H
#define VMS_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define VMS_INDEX_PATH_MAX  160

/* fragment flags */
#define VMS_FRAG_KEY        0x1     /* fragment starts with a keyframe */

/* segment flags */
#define VMS_SEG_DISCONTINUITY 0x1   /* first segment of a new connection:
                                       not contiguous with the previous one */
#define VMS_SEG_OPEN        0x2     /* still being written (only in the
                                       open-segment record) */
#define VMS_SEG_MEDIA_TIME  0x4     /* media_time_us is set (addition) */

typedef struct {
    uint64_t  offset;        /* byte offset of the moof in the file */
    uint32_t  size;          /* moof + mdat bytes */
    uint32_t  flags;         /* VMS_FRAG_* */
    int64_t   start_us;      /* start relative to the segment start */
    int64_t   duration_us;
} vms_index_fragment_t;

typedef struct {
    int64_t   start_us;      /* UTC microseconds of the first sample */
    int64_t   duration_us;
    uint64_t  bytes;         /* file size */
    uint32_t  init_size;     /* bytes of ftyp + moov at offset 0 */
    uint32_t  flags;         /* VMS_SEG_* */
    char      path[VMS_INDEX_PATH_MAX]; /* relative to the camera directory */
    uint32_t  nfrags;
    const vms_index_fragment_t *frags;
    /* addition: decode time (tfdt) of the first fragment, in microseconds,
     * valid when flags has VMS_SEG_MEDIA_TIME.  Lets readers tell a
     * continuous decode timeline across files (no HLS discontinuity, clips
     * that span segments) from timestamps restarting in each file. */
    int64_t   media_time_us;
} vms_index_segment_t;

/* Writer side (vmsd). camera_dir = "{recordings}/{camera_id}". 0 or -errno. */
int vms_index_append(const char *camera_dir, const vms_index_segment_t *seg);

/* Record the segment being written (replaced atomically at each fragment);
 * seg == NULL clears it.  Readers may serve it without caching. */
int vms_index_write_open(const char *camera_dir, const vms_index_segment_t *seg);

/* Remove one indexed segment (by its start) from the index; the caller
 * unlinks the file afterwards. */
int vms_index_remove(const char *camera_dir, int64_t start_us);

/* ---- additions (keep the contract above) ---- */

#define VMS_INDEX_DIRNAME   ".index"

/* Like the calls above, with a message naming the file on failure. */
int vms_index_append_e(const char *camera_dir, const vms_index_segment_t *seg,
    char *err, size_t errlen);
int vms_index_remove_e(const char *camera_dir, int64_t start_us,
    char *err, size_t errlen);

/*
 * Reader side (nginx workers, the CLI).  A reader caches the day files it
 * has mapped, keyed by (dev, ino, mtime, size); nothing is re-read unless it
 * changed.  Single-threaded: one reader per thread / worker.
 */
typedef struct vms_index_reader_s vms_index_reader_t;

/* One indexed segment as returned by a query; pointers stay valid until the
 * next query on the same reader or vms_index_reader_free(). */
typedef struct {
    int64_t      start_us;
    int64_t      duration_us;
    uint64_t     bytes;
    uint32_t     init_size;
    uint32_t     flags;          /* VMS_SEG_* */
    uint32_t     nfrags;
    const char  *path;           /* relative to the camera directory */
    const vms_index_fragment_t *frags;   /* NULL until vms_index_frags() */
    int64_t      media_time_us;  /* with VMS_SEG_MEDIA_TIME */
    const void  *src_;           /* internal */
    uint64_t     frag_off_;      /* internal */
} vms_index_entry_t;

typedef struct {
    vms_index_entry_t *v;
    size_t             n;
} vms_index_result_t;

/* Query errors (negative returns). */
#define VMS_INDEX_ENOINDEX  (-2000)  /* no index directory for the camera */
#define VMS_INDEX_ECORRUPT  (-2001)  /* an index file failed validation */
#define VMS_INDEX_EIO       (-2002)  /* open/stat/mmap failed */
#define VMS_INDEX_ENOMEM    (-2003)

vms_index_reader_t *vms_index_reader_new(size_t max_cached_days);
void vms_index_reader_free(vms_index_reader_t *r);

/*
 * Segments overlapping [from_us, to_us), in start order, the open segment
 * (VMS_SEG_OPEN) last when it overlaps.  0 with res->n == 0 when nothing is
 * recorded there; VMS_INDEX_E* with err naming the file otherwise.
 * Segments are assumed shorter than a day (a segment is found through its
 * start day and the day before).
 */
int vms_index_query(vms_index_reader_t *r, const char *camera_dir,
    int64_t from_us, int64_t to_us, vms_index_result_t *res,
    char *err, size_t errlen);

/* Verify and attach the fragment table of e (e->frags). 0 or VMS_INDEX_E*. */
int vms_index_frags(vms_index_reader_t *r, vms_index_entry_t *e,
    char *err, size_t errlen);

/* Path (relative to camera_dir) of the segment being written, from the
 * open-segment record: 1 and out filled, 0 when none (or unreadable). */
int vms_index_open_path(const char *camera_dir, char *out, size_t outlen);

/* Validate a whole index file image (either kind); used by the CLI's
 * `check` and the fuzzer.  0 or VMS_INDEX_ECORRUPT with a reason. */
int vms_index_validate_buf(const unsigned char *buf, size_t len,
    char *err, size_t errlen);

#endif /* VMS_INDEX_H */
