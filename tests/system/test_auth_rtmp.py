"""nginx-rtmp's on_publish/on_play through vms_auth with real RTMP clients (ffmpeg).

nginx-rtmp cuts a stream's query string at about 244 bytes, so tokens that travel in it must be
compact (few claims, HS256); longer ones arrive truncated and fail their signature check.
"""
import os
import shutil
import subprocess
import time

import jwt
import pytest

import vmsstack
from test_auth_helpers import Keys

pytestmark = pytest.mark.skipif(not os.path.exists(vmsstack.RTMP_MODULE) or not shutil.which("ffmpeg"),
                                reason="needs libnginx-mod-rtmp and ffmpeg")


def compact(keys, **claims):
    claims.setdefault("exp", int(time.time()) + 600)
    return jwt.encode(claims, keys.secret, algorithm="HS256")


@pytest.fixture
def rtmp(stack):
    keys = Keys(stack)
    built = os.listdir(os.path.join(stack.build, "modules"))
    # conf/nginx/server.d/live.conf.in serves the callback when vms_limit is built too
    extra = "" if "ngx_http_vms_limit_module.so" in built else \
        "location = /_vms/rtmp/auth { allow 127.0.0.1; deny all; vms_auth_endpoint rtmp; }"
    ngx = stack.nginx(vars={"REDIS_ADDR": "127.0.0.1:9", "KAFKA_BROKERS": "127.0.0.1:9", "EXTRA_SERVER": extra})
    ngx.keys = keys
    ngx.stream = lambda cam, tok=None: f"rtmp://127.0.0.1:{ngx.rtmp_port}/live/{cam}" + (f"?token={tok}" if tok else "")
    return ngx


def publish(url, seconds, level="error"):
    """ffmpeg publishing test video to url. A publisher kept as a stack service logs at "fatal":
    ffmpeg names its URL (with ?token=) in the error it prints when the stream is cut, and the
    stack's logs must hold no token (conftest's logscan)."""
    return ["ffmpeg", "-nostdin", "-loglevel", level, "-re", "-f", "lavfi", "-i",
            "testsrc=size=160x120:rate=10", "-t", str(seconds), "-c:v", "libx264", "-g", "10",
            "-f", "flv", url]


def test_publish_needs_publish_permission(rtmp):
    ok = compact(rtmp.keys, permissions=["publish"], camera_id="cam1")
    viewer = compact(rtmp.keys, role="viewer", camera_id="cam1")
    other = compact(rtmp.keys, permissions=["publish"], camera_id="cam2")
    assert subprocess.run(publish(rtmp.stream("cam1", ok), 1), capture_output=True, timeout=60).returncode == 0
    for tok in (viewer, other, None):
        r = subprocess.run(publish(rtmp.stream("cam1", tok), 1), capture_output=True, timeout=60)
        assert r.returncode != 0
    with open(rtmp.error_log) as f:
        log = f.read()
    assert "token does not grant this action on this path" in log


def test_play_needs_view_permission(rtmp, stack):
    pub = compact(rtmp.keys, permissions=["publish"], camera_id="cam1")
    publisher = stack._start("publisher", publish(rtmp.stream("cam1", pub), 60, "fatal"))
    try:
        viewer = compact(rtmp.keys, role="viewer", camera_id="cam1")
        wrong = compact(rtmp.keys, role="viewer", camera_id="cam2")

        def play(tok):
            return subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", rtmp.stream("cam1", tok),
                                   "-frames:v", "5", "-f", "null", "-"], capture_output=True, timeout=60)
        vmsstack.wait_for("stream published", lambda: play(viewer).returncode == 0, 30)
        assert play(wrong).returncode != 0
        assert play(None).returncode != 0
    finally:
        publisher.stop()


def test_a_playing_client_keeps_its_lease_and_gives_it_back_when_it_stops(stack):
    """nginx-rtmp's on_update renews a viewer's stream lease while ffmpeg plays (past several lease
    TTLs) and on_play_done releases it when ffmpeg stops (#11)."""
    import redis as redislib
    keys = Keys(stack)
    r = stack.redis()
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9",
                            "LIMIT_STREAM_TTL": "3s", "RTMP_UPDATE_INTERVAL": "1s"})
    url = lambda tok: f"rtmp://127.0.0.1:{ngx.rtmp_port}/live/cam1?token={tok}"
    db = redislib.Redis(port=r.port)

    def live():
        sec, usec = db.time()
        return db.zcount("vms:leases:u-rt", f"({sec * 1000000 + usec}", "+inf")
    pub = compact(keys, permissions=["publish"], camera_id="cam1")
    viewer = compact(keys, sub="u-rt", plan="free", role="viewer", camera_id="cam1")
    publisher = stack._start("publisher", publish(url(pub), 90, "fatal"))
    players = []

    def player(name):
        # -loglevel fatal: ffmpeg names its input URL (with the viewer's ?token=) in the error it
        # prints when the stream ends under it, and the logs of a test's stack must hold no token
        p = stack._start(name, ["ffmpeg", "-nostdin", "-loglevel", "fatal", "-i", url(viewer),
                                "-f", "null", "-"])
        players.append(p)
        return p
    try:
        vmsstack.wait_for("stream published", lambda: subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", url(compact(keys, role="viewer", camera_id="cam1")),
             "-frames:v", "2", "-f", "null", "-"], capture_output=True, timeout=60).returncode == 0, 30)
        a = player("player-a")
        vmsstack.wait_for("player a leased", lambda: live() == 1, 20)
        deadline = time.monotonic() + 3 * 3
        while time.monotonic() < deadline:          # three TTLs: still one lease, renewed
            assert live() == 1 and a.proc.poll() is None
            time.sleep(0.5)
        player("player-b")
        vmsstack.wait_for("player b leased", lambda: live() == 2, 20)
        # the free plan's 2 streams are taken: a third player is refused
        third = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", url(viewer),
                                "-frames:v", "2", "-f", "null", "-"], capture_output=True, timeout=60)
        assert third.returncode != 0
        # released by play_done, not lapsed: vms_limit counts the release
        def released():
            import re
            import requests
            m = re.search(r'^vms_limit_streams_total\{outcome="released"\} (\d+)',
                          requests.get(f"http://127.0.0.1:{ngx.port}/metrics/limit", timeout=5).text, re.M)
            return int(m.group(1))
        assert released() == 0
        a.stop()
        vmsstack.wait_for("player a's lease released", lambda: released() == 1 and live() == 1, 20)
    finally:
        for p in players:
            p.stop()
        publisher.stop()
