"""vms_limit: rate limits and concurrent-stream leases with a real redis-server and real nginx.

The stack config (conf/nginx/*/limit.conf.in) is used as shipped; the tests add their
locations through EXTRA_SERVER and take user, plan, claim and session from query arguments
(standing in for the auth module's variables, which test_live.py exercises end to end).
"""
import concurrent.futures
import http.client
import json
import re
import signal
import subprocess
import time

import pytest

from helpers import limit_metric as metric, limit_metrics as metrics, redis_cli, wait_until

# Locations under test.  stub_status is only a cheap content handler behind the checks.
LOCATIONS = """
location = /t/rate      { vms_limit_rate 100/h; stub_status; }
location = /t/rate2s    { vms_limit_rate 2/2s; stub_status; }
location = /t/local     { vms_limit_rate 100/h; vms_limit_store local; stub_status; }
location = /t/dry       { vms_limit_rate 3/h scope=dry; vms_limit_dry_run on; stub_status; }
location = /t/open      { vms_limit_rate 1/h scope=p1; vms_limit_on_redis_error open; stub_status; }
location = /t/closed    { vms_limit_rate 1/h scope=p2; vms_limit_on_redis_error closed; stub_status; }
location = /t/fallback  { vms_limit_rate 2/h scope=p3; vms_limit_on_redis_error local; stub_status; }
location = /t/plain     { stub_status; }
location /t/live/       { vms_limit_streams open; stub_status; }
location /t/seg/        { vms_limit_streams renew; stub_status; }
location /t/live-closed/ { vms_limit_streams open; vms_limit_on_redis_error closed; stub_status; }
location = /api/streams/release { vms_limit_streams release; }
location = /t/admit     { vms_limit_streams admit; }
location = /_limit/admit { internal; vms_limit_streams admit; }
vms_limit_rate_key $http_x_api_key $remote_addr;
vms_limit_streams_user $arg_user;
vms_limit_streams_plan $arg_plan;
vms_limit_streams_max $arg_max;
vms_limit_streams_session $arg_sid;
"""

STREAM_VARS = {"EXTRA_SERVER": LOCATIONS}


