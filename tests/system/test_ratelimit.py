"""The stack's rate limits (docs/limit.md, "Stack rate limits"; issue #20 item 2) through the
shipped templates with vms_auth, vms_limit and a real redis-server: 100 API requests a minute per
consumer (token `sub`, else client address), a separate budget per player session for media, and
30 answers 401/403 a minute per client address before that address is refused outright.

Every request of these tests comes from 127.0.0.1, so "two clients" are two tokens (two `sub`s).
GCRA refills continuously (one request every 0.6 s at 100/m), so on a loaded machine the exact
count of a burst depends on how fast the test runs: the exact-count tests run the same templates
with the same counts per hour (LIMIT_API_RATE=100/h, LIMIT_FAIL_RATE=30/h, LIMIT_MEDIA_RATE=600/h),
and test_shipped_defaults checks the shipped per-minute budgets within bounds computed from the
time the test took."""
import os
import signal
import time

import pytest
import requests

from test_auth_helpers import Keys, bearer
from helpers import limit_metric as metric, wait_until


@pytest.fixture
def rl(stack):
    if not {"ngx_http_vms_auth_module.so", "ngx_http_vms_limit_module.so"} <= set(
            os.listdir(os.path.join(stack.build, "modules"))):
        pytest.skip("vms_auth and vms_limit not built")
    keys = Keys(stack)
    r = stack.redis()
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9", **HOURLY})
    wait_until(lambda: metric(ngx.port, "vms_limit_redis_connects_total") >= 1)
    ngx.keys, ngx.redis = keys, r
    return ngx


HOURLY = {"LIMIT_API_RATE": "100/h", "LIMIT_FAIL_RATE": "30/h", "LIMIT_MEDIA_RATE": "600/h"}


def check(ngx, tok=None, cam="cam1", session=None):
    return (session or requests).get(ngx.url(f"/api/auth/check/{cam}"),
                                     headers=bearer(tok) if tok else {}, timeout=5)


def guess(ngx, token, session=None):
    body = {"ip": "127.0.0.1", "user": "", "password": "", "token": token, "action": "read",
            "path": "cam1", "protocol": "hls", "id": None, "query": ""}
    return (session or requests).post(ngx.url("/api/auth/validate-stream"), json=body, timeout=5)


def assert_refused(resp, limit, period=3600):
    assert resp.status_code == 429, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.headers["RateLimit-Limit"] == str(limit)
    assert resp.headers["RateLimit-Remaining"] == "0"
    assert 1 <= int(resp.headers["Retry-After"]) <= period // limit + 1
    assert period - period // limit - 1 <= int(resp.headers["RateLimit-Reset"]) <= period
    doc = resp.json()
    assert doc["error"] == "rate_limited" and doc["limit"] == limit
    assert doc["retry_after"] == int(resp.headers["Retry-After"])
    return doc


def test_101st_api_request_of_a_minute_is_refused_per_consumer(rl):
    alice = rl.keys.token(sub="alice", role="viewer", camera_id="cam1")
    bob = rl.keys.token(sub="bob", role="viewer", camera_id="cam1")
    s = requests.Session()
    for i in range(100):
        resp = check(rl, alice, session=s)
        assert resp.status_code == 200, (i, resp.text)
        assert resp.headers["RateLimit-Limit"] == "100"
        assert resp.headers["RateLimit-Remaining"] == str(99 - i)
    assert_refused(check(rl, alice, session=s), 100)
    # another token of the same user shares the budget (the consumer is the sub) ...
    assert check(rl, rl.keys.token(sub="alice", role="viewer", camera_id="cam1")).status_code == 429
    # ... on every API route (the budget is the server's, not the location's)
    t1 = rl.keys.token(sub="alice", role="viewer", camera_id="cam1", tenant_id="t1")
    assert requests.get(rl.url("/api/auth/tenants/t1/cameras/cam1"), headers=bearer(t1),
                        timeout=5).status_code == 429
    # endpoints that read their token in the content phase (whoami, stream-token, revoke,
    # validate-stream) are keyed by the client address: vms_limit runs before them
    resp = requests.get(rl.url("/api/auth/whoami"), headers=bearer(alice), timeout=5)
    assert resp.status_code == 200 and resp.headers["RateLimit-Remaining"] == "99"
    # a second consumer behind the same address is independent
    resp = check(rl, bob)
    assert resp.status_code == 200 and resp.headers["RateLimit-Remaining"] == "99"
    assert metric(rl.port, 'vms_limit_rejections_total{reason="rate"}') == 3
    # a client-chosen header does not buy a fresh budget
    resp = requests.get(rl.url("/api/auth/check/cam1"),
                        headers={**bearer(alice), "X-Api-Key": "fresh"}, timeout=5)
    assert resp.status_code == 429


