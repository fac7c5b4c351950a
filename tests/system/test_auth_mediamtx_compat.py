"""vms_auth as a drop-in for MediaMTX's own authentication (#11, #20): tokens in MediaMTX's claim
format mean what MediaMTX makes of them (internal/auth/jwt_claims.go, conf/jsonwrapper), the
bodies MediaMTX posts to authHTTPAddress (internal/auth/manager.go) are answered for every action
and protocol, path names follow conf.IsValidPathName, and the playback API's auth failures have
MediaMTX's shape (internal/playback/server.go doAuth).  Tokens are minted with PyJWT."""
import base64
import hashlib
import hmac
import json
import os
import time
import uuid

import pytest
import requests

from test_auth_helpers import Keys, b64url, bearer

ACTIONS = ["publish", "read", "playback", "api", "metrics", "pprof"]
PROTOCOLS = ["rtsp", "rtmp", "hls", "webrtc", "srt", "moq"]
MTX_401 = {"status": "error", "error": "authentication error"}


@pytest.fixture(scope="module")
def ngx(tmp_path_factory):
    import vmsstack
    from conftest import BUILD
    st = vmsstack.Stack(BUILD, str(tmp_path_factory.mktemp("vms-auth-mtx-compat")))
    try:
        keys = Keys(st)
        r = st.redis()
        # stream leases are test_stream_leases.py's business: here every authorized read is 200;
        # hundreds of calls and refusals from one address: rate limits are test_ratelimit.py's
        v = {"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9", "AUTH_KEYS": keys.nginx_lines(),
             "AUTH_STREAM_ADMIT": "off", "LIMIT_API_RATE": "off", "LIMIT_FAIL_RATE": "off"}
        n = st.nginx(vars=v)
        n.keys, n.stack, n.start_vars = keys, st, v
        yield n
    finally:
        st.stop()
    # a sanitizer build: a memory error or UB in any nginx of this module fails it
    reports = []
    for root, _, files in os.walk(st.work):
        for f in files:
            if f.endswith(".log"):
                with open(os.path.join(root, f), errors="replace") as fh:
                    text = fh.read()
                if "ERROR: AddressSanitizer" in text or "runtime error:" in text:
                    reports.append(os.path.join(root, f))
    assert reports == []


def mtx_body(action, path, protocol, token="", user="", password="", conn_id=None, query="",
             user_agent=""):
    """The JSON MediaMTX marshals in authenticateHTTP: all ten members, id a UUID or null."""
    return {"ip": "127.0.0.1", "user": user, "password": password, "token": token, "action": action,
            "path": path, "protocol": protocol, "id": conn_id, "query": query, "userAgent": user_agent}


def post(ngx, body):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return requests.post(ngx.url("/api/auth/validate-stream"), data=data,
                         headers={"Content-Type": "application/json"}, timeout=5)


def mediamtx_token(ngx, perms, **claims):
    """A token as a MediaMTX identity server issues it: sub, exp and the permissions claim."""
    claims = dict({"jti": None, "iat": None}, **claims)
    return ngx.keys.token("HS256", mediamtx_permissions=perms, **claims)


# --- the security defect: MediaMTX refuses the whole token --------------------------------------

REJECTED = [
    ([{"action": "read", "paths": "cam1"}], "mediamtx_permissions entry has an unknown field"),
    ([{"action": "read", "path": "cam1"}, {"action": "teleport"}],
     "mediamtx_permissions entry has an unknown action"),
    ([{"action": "Read", "path": "cam1"}], "mediamtx_permissions entry has an unknown action"),
    ([{"Action": "read", "path": "cam1"}], "mediamtx_permissions entry has an unknown field"),
    ([{"action": "read", "path": 1}], "mediamtx_permissions entry path must be a string"),
    (["read"], "mediamtx_permissions entries must be objects"),
    (json.dumps([{"action": "read", "paths": "x"}]), "mediamtx_permissions entry has an unknown field"),
]


