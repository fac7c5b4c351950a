"""Recorded-segment fixtures for the playback tests, made without vmsd.

ffmpeg encodes one continuous fragmented MP4 (1 s fragments, a keyframe at each); it is then cut
into segment files the way a recorder writes them: each file = the init section (ftyp+moov) + a run
of fragments, named by the vmsd path template (%Y/%m/%d/%H/segment_%s.mp4) or MediaMTX's
(%Y-%m-%d_%H-%M-%S-%f.mp4) from its wall-clock start.  Dropping fragments makes a gap.  The files
are then indexed with our CLI, `vms-index rebuild`.
"""
import datetime as dt
import os
import socket
import struct
import subprocess
import time
import uuid

import jwt
import pytest
import requests

FPS = 25
T0 = dt.datetime(2026, 11, 23, 23, 59, 0, tzinfo=dt.timezone.utc)   # crosses midnight and an hour dir
_SRC_CACHE = {}


def source(workdir, seconds):
    """A continuous fMP4 of `seconds` 1-second fragments (cached per work dir and length)."""
    key = (workdir, seconds)
    if key in _SRC_CACHE:
        return _SRC_CACHE[key]
    out = os.path.join(workdir, f"source-{seconds}s.mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc=size=160x120:rate={FPS}", "-t", str(seconds), "-c:v", "libx264",
                    "-preset", "ultrafast", "-g", str(FPS), "-keyint_min", str(FPS),
                    "-sc_threshold", "0", "-pix_fmt", "yuv420p",
                    "-movflags", "+frag_keyframe+empty_moov+default_base_moof", out], check=True)
    _SRC_CACHE[key] = out
    return out


def boxes(data):
    off, out = 0, []
    while off + 8 <= len(data):
        size, typ = struct.unpack(">I4s", data[off:off + 8])
        if size == 1:
            size = struct.unpack(">Q", data[off + 8:off + 16])[0]
        elif size == 0:
            size = len(data) - off
        out.append((typ.decode("latin1"), off, size))
        off += size
    return out


def split_source(path):
    """(init bytes, [fragment bytes, one per second])"""
    with open(path, "rb") as f:
        data = f.read()
    init, frags, cur = b"", [], None
    for typ, off, size in boxes(data):
        if typ in ("ftyp", "moov"):
            init += data[off:off + size]
        elif typ == "moof":
            cur = data[off:off + size]
        elif typ == "mdat" and cur is not None:
            frags.append(cur + data[off:off + size])
            cur = None
    return init, frags


def seg_name(t, style="vmsd"):
    if style == "mediamtx":
        return t.strftime("%Y-%m-%d_%H-%M-%S-%f") + ".mp4"
    return t.strftime("%Y/%m/%d/%H/") + f"segment_{int(t.timestamp())}.mp4"


def write_segments(camera_dir, start, seconds, seg_seconds=10, gaps=(), style="vmsd", workdir=None):
    """Writes segment files covering [start, start+seconds) except the (from_s, to_s) gaps
    (relative seconds, on whole seconds).  Returns [(wall start datetime, relative path, n_frags)]."""
    init, frags = split_source(source(workdir or os.path.dirname(camera_dir), seconds))
    assert len(frags) == seconds, f"expected {seconds} 1-second fragments, got {len(frags)}"
    missing = set()
    for a, b in gaps:
        missing.update(range(a, b))
    written, run = [], []

    def flush():
        if not run:
            return
        t = start + dt.timedelta(seconds=run[0])
        rel = seg_name(t, style)
        p = os.path.join(camera_dir, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(init)
            for i in run:
                f.write(frags[i])
        written.append((t, rel, len(run)))
        run.clear()

    for i in range(seconds):
        if i in missing:
            flush()
            continue
        run.append(i)
        if len(run) == seg_seconds:
            flush()
    flush()
    return written


def rebuild(vms_index, camera_dir):
    r = subprocess.run([vms_index, "rebuild", camera_dir], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + r.stdout
    return r.stdout


def iso(t):
    """RFC 3339 UTC as Go's RFC3339Nano writes it (and so MediaMTX and we): fraction trimmed."""
    s = t.strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{t.microsecond:06d}".rstrip("0")
    return s + ("." + frac if frac else "") + "Z"


def ts(sec):
    """T0 + sec seconds, as iso() writes it."""
    return iso(T0 + dt.timedelta(seconds=sec))


@pytest.fixture
def no_sanitizer_reports(stack):
    """On a sanitizer build (VMS_BUILD_DIR=build-asan) a memory error or UB in a worker is reported
    in the service logs: none may appear.  A test module opts in with
    `pytestmark = pytest.mark.usefixtures("no_sanitizer_reports")` after importing this fixture."""
    yield
    for dirpath, _, files in os.walk(stack.work):
        for f in files:
            if f.endswith(".log"):
                with open(os.path.join(dirpath, f), errors="replace") as fh:
                    text = fh.read()
                assert "AddressSanitizer" not in text and "runtime error:" not in text, f


def raw_exchange(port, data, timeout=5):
    """Sends data as it is to 127.0.0.1:port and returns every byte the peer sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
        c.sendall(data)
        out = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                return out
            out += chunk


def start_nginx(stack, extra_vars=None):
    """nginx with vms_playback, vms_auth and vms_limit (leases in the shared zone: Redis and Kafka
    point at a closed port, the modules' local fallbacks apply); extra_vars adds template variables
    (EXTRA_HTTP, ...)."""
    ngx = stack.nginx(vars={"REDIS_ADDR": "127.0.0.1:9", "KAFKA_BROKERS": "127.0.0.1:9", **(extra_vars or {})})
    with open(stack.secret_file()) as f:
        secret = f.read().strip()

    def token(**claims):
        now = int(time.time())
        payload = {"sub": "alice", "exp": now + 600, "iat": now, "jti": uuid.uuid4().hex,
                   "role": "viewer", "permissions": ["playback"], "plan": "pro"}
        payload.update(claims)
        return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, algorithm="HS256")

    ngx.token = token
    ngx.tok = token()
    ngx.auth = {"Authorization": f"Bearer {ngx.tok}"}
    ngx.get = lambda path, **kw: requests.get(ngx.url(path), headers=kw.pop("headers", ngx.auth), **kw)
    return ngx
