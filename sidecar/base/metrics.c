#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BUCKETS  32

struct vms_series_s {
    char              *labels;
    _Atomic double     value;            /* counter/gauge; histogram sum */
    atomic_uint_least64_t  count;        /* histogram */
    atomic_uint_least64_t  buckets[MAX_BUCKETS];
    vms_metric_t      *family;
    vms_series_t      *next;
};

struct vms_metric_s {
    char               *name;
    char               *help;
    vms_metric_type_e   type;
    double              bounds[MAX_BUCKETS];
    int                 nbounds;
    vms_series_t       *series;
    vms_metric_t       *next;
};

typedef struct collector_s  collector_t;
struct collector_s {
    vms_metrics_collect_pt  fn;
    void                   *data;
    collector_t            *next;
};

static pthread_mutex_t  lock = PTHREAD_MUTEX_INITIALIZER;
static vms_metric_t    *families, **families_tail = &families;
static collector_t     *collectors, **collectors_tail = &collectors;

vms_metric_t *
vms_metric_new(const char *name, const char *help, vms_metric_type_e type,
    const double *buckets, int nbuckets)
{
    vms_metric_t *m;

    pthread_mutex_lock(&lock);
    for (m = families; m != NULL; m = m->next) {
        if (strcmp(m->name, name) == 0) {
            pthread_mutex_unlock(&lock);
            return m;
        }
    }
    m = calloc(1, sizeof(*m));
    if (m != NULL) {
        m->name = strdup(name);
        m->help = strdup(help);
        m->type = type;
        if (nbuckets > MAX_BUCKETS) {
            nbuckets = MAX_BUCKETS;
        }
        if (type == VMS_HISTOGRAM && buckets != NULL) {
            memcpy(m->bounds, buckets, sizeof(double) * (size_t) nbuckets);
            m->nbounds = nbuckets;
        }
        if (m->name == NULL || m->help == NULL) {
            free(m->name);
            free(m->help);
            free(m);
            m = NULL;
        } else {
            *families_tail = m;
            families_tail = &m->next;
        }
    }
    pthread_mutex_unlock(&lock);
    return m;
}

vms_series_t *
vms_metric_series(vms_metric_t *m, const char *labels)
{
    vms_series_t *s, **tail;

    if (m == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&lock);
    for (tail = &m->series; (s = *tail) != NULL; tail = &s->next) {
        if (strcmp(s->labels, labels) == 0) {
            pthread_mutex_unlock(&lock);
            return s;
        }
    }
    s = calloc(1, sizeof(*s));
    if (s != NULL) {
        s->labels = strdup(labels);
        s->family = m;
        if (s->labels == NULL) {
            free(s);
            s = NULL;
        } else {
            *tail = s;
        }
    }
    pthread_mutex_unlock(&lock);
    return s;
}

void
vms_series_add(vms_series_t *s, double v)
{
    double old;

    if (s == NULL) {
        return;
    }
    old = atomic_load(&s->value);
    while (!atomic_compare_exchange_weak(&s->value, &old, old + v)) {
        /* retry with the fresh value */
    }
}

void
vms_series_set(vms_series_t *s, double v)
{
    if (s != NULL) {
        atomic_store(&s->value, v);
    }
}

void
vms_series_observe(vms_series_t *s, double v)
{
    vms_metric_t  *m;
    int            i;

    if (s == NULL) {
        return;
    }
    m = s->family;
    for (i = 0; i < m->nbounds; i++) {
        if (v <= m->bounds[i]) {
            atomic_fetch_add(&s->buckets[i], 1);
        }
    }
    atomic_fetch_add(&s->count, 1);
    vms_series_add(s, v);
}

void
vms_metric_labels(char *buf, size_t len, ...)
{
    va_list      ap;
    const char  *name, *value;
    size_t       off = 0;
    char         esc[256];

    buf[0] = '\0';
    va_start(ap, len);
    while ((name = va_arg(ap, const char *)) != NULL) {
        int n;
        value = va_arg(ap, const char *);
        vms_json_escape(esc, sizeof(esc), value ? value : "");
        n = snprintf(buf + off, len - off, "%s%s=\"%s\"", off ? "," : "",
                     name, esc);
        if (n < 0 || (size_t) n >= len - off) {
            break;
        }
        off += (size_t) n;
    }
    va_end(ap);
}

void
vms_metrics_register_collector(vms_metrics_collect_pt fn, void *data)
{
    collector_t *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        return;
    }
    c->fn = fn;
    c->data = data;
    pthread_mutex_lock(&lock);
    *collectors_tail = c;
    collectors_tail = &c->next;
    pthread_mutex_unlock(&lock);
}

static void
fmt_value(char *buf, size_t len, double v)
{
    /* 15 digits: a UTC timestamp in seconds keeps its milliseconds (%.6g
     * rounded it to hours) and a double prints without binary noise */
    if (v == (double) (int64_t) v && v < 9e15 && v > -9e15) {
        snprintf(buf, len, "%lld", (long long) v);
    } else {
        snprintf(buf, len, "%.15g", v);
    }
}

void
vms_metrics_render(vms_buf_t *out)
{
    static const char *types[] = { "counter", "gauge", "histogram" };
    vms_metric_t      *m;
    vms_series_t      *s;
    collector_t       *c, *next;
    char               v[64], le[64];
    int                i;

    pthread_mutex_lock(&lock);
    for (m = families; m != NULL; m = m->next) {
        vms_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help,
                       m->name, types[m->type]);
        for (s = m->series; s != NULL; s = s->next) {
            const char *sep = s->labels[0] ? "," : "";
            if (m->type != VMS_HISTOGRAM) {
                fmt_value(v, sizeof(v), atomic_load(&s->value));
                if (s->labels[0]) {
                    vms_buf_printf(out, "%s{%s} %s\n", m->name, s->labels, v);
                } else {
                    vms_buf_printf(out, "%s %s\n", m->name, v);
                }
                continue;
            }
            for (i = 0; i < m->nbounds; i++) {
                fmt_value(le, sizeof(le), m->bounds[i]);
                vms_buf_printf(out, "%s_bucket{%s%sle=\"%s\"} %llu\n", m->name,
                               s->labels, sep, le,
                               (unsigned long long) atomic_load(&s->buckets[i]));
            }
            vms_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", m->name,
                           s->labels, sep,
                           (unsigned long long) atomic_load(&s->count));
            fmt_value(v, sizeof(v), atomic_load(&s->value));
            vms_buf_printf(out, "%s_sum%s%s%s %s\n", m->name,
                           s->labels[0] ? "{" : "", s->labels,
                           s->labels[0] ? "}" : "", v);
            vms_buf_printf(out, "%s_count%s%s%s %llu\n", m->name,
                           s->labels[0] ? "{" : "", s->labels,
                           s->labels[0] ? "}" : "",
                           (unsigned long long) atomic_load(&s->count));
        }
    }
    pthread_mutex_unlock(&lock);

    /* collectors run unlocked: they may take their own locks and update
     * series */
    pthread_mutex_lock(&lock);
    c = collectors;
    pthread_mutex_unlock(&lock);
    for (; c != NULL; c = next) {
        c->fn(out, c->data);
        pthread_mutex_lock(&lock);
        next = c->next;
        pthread_mutex_unlock(&lock);
    }
}
