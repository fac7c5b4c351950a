/*
 * vms-audit-consumer: Kafka vms.audit -> PostgreSQL audit_log.
 *
 *   vms-audit-consumer --brokers HOST:PORT (--dsn-file REF | env VMS_PG_DSN[_FILE] | --dsn "host=... dbname=vms") [--topic vms.audit]
 *                      [--group vms-audit-consumer] [--dlq vms.audit.dlq]
 *   vms-audit-consumer --dsn DSN --replay FILE      (import vms_auth's fallback file, then exit)
 *
 * Delivery: offsets are committed only after the row is stored (or the malformed record was
 * produced to the dead-letter topic), so a crash or a database outage re-delivers; the insert is
 * idempotent on the record's "id" (ON CONFLICT DO NOTHING), so re-delivery stores nothing twice.
 * While PostgreSQL is down the same record is retried with capped exponential backoff.
 */
#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "dsn.h"
#include "svc.h"     /* sidecar/consumer_common: the consumers' shared service code */
#include "audit_record.h"

static const char *INSERT_SQL =
    "INSERT INTO audit_log (event_id, ts, user_id, action, resource, status, ip, trace_id, tenant_id, raw) "
    "VALUES ($1, $2::timestamptz, $3, $4, $5, $6::integer, $7, $8, $9, $10::jsonb) "
    "ON CONFLICT (event_id) DO NOTHING";

typedef struct {
    const char *dsn;
    PGconn     *pg;
} store_t;

static int
store_connect(store_t *s)
{
    if (s->pg && PQstatus(s->pg) == CONNECTION_OK) {
        return 0;
    }
    if (s->pg) {
        PQfinish(s->pg);
    }
    s->pg = PQconnectdb(s->dsn);
    if (PQstatus(s->pg) != CONNECTION_OK) {
        svc_say("postgres: connect failed: %s", PQerrorMessage(s->pg));
        return -1;
    }
    return 0;
}

/* 0 stored (or already there), -1 database error (retry), -2 rejected by the database (bad data). */
static int
store_insert(store_t *s, const vms_audit_record_t *a, const char *raw, size_t rawlen)
{
    if (store_connect(s) != 0) {
        return -1;
    }
    char *rawz = strndup(raw, rawlen);
    if (rawz == NULL) {
        return -1;
    }
    const char *params[10] = { a->id, a->ts, a->user, a->action, a->resource, a->status_text, a->ip,
                               a->trace_id, a->tenant_id, rawz };
    PGresult *res = PQexecParams(s->pg, INSERT_SQL, 10, NULL, params, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        svc_say("postgres: insert failed: %s", PQresultErrorMessage(res));
        /* class 22 (data exception) and 23 (integrity): retrying will not help */
        rc = state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0) ? -2 : -1;
        if (PQstatus(s->pg) != CONNECTION_OK) {
            rc = -1;
        }
    }
    PQclear(res);
    free(rawz);
    return rc;
}

static int
replay(store_t *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        svc_say("replay: cannot open %s: %s", path, strerror(errno));
        return 1;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0, stored = 0, bad = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            n--;
        }
        if (n == 0) {
            continue;
        }
        vms_audit_record_t a;
        const char *why;
        if (vms_audit_record_parse(&a, line, (size_t) n, &why) != 0) {
            svc_say("replay: %s line %zu skipped: %s", path, lineno, why);
            bad++;
            continue;
        }
        int r = store_insert(s, &a, line, (size_t) n);
        vms_audit_record_free(&a);
        if (r == -1) {
            svc_say("replay: database unavailable at line %zu; stopping (re-run to continue)", lineno);
            rc = 1;
            break;
        }
        if (r == -2) {
            bad++;
        } else {
            stored++;
        }
    }
    free(line);
    fclose(f);
    svc_say("replay: %s: %zu lines, %zu stored or already present, %zu rejected", path, lineno, stored, bad);
    return rc ? rc : (bad ? 2 : 0);
}

