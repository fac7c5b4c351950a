"""vms_auth's media-server endpoints through a real nginx: MediaMTX external auth
(POST /api/auth/validate-stream) and nginx-rtmp on_play/on_publish (POST /api/auth/rtmp)."""
import urllib.parse

import pytest
import requests

from test_auth_helpers import Keys
from helpers import rtmp_callback

ACTIONS = ["publish", "read", "playback", "api", "metrics", "pprof"]
PROTOCOLS = ["rtsp", "rtmp", "hls", "webrtc", "srt"]


@pytest.fixture(scope="module")
def mtx(tmp_path_factory):
    import vmsstack
    from conftest import BUILD
    st = vmsstack.Stack(BUILD, str(tmp_path_factory.mktemp("vms-auth-mtx")))
    try:
        keys = Keys(st)
        r = st.redis()
        # many authorized reads by one user: stream leases are tested in test_stream_leases.py;
        # hundreds of calls and refusals from one address: rate limits in test_ratelimit.py
        ngx = st.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9",
                             "AUTH_KEYS": keys.nginx_lines(), "AUTH_STREAM_ADMIT": "off",
                             "LIMIT_API_RATE": "off", "LIMIT_FAIL_RATE": "off"})
        ngx.keys = keys
        yield ngx
    finally:
        st.stop()


def ask(ngx, **fields):
    body = {"ip": "127.0.0.1", "user": "", "password": "", "token": "", "action": "read", "path": "cam1",
            "protocol": "rtsp", "id": None, "query": ""}
    body.update(fields)
    return requests.post(ngx.url("/api/auth/validate-stream"), json=body, timeout=5)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("action", ACTIONS)
def test_viewer_token_per_action_and_protocol(mtx, action, protocol):
    tok = mtx.keys.token("ES256", role="viewer", camera_id="cam1")
    want = 200 if action == "read" else 403
    assert ask(mtx, token=tok, action=action, path="camera/cam1", protocol=protocol).status_code == want
    assert ask(mtx, token=tok, action="read", path="camera/cam2", protocol=protocol).status_code == 403


@pytest.mark.parametrize("action", ACTIONS)
def test_admin_token_every_action(mtx, action):
    tok = mtx.keys.token("RS256", role="admin")
    path = "" if action in ("api", "metrics", "pprof") else "cam7"
    assert ask(mtx, token=tok, action=action, path=path).status_code == 200


def test_operator_and_playback_permissions(mtx):
    op = mtx.keys.token("HS256", role="operator", cameras=["cam1"], permissions=["playback"])
    assert ask(mtx, token=op, action="playback", path="cam1").status_code == 200
    assert ask(mtx, token=op, action="playback", path="cam2").status_code == 403
    assert ask(mtx, token=op, action="publish", path="cam1").status_code == 403
    pub = mtx.keys.token("HS256", permissions=["publish"], camera_id="cam3")
    assert ask(mtx, token=pub, action="publish", path="cam3", protocol="rtmp").status_code == 200
    assert ask(mtx, token=pub, action="read", path="cam3").status_code == 403


def test_mediamtx_permission_claims(mtx):
    """Tokens in MediaMTX's own JWT claim format work here too ("" = any path, ~ = regex)."""
    tok = mtx.keys.token("HS256", mediamtx_permissions=[
        {"action": "publish", "path": "cam1"},
        {"action": "read", "path": "~^camera/cam[0-9]+$"},
        {"action": "playback", "path": ""},
        {"action": "api"},
    ])
    assert ask(mtx, token=tok, action="publish", path="cam1").status_code == 200
    assert ask(mtx, token=tok, action="publish", path="cam2").status_code == 403
    assert ask(mtx, token=tok, action="read", path="camera/cam42").status_code == 200
    assert ask(mtx, token=tok, action="read", path="camera/cam42x").status_code == 403
    assert ask(mtx, token=tok, action="read", path="cam42").status_code == 403
    assert ask(mtx, token=tok, action="playback", path="any/where").status_code == 200
    assert ask(mtx, token=tok, action="api", path="").status_code == 200
    assert ask(mtx, token=tok, action="metrics", path="").status_code == 403


def test_token_places(mtx):
    tok = mtx.keys.token("HS256", role="viewer", camera_id="cam1")
    assert ask(mtx, password=tok, user="whoever").status_code == 200            # RTSP/RTMP password
    assert ask(mtx, query=f"a=1&jwt={tok}").status_code == 200                    # HLS/WebRTC query
    assert ask(mtx, query=f"token={urllib.parse.quote(tok)}").status_code == 200
    # "token" wins over "password"
    assert ask(mtx, token=tok, password="not-a-token").status_code == 200
    assert ask(mtx, token="not-a-token", password=tok).status_code == 401


def test_no_credentials_401_challenge(mtx):
    resp = ask(mtx)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="vms"'
    resp = ask(mtx, user="bob", password="", query="x=1")
    assert resp.status_code == 401


def test_bad_tokens_401(mtx):
    tok = mtx.keys.token("HS256", role="viewer", camera_id="cam1")
    assert ask(mtx, token=tok[:-3] + "abc").status_code == 401
    assert ask(mtx, token="garbage").status_code == 401
    expired = mtx.keys.token("HS256", role="viewer", ttl=-3600)
    resp = ask(mtx, token=expired)
    assert resp.status_code == 401
    assert 'error_description="token expired"' in resp.headers["WWW-Authenticate"]


def test_malformed_requests_400(mtx):
    url = mtx.url("/api/auth/validate-stream")
    assert requests.post(url, data="{", timeout=5).status_code == 400
    assert requests.post(url, data="[]", timeout=5).status_code == 400
    assert ask(mtx, action="teleport").status_code == 400
    assert ask(mtx, path=7).status_code == 400
    resp = requests.post(url, data='{"action":"read","action":"publish"}', timeout=5)
    assert resp.status_code == 400
    assert resp.json() == {"error": "bad_request", "message": "request body is not a JSON object"}
    assert requests.get(url, timeout=5).status_code == 405


def test_nginx_rtmp_callbacks(mtx):
    """The form nginx-rtmp's notify module posts for on_play / on_publish."""
    viewer = mtx.keys.token("HS256", role="viewer", camera_id="cam1")
    publisher = mtx.keys.token("HS256", permissions=["publish"], camera_id="cam1")
    base = {"app": "live", "flashver": "LNX 9,0,124,2", "swfurl": "", "tcurl": "rtmp://127.0.0.1/live",
            "pageurl": "", "addr": "127.0.0.1", "clientid": "7"}
    play = dict(base, call="play", name="cam1", start="-2000", duration="0", reset="0")
    publish = dict(base, call="publish", name="cam1", type="live")
    assert rtmp_callback(mtx, **play, args=f"token={viewer}").status_code == 200
    assert rtmp_callback(mtx, **play, token=viewer).status_code == 200
    assert rtmp_callback(mtx, **dict(play, tcurl=f"rtmp://127.0.0.1/live?jwt={viewer}")).status_code == 200
    assert rtmp_callback(mtx, **dict(play, name="cam2"), args=f"token={viewer}").status_code == 403
    assert rtmp_callback(mtx, **play).status_code == 401
    assert rtmp_callback(mtx, **publish, args=f"token={viewer}").status_code == 403
    assert rtmp_callback(mtx, **publish, args=f"token={publisher}").status_code == 200
    assert rtmp_callback(mtx, **dict(play, call="done")).status_code == 400
