"""vms-alert-notifier (docs/events.md): alerts and camera events from the Kafka broker to webhook
receivers served by this test, with retries, a dead-letter topic and one consumer group per receiver."""
import json
import signal
import subprocess
import uuid

import pytest
from confluent_kafka import Producer

import vmsstack
from helpers import Hook, receivers
from vmsdtest import Events, wait


def produce(k, topic, msg):
    p = Producer({"bootstrap.servers": k.bootstrap})
    p.produce(topic, key=msg.get("camera_id", "x"), value=json.dumps(msg))
    p.flush(10)


def alert(severity="warning", kind="detection", camera="cam1"):
    aid = f"ev-{uuid.uuid4().hex[:8]}:person-rule"
    return {"schema": 1, "type": "alert", "id": aid, "ts": "2026-01-01T00:00:00.000Z", "camera_id": camera,
            "kind": kind, "rule": "person-rule", "severity": severity, "summary": f"person on {camera}",
            "event_id": aid.split(":")[0], "labels": ["person"], "max_score": 0.9, "source": {}, "trace_id": "t"}





@pytest.fixture
def hooks():
    made = []
    yield lambda status=200: made.append(Hook(status)) or made[-1]
    for h in made:
        h.close()


def test_alerts_and_camera_events_reach_the_webhook(stack, tmp_path, hooks):
    k = stack.kafka()
    hook = hooks()
    headers = tmp_path / "ops.headers"
    headers.write_text("# the receiver's secret\nX-Api-Key: k-123\n")
    n = stack.alert_notifier(k, receivers(tmp_path, {"name": "ops", "url": hook.url, "headers_file": str(headers)}),
                             args=["--start", "earliest"])
    a = alert()
    produce(k, "vms.alerts", a)
    produce(k, "vms.events", {"schema": 1, "type": "camera.offline", "ts": "2026-01-01T00:01:00.000Z",
                              "camera_id": "cam2", "trace_id": "t2"})
    produce(k, "vms.events", {"schema": 1, "type": "recording.segment", "ts": "2026-01-01T00:01:00.000Z",
                              "camera_id": "cam2", "trace_id": "t3"})
    wait("two deliveries", lambda: len(hook.got) >= 2, 30, n)
    by_id = {b["id"]: (h, b) for h, b in hook.got}
    h, body = by_id[a["id"]]
    assert body == a
    assert h["Idempotency-Key"] == a["id"] and h["X-Api-Key"] == "k-123"
    assert h["Content-Type"] == "application/json"
    h, off = by_id["camera.offline:cam2:2026-01-01T00:01:00.000Z"]
    assert off["kind"] == "camera.offline" and off["severity"] == "critical" and off["camera_id"] == "cam2"
    assert off["source"]["type"] == "camera.offline" and off["type"] == "alert"
    n.stop()
    with open(n.log) as f:
        log = f.read()
    assert "k-123" not in log and "s3cr3t-path" not in log          # neither the header nor the URL
    assert "alert-notifier: ready (1 receivers)" in log
    assert len(hook.got) == 2                                       # recording.segment is no alert


def test_kinds_and_min_severity_filter(stack, tmp_path, hooks):
    k = stack.kafka()
    hook = hooks()
    n = stack.alert_notifier(k, receivers(tmp_path, {"name": "oncall", "url": hook.url, "min_severity": "critical",
                                                     "kinds": ["detection", "camera.offline"]}),
                             args=["--start", "earliest"])
    produce(k, "vms.alerts", alert(severity="warning"))
    crit = alert(severity="critical")
    produce(k, "vms.alerts", crit)
    produce(k, "vms.events", {"schema": 1, "type": "stream.frozen", "ts": "2026-01-01T00:00:00.000Z",
                              "camera_id": "cam1"})
    produce(k, "vms.events", {"schema": 1, "type": "camera.offline", "ts": "2026-01-01T00:00:09.000Z",
                              "camera_id": "cam1"})
    wait("two deliveries", lambda: len(hook.got) >= 2, 30, n)
    n.stop()                                   # its count line: everything was handled
    with open(n.log) as f:
        assert "receiver oncall: stopping: 2 delivered, 0 dead-lettered, 2 skipped" in f.read()
    assert sorted(b["id"] for b in hook.bodies()) == sorted([crit["id"], "camera.offline:cam1:2026-01-01T00:00:09.000Z"])


