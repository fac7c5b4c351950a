"""What survives when PostgreSQL or the Kafka broker go away while vmsd sends detections: every
DetectionResult the provider answered reaches Kafka (librdkafka queue + vmsd's spool, at least once)
and then PostgreSQL through vms-detections-consumer, once by primary key; those whose writes failed
during the database outage wait in vms.detections.dlq and a replay stores them (docs/events.md)."""
import json
import subprocess

import psycopg

from aitest import VTEST, deepstack_standin, standin_get
from vmsdtest import Events, conf_text, health, metric, wait


def test_detections_survive_database_and_broker_outages(stack):
    pg = stack.postgres()
    k = stack.kafka()
    ds = deepstack_standin(stack)
    cams = stack.camsim(cameras=0, args=["--camera", f"walk:file={VTEST},gop=10"])
    conf = {"ai_enabled": "on", "ai_provider": "deepstack", "ai_deepstack_url": ds.url, "ai_interval": "1s"}
    v = stack.vmsd(text=conf_text(cams, ["walk"], kafka=k, pg=pg, camera_extra={"walk": conf}))
    c = stack.detections_consumer(pg, k, args=["--retry-base", "200ms"])

    def sent():
        return metric(v, "vms_ai_frames_sent_total", camera_id="walk")
    wait("first provider calls", lambda: sent() >= 2, 120, v)

    port = pg.port
    pg.stop()
    n = sent()
    wait("calls during the database outage", lambda: sent() >= n + 3, 120, v)
    pg = stack.postgres(port=port, name="postgres")

    k.down()
    n = sent()
    wait("calls during the broker outage", lambda: sent() >= n + 3, 120, v)
    k.up()

    def caught_up():
        h = health(v)
        return h["kafka"]["spool_bytes"] == 0 and h["kafka"]["queued"] == 0
    wait("Kafka caught up", caught_up, 90, v)
    v.stop()
    assert v.proc.returncode == 0

    calls = len(standin_get(ds, "/_standin/requests"))
    det = Events(k.bootstrap, "vms.detections")
    try:
        # Kafka is at-least-once across a broker outage (sidecar/sinks/events.h): a repeat carries the
        # same id; two per answered call (a call cut short by the stop produced nothing)
        wait("detections in Kafka", lambda: det.of("detection", "walk"), 60)
        produced = {e["id"] for e in det.of("detection", "walk")}
    finally:
        det.close()
    assert len(produced) in (2 * calls, 2 * (calls - 1))

    def stored():
        with psycopg.connect(pg.url) as conn:
            return [r[0] for r in conn.execute("SELECT id FROM detection_results WHERE camera_id = 'walk'")]
    dlq = Events(k.bootstrap, "vms.detections.dlq")
    try:
        # each detection is a row or a dead letter (its writes failed during the outage), never both
        def accounted():
            dead = {json.loads(d["payload"])["id"] for d in dlq.of("dead_letter")}
            rows = set(stored())
            return rows | dead == produced and not rows & dead
        wait("rows + dead letters = what vmsd produced", accounted, 90, c)
    finally:
        dlq.close()
    r = subprocess.run([stack.bin("vms-detections-consumer"), "--replay-dlq", "--brokers", k.bootstrap,
                        "--dsn", pg.dsn], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = stored()
    assert set(rows) == produced and len(rows) == len(set(rows))
