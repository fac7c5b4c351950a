"""Alerting with real peers: the shipped Prometheus and Alertmanager files pass promtool/amtool and
promtool's unit tests of every alert; end to end, vmsd + camsim + nginx + Prometheus + Alertmanager
notify a webhook (a small HTTP server in this test) when a camera is cut, when it comes back, and
when the live server or vmsd dies, with per-camera alerts inhibited meanwhile. The end-to-end test
runs the shipped rules with short `for:` values (its own rendered copy); the shipped files keep
production values. Docs: docs/operations.md."""
import http.server
import json
import os
import subprocess
import threading
import time
import urllib.parse

import yaml

import vmsstack
from vmsdtest import camera, conf_text, metric, wait

ROOT = vmsstack.ROOT
RULES = os.path.join(ROOT, "conf", "prometheus", "alerts.yml")
RULE_TESTS = os.path.join(ROOT, "conf", "prometheus", "tests", "alerts_test.yml")
COMPOSE = os.path.join(ROOT, "docker", "compose.yml")


def alert_names(path=RULES):
    with open(path) as f:
        return {r["alert"] for g in yaml.safe_load(f)["groups"] for r in g["rules"] if "alert" in r}


# -- static checks -------------------------------------------------------------------------------

def test_promtool_checks_shipped_config_and_rules(stack):
    conf, _ = stack.prometheus_conf()
    out = vmsstack.check_prometheus(conf)
    assert "SUCCESS" in out and RULES in out
    r = subprocess.run(["promtool", "check", "rules", RULES], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert alert_names() == {"CameraOffline", "StreamOffline", "LiveRelayDown", "HighReconnectRate",
                             "StreamingServiceDown", "StorageCritical", "AICostAnomaly",
                             "StreamFrozen", "KafkaSpoolGrowing", "ClusterCamerasUnrecorded"}


def test_promtool_unit_tests_cover_every_alert():
    r = subprocess.run(["promtool", "test", "rules", RULE_TESTS], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS" in r.stdout
    # every alert has a case where it fires and one (just before its `for:` ends) where it does not
    with open(RULE_TESTS) as f:
        cases = [c for t in yaml.safe_load(f)["tests"] for c in t["alert_rule_test"]]
    fires = {c["alertname"] for c in cases if c.get("exp_alerts")}
    silent = {c["alertname"] for c in cases if not c.get("exp_alerts")}
    assert fires == alert_names() and silent == alert_names()


def test_promtool_unit_tests_catch_a_shorter_for(tmp_path):
    """The unit tests mean something: CameraOffline with `for: 105s` instead of 2m fails them."""
    with open(RULES) as f:
        text = f.read()
    assert text.count("for: 2m") == 1
    (tmp_path / "alerts.yml").write_text(text.replace("for: 2m", "for: 105s"))
    (tmp_path / "tests").mkdir()
    with open(RULE_TESTS) as f:
        (tmp_path / "tests" / "alerts_test.yml").write_text(f.read())
    r = subprocess.run(["promtool", "test", "rules", str(tmp_path / "tests" / "alerts_test.yml")],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert "alertname: CameraOffline, time: 3m" in r.stdout + r.stderr


def test_amtool_checks_config_and_routes_by_severity(stack):
    conf = stack.alertmanager_conf()
    assert "SUCCESS" in vmsstack.check_alertmanager(conf)

    def route(*labels):
        r = subprocess.run(["amtool", "config", "routes", "test", f"--config.file={conf}", *labels],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout.strip()
    assert route("alertname=CameraOffline", "severity=critical", "camera_id=cam1") == "vms-critical"
    assert route("alertname=StreamOffline", "severity=warning", "camera_id=cam1") == "vms-warning"
    assert route("alertname=Unknown") == "vms-warning"


def test_broken_alerts_file_stops_run_with_promtools_message(tmp_path, build_dir):
    bad = tmp_path / "alerts.yml"
    bad.write_text("groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: up ==\n")
    # the harness' check names promtool's complaint...
    st = vmsstack.Stack(build_dir, str(tmp_path / "st"))
    conf, _ = st.prometheus_conf(rules=str(bad))
    try:
        vmsstack.check_prometheus(conf)
        raise AssertionError("a broken rule file passed the check")
    except vmsstack.StackError as e:
        assert "promtool check config failed" in str(e) and "parse error" in str(e), str(e)
    # ...and `./build.sh run` (vmsstack.py run) stops with it before starting anything
    ports = {k: str(vmsstack.free_port()) for k in
             ("VMS_HTTP_PORT", "VMS_RTMP_PORT", "VMS_API_PORT", "VMS_CAMSIM_PORT", "VMS_CAMSIM_CONTROL_PORT",
              "VMS_REDIS_PORT", "VMS_PG_PORT", "VMS_PROMETHEUS_PORT", "VMS_ALERTMANAGER_PORT")}
    var = tmp_path / "var"
    env = dict(os.environ, VMS_VAR_DIR=str(var), VMS_ALERT_RULES=str(bad), **ports)
    r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests/tools/vmsstack.py"), "run",
                        "--build", build_dir, "--detach"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1
    assert "promtool check config failed" in r.stderr and "parse error" in r.stderr, r.stderr
    assert not (var / "run" / "stack.json").exists()
    assert not (var / "logs").exists() or not os.listdir(var / "logs")


def test_compose_file_has_restart_and_healthchecks_everywhere(tmp_path):
    r = subprocess.run(["docker-compose", "-f", COMPOSE, "config"], capture_output=True, text=True,
                       cwd=os.path.dirname(COMPOSE))
    assert r.returncode == 0, r.stderr
    services = yaml.safe_load(r.stdout)["services"]
    assert {"kafka", "redis", "postgres", "mediamtx", "vms", "prometheus", "alertmanager"} <= set(services)
    for name, svc in services.items():
        if svc.get("restart") == "no":   # one-shot (certs): what needs it waits for its success
            assert all(dep.get("depends_on", {}).get(name, {}).get("condition")
                       == "service_completed_successfully"
                       for dep in services.values() if name in dep.get("depends_on", {})), name
            continue
        assert svc.get("restart") == "unless-stopped", name
        hc = svc.get("healthcheck")
        assert hc and hc.get("test") and hc["test"][0] in ("CMD", "CMD-SHELL"), name
    # Prometheus reads the shipped rules file, and has the credential vmsd's /metrics asks for
    assert any(str(vol).startswith(RULES + ":") for vol in services["prometheus"]["volumes"])
    assert [s["source"] for s in services["prometheus"]["secrets"]] == ["vmsd_metrics_token"]
    # MediaMTX reaches vms at conf/mediamtx.yml's 127.0.0.1:8080 (auth, lease hooks): one netns
    assert services["mediamtx"]["network_mode"] == "service:vms"


# -- vmsd's metrics the alerts read -------------------------------------------------------------------

def test_vmsd_exports_what_the_alerts_read(stack):
    cams = stack.camsim(cameras=2)
    v = stack.vmsd(text=conf_text(cams, ["cam1", "cam2"], extra={"retention_interval": "300ms"}))
    wait("cameras streaming", lambda: all(camera(v, c)["state"] == "online" for c in ("cam1", "cam2")), svc=v)

    # disk usage as retention judges it: used / (used + available) of the recordings filesystem
    wait("vms_storage_used_ratio", lambda: metric(v, "vms_storage_used_ratio") > 0, svc=v)
    s = os.statvfs(os.path.join(stack.work, "recordings"))
    used = (s.f_blocks - s.f_bfree) * s.f_frsize
    expect = used / (used + s.f_bavail * s.f_frsize)
    assert abs(metric(v, "vms_storage_used_ratio") - expect) < 0.02   # other writers share the disk

    # a still picture shows in vms_camera_still; the other camera stays 0
    assert metric(v, "vms_camera_still", camera_id="cam1") == 0
    cams.fault("cam1", "still")
    wait("cam1 still", lambda: metric(v, "vms_camera_still", camera_id="cam1") == 1, svc=v)
    assert metric(v, "vms_camera_still", camera_id="cam2") == 0
    cams.fault("cam1", "resume")
    wait("cam1 not still", lambda: metric(v, "vms_camera_still", camera_id="cam1") == 0, svc=v)

    # the last-frame timestamp is wall-clock time and stops while the camera is cut
    before = time.time()
    ts2 = metric(v, "vms_camera_last_frame_timestamp_seconds", camera_id="cam2")
    assert before - 30 < ts2 <= time.time() + 1
    cams.fault("cam2", "drop")
    wait("cam2 down", lambda: camera(v, "cam2")["state"] != "online", svc=v)
    frozen = metric(v, "vms_camera_last_frame_timestamp_seconds", camera_id="cam2")
    t1 = metric(v, "vms_camera_last_frame_timestamp_seconds", camera_id="cam1")
    wait("cam1 frames go on", lambda: metric(v, "vms_camera_last_frame_timestamp_seconds", camera_id="cam1") > t1,
         svc=v)
    assert metric(v, "vms_camera_last_frame_timestamp_seconds", camera_id="cam2") == frozen


# -- end to end --------------------------------------------------------------------------------------

MEDIAMTX_METRICS = """paths{name="cam1",state="ready"} 1
paths_bytes_received{name="cam1",state="ready"} 123456
paths{name="live/cam7",state="ready"} 1
"""


class Webhook:
    """Alertmanager's webhook receiver: keeps every notification (JSON body) with its arrival time.
    Its GET answers MediaMTX-format metrics, to check the mediamtx job's relabelling."""

    def __init__(self):
        self.notes, self.lock = [], threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    outer.notes.append((time.monotonic(), json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def do_GET(self):   # stands in for MediaMTX's /metrics (its format, v1.x)
                body = MEDIAMTX_METRICS.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.addr = f"127.0.0.1:{self.server.server_address[1]}"
        self.url = f"http://{self.addr}/vms-alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self, since=0.0):
        """(arrival, receiver, alert) for every alert of every notification."""
        with self.lock:
            return [(t, n["receiver"], a) for t, n in self.notes if t >= since for a in n["alerts"]]

    def find(self, alertname, status, since=0.0, **labels):
        return [(t, rcv, a) for t, rcv, a in self.alerts(since)
                if a["labels"].get("alertname") == alertname and a["status"] == status
                and all(a["labels"].get(k) == v for k, v in labels.items())]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def fast_rules(path):
    """The shipped rules with test-sized durations (the expressions are the shipped ones)."""
    with open(RULES) as f:
        doc = yaml.safe_load(f)
    fors = {"StreamOffline": "1s", "CameraOffline": "2s", "LiveRelayDown": "2s", "StreamingServiceDown": "1s"}
    for g in doc["groups"]:
        for r in g["rules"]:
            if r["alert"] in fors:
                r["for"] = fors[r["alert"]]
            if r["alert"] in ("StreamOffline", "CameraOffline"):
                # "no frames now": 10 s in production, 5 s here (frames arrive every 40 ms)
                assert r["expr"].endswith("> 10")
                r["expr"] = r["expr"][:-2] + "5"
    with open(path, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)
    return path


def listening(pid):
    """Addresses a process listens on (TCP and UDP), from `ss`."""
    r = subprocess.run(["ss", "-Hlntup"], capture_output=True, text=True, check=True)
    return {line.split()[4] for line in r.stdout.splitlines() if f"pid={pid}," in line}


def prom_query(prom, q):
    status, body = vmsstack.http_get(prom.url + "/api/v1/query?query=" + urllib.parse.quote(q))
    assert status == 200, body
    return json.loads(body)["data"]["result"]


def am_alerts(am, alertname):
    q = urllib.parse.quote(f'alertname="{alertname}"')
    status, body = vmsstack.http_get(f"{am.url}/api/v2/alerts?filter={q}")
    assert status == 200, body
    return json.loads(body)


def test_alerts_end_to_end(stack, build_dir):
    r = stack.redis()
    ngx = stack.nginx(vars={"REDIS_ADDR": r.addr})
    cams = stack.camsim(cameras=3)
    cam_ids = ["cam1", "cam2", "cam3"]
    v = stack.vmsd(text=conf_text(cams, cam_ids, extra={
        "relay": f"rtmp://127.0.0.1:{ngx.rtmp_port}/live/%id", "relay_token_secret_file": stack.secret_file()}))
    wait("cameras streaming and relayed", lambda: all(
        camera(v, c)["state"] == "online" and metric(v, "vms_relay_up", camera_id=c) == 1 for c in cam_ids),
        svc=v)

    hook = Webhook()
    try:
        am = stack.alertmanager({"WEBHOOK_URL": hook.url, "GROUP_WAIT": "1s", "GROUP_INTERVAL": "1s",
                                 "CRITICAL_GROUP_WAIT": "1s", "CRITICAL_REPEAT_INTERVAL": "2s",
                                 "WARNING_REPEAT_INTERVAL": "1h"})
        prom = stack.prometheus({"SCRAPE_INTERVAL": "1s", "EVALUATION_INTERVAL": "1s",
                                 "VMSD_TARGET": f"127.0.0.1:{v.port}", "NGINX_TARGET": f"127.0.0.1:{ngx.port}",
                                 "ALERTMANAGER_TARGET": f"127.0.0.1:{am.port}",
                                 "MEDIAMTX_TARGETS": f"['{hook.addr}']"},
                                rules=fast_rules(os.path.join(stack.work, "alerts-fast.yml")))
        # loopback only, and Alertmanager opens no cluster (gossip) port
        for svc in (prom, am):
            addrs = listening(svc.pid)
            assert addrs == {f"127.0.0.1:{svc.port}"}, (svc.name, addrs)
        wait("every target up", lambda: {x["metric"]["job"] for x in prom_query(prom, "up == 1")}
             == {"vmsd", "nginx", "mediamtx", "prometheus", "alertmanager"}, svc=prom)
        # camera_id survives the scrape; MediaMTX's path name becomes camera_id
        assert {x["metric"]["camera_id"] for x in prom_query(prom, "vms_camera_last_frame_timestamp_seconds")} \
            == set(cam_ids)
        assert {(x["metric"]["name"], x["metric"]["camera_id"]) for x in prom_query(prom, "paths")} \
            == {("cam1", "cam1"), ("live/cam7", "cam7")}

        # 1. cut cam2: CameraOffline for cam2, and only cam2, reaches the webhook through the critical route
        cams.fault("cam2", "drop")
        got = wait("CameraOffline for cam2", lambda: hook.find("CameraOffline", "firing"), svc=prom)
        _, receiver, alert = got[0]
        assert receiver == "vms-critical"
        assert alert["labels"]["camera_id"] == "cam2" and alert["labels"]["severity"] == "critical"
        assert "cam2" in alert["annotations"]["summary"] and "cam2" in alert["annotations"]["description"]
        assert all(a["labels"].get("camera_id") == "cam2" for _, _, a in hook.alerts()), hook.alerts()

        # 2. restore: a resolved notification for cam2's CameraOffline
        cams.fault("cam2", "resume")
        wait("CameraOffline resolved", lambda: hook.find("CameraOffline", "resolved", camera_id="cam2"), svc=prom)
        assert all(a["labels"].get("camera_id") == "cam2" for _, _, a in hook.alerts())
        wait("cam2 relayed again", lambda: metric(v, "vms_relay_up", camera_id="cam2") == 1, svc=v)

        # 3. the live server dies: StreamingServiceDown; every camera's LiveRelayDown follows and is
        # inhibited (Alertmanager holds it back, the webhook never gets it)
        mark = time.monotonic()
        vmsstack.kill_group(ngx.pid)
        ngx.proc.wait(10)
        got = wait("StreamingServiceDown for nginx",
                   lambda: hook.find("StreamingServiceDown", "firing", since=mark, job="nginx"), svc=prom)
        assert got[0][1] == "vms-critical"
        assert "nginx" in got[0][2]["annotations"]["summary"]

        source = {a["fingerprint"] for a in am_alerts(am, "StreamingServiceDown")}

        def all_inhibited():
            al = am_alerts(am, "LiveRelayDown")
            cams_seen = {a["labels"]["camera_id"] for a in al
                         if a["status"]["state"] == "suppressed" and set(a["status"]["inhibitedBy"]) <= source
                         and a["status"]["inhibitedBy"]}
            return cams_seen == set(cam_ids)
        wait("LiveRelayDown inhibited for every camera", all_inhibited, svc=am)
        seen = time.monotonic()
        # Barrier without a sleep: StreamingServiceDown repeats every 2 s (CRITICAL_REPEAT_INTERVAL)
        # while LiveRelayDown's groups are flushed every second; two repeats later they have been
        # flushed several times since they were inhibited.
        wait("two more StreamingServiceDown notifications",
             lambda: len(hook.find("StreamingServiceDown", "firing", since=seen, job="nginx")) >= 2, svc=am)
        assert not [a for _, _, a in hook.alerts() if a["labels"]["alertname"] == "LiveRelayDown"]
        assert prom_query(prom, 'ALERTS{alertname="LiveRelayDown",alertstate="firing"}')  # it does fire

        # 4. vmsd dies: StreamingServiceDown for vmsd too
        mark = time.monotonic()
        v.signal(9)
        got = wait("StreamingServiceDown for vmsd",
                   lambda: hook.find("StreamingServiceDown", "firing", since=mark, job="vmsd"), svc=prom)
        assert got[0][2]["labels"]["instance"] == f"127.0.0.1:{v.port}"
    finally:
        hook.close()
