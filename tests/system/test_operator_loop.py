"""The operator loop end to end (docs/events.md): a DetectionResult on vms.detections is stored by
vms-detections-consumer, grouped into a review event that an operator finds through nginx's
/api/events, sees arrive live on /api/events/live, and receives as a webhook from vms-alert-notifier
(a rule `person`).  Every peer is real and on loopback."""
import json
import threading
import time
import uuid

import requests
from confluent_kafka import Producer

from helpers import Hook, Sse, det, live, receivers, token
from vmsdtest import wait


def test_detection_reaches_the_api_the_browser_and_the_webhook(stack, tmp_path):
    pg, k = stack.postgres(), stack.kafka()
    api = stack.review_api(pg)
    ngx = stack.nginx(vars={"REVIEW_API": api.addr, "KAFKA_BROKERS": k.bootstrap, "REDIS_ADDR": "127.0.0.1:9"})
    stack.push(k, ngx)
    hook = Hook()
    try:
        notifier = stack.alert_notifier(k, receivers(tmp_path, {"name": "ops", "url": hook.url,
                                                                "kinds": ["detection"]}),
                                        args=["--start", "earliest"])
        rules = tmp_path / "rules.json"      # no time-of-day rule: the test means the same at any hour
        rules.write_text(json.dumps({"rules": [{"name": "person", "labels": ["person"], "min_score": 0.5}]}))
        consumer = stack.detections_consumer(pg, k, rules=str(rules))
        viewer = token(stack, cameras=["cam1"])
        sub = Sse(live(ngx, "cam1"), viewer)
        assert sub.status == 200
        # a probe per second until vms-push has joined at the live edge and delivers
        p = Producer({"bootstrap.servers": k.bootstrap, "enable.idempotence": True})
        got = threading.Event()
        for _ in range(60):
            p.produce("vms.events", key="cam1", value=json.dumps({"type": "probe", "camera_id": "cam1"}))
            p.flush(5)
            try:
                sub.q.get(timeout=1)
                got.set()
                break
            except Exception:  # noqa: BLE001 - queue.Empty: not yet
                continue
        assert got.is_set(), "vms-push never delivered"
        now_us = int(time.time() * 1_000_000)
        tag = uuid.uuid4().hex[:6]
        dets = [det("cam1", i, now_us + i * 500_000, prefix=f"e2e{tag}", conf=c)
                for i, c in enumerate((0.7, 0.95, 0.8))]
        for d in dets:
            p.produce("vms.detections", key="cam1", value=json.dumps(d))
        assert p.flush(10) == 0
        event_id = dets[0]["id"]

        # 1. live: the review event reaches the browser's stream, open, and grows to 3 detections
        def grown():
            msgs = sub.messages(1, timeout=30)
            ev = msgs[0][1].get("event")
            return ev if ev and ev["id"] == event_id and ev["detections"] == 3 else None
        ev = wait("the review event with 3 detections, live", grown, 60, consumer)
        assert ev["labels"] == ["person"] and ev["max_score"] == 0.95 and ev["state"] == "open"

        # 2. the review API: the event and its detections, through nginx with the same token
        auth = {"Authorization": f"Bearer {viewer}"}
        r = requests.get(ngx.url("/api/events"), headers=auth, params={"camera": "cam1"}, timeout=10)
        assert r.status_code == 200 and [e["id"] for e in r.json()["events"]] == [event_id]
        one = requests.get(ngx.url(f"/api/events/{event_id}"), headers=auth, timeout=10).json()
        assert [d["id"] for d in one["detections_list"]] == [d["id"] for d in dets]
        assert one["clip"]["mp4"].startswith("/api/playback/cam1?start=")

        # 3. the webhook: one alert for the event (the rule fires once per event), its id stable
        wait("the alert at the webhook", lambda: hook.bodies(), 60, notifier)
        time.sleep(2)
        bodies = hook.bodies()
        assert [b["id"] for b in bodies] == [f"{event_id}:person"]
        assert bodies[0]["event_id"] == event_id and bodies[0]["kind"] == "detection"
        assert hook.got[0][0]["Idempotency-Key"] == f"{event_id}:person"
        sub.close()
    finally:
        hook.close()
