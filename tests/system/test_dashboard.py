"""The Grafana dashboard (conf/grafana/dashboards/vms.json) and the metrics it reads (issue #12 items
3 and 4). Grafana is not packaged here, so the JSON's structure is checked statically, every query is
checked by promtool, and every panel's PromQL is evaluated against a real Prometheus scraping a real
stack (vmsd with camsim cameras, recording and AI on the Rekognition stand-in, a Kafka broker, nginx
with the modules), after the traffic each panel needs: API requests, a player's WebRTC latency
reports, a camera reconnect. Docs: docs/operations.md ("Dashboard")."""
import json
import math
import os
import re
import subprocess
import time
import urllib.parse

import jwt
import requests
import yaml

import vmsstack
from aitest import AK, REGION, SK, aws_standin
from vmsdtest import camera, conf_text, metric, wait

ROOT = vmsstack.ROOT
DASHBOARD = os.path.join(ROOT, "conf", "grafana", "dashboards", "vms.json")
PROVISIONING = os.path.join(ROOT, "conf", "grafana", "provisioning")
# What Grafana puts in place of the dashboard's variables: every camera, and a rate window
# ($__rate_interval is at least four scrape intervals; 5m is what a day-long view gets).
VARIABLES = {"$camera": ".*", "$__rate_interval": "5m"}


def load():
    with open(DASHBOARD) as f:
        return json.load(f)


def queries(dash=None):
    """(panel title, refId, PromQL with the variables replaced) of every target."""
    out = []
    for p in (dash or load())["panels"]:
        for t in p["targets"]:
            expr = t["expr"]
            for k, v in VARIABLES.items():
                expr = expr.replace(k, v)
            out.append((p["title"], t["refId"], expr))
    return out


def token(stack, role="viewer"):
    with open(stack.secret_file()) as f:
        key = f.read().strip()
    now = int(time.time())
    return jwt.encode({"sub": f"u-{role}", "role": role, "tenant_id": "t1", "iat": now, "exp": now + 600},
                      key, algorithm="HS256")


# -- static checks -------------------------------------------------------------------------------

def test_dashboard_json_structure():
    dash = load()
    assert dash["schemaVersion"] == 39 and dash["uid"] and dash["title"]
    ds_vars = [v for v in dash["templating"]["list"] if v["type"] == "datasource"]
    assert [(v["name"], v["query"]) for v in ds_vars] == [("DS_PROMETHEUS", "prometheus")]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)), ids
    cells = set()
    for p in dash["panels"]:
        g = p["gridPos"]
        assert all(isinstance(g[k], int) for k in ("x", "y", "w", "h")), p["title"]
        assert 0 <= g["x"] and g["w"] > 0 and g["x"] + g["w"] <= 24 and g["h"] > 0, p["title"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & mine, f"{p['title']} overlaps another panel"
        cells |= mine
        assert p["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, p["title"]
        assert p["targets"], p["title"]
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs)), p["title"]
        for t in p["targets"]:
            assert t["expr"].strip() and t["datasource"]["uid"] == "${DS_PROMETHEUS}", (p["title"], t)
    # the seed's panels and the operational ones
    exprs = " ".join(e for _, _, e in queries(dash))
    for name in ("vms_camera_up", "vms_webrtc_latency_ms_bucket", "vms_rekognition_cost_usd", "vms_storage_bytes",
                 "vms_storage_used_ratio", "vms_camera_reconnect_total", "vms_stream_frozen_total",
                 "vms_recording_segment_end_timestamp_seconds", "vms_events_spool_bytes", "vms_api_requests_total"):
        assert name in exprs, name
    # no variable left that Grafana would not fill in
    assert not re.search(r"\$(?!camera\b|__rate_interval\b)\w+", " ".join(t["expr"] for p in dash["panels"]
                                                                          for t in p["targets"]))


