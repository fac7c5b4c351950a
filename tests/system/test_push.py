"""Live push (docs/events.md, "Live push"): vms.events / vms.alerts -> vms-push -> nginx nchan ->
browsers over EventSource and WebSocket, behind vms_auth (view_stream on every camera listed)."""
import json
import queue
import time
import uuid

import jwt
import pytest
import requests
import websocket
from confluent_kafka import Producer

import vmsstack
from helpers import Sse, live, token


class Out:
    def __init__(self, kafka):
        self.p = Producer({"bootstrap.servers": kafka.bootstrap, "enable.idempotence": True})

    def send(self, topic, camera, typ="camera.offline", **extra):
        msg = {"schema": 1, "type": typ, "ts": "2026-01-01T00:00:00.000Z", "camera_id": camera,
               "trace_id": uuid.uuid4().hex, "mark": uuid.uuid4().hex, **extra}
        self.p.produce(topic, key=camera, value=json.dumps(msg))
        self.p.flush(10)
        return msg["mark"]


@pytest.fixture
def push_stack(stack):
    k = stack.kafka()
    ngx = stack.nginx(vars={"KAFKA_BROKERS": k.bootstrap, "REDIS_ADDR": "127.0.0.1:9"})
    push = stack.push(k, ngx)
    return stack, k, ngx, push


def primed(sub, out, camera, topic="vms.events"):
    """Probes until one reaches the subscriber: vms-push starts at the live edge of its
    partitions, so what is produced before its first fetch may be behind it."""
    for _ in range(60):
        out.send(topic, camera, typ="probe")
        try:
            ev_id, data = sub.q.get(timeout=1)
        except queue.Empty:
            continue
        while not sub.q.empty():
            sub.q.get()
        return
    raise AssertionError("no probe reached the subscriber")


def test_viewer_gets_only_its_cameras(push_stack):
    stack, k, ngx, _ = push_stack
    out = Out(k)
    viewer = token(stack, cameras=["cam1"])
    admin = token(stack, role="admin")
    sse = {"Accept": "text/event-stream"}
    assert requests.get(live(ngx, "cam1"), headers=sse, timeout=5).status_code == 401
    denied = requests.get(live(ngx, "cam1,cam2"), headers={"Authorization": f"Bearer {viewer}", **sse}, timeout=5)
    assert denied.status_code == 403 and denied.json()["error"] == "forbidden"
    assert "cam2" not in denied.text

    mine = Sse(live(ngx, "cam1"), viewer)
    everything = Sse(live(ngx, "cam1,cam2"), admin)
    assert (mine.status, everything.status) == (200, 200)
    assert mine.r.headers["Content-Type"].startswith("text/event-stream")
    primed(mine, out, "cam1")
    primed(everything, out, "cam2")
    while not mine.q.empty():
        mine.q.get()

    m1 = out.send("vms.events", "cam1", typ="camera.offline")
    m2 = out.send("vms.events", "cam2", typ="stream.frozen")
    m3 = out.send("vms.alerts", "cam2", typ="alert", kind="detection", severity="warning")
    m4 = out.send("vms.alerts", "cam1", typ="alert", kind="detection", severity="warning")

    got = [d for _, d in everything.messages(4)]
    assert sorted(d["mark"] for d in got) == sorted([m1, m2, m3, m4])
    assert {d["mark"] for d in got if d["camera_id"] == "cam2"} == {m2, m3}
    got = [d for _, d in mine.messages(2)]
    assert {d["mark"] for d in got} == {m1, m4} and {d["camera_id"] for d in got} == {"cam1"}
    mine.quiet(2)                                  # cam2's two messages never reach cam1's viewer
    mine.close()
    everything.close()


def test_bad_camera_lists_are_400(push_stack):
    stack, _, ngx, _ = push_stack
    admin = {"Authorization": "Bearer " + token(stack, role="admin"), "Accept": "text/event-stream"}
    for bad in ("", "cam1,,cam2", "cam1,", "../cam1", "cam%201", ",".join(f"c{i}" for i in range(65))):
        r = requests.get(live(ngx, bad), headers=admin, timeout=5)
        assert r.status_code == 400, (bad, r.status_code, r.text)
        assert r.json()["error"] == "bad_request"
    r = requests.post(live(ngx, "cam1"), headers=admin, timeout=5)
    assert r.status_code in (403, 405, 406)
    # neither EventSource nor WebSocket: a clear 406
    r = requests.get(live(ngx, "cam1"), headers={"Authorization": admin["Authorization"]}, timeout=5)
    assert r.status_code == 406 and r.json()["error"] == "not_acceptable"


