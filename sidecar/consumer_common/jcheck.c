/* Checking JSON config files: see jcheck.h. */
#include "jcheck.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
vms_bad(vms_errs_t *e, const char *fmt, ...)
{
    va_list ap;
    e->n++;
    if (e->cap == 0 || e->len + 2 >= e->cap) {
        return;
    }
    if (e->len > 0) {
        e->buf[e->len++] = '\n';
        e->buf[e->len] = '\0';
    }
    va_start(ap, fmt);
    int w = vsnprintf(e->buf + e->len, e->cap - e->len, fmt, ap);
    va_end(ap);
    if (w > 0) {
        e->len += (size_t) w < e->cap - e->len ? (size_t) w : e->cap - e->len - 1;
    }
}

/* Levenshtein distance, small strings only */
static size_t
distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[40];
    if (la >= 40 || lb >= 40) {
        return 99;
    }
    for (size_t j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t sub = prev + (tolower((unsigned char) a[i - 1]) != tolower((unsigned char) b[j - 1]));
            size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            prev = cur;
        }
    }
    return row[lb];
}

void
vms_unknown_fields(vms_errs_t *e, const char *where, json_t *o, const char **known)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        int found = 0;
        const char *near = NULL;
        for (size_t i = 0; known[i]; i++) {
            if (strcmp(k, known[i]) == 0) {
                found = 1;
                break;
            }
            if (distance(k, known[i]) <= 2) {
                near = known[i];
            }
        }
        if (!found) {
            if (near) {
                vms_bad(e, "%s: unknown field \"%.40s\" (did you mean \"%s\"?)", where, k, near);
            } else {
                vms_bad(e, "%s: unknown field \"%.40s\"", where, k);
            }
        }
    }
}

int
vms_name_ok(const char *s, size_t max, const char *extra)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char) s[i]) && strchr(extra, s[i]) == NULL) {
            return 0;
        }
    }
    return 1;
}
