"""vms_auth through a real nginx: tokens minted by PyJWT, keys by python3-cryptography.

Run: VMS_BUILD_DIR=build /usr/bin/python3 -m pytest tests/system/test_auth.py
"""
import time

import pytest
import redis
import vmsstack
import requests

from test_auth_helpers import Keys, bearer, forge_hs256


@pytest.fixture
def auth(stack):
    """nginx with vms_auth (HS/RSA/EC/JWKS keys), Redis for revocation."""
    keys = Keys(stack)
    r = stack.redis()
    # Not about rate limits (test_ratelimit.py): these tests are refused many times from one
    # address, which the stack's failed-auth budget would turn into 429 before vms_auth speaks.
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9",
                            "AUTH_KEYS": keys.nginx_lines(), "LIMIT_FAIL_RATE": "off"})
    ngx.keys, ngx.redis = keys, r
    return ngx


def check(ngx, cam, tok=None, **kw):
    headers = bearer(tok) if tok else {}
    return requests.get(ngx.url(f"/api/auth/check/{cam}"), headers=headers, timeout=5, **kw)


def challenge(resp):
    return resp.headers.get("WWW-Authenticate", "")


@pytest.mark.parametrize("alg,kid", [("HS256", None), ("RS256", None), ("RS256", "rsa1"), ("ES256", None),
                                     ("RS256", "jwks-rsa"), ("ES384", "jwks-ec")])
def test_valid_token_each_key_type(auth, alg, kid):
    tok = auth.keys.token(alg, kid=kid, role="viewer", camera_id="cam1")
    resp = check(auth, "cam1", tok)
    assert resp.status_code == 200, resp.text
    assert resp.json()["sub"] == "alice"
    assert resp.json()["cameras"] == ["cam1"]


def test_no_credentials_is_a_plain_challenge(auth):
    resp = check(auth, "cam1")
    assert resp.status_code == 401
    assert challenge(resp) == 'Bearer realm="vms"'
    assert resp.json()["error"] == "unauthorized"


@pytest.mark.parametrize("claims,why", [
    ({"exp": int(time.time()) - 3600}, "token expired"),
    ({"nbf": int(time.time()) + 3600}, "token not yet valid (nbf)"),
    ({"iat": int(time.time()) + 3600}, "token issued in the future (iat)"),
    ({"exp": None}, "token has no exp"),
    ({"camera_id": "../../etc"}, "token names an invalid camera id"),
])
def test_invalid_claims_rejected(auth, claims, why):
    tok = auth.keys.token("HS256", role="viewer", **claims)
    resp = check(auth, "cam1", tok)
    assert resp.status_code == 401
    assert challenge(resp) == f'Bearer realm="vms", error="invalid_token", error_description="{why}"'
    assert resp.json()["message"] == why


def test_expiry_leeway_is_honoured(auth):
    tok = auth.keys.token("ES256", role="viewer", exp=int(time.time()) - 5)   # leeway 30 s
    assert check(auth, "cam1", tok).status_code == 200


def test_cached_token_still_expires(auth):
    """A token served from the workers' caches is judged against the clock on every request: once
    past exp + leeway (30 s) it is refused, although its signature was checked long ago."""
    for _ in range(5):
        exp = int(time.time()) - 22
        tok = auth.keys.token("HS256", role="viewer", exp=exp)
        codes = [check(auth, "cam1", tok).status_code for _ in range(3)]   # verified, then from the cache
        if time.time() < exp + 29:   # all three inside exp + leeway: they had to pass
            break                    # (else a stalled machine: mint again)
    else:
        pytest.fail("three requests took over 7 s, five times")
    assert codes == [200, 200, 200]
    time.sleep(max(0.0, exp + 31.5 - time.time()))
    resp = check(auth, "cam1", tok)
    assert resp.status_code == 401
    assert "token expired" in challenge(resp)


def test_tampered_payload_rejected(auth):
    tok = auth.keys.token("RS256", role="viewer", camera_id="cam1")
    head, _, sig = tok.split(".")
    evil = auth.keys.token("HS256", role="admin").split(".")[1]   # a different, validly encoded payload
    resp = check(auth, "cam1", f"{head}.{evil}.{sig}")
    assert resp.status_code == 401
    assert "token signature mismatch" in challenge(resp)