def test_unauthenticated_guessing_is_refused_sooner_and_learns_nothing(rl):
    s = requests.Session()
    statuses = [guess(rl, f"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.guess{i}", s).status_code
                for i in range(30)]
    assert statuses == [401] * 30
    doc = assert_refused(guess(rl, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.guess31", s), 30)
    assert doc["scope"] == "auth_failures"
    # a right "guess" is refused the same way: the answer says nothing about the token
    valid = rl.keys.token(sub="carol", role="viewer", camera_id="cam1")
    assert guess(rl, valid).status_code == 429
    assert check(rl, valid).status_code == 429
    # requests without any token are refused too (the address is over its budget)
    assert check(rl).status_code == 429
    # pages stay reachable
    assert requests.get(rl.url("/index.html"), timeout=5).status_code == 200
    assert metric(rl.port, 'vms_limit_rejections_total{reason="auth_failures"}') == 4
    assert metric(rl.port, "vms_limit_auth_failures_total") == 30


def test_requests_without_token_and_forbidden_ones_count_as_failures(rl):
    s = requests.Session()
    viewer = rl.keys.token(sub="dave", role="viewer", camera_id="cam1")
    # 15 without a token (401), 15 with a valid token on a camera it may not see (403)
    assert [check(rl, session=s).status_code for _ in range(15)] == [401] * 15
    assert [check(rl, viewer, cam="cam2", session=s).status_code for _ in range(15)] == [403] * 15
    assert_refused(check(rl, viewer, session=s), 30)


def test_successful_requests_do_not_use_the_failure_budget(rl):
    alice = rl.keys.token(sub="erin", role="viewer", camera_id="cam1")
    s = requests.Session()
    assert all(check(rl, alice, session=s).status_code == 200 for _ in range(40))
    assert [check(rl, session=s).status_code for _ in range(3)] == [401] * 3


def test_media_of_a_playing_stream_does_not_use_the_api_budget(rl):
    """A live player reloads the playlist and fetches a segment about every second; four tiles of
    one user for 30 s = 240 requests: over the API budget, well inside the media budget of each
    session (per stream token)."""
    hls = os.path.join(rl.prefix, "hls")
    for cam in ("cam1", "cam2", "cam3", "cam4"):
        os.makedirs(os.path.join(hls, cam), exist_ok=True)
        with open(os.path.join(hls, cam, "index.m3u8"), "w") as f:
            f.write("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n1.ts\n")
        with open(os.path.join(hls, cam, "1.ts"), "wb") as f:
            f.write(b"\x47" * 188)
    tokens = {cam: rl.keys.token(sub="frank", plan="pro", camera_id=cam,
                                 permissions=["view_stream"], token_use="stream")
              for cam in ("cam1", "cam2", "cam3", "cam4")}
    s = requests.Session()
    seg = {}
    for _ in range(30):
        for cam, tok in tokens.items():
            pl = s.get(rl.url(f"/live/{cam}/index.m3u8"), headers=bearer(tok), timeout=5)
            assert pl.status_code == 200
            # segments carry the playlist's signed player session (docs/limit.md)
            seg[cam] = [ln for ln in pl.text.splitlines() if ln.startswith("1.ts")][0]
            resp = s.get(rl.url(f"/live/{cam}/{seg[cam]}"), headers=bearer(tok), timeout=5)
            assert resp.status_code == 200
    assert resp.headers["RateLimit-Limit"] == "600"
    assert resp.headers["RateLimit-Remaining"] == str(600 - 60)   # this session: 30 + 30
    # the user's API budget is untouched by those 240 media requests
    user = rl.keys.token(sub="frank", plan="pro", role="viewer", camera_id="cam1")
    resp = check(rl, user)
    assert resp.status_code == 200 and resp.headers["RateLimit-Remaining"] == "99"
    # a runaway session is still bounded
    cam1 = tokens["cam1"]
    statuses = [s.get(rl.url(f"/live/cam1/{seg['cam1']}"), headers=bearer(cam1), timeout=5).status_code
                for _ in range(541)]
    assert statuses == [200] * 540 + [429]
    assert_refused(s.get(rl.url("/live/cam1/1.ts"), headers=bearer(cam1), timeout=5), 600)


def test_redis_outage_follows_the_local_policy(rl):
    """Default policy `local`: with Redis gone, this node's shared zone decides.  The API budget
    starts afresh in the zone (Redis held it); failed-auth answers are mirrored in the zone, so
    that budget carries on through the outage."""
    s = requests.Session()
    assert [check(rl, session=s).status_code for _ in range(20)] == [401] * 20
    rl.redis.signal(signal.SIGKILL)
    rl.redis.proc.wait()
    wait_until(lambda: metric(rl.port, "vms_limit_redis_disconnects_total") >= 1)
    assert [check(rl, session=s).status_code for _ in range(10)] == [401] * 10
    assert_refused(check(rl, session=s), 30)
    assert check(rl, rl.keys.token(sub="grace", role="viewer", camera_id="cam1")).status_code == 429
    assert metric(rl.port, 'vms_limit_fallback_total{policy="local"}') >= 11


def test_redis_outage_api_budget_decided_by_the_zone(rl):
    rl.redis.signal(signal.SIGKILL)
    rl.redis.proc.wait()
    wait_until(lambda: metric(rl.port, "vms_limit_redis_disconnects_total") >= 1)
    alice = rl.keys.token(sub="heidi", role="viewer", camera_id="cam1")
    s = requests.Session()
    statuses = [check(rl, alice, session=s).status_code for _ in range(101)]
    assert statuses == [200] * 100 + [429]
    assert metric(rl.port, 'vms_limit_fallback_total{policy="local"}') >= 101


def until_refused(fn, cap):
    """Calls fn() until it answers 429 (at most cap times): (statuses, seconds taken)."""
    t0 = time.monotonic()
    statuses = []
    while len(statuses) < cap:
        statuses.append(fn().status_code)
        if statuses[-1] == 429:
            break
    return statuses, time.monotonic() - t0


def test_shipped_defaults(stack):
    """The shipped budgets: 100 API requests a minute, 30 failed answers a minute.  Exactly
    100 (30) when the burst takes under 0.6 s (2 s); one more for each such interval it took."""
    keys = Keys(stack)
    r = stack.redis()
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9"})
    tok = keys.token(sub="kim", role="viewer", camera_id="cam1")
    s = requests.Session()
    first = check(ngx, tok, session=s)
    assert first.headers["RateLimit-Limit"] == "100" and first.headers["RateLimit-Remaining"] == "99"
    statuses, took = until_refused(lambda: check(ngx, tok, session=s), 1000)
    allowed = 1 + statuses.count(200)
    assert statuses[-1] == 429 and set(statuses[:-1]) == {200}
    assert 100 <= allowed <= 100 + int(took / 0.6) + 1, (allowed, took)
    assert_refused(check(ngx, tok, session=s), 100, 60)
    statuses, took = until_refused(lambda: check(ngx, session=s), 1000)
    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}
    assert 30 <= len(statuses) - 1 <= 30 + int(took / 2) + 1, (statuses, took)


def test_budgets_are_stack_variables(stack):
    keys = Keys(stack)
    r = stack.redis()
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9",
                            "LIMIT_API_RATE": "3/m", "LIMIT_FAIL_RATE": "2/m"})
    tok = keys.token(sub="ivan", role="viewer", camera_id="cam1")
    assert [check(ngx, tok).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [check(ngx).status_code for _ in range(3)] == [401, 401, 429]
    ngx.stop()
    off = stack.nginx(vars={"REDIS_ADDR": r.addr, "KAFKA_BROKERS": "127.0.0.1:9",
                            "LIMIT_API_RATE": "off", "LIMIT_FAIL_RATE": "off"}, name="nginx-off")
    resp = check(off, tok)
    assert resp.status_code == 200 and "RateLimit-Limit" not in resp.headers
    assert all(check(off).status_code == 401 for _ in range(40))


def test_redis_keys_hold_no_credentials(rl):
    tok = rl.keys.token(sub="judy", role="viewer", camera_id="cam1")
    check(rl, tok)
    check(rl)
    import subprocess
    out = subprocess.run(["redis-cli", "-p", str(rl.redis.port), "--scan"], capture_output=True,
                         text=True, check=True).stdout.split()
    assert any(k.startswith("vms:rl:default:0:") for k in out), out
    assert any(k.startswith("vms:fail:") for k in out), out
    assert not any("judy" in k or "127.0.0.1" in k for k in out), out
