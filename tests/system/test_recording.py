"""Recording (issue #3): vmsd records camsim streams to fragmented MP4 segments with an index.

What a user checks: the segments are where the layout says, ffprobe reads and decodes them, they
are as long as configured, one connection's segments follow each other without a gap, and after
`kill -9` the segment being written still plays up to its last fragment and is indexed at restart.
The index is read with an independent reader of docs/index-format.md (recindex.py).
"""
import datetime
import json
import os
import re
import signal
import subprocess

import pytest

import recindex as ri
import vmsstack

FPS = 25

CONF = """
[vmsd]
listen = 127.0.0.1:@API_PORT@
recordings = @RECORDINGS@
log_level = info
# the watchdog must not restart a frozen camera while a test holds it frozen
frozen_timeout = 1h
watchdog_interval = 1h
still_timeout = 1h
retention_interval = 1h

[camera cam1]
url = @URL@
segment_duration = @SEGMENT@
"""

LAYOUT = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/(\d{2})/segment_(\d+)(?:_\d+)?\.mp4$")


def start(stack, segment, gop, name="vmsd", cam=None):
    cam = cam or stack.camsim(cameras=1, args=("--gop", str(gop), "--fps", str(FPS)))
    vmsd = stack.vmsd(text=CONF, vars={"URL": cam.url("cam1"), "SEGMENT": segment}, name=name)
    return cam, vmsd


def camera_dir(stack):
    return os.path.join(stack.path("recordings"), "cam1")


def wait_segments(stack, vmsd, n, timeout):
    d = camera_dir(stack)
    return vmsstack.wait_for(f"{n} closed segments", lambda: len(ri.segments(d)) >= n and ri.segments(d),
                             timeout, vmsd.proc, vmsd.log)


def health(vmsd, camera="cam1"):
    status, body = vmsstack.http_get(vmsd.api + "/health")
    assert status == 200
    return next(c for c in json.loads(body)["cameras"] if c["id"] == camera)


