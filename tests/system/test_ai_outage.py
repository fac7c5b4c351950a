"""What survives when PostgreSQL or the Kafka broker go away while vmsd sends
detections: every DetectionResult the provider answered ends up in both
(Kafka: librdkafka queue + vmsd's spool, at least once; PostgreSQL: the
writer's queue, once by primary key)."""
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
        return (h["postgres"]["connected"] and h["postgres"]["queued"] == 0
                and h["kafka"]["spool_bytes"] == 0 and h["kafka"]["queued"] == 0)
    wait("PostgreSQL and Kafka caught up", caught_up, 90, v)
    v.stop()
    assert v.proc.returncode == 0

    calls = len(standin_get(ds, "/_standin/requests"))
    with psycopg.connect(pg.url) as conn:
        rows = [r[0] for r in conn.execute("SELECT id FROM detection_results WHERE camera_id = 'walk'")]
    # two per answered call (a call cut short by the stop produced nothing)
    assert len(rows) in (2 * calls, 2 * (calls - 1))
    det = Events(k.bootstrap, "vms.detections")
    try:
        # Kafka is at-least-once across a broker outage (sidecar/events.h):
        # a repeat carries the same id, which PostgreSQL's key stores once
        wait("the same detections in Kafka",
             lambda: {e["id"] for e in det.of("detection", "walk")} == set(rows), 60)
    finally:
        det.close()
    assert len(rows) == len(set(rows))


def test_detections_refused_by_postgres_go_to_the_dead_letter_topic(stack):
    """PostgreSQL down and vmsd's statement queue full: a detection's insert
    is refused, retried after 1, 2 and 4 s, then the result goes to
    vms.detections.dlq (it is in vms.detections anyway)."""
    pg = stack.postgres()
    k = stack.kafka()
    ds = deepstack_standin(stack)
    cams = stack.camsim(cameras=0, args=["--camera", f"walk:file={VTEST},gop=10"])
    conf = {"ai_enabled": "on", "ai_provider": "deepstack", "ai_deepstack_url": ds.url, "ai_interval": "1s"}
    pg.stop()
    v = stack.vmsd(text=conf_text(cams, ["walk"], kafka=k, pg=pg, camera_extra={"walk": conf},
                                  extra={"postgres_queue_max": "1"}))
    wait("dead-lettered detections",
         lambda: metric(v, "vms_ai_results_dead_lettered_total") >= 2, 120, v)
    assert metric(v, "vms_ai_results_retried_total") >= 3 * 2
    dlq = Events(k.bootstrap, "vms.detections.dlq")
    try:
        wait("DLQ messages", lambda: len(dlq.of("detection.undelivered", "walk")) >= 2, 60)
        dead = dlq.of("detection.undelivered", "walk")
    finally:
        dlq.close()
    assert all(d["sink"] == "postgres" and d["attempts"] == 4 and d["_key"] == "walk" for d in dead)
    assert all(d["result"]["type"] == "detection" and d["result"]["camera_id"] == "walk" for d in dead)
    v.stop()
    det = Events(k.bootstrap, "vms.detections")
    try:
        wait("the same detections in vms.detections",
             lambda: {d["result"]["id"] for d in dead} <= {e["id"] for e in det.of("detection", "walk")}, 60)
    finally:
        det.close()
