/*
 * vms-alert-notifier: alerts to webhooks (docs/events.md, "vms-alert-notifier").
 *
 *   vms-alert-notifier --brokers HOST:PORT --receivers FILE [--dlq vms.alerts.dlq]
 *       [--alerts-topic vms.alerts] [--events-topic vms.events] [--retry-base 1s]
 *       [--start latest|earliest]
 *
 * One thread and one consumer group (vms-alerts-{name}) per receiver: a receiver that is down
 * delays only itself.  Sources: `alert` messages on vms.alerts, and camera.offline /
 * camera.online / stream.frozen on vms.events, turned into alerts of that kind.  A POST answered
 * 2xx is delivered and its offset committed; another answer or a network error is retried after
 * base, 2×base, 4×base…; then the alert goes to the DLQ (with the receiver and the last error) and,
 * once the DLQ has it, the offset moves on.  Delivery is at least once: receivers drop duplicates by
 * the Idempotency-Key header (the alert's id).  Neither the URL nor the extra headers are logged
 * (webhook URLs often carry a secret).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "../consumer_common/svc.h"
#include "receivers.h"

static const char *brokers, *dlq = "vms.alerts.dlq", *alerts_topic = "vms.alerts",
                  *events_topic = "vms.events", *start_at = "latest";
static long retry_base_ms = 1000;

/* main() prints "ready" once every worker subscribed (or one failed to) */
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  start_cond = PTHREAD_COND_INITIALIZER;
static size_t          started;

typedef struct {
    vms_receiver_t     *r;
    struct curl_slist  *headers;
    rd_kafka_t         *rk, *pk;
    int                 failed;          /* could not start */
    unsigned long       delivered, dead, skipped;
    volatile int        dr_done, dr_err;
} worker_t;

/* extra headers from the receiver's headers_file: "Name: value" lines, # comments */
static int
load_headers(worker_t *w)
{
    w->headers = curl_slist_append(NULL, "Content-Type: application/json");
    w->headers = curl_slist_append(w->headers, "Expect:");
    if (w->r->headers_file == NULL) {
        return 0;
    }
    FILE *f = fopen(w->r->headers_file, "r");
    if (f == NULL) {
        svc_say("receiver %s: headers_file: %s", w->r->name, strerror(errno));
        return -1;
    }
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        n++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#') {
            continue;
        }
        char *colon = strchr(line, ':');
        if (colon == NULL || colon == line || strpbrk(line, " \t") < colon) {
            svc_say("receiver %s: headers_file line %d: expected \"Name: value\"", w->r->name, n);
            fclose(f);
            return -1;
        }
        static const char *own[] = { "Content-Type", "Idempotency-Key", "Content-Length", NULL };
        for (int i = 0; own[i]; i++) {
            if ((size_t) (colon - line) == strlen(own[i]) && strncasecmp(line, own[i], strlen(own[i])) == 0) {
                svc_say("receiver %s: headers_file line %d: %s is set by the notifier", w->r->name, n, own[i]);
                fclose(f);
                return -1;
            }
        }
        w->headers = curl_slist_append(w->headers, line);
    }
    fclose(f);
    return 0;
}

/* the alert a message stands for (new reference), or NULL when it is none */
static json_t *
alert_of(json_t *msg)
{
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (type == NULL) {
        return NULL;
    }
    if (strcmp(type, "alert") == 0) {
        return json_is_string(json_object_get(msg, "id")) ? json_incref(msg) : NULL;
    }
    int kind = vms_alert_kind(type);
    const char *cam = json_string_value(json_object_get(msg, "camera_id"));
    const char *ts = json_string_value(json_object_get(msg, "ts"));
    if (kind <= 0 || cam == NULL || ts == NULL) {
        return NULL;
    }
    static const char *sev[] = { NULL, "critical", "info", "warning" };
    static const char *what[] = { NULL, "offline", "online", "frozen picture" };
    char id[300], summary[200];
    snprintf(id, sizeof(id), "%s:%s:%s", type, cam, ts);
    snprintf(summary, sizeof(summary), "%s %s", cam, what[kind]);
    json_t *trace = json_object_get(msg, "trace_id");
    return json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:n,s:s,s:s,s:n,s:[],s:n,s:O,s:O}", "schema", 1, "type", "alert",
                     "id", id, "ts", ts, "camera_id", cam, "kind", type, "rule", "severity", sev[kind],
                     "summary", summary, "event_id", "labels", "max_score", "source", msg,
                     "trace_id", trace ? trace : json_null());
}

