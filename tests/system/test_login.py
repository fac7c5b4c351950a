"""Sign-in with a password (docs/users.md): vms-login behind real nginx, with PostgreSQL and Redis;
users made with the vms-user CLI.  Passwords are random per run: none may reach a log or a
command line."""
import glob
import secrets

import pytest
import requests

import logscan
from vmsstack import wait_for

XRW = {"X-Requested-With": "vms"}


@pytest.fixture
def site(stack):
    r = stack.redis()
    pg = stack.postgres()
    login = stack.login(pg, r)
    ngx = stack.nginx(vars={"LOGIN_PROXY": login.proxy, "REDIS_ADDR": r.addr})
    return pg, r, login, ngx


def add_user(login, name, password, *args):
    p = login.user("add", name, *args, password=password)
    assert p.returncode == 0, p.stderr
    return password


def sign_in(base, name, password):
    return requests.post(base + "/api/auth/login", json={"username": name, "password": password}, timeout=30)


def refresh_cookie(resp):
    """The vms_refresh value and the cookie's attributes (lower-cased names) of a Set-Cookie."""
    parts = [p.strip() for p in resp.headers["Set-Cookie"].split(";")]
    name, value = parts[0].split("=", 1)
    assert name == "vms_refresh"
    attrs = {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else True) for p in parts[1:]}
    return value, attrs


def bearer(token):
    return {"Authorization": "Bearer " + token}


def test_sign_in_refresh_logout(stack, site):
    pg, _, login, ngx = site
    base = ngx.url("").rstrip("/")
    pw_alice = add_user(login, "alice", secrets.token_urlsafe(12), "--role", "operator", "--plan", "pro")
    pw_bob = add_user(login, "bob", secrets.token_urlsafe(12))
    assert login.user("disable", "bob").returncode == 0
    listed = login.user("list", "--json")
    assert '"username":"bob"' in listed.stdout and '"disabled":true' in listed.stdout

    # the right password: a token nginx's vms_auth accepts, and a refresh cookie
    ok = sign_in(base, "alice", pw_alice)
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["token_type"] == "Bearer" and body["user"] == {"username": "alice", "role": "operator", "plan": "pro"}
    who = requests.get(base + "/api/auth/whoami", headers=bearer(body["token"]), timeout=10)
    assert who.status_code == 200 and who.json()["sub"] == "alice", who.text
    rt, attrs = refresh_cookie(ok)
    assert attrs.get("path") == "/api/auth" and attrs.get("httponly") and attrs.get("secure")
    assert attrs.get("samesite") == "Strict" and int(attrs["max-age"]) > 0

    # wrong password, unknown user, disabled user (right password): one body, byte for byte
    answers = [sign_in(base, "alice", "not-" + pw_alice), sign_in(base, "nobody", pw_alice),
               sign_in(base, "bob", pw_bob)]
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert answers[0].content == answers[1].content == answers[2].content
    assert answers[0].json()["error"] == "invalid_credentials"

    # refresh spends the cookie and gives the next one; the spent one again ends the session
    r1 = requests.post(base + "/api/auth/refresh", headers={**XRW, "Cookie": f"vms_refresh={rt}"}, timeout=10)
    assert r1.status_code == 200, r1.text
    rt2, _ = refresh_cookie(r1)
    assert rt2 != rt and r1.json()["token"] != body["token"]
    assert requests.post(base + "/api/auth/refresh", headers={"Cookie": f"vms_refresh={rt2}"},
                         timeout=10).status_code == 403            # no X-Requested-With
    spent = requests.post(base + "/api/auth/refresh", headers={**XRW, "Cookie": f"vms_refresh={rt}"}, timeout=10)
    assert spent.status_code == 401 and spent.json()["error"] == "invalid_refresh"
    after = requests.post(base + "/api/auth/refresh", headers={**XRW, "Cookie": f"vms_refresh={rt2}"}, timeout=10)
    assert after.status_code == 401                                 # the whole session was revoked

    # logout: the refresh cookie is dead and nginx refuses the access token (revoked in Redis)
    ok = sign_in(base, "alice", pw_alice)
    token, (rt, _) = ok.json()["token"], refresh_cookie(ok)
    out = requests.post(base + "/api/auth/logout", headers={**XRW, **bearer(token), "Cookie": f"vms_refresh={rt}"},
                        timeout=10)
    assert out.status_code == 200 and out.json() == {"logged_out": True}, out.text
    assert refresh_cookie(out)[1]["max-age"] == "0"
    assert requests.post(base + "/api/auth/refresh", headers={**XRW, "Cookie": f"vms_refresh={rt}"},
                         timeout=10).status_code == 401
    # nginx may reuse a "not revoked" answer for vms_auth_revocation_cache (5 s)
    wait_for("revoked token refused", lambda: requests.get(base + "/api/auth/whoami", headers=bearer(token),
                                                           timeout=10).status_code == 401, 20)

    # vms-user passwd and enable through the CLI; passwd ends the user's sessions, access tokens too
    token = sign_in(base, "alice", pw_alice).json()["token"]
    new_pw = secrets.token_urlsafe(12)
    assert login.user("passwd", "alice", password=new_pw).returncode == 0
    wait_for("token of a changed password refused", lambda: requests.get(
        base + "/api/auth/whoami", headers=bearer(token), timeout=10).status_code == 401, 20)
    assert sign_in(base, "alice", pw_alice).status_code == 401
    assert sign_in(base, "alice", new_pw).status_code == 200
    assert login.user("enable", "bob").returncode == 0
    assert sign_in(base, "bob", pw_bob).status_code == 200

    # PostgreSQL away: 503 JSON; back: sign-in works again without restarting vms-login
    pg.stop()
    down = sign_in(base, "alice", new_pw)
    assert down.status_code == 503 and down.json()["error"] == "unavailable", down.text
    stack.postgres(port=pg.port)
    wait_for("login after PostgreSQL is back", lambda: sign_in(base, "alice", new_pw).status_code == 200, 30)

    # no password on any command line or in any log of the run
    passwords = [pw_alice, pw_bob, new_pw]
    for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(cmdline, "rb") as f:
                argv = f.read()
        except OSError:
            continue
        assert not any(p.encode() in argv for p in passwords), cmdline
    assert logscan.scan(stack.work, passwords) == []
    metrics = requests.get(login.url("/metrics"), timeout=10).text
    assert 'vms_login_attempts_total{outcome="invalid"}' in metrics


