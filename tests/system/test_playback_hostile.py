"""vms_playback under hostile requests (issue #20): the camera vms_auth authorizes is the camera
served; an argument error is answered once and nothing else runs; /list never copies a Host header
into its JSON; the media route serves recordings only.  nginx with vms_playback, vms_auth and
vms_limit, fixture recordings indexed with `vms-index rebuild` (see test_playback.py)."""
import base64
import datetime as dt
import hashlib
import hmac
import http.client
import os
import threading
import time

import pytest

import playback_fixtures as pf
import requests

from vmsstack import wait_for

from playback_fixtures import T0, no_sanitizer_reports, ts  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("no_sanitizer_reports")


@pytest.fixture
def two(stack):
    """cam1: 30 s from T0; cam2: 60 s from T0 (so their /list answers differ)."""
    rec = stack.path("recordings")
    for cam, secs in (("cam1", 30), ("cam2", 60)):
        d = os.path.join(rec, cam)
        pf.write_segments(d, T0, secs, seg_seconds=10, workdir=stack.work)
        pf.rebuild(stack.bin("vms-index"), d)
    ngx = pf.start_nginx(stack)
    ngx.rec = rec
    ngx.cam1 = {"Authorization": f"Bearer {ngx.token(camera_id='cam1')}"}
    return ngx


def session(ngx, camera="cam1", user="alice"):
    """A media request needs its playlist's signed player session (vms_limit, docs/limit.md "Player
    sessions"); made here with the stack's key as documented, so the media route's own checks run."""
    with open(ngx.vars["LIMIT_SESSION_KEY_FILE"], "rb") as f:
        key = f.read().rstrip(b"\r\n\t ")
    exp, sid = int(time.time()) + 600, "hostile-test"
    msg = b"vms-session-v1" + b"".join(len(p).to_bytes(8, "big") + p
                                       for p in (camera.encode(), user.encode(), sid.encode(), str(exp).encode()))
    mac = base64.urlsafe_b64encode(hmac.new(key, msg, hashlib.sha256).digest()[:16]).rstrip(b"=").decode()
    return f"vms_session={exp}.{mac}.{sid}"


