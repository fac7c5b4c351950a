/*
 * Alert rules for review events (conf/review/rules.json, docs/events.md "Rules"):
 * {"rules":[{"name","cameras":[…],"labels":[…],"min_score":0.6,"roi":[[x,y],…],
 *            "time":{"days":["mon",…],"from":"22:00","to":"06:00","tz":"America/Sao_Paulo"},
 *            "severity":"info|warning|critical"}]}
 * Every field but name is optional. Loading checks everything and reports each bad rule with
 * its index, name and field; a file with any error loads nothing.
 */
#ifndef VMS_RULES_H
#define VMS_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "detection.h"

#define VMS_RULE_MAX_POINTS  64
#define VMS_RULES_MAX        256

typedef struct {
    char      name[65];
    char    **cameras;          /* NULL = any */
    size_t    ncameras;
    char    **labels;           /* NULL = any; compared without case */
    size_t    nlabels;
    double    min_score;
    double    roi[VMS_RULE_MAX_POINTS][2];
    size_t    nroi;             /* 0 = no ROI */
    int       has_time;
    unsigned  days;             /* bit 0 = Sunday … bit 6 = Saturday (struct tm's tm_wday) */
    int       from_min, to_min; /* minutes after local midnight; from > to crosses midnight */
    char      tz[65];           /* IANA zone, "UTC" by default */
    const char *severity;       /* "info", "warning", "critical" */
} vms_rule_t;

typedef struct {
    vms_rule_t *v;
    size_t      n;
} vms_rules_t;

/* 0, or -1 with err holding one line per problem ("rules[2] (\"night\"): time.from: …"). */
int  vms_rules_load(const char *text, size_t len, vms_rules_t *out, char *err, size_t errlen);
void vms_rules_free(vms_rules_t *rs);

/* Whether the detection meets every condition of the rule. The time window is judged at the
 * detection's own ts in the rule's zone (TZ is switched and restored: single-threaded callers). */
int  vms_rule_match(const vms_rule_t *r, const vms_detection_t *d);

/* Point-in-polygon (even-odd), normalised coordinates. */
int  vms_roi_contains(const double (*pts)[2], size_t n, double x, double y);

#endif