def test_last_event_id_resumes_without_loss(push_stack):
    stack, k, ngx, _ = push_stack
    out = Out(k)
    viewer = token(stack, cameras=["cam1", "cam2"])
    sub = Sse(live(ngx, "cam1,cam2"), viewer)
    primed(sub, out, "cam1")
    before = [out.send("vms.events", cam) for cam in ("cam1", "cam2", "cam1")]
    first = sub.messages(3)
    assert sorted(d["mark"] for _, d in first) == sorted(before)
    last_id = first[-1][0]
    assert last_id
    sub.close()

    missed = [out.send("vms.events", cam) for cam in ("cam2", "cam1", "cam2", "cam1", "cam1")]
    time.sleep(1)      # they are in nchan's buffers before the browser comes back
    # an EventSource reconnects with Last-Event-ID: exactly the missed messages, each once
    again = Sse(live(ngx, "cam1,cam2"), viewer, last_event_id=last_id)
    assert again.status == 200
    got = again.messages(5)
    assert sorted(d["mark"] for _, d in got) == sorted(missed)
    assert [d["mark"] for _, d in got if d["camera_id"] == "cam1"] == [m for m, c in
                                                                       zip(missed, ("cam2", "cam1", "cam2", "cam1", "cam1")) if c == "cam1"]
    again.quiet(2)
    # the query-string form, for clients that cannot set the header
    third = Sse(live(ngx, "cam1,cam2", last_event_id=requests.utils.quote(got[-1][0], safe="")), viewer)
    third.quiet(2)
    fresh = out.send("vms.events", "cam2")
    assert [d["mark"] for _, d in third.messages(1)] == [fresh]
    for s in (again, third):
        s.close()


def test_websocket_with_token_in_query(push_stack):
    stack, k, ngx, _ = push_stack
    out = Out(k)
    viewer = token(stack, cameras=["cam1"])
    ws_url = f"ws://127.0.0.1:{ngx.port}/api/events/live?cameras=cam1&jwt={viewer}"
    ws = websocket.create_connection(ws_url, timeout=1)
    try:
        for _ in range(60):                     # probes until the push reaches this channel
            out.send("vms.events", "cam1", typ="probe")
            try:
                ws.recv()
                break
            except websocket.WebSocketTimeoutException:
                continue
        else:
            raise AssertionError("nothing on the WebSocket")
        mark = out.send("vms.alerts", "cam1", typ="alert", kind="detection")
        ws.settimeout(10)
        for _ in range(120):
            got = json.loads(ws.recv())
            if got["mark"] == mark:
                break
        assert got["mark"] == mark and got["type"] == "alert" and got["camera_id"] == "cam1"
    finally:
        ws.close()
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        websocket.create_connection(
            f"ws://127.0.0.1:{ngx.port}/api/events/live?cameras=cam2&jwt={viewer}", timeout=5)
    assert e.value.status_code == 403


def test_expired_token_stops_receiving(stack):
    k = stack.kafka()
    ngx = stack.nginx(vars={"KAFKA_BROKERS": k.bootstrap, "REDIS_ADDR": "127.0.0.1:9",
                            "PUSH_SUBSCRIBER_TIMEOUT": "3s", "AUTH_LEEWAY": "0s"})
    stack.push(k, ngx)
    out = Out(k)
    short = token(stack, ttl=4, cameras=["cam1"])
    sub = Sse(live(ngx, "cam1"), short)
    assert sub.status == 200
    primed(sub, out, "cam1")
    # the subscription ends after nchan_subscriber_timeout; reconnecting checks the token again
    assert sub.ended.wait(15), "the subscription was not ended by the server"
    vmsstack.wait_for("token expired", lambda: jwt.decode(short, options={"verify_signature": False})["exp"]
                      < time.time() - 1, 10)
    again = requests.get(live(ngx, "cam1"), headers={"Authorization": f"Bearer {short}",
                                                      "Accept": "text/event-stream"}, timeout=5)
    assert again.status_code == 401


def test_messages_wait_in_kafka_while_nginx_is_down(push_stack):
    stack, k, ngx, push = push_stack
    out = Out(k)
    viewer = token(stack, cameras=["cam7"])
    sub = Sse(live(ngx, "cam7"), viewer)
    primed(sub, out, "cam7")
    sub.close()
    ngx.stop()
    marks = [out.send("vms.events", "cam7") for _ in range(3)]
    push.wait_line(r"publish vms\.events\[\d+\]@\d+ to cam7 failed", 30)
    ngx2 = stack.nginx(vars={"KAFKA_BROKERS": k.bootstrap, "REDIS_ADDR": "127.0.0.1:9",
                             "PUSH_PORT": ngx.vars["PUSH_PORT"]}, port=ngx.port)
    # vms-push delivers what it could not publish: the three are in cam7's channel buffer, once each
    pub = f"{ngx2.push_publisher}/_vms/pub/cam7"

    def queued():
        r = requests.get(pub, headers={"Accept": "application/json"}, timeout=5)
        return r.json().get("messages") if r.status_code == 200 else None
    vmsstack.wait_for("3 messages published after nginx came back", lambda: queued() == 3, 60,
                      push.proc, push.log)
    time.sleep(2)
    assert queued() == 3
    assert marks