def check_segment_file(d, seg, fps=FPS):
    """One closed segment: layout, sizes, fragment table, what ffprobe sees."""
    m = LAYOUT.match(seg["path"])
    assert m, f"{seg['path']} does not follow %path/%Y/%m/%d/%H/segment_%s"
    t = datetime.datetime.fromtimestamp(seg["start_us"] / 1e6, datetime.timezone.utc)
    assert m.groups()[:5] == (f"{t.year:04d}", f"{t.month:02d}", f"{t.day:02d}", f"{t.hour:02d}",
                              str(seg["start_us"] // 1_000_000)), seg["path"]
    path = os.path.join(d, seg["path"])
    assert os.path.getsize(path) == seg["bytes"]

    # fragments tile the file after the init section, in time as in bytes
    frags = seg["frags"]
    assert frags and frags[0]["offset"] == seg["init_size"] > 0
    for a, b in zip(frags, frags[1:]):
        assert b["offset"] == a["offset"] + a["size"]
        assert b["start_us"] == a["start_us"] + a["duration_us"]
    assert frags[-1]["offset"] + frags[-1]["size"] == seg["bytes"]
    assert frags[0]["start_us"] == 0 and frags[0]["key"]
    assert sum(f["duration_us"] for f in frags) == seg["duration_us"]
    assert all(f["duration_us"] <= 1_000_000 + 1_000_000 // fps for f in frags), frags

    p = ri.probe(path)
    assert [s["codec_name"] for s in p["streams"]] == ["h264"]
    assert p["start_us"] == seg["start_us"], "the file's own start tag matches the index"
    assert abs(p["video_duration"] * 1e6 - seg["duration_us"]) < 1e6 / fps
    assert ri.decode_errors(path) == ""
    return p


@pytest.mark.parametrize("segment_s,count", [
    pytest.param(4, 4, id="scaled-4s"),
    pytest.param(60, 3, id="3min-at-60s"),
])
def test_segments_layout_playable_contiguous(stack, segment_s, count):
    gop = FPS   # one keyframe a second: fragments of exactly 1 s
    _, vmsd = start(stack, f"{segment_s}s", gop)
    segs = wait_segments(stack, vmsd, count, segment_s * (count + 2) + 30)
    d = camera_dir(stack)
    segs = ri.segments(d, frags=True)[:count]

    probes = [check_segment_file(d, s) for s in segs]
    for s in segs:
        # a new segment at the first keyframe after the duration: never shorter, < 1 GOP longer
        assert segment_s * 1e6 <= s["duration_us"] < segment_s * 1e6 + gop * 1e6 / FPS, s
        assert all(f["key"] for f in s["frags"])

    # one connection: only the first segment is a discontinuity, and each starts where the
    # previous one ends, by ffprobe's reading of the files (start tag + video duration)
    assert segs[0]["flags"] & ri.SEG_DISCONTINUITY
    for (a, pa), (b, pb) in zip(zip(segs, probes), zip(segs[1:], probes[1:])):
        assert not b["flags"] & ri.SEG_DISCONTINUITY
        gap_us = pb["start_us"] - (pa["start_us"] + pa["video_duration"] * 1e6)
        assert abs(gap_us) < 1e6 / FPS, f"{a['path']} -> {b['path']}: gap {gap_us} us"
        assert b["start_us"] == a["start_us"] + a["duration_us"]

    # the segment being written is announced (for playback) with its complete fragments
    op = ri.open_segment(d)
    assert op is not None and op["flags"] & ri.SEG_OPEN
    assert op["start_us"] >= segs[-1]["start_us"] + segs[-1]["duration_us"]
    assert os.path.getsize(os.path.join(d, op["path"])) >= op["bytes"]


def test_kill9_open_segment_plays_and_is_indexed_at_restart(stack):
    gop = 5    # keyframes every 0.2 s: little is unrecorded before the first one
    cam, vmsd = start(stack, "3s", gop)
    d = camera_dir(stack)

    def ready():
        op = ri.open_segment(d)
        return len(ri.segments(d)) >= 2 and op is not None and op["nfrags"] >= 2 and op
    vmsstack.wait_for("2 segments closed and one open", ready, 60, vmsd.proc, vmsd.log)

    # freeze the camera so "frames received" stops moving, then kill -9 mid-segment
    cam.fault("cam1", "freeze")
    last = {"n": -1}

    def settled():
        n = health(vmsd)["frames"]
        same, last["n"] = n == last["n"], n
        return same and n
    received = vmsstack.wait_for("frames to stop", settled, 30, vmsd.proc, vmsd.log)
    op = ri.open_segment(d)
    vmsd.signal(signal.SIGKILL)
    vmsd.proc.wait(10)

    closed = ri.segments(d, frags=True)
    open_path = os.path.join(d, op["path"])
    assert op["path"] not in [s["path"] for s in closed]
    size_at_crash = os.path.getsize(open_path)
    assert size_at_crash >= op["bytes"], "what the open record announced is on disk"

    # the open segment plays up to its last fragment ...
    p = ri.probe(open_path)
    assert ri.decode_errors(open_path) == ""
    # ... and at most one second of what vmsd received is lost, over the whole connection
    recorded = p["video_frames"] + sum(ri.probe(os.path.join(d, s["path"]))["video_frames"] for s in closed)
    assert received - recorded <= FPS, f"received {received} frames, {recorded} recorded"

    # a torn fragment at the end (a crash inside a write) and a segment file gone from disk
    with open(open_path, "rb") as f:
        f.seek(op["frags"][-1]["offset"])
        torn = f.read(op["frags"][-1]["size"] // 2)
    with open(open_path, "ab") as f:
        f.write(torn)
    vanished = closed[0]
    os.unlink(os.path.join(d, vanished["path"]))

    cam.fault("cam1", "resume")
    _, vmsd2 = start(stack, "3s", gop, name="vmsd-restart", cam=cam)

    def reconciled():
        return next((s for s in ri.segments(d, frags=True) if s["path"] == op["path"]), None)
    seg = vmsstack.wait_for("the crashed segment indexed", reconciled, 30, vmsd2.proc, vmsd2.log)
    paths = [s["path"] for s in ri.segments(d)]
    assert vanished["path"] not in paths, "the entry of a vanished file is dropped"
    assert os.path.getsize(open_path) == size_at_crash, "the torn fragment is cut off"
    assert seg["bytes"] == size_at_crash and seg["nfrags"] >= op["nfrags"]
    assert seg["start_us"] == op["start_us"]
    check_segment_file(d, seg)
    assert ri.decode_errors(open_path) == ""

    # recording goes on after the restart, as a new connection
    def new_segment():
        later = [s for s in ri.segments(d) if s["start_us"] > seg["start_us"]]
        return later and later[0]
    nxt = vmsstack.wait_for("a segment after the restart", new_segment, 30, vmsd2.proc, vmsd2.log)
    assert nxt["flags"] & ri.SEG_DISCONTINUITY

    # crash recovery and `vms-index rebuild` read a file with the one scanner of the recording
    # store: with vmsd stopped, an index rebuilt from the files holds the entries vmsd wrote
    vmsd2.stop()

    def entries():
        return {s["path"]: {k: v for k, v in s.items() if k != "frag_off"} for s in ri.segments(d, frags=True)}
    written = entries()
    r = subprocess.run([stack.bin("vms-index"), "rebuild", d], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rebuilt = entries()
    assert rebuilt[op["path"]] == written[op["path"]], "the recovered segment, as rebuild sees it"
    assert rebuilt == written