@pytest.mark.parametrize("perms,reason", REJECTED)
def test_unknown_field_or_action_rejects_the_whole_token(ngx, perms, reason):
    tok = mediamtx_token(ngx, perms)
    # before the fix, {"paths": "cam1"} left "path" absent (= any path): cam2 was readable
    for path in ("cam1", "cam2"):
        resp = post(ngx, mtx_body("read", path, "rtsp", token=tok, conn_id=str(uuid.uuid4())))
        assert resp.status_code == 401
        assert resp.json() == {"error": "unauthorized", "message": reason}
        assert f'error_description="{reason}"' in resp.headers["WWW-Authenticate"]


def test_rejection_logged_with_reason_without_token(ngx):
    """An nginx of its own, so that vms_auth_log_rate (10 lines/s) never drops one of these."""
    quiet = ngx.stack.nginx(name="nginx-log", vars=ngx.start_vars)
    toks = []
    for perms, reason in REJECTED:
        toks.append(mediamtx_token(ngx, perms))
        assert post(quiet, mtx_body("read", "cam1", "rtsp", token=toks[-1])).status_code == 401
    admin = ngx.keys.token("HS256", role="admin")
    assert post(quiet, mtx_body("read", "../cam1", "rtsp", token=admin)).status_code == 400
    with open(quiet.error_log, errors="replace") as f:
        log = f.read()
    for perms, reason in REJECTED:
        assert f"vms_auth: rejected: {reason}" in log
    assert 'vms_auth: rejected: invalid path name, client: 127.0.0.1, uri: "/api/auth/validate-stream"' in log
    toks.append(admin)
    for tok in toks:
        assert tok not in log and tok.split(".")[1] not in log and tok.split(".")[2] not in log


# --- MediaMTX tokens MediaMTX accepts ------------------------------------------------------------

def test_claim_as_json_string(ngx):
    tok = mediamtx_token(ngx, json.dumps([{"action": "read", "path": "cam1"},
                                          {"action": "publish", "path": "~^site/cam[0-9]+$"}]))
    assert post(ngx, mtx_body("read", "cam1", "rtsp", token=tok)).status_code == 200
    assert post(ngx, mtx_body("read", "cam2", "rtsp", token=tok)).status_code == 403
    assert post(ngx, mtx_body("publish", "site/cam7", "srt", token=tok)).status_code == 200
    assert post(ngx, mtx_body("publish", "site/cam7x", "srt", token=tok)).status_code == 403


def test_regex_outside_re2_grants_nothing(ngx):
    """MediaMTX compiles "~" paths with Go's RE2: lookaround or backreferences never compile there,
    so they grant nothing; PCRE2 would have accepted them."""
    tok = mediamtx_token(ngx, [{"action": "read", "path": "~^(?!secret).*$"},
                               {"action": "read", "path": "~^(cam)\\1$"},
                               {"action": "publish", "path": "~^cam[0-9]+$"}])
    assert post(ngx, mtx_body("read", "cam1", "rtsp", token=tok)).status_code == 403
    assert post(ngx, mtx_body("read", "camcam", "rtsp", token=tok)).status_code == 403
    assert post(ngx, mtx_body("publish", "cam12", "rtsp", token=tok)).status_code == 200
    assert post(ngx, mtx_body("publish", "cam12x", "rtsp", token=tok)).status_code == 403


def test_path_null_means_any_path(ngx):
    tok = mediamtx_token(ngx, [{"action": "read", "path": None}, {"action": "playback"}])
    assert post(ngx, mtx_body("read", "any/cam.9", "webrtc", token=tok)).status_code == 200
    assert post(ngx, mtx_body("playback", "cam3", "", token=tok)).status_code == 200
    assert post(ngx, mtx_body("publish", "cam3", "rtsp", token=tok)).status_code == 403


def test_api_metrics_pprof_ignore_the_path(ngx):
    tok = mediamtx_token(ngx, [{"action": "api", "path": "cam1"}, {"action": "metrics", "path": "~^x$"},
                               {"action": "pprof", "path": None}])
    for action in ("api", "metrics", "pprof"):
        assert post(ngx, mtx_body(action, "", "", token=tok)).status_code == 200
    assert post(ngx, mtx_body("read", "cam1", "rtsp", token=tok)).status_code == 403


def test_entries_that_grant_nothing(ngx):
    """null entries, entries without action and [] are valid in MediaMTX and grant nothing."""
    for perms in ([None, {}, {"path": "cam1"}], [], "[]"):
        tok = mediamtx_token(ngx, perms)
        assert post(ngx, mtx_body("read", "cam1", "rtsp", token=tok)).status_code == 403


