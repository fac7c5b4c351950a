"""Stream leases for media-server reads (issue #5): vms_auth's MediaMTX endpoint (action `read`) and
nginx-rtmp endpoint (`play`) take the user's concurrent-stream lease through vms_limit's internal admit
location (conf/nginx/server.d/leases.conf.in) with a real redis-server and real nginx.  Publishing and
MediaMTX `playback` (recorded segments) never take a lease.

Player sessions (#20 items 4-5, #11): media requests belong to a leased session through the signed
`vms_session` parameter their playlist hands them (docs/limit.md "Player sessions"); ffmpeg reads live
and playback HLS end to end; one lease set per user whatever the `sub`; tokens without `jti` play."""
import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import time
import urllib.parse
import uuid

import pytest
import requests

from test_auth_helpers import Keys
from helpers import redis_cli, rtmp_callback

BASE_RTMP = {"app": "live", "flashver": "LNX 9,0,124,2", "swfurl": "", "tcurl": "rtmp://127.0.0.1/live",
             "pageurl": "", "addr": "127.0.0.1"}


def leased_nginx(stack, **extra):
    """nginx with vms_auth + vms_limit on a fresh Redis, connected to it."""
    keys = Keys(stack)
    r = stack.redis()
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9",
                            "AUTH_KEYS": keys.nginx_lines(), **extra})
    ngx.keys, ngx.redis = keys, r
    redis_connected(ngx)
    return ngx


@pytest.fixture
def leases(stack):
    return leased_nginx(stack)


def redis_connected(ngx):
    """Until vms_limit's worker has its Redis connection, admissions fall back to the node's zone
    (docs/limit.md) and Redis holds nothing: wait for the connection, not for a time."""
    import vmsstack

    def connected():
        text = requests.get(ngx.url("/metrics/limit"), timeout=5).text
        m = re.search(r"^vms_limit_redis_connects_total (\d+)", text, re.M)
        return m and int(m.group(1)) >= 1
    vmsstack.wait_for("vms_limit connected to Redis", connected, 15)


def no_alerts(ngx):
    """nginx logs [alert] for a response sent twice ("header already sent") or a worker gone."""
    with open(ngx.error_log) as f:
        alerts = [line for line in f if "[alert]" in line or "[emerg]" in line]
    assert alerts == []


# MediaMTX sends its reader/session ids as UUIDs (vms_auth refuses anything else): the tests name
# them ("reader-1") and send a UUID made from the name; held() shows the names again.
RIDS = {}


def rid(name):
    u = str(uuid.uuid5(uuid.NAMESPACE_OID, name))
    RIDS[u] = name
    return u


def held(ngx, user):
    """The user's live leases (an expired one stays in the set until the next admission drops it)."""
    sec, usec = redis_cli(ngx.redis, "TIME").split()
    now_us = int(sec) * 1000000 + int(usec)
    members = redis_cli(ngx.redis, "ZRANGEBYSCORE", f"vms:leases:{user}", f"({now_us}", "+inf").split()
    return sorted(RIDS.get(m, m) for m in members)


def ask(ngx, **fields):
    body = {"ip": "127.0.0.1", "user": "", "password": "", "token": "", "action": "read", "path": "cam1",
            "protocol": "rtsp", "id": None, "query": ""}
    body.update(fields)
    if body["id"] is not None:
        body["id"] = rid(body["id"])
    return requests.post(ngx.url("/api/auth/validate-stream"), json=body, timeout=5)


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
    # one call per reader (WebRTC; an RTSP reader's two calls share one lease, see below)
    assert [ask(leases, token=pro, id=f"s{i}", protocol="webrtc").status_code
            for i in range(9)] == [200] * 8 + [429]
    big = leases.keys.token("HS256", sub="u-max", plan="free", role="viewer", camera_id="cam1",
                            max_concurrent_streams=3)
    assert [ask(leases, token=big, id=f"s{i}", protocol="webrtc").status_code
            for i in range(4)] == [200, 200, 200, 429]
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
        assert rtmp_callback(leases, **publish, clientid=str(100 + cid), args=f"token={publisher}").status_code == 200
    assert held(leases, "u-rtmp") == []
    assert rtmp_callback(leases, **play, clientid="1", args=f"token={viewer}").status_code == 200
    assert rtmp_callback(leases, **play, clientid="2", args=f"token={viewer}").status_code == 200
    resp = rtmp_callback(leases, **play, clientid="3", args=f"token={viewer}")
    assert resp.status_code == 429
    assert resp.json()["error"] == "limit_exceeded" and resp.json()["active"] == 2
    assert held(leases, "u-rtmp") == ["rtmp:127.0.0.1:1", "rtmp:127.0.0.1:2"]
    # an unauthorized play is 403 and counts nothing
    assert rtmp_callback(leases, **dict(play, name="cam2"), clientid="4", args=f"token={viewer}").status_code == 403
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


