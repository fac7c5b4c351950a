"""vmsd: cameras from camsim through vmsd to Kafka, Redis, /metrics and /health."""
import json
import os
import re
import signal
import subprocess

import pytest
import redis as redislib

import vmsstack
from vmsdtest import Events, camera, conf_text, health, log_lines, metric, wait

CAMS4 = ["cam1", "cam2", "cam3", "cam4"]
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_four_cameras_online_events_and_metrics(stack):
    k = stack.kafka()
    cams = stack.camsim(cameras=4)
    v = stack.vmsd(text=conf_text(cams, CAMS4, kafka=k))
    ev = Events(k.bootstrap)
    try:
        online = ev.wait("camera.online", n=4, svc=v)
        assert sorted(e["camera_id"] for e in online) == CAMS4
        for e in online:
            assert e["schema"] == 1 and e["_key"] == e["camera_id"]
            assert RFC3339.match(e["ts"]) and re.fullmatch(r"[0-9a-f]{32}", e["trace_id"])
        # every camera's frame counter moves, as a Prometheus scrape shows it
        first = {c: metric(v, "vms_camera_frames_received_total", camera_id=c) for c in CAMS4}
        wait("frames flowing", lambda: all(metric(v, "vms_camera_frames_received_total", camera_id=c) > first[c] > 0
                                           for c in CAMS4), svc=v)
        assert metric(v, "vms_streams_active") == 4
        h = health(v)
        assert h["cameras_online"] == 4 and {c["state"] for c in h["cameras"]} == {"online"}
        assert len(ev.of("camera.online")) == 4       # one each, not repeated
    finally:
        ev.close()


def test_camera_disconnect_reconnect(stack):
    """The seed's name: a camera drops (backoff, offline after 10 attempts, the other camera
    untouched) and comes back online."""
    k = stack.kafka()
    r = stack.redis()
    cams = stack.camsim(cameras=2)
    v = stack.vmsd(text=conf_text(cams, ["cam1", "cam2"], kafka=k, redis=r))
    ev = Events(k.bootstrap)
    rc = redislib.Redis(host="127.0.0.1", port=r.port)
    try:
        ev.wait("camera.online", n=2, svc=v)
        wait("status online", lambda: rc.get("vms:camera:cam1:status") == b"online", svc=v)
        cams.fault("cam1", "drop", seconds=3600)
        off = ev.wait("camera.offline", "cam1", svc=v)[0]
        assert off["attempts"] == 10 and off["error"]
        assert rc.get("vms:camera:cam1:status") == b"offline"
        # the scaled schedule 100, 200, 400 ms, then 400 ms, in the logged attempts
        attempts = [(l["attempt"], l["delay_ms"]) for l in log_lines(v)
                    if l.get("camera_id") == "cam1" and "attempt" in l]
        assert attempts[:10] == [(1, 100), (2, 200), (3, 400)] + [(i, 400) for i in range(4, 11)]
        assert metric(v, "vms_camera_reconnect_total", camera_id="cam1", status="failure") >= 10
        assert camera(v, "cam1")["state"] == "offline"
        # the other camera never noticed
        assert camera(v, "cam2")["state"] == "online" and not ev.of("camera.offline", "cam2")

        cams.fault("cam1", "resume")
        ev.wait("camera.online", "cam1", n=2, svc=v)
        wait("status online again", lambda: rc.get("vms:camera:cam1:status") == b"online", svc=v)
        assert metric(v, "vms_camera_reconnect_total", camera_id="cam1", status="success") == 1
        assert metric(v, "vms_reconnect_duration_seconds_count", camera_id="cam1") == 1
        assert any(l.get("probe") == "up" for l in log_lines(v) if l.get("camera_id") == "cam1")
    finally:
        ev.close()


