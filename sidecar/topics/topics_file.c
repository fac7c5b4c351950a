/* topics.json: see topics_file.h. */
#include "topics_file.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../consumer_common/jcheck.h"

static const char *topic_fields[] = { "name", "partitions", "replication_factor", "configs", NULL };

static int
int_in(json_t *v, long lo, long hi)
{
    return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

static void
topic_load(vms_errs_t *e, size_t idx, json_t *o, void *item, json_t *seen)
{
    vms_topic_t *t = item;
    char where[320];
    json_t *name = json_object_get(o, "name");
    const char *n = json_string_value(name);

    if (n && vms_name_ok(n, 64, "._-")) {
        snprintf(where, sizeof(where), "topics[%zu] (\"%s\")", idx, n);
    } else {
        snprintf(where, sizeof(where), "topics[%zu]", idx);
    }
    vms_unknown_fields(e, where, o, topic_fields);
    /* Kafka's legal names are [A-Za-z0-9._-]{1,249}; "." and ".." are not */
    if (n == NULL || !vms_name_ok(n, 249, "._-") || strcmp(n, ".") == 0 || strcmp(n, "..") == 0) {
        vms_bad(e, "%s: name: must be 1..249 characters of A-Z a-z 0-9 . _ -", where);
    } else if (json_object_get(seen, n)) {
        vms_bad(e, "%s: name: duplicate", where);
    } else {
        json_object_set_new(seen, n, json_true());
        t->name = strdup(n);
    }
    json_t *p = json_object_get(o, "partitions");
    if (!int_in(p, 1, 10000)) {
        vms_bad(e, "%s: partitions: must be an integer 1..10000", where);
    } else {
        t->partitions = (int) json_integer_value(p);
    }
    json_t *r = json_object_get(o, "replication_factor");
    if (r == NULL) {
        t->replication_factor = 1;
    } else if (!int_in(r, 1, 32)) {
        vms_bad(e, "%s: replication_factor: must be an integer 1..32", where);
    } else {
        t->replication_factor = (int) json_integer_value(r);
    }
    json_t *c = json_object_get(o, "configs");
    if (c == NULL) {
        return;
    }
    if (!json_is_object(c) || json_object_size(c) > VMS_TOPIC_CONFIGS_MAX) {
        vms_bad(e, "%s: configs: must be an object of at most %d \"key\": \"value\" strings", where,
                VMS_TOPIC_CONFIGS_MAX);
        return;
    }
    t->configs = calloc(json_object_size(c) ? json_object_size(c) : 1, sizeof(*t->configs));
    if (t->configs == NULL) {
        vms_bad(e, "%s: out of memory", where);
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach(c, k, v) {
        if (!vms_name_ok(k, 128, "._-")) {
            vms_bad(e, "%s: configs: \"%.40s\" is not a config name", where, k);
        } else if (!json_is_string(v)) {
            /* Kafka takes every config value as a string: "604800000", not 604800000 */
            vms_bad(e, "%s: configs.%s: must be a string", where, k);
        } else {
            t->configs[t->nconfigs].key = strdup(k);
            t->configs[t->nconfigs].value = strdup(json_string_value(v));
            t->nconfigs++;
        }
    }
}

int
vms_topics_load(const char *text, size_t len, vms_topics_t *out, char *err, size_t errlen)
{
    vms_errs_t e = VMS_ERRS(err, errlen);
    if (errlen) {
        err[0] = '\0';
    }
    out->v = vms_jcheck_list(text, len, "topics", VMS_TOPICS_MAX, sizeof(*out->v), topic_load, &out->n, &e);
    if (e.n > 0) {
        vms_topics_free(out);
        return -1;
    }
    return 0;
}

void
vms_topics_free(vms_topics_t *t)
{
    for (size_t i = 0; t->v && i < t->n; i++) {
        free(t->v[i].name);
        for (size_t j = 0; j < t->v[i].nconfigs; j++) {
            free(t->v[i].configs[j].key);
            free(t->v[i].configs[j].value);
        }
        free(t->v[i].configs);
    }
    free(t->v);
    memset(t, 0, sizeof(*t));
}