def request(port, path, method="GET", headers=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def start(stack, redis, name="nginx", **extra):
    v = dict(STREAM_VARS, REDIS_ADDR=redis.addr)
    v.update(extra)
    ngx = stack.nginx(vars=v, name=name)
    # the worker connects at start; wait until it has (no request depends on timing)
    wait_until(lambda: metric(ngx.port, "vms_limit_redis_connects_total") >= 1)
    return ngx


def start_workers(stack, redis, name, workers):
    """Like start(), with several worker processes (the template has worker_processes 1)."""
    import os
    import vmsstack
    # exactness is the point here, not the outage policy: a loaded machine must not turn a slow
    # EVAL into a timeout (50 ms in the stack) and a fallback decision; nor the stack's API budget
    # (100/m per client address, all of these come from 127.0.0.1): which requests it refuses
    # depends on their order, and a refused one may be one the stream limit would have admitted
    prefix, conf, v = stack.nginx_conf(name, dict(STREAM_VARS, REDIS_ADDR=redis.addr,
                                                  LIMIT_REDIS_TIMEOUT="10s", LIMIT_API_RATE="off"))
    with open(conf) as f:
        text = f.read()
    assert "worker_processes 1;" in text
    with open(conf, "w") as f:
        f.write(text.replace("worker_processes 1;", f"worker_processes {workers};"))
    err = os.path.join(prefix, "logs", "error.log")
    svc = stack._start(name, ["nginx", "-p", prefix, "-c", conf, "-e", err, "-g", "daemon off;"],
                       env=stack._env(True), stop_signal=signal.SIGQUIT)
    svc.port, svc.error_log = int(v["HTTP_PORT"]), err
    vmsstack.wait_for(name, lambda: vmsstack.http_get(f"http://127.0.0.1:{svc.port}/health")[0] == 200,
                      20, svc.proc, err)
    wait_until(lambda: metric(svc.port, "vms_limit_redis_connects_total") >= workers,
               what="every worker connected")
    return svc


# -- rate limit ---------------------------------------------------------------------------

def test_101st_request_in_window_gets_429_with_headers_across_two_nodes(stack):
    r = stack.redis()
    a = start(stack, r, "nginx-a")
    b = start(stack, r, "nginx-b")
    key = {"X-Api-Key": "consumer-101"}
    t0 = time.monotonic()
    for i in range(100):
        status, h, _ = request((a if i % 2 else b).port, "/t/rate", headers=key)
        assert status == 200, i
        assert h["ratelimit-limit"] == "100"
        assert h["ratelimit-remaining"] == str(99 - i)
        # seconds until the full budget is back: 36 s (1 h / 100) per request spent, less the time
        # since the first request (at most what passed here; +1 for whole seconds)
        elapsed = time.monotonic() - t0
        assert (i + 1) * 36 - elapsed - 1 <= int(h["ratelimit-reset"]) <= (i + 1) * 36
    status, h, body = request(a.port, "/t/rate", headers=key)
    elapsed = time.monotonic() - t0
    assert status == 429
    assert h["ratelimit-limit"] == "100" and h["ratelimit-remaining"] == "0"
    assert 1 <= int(h["retry-after"]) <= 36      # the next slot frees within one interval
    assert 3600 - elapsed - 1 <= int(h["ratelimit-reset"]) <= 3600
    assert h["content-type"] == "application/json"
    doc = json.loads(body)
    assert doc["error"] == "rate_limited" and doc["limit"] == 100
    # another consumer is not affected; the key is a digest, not the API key itself
    assert request(b.port, "/t/rate", headers={"X-Api-Key": "other"})[0] == 200
    assert "consumer-101" not in redis_cli(r, "--scan", "--pattern", "vms:rl:*")
    assert metric(a.port, 'vms_limit_rejections_total{reason="rate"}') == 1


def test_retry_after_is_honest(stack):
    r = stack.redis()
    ngx = start(stack, r)
    key = {"X-Api-Key": "retry"}
    assert [request(ngx.port, "/t/rate2s", headers=key)[0] for _ in range(2)] == [200, 200]
    status, h, _ = request(ngx.port, "/t/rate2s", headers=key)
    assert status == 429
    time.sleep(int(h["retry-after"]) + 0.1)   # waiting as told must be enough
    assert request(ngx.port, "/t/rate2s", headers=key)[0] == 200


def test_local_shared_memory_mode_same_algorithm(stack):
    r = stack.redis()
    ngx = start(stack, r)
    key = {"X-Api-Key": "local"}
    statuses = [request(ngx.port, "/t/local", headers=key)[0] for _ in range(101)]
    assert statuses == [200] * 100 + [429]
    # nothing of it went to Redis
    assert redis_cli(r, "--scan", "--pattern", "vms:rl:*") == ""


def test_dry_run_counts_but_never_refuses(stack):
    r = stack.redis()
    ngx = start(stack, r)
    statuses = [request(ngx.port, "/t/dry", headers={"X-Api-Key": "dry"})[0] for _ in range(6)]
    assert statuses == [200] * 6
    assert metric(ngx.port, "vms_limit_dry_run_rejections_total") == 3
    assert metric(ngx.port, 'vms_limit_rejections_total{reason="rate"}') == 0


# -- concurrent streams -----------------------------------------------------------------

def open_stream(port, user, sid, plan="", extra=""):
    return request(port, f"/t/live/cam1.m3u8?user={user}&sid={sid}&plan={plan}{extra}")


def test_plan_limits_exact_under_200_concurrent_opens_on_two_nodes(stack):
    r = stack.redis()
    nodes = [start_workers(stack, r, "nginx-a", 2), start_workers(stack, r, "nginx-b", 2)]
    plans = {"ufree": ("free", 2), "upro": ("pro", 8), "uent": ("enterprise", 32)}
    jobs = []
    for i in range(200):
        user = list(plans)[i % 3]
        jobs.append((nodes[i % 2].port, user, f"s{i}", plans[user][0]))

    with concurrent.futures.ThreadPoolExecutor(max_workers=40) as ex:
        results = list(ex.map(lambda j: (j[1], open_stream(j[0], j[1], j[2], j[3])), jobs))

    for n in nodes:
        assert metric(n.port, "vms_limit_redis_timeouts_total") == 0
    for user, (plan, limit) in plans.items():
        statuses = [res[0] for u, res in results if u == user]
        assert statuses.count(200) == limit, (user, statuses.count(200), sorted(set(statuses)))
        assert statuses.count(429) == len(statuses) - limit
        assert int(redis_cli(r, "ZCARD", f"vms:leases:{user}")) == limit
    refused = next(res for u, res in results if u == "ufree" and res[0] == 429)
    assert json.loads(refused[2]) == {"error": "limit_exceeded",
                                      "message": "Limite de 2 streams atingido",
                                      "limit": 2, "active": 2}
    assert int(refused[1]["retry-after"]) >= 1


def test_same_session_counts_once_and_overrides(stack):
    r = stack.redis()
    ngx = start(stack, r)
    assert [open_stream(ngx.port, "u1", "a")[0] for _ in range(5)] == [200] * 5
    assert open_stream(ngx.port, "u1", "b")[0] == 200
    assert open_stream(ngx.port, "u1", "c")[0] == 429           # free: 2
    # the token's max_concurrent_streams claim raises it
    assert open_stream(ngx.port, "u1", "c", extra="&max=3")[0] == 200
    # an administrator's Redis override wins over plan and claim
    redis_cli(r, "HSET", "vms:user:u1", "max_concurrent_streams", "4")
    assert open_stream(ngx.port, "u1", "d", extra="&max=3")[0] == 200
    status, _, body = open_stream(ngx.port, "u1", "e", extra="&max=3")
    assert status == 429 and json.loads(body)["limit"] == 4


def test_idle_lease_expires_and_frees_the_slot(stack):
    r = stack.redis()
    ngx = start(stack, r, LIMIT_STREAM_TTL="1s")
    assert open_stream(ngx.port, "u2", "a")[0] == 200
    assert open_stream(ngx.port, "u2", "b")[0] == 200
    status, h, _ = open_stream(ngx.port, "u2", "c")
    assert status == 429 and int(h["retry-after"]) == 1
    # nobody renews: the slots free themselves (a crashed player)
    wait_until(lambda: open_stream(ngx.port, "u2", "c")[0] == 200, what="expired lease frees slot")


def test_activity_renews_lease_without_waiting(stack):
    r = stack.redis()
    ngx = start(stack, r, LIMIT_STREAM_TTL="2s")
    assert open_stream(ngx.port, "u3", "a")[0] == 200
    assert open_stream(ngx.port, "u3", "b")[0] == 200
    # player "a" keeps fetching segments; "b" goes silent
    renewals = 0
    while open_stream(ngx.port, "u3", "c")[0] != 200:
        assert request(ngx.port, "/t/seg/cam1/seg1.m4s?user=u3&sid=a")[0] == 200
        renewals += 1
        assert renewals < 200, "b's lease never expired"
        time.sleep(0.2)
    # b expired, a was kept alive by its segment requests: no room for d
    assert open_stream(ngx.port, "u3", "d")[0] == 429
    members = redis_cli(r, "ZRANGE", "vms:leases:u3", "0", "-1").split()
    assert sorted(members) == ["a", "c"]


def test_release_endpoint(stack):
    r = stack.redis()
    ngx = start(stack, r)
    assert open_stream(ngx.port, "u4", "a")[0] == 200
    assert open_stream(ngx.port, "u4", "b")[0] == 200
    assert open_stream(ngx.port, "u4", "c")[0] == 429
    status, _, body = request(ngx.port, "/api/streams/release?user=u4&sid=a", method="POST")
    assert status == 200 and json.loads(body) == {"released": True}
    assert open_stream(ngx.port, "u4", "c")[0] == 200
    status, _, body = request(ngx.port, "/api/streams/release?user=u4&sid=a", method="DELETE")
    assert status == 200 and json.loads(body) == {"released": False}
    assert request(ngx.port, "/api/streams/release?user=u4&sid=b")[0] == 405
    assert request(ngx.port, "/api/streams/release?user=u4&sid=", method="POST")[0] == 400


def test_missing_user_is_refused(stack):
    r = stack.redis()
    ngx = start(stack, r)
    assert request(ngx.port, "/t/live/cam1.m3u8?sid=a")[0] == 403


# -- Redis outages --------------------------------------------------------------------------

def test_redis_stopped_policies_and_unrelated_locations(stack):
    r = stack.redis()
    ngx = start(stack, r)
    assert request(ngx.port, "/t/fallback", headers={"X-Api-Key": "k"})[0] == 200
    r.signal(signal.SIGSTOP)
    try:
        # unrelated location: served as usual
        assert request(ngx.port, "/t/plain")[0] == 200
        assert request(ngx.port, "/health")[0] == 200
        # open: allowed; closed: 503 with Retry-After; local: the shared-zone limiter decides
        assert [request(ngx.port, "/t/open")[0] for _ in range(3)] == [200] * 3
        status, h, body = request(ngx.port, "/t/closed")
        assert status == 503 and h["retry-after"] == "1"
        assert json.loads(body)["error"] == "limit_unavailable"
        local = [request(ngx.port, "/t/fallback", headers={"X-Api-Key": "k2"})[0] for _ in range(3)]
        assert local == [200, 200, 429]
        assert request(ngx.port, "/t/live-closed/x?user=u5&sid=a")[0] == 503
        assert open_stream(ngx.port, "u5", "a")[0] == 200       # local policy for streams
        m = metrics(ngx.port)
        assert m["vms_limit_redis_timeouts_total"] >= 1
        assert m['vms_limit_fallback_total{policy="local"}'] >= 1
        assert m['vms_limit_fallback_total{policy="open"}'] >= 3
        assert m['vms_limit_rejections_total{reason="unavailable"}'] >= 2
    finally:
        r.signal(signal.SIGCONT)
    # Redis back: decisions are Redis' again (the key used before the outage is still there)
    wait_until(lambda: request(ngx.port, "/t/closed")[0] in (200, 429), what="Redis answers again")


def test_redis_restart_reconnects_without_reload(stack):
    r = stack.redis()
    ngx = start(stack, r)
    port = r.port
    assert request(ngx.port, "/t/closed", headers={"X-Api-Key": "before"})[0] == 200
    r.stop()
    assert request(ngx.port, "/t/closed", headers={"X-Api-Key": "during"})[0] == 503
    r2 = stack.redis(port=port, name="redis-again")
    wait_until(lambda: request(ngx.port, "/t/closed", headers={"X-Api-Key": "after"})[0] == 200,
               what="reconnect")
    assert redis_cli(r2, "--scan", "--pattern", "vms:rl:p2:*") != ""
    assert metric(ngx.port, "vms_limit_redis_connects_total") >= 2
    # scripts were loaded again on the new connection: the next call is one EVALSHA
    assert request(ngx.port, "/t/closed", headers={"X-Api-Key": "after"})[0] == 429
    with open(ngx.error_log) as f:
        log = f.read()
    assert re.search(r"redis 127\.0\.0\.1:\d+: connection lost", log)


def test_reload_keeps_shared_zone_and_reconnects(stack):
    r = stack.redis()
    ngx = start(stack, r)
    key = {"X-Api-Key": "reload"}
    assert [request(ngx.port, "/t/local", headers=key)[0] for _ in range(60)] == [200] * 60
    connects = metric(ngx.port, "vms_limit_redis_connects_total")
    ngx.reload()
    # the new worker connects on its own; counters and local state live in the kept zone
    wait_until(lambda: metric(ngx.port, "vms_limit_redis_connects_total") > connects,
               what="new worker connected")
    statuses = [request(ngx.port, "/t/local", headers=key)[0] for _ in range(41)]
    assert statuses == [200] * 40 + [429]
    assert request(ngx.port, "/t/rate", headers=key)[0] == 200


def test_stalled_redis_fails_fast_then_reconnects(stack):
    r = stack.redis()
    ngx = start(stack, r)
    r.signal(signal.SIGSTOP)
    try:
        assert [request(ngx.port, "/t/closed")[0] for _ in range(8)] == [503] * 8
        m = metrics(ngx.port)
        # three calls waited for their timeout; the rest were refused at once
        assert m["vms_limit_redis_timeouts_total"] == 3
        assert m["vms_limit_redis_unavailable_total"] >= 5

        def log_has(text):
            with open(ngx.error_log) as f:
                return text in f.read()
        assert log_has("calls in a row timed out, failing fast")
        wait_until(lambda: log_has("no reply for 2000 ms, reconnecting"), what="stall reconnect")
    finally:
        r.signal(signal.SIGCONT)
    wait_until(lambda: request(ngx.port, "/t/closed")[0] in (200, 429), what="Redis answers again")


def test_script_flush_falls_back_to_eval(stack):
    r = stack.redis()
    ngx = start(stack, r)
    key = {"X-Api-Key": "flush"}
    assert request(ngx.port, "/t/rate", headers=key)[1]["ratelimit-remaining"] == "99"
    redis_cli(r, "SCRIPT", "FLUSH")
    status, h, _ = request(ngx.port, "/t/rate", headers=key)
    assert status == 200 and h["ratelimit-remaining"] == "98"      # Redis decided, not a fallback
    m = metrics(ngx.port)
    assert m['vms_limit_fallback_total{policy="local"}'] == 0
    assert m["vms_limit_redis_errors_total"] == 0


@pytest.mark.parametrize("extra, message", [
    ({"REDIS_ADDR": "redis.example:6379"}, "host must be a numeric IP address"),
    ({"EXTRA_SERVER": "location /x { vms_limit_rate 100/x; }"}, 'invalid rate "100/x"'),
    ({"EXTRA_SERVER": "location /x { vms_limit_streams maybe; }"}, 'invalid value "maybe"'),
    ({"LIMIT_DEFAULT_PLAN": "gold"}, 'vms_limit_default_plan "gold" is not a configured plan'),
])
def test_bad_config_is_refused_with_a_clear_message(stack, extra, message):
    r = stack.nginx_test(vars=extra)
    assert r.returncode != 0
    assert message in r.stderr


# -- with vms_auth: the defaults come from the token --------------------------------------

AUTH_LOCATIONS = """
location /a/live/  { vms_auth on; vms_limit_streams open; stub_status; }
location = /a/rate { vms_auth on; vms_limit_rate 3/h scope=auth; stub_status; }
"""


def test_defaults_follow_the_auth_modules_variables(stack):
    import os
    if "ngx_http_vms_auth_module.so" not in os.listdir(os.path.join(stack.build, "modules")):
        pytest.skip("vms_auth not built")
    from test_auth_helpers import Keys
    keys = Keys(stack)
    r = stack.redis()
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr, "EXTRA_SERVER": AUTH_LOCATIONS})
    wait_until(lambda: metric(ngx.port, "vms_limit_redis_connects_total") >= 1)

    def get(path, tok):
        return request(ngx.port, path, headers={"Authorization": f"Bearer {tok}"})[0]

    # user = sub, plan = claim "plan", session = jti
    pro = [keys.token(sub="bob", plan="pro") for _ in range(9)]
    assert [get("/a/live/cam1.m3u8", t) for t in pro] == [200] * 8 + [429]
    assert get("/a/live/cam1.m3u8", pro[0]) == 200                # same jti: same session
    assert int(redis_cli(r, "ZCARD", "vms:leases:bob")) == 8
    free = [keys.token(sub="carol") for _ in range(3)]            # no plan claim: default plan
    assert [get("/a/live/cam1.m3u8", t) for t in free] == [200, 200, 429]
    # rate key = sub: two users behind one address have their own budgets
    assert [get("/a/rate", keys.token(sub="dave")) for _ in range(4)] == [200, 200, 200, 429]
    assert get("/a/rate", keys.token(sub="erin")) == 200