# ---- one reader, one lease; renewal and release while it plays (#11) -----------------------------

def rtsp_reader(ngx, tok, name, ip="127.0.0.1", path="cam1"):
    """One RTSP reader as MediaMTX asks for it: DESCRIBE with the connection id (no userAgent),
    then SETUP with the session id.  Returns both answers' statuses."""
    describe = ask(ngx, token=tok, id=f"{name}-conn", ip=ip, path=path)
    if describe.status_code != 200:
        return describe.status_code, None
    setup = ask(ngx, token=tok, id=f"{name}-session", ip=ip, path=path, userAgent="LIBVLC/3.0.18")
    return describe.status_code, setup.status_code


def test_rtsp_reader_describe_and_setup_hold_one_lease(leases):
    tok = leases.keys.token("HS256", sub="u-rtsp", plan="free", role="viewer", camera_id="cam1")
    # the free plan allows 2: two RTSP readers (four auth calls) both play
    assert rtsp_reader(leases, tok, "A") == (200, 200)
    assert rtsp_reader(leases, tok, "B") == (200, 200)
    assert held(leases, "u-rtsp") == ["B-session", "A-session"] or \
        held(leases, "u-rtsp") == ["A-session", "B-session"]
    # a repeated SETUP of one session (audio after video) renews its lease
    assert ask(leases, token=tok, id="A-session").status_code == 200
    # the third reader is refused at its DESCRIBE, with the limit's body
    resp = ask(leases, token=tok, id="C-conn")
    assert resp.status_code == 429 and resp.json()["active"] == 2
    assert sorted(held(leases, "u-rtsp")) == ["A-session", "B-session"]
    # another client address is another reader: its DESCRIBE lease is not handed to A's SETUP
    other = leases.keys.token("HS256", sub="u-rtsp2", plan="free", role="viewer", camera_id="cam1")
    assert ask(leases, token=other, id="X-conn", ip="192.0.2.7").status_code == 200
    assert ask(leases, token=other, id="Y-session", ip="192.0.2.8").status_code == 200
    assert sorted(held(leases, "u-rtsp2")) == ["X-conn", "Y-session"]
    # WebRTC readers make one call each: nothing changes for them
    web = leases.keys.token("HS256", sub="u-web", plan="free", role="viewer", camera_id="cam1")
    for i in range(2):
        assert ask(leases, token=web, id=f"w{i}", protocol="webrtc").status_code == 200
    assert ask(leases, token=web, id="w2", protocol="webrtc").status_code == 429
    no_alerts(leases)


def mediamtx_hooks(ngx):
    """conf/mediamtx.yml's runOnRead / runOnUnread as MediaMTX runs them: split like a shell
    command line, $MTX_READER_ID expanded by MediaMTX, vms at this test's nginx; the renewal
    interval (10 s against a 30 s TTL) scaled down to the 3 s TTL of this test."""
    import shlex
    import yaml
    with open(os.path.join(os.environ.get("VMS_ROOT", "."), "conf/mediamtx.yml")) as f:
        d = yaml.safe_load(f)["pathDefaults"]
    assert d["runOnReadRestart"] is False

    def cmd(text, reader):
        text = text.replace("http://127.0.0.1:8080", f"http://127.0.0.1:{ngx.port}")
        return [p.replace("$MTX_READER_ID", reader) for p in shlex.split(text)]
    read = lambda reader: cmd(d["runOnRead"].replace("sleep 10", "sleep 1"), reader)
    unread = lambda reader: cmd(d["runOnUnread"], reader)
    assert "sleep 10" in d["runOnRead"]
    return read, unread


@pytest.fixture
def short_leases(stack):
    return leased_nginx(stack, LIMIT_STREAM_TTL="3s")


def reader_call(ngx, reader, what, source="127.0.0.1"):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", ngx.port, timeout=5, source_address=(source, 0))
    c.request("POST", f"/api/auth/readers/{reader}/{what}", body=b"")
    resp = c.getresponse()
    body = resp.read()
    c.close()
    return resp.status, json.loads(body) if body else None


