/*
 * AI cost registry (see cost.h).
 */

#include "cost.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define API_MAX  12

typedef struct {
    char      provider[16];
    char      api[32];
    uint64_t  calls;          /* since start (counter) */
} total_t;

typedef struct {
    int64_t   day;            /* days since the epoch, -1 unused */
    struct { char provider[16]; char api[32]; uint64_t calls; double usd; }
              v[API_MAX];
    int       n;
} day_t;

typedef struct cam_s {
    char          id[65];
    day_t         days[VMS_AI_COST_DAYS];
    total_t       totals[API_MAX];
    int           ntotals;
    double        rek_usd;    /* Rekognition + its S3 uploads, since start */
    struct cam_s *next;
} cam_t;

static pthread_mutex_t  lock = PTHREAD_MUTEX_INITIALIZER;
static cam_t           *cams;

void
vms_ai_prices_default(vms_ai_prices_t *p)
{
    static const struct { const char *api; double usd; } d[] = {
        { "DetectLabels", 0.001 }, { "DetectFaces", 0.001 },
        { "DetectText", 0.001 }, { "PutObject", 0.000005 },
    };

    memset(p, 0, sizeof(*p));
    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
        snprintf(p->v[i].api, sizeof(p->v[i].api), "%s", d[i].api);
        p->v[i].usd = d[i].usd;
    }
    p->n = (int) (sizeof(d) / sizeof(d[0]));
}

int
vms_ai_prices_parse(vms_ai_prices_t *p, const char *s, char *err,
    size_t errlen)
{
    char  buf[512], *save = NULL, *tok;

    if (strlen(s) >= sizeof(buf)) {
        snprintf(err, errlen, "longer than %zu bytes", sizeof(buf) - 1);
        return -1;
    }
    snprintf(buf, sizeof(buf), "%s", s);
    for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        char *colon = strchr(tok, ':'), *end;
        double usd;
        int i;

        if (colon == NULL || colon == tok || colon - tok >= 32) {
            snprintf(err, errlen, "\"%.40s\": expected API:USD, e.g. "
                     "DetectLabels:0.001", tok);
            return -1;
        }
        *colon = '\0';
        usd = strtod(colon + 1, &end);
        if (end == colon + 1 || *end != '\0' || usd < 0 || usd > 100) {
            snprintf(err, errlen, "%s: \"%.20s\" is not a price in "
                     "USD (0..100)", tok, colon + 1);
            return -1;
        }
        for (i = 0; i < p->n && strcmp(p->v[i].api, tok) != 0; i++) {
        }
        if (i == p->n) {
            if (p->n == VMS_AI_PRICE_MAX) {
                snprintf(err, errlen, "at most %d APIs",
                         VMS_AI_PRICE_MAX);
                return -1;
            }
            snprintf(p->v[i].api, sizeof(p->v[i].api), "%s", tok);
            p->n++;
        }
        p->v[i].usd = usd;
    }
    return 0;
}

double
vms_ai_price_of(const vms_ai_prices_t *p, const char *api)
{
    for (int i = 0; i < p->n; i++) {
        if (strcmp(p->v[i].api, api) == 0) {
            return p->v[i].usd;
        }
    }
    return 0;
}

static int64_t
day_of(int64_t ts_us)
{
    int64_t s = ts_us / 1000000;
    return s >= 0 ? s / 86400 : (s - 86399) / 86400;
}

static cam_t *
cam_get(const char *id, int create)
{
    cam_t *c;

    for (c = cams; c != NULL; c = c->next) {
        if (strcmp(c->id, id) == 0) {
            return c;
        }
    }
    if (!create || (c = calloc(1, sizeof(*c))) == NULL) {
        return NULL;
    }
    snprintf(c->id, sizeof(c->id), "%s", id);
    for (int i = 0; i < VMS_AI_COST_DAYS; i++) {
        c->days[i].day = -1;
    }
    /* keep the list sorted by id: stable output */
    cam_t **pp = &cams;
    while (*pp != NULL && strcmp((*pp)->id, id) < 0) {
        pp = &(*pp)->next;
    }
    c->next = *pp;
    *pp = c;
    return c;
}

