"""vmsd's loopback API under hostile input (#20 items 7 and 8): every parameter validated whole,
cross-origin and foreign-Host requests refused, /api/cameras limited to the token's cameras, and a
Kafka broker that does not answer reported in /health, /metrics and the log."""
import json
import os
import subprocess
import time

import jwt
import requests

import vmsstack
from playback_fixtures import raw_exchange
from test_auth_helpers import Keys, bearer, forge_hs256
from vmsdtest import camera, health, log_lines, metric, wait

CAMS = ["cam1", "cam2", "cam3"]


def conf(extra=(), kafka=None):
    """vmsd with cameras nobody serves (their record flag is what these tests look at)."""
    dead = vmsstack.free_port()
    lines = ["[vmsd]", "listen = 127.0.0.1:@API_PORT@", "recordings = @RECORDINGS@",
             "spool_dir = @STATE@/spool", "backoff = 1h", "io_timeout = 1s", *extra]
    if kafka:
        lines.append(f"kafka_brokers = {kafka}")
    for cam in CAMS:
        lines += ["", f"[camera {cam}]", f"url = rtsp://127.0.0.1:{dead}/{cam}"]
    return "\n".join(lines) + "\n"


def start(stack, text, name="vmsd"):
    """vmsd, once every camera is registered (the API answers a moment before)."""
    v = stack.vmsd(text=text, name=name)
    wait("cameras registered", lambda: len(health(v)["cameras"]) == len(CAMS), 30, svc=v)
    return v


def raw(port, request: bytes):
    """Sends request bytes as they are; returns (status, parsed JSON body or text)."""
    head, _, body = raw_exchange(port, request).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode(errors="replace")


def req(port, method, target, headers=(), body=b""):
    hdrs = [("Host", f"127.0.0.1:{port}"), ("Connection", "close")]
    names = {h[0].lower() for h in headers}
    hdrs = [h for h in hdrs if h[0].lower() not in names] + list(headers)
    if body:
        hdrs.append(("Content-Length", str(len(body))))
    text = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs) + "\r\n"
    return raw(port, text.encode("latin-1") + body)


def test_every_parameter_is_validated_whole(stack):
    v = start(stack, conf())
    a = list(v.auth.items())       # an admin's token: these requests are refused for their input
    assert camera(v, "cam1")["record"] is True
    hostile = [
        "/record/stop?camera=cam1%00/../../etc",     # the id check used to stop at the NUL
        "/record/stop?camera=cam1%00",
        "/record/stop?camera=cam1%0a",
        "/record/stop?camera=cam1%2F..%2Fetc",
        "/record/stop?camera=cam1&camera=cam2",       # repeated: which one would be used?
        "/record/stop?camera=cam1&CAMERA=cam2",
        "/record/stop?camera=cam1&jwt=x",            # unknown argument
        "/record/stop?camera=cam%31%",               # truncated escape
        "/record/stop?camera=cam%zz",
        "/record/stop?camera=cam1&&x",
        "/record/stop?camera=cam1&",
        "/record/stop?=cam1",
        "/record/stop?camera=" + "a" * 65,
        "/record/stop?camera=cam+1",
        "/record/stop?camera=",
        "/record/stop?camera",
        "/record/stop?" + "&".join(f"a{i}=1" for i in range(20)),
    ]
    for target in hostile:
        status, body = req(v.port, "POST", target, a)
        assert status == 400, (target, body)
        assert isinstance(body, dict) and body["error"] == "bad_request" and body["message"], (target, body)
    # a path that decodes to a route is not that route
    for target in ("/record/stop%00x?camera=cam1", "/record%2Fstop?camera=cam1", "/record/stop/?camera=cam1"):
        status, body = req(v.port, "POST", target, a)
        assert status in (400, 404) and body["error"], (target, body)
    assert req(v.port, "POST", "/record/stop?camera=" + "a" * 5000, a)[0] == 414
    assert req(v.port, "GET", "/health?verbose=1")[0] == 400
    assert req(v.port, "GET", "/metrics?x=1")[0] == 400
    # a body no route reads: refused before it is read
    status, body = req(v.port, "POST", "/record/stop?camera=cam1", a, body=b"x" * 5000)
    assert status == 413 and body == {"error": "payload_too_large", "message": "request body too large", "status": 413}
    # none of that touched cam1 ...
    assert camera(v, "cam1")["record"] is True
    # ... while the well-formed request does
    status, body = req(v.port, "POST", "/record/stop?camera=cam1", a)
    assert status == 200 and body == {"camera_id": "cam1", "record": False, "recording": False,
                                      "state": body["state"]}
    assert camera(v, "cam1")["record"] is False
    assert req(v.port, "POST", "/record/start?camera=cam%31", a)[0] == 200    # escapes of valid bytes are fine
    assert camera(v, "cam1")["record"] is True
    refused = [line for line in log_lines(v) if line["message"].startswith("http: 400 POST /record/stop")]
    assert refused and not any("etc" in line["message"] for line in refused)   # values never logged
    # refused by the parser (vms_api_rejected_total) or by the route (vms_api_requests 4xx)
    assert (metric(v, "vms_api_rejected_total", code="400")
            + metric(v, "vms_api_requests", path="/record/stop", code="4xx")) >= len(hostile)


