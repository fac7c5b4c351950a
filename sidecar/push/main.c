/*
 * vms-push: Kafka vms.events + vms.alerts -> nginx's nchan publisher, one channel per camera
 * (docs/events.md, "Live push").
 *
 *   vms-push --brokers HOST:PORT --publish unix:/path/push.sock|http://127.0.0.1:PORT
 *            [--node NAME] [--topics vms.events,vms.alerts]
 *
 * Each message with a valid "camera_id" is POSTed to PUBLISH/_vms/pub/{camera}; its offset is
 * stored only after nchan accepted it (2xx) and committed by librdkafka's periodic commit, so a
 * crash or an nginx outage re-delivers (at least once: a message may reach a browser twice,
 * never zero times while nginx keeps its channel buffers).  While the publisher fails, the same
 * message is retried with capped backoff; the partition waits.  Messages without a camera are
 * skipped (committed).  Consumer group vms-push-{node}: every node's nginx gets every message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "../consumer_common/svc.h"
#include "vms_camera_id.h"

typedef struct {
    CURL          *curl;
    const char    *base;          /* http://host:port, or http://localhost for a unix socket */
    const char    *socket;        /* unix socket path or NULL */
    rd_kafka_t    *rk;
    unsigned long  pushed, skipped, failures;
} push_t;

static size_t
discard(char *p, size_t size, size_t n, void *u)
{
    (void) p;
    (void) u;
    return size * n;
}

/* 0: nchan took it; -1: failed (why in err) */
static int
publish(push_t *p, const char *camera, const char *body, size_t len, char *err, size_t errlen)
{
    char url[512];
    long status = 0;
    snprintf(url, sizeof(url), "%s/_vms/pub/%s", p->base, camera);
    curl_easy_setopt(p->curl, CURLOPT_URL, url);
    curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE, (long) len);
    CURLcode rc = curl_easy_perform(p->curl);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        snprintf(err, errlen, "publisher answered %ld", status);
        return -1;
    }
    return 0;
}

/* 0: handled (pushed or skipped); -1: stopping before it was pushed */
static int
handle(push_t *p, const rd_kafka_message_t *m)
{
    json_error_t jerr;
    json_t *doc = json_loadb(m->payload, m->len, 0, &jerr);
    const char *camera = json_is_object(doc) ? json_string_value(json_object_get(doc, "camera_id")) : NULL;
    char cam[VMS_CAMERA_ID_MAX + 1];
    if (camera == NULL || !vms_camera_id_valid(camera, strlen(camera))) {
        p->skipped++;
        json_decref(doc);
        return 0;
    }
    snprintf(cam, sizeof(cam), "%s", camera);
    json_decref(doc);
    long wait = 100;
    for (int attempt = 1;; attempt++) {
        char err[256];
        if (publish(p, cam, m->payload, m->len, err, sizeof(err)) == 0) {
            if (attempt > 1) {
                svc_say("publisher back after %d attempts", attempt);
            }
            p->pushed++;
            return 0;
        }
        p->failures++;
        if (attempt == 1 || attempt % 20 == 0) {
            svc_say("publish %s[%d]@%lld to %s failed: %s (attempt %d; retrying, the partition waits)",
                    rd_kafka_topic_name(m->rkt), (int) m->partition, (long long) m->offset, cam, err,
                    attempt);
        }
        svc_sleep_ms(wait);
        if (svc_stop) {
            return -1;
        }
        wait = wait * 2 > 5000 ? 5000 : wait * 2;
    }
}

