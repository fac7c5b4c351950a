"""vms-detections-consumer with real peers (kafka-broker, PostgreSQL): rows stored once whatever is
re-delivered, review events, rules firing once per event, retries then the DLQ, poison messages,
a kill -9, two consumers in one group (docs/events.md)."""
import json
import os
import re
import signal
import subprocess
import time

import psycopg
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

import vmsstack
from helpers import det
from vmsdtest import Events, wait

T0 = 1_790_000_000_000_000        # a fixed instant (µs): the review events are judged on the detections' ts


class Out:
    def __init__(self, k):
        self.p = Producer({"bootstrap.servers": k.bootstrap, "enable.idempotence": True})

    def send(self, msgs, topic="vms.detections", partition=None):
        for m in msgs:
            value = m if isinstance(m, (bytes, str)) else json.dumps(m)
            key = None if isinstance(m, (bytes, str)) else m["camera_id"]
            kw = {"partition": partition} if partition is not None else {}
            self.p.produce(topic, value=value, key=key, **kw)
        assert self.p.flush(15) == 0


def rows(pg, sql, *args):
    with psycopg.connect(pg.url) as c:
        return c.execute(sql, args).fetchall()


def count(pg, where="true"):
    return rows(pg, f"SELECT count(*) FROM detection_results WHERE {where}")[0][0]


@pytest.fixture
def peers(stack):
    return stack.postgres(), stack.kafka()


def test_detections_grouped_into_review_events_and_a_replay_changes_nothing(stack, peers):
    pg, k = peers
    out = Out(k)
    cam1 = [det("cam1", i, T0 + i * 1_000_000, label="car" if i == 2 else "person", conf=0.5 + i / 10,
                snapshot=f"file:///snap/cam1/{i}.jpg" if i in (1, 3) else None) for i in range(5)]
    later = det("cam1", 9, T0 + 100_000_000)           # 96 s after the last one: a new event
    cam2 = [det("cam2", i, T0 + i * 500_000) for i in range(2)]
    out.send(cam1 + [later] + cam2)
    ev = Events(k.bootstrap, "vms.events")
    c = stack.detections_consumer(pg, k, args=["--event-gap", "10s"])
    wait("8 rows", lambda: count(pg) == 8, 60, c)

    events = {r[0]: r[1:] for r in rows(pg, "SELECT id, camera_id, labels, max_score, detections,"
                                           " snapshot_detection, state, start_ts, end_ts FROM review_events")}
    assert set(events) == {"t-cam1-0", "t-cam1-9", "t-cam2-0"}
    cam, labels, score, n, snap, state, start, end = events["t-cam1-0"]
    assert (cam, sorted(labels), n, snap, state) == ("cam1", ["car", "person"], 5, "t-cam1-3", "closed")
    assert score == pytest.approx(0.9)
    assert (end - start).total_seconds() == 4
    assert events["t-cam1-9"][3] == 1 and events["t-cam2-0"][3] == 2
    # the newest events close once the gap passes without detections (wall clock: their ts are old)
    wait("every event closed", lambda: {r[0] for r in rows(pg, "SELECT state FROM review_events")} == {"closed"}, 30, c)
    published = wait("review.event messages", lambda: [e for e in ev.of("review.event")
                                                       if e["event"]["state"] == "closed"], 30)
    assert {e["event"]["id"] for e in published} >= {"t-cam1-0", "t-cam1-9", "t-cam2-0"}
    assert all(e["_key"] == e["camera_id"] == e["event"]["camera_id"] for e in ev.of("review.event"))

    # the same messages again (a re-delivery), then a marker: nothing is stored or counted twice
    out.send(cam1 + [later] + cam2 + [det("cam3", 0, T0)])
    wait("the marker", lambda: count(pg, "camera_id = 'cam3'") == 1, 60, c)
    assert count(pg) == 9
    again = {r[0]: r[1:] for r in rows(pg, "SELECT id, camera_id, labels, max_score, detections,"
                                          " snapshot_detection, state, start_ts, end_ts FROM review_events"
                                          " WHERE camera_id <> 'cam3'")}
    assert again == {i: events[i][:5] + ("closed",) + events[i][6:] for i in events}
    ev.close()