def test_tampered_signature_rejected(auth):
    for alg in ("HS256", "RS256", "ES256"):
        tok = auth.keys.token(alg, role="viewer")
        head, body, sig = tok.split(".")
        sig = ("A" if sig[5] != "A" else "B").join([sig[:5], sig[6:]])
        resp = check(auth, "cam1", f"{head}.{body}.{sig}")
        assert resp.status_code == 401, alg
        assert 'error="invalid_token"' in challenge(resp)


def test_alg_none_rejected(auth):
    now = int(time.time())
    import jwt
    tok = jwt.encode({"sub": "mallory", "role": "admin", "exp": now + 600}, None, algorithm="none")
    resp = check(auth, "cam1", tok)
    assert resp.status_code == 401
    assert "alg none" in challenge(resp)


def test_hs256_forged_with_public_key_rejected(auth):
    payload = {"sub": "mallory", "role": "admin", "exp": int(time.time()) + 600}
    for pem in (auth.keys.rsa_pem, auth.keys.ec_pem):
        resp = check(auth, "cam1", forge_hs256(payload, pem))
        assert resp.status_code == 401
        assert "signature mismatch" in challenge(resp)   # no HS key accepts it
    # and with the stack secret the same forgery method yields a valid token: the test can fail
    resp = check(auth, "cam1", forge_hs256(payload, auth.keys.secret.encode()))
    assert resp.status_code == 200


def test_hs256_forged_with_public_key_rejected_when_only_public_keys(stack):
    """With no HMAC key configured at all, the classic forgery meets no key."""
    keys = Keys(stack)
    ngx = stack.nginx(vars={"REDIS_ADDR": "127.0.0.1:9", "KAFKA_BROKERS": "127.0.0.1:9",
                            "AUTH_KEYS": keys.nginx_lines()})
    # rebuild the config without the HS secret: a location-free check through the MediaMTX endpoint
    payload = {"sub": "mallory", "role": "admin", "exp": int(time.time()) + 600}
    tok = forge_hs256(payload, keys.rsa_pem)
    resp = requests.post(ngx.url("/api/auth/validate-stream"), timeout=5,
                         json={"token": tok, "action": "read", "path": "cam1", "protocol": "rtsp"})
    assert resp.status_code == 401


def test_wrong_camera_forbidden(auth):
    tok = auth.keys.token("HS256", role="viewer", camera_id="cam1")
    assert check(auth, "cam1", tok).status_code == 200
    resp = check(auth, "cam2", tok)
    assert resp.status_code == 403
    assert resp.json() == {"error": "forbidden", "message": "token does not grant this permission on this camera"}
    assert "WWW-Authenticate" not in resp.headers


def test_missing_permission_forbidden(auth):
    tok = auth.keys.token("HS256", role="auditor", camera_id="cam1")   # unknown role grants nothing
    assert check(auth, "cam1", tok).status_code == 403


def test_wrong_tenant_forbidden(auth):
    tok = auth.keys.token("HS256", role="viewer", tenant_id="acme")
    url = lambda t: auth.url(f"/api/auth/tenants/{t}/cameras/cam1")
    assert requests.get(url("acme"), headers=bearer(tok), timeout=5).status_code == 200
    resp = requests.get(url("globex"), headers=bearer(tok), timeout=5)
    assert resp.status_code == 403
    assert resp.json()["message"] == "token is not valid for this tenant"
    no_tenant = auth.keys.token("HS256", role="viewer")
    assert requests.get(url("acme"), headers=bearer(no_tenant), timeout=5).status_code == 403


def test_token_sources(auth):
    tok = auth.keys.token("HS256", role="viewer", camera_id="cam1")
    base = auth.url("/api/auth/check/cam1")
    assert requests.get(f"{base}?jwt={tok}", timeout=5).status_code == 200
    assert requests.get(f"{base}?token={tok}", timeout=5).status_code == 200
    assert requests.get(base, cookies={"vms_token": tok}, timeout=5).status_code == 200
    # the header comes first: a bad header token is not rescued by a good query token
    assert requests.get(f"{base}?jwt={tok}", headers=bearer("x.y.z"), timeout=5).status_code == 401


