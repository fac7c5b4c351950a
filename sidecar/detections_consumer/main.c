/*
 * vms-detections-consumer: Kafka vms.detections -> PostgreSQL detection_results and review events,
 * alerts to vms.alerts, review.event to vms.events (docs/events.md).
 *
 *   vms-detections-consumer --brokers HOST:PORT (--dsn-file REF | env VMS_PG_DSN[_FILE] | --dsn DSN) [--group vms-detections]
 *       [--topic vms.detections] [--dlq vms.detections.dlq] [--events-topic vms.events]
 *       [--alerts-topic vms.alerts] [--rules FILE] [--event-gap 30s] [--retries 3] [--retry-base 1s]
 *   vms-detections-consumer --replay-dlq --brokers … --dsn …   (store the DLQ's detections again, exit)
 *
 * Delivery: one PostgreSQL transaction per detection (the row, its review event, the alerts it
 * fires, as outbox rows); the Kafka offset is committed after that transaction, so a crash
 * re-delivers and the replay changes nothing (the detection's id is its key; the event is only
 * touched when the detection row was new). A failing transaction is retried --retries times after
 * base, 2×base, 4×base…; then the message goes to the DLQ with the error and its offset is
 * committed. A malformed message goes to the DLQ at once. Single-threaded.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "../consumer_common/dsn.h"
#include "../consumer_common/svc.h"
#include "detection.h"
#include "rules.h"

typedef struct {
    const char   *dsn, *topic, *dlq, *events_topic, *alerts_topic;
    long          gap_ms, retry_base_ms;
    int           retries;
    vms_rules_t   rules;
    PGconn       *pg;
    rd_kafka_t   *rk, *pk;
    unsigned long stored, duplicates, dead, skipped, alerts;
} app_t;

/* ---- PostgreSQL ---- */

#define EVENT_JSON \
    "json_build_object('id', id, 'camera_id', camera_id," \
    " 'start', to_char(start_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')," \
    " 'end', to_char(end_ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')," \
    " 'labels', labels, 'max_score', max_score, 'detections', detections," \
    " 'snapshot_detection', snapshot_detection, 'state', state)::text"

/* what is stored is exactly what Kafka carries: PostgreSQL takes the columns out of the JSON */
static const char *INSERT_DETECTION =
    "INSERT INTO detection_results (id, camera_id, ts, provider, kind, label,"
    " confidence, bbox_x, bbox_y, bbox_w, bbox_h, attributes, snapshot, trace_id)"
    " SELECT j->>'id', j->>'camera_id', (j->>'ts')::timestamptz,"
    " coalesce(j->>'provider', 'unknown'), coalesce(j->>'kind', 'label'), j->>'label',"
    " (j->>'confidence')::real,"
    " (j->'bbox'->>'x')::int, (j->'bbox'->>'y')::int,"
    " (j->'bbox'->>'width')::int, (j->'bbox'->>'height')::int,"
    " coalesce(nullif(j->'attributes', 'null'::jsonb), '{}'::jsonb), j->>'snapshot', j->>'trace_id'"
    " FROM (SELECT $1::jsonb AS j) s ON CONFLICT (id) DO NOTHING RETURNING id";

static const char *LAST_EVENT =
    "SELECT id, (extract(epoch FROM start_ts) * 1000000)::bigint,"
    " (extract(epoch FROM end_ts) * 1000000)::bigint, state"
    " FROM review_events WHERE camera_id = $1 ORDER BY end_ts DESC, id DESC LIMIT 1 FOR UPDATE";

/* $1 event id, $2 ts, $3 label, $4 confidence, $5 detection id, $6 snapshot */
static const char *EXTEND_EVENT =
    "UPDATE review_events SET start_ts = least(start_ts, $2::timestamptz),"
    " end_ts = greatest(end_ts, $2::timestamptz),"
    " labels = CASE WHEN $3 = ANY(labels) THEN labels ELSE labels || $3::text END,"
    " snapshot_detection = CASE WHEN $6::text IS NOT NULL AND (snapshot IS NULL OR $4::real > max_score)"
    "   THEN $5 ELSE snapshot_detection END,"
    " snapshot = CASE WHEN $6::text IS NOT NULL AND (snapshot IS NULL OR $4::real > max_score)"
    "   THEN $6 ELSE snapshot END,"
    " max_score = greatest(max_score, $4::real), detections = detections + 1, state = 'open',"
    " updated_at = now() WHERE id = $1 RETURNING " EVENT_JSON;

