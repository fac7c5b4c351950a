"""Audit of POST/PUT/DELETE through vms_auth: records in Kafka vms.audit, stored in PostgreSQL
audit_log by vms-audit-consumer, and kept in the fallback file while the broker is unreachable."""
import json
import os
import subprocess

import psycopg
import requests

import vmsstack
from test_auth_helpers import Keys, bearer
from helpers import consume


def rows(pg, where="true"):
    with psycopg.connect(pg.dsn) as conn:
        return conn.execute(f"SELECT user_id, action, resource, status, ip, trace_id, tenant_id, event_id "
                            f"FROM audit_log WHERE {where} ORDER BY id").fetchall()


def audited_requests(ngx, keys):
    tok = keys.token("HS256", sub="alice", role="viewer", camera_id="cam1", tenant_id="acme")
    ok = requests.post(ngx.url("/api/auth/check/cam1?jwt=secret-looking"), headers=dict(bearer(tok), **{"X-Trace-Id": "trace-123"}), timeout=5)
    denied = requests.delete(ngx.url("/api/auth/check/cam1"), timeout=5)
    get = requests.get(ngx.url("/api/auth/check/cam1"), headers=bearer(tok), timeout=5)
    assert (ok.status_code, denied.status_code, get.status_code) == (200, 401, 200)


