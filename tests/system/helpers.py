"""Helpers the system tests share, one copy each (issue #19 item 2).  The stack itself (starting and
stopping peers, ports, waiting) is tests/tools/vmsstack.py; these are the small client-side steps
several test files take."""
import fcntl
import http.client
import json
import os
import queue
import shutil
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import psycopg
import requests
from confluent_kafka import Consumer

import vmsstack


def redis_cli(redis, *args):
    """One redis-cli command against a stack's Redis; its output, stripped."""
    return subprocess.run(["redis-cli", "-p", str(redis.port), *args], capture_output=True,
                          text=True, check=True).stdout.strip()


def consume(bootstrap, topic, n, timeout=30, decode=None):
    """The first n records of topic (a new consumer group reading from the start) as (key, value)
    pairs, value passed through decode when given; fails the test when fewer arrive in time."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"t-{uuid.uuid4().hex}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    c.subscribe([topic])
    got = []

    def poll():
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            got.append((m.key(), decode(m.value()) if decode else m.value()))
        return len(got) >= n
    try:
        vmsstack.wait_for(f"{n} records on {topic}", poll, timeout)
    finally:
        c.close()
    return got


def rtmp_callback(ngx, **form):
    """The form nginx-rtmp's notify module (or a test acting as it) posts to /api/auth/rtmp."""
    return requests.post(ngx.url("/api/auth/rtmp"), data=form, timeout=5)


# -- live push (docs/events.md "Live push") ------------------------------------------------

def token(stack, ttl=600, **claims):
    """A user token signed with the stack's key (sub u1, viewer of tenant t1), claims added."""
    with open(stack.secret_file()) as f:
        key = f.read().strip()
    now = int(time.time())
    body = {"sub": "u1", "role": "viewer", "tenant_id": "t1", "iat": now, "exp": now + ttl,
            "jti": uuid.uuid4().hex}
    body.update(claims)
    return jwt.encode(body, key, algorithm="HS256")


class Sse:
    """An EventSource subscription read on a thread: (id, data) pairs in a queue."""

    def __init__(self, url, tok=None, last_event_id=None):
        headers = {"Accept": "text/event-stream"}
        if tok:
            headers["Authorization"] = f"Bearer {tok}"
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.r = requests.get(url, headers=headers, stream=True, timeout=(5, 120))
        self.status = self.r.status_code
        self.q = queue.Queue()
        self.ended = threading.Event()
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        ev_id, data = None, []
        try:
            for line in self.r.iter_lines(chunk_size=1, decode_unicode=True):   # as it comes
                if line is None:
                    continue
                if line == "":
                    if data:
                        self.q.put((ev_id, "\n".join(data)))
                    ev_id, data = None, []
                elif line.startswith("id:"):
                    ev_id = line[3:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip())
        except Exception:  # noqa: BLE001 - the connection closed
            pass
        self.ended.set()

    def messages(self, n, timeout=30):
        """n messages (JSON decoded, with their ids), or fail."""
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{len(got)} of {n} messages after {timeout} s: {got}")
            try:
                ev_id, data = self.q.get(timeout=left)
            except queue.Empty:
                continue
            msg = json.loads(data)
            if msg.get("type") != "probe":         # left over from primed()
                got.append((ev_id, msg))
        return got

    def quiet(self, seconds):
        """Nothing more arrives within `seconds`."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                extra = self.q.get(timeout=left)
            except queue.Empty:
                return True
            if json.loads(extra[1]).get("type") != "probe":
                raise AssertionError(f"unexpected message {extra}")
        return True

    def close(self):
        self.r.close()


def live(ngx, cameras, **q):
    """The live events URL for a camera list, with more query arguments."""
    extra = "".join(f"&{k}={v}" for k, v in q.items())
    return ngx.url(f"/api/events/live?cameras={cameras}{extra}")


# -- browser pages (tests/browser) ---------------------------------------------------------------

ROOT = vmsstack.ROOT
BROWSER = os.path.join(ROOT, "tests", "browser")
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts", "browser")


def ensure_node_modules(where=BROWSER, marker="playwright-core"):
    """`npm ci` in `where` (tests/browser, tests/deploy) unless node_modules/`marker` is there.
    Under pytest-xdist several workers may ask at once: a lock file serializes them."""
    if os.path.isdir(os.path.join(where, "node_modules", marker)):
        return
    with open(os.path.join(where, ".npm-ci.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isdir(os.path.join(where, "node_modules", marker)):
            _npm_ci(where)


def _npm_ci(where):
    npm = shutil.which("npm")
    assert npm, "npm is missing (auto/packages.sh group browser)"
    cmd = [npm, "ci", "--no-audit", "--no-fund"] if os.path.exists(os.path.join(where, "package-lock.json")) \
        else [npm, "install", "--no-audit", "--no-fund"]
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
    r = subprocess.run(cmd, cwd=where, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"


# -- alerts: a webhook receiver ------------------------------------------------------------------

class Hook:
    """A webhook on loopback: records each POST; answers `status` (changeable), or with `hang` set
    answers nothing until close()."""

    def __init__(self, status=200):
        self.status, self.got, self.lock = status, [], threading.Lock()
        self.hang, self.release = False, threading.Event()
        hook = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with hook.lock:
                    hook.got.append((dict(self.headers), json.loads(body)))
                if hook.hang:
                    hook.release.wait(120)
                    return
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass
        self.port = vmsstack.free_port()
        self.srv = ThreadingHTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}/hook/s3cr3t-path"

    def bodies(self):
        with self.lock:
            return [b for _, b in self.got]

    def close(self):
        self.release.set()
        self.srv.shutdown()
        self.srv.server_close()


def receivers(tmp_path, *rs):
    f = tmp_path / f"receivers-{uuid.uuid4().hex[:6]}.json"
    f.write_text(json.dumps({"receivers": list(rs)}))
    return str(f)


# -- detections and review events ----------------------------------------------------------------

def iso_us(us):
    """RFC 3339 UTC with milliseconds of a time in microseconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us // 1_000_000)) + f".{us // 1000 % 1000:03d}Z"