static const char *CLOSE_EVENT =
    "UPDATE review_events SET state = 'closed', updated_at = now() WHERE id = $1 AND state = 'open'"
    " RETURNING " EVENT_JSON;

/* $1 id (= the detection's), $2 camera, $3 ts, $4 label, $5 confidence, $6 snapshot */
static const char *NEW_EVENT =
    "INSERT INTO review_events (id, camera_id, start_ts, end_ts, labels, max_score, detections,"
    " snapshot_detection, snapshot, state) VALUES ($1, $2, $3::timestamptz, $3::timestamptz,"
    " ARRAY[$4::text], $5::real, 1, CASE WHEN $6::text IS NULL THEN NULL ELSE $1 END, $6, 'open')"
    " ON CONFLICT (id) DO NOTHING RETURNING " EVENT_JSON;

static const char *INSERT_ALERT =
    "INSERT INTO review_alerts (event_id, rule, alert) VALUES ($1, $2, $3::jsonb)"
    " ON CONFLICT DO NOTHING RETURNING alert::text";

static const char *IDLE_EVENTS =
    "UPDATE review_events SET state = 'closed', updated_at = now()"
    " WHERE state = 'open' AND end_ts < now() - make_interval(secs => $1::double precision)"
    " RETURNING " EVENT_JSON;

static const char *UNPUBLISHED =
    "SELECT alert::text FROM review_alerts WHERE NOT published"
    " AND created_at < now() - make_interval(secs => $1::double precision)"
    " ORDER BY created_at LIMIT 1000";

static const char *MARK_PUBLISHED =
    "UPDATE review_alerts SET published = true WHERE event_id = $1 AND rule = $2";

static int
pg_connect(app_t *a)
{
    if (a->pg && PQstatus(a->pg) == CONNECTION_OK) {
        return 0;
    }
    if (a->pg) {
        PQfinish(a->pg);
    }
    a->pg = PQconnectdb(a->dsn);
    if (PQstatus(a->pg) != CONNECTION_OK) {
        char msg[300];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(a->pg));
        msg[strcspn(msg, "\n")] = '\0';
        svc_say("postgres: connect failed: %s", msg);
        return -1;
    }
    PQclear(PQexec(a->pg, "SET statement_timeout = '10s'"));
    return 0;
}

/* PGresult of a statement, NULL (with err) on failure; *bad = 1 when the data was refused */
static PGresult *
pg_run(app_t *a, const char *sql, int n, const char *const *params, char *err, size_t errlen,
    int *bad)
{
    PGresult *res = PQexecParams(a->pg, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        return res;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    snprintf(err, errlen, "postgres: %s", PQresultErrorMessage(res));
    err[strcspn(err, "\n")] = '\0';
    /* class 22 (data exception) and 23 (integrity): retrying the same data will not help */
    if (bad && state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
        && PQstatus(a->pg) == CONNECTION_OK) {
        *bad = 1;
    }
    PQclear(res);
    return NULL;
}

/* ---- Kafka out ---- */

typedef struct {
    char event_id[201], rule[65];
} alert_ref_t;

static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    app_t *a = opaque;
    alert_ref_t *ref = m->_private;
    if (ref == NULL) {
        return;
    }
    if (m->err) {
        svc_say("kafka: alert %s:%s not delivered (%s); produced again later", ref->event_id, ref->rule,
            rd_kafka_err2str(m->err));
    } else if (a->pg && PQstatus(a->pg) == CONNECTION_OK) {
        const char *p[2] = { ref->event_id, ref->rule };
        char err[300];
        PGresult *res = pg_run(a, MARK_PUBLISHED, 2, p, err, sizeof(err), NULL);
        if (res == NULL) {
            svc_say("%s (alert stays unpublished; produced again later)", err);
        }
        PQclear(res);
    }
    free(ref);
}