def test_oversized_token_413(auth):
    """vms_auth_max_token_size (8k): a larger token in a MediaMTX body or in a header is 413 (the
    stack's large_client_header_buffers, 16k, let a 9 KB header reach vms_auth)."""
    tok = auth.keys.token("HS256", role="viewer", pad="x" * 9000)
    resp = requests.post(auth.url("/api/auth/validate-stream"), timeout=5,
                         json={"token": tok, "action": "read", "path": "cam1", "protocol": "rtsp"})
    assert resp.status_code == 413
    assert resp.json()["message"] == "token too large"
    resp = check(auth, "cam1", tok)
    assert resp.status_code == 413 and resp.json()["message"] == "token too large"


def test_rejections_log_no_token_bytes(auth):
    tok = auth.keys.token("HS256", role="viewer", exp=int(time.time()) - 3600)
    for _ in range(3):
        requests.get(auth.url(f"/api/auth/check/cam1?jwt={tok}"), timeout=5)
    with open(auth.error_log) as f:
        log = f.read()
    assert "vms_auth: rejected: token expired" in log
    sig = tok.split(".")[2]
    assert tok.split(".")[1] not in log and sig not in log
    assert auth.keys.secret not in log


def test_rejection_log_is_rate_limited(auth):
    bad = auth.keys.token("HS256", role="viewer", exp=int(time.time()) - 3600)
    s = requests.Session()
    for _ in range(60):
        s.get(auth.url("/api/auth/check/cam1"), headers=bearer(bad), timeout=5)
    time.sleep(1.1)   # the summary line is written in the next second, by the next rejection
    s.get(auth.url("/api/auth/check/cam1"), headers=bearer(bad), timeout=5)
    with open(auth.error_log) as f:
        log = f.read()
    lines = log.count("vms_auth: rejected: token expired")
    assert lines < 60
    assert "rejection log lines suppressed" in log


def test_stream_token_scoped_to_one_camera(auth):
    user = auth.keys.token("RS256", ttl=7200, role="viewer", cameras=["cam1", "cam2"], tenant_id="acme")
    before = int(time.time())
    resp = requests.post(auth.url("/api/auth/stream-token"), json={"camera_id": "cam1"}, headers=bearer(user), timeout=5)
    after = int(time.time())
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["expires_in"] == 3600 and body["camera_id"] == "cam1" and body["token_type"] == "Bearer"
    import jwt
    claims = jwt.decode(body["token"], auth.keys.secret, algorithms=["HS256"])   # independent check
    assert claims["camera_id"] == "cam1" and claims["jti"] == body["jti"] and claims["sub"] == "alice"
    assert claims["tenant_id"] == "acme"
    assert before + 3600 <= claims["exp"] <= after + 3600   # an hour from when nginx minted it
    st = body["token"]
    assert check(auth, "cam1", st).status_code == 200
    assert check(auth, "cam2", st).status_code == 403
    # no permission on cam3 -> 403; a stream token cannot mint more
    resp = requests.post(auth.url("/api/auth/stream-token"), json={"camera_id": "cam3"}, headers=bearer(user), timeout=5)
    assert resp.status_code == 403
    resp = requests.post(auth.url("/api/auth/stream-token"), json={"camera_id": "cam1"}, headers=bearer(st), timeout=5)
    assert resp.status_code == 403
    assert resp.json()["message"] == "stream tokens cannot mint tokens"


