/*
 * vms-topics: make a Kafka cluster's topics what conf/kafka/topics.json says (docs/events.md,
 * "Topics as code"), through librdkafka's admin API.
 *
 *   vms-topics --brokers HOST:PORT [--file conf/kafka/topics.json] [--check] [--timeout 10s]
 *
 * Creates missing topics, adds partitions where the file asks for more (never fewer: Kafka cannot
 * shrink a topic), and sets the configs the file lists on topics whose configs differ
 * (AlterConfigs: the file's set replaces the topic's dynamic configs).  One line per topic.
 * --check only reads metadata and exits 1 when a topic is missing or has fewer partitions.
 * A broker without the admin APIs (librdkafka's mock cluster) is named and the run falls back to
 * --check.  Exit 0: every topic matches; 1: something does not; 2: bad file or arguments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "../consumer_common/svc.h"
#include "topics_file.h"

typedef struct {
    rd_kafka_t      *rk;
    rd_kafka_queue_t *q;
    int              timeout_ms;
    int              unsupported;   /* the broker lacks an admin API: check only */
} admin_t;

static const rd_kafka_metadata_topic_t *
find_topic(const rd_kafka_metadata_t *md, const char *name)
{
    for (int i = 0; i < md->topic_cnt; i++) {
        if (strcmp(md->topics[i].topic, name) == 0 && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            return &md->topics[i];
        }
    }
    return NULL;
}

static rd_kafka_event_t *
wait_result(admin_t *a, rd_kafka_event_type_t type)
{
    for (;;) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(a->q, a->timeout_ms + 2000);
        if (ev == NULL || rd_kafka_event_type(ev) == type) {
            return ev;
        }
        rd_kafka_event_destroy(ev);
    }
}

/* The broker refused or never answered an admin request: from then on, check only.  A broker
 * without the admin APIs (librdkafka's mock cluster) leaves the request unanswered until the
 * timeout rather than refusing it. */
static int
unsupported(admin_t *a, rd_kafka_resp_err_t err, const char *api)
{
    if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION
        || err == RD_KAFKA_RESP_ERR_INVALID_REQUEST || err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        if (!a->unsupported) {
            printf("%s %s: checking only\n", api, err == RD_KAFKA_RESP_ERR__TIMED_OUT
                   ? "not answered within the timeout (a broker without the admin API, such as "
                     "librdkafka's mock cluster, never answers)"
                   : "not supported by the broker");
        }
        a->unsupported = 1;
        return 1;
    }
    return 0;
}

/* The result event of an admin request, or NULL when the request failed as a whole: said (unless
 * quiet), or, when the broker lacks the API, from then on checking only. */
static rd_kafka_event_t *
admin_result(admin_t *a, rd_kafka_event_type_t type, const char *api, const char *topic, int quiet)
{
    rd_kafka_event_t *ev = wait_result(a, type);
    if (ev == NULL) {
        unsupported(a, RD_KAFKA_RESP_ERR__TIMED_OUT, api);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        if (!unsupported(a, rd_kafka_event_error(ev), api) && !quiet) {
            printf("%s: error: %s\n", topic, rd_kafka_event_error_string(ev));
        }
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

/* 0 when the request's one topic succeeded; 1 when it failed (said, unless the API is missing) */
static int
topic_outcome(admin_t *a, const rd_kafka_topic_result_t **res, size_t n, const char *api,
    const char *topic)
{
    rd_kafka_resp_err_t e = n ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR_UNKNOWN;
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        return 0;
    }
    if (!unsupported(a, e, api)) {
        printf("%s: error: %s\n", topic, n ? rd_kafka_topic_result_error_string(res[0]) : "?");
    }
    return 1;
}

static rd_kafka_AdminOptions_t *
options(admin_t *a, rd_kafka_admin_op_t op)
{
    char err[256];
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(a->rk, op);
    rd_kafka_AdminOptions_set_request_timeout(o, a->timeout_ms, err, sizeof(err));
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS) {
        rd_kafka_AdminOptions_set_operation_timeout(o, a->timeout_ms, err, sizeof(err));
    }
    return o;
}