def test_mediamtx_hooks_renew_a_playing_reader_and_release_a_stopped_one(short_leases):
    import signal
    ngx = short_leases
    read, unread = mediamtx_hooks(ngx)
    tok = ngx.keys.token("HS256", sub="u-hook", plan="free", role="viewer", camera_id="cam1")
    assert rtsp_reader(ngx, tok, "A") == (200, 200)
    assert rtsp_reader(ngx, tok, "B") == (200, 200)
    # A plays with MediaMTX's runOnRead running; B's reader has no hook: its lease lapses
    hook = subprocess.Popen(read(rid("A-session")), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 3 * 3 + 1
        while time.monotonic() < deadline:       # three TTLs: renewed, not re-admitted
            assert "A-session" in held(ngx, "u-hook")
            time.sleep(0.5)
        assert held(ngx, "u-hook") == ["A-session"]
        assert hook.poll() is None
        assert rtsp_reader(ngx, tok, "C") == (200, 200)
        assert ask(ngx, token=tok, id="D-conn").status_code == 429
        # the reader stops: MediaMTX interrupts runOnRead and runs runOnUnread
        os.killpg(hook.pid, signal.SIGINT)
        hook.wait(timeout=5)
    finally:
        if hook.poll() is None:
            os.killpg(hook.pid, signal.SIGKILL)
    subprocess.run(unread(rid("A-session")), check=True, timeout=10)
    assert held(ngx, "u-hook") == ["C-session"]
    assert rtsp_reader(ngx, tok, "D") == (200, 200)
    # a renewal hook whose reader holds no lease stops by itself (vms answers 404; run() would
    # raise TimeoutExpired if it went on)
    subprocess.run(read(rid("nobody")), timeout=10, capture_output=True)
    assert reader_call(ngx, rid("nobody"), "renew") == (404, {"error": "no_lease",
                                                             "message": "this reader holds no stream lease"})
    assert reader_call(ngx, rid("C-session"), "release") == (200, {"released": True})
    assert reader_call(ngx, rid("C-session"), "release") == (200, {"released": False})
    assert held(ngx, "u-hook") == ["D-session"]
    no_alerts(ngx)


def test_reader_hooks_only_from_allowed_hosts(short_leases):
    ngx = short_leases
    tok = ngx.keys.token("HS256", sub="u-far", plan="free", role="viewer", camera_id="cam1")
    assert rtsp_reader(ngx, tok, "A") == (200, 200)
    # another address (127.0.0.2 is loopback too, but not the allowed media server's)
    status, body = reader_call(ngx, rid("A-session"), "release", source="127.0.0.2")
    assert status == 403 and "error" in body
    assert held(ngx, "u-far") == ["A-session"]
    # ids are UUIDs: anything else is no reader route
    assert requests.post(ngx.url("/api/auth/readers/..%2f..%2fetc/renew"), timeout=5).status_code == 404
    assert requests.get(ngx.url(f"/api/auth/readers/{rid('A-session')}/renew"), timeout=5).status_code == 405


def test_rtmp_update_renews_and_play_done_releases(short_leases):
    ngx = short_leases
    viewer = ngx.keys.token("HS256", sub="u-rtmpu", plan="free", role="viewer", camera_id="cam1")
    play = dict(BASE_RTMP, name="cam1", args=f"token={viewer}")
    assert rtmp_callback(ngx, **play, call="play", clientid="7", start="-2000", duration="0", reset="0").status_code == 200
    assert rtmp_callback(ngx, **play, call="play", clientid="8", start="-2000", duration="0", reset="0").status_code == 200
    # nginx-rtmp's on_update for client 7 every second (10 s in the stack) keeps its lease
    deadline = time.monotonic() + 3 * 3 + 1
    while time.monotonic() < deadline:
        assert rtmp_callback(ngx, **play, call="update_play", clientid="7", time="5", timestamp="5000").status_code == 200
        time.sleep(1)
    assert held(ngx, "u-rtmpu") == ["rtmp:127.0.0.1:7"]
    # on_play_done gives it back at once
    assert rtmp_callback(ngx, **play, call="play_done", clientid="7").status_code == 200
    assert held(ngx, "u-rtmpu") == []
    # an update of a client whose user is over the limit ends that client (nginx-rtmp drops it)
    for cid in ("1", "2"):
        assert rtmp_callback(ngx, **play, call="play", clientid=cid, start="-2000", duration="0", reset="0").status_code == 200
    assert rtmp_callback(ngx, **play, call="update_play", clientid="3", time="5", timestamp="5000").status_code == 429
    # a stream token that expired while its player plays does not end the session (an RTMP
    # player cannot renew it): the update is judged as of the session's start (nginx-rtmp's time=)
    now = int(time.time())
    late = ngx.keys.token("HS256", sub="u-rtmpx", plan="free", role="viewer", camera_id="cam1",
                          iat=now - 700, exp=now - 60)
    lplay = dict(BASE_RTMP, name="cam1", args=f"token={late}", clientid="11")
    assert rtmp_callback(ngx, **lplay, call="update_play", time="650", timestamp="650000").status_code == 200
    assert held(ngx, "u-rtmpx") == ["rtmp:127.0.0.1:11"]
    # ... but a session said to have begun after the token expired is refused
    assert rtmp_callback(ngx, **lplay, call="update_play", time="5", timestamp="5000").status_code == 401
    assert rtmp_callback(ngx, **lplay, call="play_done").status_code == 200
    assert held(ngx, "u-rtmpx") == []
    # a revoked token ends its session at the next update
    revoked = ngx.keys.token("HS256", sub="u-rtmpv", plan="free", role="viewer", camera_id="cam1", jti="gone-1")
    rplay = dict(BASE_RTMP, name="cam1", args=f"token={revoked}", clientid="9")
    assert rtmp_callback(ngx, **rplay, call="play", start="-2000", duration="0", reset="0").status_code == 200
    redis_cli(ngx.redis, "SET", "vms:revoked:gone-1", "1", "EX", "60")
    import vmsstack     # revocation answers are cached for vms_auth_revocation_cache (5 s)
    vmsstack.wait_for("the revoked token's update refused", lambda: rtmp_callback(
        ngx, **rplay, call="update_play", time="5", timestamp="5000").status_code in (401, 403), 15)
    assert rtmp_callback(ngx, **dict(rplay, args=""), call="play_done").status_code == 401
    no_alerts(ngx)


# ---- player sessions: media requests belong to a leased session (#20 items 4-5, #11) -------------



def live_hls(ngx, cam="cam1", seconds=3):
    """A live-style HLS (1 s MPEG-TS segments named N.ts, as nginx-rtmp writes them) under the
    nginx prefix where live.conf serves it.  nginx-rtmp's hls_cleanup walks that tree and removes
    stale files and empty directories: the files are made elsewhere, dated an hour ahead (never
    stale while the test runs) and the directory is renamed into place whole."""
    work = os.path.join(ngx.prefix, f"hls-make-{cam}")
    os.makedirs(work, exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                    f"testsrc=size=160x120:rate=10:duration={seconds}", "-c:v", "libx264", "-g", "10",
                    "-f", "hls", "-hls_time", "1", "-hls_list_size", "0",
                    "-hls_segment_filename", os.path.join(work, "%d.ts"), os.path.join(work, "index.m3u8")],
                   check=True, timeout=120)
    ahead = time.time() + 3600
    for f in os.listdir(work):
        os.utime(os.path.join(work, f), (ahead, ahead))
    d = os.path.join(ngx.prefix, "hls", cam)
    os.makedirs(os.path.dirname(d), exist_ok=True)
    os.rename(work, d)
    return d