static int
produce(app_t *a, const char *topic, const char *key, const char *value, alert_ref_t *ref)
{
    rd_kafka_resp_err_t e = rd_kafka_producev(a->pk, RD_KAFKA_V_TOPIC(topic),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
        RD_KAFKA_V_VALUE((void *) value, strlen(value)), RD_KAFKA_V_OPAQUE(ref), RD_KAFKA_V_END);
    if (e) {
        svc_say("kafka: produce to %s: %s", topic, rd_kafka_err2str(e));
        free(ref);
        return -1;
    }
    return 0;
}

static void
publish_event(app_t *a, const char *event_json, const char *trace_id)
{
    json_error_t je;
    json_t *ev = json_loads(event_json, 0, &je);
    if (ev == NULL) {
        return;
    }
    char ts[40];
    svc_now_rfc3339(ts, sizeof(ts));
    json_t *doc = json_pack("{s:i, s:s, s:s, s:O, s:O, s:s?}", "schema", 1, "type", "review.event",
                            "ts", ts, "camera_id", json_object_get(ev, "camera_id"), "event", ev,
                            "trace_id", trace_id);
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (s) {
        produce(a, a->events_topic, json_string_value(json_object_get(ev, "camera_id")), s, NULL);
    }
    free(s);
    json_decref(doc);
    json_decref(ev);
}

static void
publish_alert(app_t *a, const char *alert_json)
{
    json_error_t je;
    json_t *al = json_loads(alert_json, 0, &je);
    alert_ref_t *ref = calloc(1, sizeof(*ref));
    const char *eid = json_string_value(json_object_get(al, "event_id"));
    const char *rule = json_string_value(json_object_get(al, "rule"));
    const char *cam = json_string_value(json_object_get(al, "camera_id"));
    if (al == NULL || ref == NULL || eid == NULL || rule == NULL) {
        free(ref);
        json_decref(al);
        return;
    }
    snprintf(ref->event_id, sizeof(ref->event_id), "%s", eid);
    snprintf(ref->rule, sizeof(ref->rule), "%s", rule);
    if (produce(a, a->alerts_topic, cam, alert_json, ref) == 0) {
        a->alerts++;
    }
    json_decref(al);
}

/* Dead letter, produced and flushed before the source offset is committed: 0 when acknowledged. */
static int
dead_letter(app_t *a, const rd_kafka_message_t *m, const char *why, int attempts)
{
    char ts[40];
    svc_now_rfc3339(ts, sizeof(ts));
    json_t *doc = json_pack("{s:i, s:s, s:s, s:s, s:i, s:I, s:s%, s:s, s:i, s:s%}",
        "schema", 1, "type", "dead_letter", "ts", ts, "source_topic", a->topic,
        "partition", (int) m->partition, "offset", (json_int_t) m->offset,
        "key", m->key ? (const char *) m->key : "", m->key ? m->key_len : 0,
        "error", why, "attempts", attempts,
        "payload", m->payload ? (const char *) m->payload : "", m->payload ? m->len : 0);
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (s == NULL) {
        return -1;
    }
    char key[80] = "";
    if (m->key && m->key_len < sizeof(key)) {
        memcpy(key, m->key, m->key_len);
        key[m->key_len] = '\0';
    }
    int rc = produce(a, a->dlq, key[0] ? key : NULL, s, NULL);
    free(s);
    if (rc == 0 && rd_kafka_flush(a->pk, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rc = -1;
    }
    if (rc == 0) {
        a->dead++;
        svc_say("%s[%d]@%lld to %s after %d attempt(s): %s", a->topic, (int) m->partition,
            (long long) m->offset, a->dlq, attempts, why);
    }
    return rc;
}

/* ---- one detection, one transaction ---- */

typedef struct {
    char  *event[2];        /* review.event payloads to publish after the commit */
    char **alerts;
    size_t nalerts;
} outbox_t;

static void
outbox_free(outbox_t *o)
{
    free(o->event[0]);
    free(o->event[1]);
    for (size_t i = 0; i < o->nalerts; i++) {
        free(o->alerts[i]);
    }
    free(o->alerts);
    memset(o, 0, sizeof(*o));
}

static char *
take_text(PGresult *res)
{
    char *s = res && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) ? strdup(PQgetvalue(res, 0, 0)) : NULL;
    PQclear(res);
    return s;
}

