"""Helpers the system tests share, one copy each (issue #19 item 2).  The stack itself (starting and
stopping peers, ports, waiting) is tests/tools/vmsstack.py; these are the small client-side steps
several test files take."""
import json
import queue
import subprocess
import threading
import time
import uuid

import jwt
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
