/*
 * Watchdog thread: checks every camera at its watchdog_interval (frames
 * arriving; identical pictures) through vms_camera_watchdog().  It only
 * reads counters and sets flags, so a stuck camera cannot stall it.
 */

#ifndef VMS_WATCHDOG_H
#define VMS_WATCHDOG_H

#include <stdint.h>

int vms_watchdog_start(void);
/* Monotonic us of the thread's last pass over every camera (0: none yet):
 * a pass takes the camera registry's lock, so a stale value means the
 * thread or that lock is stuck and frozen cameras would not be restarted. */
int64_t vms_watchdog_last_pass_us(void);
void vms_watchdog_stop(void);

#endif /* VMS_WATCHDOG_H */
