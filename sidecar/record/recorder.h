/*
 * Recorder: stream copy of one camera connection into fragmented MP4
 * segments (1 s fragments, a new segment at the first keyframe after the
 * segment duration), indexed at close (modules/recstore/vms_index.h).
 *
 * Threading: one recorder per camera connection, used only from that
 * camera's thread.  Nothing here blocks for longer than a disk write; fsync
 * happens at segment close.
 *
 * This header is the contract between the camera pipeline (camera.c) and the
 * recorder (recorder.c); retention lives in retention.h.
 */

#ifndef VMS_RECORDER_H
#define VMS_RECORDER_H

#include <stdint.h>
#include <libavformat/avformat.h>

#include "fence.h"

typedef struct vms_recorder_s vms_recorder_t;

typedef struct {
    const char  *camera_id;
    const char  *camera_dir;       /* path of this camera's directory */
    const char  *path;             /* relative to camera_dir */
    int64_t      start_us;         /* UTC */
    int64_t      duration_us;
    uint64_t     bytes;
    int          discontinuity;    /* first segment of a connection */
} vms_segment_info_t;

typedef void (*vms_segment_closed_pt)(const vms_segment_info_t *seg, void *data);

/* UTC now in microseconds; the recorder's only view of the wall clock. */
typedef int64_t (*vms_recorder_clock_pt)(void *data);

/* Build it whole (an initializer or a compound literal): fields not named are
 * zero, which is every field's default, also of fields added later. */
typedef struct {
    const char  *camera_id;
    const char  *root;             /* recordings root */
    const char  *path_template;    /* MediaMTX placeholders, see docs */
    int64_t      segment_us;       /* target segment duration */
    int64_t      fragment_us;      /* target fragment duration (1 s) */
    vms_segment_closed_pt  on_segment_closed;   /* called after indexing */
    void        *data;
    /* Wall clock used to re-anchor a new timeline (a discontinuity, or
     * packets dropped before the first timestamped one); NULL: vms_now_us.
     * Tests inject a clock so results mean the same on any date. */
    vms_recorder_clock_pt  clock;
    void        *clock_data;
    /* Cluster ownership (fence.h): every write to the recordings tree
     * checks it first; once shut, the open segment is dropped as it is on
     * disk (the camera's next owner indexes its whole fragments) and nothing
     * more is written.  NULL: a single node's camera, never shut. */
    vms_fence_t *fence;
} vms_recorder_conf_t;

/*
 * Start recording a connection.  in: the opened input (its video and audio
 * streams are copied; streams MP4 cannot hold are skipped with a log line).
 * wallclock_us: UTC time of the connection's first packet, to anchor the
 * stream's own timestamps.  Returns NULL with a logged reason on failure.
 */
vms_recorder_t *vms_recorder_open(const vms_recorder_conf_t *conf,
    const AVFormatContext *in, int64_t wallclock_us);

/* pkt is in the input stream's time base; not consumed (caller unrefs).
 * Returns 0, or a negative AVERROR after logging. */
int vms_recorder_write(vms_recorder_t *rec, const AVPacket *pkt);

/* Close the open segment cleanly (fsync, index, callback) and free. */
void vms_recorder_close(vms_recorder_t *rec);

#endif /* VMS_RECORDER_H */