def test_token_without_exp_mediamtx_only(ngx):
    """MediaMTX accepts tokens without exp; the validate-stream location (vms_auth_exp optional)
    does too, for MediaMTX tokens, which then grant through mediamtx_permissions alone."""
    tok = ngx.keys.token("HS256", exp=None, role="admin",
                         mediamtx_permissions=[{"action": "read", "path": "cam1"}])
    assert post(ngx, mtx_body("read", "cam1", "rtsp", token=tok)).status_code == 200
    assert post(ngx, mtx_body("read", "cam2", "rtsp", token=tok)).status_code == 403   # not the role
    assert post(ngx, mtx_body("api", "", "", token=tok)).status_code == 403
    vms = ngx.keys.token("HS256", exp=None, role="admin")
    resp = post(ngx, mtx_body("read", "cam1", "rtsp", token=vms))
    assert resp.status_code == 401 and resp.json()["message"] == "token has no exp"
    # elsewhere exp stays required (vms_auth_exp required is the default)
    resp = requests.get(ngx.url("/api/auth/whoami"), headers=bearer(tok), timeout=5)
    assert resp.status_code == 401 and resp.json()["message"] == "token has no exp"


# --- the bodies MediaMTX builds -------------------------------------------------------------------

@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("action", ["publish", "read"])
def test_publish_read_every_protocol(ngx, action, protocol):
    tok = mediamtx_token(ngx, [{"action": action, "path": "camera/cam1"}])
    ua = "" if protocol == "rtsp" else "libmediamtx-test/1.0"
    body = mtx_body(action, "camera/cam1", protocol, token=tok, conn_id=str(uuid.uuid4()), user_agent=ua)
    assert post(ngx, body).status_code == 200
    assert post(ngx, dict(body, path="camera/cam2")).status_code == 403
    # HLS playlists and WebRTC/MoQ HTTP handlers ask with id null
    assert post(ngx, dict(body, id=None)).status_code == 200


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_as_mediamtx_sends_it(ngx, action):
    """playback/api/metrics/pprof carry no protocol and id null; api/metrics/pprof no path."""
    media = action in ("publish", "read", "playback")
    path = "cam1" if media else ""
    proto = "rtmp" if action in ("publish", "read") else ""
    tok = mediamtx_token(ngx, [{"action": action, "path": "cam1" if media else ""}])
    other = mediamtx_token(ngx, [{"action": a} for a in ACTIONS if a != action])
    assert post(ngx, mtx_body(action, path, proto, token=tok)).status_code == 200
    assert post(ngx, mtx_body(action, path, proto, token=other)).status_code == 403
    # the credential in the password (RTSP/RTMP/SRT user:pass, HTTP Basic), any user
    assert post(ngx, mtx_body(action, path, proto, user="any", password=tok)).status_code == 200
    admin = ngx.keys.token("RS256", role="admin")
    assert post(ngx, mtx_body(action, path, proto, token=admin)).status_code == 200


def test_rtsp_reader_describe_then_setup(ngx):
    """One RTSP reader: DESCRIBE is authorized with the connection's id and no user agent
    (servers/rtsp/conn.go), SETUP with the session's id and the User-Agent (session.go)."""
    tok = mediamtx_token(ngx, [{"action": "read", "path": "cam1"}], sub="reader-1")
    q = f"token={tok}"
    describe = mtx_body("read", "cam1", "rtsp", token=tok, conn_id=str(uuid.uuid4()), query=q)
    setup = mtx_body("read", "cam1", "rtsp", token=tok, conn_id=str(uuid.uuid4()), query=q,
                     user_agent="LIBVLC/3.0.18 (LIVE555 Streaming Media v2016.11.28)")
    assert post(ngx, describe).status_code == 200
    assert post(ngx, setup).status_code == 200


def test_no_credentials_asks_for_them(ngx):
    resp = post(ngx, mtx_body("read", "cam1", "rtsp"))
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == 'Bearer realm="vms"'