def test_every_query_parses_with_promtool(tmp_path):
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:panel_{i}", "expr": e} for i, (_, _, e) in enumerate(queries())]}]}
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump(rules))
    r = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"SUCCESS: {len(queries())} rules found" in r.stdout


def test_provisioning_files():
    with open(os.path.join(PROVISIONING, "datasources", "vms.yml")) as f:
        ds = yaml.safe_load(f)
    assert ds["apiVersion"] == 1
    [src] = ds["datasources"]
    assert src["type"] == "prometheus" and src["url"].startswith("http://127.0.0.1:") and src["isDefault"]
    with open(os.path.join(PROVISIONING, "dashboards", "vms.yml")) as f:
        prov = yaml.safe_load(f)
    assert prov["apiVersion"] == 1
    [p] = prov["providers"]
    assert p["type"] == "file" and p["options"]["path"]


# -- against the running stack -------------------------------------------------------------------

def prom_query(prom, q):
    status, body = vmsstack.http_get(prom.url + "/api/v1/query?query=" + urllib.parse.quote(q))
    assert status == 200, body
    doc = json.loads(body)
    assert doc["status"] == "success", doc
    return doc["data"]["result"]


def values(prom, q):
    """{label set: value} of an instant query (values as floats)."""
    return {tuple(sorted(s["metric"].items())): float(s["value"][1]) for s in prom_query(prom, q)}


def client_metric(ngx, tok, **args):
    return requests.post(ngx.url("/api/metrics/client?" + urllib.parse.urlencode(args)),
                         headers={"Authorization": f"Bearer {tok}"} if tok else {}, timeout=5)


