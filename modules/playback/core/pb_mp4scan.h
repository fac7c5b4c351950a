/*
 * Fragmented MP4 scanner for the vms-index CLI (never in the request path):
 * finds the init section (ftyp+moov), each fragment (moof + its mdat), its
 * decode time, duration and whether it starts with a keyframe, from the
 * video track (the first track when there is no video).  Reads box headers
 * and moof/moov boxes only, never mdat payloads.
 */
#ifndef PB_MP4SCAN_H
#define PB_MP4SCAN_H

#include <stddef.h>
#include <stdint.h>
#include "vms_index.h"

typedef struct {
    uint64_t  bytes;           /* file size */
    uint32_t  init_size;       /* offset of the first moof */
    int64_t   duration_us;
    int64_t   media_time_us;   /* tfdt of the first fragment */
    uint32_t  nfrags;
    vms_index_fragment_t *frags;   /* malloc'd; start_us relative to the first */
} pb_mp4_info_t;

/* 0, or -1 with the reason in err.  A file cut short mid-fragment (a segment
 * being written, a crash) yields its complete fragments. */
int pb_mp4_scan_fd(int fd, pb_mp4_info_t *info, char *err, size_t errlen);
int pb_mp4_scan(const char *path, pb_mp4_info_t *info, char *err, size_t errlen);
void pb_mp4_info_free(pb_mp4_info_t *info);

#endif /* PB_MP4SCAN_H */