def test_cross_origin_and_foreign_host_are_refused(stack):
    v = start(stack, conf(["api_allowed_origins = http://127.0.0.1:8080"]))
    stop = "/record/stop?camera=cam1"
    # a page on another site posting to the loopback API (CSRF)
    for origin in ("http://evil.example", "null", "http://127.0.0.1:8081"):
        status, body = req(v.port, "POST", stop, [("Origin", origin)])
        assert status == 403 and body["error"] == "forbidden" and "cross-origin" in body["message"], (origin, body)
    # a page whose DNS name rebinds to 127.0.0.1: the browser sends its own name as Host
    for host in ("evil.example", f"evil.example:{v.port}", "127.0.0.1", f"127.0.0.1:{v.port + 1}",
                 f"127.0.0.1.evil.example:{v.port}"):
        status, body = req(v.port, "POST", stop, [("Host", host)])
        assert status == 421 and body["error"], (host, body)
        assert req(v.port, "GET", "/health", [("Host", host)])[0] == 421
    status, body = raw(v.port, f"POST {stop} HTTP/1.1\r\nHost: 127.0.0.1:{v.port}\r\n"
                               f"Host: evil.example\r\nConnection: close\r\n\r\n".encode())
    assert status == 400
    assert camera(v, "cam1")["record"] is True
    # what legitimate callers send still works: loopback names, no Origin, an allowed Origin,
    # and a same-origin GET with an Origin
    for host in (f"localhost:{v.port}", f"LOCALHOST:{v.port}", f"[::1]:{v.port}"):
        assert req(v.port, "GET", "/health", [("Host", host)])[0] == 200
    assert req(v.port, "GET", "/health", [("Origin", "http://evil.example")])[0] == 200
    assert req(v.port, "POST", stop, [("Origin", "http://127.0.0.1:8080"), *v.auth.items()])[0] == 200
    assert camera(v, "cam1")["record"] is False
    assert requests.post(v.api + "/record/start?camera=cam1", headers=v.auth, timeout=5).status_code == 200


def test_api_cameras_lists_only_the_token_cameras(stack):
    v = start(stack, conf())
    # vmsd's side: the scope header
    for scope, want in (("cam2", ["cam2"]), ("cam1,cam3", ["cam1", "cam3"]), ("*", CAMS), ("-", []),
                        ("cam9", [])):
        status, body = req(v.port, "GET", "/health", [("X-VMS-Cameras", scope)])
        assert status == 200 and sorted(c["id"] for c in body["cameras"]) == want, (scope, body)
        assert body["cameras_total"] == len(want)
    for scope in ("", "cam1,", ",cam1", "cam1;cam2", "../x", "a" * 65):
        assert req(v.port, "GET", "/health", [("X-VMS-Cameras", scope)])[0] == 400, scope
    status, _ = raw(v.port, f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{v.port}\r\nX-VMS-Cameras: cam1\r\n"
                            f"X-VMS-Cameras: *\r\nConnection: close\r\n\r\n".encode())
    assert status == 400
    # through nginx: the token decides, whatever the client sends
    r = stack.redis()
    ngx = stack.nginx(vars={"VMSD_API": f"127.0.0.1:{v.port}", "REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9"})
    key = open(stack.secret_file()).read().strip()

    def token(**claims):
        now = int(time.time())
        body = {"sub": "u1", "role": "viewer", "iat": now, "exp": now + 600, **claims}
        return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="HS256")

    def listed(tok, **kw):
        r = requests.get(ngx.url("/api/cameras"), headers={"Authorization": f"Bearer {tok}", **kw.pop("h", {})},
                         timeout=5, **kw)
        assert r.status_code == 200, r.text
        return sorted(c["id"] for c in r.json()["cameras"])

    assert requests.get(ngx.url("/api/cameras"), timeout=5).status_code == 401
    assert listed(token(cameras=["cam2"])) == ["cam2"]
    assert listed(token(camera_id="cam3"), h={"X-VMS-Cameras": "*"}) == ["cam3"]
    assert listed(token(camera_id="cam3"), params={"x": "1"}) == ["cam3"]
    assert listed(token()) == CAMS
    # every camera claim counts, not only the first; an empty list is no camera
    assert listed(token(cameras=["cam3", "cam1"])) == ["cam1", "cam3"]
    assert listed(token(cameras=[])) == []
    # a token without view_stream (MediaMTX permissions only) lists nothing
    assert listed(token(role=None, mediamtx_permissions=[{"action": "read", "path": "cam1"}])) == []
    # a browser page on this origin reading the list still works (Origin on a GET)
    assert listed(token(cameras=["cam1"]), h={"Origin": ngx.url("").rstrip("/")}) == ["cam1"]