static int
run(push_t *p, const char *brokers, const char *group, const char *topics)
{
    char err[512];
    rd_kafka_conf_t *cc = rd_kafka_conf_new();
    /* offsets are stored by hand after nchan took the message; librdkafka commits stored ones */
    if (svc_conf_set(cc, "bootstrap.servers", brokers) || svc_conf_set(cc, "group.id", group)
        || svc_conf_set(cc, "enable.auto.commit", "true") || svc_conf_set(cc, "enable.auto.offset.store", "false")
        || svc_conf_set(cc, "auto.commit.interval.ms", "1000")
        /* a new node starts at the live edge: history is the review API's, not the push's */
        || svc_conf_set(cc, "auto.offset.reset", "latest")
        || svc_conf_set(cc, "session.timeout.ms", "10000")
        /* a live feed: a fetch waits at most 50 ms at the broker for data (librdkafka's default
         * 500 ms showed as ~300 ms median latency to the browser, bench/events_bench.py) */
        || svc_conf_set(cc, "fetch.wait.max.ms", "50") || svc_kafka_ssl(cc)) {
        rd_kafka_conf_destroy(cc);
        return 1;
    }
    rd_kafka_conf_set_rebalance_cb(cc, svc_on_rebalance);
    p->rk = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof(err));
    if (p->rk == NULL) {
        svc_say("kafka: %s", err);
        return 1;
    }
    rd_kafka_poll_set_consumer(p->rk);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(2);
    char *list = strdup(topics), *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        rd_kafka_topic_partition_list_add(subs, t, RD_KAFKA_PARTITION_UA);
    }
    free(list);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(p->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (e) {
        svc_say("kafka: subscribe %s: %s", topics, rd_kafka_err2str(e));
        rd_kafka_destroy(p->rk);
        return 1;
    }
    svc_say("ready (topics %s, group %s, publisher %s%s)", topics, group, p->socket ? "unix:" : p->base,
            p->socket ? p->socket : "");
    while (!svc_stop) {
        rd_kafka_message_t *m = svc_poll(p->rk, 200);
        if (m == NULL) {
            continue;
        }
        if (handle(p, m) != 0) {
            rd_kafka_message_destroy(m);          /* not stored: re-delivered after a restart */
            break;
        }
        e = rd_kafka_offsets_store(p->rk, &(rd_kafka_topic_partition_list_t){
            .cnt = 1, .size = 1, .elems = &(rd_kafka_topic_partition_t){
                .topic = (char *) rd_kafka_topic_name(m->rkt), .partition = m->partition,
                .offset = m->offset + 1 } });
        if (e) {
            svc_say("kafka: store offset: %s", rd_kafka_err2str(e));
        }
        rd_kafka_message_destroy(m);
    }
    svc_say("stopping: %lu pushed, %lu skipped (no camera), %lu failed attempts", p->pushed, p->skipped,
            p->failures);
    rd_kafka_consumer_close(p->rk);             /* commits the stored offsets */
    rd_kafka_destroy(p->rk);
    return 0;
}

static void
usage(void)
{
    fprintf(stderr, "usage: vms-push --brokers HOST:PORT --publish unix:PATH|http://HOST:PORT [--node NAME]\n"
                    "                [--topics vms.events,vms.alerts]\n");
}

int
main(int argc, char **argv)
{
    const char *brokers = NULL, *publish_to = NULL, *node = NULL, *topics = "vms.events,vms.alerts";
    char host[256], group[320];
    push_t p = { 0 };

    svc_init("push");
    for (int i = 1; i < argc; i++) {
        const char **dst = NULL;
        if (strcmp(argv[i], "--brokers") == 0) dst = &brokers;
        else if (strcmp(argv[i], "--publish") == 0) dst = &publish_to;
        else if (strcmp(argv[i], "--node") == 0) dst = &node;
        else if (strcmp(argv[i], "--topics") == 0) dst = &topics;
        if (dst == NULL || i + 1 >= argc) {
            usage();
            return 2;
        }
        *dst = argv[++i];
    }
    if (brokers == NULL || publish_to == NULL) {
        usage();
        return 2;
    }
    if (strncmp(publish_to, "unix:", 5) == 0 && publish_to[5] == '/') {
        p.socket = publish_to + 5;
        p.base = "http://localhost";
    } else if (strncmp(publish_to, "http://", 7) == 0) {
        p.base = publish_to;
    } else {
        fprintf(stderr, "--publish: expected unix:/path or http://host:port, got \"%s\"\n", publish_to);
        return 2;
    }
    if (node == NULL) {
        if (gethostname(host, sizeof(host)) != 0) {
            snprintf(host, sizeof(host), "node");
        }
        host[sizeof(host) - 1] = '\0';
        node = host;
    }
    snprintf(group, sizeof(group), "vms-push-%s", node);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    p.curl = curl_easy_init();
    if (p.curl == NULL) {
        svc_say("curl: init failed");
        return 1;
    }
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(p.curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(p.curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(p.curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(p.curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(p.curl, CURLOPT_NOSIGNAL, 1L);
    if (p.socket) {
        curl_easy_setopt(p.curl, CURLOPT_UNIX_SOCKET_PATH, p.socket);
    }
    int rc = run(&p, brokers, group, topics);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(p.curl);
    curl_global_cleanup();
    return rc;
}