def test_freeze_restarts_pipeline_and_reports_frozen(stack):
    k = stack.kafka()
    cams = stack.camsim(cameras=2)
    v = stack.vmsd(text=conf_text(cams, ["cam1", "cam2"], kafka=k))
    ev = Events(k.bootstrap)
    try:
        ev.wait("camera.online", n=2, svc=v)
        cams.fault("cam1", "freeze")
        fr = ev.wait("stream.frozen", "cam1", svc=v, reason="no_frames")[0]
        assert fr["seconds"] >= 1.5
        assert metric(v, "vms_stream_frozen_total", camera_id="cam1", reason="no_frames") >= 1
        wait("restart logged", lambda: any("restarting the pipeline" in l["message"] for l in log_lines(v)
                                           if l.get("camera_id") == "cam1"), svc=v)
        assert not ev.of("stream.frozen", "cam2")
        cams.fault("cam1", "resume")
        before = metric(v, "vms_camera_frames_received_total", camera_id="cam1")
        wait("frames again", lambda: metric(v, "vms_camera_frames_received_total", camera_id="cam1") > before + 25
             and camera(v, "cam1")["state"] == "online", svc=v)
    finally:
        ev.close()


def test_still_picture_reports_frozen_still(stack):
    k = stack.kafka()
    cams = stack.camsim(cameras=2)
    v = stack.vmsd(text=conf_text(cams, ["cam1", "cam2"], kafka=k))
    ev = Events(k.bootstrap)
    try:
        ev.wait("camera.online", n=2, svc=v)
        cams.fault("cam1", "still")
        e = ev.wait("stream.frozen", "cam1", svc=v, reason="still")[0]
        assert e["seconds"] >= 1.5
        assert camera(v, "cam1")["still"] is True
        assert metric(v, "vms_stream_frozen_total", camera_id="cam1", reason="still") == 1
        # frames keep arriving: a still picture is not a dead stream
        assert camera(v, "cam1")["state"] == "online"
        assert not ev.of("stream.frozen", "cam2")
        cams.fault("cam1", "resume")
        wait("moving again", lambda: camera(v, "cam1")["still"] is False, svc=v)
    finally:
        ev.close()


@pytest.mark.parametrize("message_timeout", ["60s", "1s"], ids=["queue", "spool"])
def test_kafka_outage_events_delivered_once(stack, message_timeout):
    """Events during a broker outage wait (librdkafka's queue; with a short message timeout the on-disk
    spool) and are all delivered once the broker is back, none twice."""
    k = stack.kafka()
    cams = stack.camsim(cameras=2)
    v = stack.vmsd(text=conf_text(cams, ["cam1", "cam2"], kafka=k,
                                  extra={"kafka_message_timeout": message_timeout}))
    ev = Events(k.bootstrap)
    try:
        ev.wait("camera.online", n=2, svc=v)
        k.down()
        cams.fault("cam1", "drop", seconds=3600)
        wait("cam1 offline", lambda: camera(v, "cam1")["state"] == "offline", svc=v)
        cams.fault("cam1", "resume")
        wait("cam1 online", lambda: camera(v, "cam1")["state"] == "online", svc=v)
        cams.fault("cam2", "freeze")
        wait("cam2 frozen", lambda: metric(v, "vms_stream_frozen_total", camera_id="cam2") >= 1, svc=v)
        if message_timeout == "1s":
            wait("spooled", lambda: metric(v, "vms_events_spooled_total") >= 3, svc=v)
        assert not ev.of("camera.offline")          # nothing got through while down
        k.up()
        ev.wait("camera.offline", "cam1", svc=v)
        ev.wait("camera.online", "cam1", n=2, svc=v)
        ev.wait("stream.frozen", "cam2", svc=v)
        wait("spool drained", lambda: health(v)["kafka"]["spool_bytes"] == 0
             and health(v)["kafka"]["queued"] == 0, svc=v)
        ev.poll()
        ids = [e["trace_id"] for e in ev.all]
        assert len(ids) == len(set(ids)), "an event was delivered twice"
        order = [e["type"] for e in ev.all if e["camera_id"] == "cam1" and e["type"].startswith("camera.")]
        assert order == ["camera.online", "camera.offline", "camera.online"]
        assert metric(v, "vms_events_dropped_total") == 0
    finally:
        ev.close()


