/*
 * Private to camera.c (the pipeline on each camera's thread) and
 * camera_reg.c (registry, status, metrics, watchdog checks).
 */

#ifndef VMS_CAMERA_IMPL_H
#define VMS_CAMERA_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "analysis.h"
#include "backoff.h"
#include "camera.h"
#include "keysize.h"
#include "log.h"
#include "metrics.h"

enum { RESTART_NONE = 0, RESTART_NO_FRAMES };

struct vms_camera_s {
    vms_camera_conf_t   *conf;
    const char          *id;
    char                 dir[4096];
    pthread_t            thread;

    atomic_int           stop;
    atomic_int           restart;           /* RESTART_* from the watchdog */
    atomic_int           state;
    atomic_int           record_wanted;
    atomic_int           recording;
    atomic_int           failures;
    _Atomic int64_t      deadline;           /* mono us; 0 none */
    _Atomic int64_t      last_frame;         /* mono us; 0 none */
    _Atomic int64_t      still_since;        /* mono us; 0 not still */
    _Atomic int64_t      snapshot_at;        /* mono us; 0 none */
    _Atomic int64_t      frame_wall;         /* UTC us of the last video frame; 0 none */
    int64_t              started_wall;       /* UTC us of vms_camera_start */
    atomic_uint_least64_t frames, packets, bytes, keyframes;

    /* watchdog thread only */
    int64_t              next_check;
    int                  frozen_reported;
    int                  still_reported;

    pthread_mutex_t      lock;               /* last_error, jpeg, record_trace */
    char                 last_error[256];
    char                 record_trace[VMS_TRACE_ID_MAX + 1]; /* of the API
                                               request that last changed
                                               record_wanted; "" none */
    uint8_t             *jpeg;
    size_t               jpeg_len;

    /* new analysis settings for the running camera (vms_camera_set_analysis),
     * taken by the camera thread at its next keyframe */
    _Atomic(struct vms_analysis_conf_s *) an_swap;

    /* camera thread only */
    uint64_t             fp;           /* luma hash of the last decoded
                                           keyframe; 0 unknown */
    int64_t              fp_since;
    vms_keysize_t        keysize;      /* of the last keyframe the still
                                           watchdog looked at (keysize.h) */
    int64_t              keysize_since;
    vms_analysis_t      *an;
    vms_backoff_t        backoff;
    int                  online_announced;

    vms_series_t        *s_reconnect_ok, *s_reconnect_fail, *s_duration,
                        *s_errors, *s_frozen_nf, *s_frozen_still,
                        *s_snapshots;
    /* end of the last closed segment; made at the first one, so a camera
     * that never recorded shows no lag */
    vms_series_t        *s_segment_end;
    vms_camera_t        *next;
};

typedef struct {
    pthread_mutex_t  lock;
    vms_camera_t    *list;
    char            *root;
    unsigned char   *relay_key;
    size_t           relay_keylen;
    vms_metric_t    *m_reconnect, *m_duration, *m_errors, *m_frozen,
                    *m_snapshots, *m_segment_end;
} vms_camera_registry_t;

extern vms_camera_registry_t   vms_camreg;
extern const char *const       vms_camera_state_names[];

void *vms_camera_thread(void *arg);
int vms_camera_interrupt_cb(void *opaque);

#endif /* VMS_CAMERA_IMPL_H */
