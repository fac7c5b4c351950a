/*
 * Checking JSON config files (jansson) with one line per problem: rules.json, receivers.json,
 * topics.json.  Messages name the place ("rules[2] (\"night\"): time.from: …") and suggest the
 * field a typo meant.
 */
#ifndef VMS_JCHECK_H
#define VMS_JCHECK_H

#include <stddef.h>

#include <jansson.h>

typedef struct {
    char   *buf;          /* the caller's buffer: problems, one per line */
    size_t  len, cap;
    int     n;            /* problems found (also those that did not fit) */
} vms_errs_t;

#define VMS_ERRS(buf, cap) ((vms_errs_t) { (buf), 0, (cap), 0 })

void vms_bad(vms_errs_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* one problem per member of o not in known (NULL-terminated), "did you mean" when close */
void vms_unknown_fields(vms_errs_t *e, const char *where, json_t *o, const char **known);
/* 1 when s is 1..max characters, each alphanumeric or in extra */
int  vms_name_ok(const char *s, size_t max, const char *extra);

/*
 * A config file {"KEY": [ {…}, … ]} and nothing else at the top: parsed (duplicate keys refused),
 * checked, then each object handed to item() with its index and `seen`, an object for spotting
 * duplicate names ("KEY[i]: must be an object" for other members).  Returns the calloc'd array of
 * *n items of item_size bytes (one spare), or NULL when the text is no such file; problems go to e.
 */
typedef void (*vms_jitem_fn)(vms_errs_t *e, size_t idx, json_t *o, void *item, json_t *seen);
void *vms_jcheck_list(const char *text, size_t len, const char *key, size_t max, size_t item_size,
                      vms_jitem_fn item, size_t *n, vms_errs_t *e);

#endif
