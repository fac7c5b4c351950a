"""vms-alert-notifier (docs/events.md): alerts and camera events from the Kafka broker to webhook
receivers served by this test, with retries, a dead-letter topic and one consumer group per receiver."""
import json
import signal
import subprocess
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from confluent_kafka import Producer

import vmsstack
from vmsdtest import Events, wait


class Hook:
    """A webhook on loopback: records each POST; answers `status` (changeable)."""

    def __init__(self, status=200):
        self.status, self.got, self.lock = status, [], threading.Lock()
        hook = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with hook.lock:
                    hook.got.append((dict(self.headers), json.loads(body)))
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass
        self.port = vmsstack.free_port()
        self.srv = ThreadingHTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}/hook/s3cr3t-path"

    def bodies(self):
        with self.lock:
            return [b for _, b in self.got]

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def produce(k, topic, msg):
    p = Producer({"bootstrap.servers": k.bootstrap})
    p.produce(topic, key=msg.get("camera_id", "x"), value=json.dumps(msg))
    p.flush(10)


def alert(severity="warning", kind="detection", camera="cam1"):
    aid = f"ev-{uuid.uuid4().hex[:8]}:person-rule"
    return {"schema": 1, "type": "alert", "id": aid, "ts": "2026-01-01T00:00:00.000Z", "camera_id": camera,
            "kind": kind, "rule": "person-rule", "severity": severity, "summary": f"person on {camera}",
            "event_id": aid.split(":")[0], "labels": ["person"], "max_score": 0.9, "source": {}, "trace_id": "t"}


def receivers(tmp_path, *rs):
    f = tmp_path / f"receivers-{uuid.uuid4().hex[:6]}.json"
    f.write_text(json.dumps({"receivers": list(rs)}))
    return str(f)


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