def session_of(playlist_text):
    """The vms_session parameter of every media URI a playlist lists (they are all the same)."""
    found = set(re.findall(r"[?&]vms_session=([^&\"\s]+)", playlist_text))
    assert len(found) == 1, playlist_text
    return found.pop()


def sign(key_file, scope, user, sid, exp):
    """The session parameter as docs/limit.md specifies it, made independently of nginx."""
    with open(key_file, "rb") as f:
        key = f.read().rstrip(b"\r\n\t ")
    msg = b"vms-session-v1"
    for part in (scope, user, sid, str(exp)):
        b = part.encode()
        msg += len(b).to_bytes(8, "big") + b
    mac = base64.urlsafe_b64encode(hmac.new(key, msg, hashlib.sha256).digest()[:16]).rstrip(b"=")
    return f"{exp}.{mac.decode()}.{sid}"


def get(ngx, path, tok=None, **kw):
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    return requests.get(ngx.url(path), headers=headers, timeout=10, **kw)


def frames_read(url, tok=None):
    """ffmpeg reads url end to end (playlist, then every segment); returns the frames decoded."""
    cmd = ["ffmpeg", "-v", "error", "-nostdin"]
    if tok:
        cmd += ["-headers", f"Authorization: Bearer {tok}\r\n"]
    r = subprocess.run(cmd + ["-i", url, "-map", "0:v:0", "-f", "null", "-", "-progress", "pipe:1"],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    return int(re.findall(r"^frame=(\d+)", r.stdout, re.M)[-1])


def test_live_segments_need_the_signed_session_of_a_leased_playlist(leases):
    live_hls(leases)
    toks = [leases.keys.token("HS256", sub="u-seg", plan="free", role="viewer", camera_id="cam1",
                              jti=f"tile-{i}") for i in range(3)]
    first, second = (get(leases, "/live/cam1/index.m3u8", t) for t in toks[:2])
    assert first.status_code == 200 and second.status_code == 200
    uris = [line for line in first.text.splitlines() if line and not line.startswith("#")]
    assert uris and all(re.fullmatch(r"\d+\.ts\?vms_session=\S+", u) for u in uris), first.text
    sess = session_of(first.text)
    assert sess.endswith(".tile-0") and session_of(second.text).endswith(".tile-1")

    # the third player is refused on the playlist, and gets no signature to play with
    refused = get(leases, "/live/cam1/index.m3u8", toks[2])
    assert refused.status_code == 429 and "vms_session" not in refused.text
    # ... so its segment requests are refused too (before: 200 for every segment)
    for path in ("/live/cam1/0.ts", "/live/cam1/1.ts?vms_session=", "/live/cam1/0.ts?vms_session=x.y.z"):
        r = get(leases, path, toks[2])
        assert r.status_code == 403, path
        assert r.headers["Content-Type"] == "application/json"
        assert r.json()["error"] in ("session_required", "invalid_session")
    assert held(leases, "u-seg") == ["tile-0", "tile-1"]

    # the admitted player's segments play
    ok = get(leases, f"/live/cam1/0.ts?vms_session={sess}", toks[0])
    assert ok.status_code == 200 and ok.content[:1] == b"\x47"          # MPEG-TS sync byte

    # tampered: another MAC, another session id, another camera, another user, expired
    exp, mac, sid = sess.split(".", 2)
    flip = mac[:5] + ("A" if mac[5] != "A" else "B") + mac[6:]
    key = leases.vars["LIMIT_SESSION_KEY_FILE"]
    other = leases.keys.token("HS256", sub="u-other", plan="free", role="viewer", camera_id="cam1")
    cases = {
        f"{exp}.{flip}.{sid}": "invalid_session",
        f"{exp}.{mac}.tile-2": "invalid_session",                       # someone else's session
        f"{int(exp) + 3600}.{mac}.{sid}": "invalid_session",            # a longer life
        sign(key, "cam2", "u-seg", "tile-0", int(time.time()) + 60): "invalid_session",
        sign(key, "cam1", "u-seg", "tile-0", int(time.time()) - 1): "session_expired",
    }
    for param, error in cases.items():
        r = get(leases, f"/live/cam1/0.ts?vms_session={param}", toks[0])
        assert (r.status_code, r.json()["error"]) == (403, error), param
    r = get(leases, f"/live/cam1/0.ts?vms_session={sess}", other)
    assert (r.status_code, r.json()["error"]) == (403, "invalid_session")
    # a parameter signed as the docs say is accepted: the format is what docs/limit.md states
    mine = sign(key, "cam1", "u-seg", "tile-0", int(time.time()) + 60)
    assert get(leases, f"/live/cam1/1.ts?vms_session={mine}", toks[0]).status_code == 200

    # ffmpeg plays the live playlist end to end: every segment request carries the session
    assert frames_read(leases.url("/live/cam1/index.m3u8"), toks[0]) >= 20
    assert held(leases, "u-seg") == ["tile-0", "tile-1"]
    # nothing of the parameter reaches the error log
    with open(leases.error_log) as f:
        log = f.read()
    assert mac not in log and flip not in log
    no_alerts(leases)


def test_media_request_takes_the_lease_on_another_node(leases, stack):
    """Two nginx nodes reading the same key file: a session admitted on one plays on the other,
    which takes the lease once (Redis) and renews it from its own zone after that."""
    live_hls(leases)
    node2 = stack.nginx(name="nginx-2", vars={"REDIS_ADDR": leases.redis.addr, "KAFKA_BROKERS": "127.0.0.1:9",
                                              "AUTH_KEYS": leases.keys.nginx_lines()})
    live_hls(node2)
    redis_connected(node2)
    tok = leases.keys.token("HS256", sub="u-two", plan="free", role="viewer", camera_id="cam1", jti="p1")
    sess = session_of(get(leases, "/live/cam1/index.m3u8", tok).text)
    assert get(node2, f"/live/cam1/0.ts?vms_session={sess}", tok).status_code == 200
    assert get(node2, f"/live/cam1/1.ts?vms_session={sess}", tok).status_code == 200
    assert held(leases, "u-two") == ["p1"]
    # the lease ended (released): the next segment takes it again while the plan has room ...
    assert requests.post(leases.url("/live/cam1/release"), headers={"Authorization": f"Bearer {tok}"},
                         timeout=5).json() == {"released": True}
    assert held(leases, "u-two") == []
    others = [leases.keys.token("HS256", sub="u-two", plan="free", role="viewer", camera_id="cam1",
                                jti=f"q{i}") for i in range(2)]
    assert [get(leases, "/live/cam1/index.m3u8", t).status_code for t in others] == [200, 200]
    # ... a late segment of the player that released it does not take it again (403) ...
    r = get(leases, f"/live/cam1/0.ts?vms_session={sess}", tok)
    assert r.status_code == 403 and r.json()["error"] == "session_ended"
    # ... and a session that is not leased (here: ended with its idle TTL) goes through admission
    # in Redis on the segment, refused with the limit's 429 while the plan is full
    redis_cli(leases.redis, "DEL", "vms:released:u-two:p1")
    r = get(leases, f"/live/cam1/0.ts?vms_session={sess}", tok)
    assert r.status_code == 429 and r.json()["error"] == "limit_exceeded"
    assert held(leases, "u-two") == ["q0", "q1"]
    no_alerts(leases)
    no_alerts(node2)


def test_stream_token_refresh_at_the_limit_keeps_playing(leases):
    """The live player moves to a new stream token before the old one expires: it releases the old
    token's lease, then its next requests carry the new token.  A segment of the old playlist (old
    session in its URI) fetched in between must not take the released session again, or the new
    token's playlist would be refused at 2 of 2."""
    live_hls(leases)
    mk = lambda jti: leases.keys.token("HS256", sub="u-refresh", plan="free", role="viewer",  # noqa: E731
                                       camera_id="cam1", jti=jti)
    a, b, a2 = mk("a"), mk("b"), mk("a2")
    old = session_of(get(leases, "/live/cam1/index.m3u8", a).text)
    assert get(leases, "/live/cam1/index.m3u8", b).status_code == 200
    assert requests.post(leases.url("/live/cam1/release"), headers={"Authorization": f"Bearer {a}"},
                         timeout=5).json() == {"released": True}
    # a request the player sent with the old token before the switch, arriving after the release:
    # refused, and the released session is not taken again (before: a second lease, then 429)
    r = get(leases, f"/live/cam1/0.ts?vms_session={old}", a)
    assert r.status_code == 403 and r.json()["error"] == "session_ended"
    assert held(leases, "u-refresh") == ["b"]
    # a late segment of the old playlist, with the new token: served, as the new token's session
    assert get(leases, f"/live/cam1/0.ts?vms_session={old}", a2).status_code == 200
    assert held(leases, "u-refresh") == ["a2", "b"]
    assert get(leases, "/live/cam1/index.m3u8", a2).status_code == 200
    assert get(leases, f"/live/cam1/1.ts?vms_session={old}", a2).status_code == 200
    assert held(leases, "u-refresh") == ["a2", "b"]
    # the released token itself gets no new lease through an old segment URI
    r = get(leases, f"/live/cam1/1.ts?vms_session={old}", a)
    assert r.status_code == 403 and r.json()["error"] == "session_ended"
    no_alerts(leases)


def test_a_playlist_served_as_media_hands_on_a_fresh_parameter(stack):
    """A variant playlist behind a multivariant one (MediaMTX's HLS shape) is a `media` request: it
    needs the parameter, and $vms_limit_session re-signs the same session for its own URIs."""
    keys = Keys(stack)
    r = stack.redis()
    variant_location = """
location ~ "^/t/variant/(?<t_cam>cam1)/stream\\.m3u8$" {
    vms_auth on;
    vms_limit_streams media;
    vms_limit_session_scope $t_cam;
    vms_limit_session_ttl 30s;
    alias PLAYLIST;
    types { application/vnd.apple.mpegurl m3u8; }
    sub_filter_types application/vnd.apple.mpegurl;
    sub_filter_once off;
    sub_filter ".ts" ".ts?vms_session=$vms_limit_session";
}""".replace("PLAYLIST", os.path.join(stack.path("nginx"), "hls", "cam1", "index.m3u8"))
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9", "AUTH_KEYS": keys.nginx_lines(),
                            "EXTRA_SERVER": variant_location})
    ngx.redis = r
    redis_connected(ngx)
    live_hls(ngx)
    tok = keys.token("HS256", sub="u-var", plan="free", role="viewer", camera_id="cam1", jti="v1")
    first = session_of(get(ngx, "/live/cam1/index.m3u8", tok).text)
    assert get(ngx, "/t/variant/cam1/stream.m3u8", tok).status_code == 403
    variant = get(ngx, f"/t/variant/cam1/stream.m3u8?vms_session={first}", tok)
    assert variant.status_code == 200
    fresh = session_of(variant.text)
    assert fresh.split(".", 2)[2] == "v1" and int(fresh.split(".")[0]) < int(first.split(".")[0])
    assert get(ngx, f"/live/cam1/0.ts?vms_session={fresh}", tok).status_code == 200
    assert held(ngx, "u-var") == ["v1"]
    no_alerts(ngx)