def test_every_panel_query_returns_data(stack):
    k = stack.kafka()
    aws = aws_standin(stack)
    cams = stack.camsim(cameras=2)
    rec = {"record": "on", "segment_duration": "1s"}
    # AI on cam1: a sample a second, priced, for the whole test (the budget, ~1000 calls, is not
    # reached): the cost panel's increase() needs a priced call after Prometheus's first scrape
    ai = dict(rec, ai_enabled="on", motion_enabled="off", ai_provider="rekognition",
              ai_rekognition_endpoint=aws.url, ai_s3_endpoint=aws.url, ai_interval="1s",
              ai_budget_usd_per_day="1")
    old = {key: os.environ.get(key) for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION")}
    os.environ.update({"AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SK, "AWS_REGION": REGION})
    try:
        v = stack.vmsd(text=conf_text(cams, ["cam1", "cam2"], kafka=k, extra={"retention_interval": "300ms"},
                                      camera_extra={"cam1": ai, "cam2": rec}))
    finally:
        for key, val in old.items():
            if val is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = val
    ngx = stack.nginx(vars={"REDIS_ADDR": "127.0.0.1:9", "KAFKA_BROKERS": "127.0.0.1:9",
                            "VMSD_API": f"127.0.0.1:{v.port}"})
    wait("cameras streaming", lambda: all(camera(v, c)["state"] == "online" for c in ("cam1", "cam2")), svc=v)
    prom = stack.prometheus({"SCRAPE_INTERVAL": "1s", "EVALUATION_INTERVAL": "1s",
                             "VMSD_TARGET": f"127.0.0.1:{v.port}", "NGINX_TARGET": f"127.0.0.1:{ngx.port}",
                             "ALERTMANAGER_TARGET": f"127.0.0.1:{vmsstack.free_port()}"})
    wait("vmsd and nginx scraped", lambda: {x["metric"]["job"] for x in prom_query(prom, "up == 1")}
         >= {"vmsd", "nginx"}, svc=prom)

    viewer = token(stack)
    # API traffic: an answer, an error nginx redirects to its error_page (still counted under the
    # route asked for), an unknown API route
    assert requests.get(ngx.url("/api/cameras"), headers={"Authorization": f"Bearer {viewer}"},
                        timeout=5).status_code == 200
    assert requests.get(ngx.url("/api/cameras"), timeout=5).status_code == 401
    assert requests.get(ngx.url("/api/nothing-here"), timeout=5).status_code == 404

    # the player's latency reports: checked, then counted for configured cameras only
    assert client_metric(ngx, None, name="vms_webrtc_latency_ms", camera_id="cam1", value="180").status_code == 401
    assert client_metric(ngx, viewer, name="vms_webrtc_latency_ms", camera_id="cam1",
                         value="abc").status_code == 400
    assert client_metric(ngx, viewer, name="vms_webrtc_latency_ms", camera_id="../x",
                         value="180").status_code == 400
    r = client_metric(ngx, viewer, name="vms_webrtc_latency_ms", camera_id="cam9", value="180")
    assert r.status_code == 404 and r.json()["error"], r.text
    assert client_metric(ngx, viewer, name="vms_webrtc_latency_ms", camera_id="cam1",
                         value="180").status_code == 204
    # a second report once Prometheus holds the first, so the 5-minute rate is not zero
    wait("first latency report scraped",
         lambda: values(prom, 'vms_webrtc_latency_ms_count{camera_id="cam1"}'), svc=prom)
    assert client_metric(ngx, viewer, name="vms_webrtc_latency_ms", camera_id="cam1",
                         value="180").status_code == 204
    assert metric(v, "vms_webrtc_latency_ms_count", camera_id="cam1") == 2
    assert metric(v, "vms_webrtc_latency_ms_count", camera_id="cam9") == 0

    # a reconnect of cam2
    cams.fault("cam2", "drop")
    wait("cam2 down", lambda: camera(v, "cam2")["state"] != "online", svc=v)
    cams.fault("cam2", "resume")
    wait("cam2 reconnected", lambda: metric(v, "vms_camera_reconnect_total", camera_id="cam2",
                                            status="success") >= 1, svc=v)
    wait("Rekognition calls priced", lambda: metric(v, "vms_rekognition_cost_usd", camera_id="cam1") > 0, 120, v)

    def finite(q):
        return [x for x in values(prom, q).values() if not math.isnan(x)]

    def missing():
        return [(title, ref) for title, ref, q in queries() if not finite(q)]
    try:
        wait("every panel query to return a series", lambda: not missing(), 120, prom)
    except vmsstack.StackError as e:
        raise AssertionError(f"panels without data: {missing()}") from e

    q = {(title, ref): expr for title, ref, expr in queries()}

    def by_label(key, label):
        return {dict(k)[label]: x for k, x in values(prom, q[key]).items() if label in dict(k)}
    p95 = by_label(("WebRTC latency (p50 / p95)", "B"), "camera_id")
    assert set(p95) == {"cam1"} and 100 < p95["cam1"] <= 200, p95       # the bucket holding 180 ms
    # vmsd exports cam1's cost counter at 0 from the pipeline's start, and calls go on: a priced
    # call after Prometheus's first sample of the series is an increase
    wait("AI cost panel above 0 for cam1", lambda: by_label(("AI cost per camera (last 24 h)", "A"),
                                                         "camera_id").get("cam1", 0) > 0, 120, prom)
    storage = by_label(("Storage used per camera", "A"), "camera_id")
    assert storage["cam1"] > 0 and storage["cam2"] > 0
    lag = by_label(("Recording lag", "A"), "camera_id")
    assert set(lag) == {"cam1", "cam2"} and all(x > -5 for x in lag.values()), lag
    wait("cam2's reconnect in Prometheus",
         lambda: by_label(("Reconnects per camera (last hour)", "A"), "camera_id").get("cam2", 0) > 0, svc=prom)
    api = {(dict(k)["route"], dict(k)["status"]) for k in values(prom, q[("API requests by route and status", "A")])}
    assert {("cameras", "200"), ("cameras", "401"), ("api_other", "404"), ("metrics_client", "204"),
            ("metrics_client", "404"), ("metrics_client", "400"), ("metrics_client", "401")} <= api, api
