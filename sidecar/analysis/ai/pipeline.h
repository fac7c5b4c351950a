/*
 * The analysis of one camera, synchronous: one sampled frame in, at most one
 * provider call out.  analysis.c runs it on its own thread behind a bounded
 * queue; the vms-ai tool runs it on files (tests, benchmark).
 *
 *   frame ─ ROI crop ─ grey w x h (swscale) ─ motion ─┬─ no motion: skipped
 *                                                     ├─ within ai_interval
 *                                                     │  or over budget: skipped
 *                                                     └─ RGB (+JPEG) ─ provider
 *   ─ boxes mapped to full-frame pixels ─ vehicle colour ─ results document
 *   (S3 for Rekognition, or a JPEG snapshot file) ─ one DetectionResult per
 *   detection to the sink (Kafka vms.detections + PostgreSQL).
 */

#ifndef VMS_AI_PIPELINE_H
#define VMS_AI_PIPELINE_H

#include <stddef.h>
#include <stdint.h>
#include <libavutil/frame.h>

#include "cost.h"
#include "image.h"
#include "motion.h"
#include "provider.h"
#include "roi.h"

typedef struct {
    int                     enabled;        /* ai_enabled: off */
    int                     motion_enabled; /* motion_enabled: on */
    int                     motion_width;   /* motion_width: 160 */
    vms_motion_conf_t       motion;         /* motion_threshold … */
    vms_roi_t               roi;            /* roi_areas */
    int64_t                 interval_ms;    /* ai_interval: 10s */
    int                     max_width;      /* ai_max_width: 1280 */
    int                     jpeg_quality;   /* ai_jpeg_quality: 4 (2..31) */
    vms_ai_provider_conf_t  provider;       /* ai_provider, ai_timeout … */
    vms_ai_prices_t         prices;         /* ai_price */
    double                  budget_usd;     /* ai_budget_usd_per_day: 0 off */
    int                     store_results;  /* ai_store_results: on (S3) */
    char                    snapshot_dir[256]; /* ai_snapshot_dir: "" */
    int                     queue_len;      /* ai_queue: 2 frames */
    int                     dry_run;        /* not a key: vms-ai eval; a frame
                                               that would be sent ends with
                                               skip NONE, sent 0 */
} vms_ai_conf_t;

/* Where results go; every callback may be NULL.  Called on the analysis
 * thread; must not block for long (they enqueue). */
typedef struct {
    void  *ud;
    /* One DetectionResult document (JSON, see docs/ai.md). */
    void (*result)(void *ud, const char *camera_id, const char *json,
                   size_t len);
    /* An event for vms.events: type "ai.budget_exceeded", "ai.error". */
    void (*event)(void *ud, const char *camera_id, const char *type,
                  const char *fields_json);
    /* Calls priced and recorded; for the daily totals in PostgreSQL. */
    void (*cost)(void *ud, const char *camera_id, int64_t ts_us,
                 const char *provider, const char *api, int calls,
                 double usd);
} vms_ai_sink_t;

typedef enum {
    VMS_AI_SKIP_NONE = 0,
    VMS_AI_SKIP_FIRST,          /* background being primed */
    VMS_AI_SKIP_NO_MOTION,
    VMS_AI_SKIP_INTERVAL,
    VMS_AI_SKIP_BUDGET,
    VMS_AI_SKIP_ROI_INVALID,
    VMS_AI_SKIP_ERROR,
    VMS_AI_SKIP_N
} vms_ai_skip_e;

const char *vms_ai_skip_name(vms_ai_skip_e s);

typedef struct {
    int                  sent;       /* the provider was called */
    vms_ai_skip_e        skip;
    vms_motion_result_t  motion;
    vms_roi_rect_t       motion_box; /* full-frame pixels (w 0: none) */
    int                  detections; /* results emitted */
    vms_ai_err_e         error;
    double               usd;
    int64_t              analysis_us;  /* crop+scale+motion time (wall) */
    int64_t              analysis_cpu_us;  /* the same in thread CPU time */
} vms_ai_outcome_t;

typedef struct vms_ai_pipeline_s vms_ai_pipeline_t;

/* NULL with a message (provider cannot start: credentials, models). */
vms_ai_pipeline_t *vms_ai_pipeline_new(const char *camera_id,
    const vms_ai_conf_t *conf, const vms_ai_sink_t *sink,
    const volatile int *cancel, char *err, size_t errlen);
void vms_ai_pipeline_free(vms_ai_pipeline_t *p);

void vms_ai_pipeline_process(vms_ai_pipeline_t *p, const AVFrame *frame,
    int64_t ts_us, vms_ai_outcome_t *out);

/* Last error text (ROI, provider), "" when none.  Analysis thread only. */
const char *vms_ai_pipeline_error(const vms_ai_pipeline_t *p);

#endif /* VMS_AI_PIPELINE_H */