def raw(port, target, headers=()):
    """One request exactly as written (no client-side normalisation of the target or Host)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
    for k, v in headers:
        c.putheader(k, v)
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, dict(r.getheaders()), body


def alerts(ngx):
    with open(ngx.error_log) as f:
        return [line for line in f if "[alert]" in line or "header already sent" in line]


def test_case_variant_and_repeated_path_refused(two):
    tok = two.token(camera_id="cam1")
    hdr = [("Host", "localhost"), ("Authorization", f"Bearer {tok}")]
    # the cam1-only token sees cam1 (30 s) and is refused cam2
    st, _, body = raw(two.port, "/list?path=cam1", hdr)
    assert st == 200 and b'"duration":30' in body
    # (MediaMTX's uniform 401 for every auth failure on /list and /get: vms_auth_failure mediamtx)
    st, _, body = raw(two.port, "/list?path=cam2", hdr)
    assert st == 401 and b'"authentication error"' in body
    # the bypass of issue #20: authorized as cam1 (first, any case), served as cam2 (lowercase)
    shapes = [
        "/list?PATH=cam1&path=cam2",
        "/list?path=cam1&path=cam2",
        "/list?Path=cam2",
        "/list?p%61th=cam2&path=cam1",
        "/list?path=cam1&%70ath=cam2",
        f"/get?PATH=cam1&path=cam2&start={ts(0)}&duration=5",
        f"/get?path=cam1&start={ts(0)}&START={ts(20)}&duration=5",
        f"/get?path=cam1&start={ts(0)}&duration=5&duration=50",
        f"/api/playback/cam1?start={ts(0)}&end={ts(10)}&End={ts(20)}",
        f"/api/playback/cam1?start={ts(0)}&end={ts(10)}&jwt={tok}&JWT=x",
    ]
    for target in shapes:
        st, h, body = raw(two.port, target, hdr)
        assert st == 400, (target, st, body[:200])
        assert h["Content-Type"] == "application/json", target
        assert body.startswith(b'{"status":"error","error":"'), (target, body)
        assert b'"duration":60' not in body
    assert alerts(two) == []


def test_argument_error_answered_once_and_nothing_else_runs(two):
    """A too-long range is refused for every format before the index is read: the camera's index is
    made unreadable, and no request below may log an index error or an [alert]."""
    idx = os.path.join(two.rec, "cam1", ".index")
    for f in os.listdir(idx):
        with open(os.path.join(idx, f), "r+b") as fh:
            fh.write(b"\xff" * 64)
    far = pf.iso(T0 + dt.timedelta(days=40))
    hdr = [("Host", "localhost")] + list(two.cam1.items())
    targets = [
        f"/api/playback/cam1?start={ts(0)}&end={far}",
        f"/api/playback/cam1?start={ts(0)}&end={far}&format=hls",
        f"/api/playback/cam1?start={ts(0)}&end={far}&format=mp4",
        f"/api/playback/cam1?start={ts(0)}&end={far}&format=fmp4",
        f"/api/playback/cam1?start={ts(0)}&end={far}&format=mp4&gaps=skip",
        f"/api/playback/cam1/timeline?start={ts(0)}&end={far}",
    ]
    for target in targets:
        st, h, body = raw(two.port, target, hdr)
        assert st == 400 and b"range too long" in body, (target, st, body[:200])
        assert h["Content-Type"] == "application/json"
    with open(two.error_log) as f:
        log = f.read()
    assert "corrupt" not in log and ".index/" not in log, log[-2000:]   # the index was not read
    assert alerts(two) == []                                            # nor a second answer tried
    targets = [
        f"/get?path=cam1&start={ts(0)}&duration={40 * 86400}",
        f"/get?path=cam1&start={ts(0)}&duration={40 * 86400}&format=mp4&gaps=skip",
        f"/get?path=cam1&start={ts(0)}&duration=960h&format=fmp4",
    ]
    for target in targets:
        st, h, body = raw(two.port, target, hdr)
        assert st == 400 and b"range too long" in body, (target, st, body[:200])
        assert h["Content-Type"] == "application/json"
    # other argument errors of every route: one JSON answer each, nothing after it
    for target in [f"/api/playback/cam1?start=yesterday&end={ts(10)}",
                   f"/api/playback/cam1?start={ts(10)}&end={ts(0)}",
                   f"/api/playback/cam1?start={ts(0)}&end={ts(10)}&format=avi",
                   f"/api/playback/cam1?start={ts(0)}&end={ts(10)}&gaps=maybe",
                   f"/api/playback/cam1/media/2026/x.mp4?s=1&{session(two)}",
                   "/list?path=..%2Fcam1", "/list?path=cam1&start=soon",
                   f"/get?path=cam1&start={ts(0)}", f"/get?path=cam1&start={ts(0)}&duration=5&format=avi"]:
        st, h, body = raw(two.port, target, hdr)
        assert st == 400 and h["Content-Type"] == "application/json", (target, st, body[:200])
    with open(two.error_log) as f:
        log = f.read()
    assert "corrupt" not in log and ".index/" not in log, log[-2000:]
    assert alerts(two) == []
    # the same index does fail a request in range (so the check above means something)
    st, _, body = raw(two.port, f"/api/playback/cam1?start={ts(0)}&end={ts(10)}", hdr)
    assert st == 500 and b"corrupt" in body


def test_list_never_copies_a_hostile_host(two):
    for host in ['evil"},{"x":"y', "x@evil.com", "evil.com:80:80", "<script>", "evil.com:"]:
        st, h, body = raw(two.port, "/list?path=cam1", [("Host", host)] + list(two.cam1.items()))
        assert st == 400 and h["Content-Type"] == "application/json", (host, st, body)
        assert body == b'{"status":"error","error":"invalid Host header"}\n'
    # a plain host[:port] is kept, as MediaMTX builds its URLs from Host
    for host in ["vms.example.com", "vms.example.com:8443", "[::1]:9996", "10.0.0.7"]:
        st, _, body = raw(two.port, "/list?path=cam1", [("Host", host)] + list(two.cam1.items()))
        assert st == 200 and f'"url":"http://{host}/get?'.encode() in body, (host, body)


def test_list_urls_from_the_configured_base(stack):
    d = os.path.join(stack.path("recordings"), "cam1")
    pf.write_segments(d, T0, 20, seg_seconds=10, workdir=stack.work)
    pf.rebuild(stack.bin("vms-index"), d)
    ngx = pf.start_nginx(stack, {"EXTRA_HTTP": "vms_playback_base_url https://vms.example.com/;"})
    st, _, body = raw(ngx.port, "/list?path=cam1", [("Host", 'evil"},{"x":"y')] + list(ngx.auth.items()))
    assert st == 200, body
    assert b'"url":"https://vms.example.com/get?duration=20&path=cam1&start=' in body
    assert b"evil" not in body


def test_media_serves_recordings_only(two):
    cam = os.path.join(two.rec, "cam1")
    with open(os.path.join(cam, "latest.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 live snapshot")
    with open(os.path.join(cam, "notes.txt"), "w") as f:
        f.write("operator notes")
    hdr = [("Host", "localhost")] + list(two.cam1.items())
    for name in ["latest.jpg", "notes.txt", "2026", ".index/2026-11-23.seg", "x.mp4.jpg"]:
        st, h, body = raw(two.port, f"/api/playback/cam1/media/{name}?{session(two)}", hdr)
        assert st in (400, 404) and h["Content-Type"] == "application/json", (name, st)
        assert b"snapshot" not in body and b"operator" not in body
    seg = pf.seg_name(T0)
    st, _, body = raw(two.port, f"/api/playback/cam1/media/{seg}?{session(two)}", hdr)
    assert st == 200 and body[4:8] == b"ftyp"


def test_hostile_request_lines_leave_nginx_healthy(two):
    """Odd query shapes straight onto the socket: each gets one answer, no worker dies."""
    tok = two.token(camera_id="cam1")
    for q in ["path", "path=", "&&&&path=cam1&&", "path=cam1&", "=cam2", "path=%", "path=%zz",
              "path=cam1%00", "%00=1&path=cam1", "path=cam1&" + "x=1&" * 2000, "path=" + "a/" * 200 + "b",
              "path=cam1/../cam2", "path=./cam1", "path=cam1/.index", "path=/cam1", "path=cam1/"]:
        data = pf.raw_exchange(two.port, f"GET /list?{q} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\r\n"
                               "Connection: close\r\n\r\n".encode(), timeout=None)
        assert data.startswith(b"HTTP/1.1 "), q
        assert data.count(b"HTTP/1.1 ") == 1, q
        status = int(data[9:12])
        assert status in (200, 400, 403, 404, 414), (q, status)
        assert status == 414 or b"Content-Type: application/json" in data, (q, data[:300])
        assert b'"duration":60' not in data, q
    assert alerts(two) == []
    with open(two.error_log) as f:
        assert "exited on signal" not in f.read()


def nginx_threads_in(master_pid, kernel_fn):
    """Threads of nginx's workers blocked in kernel_fn (/proc/PID/task/TID/wchan)."""
    found = []
    with open(f"/proc/{master_pid}/task/{master_pid}/children") as f:
        workers = f.read().split()
    for w in workers:
        for tid in os.listdir(f"/proc/{w}/task"):
            try:
                with open(f"/proc/{w}/task/{tid}/wchan") as f:
                    if f.read().strip() == kernel_fn:
                        found.append((int(w), int(tid)))
            except FileNotFoundError:
                pass
    return found