def test_failing_receiver_retries_then_dead_letters_and_moves_on(stack, tmp_path, hooks):
    k = stack.kafka()
    bad, good = hooks(500), hooks()
    dlq = Events(k.bootstrap, "vms.alerts.dlq")
    n = stack.alert_notifier(k, receivers(tmp_path, {"name": "flaky", "url": bad.url, "retries": 3},
                                          {"name": "fine", "url": good.url}),
                             args=["--start", "earliest", "--retry-base", "200ms"])
    first, second = alert(), alert()
    produce(k, "vms.alerts", first)
    produce(k, "vms.alerts", second)
    # the healthy receiver is not held up by the failing one
    wait("both at the healthy receiver", lambda: len(good.got) == 2, 20, n)
    assert len(bad.got) < 8
    dead = wait("two dead letters", lambda: len(dlq.of("dead_letter")) == 2 and dlq.of("dead_letter"), 60, n)
    assert [json.loads(d["payload"])["id"] for d in dead] == [first["id"], second["id"]]
    for d in dead:
        assert d["receiver"] == "flaky" and d["attempts"] == 4 and d["error"] == "HTTP 500"
        assert d["source_topic"] == "vms.alerts"
    assert len(bad.got) == 8                                      # 4 attempts each, in order
    assert [b["id"] for b in bad.bodies()] == [first["id"]] * 4 + [second["id"]] * 4
    with open(n.log) as f:
        waits = [line for line in f if "retry in" in line and first["id"] in line]
    assert [w.rsplit("retry in ", 1)[1].strip() for w in waits] == ["200 ms", "400 ms", "800 ms"]
    dlq.close()


def test_killed_before_commit_delivers_again(stack, tmp_path, hooks):
    k = stack.kafka()
    hook = hooks()
    hook.status = 503                     # nothing is accepted: the notifier keeps retrying
    path = receivers(tmp_path, {"name": "ops", "url": hook.url, "retries": 10})
    n = stack.alert_notifier(k, path, args=["--start", "earliest", "--retry-base", "300ms"])
    a = alert()
    produce(k, "vms.alerts", a)
    wait("a first attempt", lambda: len(hook.got) >= 1, 30, n)
    n.signal(signal.SIGKILL)
    hook.status = 200
    n2 = stack.alert_notifier(k, path, args=["--start", "earliest"], name="alert-notifier-2")
    # the killed member leaves the group after session.timeout.ms (10 s); then n2 gets the partition
    wait("delivered after the restart", lambda: "delivered alert" in open(n2.log).read(), 60, n2)
    assert {b["id"] for b in hook.bodies()} == {a["id"]}           # the same alert, its same id