def test_audit_records_in_kafka_and_postgres(stack):
    keys = Keys(stack)
    k = stack.kafka()
    pg = stack.postgres()
    ngx = stack.nginx(vars={"REDIS_ADDR": "127.0.0.1:9", "KAFKA_BROKERS": k.bootstrap})
    audited_requests(ngx, keys)

    recs = consume(k.bootstrap, "vms.audit", 2, decode=json.loads)
    by_action = {r["action"]: (key, r) for key, r in recs}
    assert set(by_action) == {"POST", "DELETE"}             # the GET is not audited
    key, post = by_action["POST"]
    assert key == b"alice"
    assert post["user"] == "alice" and post["status"] == 200 and post["ip"] == "127.0.0.1"
    assert post["resource"] == "/api/auth/check/cam1"        # no query string: it may hold tokens
    assert post["trace_id"] == "trace-123" and post["tenant_id"] == "acme"
    assert post["schema"] == 1 and post["type"] == "audit" and len(post["id"]) == 32
    assert post["ts"].endswith("Z")
    _, delete = by_action["DELETE"]
    assert delete["user"] is None and delete["status"] == 401 and delete["trace_id"]

    cons = stack._start("audit-consumer", [stack.bin("vms-audit-consumer"), "--brokers", k.bootstrap,
                                           "--dsn", pg.dsn])
    cons.wait_line(r"audit-consumer: ready", 30)
    vmsstack.wait_for("audit rows", lambda: len(rows(pg)) >= 2, 30, cons.proc, cons.log)
    got = {r[1]: r for r in rows(pg)}
    assert got["POST"][:7] == ("alice", "POST", "/api/auth/check/cam1", 200, "127.0.0.1", "trace-123", "acme")
    assert got["DELETE"][0] is None and got["DELETE"][3] == 401
    assert got["POST"][7] == post["id"]

    # a consumer restart re-reads nothing twice (committed offsets), and a replay of the same
    # records (re-delivery) stores nothing twice
    cons.stop()
    f = stack.path("replay") + "/dup.jsonl"
    with open(f, "w") as out:
        out.write(json.dumps(post) + "\n" + json.dumps(delete) + "\n")
    r = subprocess.run([stack.bin("vms-audit-consumer"), "--dsn", pg.dsn, "--replay", f],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert len(rows(pg)) == 2


def test_broker_down_records_kept_in_file_then_replayed(stack):
    keys = Keys(stack)
    pg = stack.postgres()
    ngx = stack.nginx(vars={"REDIS_ADDR": "127.0.0.1:9", "KAFKA_BROKERS": "127.0.0.1:9",
                            "AUTH_KAFKA_PROPS": "message.timeout.ms=500"})
    audited_requests(ngx, keys)
    path = os.path.join(ngx.prefix, "logs", "audit.jsonl")

    def lines():
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    vmsstack.wait_for("fallback file", lambda: len(lines()) >= 2, 30)
    assert {r["action"] for r in lines()} == {"POST", "DELETE"}
    r = subprocess.run([stack.bin("vms-audit-consumer"), "--dsn", pg.dsn, "--replay", path],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert {(u, a, s) for u, a, _, s, *_ in rows(pg)} == {("alice", "POST", 200), (None, "DELETE", 401)}


def test_malformed_record_goes_to_dead_letter_topic(stack):
    k = stack.kafka()
    pg = stack.postgres()
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": k.bootstrap})
    p.produce("vms.audit", b'{"type":"audit","id":"x1"}')          # missing required fields
    p.produce("vms.audit", json.dumps({"type": "audit", "id": "ok1", "user": "u", "action": "PUT",
                                       "resource": "/r", "status": 204, "ts": "2026-11-24T01:02:03.456Z",
                                       "ip": "127.0.0.1"}).encode())
    p.flush(10)
    cons = stack._start("audit-consumer", [stack.bin("vms-audit-consumer"), "--brokers", k.bootstrap,
                                           "--dsn", pg.dsn])
    vmsstack.wait_for("audit row", lambda: len(rows(pg)) >= 1, 30, cons.proc, cons.log)
    dead = consume(k.bootstrap, "vms.audit.dlq", 1, decode=json.loads)
    assert dead[0][1]["id"] == "x1"
    assert rows(pg)[0][:4] == ("u", "PUT", "/r", 204)


def test_broker_outage_records_delivered_after_recovery(stack):
    """Kafka down for a while (shorter than message.timeout.ms): librdkafka keeps the records and
    delivers them when the broker is back; nothing goes to the fallback file."""
    keys = Keys(stack)
    k = stack.kafka()
    ngx = stack.nginx(vars={"REDIS_ADDR": "127.0.0.1:9", "KAFKA_BROKERS": k.bootstrap,
                            "AUTH_KAFKA_PROPS": "message.timeout.ms=120000"})
    tok = keys.token("HS256", sub="carol", role="viewer", camera_id="cam1")
    assert requests.post(ngx.url("/api/auth/check/cam1"), headers=bearer(tok), timeout=5).status_code == 200
    consume(k.bootstrap, "vms.audit", 1, decode=json.loads)            # the producer is connected and working
    k.down()
    for _ in range(3):
        assert requests.put(ngx.url("/api/auth/check/cam1"), headers=bearer(tok), timeout=5).status_code == 200
    k.up()
    recs = consume(k.bootstrap, "vms.audit", 4, timeout=60, decode=json.loads)
    assert [r["action"] for _, r in recs].count("PUT") == 3
    assert not os.path.exists(os.path.join(ngx.prefix, "logs", "audit.jsonl")) or \
        os.path.getsize(os.path.join(ngx.prefix, "logs", "audit.jsonl")) == 0


def test_database_outage_consumer_retries(stack):
    """PostgreSQL down: the consumer keeps the record (offset not committed) and stores it once the
    database is back."""
    keys = Keys(stack)
    k = stack.kafka()
    pg = stack.postgres()
    ngx = stack.nginx(vars={"REDIS_ADDR": "127.0.0.1:9", "KAFKA_BROKERS": k.bootstrap})
    cons = stack._start("audit-consumer", [stack.bin("vms-audit-consumer"), "--brokers", k.bootstrap,
                                           "--dsn", pg.dsn])
    cons.wait_line(r"audit-consumer: ready", 30)
    pg.stop()
    tok = keys.token("HS256", sub="dave", role="viewer", camera_id="cam1")
    assert requests.delete(ngx.url("/api/auth/check/cam1"), headers=bearer(tok), timeout=5).status_code == 200
    cons.wait_line(r"postgres: (connect|insert) failed", 60)     # it met the outage with our record
    pg2 = stack.postgres(port=pg.port)                            # same data directory
    vmsstack.wait_for("row after recovery", lambda: rows(pg2, "user_id = 'dave'"), 60, cons.proc, cons.log)
    assert [r[1] for r in rows(pg2, "user_id = 'dave'")] == ["DELETE"]
