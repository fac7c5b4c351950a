"""What survives when PostgreSQL or the Kafka broker go away while vmsd sends
detections: every DetectionResult the provider answered ends up in both,
once (Kafka: librdkafka queue + vmsd's spool; PostgreSQL: the writer's queue
and ON CONFLICT (id))."""
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
    wait("PostgreSQL caught up", lambda: health(v)["postgres"]["connected"]
         and health(v)["postgres"]["queued"] == 0, 60, v)
    v.stop()
    assert v.proc.returncode == 0

    calls = len(standin_get(ds, "/_standin/requests"))
    det = Events(k.bootstrap, "vms.detections")
    try:
        wait("every detection in Kafka", lambda: len(det.of("detection", "walk")) >= 2 * calls, 60)
        msgs = det.of("detection", "walk")
    finally:
        det.close()
    ids = [e["id"] for e in msgs]
    assert len(ids) == 2 * calls == len(set(ids))           # once each
    with psycopg.connect(pg.url) as conn:
        rows = [r[0] for r in conn.execute("SELECT id FROM detection_results WHERE camera_id = 'walk'")]
    assert sorted(rows) == sorted(ids)
