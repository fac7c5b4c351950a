"""No credential in any log (issue #20 item 3; docs/ARCHITECTURE.md, "Logs").

One representative session against a whole stack (camsim → vmsd relay with its publish token →
nginx-rtmp → live HLS; vms_auth, vms_limit, vms_playback; Redis): tokens in headers, in ?jwt= and
?token= query arguments, in MediaMTX bodies; refusals, not-found media, an oversized token, a dead
upstream.  Then every log under the stack's work dir is searched for JWT-shaped strings and for
the stack's secrets (tests/system/logscan.py; the same scan runs at the teardown of every `stack`
fixture of the suite, tests/system/conftest.py)."""
import datetime as dt
import json
import os
import re
import uuid
import time
import urllib.parse

import pytest
import requests

import logscan
import vmsstack
import playback_fixtures as pf
from test_auth_helpers import bearer
from helpers import hls_ready
from vmsdtest import conf_text, wait

T0 = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=dt.timezone.utc)


def mint(stack, **claims):
    import jwt
    with open(stack.secret_file()) as f:
        secret = f.read().strip()
    now = int(time.time())
    payload = {"sub": "alice", "exp": now + 600, "iat": now, "jti": os.urandom(8).hex(),
               "role": "viewer", "plan": "pro"}
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm="HS256")


