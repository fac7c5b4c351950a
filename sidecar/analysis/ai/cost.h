/*
 * AI cost accounting: calls per camera, provider, API and UTC day, priced by
 * a configurable table, in one process-wide registry (mutex; updates are a
 * few per minute).  Feeds the metrics vms_rekognition_calls{camera_id,api},
 * vms_rekognition_cost_usd{camera_id}, vms_ai_calls_total{camera_id,
 * provider,api}, the daily totals written to PostgreSQL (ai_costs) and
 * GET /api/analytics/ai-cost.
 *
 * Days are kept for VMS_AI_COST_DAYS days per camera in memory; PostgreSQL
 * keeps them for good.
 */

#ifndef VMS_AI_COST_H
#define VMS_AI_COST_H

#include <stddef.h>
#include <stdint.h>

#define VMS_AI_COST_DAYS    62
#define VMS_AI_PRICE_MAX    12

typedef struct {
    struct { char api[32]; double usd; } v[VMS_AI_PRICE_MAX];
    int n;
} vms_ai_prices_t;

/* DetectLabels 0.001, DetectFaces 0.001, DetectText 0.001, PutObject
 * 0.000005; anything else 0. */
void vms_ai_prices_default(vms_ai_prices_t *p);
/* "DetectLabels:0.001,DetectFaces:0.0012" overrides/adds.  0 or -1. */
int vms_ai_prices_parse(vms_ai_prices_t *p, const char *s, char *err,
    size_t errlen);
double vms_ai_price_of(const vms_ai_prices_t *p, const char *api);

/* A camera whose calls will be priced: its cost counters exist from now on, at 0, so that the
 * first priced call is an increase Prometheus sees (a counter born at its first value is not). */
void vms_ai_cost_track(const char *camera_id);

/* Record calls at ts_us (UTC).  Returns the cost added. */
double vms_ai_cost_record(const char *camera_id, const char *provider,
    const char *api, int calls, const vms_ai_prices_t *prices, int64_t ts_us);

/* Cost of camera_id on the UTC day of ts_us (all providers). */
double vms_ai_cost_day(const char *camera_id, int64_t ts_us);

/* JSON {"cameras":[{"camera_id":…,"days":[{"date":"2026-11-24",
 * "cost_usd":…,"calls":{"DetectLabels":3,…},"providers":{"rekognition":3}}]}],
 * "total_usd":…}.  camera_id NULL: all; from/to "YYYY-MM-DD" or NULL.
 * Returns malloc'd text or NULL. */
char *vms_ai_cost_json(const char *camera_id, const char *from,
    const char *to);

/* Prometheus text of the cost families (a metrics collector). */
typedef void (*vms_ai_cost_emit_pt)(void *ud, const char *text, size_t len);
void vms_ai_cost_metrics(vms_ai_cost_emit_pt emit, void *ud);

/* Forget everything (tests, shutdown). */
void vms_ai_cost_reset(void);

#endif /* VMS_AI_COST_H */