static int
wanted(worker_t *w, json_t *alert)
{
    int kind = vms_alert_kind(json_string_value(json_object_get(alert, "kind")));
    int sev = vms_severity(json_string_value(json_object_get(alert, "severity")));
    return kind >= 0 && (w->r->kinds & (1u << kind)) && (sev < 0 ? 1 : sev) >= w->r->min_severity;
}

/* libcurl calls this about once a second (and more often while data moves), connect phase
 * included: a SIGTERM abandons the POST in flight instead of waiting out the receiver's timeout */
static int
on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void) p, (void) dltotal, (void) dlnow, (void) ultotal, (void) ulnow;
    return svc_stop ? 1 : 0;
}

/* 0 delivered; -1 with why in err */
static int
post(worker_t *w, CURL *c, const char *body, const char *id, char *err, size_t errlen)
{
    char key[400];
    long status = 0;
    snprintf(key, sizeof(key), "Idempotency-Key: %s", id);
    struct curl_slist *h = curl_slist_append(NULL, key);
    for (struct curl_slist *p = w->headers; p; p = p->next) {
        h = curl_slist_append(h, p->data);
    }
    curl_easy_setopt(c, CURLOPT_URL, w->r->url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, w->r->timeout_ms);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(h);
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
        snprintf(err, errlen, "abandoned: stopping");
        return -1;
    }
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        snprintf(err, errlen, "HTTP %ld", status);
        return -1;
    }
    return 0;
}

static void
on_dlq_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void) rk;
    worker_t *w = opaque;
    w->dr_err = m->err;
    w->dr_done = 1;
}

