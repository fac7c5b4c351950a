/*
 * Prometheus metrics registry, served as text at GET /metrics.
 *
 * Any file may register a family once (by name; registering the same name
 * again returns the same family) and update series from any thread:
 *
 *   static vms_metric_t *m;
 *   m = vms_metric_new("vms_rekognition_calls", "Calls to Rekognition",
 *                      VMS_COUNTER, NULL, 0);
 *   vms_metric_labels(l, sizeof(l), "camera_id", id, NULL);
 *   vms_series_add(vms_metric_series(m, l), 1);
 *
 * Series are created on first use and live as long as the process (a
 * removed camera's counters stay, as counters should).  Values that are
 * cheaper to compute at scrape time come from a collector callback.
 */

#ifndef VMS_METRICS_H
#define VMS_METRICS_H

#include <stddef.h>

#include "util.h"

typedef enum {
    VMS_COUNTER = 0,
    VMS_GAUGE,
    VMS_HISTOGRAM,
} vms_metric_type_e;

typedef struct vms_metric_s  vms_metric_t;
typedef struct vms_series_s  vms_series_t;

/* buckets: upper bounds, ascending, for histograms only. */
vms_metric_t *vms_metric_new(const char *name, const char *help,
    vms_metric_type_e type, const double *buckets, int nbuckets);

/* labels: "" or a list built by vms_metric_labels().  Never NULL unless out
 * of memory (then updates to NULL are ignored). */
vms_series_t *vms_metric_series(vms_metric_t *m, const char *labels);

void vms_series_add(vms_series_t *s, double v);
void vms_series_set(vms_series_t *s, double v);
void vms_series_observe(vms_series_t *s, double v);

/* name1, value1, …, NULL -> name1="value1",… with values escaped. */
void vms_metric_labels(char *buf, size_t len, ...);

/* A collector appends complete families (# HELP, # TYPE, samples). */
typedef void (*vms_metrics_collect_pt)(vms_buf_t *out, void *data);
void vms_metrics_register_collector(vms_metrics_collect_pt fn, void *data);

void vms_metrics_render(vms_buf_t *out);

#endif /* VMS_METRICS_H */
