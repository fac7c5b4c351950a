"""events.html in Debian's Chromium (tests/browser/events/events.test.mjs) against PostgreSQL,
vms-review-api, the Kafka broker, vms-push and nginx with nchan.  Screenshots land in
tests/artifacts/browser/."""
import os
import shutil
import subprocess
import sys
import time

import jwt

from helpers import ARTIFACTS, BROWSER, add_event, ensure_node_modules, iso

T1 = 1767225600        # 2026-01-01T00:00:00Z


def test_events_page(stack, tmp_path):
    for tool in ("/usr/bin/chromium", shutil.which("node"), shutil.which("kcat"), shutil.which("ffmpeg")):
        assert tool and os.path.exists(tool), f"missing {tool} (auto/packages.sh)"
    ensure_node_modules()
    pg = stack.postgres()
    k = stack.kafka()
    snaps = tmp_path / "snapshots"
    (snaps / "cam1").mkdir(parents=True)
    jpg = snaps / "cam1" / "best.jpg"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x180", "-frames:v", "1",
                    str(jpg)], check=True, timeout=60)
    add_event(pg, "stored-1", "cam2", T1, T1 + 8, labels=("person",), score=0.6)
    add_event(pg, "stored-2", "cam1", T1 + 100, T1 + 130, labels=("person", "car"), score=0.9,
              snapshot=f"file://{jpg}", detections=("d-1",))
    add_event(pg, "hidden", "cam9", T1 + 200, T1 + 210)           # a camera outside the token
    api = stack.review_api(pg, args=["--snapshot-dir", str(snaps)])
    ngx = stack.nginx(vars={"REVIEW_API": api.addr, "KAFKA_BROKERS": k.bootstrap, "REDIS_ADDR": "127.0.0.1:9"})
    stack.push(k, ngx)
    with open(stack.secret_file()) as f:
        key = f.read().strip()
    now = int(time.time())
    token = jwt.encode({"sub": "operator", "role": "viewer", "cameras": ["cam1", "cam2"], "iat": now,
                        "exp": now + 3600}, key, algorithm="HS256")
    env = dict(os.environ, VMS_BASE_URL=ngx.url("").rstrip("/"), VMS_EVENTS_TOKEN=token, VMS_KAFKA=k.bootstrap,
               VMS_EVENT2_START=iso(T1 + 100), VMS_ARTIFACTS=ARTIFACTS)
    os.makedirs(ARTIFACTS, exist_ok=True)
    proc = subprocess.run(["node", "--test", os.path.join("events", "events.test.mjs")], cwd=BROWSER, env=env,
                          capture_output=True, text=True, timeout=300)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    assert proc.returncode == 0, "events.test.mjs failed (screenshots and console in tests/artifacts/browser/)"
