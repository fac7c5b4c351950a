/*
 * One camera pipeline per thread: RTSP over TCP (libavformat, every wait
 * bounded by an interrupt callback that also honours stop and restart
 * requests) → recorder (stream copy, recorder.h) and keyframe decoding
 * (AVDISCARD_NONKEY) → snapshots, still-picture fingerprint, analysis;
 * and, when configured, the live relay (relay.h).
 * Reconnection follows backoff.h; offline cameras are probed (probe.h).
 *
 * A camera's thread touches nothing of another camera, so one camera's
 * fault never stalls another.  The registry below is read by the API,
 * metrics and watchdog threads under its lock.
 */

#ifndef VMS_CAMERA_H
#define VMS_CAMERA_H

#include <stdint.h>

#include "config.h"

typedef struct vms_camera_s  vms_camera_t;

typedef enum {
    VMS_CAM_CONNECTING = 0,
    VMS_CAM_STREAMING,
    VMS_CAM_RECONNECTING,
    VMS_CAM_OFFLINE,
    VMS_CAM_STOPPED,
} vms_cam_state_e;

typedef struct {
    char             id[VMS_CAMERA_ID_MAX + 1];
    vms_cam_state_e  state;
    const char      *state_name;
    uint64_t         frames, packets, bytes, keyframes;
    int64_t          last_frame_age_ms;   /* -1: no frame yet */
    int              failures;
    int              record_wanted, recording;
    int              still;
    int64_t          snapshot_age_ms;     /* -1: none yet */
    char             last_error[256];
} vms_camera_status_t;

/* Once, before any camera starts.  relay_secret: NULL, or the HS256 key of
 * the live relay's publish tokens. */
void vms_cameras_init(const char *recordings_root, const char *relay_secret);

/* Takes ownership of cc and starts its thread.  NULL on failure (logged). */
vms_camera_t *vms_camera_start(vms_camera_conf_t *cc);

/* Asks the thread to stop without waiting (to stop many at once). */
void vms_camera_request_stop(vms_camera_t *cam);
/* Stops the thread (segments closed cleanly), unregisters, frees. */
void vms_camera_stop(vms_camera_t *cam);

const vms_camera_conf_t *vms_camera_conf(const vms_camera_t *cam);

/* Under the registry lock; fn must not stop cameras. */
void vms_cameras_foreach(void (*fn)(vms_camera_t *cam, void *data),
    void *data);
void vms_camera_status(vms_camera_t *cam, vms_camera_status_t *st);

/* -1 unknown camera, else 0 (the wish applies at the next keyframe; it
 * lasts until the camera's configuration is reloaded). */
int vms_camera_set_record(const char *id, int on, vms_camera_status_t *st);

/* 1 when a camera with this id runs, else 0. */
int vms_camera_known(const char *id);

/* New analysis settings (ROI, motion, AI keys) for a running camera: the
 * camera thread swaps them in at its next decoded frame, without closing a
 * segment or the connection (cluster.c: a record that changes only those
 * keys).  Takes conf; -1 when no camera id runs here (conf not taken). */
struct vms_analysis_conf_s;
int vms_camera_set_analysis(const char *id, struct vms_analysis_conf_s *conf);

/* Watchdog: checks frames and still content; returns the ms until this
 * camera's next check is due. */
int64_t vms_camera_watchdog(vms_camera_t *cam, int64_t now_us);

#endif /* VMS_CAMERA_H */