def test_one_user_one_lease_set_whatever_the_sub(leases):
    """A sub with '+', spaces and '%' names one lease set for MediaMTX reads and HLS (#20 item 5)."""
    live_hls(leases)
    sub = "ana+b c%2B/é"
    hls = [leases.keys.token("HS256", sub=sub, plan="free", role="viewer", camera_id="cam1", jti=f"h{i}")
           for i in range(2)]
    mtx = leases.keys.token("HS256", sub=sub, plan="free", role="viewer", camera_id="cam1")
    assert rtsp_reader(leases, mtx, "reader-1") == (200, 200)
    assert get(leases, "/live/cam1/index.m3u8", hls[0]).status_code == 200
    # the plan's 2 streams are reached, whichever path asks next
    assert get(leases, "/live/cam1/index.m3u8", hls[1]).status_code == 429
    assert ask(leases, token=mtx, id="reader-2-conn").status_code == 429
    assert held(leases, sub) == ["h0", "reader-1-session"]
    assert redis_cli(leases.redis, "KEYS", "vms:leases:*").splitlines() == [f"vms:leases:{sub}"]
    no_alerts(leases)


def test_limit_errors_are_json(leases):
    live_hls(leases)
    # a token without sub cannot hold a user's lease: 403, JSON
    svc = leases.keys.token("HS256", sub=None, role="viewer", camera_id="cam1")
    r = get(leases, "/live/cam1/index.m3u8", svc)
    assert r.status_code == 403 and r.json()["error"] == "no_user"
    tok = leases.keys.token("HS256", sub="u-json", role="viewer", camera_id="cam1")
    r = requests.get(leases.url("/live/cam1/release"), headers={"Authorization": f"Bearer {tok}"}, timeout=5)
    assert r.status_code in (403, 405)     # limit_except answers first for GET
    r = get(leases, "/live/cam1/0.ts", tok)
    assert r.status_code == 403 and r.json() == {
        "error": "session_required",
        "message": "media requests need the vms_session parameter of their playlist"}


