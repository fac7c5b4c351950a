/*
 * Segment index: the contract between vmsd (writer, at segment close) and the
 * nginx playback module and the vms-index CLI (readers).
 *
 * nginx-free: no nginx headers here.  Readers never scan directories or parse
 * MP4; everything playback needs (segment times, byte sizes, the init section,
 * fragment byte ranges and keyframe flags) is in the index.
 *
 * One index per camera, kept in the camera's directory under the recordings
 * root.  The on-disk format is defined in vms_index.c and documented in
 * docs/recording.md; callers use only this API.
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
} vms_index_segment_t;

/* Writer side (vmsd). camera_dir = "{recordings}/{camera_id}". 0 or -errno. */
int vms_index_append(const char *camera_dir, const vms_index_segment_t *seg);

/* Record the segment being written (replaced atomically at each fragment);
 * seg == NULL clears it.  Readers may serve it without caching. */
int vms_index_write_open(const char *camera_dir, const vms_index_segment_t *seg);

/* Remove one indexed segment (by its start) from the index; the caller
 * unlinks the file afterwards. */
int vms_index_remove(const char *camera_dir, int64_t start_us);

#endif /* VMS_INDEX_H */
