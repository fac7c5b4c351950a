/*
 * The AI pipeline's ties to vmsd (only in vmsd, not in the vms-ai tool):
 *   results.c   DetectionResults to Kafka vms.detections (events.h) and
 *               PostgreSQL detection_results (pg.h), retried 1 s/2 s/4 s,
 *               then vms.detections.dlq (ai/retry.c);
 *   cost_api.c  GET /api/analytics/ai-cost (http.h), the cost metrics
 *               (metrics.h collector), daily totals into ai_costs.
 * vms_ai_vmsd_init() is idempotent and thread-safe.
 */

#ifndef VMS_AI_VMSD_H
#define VMS_AI_VMSD_H

#include <stddef.h>
#include <stdint.h>

#define VMS_TOPIC_DETECTIONS_DLQ  "vms.detections.dlq"

void vms_ai_vmsd_init(void);

void vms_ai_results_init(void);
void vms_ai_results_submit(const char *camera_id, const char *json,
    size_t len);

void vms_ai_cost_api_init(void);
void vms_ai_cost_persist(const char *camera_id, int64_t ts_us,
    const char *provider, const char *api, int calls, double usd);

#endif /* VMS_AI_VMSD_H */