static char *
alert_json(const vms_rule_t *r, const vms_detection_t *d, const char *event_id, const char *event)
{
    char ts[40], id[300], summary[300];
    svc_now_rfc3339(ts, sizeof(ts));
    snprintf(id, sizeof(id), "%s:%s", event_id, r->name);
    snprintf(summary, sizeof(summary), "%s on %s", d->label, d->camera_id);
    json_error_t je;
    json_t *src = event ? json_loads(event, 0, &je) : NULL;
    json_t *doc = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:f, s:o, s:s?}",
        "schema", 1, "type", "alert", "id", id, "ts", ts, "camera_id", d->camera_id,
        "kind", "detection", "rule", r->name, "severity", r->severity, "summary", summary,
        "event_id", event_id, "labels", d->label, "max_score", d->confidence,
        "source", src ? src : json_null(), "trace_id", d->trace_id);
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return s;
}

/* 0 stored (or already stored), -1 failed (retry), -2 refused by the database (bad data) */
static int
store(app_t *a, const vms_detection_t *d, const char *raw, outbox_t *ob, char *err, size_t errlen)
{
    int bad = 0;
    PGresult *res;
    memset(ob, 0, sizeof(*ob));
    if (pg_connect(a) != 0) {
        snprintf(err, errlen, "postgres: not connected");
        return -1;
    }
    if ((res = pg_run(a, "BEGIN", 0, NULL, err, errlen, NULL)) == NULL) {
        return -1;
    }
    PQclear(res);
    const char *p1[1] = { raw };
    if ((res = pg_run(a, INSERT_DETECTION, 1, p1, err, errlen, &bad)) == NULL) {
        goto fail;
    }
    int fresh = PQntuples(res) == 1;
    PQclear(res);
    if (!fresh) {
        a->duplicates++;        /* a replay: its event and alerts were written with it */
        goto commit;
    }
    char conf[32], ev_id[201] = "";
    snprintf(conf, sizeof(conf), "%.6f", d->confidence);
    const char *pc[1] = { d->camera_id };
    if ((res = pg_run(a, LAST_EVENT, 1, pc, err, errlen, &bad)) == NULL) {
        goto fail;
    }
    int extend = 0;
    int64_t gap_us = (int64_t) a->gap_ms * 1000;
    if (PQntuples(res) == 1) {
        int64_t s_us = strtoll(PQgetvalue(res, 0, 1), NULL, 10), e_us = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
        snprintf(ev_id, sizeof(ev_id), "%s", PQgetvalue(res, 0, 0));
        extend = d->ts_us <= e_us + gap_us && d->ts_us >= s_us - gap_us;
        if (!extend && strcmp(PQgetvalue(res, 0, 3), "open") == 0 && d->ts_us > e_us) {
            PQclear(res);
            const char *pe[1] = { ev_id };
            if ((res = pg_run(a, CLOSE_EVENT, 1, pe, err, errlen, &bad)) == NULL) {
                goto fail;
            }
            ob->event[0] = take_text(res);
            res = NULL;
        }
    }
    PQclear(res);
    if (extend) {
        const char *pu[6] = { ev_id, d->ts, d->label, conf, d->id, d->snapshot };
        res = pg_run(a, EXTEND_EVENT, 6, pu, err, errlen, &bad);
    } else {
        snprintf(ev_id, sizeof(ev_id), "%s", d->id);
        const char *pn[6] = { d->id, d->camera_id, d->ts, d->label, conf, d->snapshot };
        res = pg_run(a, NEW_EVENT, 6, pn, err, errlen, &bad);
    }
    if (res == NULL) {
        goto fail;
    }
    ob->event[1] = take_text(res);
    for (size_t i = 0; i < a->rules.n; i++) {
        const vms_rule_t *r = &a->rules.v[i];
        if (!vms_rule_match(r, d)) {
            continue;
        }
        char *aj = alert_json(r, d, ev_id, ob->event[1]);
        const char *pa[3] = { ev_id, r->name, aj };
        res = aj ? pg_run(a, INSERT_ALERT, 3, pa, err, errlen, &bad) : NULL;
        free(aj);
        if (res == NULL) {
            goto fail;
        }
        char *fired = take_text(res);
        if (fired) {
            char **v = realloc(ob->alerts, (ob->nalerts + 1) * sizeof(*v));
            if (v == NULL) {
                free(fired);
            } else {
                ob->alerts = v;
                ob->alerts[ob->nalerts++] = fired;
            }
        }
    }
commit:
    if ((res = pg_run(a, "COMMIT", 0, NULL, err, errlen, NULL)) == NULL) {
        outbox_free(ob);
        return -1;
    }
    PQclear(res);
    if (fresh) {
        a->stored++;
    }
    return 0;
fail:
    PQclear(PQexec(a->pg, "ROLLBACK"));
    outbox_free(ob);
    return bad ? -2 : -1;
}