def test_a_rule_fires_once_per_event(stack, peers, tmp_path):
    pg, k = peers
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"rules": [
        {"name": "left-person", "cameras": ["cam1"], "labels": ["person"], "min_score": 0.5,
         "roi": [[0, 0], [0.5, 0], [0.5, 1], [0, 1]], "severity": "critical"}]}))
    out = Out(k)
    left, right = (100, 100, 50, 50), (800, 100, 50, 50)
    out.send([det("cam1", i, T0 + i * 1_000_000, box=left) for i in range(4)]          # event A: fires once
             + [det("cam1", 10 + i, T0 + 60_000_000 + i * 1_000_000, box=right) for i in range(3)]   # B: outside the ROI
             + [det("cam1", 20, T0 + 120_000_000, box=left, label="car")]              # C: another label
             + [det("cam1", 30, T0 + 180_000_000, box=left, conf=0.3)]                 # D: below min_score
             + [det("cam1", 40, T0 + 240_000_000, box=None)]                           # E: no box, an ROI rule
             + [det("cam2", i, T0 + i * 1_000_000, box=left) for i in range(3)])       # another camera
    alerts = Events(k.bootstrap, "vms.alerts")
    c = stack.detections_consumer(pg, k, args=["--event-gap", "10s"], rules=str(rules))
    wait("13 rows", lambda: count(pg) == 13, 60, c)
    wait("the alert published", lambda: rows(pg, "SELECT bool_and(published), count(*) FROM review_alerts")[0]
         == (True, 1), 30, c)
    got = wait("one alert", lambda: alerts.of("alert"), 30)
    time.sleep(1)       # nothing else may follow: the table says one, Kafka must too
    got = alerts.of("alert")
    assert len(got) == 1
    a = got[0]
    assert (a["id"], a["event_id"], a["rule"], a["severity"], a["kind"], a["camera_id"], a["_key"]) == \
        ("t-cam1-0:left-person", "t-cam1-0", "left-person", "critical", "detection", "cam1", "cam1")
    assert a["source"]["id"] == "t-cam1-0" and a["labels"] == ["person"]
    alerts.close()