static int
consume(store_t *s, const char *brokers, const char *topic, const char *group, const char *dlq)
{
    char err[512];
    rd_kafka_conf_t *cc = rd_kafka_conf_new(), *pc = rd_kafka_conf_new();
    if (svc_conf_set(cc, "bootstrap.servers", brokers) || svc_conf_set(cc, "group.id", group)
        || svc_conf_set(cc, "enable.auto.commit", "false") || svc_conf_set(cc, "auto.offset.reset", "earliest")
        || svc_conf_set(cc, "max.poll.interval.ms", "86400000")
        || svc_conf_set(pc, "bootstrap.servers", brokers) || svc_kafka_ssl(cc) || svc_kafka_ssl(pc)) {
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof(err));
    rd_kafka_t *dk = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof(err));
    if (rk == NULL || dk == NULL) {
        svc_say("kafka: %s", err);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subs, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (e) {
        svc_say("kafka: subscribe %s: %s", topic, rd_kafka_err2str(e));
        return 1;
    }
    while (store_connect(s) != 0 && !svc_stop) {
        svc_sleep_ms(1000);
    }
    svc_say("ready (topic %s, group %s)", topic, group);

    unsigned long stored = 0, dead = 0;
    while (!svc_stop) {
        rd_kafka_message_t *m = svc_poll(rk, 500);
        rd_kafka_poll(dk, 0);
        if (m == NULL) {
            continue;
        }
        vms_audit_record_t a;
        const char *why;
        int ok = 0;
        if (vms_audit_record_parse(&a, m->payload, m->len, &why) != 0) {
            svc_say("record at %s[%d]@%lld to %s: %s", topic, (int) m->partition, (long long) m->offset, dlq, why);
        } else {
            long backoff = 250;
            int r;
            while ((r = store_insert(s, &a, m->payload, m->len)) == -1 && !svc_stop) {
                svc_sleep_ms(backoff);
                backoff = backoff * 2 > 10000 ? 10000 : backoff * 2;
            }
            vms_audit_record_free(&a);
            if (r == -1) {
                rd_kafka_message_destroy(m);   /* stopping: not committed, re-delivered later */
                break;
            }
            ok = r == 0;
        }
        if (ok) {
            stored++;
        } else {
            dead++;
            if (rd_kafka_producev(dk, RD_KAFKA_V_TOPIC(dlq), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_END) != 0
                || rd_kafka_flush(dk, 10000) != 0) {
                svc_say("kafka: dead-letter produce failed; record not committed");
                rd_kafka_message_destroy(m);
                svc_sleep_ms(1000);
                continue;
            }
        }
        rd_kafka_commit_message(rk, m, 1);
        rd_kafka_message_destroy(m);
    }
    svc_say("stopping: %lu stored, %lu dead-lettered", stored, dead);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    rd_kafka_flush(dk, 5000);
    rd_kafka_destroy(dk);
    return 0;
}

static void
usage(void)
{
    fprintf(stderr, "usage: vms-audit-consumer [--dsn-file REF | --dsn DSN] (--brokers HOST:PORT [--topic T] [--group G] "
                    "[--dlq T] | --replay FILE)\n");
}

int
main(int argc, char **argv)
{
    svc_init("audit-consumer");
    const char *brokers = NULL, *dsn_arg = NULL, *dsn_file = NULL, *topic = "vms.audit", *group = "vms-audit-consumer";
    const char *dlq = "vms.audit.dlq", *replay_file = NULL;

    for (int i = 1; i < argc; i++) {
        const char **dst = NULL;
        if (strcmp(argv[i], "--brokers") == 0) dst = &brokers;
        else if (strcmp(argv[i], "--dsn") == 0) dst = &dsn_arg;
        else if (strcmp(argv[i], "--dsn-file") == 0) dst = &dsn_file;
        else if (strcmp(argv[i], "--topic") == 0) dst = &topic;
        else if (strcmp(argv[i], "--group") == 0) dst = &group;
        else if (strcmp(argv[i], "--dlq") == 0) dst = &dlq;
        else if (strcmp(argv[i], "--replay") == 0) dst = &replay_file;
        if (dst == NULL || i + 1 >= argc) {
            usage();
            return 2;
        }
        *dst = argv[++i];
    }
    if (brokers == NULL && replay_file == NULL) {
        usage();
        return 2;
    }
    char why[512];
    char *dsn = svc_dsn(dsn_arg, dsn_file, why, sizeof(why));
    if (dsn == NULL) {
        svc_say("%s", why);
        return 2;
    }
    store_t s = { dsn, NULL };
    int rc = replay_file ? replay(&s, replay_file) : consume(&s, brokers, topic, group, dlq);
    if (s.pg) {
        PQfinish(s.pg);
    }
    return rc;
}