def test_stream_token_keeps_plan_and_never_outlives_its_user_token(auth):
    """vms_limit counts a stream against its user's plan, so the stream token carries it; and a stream
    token minted from a token that expires in 10 minutes expires with it, not an hour later."""
    import jwt
    user = auth.keys.token("HS256", ttl=600, role="viewer", cameras=["cam1"], plan="pro",
                           max_concurrent_streams=3)
    resp = requests.post(auth.url("/api/auth/stream-token"), json={"camera_id": "cam1"}, headers=bearer(user), timeout=5)
    assert resp.status_code == 200, resp.text
    claims = jwt.decode(resp.json()["token"], auth.keys.secret, algorithms=["HS256"])
    user_exp = jwt.decode(user, auth.keys.secret, algorithms=["HS256"])["exp"]
    assert claims["plan"] == "pro" and claims["max_concurrent_streams"] == 3
    assert claims["exp"] == user_exp
    assert 590 <= resp.json()["expires_in"] <= 600


def test_stream_token_bad_requests(auth):
    user = auth.keys.token("HS256", role="viewer")
    url = auth.url("/api/auth/stream-token")
    assert requests.post(url, data="{not json", headers=bearer(user), timeout=5).status_code == 400
    assert requests.post(url, json={"camera_id": "a/b"}, headers=bearer(user), timeout=5).status_code == 400
    assert requests.post(url, json={"camera_id": "cam1"}, timeout=5).status_code == 401
    assert requests.get(url, headers=bearer(user), timeout=5).status_code == 405
    resp = requests.post(url, data="x" * 20000, headers=bearer(user), timeout=5)
    assert resp.status_code == 413


def test_revoked_token_rejected_fresh_token_works(auth):
    user = auth.keys.token("HS256", ttl=7200, role="viewer", camera_id="cam1")   # stream tokens live 1 h
    mint = lambda: requests.post(auth.url("/api/auth/stream-token"), json={"camera_id": "cam1"},
                                 headers=bearer(user), timeout=5).json()
    a, b = mint(), mint()
    assert check(auth, "cam1", a["token"]).status_code == 200    # now in the verified-token cache
    resp = requests.post(auth.url("/api/auth/revoke"), json={"token": a["token"]}, headers=bearer(user), timeout=5)
    assert resp.status_code == 200, resp.text
    assert resp.json()["revoked"] is True
    rc = redis.Redis(host="127.0.0.1", port=auth.redis.port)
    assert rc.exists(f"vms:revoked:{a['jti']}") == 1
    assert 3500 < rc.ttl(f"vms:revoked:{a['jti']}") <= 3630
    resp = check(auth, "cam1", a["token"])
    assert resp.status_code == 401
    assert "token revoked" in challenge(resp)
    mtx = requests.post(auth.url("/api/auth/validate-stream"), timeout=5,
                        json={"token": a["token"], "action": "read", "path": "cam1", "protocol": "hls"})
    assert mtx.status_code == 401
    assert check(auth, "cam1", b["token"]).status_code == 200
    new = mint()
    assert check(auth, "cam1", new["token"]).status_code == 200


def test_revocation_written_elsewhere_is_honoured(auth):
    """A jti put into Redis by another node (here: directly) is refused once the short negative
    cache (vms_auth_revocation_cache 5s) has not seen it yet."""
    tok = auth.keys.token("HS256", role="viewer", jti="other-node-1")
    redis.Redis(host="127.0.0.1", port=auth.redis.port).set("vms:revoked:other-node-1", 1, ex=600)
    resp = check(auth, "cam1", tok)
    assert resp.status_code == 401
    assert "token revoked" in challenge(resp)


def test_revoke_rules(auth):
    alice = auth.keys.token("HS256", role="viewer", sub="alice")
    bob_tok = auth.keys.token("HS256", role="viewer", sub="bob")
    admin = auth.keys.token("HS256", role="admin", sub="root")
    url = auth.url("/api/auth/revoke")
    assert requests.post(url, json={"token": bob_tok}, headers=bearer(alice), timeout=5).status_code == 403
    assert requests.post(url, json={"jti": "abc", "exp": int(time.time()) + 60}, headers=bearer(alice), timeout=5).status_code == 403
    assert requests.post(url, json={"token": bob_tok}, headers=bearer(admin), timeout=5).status_code == 200
    assert check(auth, "cam1", bob_tok).status_code == 401
    assert requests.post(url, json={"token": "a.b.c"}, headers=bearer(admin), timeout=5).status_code == 400
    assert requests.post(url, json={}, headers=bearer(admin), timeout=5).status_code == 400