def test_bad_rules_file_names_each_rule_and_field(stack, peers, tmp_path):
    pg, k = peers
    bad = tmp_path / "rules.json"
    bad.write_text(json.dumps({"rules": [
        {"name": "ok", "labels": ["person"]},
        {"name": "night", "time": {"from": "25:00", "to": "06:00", "tz": "Mars/Olympus"}},
        {"name": "typo", "label": ["car"]},
        {"name": "shape", "roi": [[0, 0], [1, 1]]},
        {"name": "ok"}]}))
    r = subprocess.run([stack.bin("vms-detections-consumer"), "--brokers", k.bootstrap, "--dsn", pg.dsn,
                        "--rules", str(bad)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    err = r.stderr
    assert 'rules[1] ("night"): time.from: "25:00" is not HH:MM' in err
    assert 'rules[1] ("night"): time.tz: "Mars/Olympus" is not a time zone' in err
    assert 'rules[2] ("typo"): unknown field "label" (did you mean "labels"?)' in err
    assert 'rules[3] ("shape"): roi: needs 3..64 points' in err
    assert "rules[4] (\"ok\"): name: the same as rules[0]'s" in err
    assert str(bad) in err.splitlines()[0]


def test_poison_message_goes_to_the_dlq_and_the_partition_moves_on(stack, peers):
    pg, k = peers
    out = Out(k)
    out.send([b"not json", json.dumps({"type": "detection", "id": "x"}), det("cam1", 1, T0)], partition=0)
    dlq = Events(k.bootstrap, "vms.detections.dlq")
    c = stack.detections_consumer(pg, k)
    wait("the good one stored", lambda: count(pg) == 1, 60, c)
    dead = wait("two dead letters", lambda: len(dlq.of("dead_letter")) == 2 and dlq.of("dead_letter"), 30)
    assert [d["payload"] for d in dead] == ["not json", json.dumps({"type": "detection", "id": "x"})]
    assert [d["error"] for d in dead] == ["not a JSON object", "camera_id missing"]
    assert all(d["source_topic"] == "vms.detections" and d["partition"] == 0 and d["attempts"] == 0
               for d in dead)
    assert [d["offset"] for d in dead] == [0, 1]
    dlq.close()


def test_database_outage_retries_with_doubling_waits_then_dlq_then_recovers(stack, peers):
    pg, k = peers
    out = Out(k)
    dlq = Events(k.bootstrap, "vms.detections.dlq")
    c = stack.detections_consumer(pg, k, args=["--retry-base", "200ms"])
    out.send([det("cam1", 1, T0)])
    wait("first row", lambda: count(pg) == 1, 60, c)
    port = pg.port
    pg.stop()
    out.send([det("cam1", 2, T0 + 1_000_000)])
    dead = wait("dead-lettered after the retries", lambda: dlq.of("dead_letter"), 60, c)[0]
    assert dead["attempts"] == 4 and json.loads(dead["payload"])["id"] == "t-cam1-2"
    assert dead["error"].startswith("postgres")
    with open(c.log) as f:
        waits = [int(m.group(2)) for m in re.finditer(r"detection t-cam1-2: write failed \(attempt (\d) of 4\)"
                                                      r".*; retry in (\d+) ms", f.read())]
    assert waits == [200, 400, 800]
    pg = stack.postgres(port=port, name="postgres")
    out.send([det("cam1", 3, T0 + 2_000_000)])
    wait("stored again after the outage", lambda: count(pg, "id = 't-cam1-3'") == 1, 60, c)
    assert count(pg, "id = 't-cam1-2'") == 0      # it is in the DLQ, not lost and not stored twice
    dlq.close()
    # nothing lost: the dead letters are stored again by a replay, once however often it runs
    for _ in range(2):
        r = subprocess.run([stack.bin("vms-detections-consumer"), "--replay-dlq", "--brokers", k.bootstrap,
                            "--dsn", pg.dsn], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
    assert count(pg, "id = 't-cam1-2'") == 1
    assert "replay: 1 stored again, 0 skipped" in r.stderr or "replay: 0 stored again, 0 skipped" in r.stderr
    assert rows(pg, "SELECT detections FROM review_events")[0][0] == 3


def committed(k, group, topic="vms.detections"):
    cons = Consumer({"bootstrap.servers": k.bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        parts = cons.list_topics(topic, timeout=10).topics[topic].partitions
        offs = cons.committed([TopicPartition(topic, p) for p in parts], timeout=10)
    finally:
        cons.close()
    return sum(max(o.offset, 0) for o in offs)


def test_kill9_and_restart_loses_nothing_and_counts_nothing_twice(stack, peers):
    pg, k = peers
    out = Out(k)
    n = 600
    out.send([det(f"cam{i % 4}", i, T0 + i * 100_000) for i in range(n)])
    c = stack.detections_consumer(pg, k, args=["--event-gap", "10s"])
    wait("some rows", lambda: count(pg) >= 50, 60, c)
    c.signal(signal.SIGKILL)
    c.proc.wait(10)
    stored_at_kill = count(pg)
    c = stack.detections_consumer(pg, k, args=["--event-gap", "10s"], name="detections-consumer-2")
    wait("every detection", lambda: count(pg) == n, 120, c)
    assert stored_at_kill <= n
    # each detection counted in exactly one review event, replays included
    assert rows(pg, "SELECT sum(detections) FROM review_events")[0][0] == n
    assert rows(pg, "SELECT count(DISTINCT camera_id) FROM review_events")[0][0] == 4
    # offsets vs rows: every message committed once its row is there
    wait("offsets committed", lambda: committed(k, "vms-detections") == n, 30, c)


def test_two_consumers_in_the_group_split_the_partitions(stack, peers):
    pg, k = peers
    with open(os.path.join(vmsstack.ROOT, "conf", "kafka", "topics.json")) as f:
        partitions = next(t["partitions"] for t in json.load(f)["topics"] if t["name"] == "vms.detections")
    a = stack.detections_consumer(pg, k, name="consumer-a")
    b = stack.detections_consumer(pg, k, name="consumer-b")

    def assigned(svc):
        with open(svc.log) as f:
            got = re.findall(r"assigned partitions \[([^\]]*)\]", f.read())
        return got[-1] if got and got[-1] else None
    wait("both assigned", lambda: assigned(a) and assigned(b)
         and len(set(assigned(a).split(",")) | set(assigned(b).split(","))) == partitions, 60, a)
    pa, pb = set(assigned(a).split(",")), set(assigned(b).split(","))
    assert not pa & pb
    out = Out(k)
    for p in range(partitions):
        out.send([det(f"cam{p}", i, T0 + i * 1_000_000, prefix=f"p{p}") for i in range(20)], partition=p)
    wait(f"all {20 * partitions} stored", lambda: count(pg) == 20 * partitions, 60, a)
    a.stop()
    b.stop()

    def stored(svc):
        with open(svc.log) as f:
            return int(re.findall(r"stopping: (\d+) stored", f.read())[-1])
    assert stored(a) == 20 * len(pa) and stored(b) == 20 * len(pb)
