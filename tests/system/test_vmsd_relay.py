"""vmsd's live relay: camsim → vmsd (stream copy, publish token) → nginx-rtmp (vms_auth on_publish)
→ live HLS served by nginx to a viewer with a token; a relay with the wrong key is refused."""
import os
import time

import jwt
import pytest

import vmsstack
from helpers import hls_ready
from vmsdtest import camera, conf_text, log_lines, metric, wait


def test_relay_publishes_to_nginx_rtmp_with_a_token(stack, build_dir):
    if not os.path.exists(os.path.join(build_dir, "modules", "ngx_http_vms_auth_module.so")):
        pytest.skip("nginx modules not built")
    r = stack.redis()
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr})
    cams = stack.camsim(cameras=2)
    relay = f"rtmp://127.0.0.1:{ngx.rtmp_port}/live/%id"
    good = stack.vmsd(text=conf_text(cams, ["cam1"], extra={
        "relay": relay, "relay_token_secret_file": stack.secret_file()}))
    bad_key = os.path.join(stack.work, "wrong.key")
    with open(bad_key, "w") as f:
        f.write("not-the-key")
    bad = stack.vmsd(name="vmsd-bad", text=conf_text(cams, ["cam2"], extra={
        "relay": relay, "relay_token_secret_file": bad_key}))

    wait("live HLS of cam1", lambda: hls_ready(ngx, "cam1"), svc=good)
    assert metric(good, "vms_relay_up", camera_id="cam1") == 1
    # a viewer with a token reads the live playlist through nginx
    with open(stack.secret_file()) as f:
        secret = f.read()
    tok = jwt.encode({"sub": "alice", "role": "viewer", "camera_id": "cam1", "jti": "t1",
                      "exp": int(time.time()) + 300}, secret, algorithm="HS256")
    req = vmsstack.urllib.request.Request(ngx.url("/live/cam1/index.m3u8"),
                                          headers={"Authorization": f"Bearer {tok}"})
    with vmsstack.urllib.request.urlopen(req, timeout=5) as resp:
        body = resp.read().decode()
    assert resp.status == 200 and body.startswith("#EXTM3U") and ".ts" in body

    # the wrong key: nginx-rtmp refuses the publish; recording is unaffected
    wait("cam2 recording", lambda: camera(bad, "cam2")["recording"], svc=bad)
    wait("refused publish logged", lambda: any("relay:" in l["message"] for l in log_lines(bad)
                                               if l.get("camera_id") == "cam2"), svc=bad)
    wait("nginx refused it", lambda: "token signature mismatch" in open(ngx.error_log).read(), svc=bad)
    assert metric(bad, "vms_relay_up", camera_id="cam2") == 0
    assert not hls_ready(ngx, "cam2")
    # the token never reaches a log line
    for svc in (good, bad):
        with open(svc.log) as f:
            assert "token=" not in f.read()


def playlist_segments(ngx, cam, tok):
    req = vmsstack.urllib.request.Request(ngx.url(f"/live/{cam}/index.m3u8"),
                                          headers={"Authorization": f"Bearer {tok}"})
    try:
        with vmsstack.urllib.request.urlopen(req, timeout=5) as resp:
            body = resp.read().decode()
    except (OSError, vmsstack.urllib.error.URLError):
        return None
    return [l.split("?")[0] for l in body.splitlines() if ".ts" in l]


def test_stream_recovery_after_live_server_restart(stack, build_dir):
    """The seed's name: nginx (nginx-rtmp, the live server) restarts under a live viewer; vmsd's relay
    publishes again by itself, the viewer's playlist moves on with new segments, recording never
    stopped."""
    if not os.path.exists(os.path.join(build_dir, "modules", "ngx_http_vms_auth_module.so")):
        pytest.skip("nginx modules not built")
    r = stack.redis()
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr})
    cams = stack.camsim(cameras=1)
    v = stack.vmsd(text=conf_text(cams, ["cam1"], extra={
        "relay": f"rtmp://127.0.0.1:{ngx.rtmp_port}/live/%id",
        "relay_token_secret_file": stack.secret_file()}))
    with open(stack.secret_file()) as f:
        secret = f.read()
    tok = jwt.encode({"sub": "alice", "role": "viewer", "camera_id": "cam1", "jti": "restart-viewer",
                      "exp": int(time.time()) + 600}, secret, algorithm="HS256")
    wait("live playlist", lambda: playlist_segments(ngx, "cam1", tok), svc=v)
    before = set(playlist_segments(ngx, "cam1", tok))
    connects = metric(v, "vms_relay_connects_total", camera_id="cam1")

    ngx.stop()
    wait("relay noticed", lambda: metric(v, "vms_relay_up", camera_id="cam1") == 0, svc=v)
    assert playlist_segments(ngx, "cam1", tok) is None          # the viewer sees the server gone
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr, "RTMP_PORT": ngx.rtmp_port}, port=ngx.port)

    wait("relay up again", lambda: metric(v, "vms_relay_up", camera_id="cam1") == 1, svc=v)
    assert metric(v, "vms_relay_connects_total", camera_id="cam1") > connects
    wait("new live segments", lambda: set(playlist_segments(ngx, "cam1", tok) or ()) - before, svc=v)
    assert camera(v, "cam1")["recording"]
