/* Alert rules: loading with an error per bad field, and matching (see rules.h). */
#include "rules.h"

#include "../consumer_common/jcheck.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

static const char *rule_fields[] = { "name", "cameras", "labels", "min_score", "roi", "time",
                                     "severity", NULL };
static const char *time_fields[] = { "days", "from", "to", "tz", NULL };
static const char *day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };


static int
hhmm(const char *s, int *min)
{
    if (strlen(s) != 5 || !isdigit((unsigned char) s[0]) || !isdigit((unsigned char) s[1]) || s[2] != ':'
        || !isdigit((unsigned char) s[3]) || !isdigit((unsigned char) s[4])) {
        return -1;
    }
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0)) {
        return -1;
    }
    *min = h * 60 + m;
    return 0;
}

/* an IANA zone that this machine's tz database has (glibc falls back to UTC silently) */
static int
zone_ok(const char *tz)
{
    char path[160];
    struct stat st;
    if (strcmp(tz, "UTC") == 0) {
        return 1;
    }
    if (!vms_name_ok(tz, 64, "_+-/") || strstr(tz, "..") || tz[0] == '/') {
        return 0;
    }
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char **
strings(vms_errs_t *e, const char *where, const char *field, json_t *a, size_t *n, int camera)
{
    if (!json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > 1024) {
        vms_bad(e, "%s: %s: must be a non-empty array of strings", where, field);
        return NULL;
    }
    char **v = calloc(json_array_size(a), sizeof(*v));
    if (v == NULL) {
        vms_bad(e, "%s: out of memory", where);
        return NULL;
    }
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x) {
        if (!json_is_string(x) || !vms_name_ok(json_string_value(x), camera ? 64 : 200,
                                           camera ? "_-" : "_- .:/")) {
            vms_bad(e, "%s: %s[%zu]: must be %s", where, field, i,
                camera ? "a camera id ([A-Za-z0-9_-], 1..64)" : "a label (letters, digits, _-.:/ and spaces)");
            v[i] = NULL;
            continue;
        }
        v[i] = strdup(json_string_value(x));
    }
    *n = json_array_size(a);
    return v;
}

static void
rule_free(vms_rule_t *r)
{
    for (size_t i = 0; r->cameras && i < r->ncameras; i++) {
        free(r->cameras[i]);
    }
    for (size_t i = 0; r->labels && i < r->nlabels; i++) {
        free(r->labels[i]);
    }
    free(r->cameras);
    free(r->labels);
}

static void
rule_time(vms_errs_t *e, const char *where, json_t *t, vms_rule_t *r)
{
    char w[160];
    if (!json_is_object(t)) {
        vms_bad(e, "%s: time: must be an object {days, from, to, tz}", where);
        return;
    }
    snprintf(w, sizeof(w), "%s: time", where);
    vms_unknown_fields(e, w, t, time_fields);
    r->has_time = 1;
    r->days = 0x7f;
    r->from_min = 0;
    r->to_min = 24 * 60;
    snprintf(r->tz, sizeof(r->tz), "UTC");
    json_t *days = json_object_get(t, "days");
    if (days != NULL) {
        r->days = 0;
        size_t i;
        json_t *x;
        if (!json_is_array(days) || json_array_size(days) == 0) {
            vms_bad(e, "%s.days: must be a non-empty array of sun, mon, tue, wed, thu, fri, sat", w);
        }
        json_array_foreach(days, i, x) {
            int d = -1;
            for (int k = 0; k < 7 && json_is_string(x); k++) {
                if (strcasecmp(json_string_value(x), day_names[k]) == 0) {
                    d = k;
                }
            }
            if (d < 0) {
                vms_bad(e, "%s.days[%zu]: not one of sun, mon, tue, wed, thu, fri, sat", w, i);
            } else {
                r->days |= 1u << d;
            }
        }
    }
    const char *names[2] = { "from", "to" };
    int *dst[2] = { &r->from_min, &r->to_min };
    for (int k = 0; k < 2; k++) {
        json_t *v = json_object_get(t, names[k]);
        if (v == NULL) {
            continue;
        }
        if (!json_is_string(v) || hhmm(json_string_value(v), dst[k]) < 0) {
            vms_bad(e, "%s.%s: %s%.20s%s is not HH:MM (00:00..24:00)", w, names[k],
                json_is_string(v) ? "\"" : "", json_is_string(v) ? json_string_value(v) : "a non-string",
                json_is_string(v) ? "\"" : "");
        }
    }
    if (r->from_min == r->to_min) {
        vms_bad(e, "%s: from and to are equal (an empty window; leave both out for all day)", w);
    }
    json_t *tz = json_object_get(t, "tz");
    if (tz != NULL) {
        if (!json_is_string(tz) || !zone_ok(json_string_value(tz))) {
            vms_bad(e, "%s.tz: %s%.64s%s is not a time zone of the tz database (e.g. America/Sao_Paulo)", w,
                json_is_string(tz) ? "\"" : "", json_is_string(tz) ? json_string_value(tz) : "a non-string",
                json_is_string(tz) ? "\"" : "");
        } else {
            snprintf(r->tz, sizeof(r->tz), "%s", json_string_value(tz));
        }
    }
}