def test_tokens_without_jti_play_live_one_session_per_token(leases):
    """README's `./build.sh token` mints no jti: the token itself is the player session (#11)."""
    live_hls(leases)
    now = int(time.time())
    readme = jwt_readme(leases, now)
    first = get(leases, "/live/cam1/index.m3u8", readme)
    assert first.status_code == 200, first.text
    # the player reloads its live playlist: the same session, no second lease
    again = get(leases, "/live/cam1/index.m3u8", readme)
    assert again.status_code == 200
    sid = session_of(first.text).split(".", 2)[2]
    assert session_of(again.text).split(".", 2)[2] == sid and sid.startswith("~")
    assert held(leases, "dev") == [sid]
    assert frames_read(leases.url("/live/cam1/index.m3u8"), readme) >= 20
    assert held(leases, "dev") == [sid]
    no_alerts(leases)


def jwt_readme(ngx, now):
    """A token as `./build.sh token --role admin` makes it (tests/tools/vmsstack.py token())."""
    import jwt
    with open(ngx.vars["JWT_SECRET_FILE"]) as f:
        key = f.read().strip()
    return jwt.encode({"sub": "dev", "role": "admin", "plan": "pro", "tenant_id": "dev",
                       "iat": now, "exp": now + 3600}, key, algorithm="HS256")


