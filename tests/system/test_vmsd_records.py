"""vmsd's records of closed segments: Kafka recording.segment events and PostgreSQL
`recordings` rows, through a PostgreSQL outage and a clean SIGTERM."""
import os
import re

import psycopg

from vmsdtest import Events, camera, conf_text, health, log_lines, wait


def rows(pg):
    with psycopg.connect(pg.dsn) as c:
        return c.execute("SELECT camera_id, path, bytes, start_time, end_time FROM recordings"
                         " ORDER BY start_time").fetchall()


def test_segments_reach_kafka_and_postgres_through_an_outage_and_sigterm(stack):
    pg = stack.postgres()
    k = stack.kafka()
    cams = stack.camsim(cameras=1)
    v = stack.vmsd(text=conf_text(cams, ["cam1"], kafka=k, pg=pg,
                                  extra={"segment_duration": "2s"}))
    ev = Events(k.bootstrap)
    try:
        segs = ev.wait("recording.segment", "cam1", n=2, svc=v)
        wait("rows", lambda: len(rows(pg)) >= 2, svc=v)
        got = {r[1]: r for r in rows(pg)}
        for e in segs:
            r = got[e["path"]]
            assert r[0] == "cam1" and r[2] == e["bytes"] > 0 and r[4] > r[3]
            assert os.path.getsize(os.path.join(stack.work, "recordings", "cam1", e["path"])) == e["bytes"]
        with psycopg.connect(pg.dsn) as c:
            assert c.execute("SELECT enabled, record FROM cameras WHERE id = 'cam1'").fetchone() == (True, True)

        # PostgreSQL goes away: rows wait in vmsd's queue
        port = pg.port
        pg.stop()
        n = len(ev.of("recording.segment", "cam1"))
        ev.wait("recording.segment", "cam1", n=n + 2, svc=v)
        wait("queued", lambda: health(v)["postgres"]["queued"] >= 2, svc=v)
        assert not health(v)["postgres"]["connected"]
        pg = stack.postgres(port=port, name="postgres")
        wait("caught up", lambda: health(v)["postgres"]["queued"] == 0 and
             len(rows(pg)) == len(ev.of("recording.segment", "cam1")), svc=v)

        # SIGTERM: the open segment is closed, announced and recorded before exit
        assert camera(v, "cam1")["recording"]
        v.stop()
        assert v.proc.returncode == 0
        last = [re.search(r"segment (\S+) closed \(stop\)", line["message"]) for line in log_lines(v)]
        last = [m.group(1) for m in last if m]
        assert len(last) == 1
        assert log_lines(v)[-1]["message"] == "vmsd stopped"
        events = ev.wait("recording.segment", "cam1", n=len(rows(pg)), svc=None)
        paths = [e["path"] for e in events]
        assert len(paths) == len(set(paths))
        assert sorted(paths) == sorted(r[1] for r in rows(pg))
        assert last[0] in paths
    finally:
        ev.close()