/* 0 created, 1 failed */
static int
create_topic(admin_t *a, const vms_topic_t *t)
{
    char err[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(t->name, t->partitions, t->replication_factor,
                                                    err, sizeof(err));
    if (nt == NULL) {
        printf("%s: error: %s\n", t->name, err);
        return 1;
    }
    for (size_t i = 0; i < t->nconfigs; i++) {
        rd_kafka_NewTopic_set_config(nt, t->configs[i].key, t->configs[i].value);
    }
    rd_kafka_AdminOptions_t *o = options(a, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_CreateTopics(a->rk, &nt, 1, o, a->q);
    rd_kafka_event_t *ev = admin_result(a, RD_KAFKA_EVENT_CREATETOPICS_RESULT, "CreateTopics", t->name, 0);
    int rc = 1;
    if (ev != NULL) {
        size_t n;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rc = topic_outcome(a, res, n, "CreateTopics", t->name);
        if (rc == 0) {
            printf("%s: created (%d partitions, replication %d)\n", t->name, t->partitions,
                   t->replication_factor);
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

static int
add_partitions(admin_t *a, const vms_topic_t *t, int have)
{
    char err[512];
    rd_kafka_NewPartitions_t *np = rd_kafka_NewPartitions_new(t->name, (size_t) t->partitions, err, sizeof(err));
    if (np == NULL) {
        printf("%s: error: %s\n", t->name, err);
        return 1;
    }
    rd_kafka_AdminOptions_t *o = options(a, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
    rd_kafka_CreatePartitions(a->rk, &np, 1, o, a->q);
    rd_kafka_event_t *ev = admin_result(a, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT, "CreatePartitions",
                                        t->name, 0);
    int rc = 1;
    if (ev != NULL) {
        size_t n;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n);
        rc = topic_outcome(a, res, n, "CreatePartitions", t->name);
        if (rc == 0) {
            printf("%s: partitions %d→%d\n", t->name, have, t->partitions);
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewPartitions_destroy(np);
    return rc;
}

/* 1 when every config of the file has that value on the topic; -1 when they could not be read */
static int
configs_match(admin_t *a, const vms_topic_t *t)
{
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t->name);
    rd_kafka_AdminOptions_t *o = options(a, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_DescribeConfigs(a->rk, &cr, 1, o, a->q);
    rd_kafka_event_t *ev = admin_result(a, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, "DescribeConfigs",
                                        t->name, 1);
    int match = -1;
    if (ev != NULL) {
        size_t n, nentries;
        const rd_kafka_ConfigResource_t **res =
            rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
        if (n == 1 && rd_kafka_ConfigResource_error(res[0]) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(res[0], &nentries);
            match = 1;
            for (size_t i = 0; i < t->nconfigs && match; i++) {
                int found = 0;
                for (size_t j = 0; j < nentries; j++) {
                    const char *v = rd_kafka_ConfigEntry_value(entries[j]);
                    if (strcmp(rd_kafka_ConfigEntry_name(entries[j]), t->configs[i].key) == 0) {
                        found = v && strcmp(v, t->configs[i].value) == 0;
                        break;
                    }
                }
                match = found;
            }
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ConfigResource_destroy(cr);
    return match;
}

static int
alter_configs(admin_t *a, const vms_topic_t *t)
{
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t->name);
    for (size_t i = 0; i < t->nconfigs; i++) {
        rd_kafka_ConfigResource_set_config(cr, t->configs[i].key, t->configs[i].value);
    }
    rd_kafka_AdminOptions_t *o = options(a, RD_KAFKA_ADMIN_OP_ALTERCONFIGS);
    rd_kafka_AlterConfigs(a->rk, &cr, 1, o, a->q);
    rd_kafka_event_t *ev = admin_result(a, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT, "AlterConfigs", t->name, 0);
    int rc = 1;
    if (ev != NULL) {
        size_t n;
        const rd_kafka_ConfigResource_t **res =
            rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
        if (n == 1 && rd_kafka_ConfigResource_error(res[0]) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            printf("%s: configs updated\n", t->name);
            rc = 0;
        } else if (n == 1 && !unsupported(a, rd_kafka_ConfigResource_error(res[0]), "AlterConfigs")) {
            printf("%s: error: %s\n", t->name, rd_kafka_ConfigResource_error_string(res[0]));
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ConfigResource_destroy(cr);
    return rc;
}

static int
reconcile(admin_t *a, const vms_topics_t *ts, int check)
{
    const rd_kafka_metadata_t *md;
    rd_kafka_resp_err_t e = rd_kafka_metadata(a->rk, 1, NULL, &md, a->timeout_ms);
    if (e) {
        fprintf(stderr, "vms-topics: metadata: %s\n", rd_kafka_err2str(e));
        return 1;
    }
    int bad = 0;
    for (size_t i = 0; i < ts->n; i++) {
        const vms_topic_t *t = &ts->v[i];
        const rd_kafka_metadata_topic_t *have = find_topic(md, t->name);
        if (have == NULL) {
            if (check || a->unsupported || create_topic(a, t) != 0) {
                printf("%s: missing (wants %d partitions)\n", t->name, t->partitions);
                bad++;
            }
            continue;
        }
        int changed = 0;
        if (have->partition_cnt < t->partitions) {
            if (check || a->unsupported || add_partitions(a, t, have->partition_cnt) != 0) {
                printf("%s: %d partitions, wants %d\n", t->name, have->partition_cnt, t->partitions);
                bad++;
                continue;
            }
            changed = 1;
        } else if (have->partition_cnt > t->partitions) {
            printf("%s: has %d partitions, more than the file's %d (Kafka cannot shrink a topic; left as is)\n",
                   t->name, have->partition_cnt, t->partitions);
        }
        if (!check && !a->unsupported && t->nconfigs > 0) {
            int m = configs_match(a, t);
            if (m == 0) {
                if (alter_configs(a, t) != 0) {
                    bad++;
                    continue;
                }
                changed = 1;
            } else if (m < 0 && !a->unsupported) {
                printf("%s: error: cannot read its configs\n", t->name);
                bad++;
                continue;
            }
        }
        if (!changed) {
            printf("%s: unchanged (%d partitions)\n", t->name, have->partition_cnt);
        }
    }
    rd_kafka_metadata_destroy(md);
    return bad ? 1 : 0;
}

static void
usage(void)
{
    fprintf(stderr, "usage: vms-topics --brokers HOST:PORT [--file conf/kafka/topics.json] [--check] "
                    "[--timeout 10s]\n");
}

int
main(int argc, char **argv)
{
    const char *brokers = NULL, *file = "conf/kafka/topics.json", *timeout = "10s";
    int check = 0;
    char err[4096];

    svc_init("topics");
    for (int i = 1; i < argc; i++) {
        const char **dst = NULL;
        if (strcmp(argv[i], "--check") == 0) {
            check = 1;
            continue;
        }
        if (strcmp(argv[i], "--brokers") == 0) dst = &brokers;
        else if (strcmp(argv[i], "--file") == 0) dst = &file;
        else if (strcmp(argv[i], "--timeout") == 0) dst = &timeout;
        if (dst == NULL || i + 1 >= argc) {
            usage();
            return 2;
        }
        *dst = argv[++i];
    }
    long timeout_ms = svc_duration_ms(timeout);
    if (brokers == NULL || timeout_ms <= 0 || timeout_ms > 600000) {
        if (timeout_ms <= 0 || timeout_ms > 600000) {
            fprintf(stderr, "--timeout: expected a duration up to 10m, such as 10s\n");
        }
        usage();
        return 2;
    }
    FILE *f = fopen(file, "rb");
    if (f == NULL) {
        fprintf(stderr, "vms-topics: %s: %s\n", file, strerror(errno));
        return 2;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *grown = cap <= (1u << 22) ? realloc(text, cap) : NULL;
            if (grown == NULL) {
                fprintf(stderr, "vms-topics: %s: too large\n", file);
                free(text);
                fclose(f);
                return 2;
            }
            text = grown;
        }
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            break;
        }
    }
    fclose(f);
    vms_topics_t ts;
    int rc = vms_topics_load(text, len, &ts, err, sizeof(err));
    free(text);
    if (rc != 0) {
        for (char *line = strtok(err, "\n"); line; line = strtok(NULL, "\n")) {
            fprintf(stderr, "topics.json: %s\n", line);
        }
        return 2;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (svc_conf_set(conf, "bootstrap.servers", brokers) || svc_conf_set(conf, "log_level", "3")
        || svc_kafka_ssl(conf)) {
        vms_topics_free(&ts);
        return 2;
    }
    admin_t a = { .timeout_ms = (int) timeout_ms };
    a.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (a.rk == NULL) {
        fprintf(stderr, "vms-topics: %s\n", err);
        vms_topics_free(&ts);
        return 1;
    }
    a.q = rd_kafka_queue_new(a.rk);
    rc = reconcile(&a, &ts, check);
    rd_kafka_queue_destroy(a.q);
    rd_kafka_destroy(a.rk);
    vms_topics_free(&ts);
    return rc;
}
