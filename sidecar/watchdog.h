/*
 * Watchdog thread: checks every camera at its watchdog_interval (frames
 * arriving; identical pictures) through vms_camera_watchdog().  It only
 * reads counters and sets flags, so a stuck camera cannot stall it.
 */

#ifndef VMS_WATCHDOG_H
#define VMS_WATCHDOG_H

int vms_watchdog_start(void);
void vms_watchdog_stop(void);

#endif /* VMS_WATCHDOG_H */