static void
after_commit(app_t *a, outbox_t *ob, const char *trace_id)
{
    for (int k = 0; k < 2; k++) {
        if (ob->event[k]) {
            publish_event(a, ob->event[k], trace_id);
        }
    }
    for (size_t i = 0; i < ob->nalerts; i++) {
        publish_alert(a, ob->alerts[i]);
    }
    outbox_free(ob);
}

/* The transaction with its retries: 0 stored (events and alerts published), -1 stopping,
 * -2 failed every attempt or refused (err, *attempts say why and how often). */
static int
store_retrying(app_t *a, vms_detection_t *d, const char *raw, char *err, size_t errlen, int *attempts)
{
    outbox_t ob;
    int rc = -1;
    long wait = a->retry_base_ms;
    for (*attempts = 1; *attempts <= a->retries + 1; ++*attempts) {
        rc = store(a, d, raw, &ob, err, errlen);
        if (rc == 0) {
            after_commit(a, &ob, d->trace_id);
            return 0;
        }
        if (rc == -2) {
            return -2;          /* refused by the database: the same data fails again */
        }
        if (*attempts <= a->retries) {
            svc_say("detection %s: write failed (attempt %d of %d): %s; retry in %ld ms", d->id, *attempts,
                a->retries + 1, err, wait);
            svc_sleep_ms(wait);
            wait *= 2;
            if (svc_stop) {
                return -1;
            }
        }
    }
    *attempts = a->retries + 1;
    return -2;
}

/* 0 handled (commit its offset), -1 stopping (leave it uncommitted: re-delivered) */
static int
handle(app_t *a, rd_kafka_message_t *m)
{
    vms_detection_t d;
    const char *why;
    static char raw[65536];
    char err[400] = "";
    int attempts = 0;
    int rc = vms_detection_parse(&d, m->payload ? m->payload : "", m->len, &why);
    if (rc == VMS_DET_OTHER) {
        a->skipped++;
        vms_detection_free(&d);
        return 0;
    }
    if (rc == VMS_DET_OK && m->len >= sizeof(raw)) {
        rc = VMS_DET_BAD;
        why = "message larger than 64 KB";
    }
    if (rc == VMS_DET_OK) {
        memcpy(raw, m->payload, m->len);
        raw[m->len] = '\0';
        rc = store_retrying(a, &d, raw, err, sizeof(err), &attempts);
        why = err;
    } else {
        rc = -2;                /* malformed: to the DLQ at once */
    }
    vms_detection_free(&d);
    if (rc == 0 || rc == -1) {
        return rc;
    }
    while (dead_letter(a, m, why, attempts) != 0) {
        if (svc_stop) {
            return -1;
        }
        svc_sleep_ms(1000);
    }
    return 0;
}