def test_playback_with_a_token_without_jti(stack):
    """README's token plays recordings: HLS playlist, its media, /get (#11; before: HTML 400 from the
    lease step, and the playback page showed "Falha na reprodução")."""
    import datetime as dt
    import playback_fixtures as pf
    t0 = dt.datetime(2026, 11, 23, 23, 59, 0, tzinfo=dt.timezone.utc)
    cam = os.path.join(stack.path("recordings"), "cam1")
    pf.write_segments(cam, t0, 30, seg_seconds=10, workdir=stack.work)
    pf.rebuild(stack.bin("vms-index"), cam)
    ngx = pf.start_nginx(stack)
    readme = jwt_readme(ngx, int(time.time()))
    start, end = pf.iso(t0), pf.iso(t0 + dt.timedelta(seconds=20))
    q = f"start={urllib.parse.quote(start)}&end={urllib.parse.quote(end)}"

    r = get(ngx, f"/api/playback/cam1?{q}", readme)
    assert r.status_code == 200, r.text
    sess = session_of(r.text)
    # a player re-reading the playlist with the same token is the same session
    assert session_of(get(ngx, f"/api/playback/cam1?{q}", readme).text).split(".", 2)[2] == sess.split(".", 2)[2]
    media = [line for line in r.text.splitlines() if line.startswith("cam1/media/")]
    assert media and all(line.endswith(f"&vms_session={sess}") for line in media)
    ok = requests.get(ngx.url("/api/playback/" + media[0]), timeout=10,
                      headers={"Authorization": f"Bearer {readme}", "Range": "bytes=0-99"})
    assert ok.status_code == 206
    bare = get(ngx, "/api/playback/" + media[0].split("?")[0], readme)
    assert bare.status_code == 403 and bare.json()["error"] == "session_required"
    # ffmpeg, token in the URL as the playback page's player sends it: playlist and every segment
    url = ngx.url(f"/api/playback/cam1?{q}&jwt={readme}")
    assert frames_read(url) >= 20 * pf.FPS - 2
    # MediaMTX's /get with the same token
    g = get(ngx, f"/get?path=cam1&start={urllib.parse.quote(start)}&duration=5", readme)
    assert g.status_code == 200 and g.content[4:8] == b"ftyp"
    no_alerts(ngx)


