/*
 * Recording housekeeping for vmsd's main thread: reconciliation of each
 * camera's index with its files before the camera records, and the
 * retention thread (docs/recording.md).  Three calls:
 *
 *   vms_recording_start(cfg)      once, before any camera starts
 *   vms_recording_camera(cc)      before each camera (re)starts, also on
 *                                 SIGHUP for added or changed cameras
 *   vms_recording_stop()          at shutdown
 */

#ifndef VMS_RECORDING_H
#define VMS_RECORDING_H

#include "config.h"

/* Starts retention with cfg's disk limits and intervals.  0 or -1 (logged). */
int vms_recording_start(const vms_config_t *cfg);

/* Reconciles the camera's recordings (it must not be recording) and sets
 * its retention days. */
void vms_recording_camera(const vms_camera_conf_t *cc);

void vms_recording_stop(void);

#endif /* VMS_RECORDING_H */