/* --replay-dlq: the dead letters of --topic (this consumer's, and vmsd's detection.undelivered)
 * stored again, e.g. after a database outage; exits once the DLQ is read to its end. 0 when
 * every letter was stored or is malformed for good; 1 when a write still fails (not committed:
 * the next replay tries it again). */
static int
replay_dlq(app_t *a, rd_kafka_t *rk)
{
    unsigned long replayed = 0, hopeless = 0;
    int eofs = 0, rc = 0;
    while (!svc_stop) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        rd_kafka_poll(a->pk, 0);
        if (m == NULL) {
            rd_kafka_topic_partition_list_t *asg = NULL;
            if (rd_kafka_assignment(rk, &asg) == 0 && asg && asg->cnt > 0 && eofs >= asg->cnt) {
                rd_kafka_topic_partition_list_destroy(asg);
                break;
            }
            if (asg) {
                rd_kafka_topic_partition_list_destroy(asg);
            }
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eofs++;
            rd_kafka_message_destroy(m);
            continue;
        }
        if (m->err) {
            svc_say("kafka: %s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        json_error_t je;
        json_t *doc = json_loadb(m->payload, m->len, 0, &je);
        const char *type = json_string_value(json_object_get(doc, "type"));
        char *payload = NULL;
        if (type && strcmp(type, "dead_letter") == 0
            && json_is_string(json_object_get(doc, "source_topic"))
            && strcmp(json_string_value(json_object_get(doc, "source_topic")), a->topic) == 0
            && json_is_string(json_object_get(doc, "payload"))) {
            payload = strdup(json_string_value(json_object_get(doc, "payload")));
        } else if (type && strcmp(type, "detection.undelivered") == 0
                   && json_is_object(json_object_get(doc, "result"))) {
            payload = json_dumps(json_object_get(doc, "result"), JSON_COMPACT);
        }
        json_decref(doc);
        vms_detection_t d;
        const char *why = "not a dead letter of this topic";
        char err[400];
        int attempts, r = payload ? vms_detection_parse(&d, payload, strlen(payload), &why) : VMS_DET_BAD;
        if (r == VMS_DET_OK) {
            r = store_retrying(a, &d, payload, err, sizeof(err), &attempts);
            vms_detection_free(&d);
            if (r == 0) {
                replayed++;
            } else {
                svc_say("replay: %s[%d]@%lld not stored: %s; stopping (re-run to continue)", a->dlq,
                    (int) m->partition, (long long) m->offset, r == -1 ? "stopping" : err);
                free(payload);
                rd_kafka_message_destroy(m);
                rc = 1;
                break;
            }
        } else {
            if (payload) {
                vms_detection_free(&d);
            }
            hopeless++;
            svc_say("replay: %s[%d]@%lld skipped: %s", a->dlq, (int) m->partition, (long long) m->offset, why);
        }
        free(payload);
        rd_kafka_commit_message(rk, m, 0);
        rd_kafka_message_destroy(m);
    }
    svc_say("replay: %lu stored again, %lu skipped (malformed for good)", replayed, hopeless);
    return rc;
}

static void
close_idle(app_t *a)
{
    char err[300], secs[32];
    if (a->pg == NULL || PQstatus(a->pg) != CONNECTION_OK) {
        return;
    }
    snprintf(secs, sizeof(secs), "%.3f", a->gap_ms / 1000.0);
    const char *p[1] = { secs };
    PGresult *res = pg_run(a, IDLE_EVENTS, 1, p, err, sizeof(err), NULL);
    for (int i = 0; res && i < PQntuples(res); i++) {
        publish_event(a, PQgetvalue(res, i, 0), NULL);
    }
    PQclear(res);
}

static void
republish(app_t *a, double older_than_s)
{
    char err[300], secs[32];
    if (pg_connect(a) != 0) {
        return;
    }
    snprintf(secs, sizeof(secs), "%.3f", older_than_s);
    const char *p[1] = { secs };
    PGresult *res = pg_run(a, UNPUBLISHED, 1, p, err, sizeof(err), NULL);
    int n = res ? PQntuples(res) : 0;
    for (int i = 0; i < n; i++) {
        publish_alert(a, PQgetvalue(res, i, 0));
    }
    if (n > 0) {
        svc_say("%d unpublished alert(s) produced again", n);
    }
    PQclear(res);
}

static int
run(app_t *a, const char *brokers, const char *group, int replay)
{
    char err[512];
    rd_kafka_conf_t *cc = rd_kafka_conf_new(), *pc = rd_kafka_conf_new();
    if (svc_conf_set(cc, "bootstrap.servers", brokers) || svc_conf_set(cc, "group.id", group)
        || svc_conf_set(cc, "enable.auto.commit", "false") || svc_conf_set(cc, "auto.offset.reset", "earliest")
        || svc_conf_set(cc, "max.poll.interval.ms", "600000") || svc_conf_set(cc, "session.timeout.ms", "10000")
        || (replay && svc_conf_set(cc, "enable.partition.eof", "true"))
        || svc_conf_set(pc, "bootstrap.servers", brokers) || svc_conf_set(pc, "enable.idempotence", "true")
        || svc_conf_set(pc, "linger.ms", "5") || svc_kafka_ssl(cc) || svc_kafka_ssl(pc)) {
        return 1;
    }
    rd_kafka_conf_set_rebalance_cb(cc, svc_on_rebalance);
    rd_kafka_conf_set_dr_msg_cb(pc, on_delivery);
    rd_kafka_conf_set_opaque(pc, a);
    a->rk = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof(err));
    if (a->rk == NULL) {
        svc_say("kafka: %s", err);
        return 1;
    }
    a->pk = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof(err));
    if (a->pk == NULL) {
        svc_say("kafka: %s", err);
        return 1;
    }
    rd_kafka_poll_set_consumer(a->rk);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subs, replay ? a->dlq : a->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(a->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (e) {
        svc_say("kafka: subscribe %s: %s", a->topic, rd_kafka_err2str(e));
        return 1;
    }
    while (pg_connect(a) != 0 && !svc_stop) {
        svc_sleep_ms(1000);
    }
    if (replay) {
        int rc = replay_dlq(a, a->rk);
        rd_kafka_consumer_close(a->rk);
        rd_kafka_destroy(a->rk);
        rd_kafka_flush(a->pk, 10000);
        rd_kafka_destroy(a->pk);
        return rc;
    }
    republish(a, 0);
    svc_say("ready (topic %s, group %s, %zu rule(s), event gap %ld ms)", a->topic, group, a->rules.n, a->gap_ms);
    time_t last_tick = time(NULL), last_republish = last_tick;
    while (!svc_stop) {
        rd_kafka_message_t *m = svc_poll(a->rk, 200);
        rd_kafka_poll(a->pk, 0);
        time_t now = time(NULL);
        if (now != last_tick) {
            last_tick = now;
            close_idle(a);
        }
        if (now - last_republish >= 60) {
            last_republish = now;
            republish(a, 60);
        }
        if (m == NULL) {
            continue;
        }
        if (handle(a, m) != 0) {
            rd_kafka_message_destroy(m);     /* stopping: not committed, re-delivered later */
            break;
        }
        e = rd_kafka_commit_message(a->rk, m, 0);
        if (e) {
            svc_say("kafka: commit %s[%d]@%lld: %s (re-delivered later; stored once)", a->topic,
                (int) m->partition, (long long) m->offset, rd_kafka_err2str(e));
        }
        rd_kafka_message_destroy(m);
    }
    svc_say("stopping: %lu stored, %lu already stored, %lu dead-lettered, %lu skipped, %lu alerts",
        a->stored, a->duplicates, a->dead, a->skipped, a->alerts);
    rd_kafka_consumer_close(a->rk);
    rd_kafka_destroy(a->rk);
    rd_kafka_flush(a->pk, 5000);
    rd_kafka_destroy(a->pk);
    return 0;
}

