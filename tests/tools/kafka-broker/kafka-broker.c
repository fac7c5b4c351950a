/*
 * kafka-broker: librdkafka's mock cluster as a small broker process.
 *
 * It speaks the Kafka protocol on real loopback sockets, so any client
 * (kcat, python3-confluent-kafka, our librdkafka producers) can use it.
 * Not a Kafka: data lives in memory and is gone when the process exits.
 *
 *   kafka-broker [--brokers N] [--topic NAME[:PARTITIONS]]...
 *
 * Topics: each --topic, then the vms.* defaults not named by one (3 partitions each).
 *
 * Prints "kafka-broker: ready BOOTSTRAP" on stdout once listening.
 * SIGUSR1 takes every broker down (connections closed, refused until up),
 * SIGUSR2 brings them back; SIGTERM/SIGINT exit.  Outages for tests.
 * "kafka-broker: brokers down|up" on stderr says the switch is done, so a
 * test waits for that line, not for a while (vmsstack's down()/up()).
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define DEFAULT_TOPICS "vms.events,vms.detections,vms.detections.dlq,vms.alerts,vms.alerts.dlq,vms.events.dlq,vms.audit,vms.audit.dlq,vms.cameras"

static volatile sig_atomic_t  want;   /* 0 none, 1 down, 2 up, 3 quit */

static void
on_signal(int sig)
{
    want = sig == SIGUSR1 ? 1 : sig == SIGUSR2 ? 2 : 3;
}

static int
create_topic(rd_kafka_mock_cluster_t *mc, const char *spec)
{
    char         name[256];
    const char  *colon = strchr(spec, ':');
    size_t       len = colon ? (size_t) (colon - spec) : strlen(spec);
    int          parts = colon ? atoi(colon + 1) : 3;

    if (len == 0 || len >= sizeof(name) || parts <= 0) {
        fprintf(stderr, "kafka-broker: bad topic \"%s\" (NAME[:PARTITIONS])\n", spec);
        return -1;
    }
    memcpy(name, spec, len);
    name[len] = '\0';
    if (rd_kafka_mock_topic_create(mc, name, parts, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "kafka-broker: cannot create topic %s\n", name);
        return -1;
    }
    return 0;
}

/* 1 when a --topic argument names the topic */
static int
given(const char *name, int argc, char **argv)
{
    size_t len = strlen(name);
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--topic") == 0 && strncmp(argv[i + 1], name, len) == 0
            && (argv[i + 1][len] == '\0' || argv[i + 1][len] == ':')) {
            return 1;
        }
    }
    return 0;
}

static int
create_topics(rd_kafka_mock_cluster_t *mc, const char *list, int argc, char **argv)
{
    char  *copy = strdup(list), *save = NULL, *t;
    int    rc = 0;

    for (t = strtok_r(copy, ",", &save); t && rc == 0; t = strtok_r(NULL, ",", &save)) {
        if (!given(t, argc, argv)) {
            rc = create_topic(mc, t);
        }
    }
    free(copy);
    return rc;
}

int
main(int argc, char **argv)
{
    int                       i, w, nbrokers = 1;
    char                      err[256];
    rd_kafka_conf_t          *conf;
    rd_kafka_t               *rk;
    rd_kafka_mock_cluster_t  *mc;
    struct sigaction          sa;
    sigset_t                  block, waitmask;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
            nbrokers = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
            i++;   /* created below, after the cluster exists */
        } else {
            fprintf(stderr, "usage: kafka-broker [--brokers N] [--topic NAME[:PARTITIONS]]...\n");
            return 2;
        }
    }
    if (nbrokers < 1 || nbrokers > 9) {
        fprintf(stderr, "kafka-broker: --brokers must be 1..9\n");
        return 2;
    }

    /* The mock cluster needs a client instance to own its threads. */
    conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL) {
        fprintf(stderr, "kafka-broker: rd_kafka_new: %s\n", err);
        return 1;
    }
    mc = rd_kafka_mock_cluster_new(rk, nbrokers);
    if (mc == NULL) {
        fprintf(stderr, "kafka-broker: cannot create the mock cluster\n");
        return 1;
    }

    /* --topic first (the harness passes conf/kafka/topics.json's partitions), then the
     * defaults not named there, with 3 partitions */
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--topic") == 0 && create_topic(mc, argv[++i]) != 0) {
            return 1;
        }
    }
    if (create_topics(mc, DEFAULT_TOPICS, argc, argv) != 0) {
        return 1;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* The signals are blocked except inside sigsuspend(): one that arrives while
     * the brokers are being switched waits its turn instead of being lost
     * (pause() and a later want = 0 could drop it). */
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGUSR2);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &waitmask);

    printf("kafka-broker: ready %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);

    for ( ;; ) {
        while (want == 0) {
            sigsuspend(&waitmask);
        }
        w = want;
        want = 0;
        if (w == 3) {
            break;
        }
        for (i = 1; i <= nbrokers; i++) {
            if (w == 1) {
                rd_kafka_mock_broker_set_down(mc, i);
            } else {
                rd_kafka_mock_broker_set_up(mc, i);
            }
        }
        fprintf(stderr, "kafka-broker: brokers %s\n", w == 1 ? "down" : "up");
    }

    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