def test_snapshot_in_redis_refreshed_and_kept_while_offline(stack):
    r = stack.redis()
    cams = stack.camsim(cameras=1)
    v = stack.vmsd(text=conf_text(cams, ["cam1"], redis=r, extra={"snapshot_ttl": "2s"}))
    rc = redislib.Redis(host="127.0.0.1", port=r.port)
    jpeg = wait("snapshot", lambda: rc.get("vms:snapshot:cam1"), svc=v)
    assert jpeg[:3] == b"\xff\xd8\xff" and jpeg[-2:] == b"\xff\xd9"
    assert 0 < rc.pttl("vms:snapshot:cam1") <= 2000
    latest = os.path.join(stack.work, "recordings", "cam1", "latest.jpg")
    with open(latest, "rb") as f:
        assert f.read(3) == b"\xff\xd8\xff"
    n = metric(v, "vms_snapshots_total", camera_id="cam1")
    wait("refreshed", lambda: metric(v, "vms_snapshots_total", camera_id="cam1") >= n + 2, svc=v)

    cams.fault("cam1", "drop", seconds=3600)
    wait("offline", lambda: camera(v, "cam1")["state"] == "offline", svc=v)
    # the last picture outlives several TTLs while the camera is offline
    deadline = vmsstack.time.monotonic() + 3 * 2.0
    while vmsstack.time.monotonic() < deadline:
        assert rc.get("vms:snapshot:cam1") is not None
        vmsstack.time.sleep(0.2)


def recorded_bytes(stack, cam):
    """Bytes in the camera's MP4 segment files."""
    total = 0
    for d, _, files in os.walk(os.path.join(stack.work, "recordings", cam)):
        total += sum(os.path.getsize(os.path.join(d, f)) for f in files if f.endswith(".mp4"))
    return total


def test_sighup_adds_and_removes_cameras_without_touching_others(stack):
    k = stack.kafka()
    r = stack.redis()
    cams = stack.camsim(cameras=3)
    v = stack.vmsd(text=conf_text(cams, ["cam1", "cam2"], kafka=k, redis=r))
    ev = Events(k.bootstrap)
    rc = redislib.Redis(host="127.0.0.1", port=r.port)
    try:
        ev.wait("camera.online", n=2, svc=v)
        with open(v.conf) as f:
            text = f.read()
        port = re.search(r"listen = 127.0.0.1:(\d+)", text).group(1)
        new = conf_text(cams, ["cam2", "cam3"], kafka=k, redis=r).replace("@API_PORT@", port) \
            .replace("@RECORDINGS@", os.path.join(stack.work, "recordings")) \
            .replace("@STATE@", os.path.join(stack.work, "vmsd", "state"))
        with open(v.conf, "w") as f:
            f.write(new)
        v.signal(signal.SIGHUP)
        ev.wait("camera.online", "cam3", svc=v)
        wait("cam1 gone", lambda: camera(v, "cam1") is None, svc=v)
        assert rc.get("vms:camera:cam1:status") == b"removed"
        cam2_starts = [l for l in log_lines(v) if l.get("camera_id") == "cam2" and
                       (l["message"].startswith("started") or l["message"] == "stopped")]
        assert len(cam2_starts) == 1, "cam2 was restarted by the reload"
        assert len(ev.of("camera.online", "cam2")) == 1
        assert camera(v, "cam2")["state"] == "online"
        assert any(l["message"].startswith("reload done: 1 added, 1 removed, 0 restarted, 1 unchanged")
                   for l in log_lines(v))
        # the added camera records (its thread may run on the removed camera's old stack)
        wait("cam3 segment written", lambda: recorded_bytes(stack, "cam3") > 0, svc=v)

        # a changed camera is restarted with its new settings, the others still untouched
        with open(v.conf, "a") as f:
            f.write("record = no\n")          # appended to the last section: cam3
        v.signal(signal.SIGHUP)
        wait("cam3 restarted", lambda: any(l["message"].startswith("reload done: 0 added, 0 removed, 1 restarted")
                                           for l in log_lines(v)), svc=v)
        wait("cam3 back, not recording", lambda: camera(v, "cam3") is not None
             and camera(v, "cam3")["state"] == "online" and camera(v, "cam3")["record"] is False, svc=v)
        assert camera(v, "cam2")["record"] is True
        assert len([l for l in log_lines(v) if l.get("camera_id") == "cam2" and l["message"] == "stopped"]) == 0
    finally:
        ev.close()


BAD = """[vmsd]
listen = 127.0.0.1:1
recordings = /tmp

[camera cam3]
url = rtsp://127.0.0.1:1/camera/cam3
retention_days = seven
"""


