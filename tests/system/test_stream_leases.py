"""Stream leases for media-server reads (issue #5): vms_auth's MediaMTX endpoint (action `read`) and
nginx-rtmp endpoint (`play`) take the user's concurrent-stream lease through vms_limit's internal admit
location (conf/nginx/server.d/leases.conf.in) with a real redis-server and real nginx.  Publishing and
MediaMTX `playback` (recorded segments) never take a lease."""
import subprocess

import pytest
import requests

from test_auth_helpers import Keys

BASE_RTMP = {"app": "live", "flashver": "LNX 9,0,124,2", "swfurl": "", "tcurl": "rtmp://127.0.0.1/live",
             "pageurl": "", "addr": "127.0.0.1"}


@pytest.fixture
def leases(stack):
    keys = Keys(stack)
    r = stack.redis()
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9",
                            "AUTH_KEYS": keys.nginx_lines()})
    ngx.keys, ngx.redis = keys, r
    return ngx


def redis_cli(redis, *args):
    return subprocess.run(["redis-cli", "-p", str(redis.port), *args], capture_output=True,
                          text=True, check=True).stdout.strip()


def no_alerts(ngx):
    """nginx logs [alert] for a response sent twice ("header already sent") or a worker gone."""
    with open(ngx.error_log) as f:
        alerts = [line for line in f if "[alert]" in line or "[emerg]" in line]
    assert alerts == []


def held(ngx, user):
    return sorted(redis_cli(ngx.redis, "ZRANGE", f"vms:leases:{user}", "0", "-1").split())


def ask(ngx, **fields):
    body = {"ip": "127.0.0.1", "user": "", "password": "", "token": "", "action": "read", "path": "cam1",
            "protocol": "rtsp", "id": None, "query": ""}
    body.update(fields)
    return requests.post(ngx.url("/api/auth/validate-stream"), json=body, timeout=5)


def rtmp(ngx, **form):
    return requests.post(ngx.url("/api/auth/rtmp"), data=form, timeout=5)


def test_mediamtx_reads_take_leases_up_to_the_plan(leases):
    tok = leases.keys.token("HS256", sub="u-free", plan="free", role="viewer", camera_id="cam1")
    assert ask(leases, token=tok, id="reader-1").status_code == 200
    assert ask(leases, token=tok, id="reader-2", protocol="webrtc").status_code == 200
    # the same reader session again holds its lease already: admitted, nothing new counted
    assert ask(leases, token=tok, id="reader-1").status_code == 200
    resp = ask(leases, token=tok, id="reader-3", protocol="hls")
    assert resp.status_code == 429
    assert resp.json() == {"error": "limit_exceeded", "message": "Limite de 2 streams atingido",
                           "limit": 2, "active": 2}
    assert int(resp.headers["Retry-After"]) >= 1
    assert held(leases, "u-free") == ["reader-1", "reader-2"]
    # a refused read was not authorized at all: still 403 before any lease, nothing counted
    assert ask(leases, token=tok, id="reader-4", path="cam2").status_code == 403
    # another user is not affected
    other = leases.keys.token("HS256", sub="u-other", plan="free", role="viewer", camera_id="cam1")
    assert ask(leases, token=other, id="reader-1").status_code == 200
    assert held(leases, "u-other") == ["reader-1"]
    assert held(leases, "u-free") == ["reader-1", "reader-2"]
    no_alerts(leases)


def test_mediamtx_session_defaults_to_jti_and_claims_raise_the_limit(leases):
    a = leases.keys.token("HS256", sub="u-jti", plan="free", role="viewer", camera_id="cam1", jti="tok-a")
    b = leases.keys.token("HS256", sub="u-jti", plan="free", role="viewer", camera_id="cam1", jti="tok-b")
    c = leases.keys.token("HS256", sub="u-jti", plan="free", role="viewer", camera_id="cam1", jti="tok-c")
    assert [ask(leases, token=t).status_code for t in (a, a, b, c)] == [200, 200, 200, 429]
    assert held(leases, "u-jti") == ["tok-a", "tok-b"]
    pro = leases.keys.token("HS256", sub="u-pro", plan="pro", role="viewer", camera_id="cam1")
    assert [ask(leases, token=pro, id=f"s{i}").status_code for i in range(9)] == [200] * 8 + [429]
    big = leases.keys.token("HS256", sub="u-max", plan="free", role="viewer", camera_id="cam1",
                            max_concurrent_streams=3)
    assert [ask(leases, token=big, id=f"s{i}").status_code for i in range(4)] == [200, 200, 200, 429]
    assert len(held(leases, "u-max")) == 3
    no_alerts(leases)


def test_publish_and_playback_take_no_lease(leases):
    tok = leases.keys.token("HS256", sub="u-pub", plan="free", role="operator", camera_id="cam1",
                            permissions=["publish", "playback", "view_stream"])
    for i in range(4):
        assert ask(leases, token=tok, id=f"p{i}", action="publish", protocol="rtmp").status_code == 200
        assert ask(leases, token=tok, id=f"b{i}", action="playback").status_code == 200
    assert held(leases, "u-pub") == []
    # a token without sub is a service's, not a user's: no per-user lease
    svc = leases.keys.token("HS256", sub=None, role="viewer", camera_id="cam1")
    assert [ask(leases, token=svc, id=f"v{i}").status_code for i in range(4)] == [200] * 4
    assert redis_cli(leases.redis, "KEYS", "vms:leases:*").split() == []


def test_rtmp_play_takes_a_lease_per_client_publish_never(leases):
    viewer = leases.keys.token("HS256", sub="u-rtmp", plan="free", role="viewer", camera_id="cam1")
    publisher = leases.keys.token("HS256", sub="u-rtmp", plan="free", permissions=["publish"],
                                  camera_id="cam1")
    play = dict(BASE_RTMP, call="play", name="cam1", start="-2000", duration="0", reset="0")
    publish = dict(BASE_RTMP, call="publish", name="cam1", type="live")
    for cid in range(5):
        assert rtmp(leases, **publish, clientid=str(100 + cid), args=f"token={publisher}").status_code == 200
    assert held(leases, "u-rtmp") == []
    assert rtmp(leases, **play, clientid="1", args=f"token={viewer}").status_code == 200
    assert rtmp(leases, **play, clientid="2", args=f"token={viewer}").status_code == 200
    resp = rtmp(leases, **play, clientid="3", args=f"token={viewer}")
    assert resp.status_code == 429
    assert resp.json()["error"] == "limit_exceeded" and resp.json()["active"] == 2
    assert held(leases, "u-rtmp") == ["rtmp:127.0.0.1:1", "rtmp:127.0.0.1:2"]
    # an unauthorized play is 403 and counts nothing
    assert rtmp(leases, **dict(play, name="cam2"), clientid="4", args=f"token={viewer}").status_code == 403
    no_alerts(leases)


def test_admit_location_is_internal(leases):
    assert requests.get(leases.url("/_vms/admit?user=x&session=a"), timeout=5).status_code == 404
    assert held(leases, "x") == []


def test_directive_off_takes_no_lease(stack):
    keys = Keys(stack)
    r = stack.redis()
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9",
                            "AUTH_KEYS": keys.nginx_lines(), "AUTH_STREAM_ADMIT": "off"})
    ngx.redis = r
    tok = keys.token("HS256", sub="u-off", plan="free", role="viewer", camera_id="cam1")
    assert [ask(ngx, token=tok, id=f"s{i}").status_code for i in range(4)] == [200] * 4
    assert held(ngx, "u-off") == []
