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


def publish(url, seconds):
    return ["ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
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
    publisher = stack._start("publisher", publish(rtmp.stream("cam1", pub), 60))
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
