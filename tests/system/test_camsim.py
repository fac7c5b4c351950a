"""camsim, the RTSP camera simulator: what its users (vmsd, the other system tests) rely on.

Every check goes through independent clients: ffprobe/ffmpeg over RTSP/TCP for the media, urllib for the
control interface.  camsim is started on free loopback ports and stopped by PID (conftest's `stack`).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import BUILD
from helpers import wait_until

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools", "camsim"))
from readers import Session  # noqa: E402  (a minimal RTSP/TCP client)

FFMPEG_TIMEOUT = 60


def camsim_bin():
    return os.path.join(BUILD, "bin", "camsim")


def status(cams):
    with urllib.request.urlopen(cams.control + "/status", timeout=5) as r:
        assert r.headers["Content-Type"] == "application/json"
        return {c["id"]: c for c in json.loads(r.read())["cameras"]}


def http(method, url):
    req = urllib.request.Request(url, data=b"" if method == "POST" else None, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def ffprobe(url, *args):
    return subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp", *args, "-of", "json", url],
                          capture_output=True, text=True, timeout=FFMPEG_TIMEOUT)


def probe_stream(url):
    r = ffprobe(url, "-show_entries", "stream=codec_name,width,height")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["streams"][0]


def key_flags(url, frames):
    r = ffprobe(url, "-select_streams", "v", "-read_intervals", f"%+#{frames}",
                "-show_entries", "frame=key_frame")
    assert r.returncode == 0, r.stderr
    return [f["key_frame"] for f in json.loads(r.stdout)["frames"]]


def frame_md5s(url, n):
    r = subprocess.run(["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-i", url, "-frames:v", str(n),
                        "-fps_mode", "passthrough", "-f", "framemd5", "-"],
                       capture_output=True, text=True, timeout=FFMPEG_TIMEOUT)
    assert r.returncode == 0, r.stderr
    hashes = [line.split(",")[-1].strip() for line in r.stdout.splitlines() if not line.startswith("#")]
    assert len(hashes) == n
    return hashes


class Reader:
    """A long-running ffmpeg RTSP/TCP client printing one line per packet (framecrc, or framemd5 of
    decoded frames), collected by a thread as they arrive."""

    def __init__(self, url, decode=False):
        fmt = ["-f", "framemd5", "-fps_mode", "passthrough"] if decode else ["-c", "copy", "-f", "framecrc"]
        self.proc = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", url,
                                      *fmt, "-flush_packets", "1", "-"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lines = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            if not line.startswith("#"):
                with self.lock:
                    self.lines.append(line.strip())

    def count(self):
        with self.lock:
            return len(self.lines)

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def wait_packets(self, n, timeout=30.0):
        wait_until(lambda: self.count() >= n, timeout, what=f"{n} packets")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.thread.join(10)


@pytest.fixture
def readers():
    started = []

    def start(url, decode=False):
        r = Reader(url, decode)
        started.append(r)
        return r
    yield start
    for r in started:
        r.stop()


def listening_addresses(port):
    """Local addresses (hex, as in /proc/net/tcp) of sockets listening on port."""
    found = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(path) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                addr, p = local.split(":")
                if state == "0A" and int(p, 16) == port:
                    found.append(addr)
    return found


# -- serving -------------------------------------------------------------------------------------------


def test_serves_h264_at_configured_sizes_on_loopback_only(stack):
    cams = stack.camsim(cameras=3, args=["--size", "320x180", "--camera", "cam2:size=640x360",
                                         "--camera", "lobby:size=160x120,fps=10"])
    assert probe_stream(cams.url("cam1")) == {"codec_name": "h264", "width": 320, "height": 180}
    assert probe_stream(cams.url("cam2")) == {"codec_name": "h264", "width": 640, "height": 360}
    assert probe_stream(cams.url("lobby")) == {"codec_name": "h264", "width": 160, "height": 120}
    assert probe_stream(cams.url("cam3"))["width"] == 320

    st = status(cams)
    assert list(st) == ["cam1", "cam2", "cam3", "lobby"]
    for cid, cam in st.items():
        assert cam["url"] == cams.url(cid)
        assert cam["state"] == "ok"
    assert st["lobby"]["fps"] == 10 and st["cam1"]["fps"] == 25

    r = ffprobe(f"rtsp://127.0.0.1:{cams.port}/camera/cam9")
    assert r.returncode != 0 and "404" in r.stderr
    for port in (cams.port, cams.control_port):
        assert listening_addresses(port) == ["0100007F"]
    # A client asking for UDP first (ffmpeg's default) is refused and falls back to TCP: while it plays,
    # camsim has no UDP socket.
    p = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "quiet", "-i", cams.url("cam1"), "-c", "copy", "-f", "null", "-"])
    try:
        wait_until(lambda: status(cams)["cam1"]["clients"] == 1, 30.0, what="the UDP-first client to play")
        udp = subprocess.run(["ss", "-H", "-uanp"], capture_output=True, text=True).stdout
        assert f"pid={cams.pid}," not in udp
    finally:
        p.kill()
        p.wait(10)


def test_keyframe_interval_is_the_configured_gop(stack):
    cams = stack.camsim(cameras=2, args=["--gop", "25", "--camera", "cam2:gop=10"])
    for cam, gop in (("cam1", 25), ("cam2", 10)):
        flags = key_flags(cams.url(cam), 3 * gop + 1)
        keys = [i for i, k in enumerate(flags) if k]
        assert keys[0] == 0, f"{cam}: stream does not start with a keyframe: {flags[:gop]}"
        assert keys == list(range(0, 3 * gop + 1, gop)), f"{cam}: keyframes at {keys}"


def test_live_content_changes_every_frame_and_still_repeats_one_picture(stack):
    cams = stack.camsim(cameras=2)
    url = cams.url("cam2")
    normal = frame_md5s(url, 12)
    assert all(a != b for a, b in zip(normal, normal[1:])), normal

    assert cams.fault("cam2", "still")["state"] == "still"
    still = frame_md5s(url, 12)
    assert len(set(still)) == 1, still
    assert status(cams)["cam2"]["state"] == "still"
    assert len(set(frame_md5s(cams.url("cam1"), 5))) == 5, "still leaked to another camera"

    cams.fault("cam2", "resume")
    again = frame_md5s(url, 12)
    assert all(a != b for a, b in zip(again, again[1:])), again


def test_still_applies_to_a_connected_reader(stack, readers):
    cams = stack.camsim(cameras=1)
    r = readers(cams.url("cam1"), decode=True)
    r.wait_packets(10)
    before = r.snapshot()
    assert all(a.split(",")[-1] != b.split(",")[-1] for a, b in zip(before, before[1:]))
    cams.fault("cam1", "still")

    def repeated_run():
        hashes = [line.split(",")[-1] for line in r.snapshot()[len(before):]]
        for i in range(len(hashes) - 10):
            if len(set(hashes[i:i + 10])) == 1:
                return True
        return False
    wait_until(repeated_run, 20, what="10 identical decoded frames")
    assert r.proc.poll() is None


# -- faults --------------------------------------------------------------------------------------------


def test_drop_closes_sessions_refuses_for_t_seconds_then_serves(stack, readers):
    cams = stack.camsim(cameras=2)
    r = readers(cams.url("cam1"))
    r.wait_packets(10)
    wait_until(lambda: status(cams)["cam1"]["clients"] == 1, 30.0, what="cam1 counts its client")

    # What a drop does, observed while it lasts (open-ended, so a slow machine cannot outlast it)
    assert cams.fault("cam1", "drop")["state"] == "drop"
    r.proc.wait(15)                           # the server closed the session: the reader ends
    during = ffprobe(cams.url("cam1"))
    assert during.returncode != 0 and "404" in during.stderr, during.stderr
    assert status(cams)["cam1"]["state"] == "drop"
    assert probe_stream(cams.url("cam2"))["codec_name"] == "h264", "drop leaked to another camera"
    assert cams.fault("cam1", "resume")["state"] == "ok"
    assert probe_stream(cams.url("cam1"))["codec_name"] == "h264"

    # A drop of T seconds ends by itself, not before T
    t0 = time.monotonic()
    assert cams.fault("cam1", "drop", seconds=4)["state"] == "drop"
    wait_until(lambda: status(cams)["cam1"]["state"] == "ok", 15, what="cam1 back to ok")
    assert time.monotonic() - t0 >= 3.9
    assert probe_stream(cams.url("cam1"))["codec_name"] == "h264"


def test_drop_closes_a_client_between_describe_and_setup(stack):
    cams = stack.camsim(cameras=2)
    other = socket.create_connection(("127.0.0.1", cams.port), timeout=5)
    with socket.create_connection(("127.0.0.1", cams.port), timeout=5) as s:
        for sock, cam in ((s, "cam1"), (other, "cam2")):
            sock.sendall(f"DESCRIBE {cams.url(cam)} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
            assert sock.recv(65536).startswith(b"RTSP/1.0 200 OK")
        cams.fault("cam1", "drop")
        assert s.recv(65536) == b"", "the server kept the connection of a client that described cam1"
    other.sendall(f"OPTIONS {cams.url('cam2')} RTSP/1.0\r\nCSeq: 2\r\n\r\n".encode())
    assert other.recv(65536).startswith(b"RTSP/1.0 200 OK"), "a client of another camera was closed"
    other.close()


def test_drop_without_seconds_lasts_until_resume(stack):
    cams = stack.camsim(cameras=1)
    cams.fault("cam1", "drop")
    r = ffprobe(cams.url("cam1"))
    assert r.returncode != 0 and "404" in r.stderr
    assert status(cams)["cam1"]["state"] == "drop"
    assert cams.fault("cam1", "resume")["state"] == "ok"
    assert probe_stream(cams.url("cam1"))["codec_name"] == "h264"


def test_freeze_stalls_a_reader_without_closing_then_resume_continues(stack, readers):
    cams = stack.camsim(cameras=2)
    r = readers(cams.url("cam1"))
    other = readers(cams.url("cam2"))
    r.wait_packets(10)
    other.wait_packets(10)
    assert cams.fault("cam1", "freeze")["state"] == "freeze"
    time.sleep(1)                              # frames already on their way may still arrive
    frozen_at, other_at = r.count(), other.count()
    time.sleep(4)
    assert r.count() == frozen_at, "packets kept coming during freeze"
    assert r.proc.poll() is None, "the reader's session was closed"
    assert other.count() > other_at + 50, "freeze leaked to another camera"
    cam = status(cams)["cam1"]
    assert cam["state"] == "freeze" and cam["clients"] == 1

    # A client joining the frozen camera completes DESCRIBE/SETUP/PLAY (socket timeout 10 s), gets at
    # most the one keyframe that lets the server finish preparing, and then nothing.
    late = Session(cams.url("cam1"))
    late.sock.settimeout(3)
    try:
        while late.drain():
            pass
    except (socket.timeout, BlockingIOError):
        pass
    assert late.closed is None and late.rtp < 10, f"{late.rtp} RTP packets to a client of a frozen camera"
    late.sock.close()

    cams.fault("cam1", "resume")
    r.wait_packets(frozen_at + 25, 15)
    # ffmpeg's parser emits a frame once the next one starts, so the last frame sent before the freeze
    # shows up first; the camera itself resumes with a keyframe.
    resumed = r.snapshot()[frozen_at:]
    assert "F=0x0" not in resumed[1], f"resumed stream does not start with a keyframe: {resumed[:3]}"
    assert r.proc.poll() is None


def test_control_errors(stack):
    cams = stack.camsim(cameras=1)
    c = cams.control
    assert http("POST", c + "/camera/nope/freeze")[0] == 404
    assert http("POST", c + "/camera/cam1/explode")[0] == 404
    assert http("POST", c + "/camera/cam1/drop?seconds=abc")[0] == 400
    assert http("POST", c + "/camera/cam1/drop?seconds=-1")[0] == 400
    assert http("POST", c + "/camera/bad%20id/drop")[0] == 400
    assert http("GET", c + "/camera/cam1/freeze")[0] == 405
    assert http("POST", c + "/status")[0] == 405
    assert http("GET", c + "/nothing")[0] == 404
    code, body = http("GET", c + "/status")
    assert code == 200 and body["cameras"][0]["state"] == "ok"
    assert status(cams)["cam1"]["state"] == "ok", "a rejected request changed state"


# -- scale and scenes ----------------------------------------------------------------------------------


def test_eight_cameras_read_concurrently_and_clients_are_counted(stack, readers):
    cams = stack.camsim(cameras=8)
    rs = [readers(cams.url(f"cam{i}"), decode=True) for i in range(1, 9)]
    rs.append(readers(cams.url("cam1"), decode=True))     # a second client of one camera
    for r in rs:
        r.wait_packets(50, 60)
    for r in rs:
        hashes = [line.split(",")[-1] for line in r.snapshot()[:50]]
        assert all(a != b for a, b in zip(hashes, hashes[1:]))
    st = status(cams)
    assert st["cam1"]["clients"] == 2
    assert all(st[f"cam{i}"]["clients"] == 1 for i in range(2, 9))
    for r in rs:
        r.stop()
    wait_until(lambda: all(c["clients"] == 0 for c in status(cams).values()), 30.0, what="clients to go away")


def test_file_camera_is_transcoded_with_its_gop(stack, tmp_path):
    clip = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25",
                    "-f", "lavfi", "-i", "sine", "-t", "3", "-c:v", "mpeg4", "-c:a", "aac", str(clip)],
                   check=True, timeout=60)
    cams = stack.camsim(cameras=1, args=["--camera", f"lobby:file={clip},gop=10"])
    assert probe_stream(cams.url("lobby")) == {"codec_name": "h264", "width": 320, "height": 240}
    keys = [i for i, k in enumerate(key_flags(cams.url("lobby"), 31)) if k]
    assert keys == [0, 10, 20, 30]
    lobby = status(cams)["lobby"]
    assert lobby["scene"] == "file" and lobby["loop_frames"] == 70   # 75 frames cut to whole GOPs


def test_bitrate_key_encodes_a_constant_bit_rate_camera(stack, tmp_path):
    """The realistic bench profile's knob: bitrate=KBPS is x264 CBR. Two cameras of one busy scene
    (real footage: opencv-doc's pedestrians), 1500 and 400 kbit/s: what a reader records is near
    each rate (a constant-quality encode would give one figure for both)."""
    clip = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
    cams = stack.camsim(cameras=0, args=[
        "--camera", f"hi:file={clip},size=640x360,gop=50,loop=10,bitrate=1500",
        "--camera", f"lo:file={clip},size=640x360,gop=50,loop=10,bitrate=400"])
    for cam, kbps in (("hi", 1500), ("lo", 400)):
        out = tmp_path / f"{cam}.mp4"
        r = subprocess.run(["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-i", cams.url(cam), "-t", "8",
                            "-c", "copy", "-y", str(out)], capture_output=True, text=True, timeout=FFMPEG_TIMEOUT)
        assert r.returncode == 0, r.stderr
        fmt = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=bit_rate",
                                         "-of", "json", str(out)], capture_output=True, text=True,
                                        check=True).stdout)["format"]
        assert 0.6 * kbps < int(fmt["bit_rate"]) / 1000 < 1.4 * kbps, (cam, fmt)


def test_bad_arguments_and_unreadable_file_fail_with_a_message(tmp_path):
    def run(*args):
        return subprocess.run([camsim_bin(), "--port", "1", "--control-port", "2", *args],
                              capture_output=True, text=True, timeout=60)
    r = run("--cameras", "1", "--camera", "cam1:colour=red")
    assert r.returncode == 2 and "unknown key 'colour'" in r.stderr
    r = run("--cameras", "1", "--camera", "bad/id:gop=5")
    assert r.returncode == 2 and "camera id" in r.stderr
    r = run("--cameras", "1", "--size", "641x360")
    assert r.returncode == 2 and "--size" in r.stderr
    r = run("--camera", "cam1:bitrate=20")
    assert r.returncode == 2 and "bad value '20' for key 'bitrate'" in r.stderr
    r = run("--camera", "m:scene=motion,loop=10")
    assert r.returncode == 2 and "loop >= 20" in r.stderr
    r = run("--camera", f"lobby:file={tmp_path}/missing.avi")
    assert r.returncode == 1 and "camera lobby" in r.stderr and "ready" not in r.stdout


def decode_counter(frame, w, h):
    """The loop frame index drawn by scene.c: 12 binary cells, MSB first, in the bottom-left corner."""
    c = max(4, h // 36) & ~1
    y = h - 2 * c + c // 2
    v = 0
    for bit in range(12):
        v = v * 2 + (frame[y * w + c + bit * c + c // 2] > 128)
    return v


def test_motion_scene_box_only_in_its_window(stack):
    w, h, fps = 320, 180, 10
    cams = stack.camsim(cameras=1, args=["--camera", f"cam1:scene=motion,size={w}x{h},fps={fps},gop={fps}"])
    cam = status(cams)["cam1"]
    assert cam["scene"] == "motion" and cam["motion_s"] == [8.0, 12.0] and cam["loop_frames"] == 20 * fps
    start, end = 8 * fps, 12 * fps
    proc = subprocess.Popen(["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", cams.url("cam1"),
                             "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seen_box, seen_plain, prev = set(), set(), None
    try:
        # Read until a whole motion window (its start and its end) has gone by.
        while not (start in seen_box and end in seen_plain and start - 1 in seen_plain):
            frame = proc.stdout.read(w * h)
            assert len(frame) == w * h, "stream ended"
            n = decode_counter(frame, w, h)
            if prev is not None:
                assert n == (prev + 1) % cam["loop_frames"], f"frame {n} after {prev}"
            prev = n
            box = max(frame[(h // 2) * w:(h // 2 + 1) * w]) > 200
            assert box == (start <= n < end), f"loop frame {n}: box present={box}"
            (seen_box if box else seen_plain).add(n)
    finally:
        proc.kill()
        proc.wait(10)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_zero_with_a_client_connected(sig):
    from vmsstack import free_port
    port, cport = free_port(), free_port()
    p = subprocess.Popen([camsim_bin(), "--port", str(port), "--control-port", str(cport), "--cameras", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    reader = None
    try:
        line = p.stdout.readline()
        assert line == f"camsim: ready rtsp://127.0.0.1:{port} control http://127.0.0.1:{cport}\n"
        reader = Reader(f"rtsp://127.0.0.1:{port}/camera/cam1")
        reader.wait_packets(5)
        p.send_signal(sig)
        assert p.wait(15) == 0
        assert p.stdout.read() == ""          # exactly one line on stdout
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if reader:
            reader.stop()
