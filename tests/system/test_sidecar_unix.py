"""nginx -> vms-login and nginx -> vms-review-api over unix sockets (`--listen unix:PATH`,
`--listen-mode`, docs/security.md "Transport"): the same binding rules as vmsd's API socket
(sidecar/base/unixsock.c): created with its final mode, a live one refused, removed at stop, and no
TCP port open while the socket is configured."""
import os
import secrets
import stat
import subprocess

import requests

from helpers import token as stack_token


def listening(pid, kind):
    """The listening sockets (`ss -l`, kind "t" TCP or "x" unix) held by process pid."""
    out = subprocess.run(["ss", "-Hlp" + kind], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if f"pid={pid}," in line]


def test_login_and_review_api_behind_nginx_on_unix_sockets(stack):
    r = stack.redis()
    pg = stack.postgres()
    d = stack.path("sidecar-sockets")
    login = stack.login(pg, r, socket=os.path.join(d, "login.sock"), args=("--cookie-secure", "off"))
    review = stack.review_api(pg, socket=os.path.join(d, "review.sock"))
    for svc in (login, review):
        st = os.stat(svc.socket)
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660, oct(st.st_mode)
        assert listening(svc.pid, "t") == [], listening(svc.pid, "t")     # no TCP port at all
        assert any(svc.socket in line for line in listening(svc.pid, "x"))
    ngx = stack.nginx(vars={"LOGIN_PROXY": login.proxy, "REVIEW_API": review.addr, "REDIS_ADDR": r.addr})

    # a sign-in through nginx -> socket -> vms-login, and the token it gives works on the review API
    pw = secrets.token_urlsafe(12)
    assert login.user("add", "carol", "--role", "operator", password=pw).returncode == 0
    ok = requests.post(ngx.url("/api/auth/login"), json={"username": "carol", "password": pw}, timeout=30)
    assert ok.status_code == 200 and ok.json()["token"], ok.text
    user = {"Authorization": "Bearer " + ok.json()["token"]}
    ev = requests.get(ngx.url("/api/events"), headers=user, timeout=10)
    assert ev.status_code == 200 and ev.json()["events"] == [], ev.text
    bad = requests.post(ngx.url("/api/auth/login"), json={"username": "carol", "password": "x" + pw}, timeout=30)
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_credentials", bad.text
    admin = {"Authorization": "Bearer " + stack_token(stack, role="admin")}
    assert requests.get(ngx.url("/api/events/nope"), headers=admin, timeout=10).status_code == 404

    # a second process on a socket a live one accepts on is refused; the first keeps serving
    p = subprocess.run([stack.bin("vms-review-api"), "--listen", f"unix:{review.socket}"],
                       env=dict(os.environ, VMS_PG_DSN=pg.dsn), capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and f"another process listens on {review.socket}" in p.stderr, p.stderr
    # a mode that lets others in is refused before anything is bound
    p = subprocess.run([stack.bin("vms-login"), "--listen", f"unix:{d}/x.sock", "--listen-mode", "0666",
                        "--pg-dsn-file", login.dsn_file, "--jwt-secret-file", stack.secret_file()],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "--listen-mode 0666" in p.stderr and not os.path.exists(f"{d}/x.sock"), p.stderr
    assert requests.get(ngx.url("/api/events"), headers=user, timeout=10).status_code == 200

    # removed at stop
    for svc in (login, review):
        svc.stop()
        assert not os.path.exists(svc.socket)