def det(cam, n, at_us, label="person", conf=0.9, box=(100, 100, 50, 50), snapshot=None, prefix="t"):
    d = {"schema": 1, "type": "detection", "id": f"{prefix}-{cam}-{n}", "camera_id": cam, "ts": iso_us(at_us),
         "ts_us": at_us, "provider": "deepstack", "kind": "label", "label": label, "confidence": conf,
         "bbox": None if box is None else dict(zip(("x", "y", "width", "height"), box)),
         "attributes": {}, "snapshot": snapshot, "frame": {"width": 1000, "height": 1000},
         "trace_id": "0" * 32}
    return d


def iso(sec):
    """RFC 3339 UTC with milliseconds (.000) of a time in seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".000Z"


def add_event(pg, eid, camera, start, end, labels=("person",), score=0.8, snapshot=None, detections=()):
    """A closed review event (and its detections) written straight into PostgreSQL."""
    with psycopg.connect(pg.dsn) as c:
        c.execute("INSERT INTO review_events (id, camera_id, start_ts, end_ts, labels, max_score, detections,"
                  " snapshot_detection, snapshot, state) VALUES (%s, %s, to_timestamp(%s), to_timestamp(%s),"
                  " %s, %s, %s, %s, %s, 'closed')",
                  (eid, camera, start, end, list(labels), score, len(detections) or 1,
                   detections[0] if detections else None, snapshot))
        for i, did in enumerate(detections):
            c.execute("INSERT INTO detection_results (id, camera_id, ts, provider, kind, label, confidence,"
                      " bbox_x, bbox_y, bbox_w, bbox_h, snapshot) VALUES (%s, %s, to_timestamp(%s), 'motion',"
                      " 'label', %s, %s, 10, 20, 30, 40, %s)",
                      (did, camera, start + i, labels[0], score, snapshot))


# -- live video ----------------------------------------------------------------------------------

def hls_ready(ngx, cam):
    """The camera's live playlist in nginx-rtmp's HLS folder once it lists a segment, else False."""
    p = os.path.join(ngx.prefix, "hls", cam, "index.m3u8")
    if not os.path.exists(p):
        return False
    with open(p) as f:
        text = f.read()
    return ".ts" in text and text


def limit_metrics(port):
    """vms_limit's counters at nginx's /metrics/limit: {"name{labels}": value}."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", "/metrics/limit")
        r = c.getresponse()
        body = r.read()
        assert r.status == 200, r.status
    finally:
        c.close()
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = int(v)
    return out


def limit_metric(port, name):
    return limit_metrics(port).get(name, 0)


def wait_until(check, timeout=15.0, what="condition"):
    """check()'s first true value, polled every 50 ms; AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = check()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout} s")