def test_unreachable_broker_is_reported(stack):
    # vmsd pointed at a port where no broker listens
    dead = vmsstack.free_port()
    v = stack.vmsd(text=conf(["kafka_probe_interval = 200ms"], kafka=f"127.0.0.1:{dead}"))
    h = wait("degraded health", lambda: f"127.0.0.1:{dead}" in health(v)["kafka"].get("reason", "")
             and health(v), 30, svc=v)
    assert h["status"] == "degraded" and h["degraded"] == ["kafka"]
    assert h["kafka"]["enabled"] is True and h["kafka"]["connected"] is False
    assert metric(v, "vms_kafka_connected") == 0
    warned = [line for line in log_lines(v) if line["message"].startswith("kafka: no broker reachable")]
    assert len(warned) == 1 and warned[0]["level"] == "warn"     # once, not once per probe

    # a live broker: connected; taken down: degraded again with the reason; back: connected
    k = stack.kafka()
    v2 = stack.vmsd(text=conf(["kafka_probe_interval = 200ms"], kafka=k.bootstrap), name="vmsd2")
    wait("connected", lambda: health(v2)["kafka"]["connected"], 30, svc=v2)
    assert health(v2)["status"] == "ok" and "degraded" not in health(v2)
    assert metric(v2, "vms_kafka_connected") == 1
    k.down()
    h = wait("degraded after the outage", lambda: health(v2)["status"] == "degraded" and health(v2), 30, svc=v2)
    assert h["kafka"]["connected"] is False and h["kafka"]["reason"]
    assert metric(v2, "vms_kafka_connected") == 0
    k.up()
    wait("connected again", lambda: health(v2)["kafka"]["connected"], 30, svc=v2)
    assert metric(v2, "vms_kafka_connected") == 1
    assert any(line["message"].startswith("kafka: broker reachable again") for line in log_lines(v2))


def test_protected_routes_need_a_credential(stack):
    """#14 item 4: vmsd's API takes a token checked with vms_auth's keys; /health stays open."""
    v = start(stack, conf())
    key = open(stack.secret_file()).read().strip()
    stop, stop2 = "/record/stop?camera=cam1", "/record/stop?camera=cam2"

    def tok(key=key, alg="HS256", **claims):
        now = int(time.time())
        body = {"sub": "api-user", "role": "operator", "iat": now, "exp": now + 600, **claims}
        return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm=alg)

    def call(method, target, token=None, authorization=None):
        h = {}
        if token is not None or authorization is not None:
            h["Authorization"] = authorization if authorization is not None else f"Bearer {token}"
        r = requests.request(method, v.api + target, headers=h, timeout=5)
        return r.status_code, r.json() if r.headers.get("Content-Type") == "application/json" else r.text, r

    # no credential, or one that does not verify: 401 with a JSON reason and a Bearer challenge
    none_alg = jwt.encode({"sub": "x", "role": "admin", "exp": int(time.time()) + 600}, None, algorithm="none")
    for method, target in (("POST", stop), ("GET", "/metrics"), ("GET", "/api/analytics/ai-cost")):
        for authorization in (None, "", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer x.y.z",
                              f"Bearer {none_alg}",                            # alg none
                              f"Bearer {tok(key='another-key-of-32-bytes-or-more!!')}",  # other key
                              f"Bearer {tok(exp=int(time.time()) - 3600)}",   # expired
                              f"Bearer {tok(cameras='cam1')}",                # a claim of the wrong shape
                              f"Bearer {tok(key=key, alg='HS512', role='admin')}"[:-4] + "AAAA"):  # bad signature
            status, body, r = call(method, target, authorization=authorization)
            assert status == 401, (target, authorization, body)
            assert body["error"] and r.headers["WWW-Authenticate"].startswith("Bearer"), (target, body)
    assert call("GET", "/health")[0] == 200                         # open: the load balancer's probe
    assert camera(v, "cam1")["record"] is True                      # nothing of that stopped a camera

    # a valid token without the permission: 403
    assert call("POST", stop, tok(role="viewer"))[0] == 403
    assert call("GET", "/metrics", tok(role="operator"))[0] == 403
    assert call("POST", stop, tok(cameras=["cam2"]))[0] == 403      # an operator of another camera
    assert camera(v, "cam1")["record"] is True
    # the permission: an operator of the camera stops it; a scraper's token reads /metrics only
    status, body, _ = call("POST", stop, tok(cameras=["cam1"]))
    assert status == 200 and body["record"] is False
    scraper = tok(role=None, mediamtx_permissions=[{"action": "metrics", "path": ""}])
    status, text, _ = call("GET", "/metrics", scraper)
    assert status == 200 and "vms_api_requests" in text
    assert call("POST", stop2, scraper)[0] == 403
    assert call("GET", "/api/analytics/ai-cost", tok(role="operator"))[0] == 403
    assert call("GET", "/api/analytics/ai-cost", tok(role="admin"))[0] == 200

    # refusals are counted and logged without the token
    assert metric(v, "vms_api_rejected_total", code="401") >= 30
    assert metric(v, "vms_api_rejected_total", code="403") >= 4
    refused = [line["message"] for line in log_lines(v) if line["message"].startswith("http: 40")]
    assert any(m.startswith("http: 401 POST /record/stop") for m in refused)
    assert not any(key in m or "eyJ" in m for m in refused)