def test_failed_sign_ins_are_limited(stack):
    r = stack.redis()
    pg = stack.postgres()
    login = stack.login(pg, r)
    ngx = stack.nginx(vars={"LOGIN_PROXY": login.proxy, "REDIS_ADDR": r.addr, "LOGIN_FAIL_RATE": "5/15m"})
    pw = add_user(login, "carol", secrets.token_urlsafe(12))

    # per user name, at vms-login itself (nginx's per-address budget is smaller here)
    for name in ("carol", "ghost"):                  # a name that exists and one that does not
        for _ in range(10):
            assert sign_in(login.url("").rstrip("/"), name, "wrong-password").status_code == 401
        locked = sign_in(login.url("").rstrip("/"), name, pw)
        assert locked.status_code == 429 and locked.json()["error"] == "too_many_attempts", locked.text
        assert int(locked.headers["Retry-After"]) > 0

    # per client address, at nginx: the sixth wrong try (each for a fresh name) is nginx's 429
    base = ngx.url("").rstrip("/")
    codes = [sign_in(base, f"user{i}", "wrong-password").status_code for i in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    refused = sign_in(base, "carol", pw)
    assert refused.status_code == 429 and refused.json().get("scope") == "auth_failures", refused.text


def test_without_vms_login_the_routes_answer_503_json(stack):
    ngx = stack.nginx(vars={"REDIS_ADDR": "127.0.0.1:9"})          # no LOGIN_PROXY
    for path in ("/api/auth/login", "/api/auth/refresh", "/api/auth/logout"):
        r = requests.post(ngx.url(path), json={}, timeout=10)
        assert r.status_code == 503 and r.json()["error"] == "service_unavailable", (path, r.text)
    # the other /api/auth/ routes are vms_auth's as before
    assert requests.get(ngx.url("/api/auth/whoami"), timeout=10).status_code == 401
