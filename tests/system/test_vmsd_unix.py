"""nginx -> vmsd API over a unix socket (`listen = unix:PATH`, docs/security.md "Transport"):
the file's mode decides who may connect, a stale file from a dead vmsd is replaced."""
import os
import pwd
import socket
import stat

import requests


def test_api_on_unix_socket(stack):
    sock = os.path.join(stack.path("vmsd-sock"), "vmsd.sock")
    stale = socket.socket(socket.AF_UNIX)       # what a killed vmsd leaves behind
    stale.bind(sock)
    stale.close()
    conf = (f"[vmsd]\nlisten = unix:{sock}\nlisten_mode = 0660\nmetrics_listen = 127.0.0.1:@API_PORT@\n"
            "recordings = @RECORDINGS@\nspool_dir = @STATE@/spool\n")
    v = stack.vmsd(text=conf)      # waits for /health on metrics_listen
    assert "API on unix:" in v.output()
    assert "removing stale socket" in v.output()
    assert stat.S_ISSOCK(os.stat(sock).st_mode) and stat.S_IMODE(os.stat(sock).st_mode) == 0o660

    ngx = stack.nginx(vars={"VMSD_API": f"unix:{sock}:"})
    url = ngx.url("/api/analytics/ai-cost")
    admin = {"Authorization": "Bearer " + stack.service_token("u-admin", ttl=600, tenant_id="t1")}
    r = requests.get(url, headers=admin, timeout=5)
    assert r.status_code == 200 and "total_usd" in r.json(), r.text

    # the TCP listener is for Prometheus: /metrics (with its token) and /health, not the API
    assert requests.get(v.api + "/metrics", headers=v.auth, timeout=5).status_code == 200
    assert requests.get(v.api + "/api/analytics/ai-cost", headers=admin, timeout=5).status_code == 404

    if os.geteuid() == 0:       # another user: the mode bits refuse the connect
        nobody = pwd.getpwnam("nobody")
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.connect(sock)
                    code = 1
                except PermissionError:
                    code = 0
            finally:
                os._exit(code)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0

    v.stop()
    assert not os.path.exists(sock)


def test_listen_mode_must_shut_out_others(stack):
    conf = "[vmsd]\nlisten = unix:@STATE@/vmsd.sock\nlisten_mode = 0666\nrecordings = @RECORDINGS@\n"
    v = stack.vmsd(text=conf, wait=False)
    assert v.proc.wait(timeout=30) != 0
    assert "listen_mode" in v.output()
