/* Checking JSON config files: see jcheck.h. */
#include "jcheck.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

void *
vms_jcheck_list(const char *text, size_t len, const char *key, size_t max, size_t item_size,
                vms_jitem_fn item, size_t *n, vms_errs_t *e)
{
    json_error_t je;
    char *items = NULL;
    *n = 0;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (doc == NULL) {
        vms_bad(e, "line %d column %d: %s", je.line, je.column, je.text);
        return NULL;
    }
    json_t *list = json_object_get(doc, key);
    if (!json_is_object(doc) || !json_is_array(list)) {
        vms_bad(e, "must be an object {\"%s\": [ … ]}", key);
    } else if (json_array_size(list) > max) {
        vms_bad(e, "%s: at most %zu", key, max);
    } else {
        const char *top[] = { key, NULL };
        vms_unknown_fields(e, "file", doc, top);
        items = calloc(json_array_size(list) + 1, item_size);
        json_t *seen = json_object();
        if (items == NULL || seen == NULL) {
            vms_bad(e, "out of memory");
        } else {
            size_t i;
            json_t *o;
            json_array_foreach(list, i, o) {
                if (!json_is_object(o)) {
                    vms_bad(e, "%s[%zu]: must be an object", key, i);
                    continue;
                }
                item(e, i, o, items + *n * item_size, seen);
                (*n)++;
            }
        }
        json_decref(seen);
    }
    json_decref(doc);
    return items;
}