@pytest.mark.parametrize("change,reason", [
    ({"paths": "cam1"}, "request body has an unknown field"),
    ({"id": "42"}, "id must be a UUID or null"),
    ({"id": 42}, "id must be a UUID or null"),
    ({"protocol": "gopher"}, "unknown protocol"),
    ({"protocol": ""}, "unknown protocol"),
    ({"user": None}, "request fields must be strings"),
    ({"query": ["a"]}, "request fields must be strings"),
    ({"action": "teleport"}, "unknown action"),
])
def test_body_shapes_refused(ngx, change, reason):
    tok = ngx.keys.token("HS256", role="admin")
    resp = post(ngx, dict(mtx_body("read", "cam1", "rtsp", token=tok, conn_id=str(uuid.uuid4())), **change))
    assert resp.status_code == 400
    assert resp.json() == {"error": "bad_request", "message": reason}


# --- path names (#20 item 9) --------------------------------------------------------------------

@pytest.mark.parametrize("path", ["../cam1", "cam1/..", "a/../cam1", "./cam1", ".", "..", "/cam1",
                                  "cam1/", "a//cam1", "cam 1", "cam%2e", "cam~1", "caméra", "cam1?x", ""])
def test_invalid_path_names_400(ngx, path):
    admin = ngx.keys.token("HS256", role="admin")
    resp = post(ngx, mtx_body("read", path, "rtsp", token=admin))
    assert resp.status_code == 400
    assert resp.json() == {"error": "bad_request", "message": "invalid path name"}


def test_nul_in_path_400(ngx):
    admin = ngx.keys.token("HS256", role="admin")
    body = json.dumps(mtx_body("read", "cam1", "rtsp", token=admin)).replace('"cam1"', '"cam1\\u0000/../x"')
    assert post(ngx, body).status_code == 400


@pytest.mark.parametrize("name", ["../cam1", "..", "cam1/../cam2", "a b"])
def test_rtmp_stream_name_traversal_400(ngx, name):
    """The same class of defect on nginx-rtmp's callback: an admin token with name ../cam1."""
    admin = ngx.keys.token("HS256", role="admin")
    resp = requests.post(ngx.url("/api/auth/rtmp"), timeout=5,
                         data={"call": "play", "app": "live", "name": name, "addr": "127.0.0.1",
                               "clientid": "9", "args": f"token={admin}"})
    assert resp.status_code == 400
    assert resp.json() == {"error": "bad_request", "message": "invalid stream name"}


@pytest.mark.parametrize("path", ["cam.1", "site/cam.1", "a.b.c/d-e_f", "..cam", "v1.2/..x"])
def test_dotted_path_names_accepted(ngx, path):
    admin = ngx.keys.token("HS256", role="admin")
    assert post(ngx, mtx_body("read", path, "rtsp", token=admin)).status_code == 200
    tok = mediamtx_token(ngx, [{"action": "read", "path": path}])
    assert post(ngx, mtx_body("read", path, "rtsp", token=tok)).status_code == 200


# --- strict base64url (#20 item 8) ----------------------------------------------------------------

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def stray(c):
    return ALPHABET[ALPHABET.index(c) | 1]


def hs256(secret, head, body):
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"


def test_noncanonical_signature_refused(ngx):
    tok = ngx.keys.token("HS256", role="admin")
    assert post(ngx, mtx_body("api", "", "", token=tok)).status_code == 200
    last = tok[-1]
    # 32 bytes of HMAC: 43 characters, the last with 2 unused bits that decoders may ignore
    for bits in (1, 2, 3):
        alt = tok[:-1] + ALPHABET[(ALPHABET.index(last) & ~3) | bits]
        assert alt != tok
        resp = post(ngx, mtx_body("api", "", "", token=alt))
        assert resp.status_code == 401
        assert resp.json()["message"] == "malformed token signature encoding"


def test_noncanonical_header_and_payload_refused(ngx):
    secret = ngx.keys.secret
    now = int(time.time())
    head = b64url(json.dumps({"alg": "HS256", "x": "y"}, separators=(",", ":")).encode())
    for pad in range(3):    # one of these payloads ends in a character with unused bits
        body = b64url(json.dumps({"sub": "a" * (pad + 1), "exp": now + 600, "role": "admin"}).encode())
        if len(body) % 4 >= 2:
            break
    assert len(head) % 4 >= 2 and len(body) % 4 >= 2
    assert post(ngx, mtx_body("api", "", "", token=hs256(secret, head, body))).status_code == 200
    resp = post(ngx, mtx_body("api", "", "", token=hs256(secret, head[:-1] + stray(head[-1]), body)))
    assert resp.status_code == 401 and resp.json()["message"] == "malformed token header encoding"
    resp = post(ngx, mtx_body("api", "", "", token=hs256(secret, head, body[:-1] + stray(body[-1]))))
    assert resp.status_code == 401 and resp.json()["message"] == "malformed token payload encoding"