/* 0 once the DLQ acknowledged the letter */
static int
dead_letter(worker_t *w, const rd_kafka_message_t *m, const char *why, int attempts)
{
    char ts[40];
    svc_now_rfc3339(ts, sizeof(ts));
    /* the payload parsed as JSON, so it is UTF-8; the key is whatever the producer sent: one that is
     * not UTF-8 becomes null rather than a letter that can never be written (a stalled partition) */
    json_t *key = m->key ? json_stringn((const char *) m->key, m->key_len) : json_string("");
    json_t *dl = json_pack("{s:i,s:s,s:s,s:s,s:i,s:I,s:o,s:s,s:i,s:s,s:s%}", "schema", 1, "type", "dead_letter",
                           "ts", ts, "source_topic", rd_kafka_topic_name(m->rkt), "partition", (int) m->partition,
                           "offset", (json_int_t) m->offset, "key", key ? key : json_null(),
                           "error", why, "attempts", attempts, "receiver", w->r->name,
                           "payload", (const char *) m->payload, m->len);
    char *text = dl ? json_dumps(dl, JSON_COMPACT) : NULL;
    json_decref(dl);
    if (text == NULL) {
        svc_say("receiver %s: dead letter not built (out of memory)", w->r->name);
        return -1;
    }
    w->dr_done = 0;
    rd_kafka_resp_err_t e = rd_kafka_producev(w->pk, RD_KAFKA_V_TOPIC(dlq), RD_KAFKA_V_VALUE(text, strlen(text)),
                                              RD_KAFKA_V_KEY(m->key, m->key_len),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    free(text);
    if (e) {
        svc_say("receiver %s: dead letter not produced: %s", w->r->name, rd_kafka_err2str(e));
        return -1;
    }
    rd_kafka_flush(w->pk, 10000);
    if (!w->dr_done || w->dr_err) {
        svc_say("receiver %s: dead letter not acknowledged by the DLQ; the alert stays uncommitted", w->r->name);
        return -1;
    }
    return 0;
}

/* 0: done with the message (commit); -1: stopping before it was (leave it uncommitted) */
static int
handle(worker_t *w, CURL *c, const rd_kafka_message_t *m)
{
    json_t *msg = json_loadb(m->payload, m->len, 0, NULL);
    json_t *alert = json_is_object(msg) ? alert_of(msg) : NULL;
    json_decref(msg);
    if (alert == NULL || !wanted(w, alert)) {
        json_decref(alert);
        w->skipped++;
        return 0;
    }
    char *body = json_dumps(alert, JSON_COMPACT);
    char id[300], err[256] = "";
    json_t *jid = json_object_get(alert, "id");
    size_t idlen = json_string_length(jid);
    int id_ok = idlen > 0 && idlen < sizeof(id);
    for (size_t i = 0; id_ok && i < idlen; i++) {
        unsigned char ch = (unsigned char) json_string_value(jid)[i];
        id_ok = ch >= 0x20 && ch != 0x7f;
    }
    if (id_ok) {
        memcpy(id, json_string_value(jid), idlen + 1);
    }
    json_decref(alert);
    if (body == NULL || !id_ok) {
        /* the id goes into the Idempotency-Key header: control characters would forge headers */
        svc_say("receiver %s: %s[%d]@%lld skipped: %s", w->r->name, rd_kafka_topic_name(m->rkt),
                (int) m->partition, (long long) m->offset,
                body ? "alert id empty, longer than 299 bytes or with control characters" : "out of memory");
        free(body);
        w->skipped++;
        return 0;
    }
    int attempts = w->r->retries + 1, rc = -1;
    long wait = retry_base_ms;
    for (int a = 1; a <= attempts && !svc_stop; a++) {
        if (post(w, c, body, id, err, sizeof(err)) == 0) {
            svc_say("receiver %s: delivered alert %s%s", w->r->name, id, a > 1 ? " after retries" : "");
            w->delivered++;
            rc = 0;
            break;
        }
        if (svc_stop) {
            svc_say("receiver %s: alert %s left uncommitted (stopping; delivered again after a restart)",
                    w->r->name, id);
            break;
        }
        if (a < attempts) {
            svc_say("receiver %s: alert %s attempt %d of %d failed: %s; retry in %ld ms", w->r->name, id, a,
                    attempts, err, wait);
            svc_sleep_ms(wait);
            wait *= 2;
        } else {
            svc_say("receiver %s: alert %s failed %d times (%s): to %s", w->r->name, id, attempts, err, dlq);
            /* the offset moves on only once the DLQ has the alert: retried until it does */
            while ((rc = dead_letter(w, m, err, attempts)) != 0 && !svc_stop) {
                svc_sleep_ms(1000);
            }
            if (rc == 0) {
                w->dead++;
            }
        }
    }
    free(body);
    return rc;              /* -1 only when stopping: delivered or dead-lettered is committed */
}

/* a worker says it subscribed (or failed to start: w->failed) */
static void
worker_started(worker_t *w, int failed)
{
    pthread_mutex_lock(&start_lock);
    w->failed = failed;
    started++;
    pthread_cond_broadcast(&start_cond);
    pthread_mutex_unlock(&start_lock);
}

static void *
run(void *arg)
{
    worker_t *w = arg;
    char err[512], group[100];
    snprintf(group, sizeof(group), "vms-alerts-%s", w->r->name);
    rd_kafka_conf_t *cc = rd_kafka_conf_new(), *pc = rd_kafka_conf_new();
    if (svc_conf_set(cc, "bootstrap.servers", brokers) || svc_conf_set(cc, "group.id", group)
        || svc_conf_set(cc, "enable.auto.commit", "false") || svc_conf_set(cc, "auto.offset.reset", start_at)
        || svc_conf_set(cc, "max.poll.interval.ms", "3600000") || svc_conf_set(cc, "session.timeout.ms", "10000")
        || svc_conf_set(pc, "bootstrap.servers", brokers) || svc_conf_set(pc, "enable.idempotence", "true")
        || svc_kafka_ssl(cc) || svc_kafka_ssl(pc)) {
        rd_kafka_conf_destroy(cc);
        rd_kafka_conf_destroy(pc);
        worker_started(w, 1);
        return NULL;
    }
    rd_kafka_conf_set_rebalance_cb(cc, svc_on_rebalance);
    rd_kafka_conf_set_dr_msg_cb(pc, on_dlq_delivery);
    rd_kafka_conf_set_opaque(pc, w);
    w->rk = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof(err));
    if (w->rk == NULL) {
        rd_kafka_conf_destroy(cc);
    }
    w->pk = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof(err));
    if (w->pk == NULL) {
        rd_kafka_conf_destroy(pc);
    }
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (w->rk && w->pk) {
        rd_kafka_poll_set_consumer(w->rk);
        rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(2);
        rd_kafka_topic_partition_list_add(subs, alerts_topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_topic_partition_list_add(subs, events_topic, RD_KAFKA_PARTITION_UA);
        e = rd_kafka_subscribe(w->rk, subs);
        rd_kafka_topic_partition_list_destroy(subs);
        if (e) {
            svc_say("receiver %s: kafka: subscribe %s, %s: %s", w->r->name, alerts_topic, events_topic,
                    rd_kafka_err2str(e));
        }
    } else {
        svc_say("receiver %s: kafka: %s", w->r->name, err);
    }
    CURL *c = w->rk && w->pk && !e ? curl_easy_init() : NULL;
    if (c == NULL) {
        if (w->rk) {
            rd_kafka_destroy(w->rk);
        }
        if (w->pk) {
            rd_kafka_destroy(w->pk);
        }
        worker_started(w, 1);
        return NULL;
    }
    worker_started(w, 0);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "vms-alert-notifier");
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    while (!svc_stop) {
        rd_kafka_message_t *m = svc_poll(w->rk, 200);
        if (m == NULL) {
            continue;
        }
        if (handle(w, c, m) != 0) {
            rd_kafka_message_destroy(m);     /* stopping: not committed, re-delivered after a restart */
            break;
        }
        e = rd_kafka_commit_message(w->rk, m, 0);
        if (e) {
            svc_say("receiver %s: commit: %s (re-delivered later)", w->r->name, rd_kafka_err2str(e));
        }
        rd_kafka_message_destroy(m);
    }
    curl_easy_cleanup(c);
    svc_say("receiver %s: stopping: %lu delivered, %lu dead-lettered, %lu skipped", w->r->name, w->delivered,
            w->dead, w->skipped);
    rd_kafka_consumer_close(w->rk);
    rd_kafka_destroy(w->rk);
    rd_kafka_flush(w->pk, 5000);
    rd_kafka_destroy(w->pk);
    return NULL;
}