static void
rule_load(vms_errs_t *e, size_t idx, json_t *o, vms_rule_t *r)
{
    char where[120];
    json_t *name = json_object_get(o, "name");     /* o is an object (vms_jcheck_list) */
    if (json_is_string(name)) {
        snprintf(where, sizeof(where), "rules[%zu] (\"%.64s\")", idx, json_string_value(name));
    } else {
        snprintf(where, sizeof(where), "rules[%zu]", idx);
    }
    vms_unknown_fields(e, where, o, rule_fields);
    if (!json_is_string(name) || !vms_name_ok(json_string_value(name), 64, "_-.")) {
        vms_bad(e, "%s: name: required, [A-Za-z0-9_.-], 1..64 characters", where);
    } else {
        snprintf(r->name, sizeof(r->name), "%s", json_string_value(name));
    }
    json_t *v;
    if ((v = json_object_get(o, "cameras")) != NULL) {
        r->cameras = strings(e, where, "cameras", v, &r->ncameras, 1);
    }
    if ((v = json_object_get(o, "labels")) != NULL) {
        r->labels = strings(e, where, "labels", v, &r->nlabels, 0);
    }
    if ((v = json_object_get(o, "min_score")) != NULL) {
        if (!json_is_number(v) || !(json_number_value(v) >= 0 && json_number_value(v) <= 1)) {
            vms_bad(e, "%s: min_score: must be a number in 0..1", where);
        } else {
            r->min_score = json_number_value(v);
        }
    }
    if ((v = json_object_get(o, "roi")) != NULL) {
        size_t i;
        json_t *p;
        if (!json_is_array(v) || json_array_size(v) < 3 || json_array_size(v) > VMS_RULE_MAX_POINTS) {
            vms_bad(e, "%s: roi: needs 3..%d points [x,y] in 0..1", where, VMS_RULE_MAX_POINTS);
        } else {
            json_array_foreach(v, i, p) {
                json_t *x = json_array_get(p, 0), *y = json_array_get(p, 1);
                if (!json_is_array(p) || json_array_size(p) != 2 || !json_is_number(x) || !json_is_number(y)
                    || json_number_value(x) < 0 || json_number_value(x) > 1
                    || json_number_value(y) < 0 || json_number_value(y) > 1) {
                    vms_bad(e, "%s: roi[%zu]: must be [x,y] with both in 0..1", where, i);
                    break;
                }
                r->roi[i][0] = json_number_value(x);
                r->roi[i][1] = json_number_value(y);
            }
            r->nroi = json_array_size(v);
        }
    }
    if ((v = json_object_get(o, "time")) != NULL) {
        rule_time(e, where, v, r);
    }
    r->severity = "warning";
    if ((v = json_object_get(o, "severity")) != NULL) {
        static const char *sev[] = { "info", "warning", "critical" };
        r->severity = NULL;
        for (int k = 0; k < 3 && json_is_string(v); k++) {
            if (strcmp(json_string_value(v), sev[k]) == 0) {
                r->severity = sev[k];
            }
        }
        if (r->severity == NULL) {
            vms_bad(e, "%s: severity: must be info, warning or critical", where);
            r->severity = "warning";
        }
    }
}

