/*
 * Analysis: the contract between the camera pipeline and the AI pipeline
 * (sampling → ROI crop → motion trigger → detection provider → results).
 *
 * The camera thread decodes keyframes only (AVDISCARD_NONKEY) for snapshots
 * and the still-picture watchdog, and offers each decoded frame here.
 * vms_analysis_submit() never blocks and never slows recording: it takes a
 * reference into a bounded queue and drops the frame when analysis is busy.
 *
 * Configuration: config.c hands every camera key that starts with "ai_",
 * "motion_" or "roi" to vms_analysis_conf_set(), which validates it.
 */

#ifndef VMS_ANALYSIS_H
#define VMS_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>
#include <libavutil/frame.h>

typedef struct vms_analysis_conf_s vms_analysis_conf_t;   /* analysis.c */
typedef struct vms_analysis_s      vms_analysis_t;

/* Process-wide set-up (metrics, the cost API route); idempotent.  Called
 * once at start-up, whether or not any camera has analysis enabled. */
void vms_analysis_init(void);

/* Per-camera configuration, allocated and defaulted here. */
vms_analysis_conf_t *vms_analysis_conf_new(void);
void vms_analysis_conf_free(vms_analysis_conf_t *conf);

/* One "key = value" of a camera section.  Returns 0, or -1 with a message
 * (naming the key and what is wrong, never a secret) in err. */
int vms_analysis_conf_set(vms_analysis_conf_t *conf, const char *key,
    const char *value, char *err, size_t errlen);

/* NULL when analysis is disabled for this camera (no error). */
vms_analysis_t *vms_analysis_start(const char *camera_id,
    const vms_analysis_conf_t *conf);

/* frame: a decoded keyframe; ts_us: its UTC time.  Non-blocking. */
void vms_analysis_submit(vms_analysis_t *an, const AVFrame *frame,
    int64_t ts_us);

void vms_analysis_stop(vms_analysis_t *an);

#endif /* VMS_ANALYSIS_H */