def test_redis_over_unix_socket(stack):
    import os
    sock = os.path.join(stack.path("redis-unix"), "redis.sock")
    svc = stack._start("redis-unix", ["redis-server", "--port", "0", "--unixsocket", sock,
                                      "--save", "", "--appendonly", "no",
                                      "--dir", stack.path("redis-unix")])
    wait_until(lambda: os.path.exists(sock), what="redis unix socket")
    ngx = stack.nginx(vars={"REDIS_ADDR": f"unix:{sock}", **STREAM_VARS})
    wait_until(lambda: metric(ngx.port, "vms_limit_redis_connects_total") >= 1, what="connected")
    assert request(ngx.port, "/t/rate", headers={"X-Api-Key": "unix"})[0] == 200
    keys = subprocess.run(["redis-cli", "-s", sock, "--scan", "--pattern", "vms:rl:*"],
                          capture_output=True, text=True, check=True).stdout
    assert keys.strip() != ""
    svc.stop()


def test_admit_endpoint_and_subrequests(stack):
    import os
    r = stack.redis()
    page = os.path.join(stack.work, "ssi.html")
    ngx = start(stack, r, EXTRA_SERVER=LOCATIONS + "location = /t/ssi.html "
                f"{{ ssi on; default_type text/html; alias {page}; }}")
    # a service opening streams on a user's behalf
    assert [request(ngx.port, f"/t/admit?user=u6&sid={s}")[0] for s in "aab"] == [204, 204, 204]
    status, _, body = request(ngx.port, "/t/admit?user=u6&sid=c")
    assert status == 429 and json.loads(body)["active"] == 2
    # another module's subrequests (here SSI's), each waiting on Redis in turn
    with open(page, "w") as f:
        f.write("".join(f'{x}<!--# include virtual="/_limit/admit?user=u7&sid={x}" -->' for x in "abc")
                + "end")
    status, _, body = request(ngx.port, "/t/ssi.html")
    assert status == 200
    text = body.decode()
    assert text.startswith("abc{") and text.endswith("}\nend"), text
    assert json.loads(text[3:-3]) == {"error": "limit_exceeded",
                                       "message": "Limite de 2 streams atingido",
                                       "limit": 2, "active": 2}
    assert sorted(redis_cli(r, "ZRANGE", "vms:leases:u7", "0", "-1").split()) == ["a", "b"]
    # the internal location is not reachable from outside
    assert request(ngx.port, "/_limit/admit?user=u8&sid=a")[0] == 404