void
vms_ai_cost_track(const char *camera_id)
{
    pthread_mutex_lock(&lock);
    (void) cam_get(camera_id, 1);
    pthread_mutex_unlock(&lock);
}

double
vms_ai_cost_record(const char *camera_id, const char *provider,
    const char *api, int calls, const vms_ai_prices_t *prices, int64_t ts_us)
{
    int64_t  day = day_of(ts_us);
    double   usd = calls * vms_ai_price_of(prices, api);
    cam_t   *c;
    day_t   *d;
    int      i;

    pthread_mutex_lock(&lock);
    c = cam_get(camera_id, 1);
    if (c == NULL) {
        pthread_mutex_unlock(&lock);
        return usd;
    }
    d = &c->days[day % VMS_AI_COST_DAYS];
    if (d->day != day) {
        memset(d, 0, sizeof(*d));
        d->day = day;
    }
    for (i = 0; i < d->n && (strcmp(d->v[i].api, api) != 0
                             || strcmp(d->v[i].provider, provider) != 0); i++) {
    }
    if (i == d->n && d->n < API_MAX) {
        snprintf(d->v[i].api, sizeof(d->v[i].api), "%s", api);
        snprintf(d->v[i].provider, sizeof(d->v[i].provider), "%s", provider);
        d->n++;
    }
    if (i < API_MAX) {
        d->v[i].calls += (uint64_t) calls;
        d->v[i].usd += usd;
    }
    for (i = 0; i < c->ntotals && (strcmp(c->totals[i].api, api) != 0
                   || strcmp(c->totals[i].provider, provider) != 0); i++) {
    }
    if (i == c->ntotals && c->ntotals < API_MAX) {
        snprintf(c->totals[i].api, sizeof(c->totals[i].api), "%s", api);
        snprintf(c->totals[i].provider, sizeof(c->totals[i].provider), "%s",
                 provider);
        c->ntotals++;
    }
    if (i < API_MAX) {
        c->totals[i].calls += (uint64_t) calls;
    }
    if (strcmp(provider, "rekognition") == 0) {
        c->rek_usd += usd;
    }
    pthread_mutex_unlock(&lock);
    return usd;
}

double
vms_ai_cost_day(const char *camera_id, int64_t ts_us)
{
    int64_t  day = day_of(ts_us);
    double   usd = 0;
    cam_t   *c;

    pthread_mutex_lock(&lock);
    c = cam_get(camera_id, 0);
    if (c != NULL && c->days[day % VMS_AI_COST_DAYS].day == day) {
        day_t *d = &c->days[day % VMS_AI_COST_DAYS];
        for (int i = 0; i < d->n; i++) {
            usd += d->v[i].usd;
        }
    }
    pthread_mutex_unlock(&lock);
    return usd;
}

static void
date_of(int64_t day, char *buf, size_t len)
{
    time_t    t = (time_t) (day * 86400);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d", &tm);
}

static int
cmp_day(const void *a, const void *b)
{
    const day_t *x = *(const day_t *const *) a, *y = *(const day_t *const *) b;
    return x->day < y->day ? -1 : x->day > y->day;
}

