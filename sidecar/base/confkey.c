#include "confkey.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
bad(const vms_confkey_t *k, const char *value, char *why, size_t whylen,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The key's own message, or the type's (fmt); -1. */
static int
bad(const vms_confkey_t *k, const char *value, char *why, size_t whylen,
    const char *fmt, ...)
{
    va_list  ap;
    size_t   n;

    if (k->expect != NULL) {
        snprintf(why, whylen, "%s", k->expect);
    } else {
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    n = strlen(why);
    if (k->quote && n < whylen) {
        snprintf(why + n, whylen - n, ", got \"%.40s\"", value);
    }
    return -1;
}

int
vms_confkey_find(const vms_confkey_t *keys, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(keys[i].name, name) == 0) {
            return (int) i;
        }
    }
    return -1;
}

int
vms_confkey_set(const vms_confkey_t *k, void *base, const char *value,
    char *why, size_t whylen)
{
    char     *field = (char *) base + k->off;
    char     *end, *s;
    int64_t   v;
    double    d;
    int       b;

    switch (k->type) {
    case VMS_CK_INT:
        if (vms_parse_int(value, (int64_t) k->min, (int64_t) k->max, &v) != 0)
        {
            return bad(k, value, why, whylen, "expected an integer in"
                       " %lld..%lld", (long long) k->min, (long long) k->max);
        }
        if (k->size == sizeof(int)) {
            *(int *) field = (int) v;
        } else {
            *(int64_t *) field = v;
        }
        return 0;
    case VMS_CK_DOUBLE:
        d = strtod(value, &end);
        if (end == value || *end != '\0' || d < k->min || d > k->max) {
            return bad(k, value, why, whylen, "expected a number in %g..%g",
                       k->min, k->max);
        }
        *(double *) field = d;
        return 0;
    case VMS_CK_BOOL:
        if (vms_parse_bool(value, &b) != 0) {
            return bad(k, value, why, whylen, "expected yes or no");
        }
        *(int *) field = b;
        return 0;
    case VMS_CK_DURATION:
        if (vms_parse_duration_ms(value, &v) != 0) {
            return bad(k, value, why, whylen,
                       "expected a duration like 500ms, 15s, 2m, 1h");
        }
        if (v < k->min) {
            return bad(k, value, why, whylen, "must be at least %lldms",
                       (long long) k->min);
        }
        if (k->max != 0 && v > k->max) {
            return bad(k, value, why, whylen, "must be at most %lldms",
                       (long long) k->max);
        }
        *(int64_t *) field = v;
        return 0;
    case VMS_CK_SIZE:
        if (vms_parse_size(value, &v) != 0 || v < k->min) {
            return bad(k, value, why, whylen,
                       "expected a size like 4096, 512MB, 10GB");
        }
        *(int64_t *) field = v;
        return 0;
    case VMS_CK_STRING:
        if (value[0] == '\0') {
            return bad(k, value, why, whylen, "must not be empty");
        }
        if ((s = strdup(value)) == NULL) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        free(*(char **) field);
        *(char **) field = s;
        return 0;
    case VMS_CK_CHARS:
        if (strlen(value) >= k->size) {
            return bad(k, value, why, whylen, "longer than %zu bytes",
                       k->size - 1);
        }
        memcpy(field, value, strlen(value) + 1);
        return 0;
    case VMS_CK_FUNC:
        return k->parse(k, base, value, why, whylen);
    }
    snprintf(why, whylen, "unknown key type");
    return -1;
}

void
vms_confkey_defaults(const vms_confkey_t *keys, size_t n, void *base)
{
    char    why[256];
    size_t  i;

    for (i = 0; i < n; i++) {
        if (keys[i].def != NULL
            && vms_confkey_set(&keys[i], base, keys[i].def, why, sizeof(why))
               != 0)
        {
            fprintf(stderr, "default of key \"%s\": %s\n", keys[i].name, why);
            abort();
        }
    }
}