def test_bad_config_names_file_line_and_key(stack, build_dir, tmp_path):
    bad = tmp_path / "vmsd.conf"
    bad.write_text(BAD)
    p = subprocess.run([os.path.join(build_dir, "bin", "vmsd"), "-t", "-c", str(bad)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2
    assert f'{bad}:7: camera cam3: key "retention_days": expected a positive integer' in p.stderr
    # started for real, the same error is a JSON log line and vmsd exits
    p = subprocess.run([os.path.join(build_dir, "bin", "vmsd"), "-c", str(bad)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2
    line = json.loads(p.stderr.splitlines()[0])
    assert line["level"] == "error" and line["message"].startswith(f'{bad}:7: camera cam3: key "retention_days"')


def test_bad_config_on_reload_keeps_running(stack):
    cams = stack.camsim(cameras=1)
    v = stack.vmsd(text=conf_text(cams, ["cam1"]))
    wait("online", lambda: camera(v, "cam1")["state"] == "online", svc=v)
    with open(v.conf, "a") as f:
        f.write("frozen_timeout = soon\n")
    v.signal(signal.SIGHUP)
    wait("refused", lambda: any("reload refused" in l["message"] for l in log_lines(v)), svc=v)
    msg = next(l["message"] for l in log_lines(v) if "reload refused" in l["message"])
    assert f'{v.conf}:' in msg and 'camera cam1: key "frozen_timeout"' in msg
    before = metric(v, "vms_camera_frames_received_total", camera_id="cam1")
    wait("still streaming", lambda: metric(v, "vms_camera_frames_received_total", camera_id="cam1") > before,
         svc=v)
    assert camera(v, "cam1")["state"] == "online"


def test_api_is_loopback_and_validates_input(stack):
    cams = stack.camsim(cameras=1)
    v = stack.vmsd(text=conf_text(cams, ["cam1"]))

    def post(path):
        req = vmsstack.urllib.request.Request(v.api + path, data=b"", method="POST", headers=v.auth)
        try:
            with vmsstack.urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, resp.read()
        except vmsstack.urllib.error.HTTPError as e:
            return e.code, e.read()

    assert post("/record/stop?camera=nope")[0] == 404
    assert post("/record/stop?camera=../x")[0] == 400
    assert post("/record/stop")[0] == 400
    assert vmsstack.http_get(v.api + "/record/stop?camera=cam1")[0] == 405
    assert vmsstack.http_get(v.api + "/nothing")[0] == 404
    wait("recording", lambda: camera(v, "cam1")["recording"], svc=v)
    status, body = post("/record/stop?camera=cam1")
    assert status == 200 and b'"record":false' in body
    wait("not recording", lambda: not camera(v, "cam1")["recording"], svc=v)
    assert post("/record/start?camera=cam1")[0] == 200
    wait("recording again", lambda: camera(v, "cam1")["recording"], svc=v)
    out = subprocess.run(["ss", "-ltnH", f"sport = :{v.port}"], capture_output=True, text=True).stdout
    assert [line.split()[3] for line in out.splitlines()] == [f"127.0.0.1:{v.port}"]


def test_spooled_events_survive_a_crash(stack):
    """Events spooled during a broker outage are on disk: after kill -9 and a restart they are
    delivered, each once."""
    k = stack.kafka()
    cams = stack.camsim(cameras=1)
    text = conf_text(cams, ["cam1"], kafka=k, extra={"kafka_message_timeout": "1s"})
    v = stack.vmsd(text=text)
    ev = Events(k.bootstrap)
    try:
        ev.wait("camera.online", "cam1", svc=v)
        k.down()
        cams.fault("cam1", "drop", seconds=3600)
        wait("offline", lambda: camera(v, "cam1")["state"] == "offline", svc=v)
        wait("spooled", lambda: health(v)["kafka"]["spool_bytes"] > 0
             and metric(v, "vms_events_spooled_total") >= 1 and health(v)["kafka"]["queued"] <= 1, svc=v)
        v.signal(signal.SIGKILL)
        v.proc.wait(10)
        cams.fault("cam1", "resume")
        k.up()
        v2 = stack.vmsd(text=text)      # same name: same spool directory
        off = ev.wait("camera.offline", "cam1", svc=v2)
        assert len(off) == 1 and off[0]["attempts"] == 10
        ev.wait("camera.online", "cam1", n=2, svc=v2)       # the first, and the restarted vmsd's
        wait("spool drained", lambda: health(v2)["kafka"]["spool_bytes"] == 0, svc=v2)
        ev.poll()
        ids = [e["trace_id"] for e in ev.all]
        assert len(ids) == len(set(ids))
    finally:
        ev.close()


def test_silent_camera_never_blocks(stack):
    """A camera that accepts TCP and never answers: its connects end at io_timeout, the other camera
    streams meanwhile, and SIGTERM still stops vmsd cleanly (the wait honours the stop)."""
    import socket
    import threading
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])     # never answers
            except OSError:
                pass
    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        cams = stack.camsim(cameras=1)
        text = conf_text(cams, ["cam1"]) + \
            f"\n[camera mute]\nurl = rtsp://127.0.0.1:{silent.getsockname()[1]}/camera/mute\nio_timeout = 1s\n"
        v = stack.vmsd(text=text)
        wait("mute retried", lambda: any(l.get("camera_id") == "mute" and l.get("attempt", 0) >= 2
                                         for l in log_lines(v)), svc=v)
        wait("cam1 online", lambda: camera(v, "cam1")["state"] == "online", svc=v)
        assert camera(v, "cam1")["state"] == "online"
        assert camera(v, "mute")["state"] in ("connecting", "reconnecting")
        assert "timed out after 1000 ms" in camera(v, "mute")["last_error"]
        assert len(held) >= 2            # it did connect, and gave up on the silence each time
        v.stop()
        assert v.proc.returncode == 0    # exited by itself, not killed after the stop timeout
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        silent.close()


def test_secrets_never_reach_logs_api_or_events(stack):
    pg = stack.postgres()
    k = stack.kafka()
    cams = stack.camsim(cameras=1)
    conninfo = os.path.join(stack.work, "pg.conninfo")
    with open(conninfo, "w") as f:
        f.write(pg.dsn + " password=Sup3rS3cretPG\n")     # trust auth: accepted, unused
    url = cams.url("cam1").replace("rtsp://", "rtsp://admin:Cam3raPa55@")
    text = conf_text(cams, [], kafka=k, extra={"postgres_file": conninfo}) + \
        f"\n[camera cam1]\nurl = {url}\nmax_attempts = 2\n"
    v = stack.vmsd(text=text)
    ev = Events(k.bootstrap)
    try:
        ev.wait("camera.online", "cam1", svc=v)
        wait("postgres", lambda: health(v)["postgres"]["connected"], svc=v)
        cams.fault("cam1", "drop", seconds=3600)
        off = ev.wait("camera.offline", "cam1", svc=v)[0]
        assert "***@127.0.0.1" in off["error"]
        seen = [open(v.log).read(), vmsstack.http_get(v.api + "/health")[1].decode(),
                vmsstack.http_get(v.api + "/metrics", headers=v.auth)[1].decode(), json.dumps(ev.poll())]
        for text in seen:
            assert "Sup3rS3cretPG" not in text and "Cam3raPa55" not in text
        assert "rtsp://***@127.0.0.1" in seen[0]
    finally:
        ev.close()


def test_redis_outage_status_lands_when_it_returns(stack):
    r = stack.redis()
    cams = stack.camsim(cameras=1)
    v = stack.vmsd(text=conf_text(cams, ["cam1"], redis=r))
    rc = redislib.Redis(host="127.0.0.1", port=r.port)
    wait("online in redis", lambda: rc.get("vms:camera:cam1:status") == b"online", svc=v)
    port = r.port
    r.stop()
    cams.fault("cam1", "drop", seconds=3600)
    wait("offline", lambda: camera(v, "cam1")["state"] == "offline", svc=v)
    assert health(v)["redis"]["queued"] >= 1 and not health(v)["redis"]["connected"]
    r = stack.redis(port=port, name="redis2")
    rc = redislib.Redis(host="127.0.0.1", port=r.port)
    wait("status caught up", lambda: rc.get("vms:camera:cam1:status") == b"offline", svc=v)
    assert rc.get("vms:snapshot:cam1")[:3] == b"\xff\xd8\xff"       # the last picture, kept
    v.stop()
    assert v.proc.returncode == 0
    assert rc.get("vms:camera:cam1:status") == b"stopped"       # nobody watches it any more