def test_nginx_passes_the_verified_token_on(stack):
    """nginx checks the token (vms_auth) and hands the same one to vmsd, which checks it again:
    from a header or from the ?jwt= argument alike; a token nginx refused never reaches vmsd."""
    v = start(stack, conf())
    r = stack.redis()
    ngx = stack.nginx(vars={"VMSD_API": f"127.0.0.1:{v.port}", "REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9"})
    key = open(stack.secret_file()).read().strip()
    now = int(time.time())
    op = jwt.encode({"sub": "op1", "role": "operator", "cameras": ["cam1"], "iat": now, "exp": now + 600},
                    key, algorithm="HS256")
    url = ngx.url("/api/cameras/cam1/record/stop")
    assert requests.post(url, timeout=5).status_code == 401
    assert requests.post(ngx.url("/api/cameras/cam2/record/stop"), headers={"Authorization": f"Bearer {op}"},
                         timeout=5).status_code == 403
    assert camera(v, "cam1")["record"] is True
    r1 = requests.post(url, headers={"Authorization": f"Bearer {op}"}, timeout=5)
    assert r1.status_code == 200 and r1.json()["record"] is False, r1.text
    r2 = requests.post(ngx.url("/api/cameras/cam1/record/start"), params={"jwt": op}, timeout=5)
    assert r2.status_code == 200 and r2.json()["record"] is True, r2.text
    # vmsd saw only verified tokens: no refusal in its log
    assert not [line for line in log_lines(v) if line["message"].startswith("http: 401")]


def test_api_auth_needs_a_key_and_can_be_turned_off(stack, tmp_path):
    """api_auth on (the default) without a key is a configuration error at start (and for -t);
    api_auth = off trusts the loopback caller as before."""
    text = conf().replace("@API_PORT@", str(vmsstack.free_port())).replace(
        "@RECORDINGS@", str(tmp_path / "rec")).replace("@STATE@", str(tmp_path / "state"))
    path = tmp_path / "vmsd.conf"
    path.write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "VMS_API_TOKEN_SECRET_FILE"}
    check = subprocess.run([stack.bin("vmsd"), "-t", "-c", str(path)], env=env,
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 2 and "api_auth is on but vmsd has no key" in check.stderr, check.stderr
    off = start(stack, conf(["api_auth = off"]), name="vmsd-open")
    assert requests.get(off.api + "/metrics", timeout=5).status_code == 200
    assert requests.post(off.api + "/record/stop?camera=cam1", timeout=5).status_code == 200


def test_public_keys_from_a_jwks_are_pinned_to_their_algorithm(stack):
    """api_token_jwks, as vms_auth_jwks: RS256 and ES384 keys verify their own tokens only; an
    HS256 token 'signed' with a public key's PEM bytes (algorithm confusion) is refused."""
    keys = Keys(stack)
    v = start(stack, conf([f"api_token_jwks = {keys.jwks_path}"]))
    stop = v.api + "/record/stop?camera=cam1"
    for alg, kid in (("RS256", "jwks-rsa"), ("ES384", "jwks-ec")):
        r = requests.post(stop, headers=bearer(keys.token(alg=alg, kid=kid, role="operator")), timeout=5)
        assert r.status_code == 200, (alg, r.text)
    now = int(time.time())
    forged = forge_hs256({"sub": "mallory", "role": "admin", "exp": now + 600},
                         Keys._pub_pem(keys.jwks_rsa))
    assert requests.post(stop, headers=bearer(forged), timeout=5).status_code == 401
    # a key the JWKS pins to RS256 does not take an RS384 token
    r = requests.post(stop, headers=bearer(jwt.encode({"sub": "x", "role": "admin", "exp": now + 600},
                                                      keys.jwks_rsa, algorithm="RS384",
                                                      headers={"kid": "jwks-rsa"})), timeout=5)
    assert r.status_code == 401
