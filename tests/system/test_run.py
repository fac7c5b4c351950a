"""`./build.sh run --detach` brings the whole stack up healthy and `stop` leaves nothing behind."""
import json
import os
import re
import subprocess
import threading
import time
import uuid

import requests
from confluent_kafka import Producer

import vmsstack

ROOT = vmsstack.ROOT


def metric(text, name, camera):
    m = re.search(rf'^{name}\{{[^}}]*camera_id="{camera}"[^}}]*\}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else None


def pushed_through(url, auth, bootstrap, camera):
    """Produces marked messages on vms.events until one arrives on the EventSource at url."""
    mark = uuid.uuid4().hex
    seen = threading.Event()
    r = requests.get(url, headers={**auth, "Accept": "text/event-stream"}, stream=True, timeout=(5, 90))
    assert r.status_code == 200, r.text

    def read():
        for line in r.iter_lines(chunk_size=1, decode_unicode=True):
            if line and line.startswith("data:") and mark in line:
                seen.set()
                return
    threading.Thread(target=read, daemon=True).start()
    p = Producer({"bootstrap.servers": bootstrap})
    for _ in range(60):
        p.produce("vms.events", key=camera, value=json.dumps(
            {"schema": 1, "type": "test.ping", "camera_id": camera, "mark": mark}))
        p.flush(5)
        if seen.wait(1):
            break
    r.close()
    return seen.is_set()


def test_run_detach_then_stop(tmp_path, build_dir):
    ports = {k: str(vmsstack.free_port()) for k in
             ("VMS_HTTP_PORT", "VMS_RTMP_PORT", "VMS_API_PORT", "VMS_CAMSIM_PORT",
              "VMS_CAMSIM_CONTROL_PORT", "VMS_REDIS_PORT", "VMS_PG_PORT",
              "VMS_PROMETHEUS_PORT", "VMS_ALERTMANAGER_PORT", "VMS_PUSH_PORT")}
    # no VMS_REVIEW_API_PORT / VMS_LOGIN_PORT: nginx reaches both through their unix sockets
    env = dict(os.environ, VMS_VAR_DIR=str(tmp_path / "var"), VMS_CAMERAS="4", **ports)
    run = [ "/usr/bin/python3", os.path.join(ROOT, "tests/tools/vmsstack.py")]
    up = subprocess.run(run + ["run", "--build", build_dir, "--detach"], env=env,
                        capture_output=True, text=True, timeout=240)
    try:
        assert up.returncode == 0, up.stderr + up.stdout
        base = f"http://127.0.0.1:{ports['VMS_HTTP_PORT']}"
        assert base + "/" in up.stdout
        var = tmp_path / "var"
        assert f"vms-login unix:{var}/login/login.sock:" in up.stdout, up.stdout
        assert f"vms-review-api unix:{var}/review-api/review-api.sock:" in up.stdout, up.stdout
        api = f"http://127.0.0.1:{ports['VMS_API_PORT']}"
        assert vmsstack.http_get(base + "/health")[0] == 200
        # vmsd's /metrics, with an admin's `./build.sh token` (none: 401), shows all four cameras
        # receiving frames.
        admin = subprocess.run(run + ["token", "--role", "admin"], env=env, capture_output=True,
                               text=True, timeout=30).stdout.strip()
        assert vmsstack.http_get(api + "/metrics")[0] == 401
        deadline, frames = time.monotonic() + 60, {}
        while time.monotonic() < deadline:
            text = vmsstack.http_get(api + "/metrics", headers={"Authorization": f"Bearer {admin}"})[1].decode()
            frames = {c: metric(text, "vms_camera_frames_received_total", c) for c in ("cam1", "cam2", "cam3", "cam4")}
            if all(v and v > 0 for v in frames.values()):
                break
            time.sleep(1)
        assert all(v and v > 0 for v in frames.values()), frames
        # `./build.sh token` mints a user token the running stack accepts; no token → 401.
        tok = subprocess.run(run + ["token", "--role", "viewer", "--camera", "cam1"], env=env,
                             capture_output=True, text=True, timeout=30)
        assert tok.returncode == 0, tok.stderr
        check = base + "/api/auth/check/cam1"
        assert requests.get(check, timeout=5).status_code == 401
        auth = {"Authorization": "Bearer " + tok.stdout.strip()}
        assert requests.get(check, headers=auth, timeout=5).status_code == 200
        assert requests.get(base + "/api/auth/check/cam2", headers=auth, timeout=5).status_code == 403
        # live push: a message on vms.events reaches the token's EventSource through vms-push
        live_url = base + "/api/events/live?cameras=cam1"
        assert requests.get(base + "/api/events/live?cameras=cam2", headers={**auth, "Accept": "text/event-stream"},
                            timeout=5).status_code == 403
        boot = re.search(r"kafka (\S+)", up.stdout).group(1)
        assert pushed_through(live_url, auth, boot, "cam1")
        # the review API answers through nginx for the token's cameras
        events = requests.get(base + "/api/events", headers=auth, timeout=10)
        assert events.status_code == 200 and isinstance(events.json()["events"], list), events.text
        # the first admin signs in with the password `run` wrote to a 0600 file (printed: its path only)
        pw_file = re.search(r"as admin, password in (\S+)", up.stdout).group(1)
        assert os.stat(pw_file).st_mode & 0o777 == 0o600
        with open(pw_file) as f:
            password = f.read().strip()
        assert password not in up.stdout + up.stderr
        signed = requests.post(base + "/api/auth/login", json={"username": "admin", "password": password}, timeout=30)
        assert signed.status_code == 200 and signed.json()["user"]["role"] == "admin", signed.text
        assert requests.get(base + "/api/auth/whoami", headers={"Authorization": "Bearer " + signed.json()["token"]},
                            timeout=5).status_code == 200
        # Prometheus and Alertmanager are up, printed, and Prometheus scrapes vmsd and nginx
        prom = f"http://127.0.0.1:{ports['VMS_PROMETHEUS_PORT']}"
        am = f"http://127.0.0.1:{ports['VMS_ALERTMANAGER_PORT']}"
        assert prom in up.stdout and am in up.stdout
        assert vmsstack.http_get(am + "/-/ready")[0] == 200
        deadline, jobs = time.monotonic() + 60, set()
        while time.monotonic() < deadline and not {"vmsd", "nginx"} <= jobs:
            r = requests.get(prom + "/api/v1/query", params={"query": "up == 1"}, timeout=5).json()
            jobs = {x["metric"]["job"] for x in r["data"]["result"]}
            time.sleep(1)
        assert {"vmsd", "nginx"} <= jobs, jobs
    finally:
        down = subprocess.run(run + ["stop"], env=env, capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stderr
    pids = [int(m) for m in re.findall(r"\((\d+)\) stopped", down.stdout)]
    # redis, postgres, kafka-broker, camsim, review-api, login, nginx, vmsd, detections-consumer,
    # alert-notifier, push, alertmanager, prometheus
    assert len(pids) == 13 and "stop: alert-notifier (" in down.stdout \
        and "stop: detections-consumer (" in down.stdout \
        and "stop: push (" in down.stdout and "stop: review-api (" in down.stdout \
        and "stop: login (" in down.stdout, down.stdout
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_restarted_stack_delivers_events_each_time(tmp_path, build_dir):
    """`stop` then `run` again (same var/, appended logs): each run prints and configures its own
    broker's address, an event reaches kcat every time, and vmsd reports Kafka connected (#20)."""
    ports = {k: str(vmsstack.free_port()) for k in
             ("VMS_HTTP_PORT", "VMS_RTMP_PORT", "VMS_API_PORT", "VMS_CAMSIM_PORT",
              "VMS_CAMSIM_CONTROL_PORT", "VMS_REDIS_PORT", "VMS_PG_PORT", "VMS_PUSH_PORT",
              "VMS_REVIEW_API_PORT", "VMS_LOGIN_PORT")}
    var = tmp_path / "var"
    env = dict(os.environ, VMS_VAR_DIR=str(var), VMS_CAMERAS="1", **ports)
    run = ["/usr/bin/python3", os.path.join(ROOT, "tests/tools/vmsstack.py")]
    api = f"http://127.0.0.1:{ports['VMS_API_PORT']}"
    try:
        for attempt in range(3):
            up = subprocess.run(run + ["run", "--build", build_dir, "--detach"], env=env,
                                capture_output=True, text=True, timeout=240)
            assert up.returncode == 0, up.stderr + up.stdout
            boot = re.search(r"kafka (\S+)", up.stdout).group(1)
            assert boot in open(var / "vmsd" / "vmsd.conf").read()
            assert boot in open(var / "nginx" / "conf" / "http.d" / "auth.conf").read()
            deadline, events = time.monotonic() + 60, ""
            while time.monotonic() < deadline and '"camera.online"' not in events:
                events = subprocess.run(["kcat", "-b", boot, "-C", "-t", "vms.events", "-o", "beginning",
                                         "-e", "-q"], capture_output=True, text=True, timeout=30).stdout
                time.sleep(0.5)
            assert '"camera.online"' in events and '"cam1"' in events, (attempt, boot, events)
            health = requests.get(api + "/health", timeout=5).json()
            assert health["kafka"]["connected"] is True, health
            down = subprocess.run(run + ["stop"], env=env, capture_output=True, text=True, timeout=120)
            assert down.returncode == 0, down.stderr
    finally:
        subprocess.run(run + ["stop"], env=env, capture_output=True, text=True, timeout=120)
