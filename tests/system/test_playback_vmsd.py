"""Playback of what vmsd really records: camsim -> vmsd (segments + index written at close) -> nginx
vms_playback -> ffmpeg.  A camsim `drop` (the camera goes away, vmsd reconnects) is a gap in
/timeline and a discontinuity with a wall-clock jump in the playlist."""
import datetime as dt
import os
import re
import subprocess

import playback_fixtures as pf
import recindex as ri
import vmsstack

FPS = 25
CONF = """
[vmsd]
listen = 127.0.0.1:@API_PORT@
recordings = @RECORDINGS@
log_level = info
frozen_timeout = 1h
watchdog_interval = 1h
still_timeout = 1h
retention_interval = 1h

[camera cam1]
url = @URL@
segment_duration = 3s
"""


def iso_us(us):
    return pf.iso(dt.datetime.fromtimestamp(us / 1e6, dt.timezone.utc))


def ffmpeg_frames(url):
    r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", url, "-map", "0:v:0", "-f", "null", "-",
                        "-progress", "pipe:1"], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    return int(re.findall(r"^frame=(\d+)", r.stdout, re.M)[-1])


def test_vmsd_recordings_play_and_a_drop_is_a_gap(stack):
    cam = stack.camsim(cameras=1, args=("--gop", str(FPS), "--fps", str(FPS)))
    vmsd = stack.vmsd(text=CONF, vars={"URL": cam.url("cam1")})
    d = os.path.join(stack.path("recordings"), "cam1")
    vmsstack.wait_for("3 closed segments", lambda: len(ri.segments(d)) >= 3, 60, vmsd.proc, vmsd.log)

    cam.fault("cam1", "drop", seconds=3)
    before = len(ri.segments(d))

    def reconnected():
        segs = ri.segments(d)
        after = [s for s in segs[before:] if s["flags"] & ri.SEG_DISCONTINUITY]
        return after and len(segs) >= segs.index(after[0]) + 2 and segs
    segs = vmsstack.wait_for("2 segments after the reconnect", reconnected, 90, vmsd.proc, vmsd.log)
    k = next(i for i, s in enumerate(segs) if i > 0 and s["flags"] & ri.SEG_DISCONTINUITY)
    segs = segs[:k + 2]
    first, last = segs[0], segs[-1]
    gap_from = segs[k - 1]["start_us"] + segs[k - 1]["duration_us"]
    gap_to = segs[k]["start_us"]
    assert gap_to - gap_from > 1_000_000, "the drop left a hole"

    ngx = pf.start_nginx(stack)
    start, end = iso_us(first["start_us"]), iso_us(last["start_us"] + last["duration_us"])

    tl = ngx.get(f"/api/playback/cam1/timeline?start={start}&end={end}").json()
    assert [(g["start"], g["end"]) for g in tl["gaps"]] == [(iso_us(gap_from), iso_us(gap_to))]
    assert len(tl["spans"]) == 2

    url = ngx.url(f"/api/playback/cam1?start={start}&end={end}&jwt={ngx.tok}")
    text = ngx.get(f"/api/playback/cam1?start={start}&end={end}").text
    extinf = [float(x) for x in re.findall(r"#EXTINF:([\d.]+),", text)]
    assert len(extinf) == len(segs)
    pdt = [dt.datetime.fromisoformat(x.replace("Z", "+00:00")).timestamp()
           for x in re.findall(r"#EXT-X-PROGRAM-DATE-TIME:(\S+)", text)]
    # the wall clock jumps exactly once, where the drop was, and a discontinuity is there
    jumps = [i for i in range(1, len(pdt)) if pdt[i] - (pdt[i - 1] + extinf[i - 1]) > 0.5]
    assert jumps == [k]
    blocks = text.split("#EXTINF:")
    assert "#EXT-X-DISCONTINUITY" in blocks[k]

    # ffmpeg plays every recorded frame of the range, across the gap
    frames = ffmpeg_frames(url)
    expected = sum(s["duration_us"] for s in segs) * FPS / 1e6
    assert abs(frames - expected) <= len(segs), (frames, expected)

    # and a clip of the first connection has its duration
    r = ngx.get(f"/api/playback/cam1?start={start}&end={iso_us(gap_from)}&format=mp4")
    assert r.status_code == 200
    assert float(r.headers["X-VMS-Clip-Duration"]) * 1e6 == sum(s["duration_us"] for s in segs[:k])