# --- revoking a jti with a huge exp (#20 item 8) --------------------------------------------------

@pytest.mark.parametrize("exp", [10 ** 13, 2 ** 62, 10 ** 30, -1])
def test_revoke_jti_exp_out_of_range_400(ngx, exp):
    admin = ngx.keys.token("HS256", role="admin")
    resp = requests.post(ngx.url("/api/auth/revoke"), headers=bearer(admin), timeout=5,
                         data=json.dumps({"jti": "j-" + uuid.uuid4().hex, "exp": exp}))
    assert resp.status_code == 400
    assert resp.json()["error"] == "bad_request"
    # the largest accepted exp is stored
    resp = requests.post(ngx.url("/api/auth/revoke"), headers=bearer(admin), timeout=5,
                         json={"jti": "j-" + uuid.uuid4().hex, "exp": 10 ** 13 - 1})
    assert resp.status_code == 200 and resp.json()["revoked"] is True


# --- the playback API's auth failures (/list, /get: vms_auth_failure mediamtx) --------------------

def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize("route", ["/list?path=cam1", "/get?path=cam1&start=2026-01-01T00:00:00Z&duration=5"])
def test_playback_auth_failures_mediamtx_shape(ngx, route):
    url = ngx.url(route)
    # no credentials: MediaMTX asks for them (browsers show their Basic dialog)
    resp = requests.get(url, timeout=5)
    assert resp.status_code == 401
    assert resp.json() == MTX_401
    assert resp.headers["WWW-Authenticate"] == 'Basic realm="mediamtx"'
    # invalid, expired, or without the permission: 401, same body, no new challenge (MediaMTX
    # sets WWW-Authenticate only when no credentials were sent)
    viewer = ngx.keys.token("HS256", role="viewer")
    cam2 = mediamtx_token(ngx, [{"action": "playback", "path": "cam2"}])
    expired = ngx.keys.token("HS256", role="admin", ttl=-3600)
    for headers in (bearer("garbage"), bearer(viewer), bearer(cam2), bearer(expired),
                    basic("user", "not-a-token"), basic("any", viewer)):
        resp = requests.get(url, headers=headers, timeout=5)
        assert resp.status_code == 401, headers
        assert resp.json() == MTX_401
        assert "WWW-Authenticate" not in resp.headers
    assert requests.get(url + f"&jwt={cam2}", timeout=5).status_code == 401


@pytest.mark.parametrize("route", ["/list?path=cam1", "/get?path=cam1&start=2026-01-01T00:00:00Z&duration=5"])
def test_playback_token_places_like_mediamtx(ngx, route):
    """MediaMTX reads the JWT from Bearer, from the Basic password (any user), or Bearer user:token."""
    url = ngx.url(route)
    tok = mediamtx_token(ngx, [{"action": "playback", "path": "cam1"}], jti=uuid.uuid4().hex)
    for headers in (bearer(tok), basic("anyone", tok), basic("", tok), bearer(f"user:{tok}")):
        resp = requests.get(url, headers=headers, timeout=5)
        # past authentication: whatever the recordings say (nothing recorded here), never 401/403
        assert resp.status_code not in (401, 403), (headers, resp.status_code, resp.text)
    assert requests.get(url + f"&jwt={tok}", timeout=5).status_code not in (401, 403)


def test_vms_routes_keep_vms_failure_shape(ngx):
    resp = requests.get(ngx.url("/api/auth/check/cam1"), headers=basic("u", "garbage"), timeout=5)
    assert resp.status_code == 401
    assert resp.json()["error"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith('Bearer realm="vms"')
    viewer = ngx.keys.token("HS256", role="viewer")
    assert requests.get(ngx.url("/api/auth/check/cam1"), headers=basic("u", viewer), timeout=5).status_code == 200