static int
load_rules(app_t *a, const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    int big = !feof(f);
    fclose(f);
    if (big) {
        fprintf(stderr, "%s: larger than 1 MB\n", path);
        return -1;
    }
    char err[8192];
    if (vms_rules_load(text, n, &a->rules, err, sizeof(err)) != 0) {
        char *line = err, *nl;
        do {
            nl = strchr(line, '\n');
            fprintf(stderr, "%s: %.*s\n", path, nl ? (int) (nl - line) : (int) strlen(line), line);
            line = nl ? nl + 1 : NULL;
        } while (line);
        return -1;
    }
    return 0;
}

static void
usage(void)
{
    fprintf(stderr, "usage: vms-detections-consumer --brokers HOST:PORT [--dsn-file REF | --dsn DSN] [--group G] [--topic T]\n"
                    "       [--dlq T] [--events-topic T] [--alerts-topic T] [--rules FILE]\n"
                    "       [--event-gap 30s] [--retries 3] [--retry-base 1s] [--replay-dlq]\n");
}

int
main(int argc, char **argv)
{
    svc_init("detections-consumer");
    const char *brokers = NULL, *group = "vms-detections", *rules = NULL, *gap = "30s";
    const char *retries = "3", *base = "1s";
    const char *dsn_arg = NULL, *dsn_file = NULL;
    int replay = 0;
    app_t a = { .topic = "vms.detections", .dlq = "vms.detections.dlq", .events_topic = "vms.events",
                .alerts_topic = "vms.alerts" };

    for (int i = 1; i < argc; i++) {
        const char **dst = NULL;
        if (strcmp(argv[i], "--replay-dlq") == 0) {
            replay = 1;
            continue;
        }
        if (strcmp(argv[i], "--brokers") == 0) dst = &brokers;
        else if (strcmp(argv[i], "--dsn") == 0) dst = &dsn_arg;
        else if (strcmp(argv[i], "--dsn-file") == 0) dst = &dsn_file;
        else if (strcmp(argv[i], "--group") == 0) dst = &group;
        else if (strcmp(argv[i], "--topic") == 0) dst = &a.topic;
        else if (strcmp(argv[i], "--dlq") == 0) dst = &a.dlq;
        else if (strcmp(argv[i], "--events-topic") == 0) dst = &a.events_topic;
        else if (strcmp(argv[i], "--alerts-topic") == 0) dst = &a.alerts_topic;
        else if (strcmp(argv[i], "--rules") == 0) dst = &rules;
        else if (strcmp(argv[i], "--event-gap") == 0) dst = &gap;
        else if (strcmp(argv[i], "--retries") == 0) dst = &retries;
        else if (strcmp(argv[i], "--retry-base") == 0) dst = &base;
        if (dst == NULL || i + 1 >= argc) {
            usage();
            return 2;
        }
        *dst = argv[++i];
    }
    char why[512];
    a.dsn = svc_dsn(dsn_arg, dsn_file, why, sizeof(why));
    if (a.dsn == NULL) {
        svc_say("%s", why);
        return 2;
    }
    a.gap_ms = svc_duration_ms(gap);
    a.retry_base_ms = svc_duration_ms(base);
    char *end;
    long nr = strtol(retries, &end, 10);
    if (brokers == NULL || a.dsn == NULL || a.gap_ms <= 0 || a.retry_base_ms < 0 || *end || nr < 0 || nr > 10) {
        if (a.gap_ms <= 0) fprintf(stderr, "--event-gap: expected a duration such as 30s\n");
        if (a.retry_base_ms < 0) fprintf(stderr, "--retry-base: expected a duration such as 1s\n");
        if (*end || nr < 0 || nr > 10) fprintf(stderr, "--retries: expected 0..10\n");
        usage();
        return 2;
    }
    a.retries = (int) nr;
    if (rules != NULL && load_rules(&a, rules) != 0) {
        return 2;
    }
    if (replay && strcmp(group, "vms-detections") == 0) {
        group = "vms-detections-replay";
    }
    int rc = run(&a, brokers, group, replay);
    if (a.pg) {
        PQfinish(a.pg);
    }
    vms_rules_free(&a.rules);
    return rc;
}