def test_real_live_path_plays_with_sessions_and_refuses_the_429d_player(stack, build_dir):
    """camsim → vmsd relay → nginx-rtmp live HLS → nginx: ffmpeg plays the live playlist with a
    stream token (segments carry the signed session), and a third player of a free user is refused
    on the playlist and on the segments nginx-rtmp is writing."""
    from vmsdtest import conf_text, wait
    keys = Keys(stack)
    r = stack.redis()
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9", "AUTH_KEYS": keys.nginx_lines()})
    ngx.redis = r
    redis_connected(ngx)
    cams = stack.camsim(cameras=1)
    vmsd = stack.vmsd(text=conf_text(cams, ["cam1"], extra={
        "relay": f"rtmp://127.0.0.1:{ngx.rtmp_port}/live/%id", "relay_token_secret_file": stack.secret_file()}))
    playlist = os.path.join(ngx.prefix, "hls", "cam1", "index.m3u8")
    wait("live HLS of cam1", lambda: os.path.exists(playlist) and open(playlist).read().count(".ts") >= 3, svc=vmsd)

    toks = [keys.token("HS256", sub="u-real", plan="free", role="viewer", camera_id="cam1", jti=f"r{i}")
            for i in range(3)]
    text = get(ngx, "/live/cam1/index.m3u8", toks[0]).text
    segs = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert segs and all(".ts?vms_session=" in s for s in segs), text
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-headers", f"Authorization: Bearer {toks[0]}\r\n",
           "-i", ngx.url("/live/cam1/index.m3u8"), "-t", "3", "-map", "0:v:0", "-f", "null", "-",
           "-progress", "pipe:1"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(re.findall(r"^frame=(\d+)", out.stdout, re.M)[-1]) > 0
    assert get(ngx, "/live/cam1/index.m3u8", toks[1]).status_code == 200
    assert get(ngx, "/live/cam1/index.m3u8", toks[2]).status_code == 429
    bare = segs[-1].split("?")[0]
    assert get(ngx, f"/live/cam1/{bare}", toks[2]).status_code == 403
    assert held(ngx, "u-real") == ["r0", "r1"]
    no_alerts(ngx)