def test_a_full_session_leaves_no_token_in_any_log(stack, build_dir):
    mods = set(os.listdir(os.path.join(build_dir, "modules")))
    if not {f"ngx_http_vms_{m}_module.so" for m in ("auth", "limit", "playback", "log")} <= mods:
        pytest.skip("nginx modules not built")
    r = stack.redis()
    cams = stack.camsim(cameras=1)
    vmsd = stack.vmsd(text=conf_text(cams, [], redis=r))
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9",
                            "VMSD_API": f"127.0.0.1:{vmsd.port}"})
    relay = stack.vmsd(name="vmsd-relay", text=conf_text(cams, ["cam1"], extra={
        "relay": f"rtmp://127.0.0.1:{ngx.rtmp_port}/live/%id",
        "relay_token_secret_file": stack.secret_file()}))
    rec = stack.path("recordings", "cam1")
    pf.write_segments(rec, T0, 20, seg_seconds=10, workdir=stack.work)
    pf.rebuild(stack.bin("vms-index"), rec)

    user = mint(stack, cameras=["cam1"], permissions=["view_stream", "playback"])
    admin = mint(stack, sub="root", role="admin")
    used = [user, admin]
    s = requests.Session()

    def get(path, **kw):
        return s.get(ngx.url(path), timeout=10, **kw)

    # auth: whoami, a stream token, a check, revocation of another token
    assert get("/api/auth/whoami", headers=bearer(user)).status_code == 200
    resp = s.post(ngx.url("/api/auth/stream-token"), json={"camera_id": "cam1"}, headers=bearer(user))
    assert resp.status_code == 200, resp.text
    stream = resp.json()["token"]
    used.append(stream)
    assert get(f"/api/auth/check/cam1?jwt={user}").status_code == 200
    victim = mint(stack)
    used.append(victim)
    assert s.post(ngx.url("/api/auth/revoke"), json={"token": victim}, headers=bearer(victim)).status_code == 200
    assert get(f"/api/auth/check/cam1?token={victim}").status_code == 401

    # live: the relay publishes with its token; a player reads playlist and segments by query token
    wait("live HLS of cam1", lambda: hls_ready(ngx, "cam1"), svc=relay)
    playlist = get(f"/live/cam1/index.m3u8?jwt={stream}")
    assert playlist.status_code == 200
    # segment URIs carry the playlist's signed player session (vms_limit, docs/limit.md)
    seg = next(line for line in playlist.text.splitlines() if ".ts?vms_session=" in line)
    sess = seg.split("?", 1)[1]
    assert get(f"/live/cam1/{seg}&jwt={stream}").status_code == 200
    assert get(f"/live/cam1/{seg}", headers=bearer(stream)).status_code == 200
    assert get(f"/live/cam1/999999.ts?{sess}&jwt={stream}").status_code == 404      # error.log: open() failed
    assert s.post(ngx.url(f"/live/cam1/release?jwt={stream}")).status_code == 200
    assert get(f"/api/cameras?jwt={user}").status_code == 200
    assert get(f"/api/cameras/cam1/snapshot.jpg?jwt={user}").status_code in (200, 404)

    # playback: playlist, its media (token carried over), timeline, MediaMTX /list and /get
    start = pf.iso(T0)
    end = pf.iso(T0 + dt.timedelta(seconds=10))
    pl = get(f"/api/playback/cam1?start={start}&end={end}&jwt={user}")
    assert pl.status_code == 200, pl.text
    media = next(line for line in pl.text.splitlines() if line and not line.startswith("#"))
    assert s.get(urllib.parse.urljoin(pl.url, media), timeout=10).status_code == 200
    assert get(f"/api/playback/cam1/timeline?start={start}&end={pf.iso(T0 + dt.timedelta(seconds=20))}",
               headers=bearer(user)).status_code == 200
    assert get(f"/list?path=cam1&jwt={user}").status_code == 200
    assert get(f"/get?path=cam1&start={start}&duration=5&token={user}").status_code == 200

    # MediaMTX: token in the body, in the query field, as the password
    def ask(**fields):
        body = {"ip": "127.0.0.1", "user": "", "password": "", "token": "", "action": "read",
                "path": "cam1", "protocol": "hls", "id": None, "query": ""}
        body.update(fields)
        return s.post(ngx.url(f"/api/auth/validate-stream?token={stream}"), json=body)
    assert ask(token=stream, id=str(uuid.uuid4())).status_code == 200
    assert ask(query=f"jwt={stream}", id=str(uuid.uuid4())).status_code == 200
    assert ask(user="x", password=stream, id=str(uuid.uuid4())).status_code == 200

    # errors: expired, forged and oversized tokens, wrong camera, a dead upstream
    expired = mint(stack, exp=int(time.time()) - 3600)
    forged = stream[:-4] + ("AAAA" if not stream.endswith("AAAA") else "BBBB")
    used += [expired, forged]
    assert get(f"/api/auth/check/cam1?jwt={expired}").status_code == 401
    assert get("/api/auth/check/cam1", headers=bearer(forged)).status_code == 401
    assert get(f"/api/auth/check/cam2?jwt={user}").status_code == 403
    big = mint(stack, pad="x" * 9000)
    assert get("/api/auth/check/cam1", headers=bearer(big)).status_code == 413
    assert get(f"/api/auth/check/cam1?jwt={big}&x=" + "y" * 20000).status_code == 414
    assert get("/api/auth/check/cam1", headers={"Authorization": "Bearer " + user + "x" * (1 << 20)}).status_code == 413
    assert get(f"/nothing/here?jwt={user}", headers={"Referer": ngx.url(f"/player.html?jwt={user}")}).status_code == 404
    vmsd.stop()
    assert get(f"/api/cameras?jwt={user}").status_code == 502                # (no query goes upstream)
    assert get(f"/api/analytics/ai-cost?jwt={admin}").status_code == 502     # error.log: upstream URL
    with open(ngx.error_log) as f:
        errors = f.read()
    assert "upstream:" in errors and "/api/analytics/ai-cost?jwt=***" in errors   # the context, redacted
    assert 'request: "GET /live/cam1/999999.ts?vms_session=***&jwt=*** HTTP/1.1"' in errors

    # the access log has each request with a trace id and without credentials
    with open(os.path.join(ngx.prefix, "logs", "access.log")) as f:
        access = [json.loads(line) for line in f if line.startswith("{")]
    assert len(access) >= 30
    assert all(len(a["trace_id"]) == 32 for a in access)
    assert any(a["path"] == "/api/auth/check/cam1" and a["args"] == "jwt=[redacted]" for a in access)
    assert any(a["path"] == "/get" and "token=[redacted]" in a["args"] and "path=cam1" in a["args"]
               for a in access)

    relay.stop()
    ngx.stop()
    # the signed player sessions (their MAC part) are credentials too: in no log
    macs = [m.split(".")[1] for m in re.findall(r"vms_session=([^&\"\s]+)", playlist.text + pl.text)]
    assert macs
    found = logscan.scan(stack.work, extra_secrets=macs)
    assert found == [], logscan.report(found)
    # the scan would have seen them: the tokens are JWT-shaped and the secret is long
    assert all(logscan.JWT.search(t.encode()) for t in used)
    assert logscan.secrets_of(stack.work)


