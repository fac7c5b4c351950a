/* conf/kafka/topics.json parsing (sidecar/topics/topics_file.c): the shipped file loads; each
 * problem of a bad file is reported with its place, and a bad file loads nothing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "topics_file.h"

#ifndef VMS_ROOT
#error VMS_ROOT must name the repository
#endif

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[65536];
    *len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    return buf;
}

static void
test_shipped_file(void **state)
{
    (void) state;
    size_t len;
    char *text = slurp(VMS_ROOT "/conf/kafka/topics.json", &len);
    vms_topics_t ts;
    char err[1024];
    assert_int_equal(vms_topics_load(text, len, &ts, err, sizeof(err)), 0);
    int dlqs = 0, events = 0;
    for (size_t i = 0; i < ts.n; i++) {
        const vms_topic_t *t = &ts.v[i];
        assert_true(t->partitions >= 1 && t->replication_factor >= 1);
        if (strstr(t->name, ".dlq")) {
            dlqs++;
            /* dead letters are kept 24 h */
            int kept = 0;
            for (size_t j = 0; j < t->nconfigs; j++) {
                kept |= strcmp(t->configs[j].key, "retention.ms") == 0 && strcmp(t->configs[j].value, "86400000") == 0;
            }
            assert_true(kept);
        }
        events += strcmp(t->name, "vms.events") == 0;
    }
    assert_int_equal(dlqs, 4);
    assert_int_equal(events, 1);
    vms_topics_free(&ts);
}

static void
test_errors(void **state)
{
    (void) state;
    const char *bad = "{\"topics\":[{\"name\":\"a\",\"partitions\":1,\"replication_factor\":0},"
                      "{\"name\":\"..\",\"partitions\":10001},{\"name\":\"a\",\"partitions\":2,\"partition\":3},"
                      "{\"name\":\"c\",\"partitions\":1,\"configs\":{\"x y\":\"1\",\"ok.key\":[]}}, 7]}";
    vms_topics_t ts;
    char err[2048];
    assert_int_equal(vms_topics_load(bad, strlen(bad), &ts, err, sizeof(err)), -1);
    assert_null(ts.v);
    assert_int_equal(ts.n, 0);
    const char *want[] = {
        "topics[0] (\"a\"): replication_factor: must be an integer 1..32",
        "topics[1] (\"..\"): name: must be 1..249 characters of A-Z a-z 0-9 . _ -",
        "topics[1] (\"..\"): partitions: must be an integer 1..10000",
        "topics[2] (\"a\"): unknown field \"partition\" (did you mean \"partitions\"?)",
        "topics[2] (\"a\"): name: duplicate",
        "topics[3] (\"c\"): configs: \"x y\" is not a config name",
        "topics[3] (\"c\"): configs.ok.key: must be a string",
        "topics[4]: must be an object",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (strstr(err, want[i]) == NULL) {
            fail_msg("missing \"%s\" in:\n%s", want[i], err);
        }
    }
    assert_int_equal(vms_topics_load("[]", 2, &ts, err, sizeof(err)), -1);
    assert_string_equal(err, "must be an object {\"topics\": [ … ]}");
    assert_int_equal(vms_topics_load("{\"topics\":[],\"topics\":[]}", 25, &ts, err, sizeof(err)), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_file),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
