"""One request traced (issue #12 item 5): nginx's $request_id is the trace_id of its access-log
line, goes to vmsd as X-Request-ID, is the trace_id of the vmsd log lines the request causes and of
the Kafka event it causes (the recording.segment a record stop closes)."""
import json
import os

import requests

from vmsdtest import Events, camera, conf_text, log_lines, wait


def access_lines(ngx):
    with open(os.path.join(ngx.prefix, "logs", "access.log")) as f:
        return [json.loads(line) for line in f if line.startswith("{")]


def test_record_stop_through_nginx_has_one_trace_id_in_nginx_vmsd_and_kafka(stack):
    k = stack.kafka()
    cams = stack.camsim(cameras=1)
    v = stack.vmsd(text=conf_text(cams, ["cam1"], kafka=k))
    ngx = stack.nginx(vars={"VMSD_API": f"127.0.0.1:{v.port}"})
    ev = Events(k.bootstrap)
    try:
        wait("cam1 recording", lambda: (camera(v, "cam1") or {}).get("recording"), 60, v)
        # a stop before the first 1 s fragment is written closes no segment (nothing was recorded,
        # no recording.segment event): let two seconds of packets reach the recorder first
        p0 = camera(v, "cam1")["packets"]
        wait("2 s recorded", lambda: camera(v, "cam1")["packets"] >= p0 + 50, 60, v)
        url = ngx.url("/api/cameras/cam1/record/stop")

        # control_camera is needed: a viewer is refused before vmsd is asked
        viewer = {"Authorization": "Bearer " + stack.service_token("u-viewer", role="viewer", tenant_id="t1")}
        assert requests.post(url, headers=viewer, timeout=5).status_code == 403
        assert camera(v, "cam1")["record"] is True

        # a client's own X-Request-ID is not what nginx forwards: nginx sends its $request_id
        op = {"Authorization": "Bearer " + stack.service_token("u-operator", role="operator", tenant_id="t1"), "X-Request-ID": "client-chosen-id"}
        r = requests.post(url, headers=op, timeout=5)
        assert r.status_code == 200, r.text
        assert r.json()["camera_id"] == "cam1" and r.json()["record"] is False

        # nginx writes the line once the answer is sent: wait for it, no sleep
        line = wait("access-log line", lambda: [a for a in access_lines(ngx)
                                                if a["path"] == "/api/cameras/cam1/record/stop"
                                                and a["status"] == 200], 10)
        assert len(line) == 1 and line[0]["service"] == "nginx"
        trace = line[0]["trace_id"]
        assert len(trace) == 32 and all(c in "0123456789abcdef" for c in trace)

        seg = ev.wait("recording.segment", "cam1", svc=v, trace_id=trace)
        assert len(seg) == 1 and seg[0]["camera_id"] == "cam1"

        mine = [x for x in log_lines(v) if x.get("trace_id") == trace]
        messages = [x["message"] for x in mine]
        assert "recording stop requested through the API" in messages       # the HTTP thread
        assert "recording stopped" in messages                              # the camera thread
        assert all(x["service"] == "vmsd" and x["camera_id"] == "cam1" for x in mine)
        assert not any(x.get("trace_id") == "client-chosen-id" for x in log_lines(v))
        # lines no request caused carry no trace_id
        assert not any("trace_id" in x for x in log_lines(v) if x["message"].startswith("http: API on"))
        assert all(e["trace_id"] != trace for e in ev.of("camera.online"))

        # a start is traced the same way: its own id, on the camera thread's "recording" line
        r = requests.post(ngx.url("/api/cameras/cam1/record/start"), headers=op, timeout=5)
        assert r.status_code == 200 and r.json()["record"] is True
        start = wait("access-log line", lambda: [a for a in access_lines(ngx)
                                                 if a["path"] == "/api/cameras/cam1/record/start"], 10)
        t2 = start[0]["trace_id"]
        assert t2 != trace
        wait("recording again", lambda: any(x.get("trace_id") == t2 and x["message"] == "recording"
                                            for x in log_lines(v)), 30, v)
    finally:
        ev.close()


def test_vmsd_refuses_a_malformed_or_repeated_request_id(stack):
    conf = "[vmsd]\nlisten = 127.0.0.1:@API_PORT@\nrecordings = @RECORDINGS@\nspool_dir = @STATE@/spool\n"
    v = stack.vmsd(text=conf)
    for bad in ("a" * 65, "has space", "semi;colon", "quote\"", ""):
        r = requests.get(v.api + "/health", headers={"X-Request-ID": bad}, timeout=5)
        assert r.status_code == 400, bad
        assert r.json()["error"] == "bad_request" and "X-Request-ID" in r.json()["message"]
    # two X-Request-ID headers (requests cannot send a repeated header: raw socket)
    import socket
    with socket.create_connection(("127.0.0.1", v.port), timeout=5) as s:
        s.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{v.port}\r\nX-Request-ID: a\r\n"
                  f"X-Request-ID: b\r\nConnection: close\r\n\r\n".encode())
        got = b""
        while chunk := s.recv(4096):
            got += chunk
    assert got.startswith(b"HTTP/1.1 400"), got[:100]
    ok = requests.get(v.api + "/health", headers={"X-Request-ID": "A-z_09" + "x" * 58}, timeout=5)
    assert ok.status_code == 200
    refused = [x for x in log_lines(v) if x["message"].startswith("http: 400 GET /health")]
    assert refused and not any("semi" in x["message"] or "space" in x["message"] for x in refused)


def test_log_format_text_and_a_bad_value(stack):
    base = "[vmsd]\nlisten = 127.0.0.1:@API_PORT@\nrecordings = @RECORDINGS@\nspool_dir = @STATE@/spool\n"
    v = stack.vmsd(text=base + "log_format = text\n")
    requests.post(v.api + "/record/stop?camera=x&bogus=1", headers={"X-Request-ID": "trace-text-1"}, timeout=5)
    with open(v.log) as f:
        text = f.read()
    assert not any(line.startswith("{") for line in text.splitlines())
    started = [line for line in text.splitlines() if "http: API on" in line]
    assert started and " info " in started[0]
    assert any("trace=trace-text-1" in line for line in text.splitlines())

    bad = stack.path("bad")
    with open(os.path.join(bad, "vmsd.conf"), "w") as f:
        f.write(base.replace("@API_PORT@", "1").replace("@RECORDINGS@", bad).replace("@STATE@", bad)
                + "log_format = xml\n")
    import subprocess
    r = subprocess.run([stack.bin("vmsd"), "-t", "-c", os.path.join(bad, "vmsd.conf")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "log_format" in r.stderr and "expected json or text" in r.stderr