def test_access_log_redacts_every_credential_argument(stack):
    """The access log's `args`: each credential argument's value [redacted] (any case, anywhere in
    the query), other arguments kept; more than four, or a JWT under another name, and the whole
    query is [redacted]."""
    ngx = stack.nginx(vars={"REDIS_ADDR": "127.0.0.1:9", "KAFKA_BROKERS": "127.0.0.1:9",
                            "LIMIT_FAIL_RATE": "off"})   # not about rate limits: 5 refusals
    jwtish = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln"
    cases = [
        ("jwt=abc&path=cam1", "jwt=[redacted]&path=cam1"),
        ("path=cam1&JWT=abc&Token=def&x=1", "path=cam1&JWT=[redacted]&Token=[redacted]&x=1"),
        ("a=1&access_token=s&sig=t&password=u&secret=v", "a=1&access_token=[redacted]&sig=[redacted]"
         "&password=[redacted]&secret=[redacted]"),
        ("token=1&token=2&token=3&token=4&token=5", "[redacted]"),
        (f"q={jwtish}", "[redacted]"),
        ("mytoken=abc&tokens=1", "mytoken=abc&tokens=1"),
    ]
    for query, _ in cases:
        requests.get(ngx.url(f"/api/auth/check/cam1?{query}"), timeout=5)
    def logged():
        with open(os.path.join(ngx.prefix, "logs", "access.log")) as f:
            return [json.loads(line)["args"] for line in f if '"/api/auth/check/cam1"' in line]
    # nginx writes a request's line after the client has its answer: wait for all of them
    vmsstack.wait_for("every request logged", lambda: len(logged()) >= len(cases), 10)
    assert logged() == [want for _, want in cases]


def test_error_log_debug_explains_a_request(stack):
    """With ERROR_LOG_LEVEL=debug the modules say what they decided for a request (issue #19 item
    3): vms_auth whose token it verified and that it allowed, vms_limit's steps, vms_playback's job
    from start to answer; a refusal says why."""
    rec = stack.path("recordings")
    pf.write_segments(os.path.join(rec, "cam1"), pf.T0, 20, seg_seconds=10, workdir=stack.work)
    pf.rebuild(stack.bin("vms-index"), os.path.join(rec, "cam1"))
    ngx = pf.start_nginx(stack, extra_vars={"ERROR_LOG_LEVEL": "debug"})
    tok = ngx.token(camera_id="cam1")
    r = ngx.get(f"/api/playback/cam1?start={pf.ts(0)}&end={pf.ts(20)}", headers=bearer(tok))
    assert r.status_code == 200, r.text
    assert ngx.get(f"/api/playback/cam2/timeline?start={pf.ts(0)}&end={pf.ts(20)}",
                   headers=bearer(tok)).status_code == 403
    with open(ngx.error_log) as f:
        text = f.read()
    for line in ('vms_auth: token of "alice" (role viewer, plan pro) verified',
                 "vms_auth: allowed (1 requirements met)",
                 "vms_limit: streams step (mode",
                 f'vms_playback: job 3 for "{rec}/cam1"',
                 "vms_playback: job 3 done: status 0, 0 files, 0 fragments",
                 "vms_auth: refused 403: token does not grant this permission on this camera"):
        assert line in text, line
    # our modules' lines name no credential; nginx's own debug lines print request headers (the
    # Authorization header too, as documented), so this log is removed before the stack's scan
    ours = [ln for ln in text.splitlines() if re.search(r"\bvms_(auth|limit|playback):", ln)]
    assert ours and not any("eyJ" in ln or tok[-20:] in ln for ln in ours)
    assert "eyJ" in text, "nginx's debug lines were expected to show the header"
    ngx.stop()
    os.remove(ngx.error_log)