static void
usage(void)
{
    fprintf(stderr, "usage: vms-alert-notifier --brokers HOST:PORT --receivers FILE [--dlq T] [--alerts-topic T]\n"
                    "       [--events-topic T] [--retry-base 1s] [--start latest|earliest]\n");
}

int
main(int argc, char **argv)
{
    const char *file = NULL, *base = "1s";
    static char text[1 << 20], err[4096];

    svc_init("alert-notifier");
    for (int i = 1; i < argc; i++) {
        const char **dst = NULL;
        if (strcmp(argv[i], "--brokers") == 0) dst = &brokers;
        else if (strcmp(argv[i], "--receivers") == 0) dst = &file;
        else if (strcmp(argv[i], "--dlq") == 0) dst = &dlq;
        else if (strcmp(argv[i], "--alerts-topic") == 0) dst = &alerts_topic;
        else if (strcmp(argv[i], "--events-topic") == 0) dst = &events_topic;
        else if (strcmp(argv[i], "--retry-base") == 0) dst = &base;
        else if (strcmp(argv[i], "--start") == 0) dst = &start_at;
        if (dst == NULL || i + 1 >= argc) {
            usage();
            return 2;
        }
        *dst = argv[++i];
    }
    retry_base_ms = svc_duration_ms(base);
    if (brokers == NULL || file == NULL || retry_base_ms < 0
        || (strcmp(start_at, "latest") != 0 && strcmp(start_at, "earliest") != 0)) {
        usage();
        return 2;
    }
    FILE *f = fopen(file, "rb");
    if (f == NULL) {
        fprintf(stderr, "receivers.json: %s: %s\n", file, strerror(errno));
        return 2;
    }
    size_t len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    vms_receivers_t rs;
    if (vms_receivers_load(text, len, &rs, err, sizeof(err)) != 0) {
        for (char *line = strtok(err, "\n"); line; line = strtok(NULL, "\n")) {
            fprintf(stderr, "receivers.json: %s\n", line);
        }
        return 2;
    }
    if (rs.n == 0) {
        fprintf(stderr, "receivers.json: no receivers\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    worker_t *ws = calloc(rs.n, sizeof(*ws));
    pthread_t *th = calloc(rs.n, sizeof(*th));
    for (size_t i = 0; i < rs.n; i++) {
        ws[i].r = &rs.v[i];
        if (load_headers(&ws[i]) != 0) {
            return 2;
        }
    }
    size_t threads = 0;
    for (size_t i = 0; i < rs.n; i++) {
        if (pthread_create(&th[i], NULL, run, &ws[i]) != 0) {
            svc_say("receiver %s: no thread: %s", rs.v[i].name, strerror(errno));
            svc_stop = 1;
            break;
        }
        threads++;
    }
    int failed = threads < rs.n;
    pthread_mutex_lock(&start_lock);
    while (started < threads) {
        pthread_cond_wait(&start_cond, &start_lock);
    }
    pthread_mutex_unlock(&start_lock);
    for (size_t i = 0; i < threads; i++) {
        failed |= ws[i].failed;
    }
    if (failed) {
        svc_stop = 1;                   /* the others stop too: a notifier runs whole or not at all */
    } else {
        svc_say("ready (%zu receivers)", rs.n);
    }
    for (size_t i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
    }
    for (size_t i = 0; i < rs.n; i++) {
        curl_slist_free_all(ws[i].headers);
    }
    free(ws);
    free(th);
    vms_receivers_free(&rs);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