def test_bad_receivers_file(stack, tmp_path):
    f = receivers(tmp_path, {"name": "ops", "url": "ftp://x"}, {"name": "ops", "url": "http://127.0.0.1:1/x",
                                                                "kind": ["detection"], "timeout": "2h",
                                                                "min_severity": "loud", "retries": 11})
    r = subprocess.run([stack.bin("vms-alert-notifier"), "--brokers", "127.0.0.1:9", "--receivers", f],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    for want in ('receivers.json: receivers[0] ("ops"): url: must be http:// or https://, without spaces',
                 'receivers.json: receivers[1] ("ops"): name: duplicate',
                 'receivers.json: receivers[1] ("ops"): unknown field "kind" (did you mean "kinds"?)',
                 'receivers.json: receivers[1] ("ops"): timeout: a duration from 100ms to 60s, such as "5s"',
                 'receivers.json: receivers[1] ("ops"): min_severity: info, warning or critical',
                 'receivers.json: receivers[1] ("ops"): retries: an integer 0..10'):
        assert want in lines, r.stderr


def test_a_receiver_that_is_down_delays_only_itself(stack, tmp_path, hooks):
    k = stack.kafka()
    up = hooks()
    down_url = f"http://127.0.0.1:{vmsstack.free_port()}/hook"        # nobody listens there
    dlq = Events(k.bootstrap, "vms.alerts.dlq")
    n = stack.alert_notifier(k, receivers(tmp_path, {"name": "down", "url": down_url, "retries": 2,
                                                     "kinds": ["camera.offline"]},
                                          {"name": "up", "url": up.url}),
                             args=["--start", "earliest", "--retry-base", "4s"])
    log = open(n.log).read()
    assert "alert-notifier: ready (2 receivers)" in log
    produce(k, "vms.events", {"schema": 1, "type": "camera.offline", "ts": "2026-01-01T00:02:00.000Z",
                              "camera_id": "cam3", "trace_id": "t"})
    sent = [alert() for _ in range(3)]
    for a in sent:
        produce(k, "vms.alerts", a)
    # "down" spends 4 s + 8 s retrying its alert before the DLQ; "up" gets all four meanwhile
    wait("all four at the receiver that is up", lambda: len(up.got) == 4, 11, n)
    assert dlq.of("dead_letter") == []
    dead = wait("the down receiver's dead letter", lambda: dlq.of("dead_letter"), 60, n)
    assert len(dead) == 1
    d = dead[0]
    assert (d["receiver"], d["attempts"], d["source_topic"]) == ("down", 3, "vms.events")
    assert "connect" in d["error"].lower()                        # curl's text, not a status
    assert json.loads(d["payload"])["type"] == "camera.offline"
    assert {b["id"] for b in up.bodies()} == {a["id"] for a in sent} | {"camera.offline:cam3:2026-01-01T00:02:00.000Z"}
    dlq.close()


def test_sigterm_abandons_the_post_in_flight_and_a_restart_delivers_it(stack, tmp_path, hooks):
    k = stack.kafka()
    hook = hooks()
    hook.hang = True                             # accepts the connection, never answers
    path = receivers(tmp_path, {"name": "ops", "url": hook.url, "timeout": "60s", "retries": 0})
    n = stack.alert_notifier(k, path, args=["--start", "earliest"])
    a = alert()
    produce(k, "vms.alerts", a)
    wait("the POST in flight", lambda: len(hook.got) == 1, 30, n)
    n.signal(signal.SIGTERM)
    n.proc.wait(20)                              # well before the receiver's 60 s timeout
    assert n.proc.returncode == 0
    log = open(n.log).read()
    assert "receiver ops: stopping: 0 delivered, 0 dead-lettered, 0 skipped" in log
    assert f"alert {a['id']} left uncommitted" in log
    hook.hang = False
    hook.release.set()
    n2 = stack.alert_notifier(k, path, args=["--start", "earliest"], name="alert-notifier-2")
    wait("delivered after the restart", lambda: "delivered alert" in open(n2.log).read(), 60, n2)
    assert [b["id"] for b in hook.bodies()] == [a["id"], a["id"]]    # the same alert, its same key
    assert all(h["Idempotency-Key"] == a["id"] for h, _ in hook.got)


def test_headers_file_may_not_replace_the_notifiers_own_headers(stack, tmp_path):
    headers = tmp_path / "h"
    headers.write_text("X-Token: t-secret\nIdempotency-Key: mine\n")
    f = receivers(tmp_path, {"name": "ops", "url": "http://127.0.0.1:1/x", "headers_file": str(headers)})
    r = subprocess.run([stack.bin("vms-alert-notifier"), "--brokers", "127.0.0.1:9", "--receivers", f],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "receiver ops: headers_file line 2: Idempotency-Key is set by the notifier" in r.stderr
    assert "t-secret" not in r.stderr and "mine" not in r.stderr