def test_redis_down_fail_open_by_default(auth):
    tok = auth.keys.token("HS256", role="viewer")
    auth.redis.stop()
    assert check(auth, "cam1", tok).status_code == 200
    resp = requests.post(auth.url("/api/auth/revoke"), json={"token": tok}, headers=bearer(tok), timeout=5)
    assert resp.status_code == 503


def test_redis_down_fail_closed(stack):
    keys = Keys(stack)
    r = stack.redis()
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9",
                            "AUTH_REDIS_FAIL_OPEN": "off"})
    tok = keys.token("HS256", role="viewer")
    assert check(ngx, "cam1", tok).status_code == 200
    r.stop()
    tok2 = keys.token("HS256", role="viewer")
    resp = check(ngx, "cam1", tok2)
    assert resp.status_code == 503
    assert resp.json()["message"] == "revocation check unavailable"


def test_reload_without_a_key_drops_its_cached_tokens(stack):
    """The verified-token cache survives reloads, but never vouches for a key that is gone."""
    keys = Keys(stack)
    common = {"REDIS_ADDR": "127.0.0.1:9", "KAFKA_BROKERS": "127.0.0.1:9"}
    ngx = stack.nginx(vars=dict(common, AUTH_KEYS=keys.nginx_lines()))
    rs = keys.token("RS256", role="viewer")
    hs = keys.token("HS256", role="viewer")
    assert check(ngx, "cam1", rs).status_code == 200      # verified and cached
    stack.nginx_conf("nginx", dict(common, HTTP_PORT=ngx.port, RTMP_PORT=ngx.rtmp_port))   # no RSA/EC/JWKS keys
    ngx.reload()
    vmsstack.wait_for("reload", lambda: check(ngx, "cam1", rs).status_code == 401, 20)
    assert check(ngx, "cam1", hs).status_code == 200


# The seed's names (#19): what a user checks first about tokens, over every kind of protected route.
PROTECTED = ("/api/auth/check/cam1", "/live/cam1/index.m3u8", "/api/playback/cam1",
             "/api/playback/cam1/timeline", "/list?path=cam1", "/api/cameras", "/api/auth/whoami")


def refused(resp, why=None):
    """401 with our JSON error and the reason in the challenge; on MediaMTX's routes (/list, /get)
    MediaMTX's own body, with no challenge (MediaMTX sends one only to a request without credentials)."""
    assert resp.status_code == 401
    body = resp.json()
    if "status" in body:
        assert body == {"status": "error", "error": "authentication error"}
        assert challenge(resp) == ""
        return True
    assert body["error"] == "unauthorized"
    assert why is None or body["message"] == why
    assert 'error="invalid_token"' in challenge(resp)
    assert why is None or f'error_description="{why}"' in challenge(resp)
    return True


def test_jwt_expiry_rejection(auth):
    now = int(time.time())
    expired = auth.keys.token("HS256", role="admin", exp=now - 3600)
    fresh = auth.keys.token("HS256", role="admin", exp=now + 3600)
    for path in PROTECTED:
        assert refused(requests.get(auth.url(path), headers=bearer(expired), timeout=5), "token expired"), path
        # the same claims before their exp are not refused by the token check
        assert requests.get(auth.url(path), headers=bearer(fresh), timeout=5).status_code != 401, path


@pytest.mark.parametrize("token", [
    "garbage", "a.b", "a.b.c.d", "...", "eyJhbGciOiJIUzI1NiJ9..", "e30.e30.e30",
    "eyJhbGciOiJIUzI1NiJ9.not-base64!.sig", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0",
])
def test_invalid_token_rejection(auth, token):
    for path in PROTECTED:
        assert refused(requests.get(auth.url(path), headers=bearer(token), timeout=5)), (path, token)
    # signed with a key the server does not have
    import jwt
    alien = jwt.encode({"sub": "mallory", "role": "admin", "exp": int(time.time()) + 600},
                       "not-the-stack-secret-0123456789abcdef", algorithm="HS256")
    assert refused(check(auth, "cam1", alien), "token signature mismatch")