/* rule_load, then a name another rule already has */
static void
rule_item(vms_errs_t *e, size_t idx, json_t *o, void *item, json_t *seen)
{
    vms_rule_t *r = item;
    rule_load(e, idx, o, r);
    if (r->name[0] == '\0') {
        return;
    }
    json_t *first = json_object_get(seen, r->name);
    if (first) {
        vms_bad(e, "rules[%zu] (\"%s\"): name: the same as rules[%zu]'s", idx, r->name,
                (size_t) json_integer_value(first));
    } else {
        json_object_set_new(seen, r->name, json_integer((json_int_t) idx));
    }
}

int
vms_rules_load(const char *text, size_t len, vms_rules_t *out, char *err, size_t errlen)
{
    vms_errs_t e = VMS_ERRS(err, errlen);
    if (errlen) {
        err[0] = '\0';
    }
    out->v = vms_jcheck_list(text, len, "rules", VMS_RULES_MAX, sizeof(*out->v), rule_item, &out->n, &e);
    if (e.n > 0) {
        vms_rules_free(out);
        return -1;
    }
    return 0;
}

void
vms_rules_free(vms_rules_t *rs)
{
    for (size_t i = 0; rs->v && i < rs->n; i++) {
        rule_free(&rs->v[i]);
    }
    free(rs->v);
    rs->v = NULL;
    rs->n = 0;
}

int
vms_roi_contains(const double (*pts)[2], size_t n, double x, double y)
{
    int in = 0;
    for (size_t i = 0, j = n - 1; i < n; j = i++) {
        if (((pts[i][1] > y) != (pts[j][1] > y))
            && (x < (pts[j][0] - pts[i][0]) * (y - pts[i][1]) / (pts[j][1] - pts[i][1]) + pts[i][0])) {
            in = !in;
        }
    }
    return in;
}

static int
in_window(const vms_rule_t *r, int64_t ts_us)
{
    time_t t = (time_t) (ts_us / 1000000 - (ts_us % 1000000 < 0));
    struct tm tm;
    char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    setenv("TZ", r->tz, 1);
    tzset();
    int ok = localtime_r(&t, &tm) != NULL;
    if (saved) {
        setenv("TZ", saved, 1);
        free(saved);
    } else {
        unsetenv("TZ");
    }
    tzset();
    if (!ok) {
        return 0;
    }
    int min = tm.tm_hour * 60 + tm.tm_min;
    if (r->from_min < r->to_min) {
        return (r->days & (1u << tm.tm_wday)) && min >= r->from_min && min < r->to_min;
    }
    /* crosses midnight: the part after midnight belongs to the day the window started */
    if (min >= r->from_min) {
        return (r->days & (1u << tm.tm_wday)) != 0;
    }
    if (min < r->to_min) {
        return (r->days & (1u << ((tm.tm_wday + 6) % 7))) != 0;
    }
    return 0;
}

int
vms_rule_match(const vms_rule_t *r, const vms_detection_t *d)
{
    if (d->confidence < r->min_score) {
        return 0;
    }
    if (r->cameras) {
        size_t i = 0;
        while (i < r->ncameras && (r->cameras[i] == NULL || strcmp(r->cameras[i], d->camera_id) != 0)) {
            i++;
        }
        if (i == r->ncameras) {
            return 0;
        }
    }
    if (r->labels) {
        size_t i = 0;
        while (i < r->nlabels && (r->labels[i] == NULL || strcasecmp(r->labels[i], d->label) != 0)) {
            i++;
        }
        if (i == r->nlabels) {
            return 0;
        }
    }
    if (r->nroi > 0) {
        if (!d->has_bbox || !d->has_frame) {
            return 0;
        }
        double cx = (d->bx + d->bw / 2) / d->fw, cy = (d->by + d->bh / 2) / d->fh;
        if (!vms_roi_contains((const double (*)[2]) r->roi, r->nroi, cx, cy)) {
            return 0;
        }
    }
    return !r->has_time || in_window(r, d->ts_us);
}