char *
vms_ai_cost_json(const char *camera_id, const char *from, const char *to)
{
    json_t *root = json_object(), *arr = json_array();
    double  total = 0;
    char   *out;

    pthread_mutex_lock(&lock);
    for (cam_t *c = cams; c != NULL; c = c->next) {
        const day_t *sorted[VMS_AI_COST_DAYS];
        int          n = 0;
        json_t      *cj, *days;

        if (camera_id != NULL && strcmp(camera_id, c->id) != 0) {
            continue;
        }
        for (int i = 0; i < VMS_AI_COST_DAYS; i++) {
            if (c->days[i].day >= 0) {
                sorted[n++] = &c->days[i];
            }
        }
        qsort(sorted, (size_t) n, sizeof(sorted[0]), cmp_day);
        days = json_array();
        for (int i = 0; i < n; i++) {
            char    date[16];
            double  usd = 0;
            json_t *calls = json_object(), *prov = json_object(), *dj;

            date_of(sorted[i]->day, date, sizeof(date));
            if ((from && strcmp(date, from) < 0) || (to && strcmp(date, to) > 0)) {
                json_decref(calls);
                json_decref(prov);
                continue;
            }
            for (int k = 0; k < sorted[i]->n; k++) {
                const char *api = sorted[i]->v[k].api;
                const char *pv = sorted[i]->v[k].provider;
                json_int_t  nc = (json_int_t) sorted[i]->v[k].calls;
                json_t     *pc = json_object_get(prov, pv);

                json_object_set_new(calls, api, json_integer(
                    json_integer_value(json_object_get(calls, api)) + nc));
                json_object_set_new(prov, pv, json_integer(
                    json_integer_value(pc) + nc));
                usd += sorted[i]->v[k].usd;
            }
            dj = json_pack("{s:s,s:f,s:o,s:o}", "date", date, "cost_usd", usd,
                           "calls", calls, "providers", prov);
            json_array_append_new(days, dj);
            total += usd;
        }
        cj = json_pack("{s:s,s:o}", "camera_id", c->id, "days", days);
        json_array_append_new(arr, cj);
    }
    pthread_mutex_unlock(&lock);
    json_object_set_new(root, "cameras", arr);
    json_object_set_new(root, "total_usd", json_real(total));
    out = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(root);
    return out;
}

void
vms_ai_cost_metrics(vms_ai_cost_emit_pt emit, void *ud)
{
    char line[512];
    int  n;

#define EMIT(...) do { n = snprintf(line, sizeof(line), __VA_ARGS__); \
        if (n > 0) emit(ud, line, (size_t) (n < (int) sizeof(line) ? n \
                                            : (int) sizeof(line) - 1)); } while (0)

    pthread_mutex_lock(&lock);
    EMIT("# HELP vms_rekognition_calls Billable Rekognition (and S3) calls.\n"
         "# TYPE vms_rekognition_calls counter\n");
    for (cam_t *c = cams; c != NULL; c = c->next) {
        for (int i = 0; i < c->ntotals; i++) {
            if (strcmp(c->totals[i].provider, "rekognition") == 0) {
                EMIT("vms_rekognition_calls{camera_id=\"%s\",api=\"%s\"} %llu\n",
                     c->id, c->totals[i].api,
                     (unsigned long long) c->totals[i].calls);
            }
        }
    }
    EMIT("# HELP vms_rekognition_cost_usd Rekognition cost since start, USD.\n"
         "# TYPE vms_rekognition_cost_usd counter\n");
    for (cam_t *c = cams; c != NULL; c = c->next) {
        EMIT("vms_rekognition_cost_usd{camera_id=\"%s\"} %.6f\n", c->id,
             c->rek_usd);
    }
    EMIT("# HELP vms_ai_calls_total Detection provider calls by API.\n"
         "# TYPE vms_ai_calls_total counter\n");
    for (cam_t *c = cams; c != NULL; c = c->next) {
        for (int i = 0; i < c->ntotals; i++) {
            EMIT("vms_ai_calls_total{camera_id=\"%s\",provider=\"%s\","
                 "api=\"%s\"} %llu\n", c->id, c->totals[i].provider,
                 c->totals[i].api, (unsigned long long) c->totals[i].calls);
        }
    }
    pthread_mutex_unlock(&lock);
#undef EMIT
}

void
vms_ai_cost_reset(void)
{
    pthread_mutex_lock(&lock);
    while (cams != NULL) {
        cam_t *n = cams->next;
        free(cams);
        cams = n;
    }
    pthread_mutex_unlock(&lock);
}
