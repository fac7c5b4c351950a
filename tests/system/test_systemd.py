"""systemd units (docker/systemd/) and vmsd's sd_notify (issue #12 item 6): the units pass
`systemd-analyze verify` with no warning and carry the restart, watchdog, hardening and credential
settings; vmsd tells a NOTIFY_SOCKET READY=1 once it serves, WATCHDOG=1 while healthy, STOPPING=1."""
import os
import re
import shutil
import signal
import socket
import subprocess

import pytest

import vmsstack

UNITS = os.path.join(vmsstack.ROOT, "docker", "systemd")


def units():
    out = {}
    for name in ("vmsd.service", "vms-nginx.service"):
        with open(os.path.join(UNITS, name)) as f:
            out[name] = f.read()
    return out


def settings(text):
    got = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z]+)=(.*)$", line)
        if m:
            got.setdefault(m.group(1), []).append(m.group(2))
    return got


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_units_pass_systemd_analyze_verify(stack, build_dir):
    # verify checks that ExecStart's binary exists: a copy points at this build's vmsd
    d = stack.path("units")
    paths = []
    for name, text in units().items():
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(text.replace("/usr/local/bin/vmsd", os.path.join(build_dir, "bin", "vmsd")))
        paths.append(p)
    r = subprocess.run(["systemd-analyze", "verify", *paths], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    # verify exits 0 on unknown keys or bad values ("ignoring"): any line it prints is a defect
    assert r.stderr.strip() == "" and r.stdout.strip() == "", r.stderr + r.stdout

    # and it does catch what it should: a misspelt key is reported
    bad = os.path.join(d, "bad.service")
    with open(bad, "w") as f:
        f.write(open(paths[0]).read().replace("NoNewPrivileges=", "NoNewPrivilegs="))
    r = subprocess.run(["systemd-analyze", "verify", bad], capture_output=True, text=True, timeout=60)
    assert "Unknown key 'NoNewPrivilegs'" in r.stderr


def test_units_restart_watchdog_hardening_and_credentials():
    u = {name: settings(text) for name, text in units().items()}
    v, n = u["vmsd.service"], u["vms-nginx.service"]
    assert v["Type"] == ["notify"] and v["NotifyAccess"] == ["main"]
    assert v["WatchdogSec"] == ["30s"]
    assert v["ExecStart"] == ["/usr/local/bin/vmsd -c /etc/vms/vmsd.conf"]    # docker/vmsd.Dockerfile's path
    for s in (v, n):
        assert s["Restart"] == ["on-failure"]
        assert s["NoNewPrivileges"] == ["yes"] and s["ProtectSystem"] == ["strict"]
        assert s["PrivateTmp"] == ["yes"] and s["ReadWritePaths"]
        assert s["LoadCredential"]
        # secrets never through the environment
        assert "Environment" not in s and "EnvironmentFile" not in s
    assert v["ReadWritePaths"] == ["/var/lib/vms"]
    assert {c.split(":")[0] for c in v["LoadCredential"]} == {"postgres", "redis_password",
                                                              "relay_token_secret"}
    assert n["LoadCredential"] == ["jwt_hs256.key:/etc/vms/credentials/jwt_hs256.key"]


def recv_until(sock, wanted, svc):
    """Datagrams from vmsd until every state in wanted was seen (bounded by the socket timeout)."""
    seen = []
    while not wanted <= {kv for msg in seen for kv in msg.split("\n")}:
        try:
            data = sock.recv(4096)
        except socket.timeout:
            pytest.fail(f"vmsd sent {seen}, not {wanted}\n" + svc.tail())
        seen.append(data.decode())
    return seen


def test_vmsd_notifies_ready_watchdog_and_stopping(stack, monkeypatch):
    path = os.path.join(stack.path("notify"), "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", path)
        conf = "[vmsd]\nlisten = 127.0.0.1:@API_PORT@\nrecordings = @RECORDINGS@\nspool_dir = @STATE@/spool\n"
        v = stack.vmsd(text=conf)      # returns once /health answers
        seen = recv_until(sock, {"READY=1", "WATCHDOG=1"}, v)
        first = seen[0].split("\n")
        assert "READY=1" in first and "STATUS=running: 0 cameras" in first    # READY before any ping
        # pings keep coming while healthy
        recv_until(sock, {"WATCHDOG=1"}, v)
        v.signal(signal.SIGTERM)
        recv_until(sock, {"STOPPING=1"}, v)
        assert v.proc.wait(30) == 0
    finally:
        sock.close()


def test_vmsd_without_notify_socket_sends_nothing_and_runs(stack, monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    conf = "[vmsd]\nlisten = 127.0.0.1:@API_PORT@\nrecordings = @RECORDINGS@\nspool_dir = @STATE@/spool\n"
    v = stack.vmsd(text=conf)
    assert vmsstack.http_get(v.api + "/health")[0] == 200
    v.signal(signal.SIGTERM)
    assert v.proc.wait(30) == 0