def test_a_stalled_disk_holds_only_its_own_request(two):
    """Every disk access of a playback request runs in nginx's thread pool, never in the worker
    (issue #19 item 3).  cam2's index day file is made a FIFO with no writer: opening it blocks
    like a dead disk would, for as long as the test wants.  While cam2's timeline is stuck there,
    the one worker still answers cam1's timeline, /list and a segment; once the FIFO is opened
    for writing (and closed) the stuck request gets its answer: an unreadable index, as JSON."""
    day = os.path.join(two.rec, "cam2", ".index", T0.strftime("%Y-%m-%d") + ".seg")
    os.remove(day)
    os.mkfifo(day)
    cam2 = {"Authorization": f"Bearer {two.token(camera_id='cam2')}"}
    out = {}

    def stuck():
        r = requests.get(two.url(f"/api/playback/cam2/timeline?start={ts(0)}&end={ts(60)}"),
                         headers=cam2, timeout=120)
        out["status"], out["type"], out["body"] = r.status_code, r.headers["Content-Type"], r.json()

    t = threading.Thread(target=stuck)
    t.start()
    try:
        blocked = wait_for("a pool thread opening the FIFO",
                           lambda: nginx_threads_in(two.pid, "wait_for_partner"), 30)
        assert all(tid != w for w, tid in blocked), "the worker's own thread is blocked"
        r = two.get(f"/api/playback/cam1/timeline?start={ts(0)}&end={ts(60)}", headers=two.cam1,
                    timeout=20)
        assert r.status_code == 200 and r.json()["spans"][0]["duration"] == 30
        r = two.get("/list", params={"path": "cam1"}, headers=two.cam1, timeout=20)
        assert r.status_code == 200 and r.json()[0]["duration"] == 30
        st, _, body = raw(two.port, f"/api/playback/cam1/media/{pf.seg_name(T0)}?{session(two)}",
                          [("Host", "localhost")] + list(two.cam1.items()))
        assert st == 200 and body[4:8] == b"ftyp"
        assert t.is_alive() and "status" not in out
    finally:
        fd = os.open(day, os.O_WRONLY)    # the stuck open() returns; the reader finds no regular file
        os.close(fd)
        t.join(60)
    assert out["status"] == 500 and out["type"] == "application/json"
    assert out["body"]["error"] == "recording index unreadable (see the error log)"
    with open(two.error_log) as f:
        assert f"{day}: not a regular file" in f.read()
