"""format=mp4: a plain MP4 (sample tables in moov, no moof), cut exactly like MediaMTX's /get: its
timeline starts at `start` (the samples from the keyframe before it are hidden by an edit list) and
lasts `duration`.  Read back with ffprobe / ffmpeg, as a user who downloads the clip would."""
import json
import os
import subprocess

import pytest

import playback_fixtures as pf

from playback_fixtures import T0, ts  # T0 crosses midnight and an hour dir
FPS = pf.FPS
FRAME = 1.0 / FPS


@pytest.fixture
def pb(stack):
    """cam1: 120 s of video in 10 s segments, gap [70, 80)."""
    rec = stack.path("recordings")
    cam = os.path.join(rec, "cam1")
    pf.write_segments(cam, T0, 120, seg_seconds=10, gaps=[(70, 80)], workdir=stack.work)
    pf.rebuild(stack.bin("vms-index"), cam)
    ngx = pf.start_nginx(stack)
    ngx.rec, ngx.work = rec, stack.work
    return ngx


def top_boxes(data):
    return [t for t, _, _ in pf.boxes(data)]


def save(pb, name, content):
    path = os.path.join(pb.rec, name)
    with open(path, "wb") as f:
        f.write(content)
    return path


def probe(path):
    r = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                        "format=duration:stream=codec_type,duration", "-of", "json", path],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def decoded_frames(path, stream="v"):
    """pts (s) of the frames ffprobe decodes and shows, edit list applied."""
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries",
                        "frame=pts_time", "-of", "csv=p=0", path], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return [float(x) for x in r.stdout.split()]


def frame_md5(path, seek=None):
    args = ["ffmpeg", "-v", "error", "-nostdin"] + (["-ss", str(seek)] if seek is not None else [])
    r = subprocess.run(args + ["-i", path, "-frames:v", "1", "-f", "md5", "-"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_mp4_is_plain_and_cut_exactly_at_start(pb):
    # mid-GOP start (keyframes each second), 10 s, across the segment files [10, 20) and [20, 30)
    g = pb.get("/get", params={"path": "cam1", "start": ts(12.4), "duration": "10", "format": "mp4"})
    assert g.status_code == 200, g.text
    assert g.headers["Content-Type"] == "video/mp4"
    assert int(g.headers["Content-Length"]) == len(g.content)
    assert g.headers["X-VMS-Clip-Start"] == ts(12.4)
    # a plain MP4: ftyp, moov (with sample tables), mdat; no fragments
    assert top_boxes(g.content) == ["ftyp", "moov", "mdat"]
    moov = g.content[:g.content.index(b"mdat")]
    for box in (b"stts", b"stss", b"stsc", b"stsz", b"stco", b"elst"):
        assert box in moov, box
    assert b"moof" not in moov and b"mvex" not in moov
    clip = save(pb, "clip.mp4", g.content)
    # lasts `duration` (within a frame) and its first shown picture is at t=0 ...
    assert float(probe(clip)["format"]["duration"]) == pytest.approx(10, abs=FRAME)
    frames = decoded_frames(clip)
    assert frames[0] == pytest.approx(0, abs=0.001)
    assert abs(len(frames) - 10 * FPS) <= 1, len(frames)
    assert frames[-1] == pytest.approx(10 - FRAME, abs=0.001)
    # ... and it is the source's picture at 12.4 s, not the keyframe's at 12 s
    source = pf.source(pb.work, 120)
    assert frame_md5(clip) == frame_md5(source, seek=12.4)
    assert frame_md5(clip) != frame_md5(source, seek=12)

    # the same clip through the API's format=mp4
    a = pb.get(f"/api/playback/cam1?start={ts(12.4)}&end={ts(22.4)}&format=mp4")
    assert a.status_code == 200 and a.content == g.content

    # format=fmp4 (MediaMTX's default) stays fragmented
    f = pb.get("/get", params={"path": "cam1", "start": ts(12.4), "duration": "10"})
    assert f.status_code == 200 and "moof" in top_boxes(f.content)


def test_mp4_range_requests(pb):
    params = {"path": "cam1", "start": ts(3.2), "duration": "30", "format": "mp4"}
    full = pb.get("/get", params=params)
    assert full.status_code == 200
    size = len(full.content)
    assert int(full.headers["Content-Length"]) == size
    assert full.headers.get("Accept-Ranges") == "bytes"
    # the header, a span of media in the middle (sent from the files), the tail
    for a, b in ((0, 99), (size // 2, size // 2 + 65535), (size - 1000, size - 1)):
        r = pb.get("/get", params=params, headers={"Range": f"bytes={a}-{b}", **pb.auth})
        assert r.status_code == 206
        assert r.headers["Content-Range"] == f"bytes {a}-{b}/{size}"
        assert int(r.headers["Content-Length"]) == b - a + 1
        assert r.content == full.content[a:b + 1]
    r = pb.get("/get", params=params, headers={"Range": "bytes=-500", **pb.auth})
    assert r.status_code == 206 and r.content == full.content[-500:]
    r = pb.get("/get", params=params, headers={"Range": f"bytes={size}-", **pb.auth})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == f"bytes */{size}"
    # several ranges at once: the whole file (a server may ignore a multi-range request), intact
    r = pb.get("/get", params=params, headers={"Range": "bytes=0-9,100-199", **pb.auth})
    assert r.status_code == 200 and r.content == full.content


def test_mp4_stops_at_a_gap_or_bridges_it(pb):
    # recorded [0, 70) and [80, 120): from 65 s, MediaMTX's clip ends at the gap
    g = pb.get("/get", params={"path": "cam1", "start": ts(65), "duration": "20", "format": "mp4"})
    assert g.status_code == 200, g.text
    clip = save(pb, "gap.mp4", g.content)
    assert float(probe(clip)["format"]["duration"]) == pytest.approx(5, abs=FRAME)
    assert abs(len(decoded_frames(clip)) - 5 * FPS) <= 1
    # gaps=skip: the recording after the gap follows without a hole, up to start + duration
    g = pb.get("/get", params={"path": "cam1", "start": ts(65), "duration": "20", "format": "mp4",
                               "gaps": "skip"})
    assert g.status_code == 200, g.text
    assert top_boxes(g.content) == ["ftyp", "moov", "mdat"]
    clip = save(pb, "skip.mp4", g.content)
    frames = decoded_frames(clip)
    assert abs(len(frames) - 10 * FPS) <= 1, len(frames)
    steps = {round(b - a, 3) for a, b in zip(frames, frames[1:])}
    assert steps == {round(FRAME, 3)}
    # nothing recorded at start: MediaMTX's 404
    r = pb.get("/get", params={"path": "cam1", "start": ts(72), "duration": "5", "format": "mp4"})
    assert r.status_code == 404 and r.json()["status"] == "error"


def source_with_audio(workdir, seconds):
    """Like pf.source, with an AAC track (48 kHz) in every fragment."""
    out = os.path.join(workdir, f"source-av-{seconds}s.mp4")
    if not os.path.exists(out):
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc=size=160x120:rate={FPS}", "-f", "lavfi", "-i",
                        "sine=frequency=440:sample_rate=48000", "-t", str(seconds),
                        "-c:v", "libx264", "-preset", "ultrafast", "-g", str(FPS), "-keyint_min", str(FPS),
                        "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k",
                        "-movflags", "+frag_keyframe+empty_moov+default_base_moof", out], check=True)
    return out


def test_mp4_keeps_audio(stack, monkeypatch):
    seconds = 30
    src = source_with_audio(stack.work, seconds)
    monkeypatch.setitem(pf._SRC_CACHE, (stack.work, seconds), src)
    cam = os.path.join(stack.path("recordings"), "cam2")
    pf.write_segments(cam, T0, seconds, seg_seconds=10, workdir=stack.work)
    pf.rebuild(stack.bin("vms-index"), cam)
    ngx = pf.start_nginx(stack)
    g = ngx.get("/get", params={"path": "cam2", "start": ts(5.5), "duration": "10", "format": "mp4"})
    assert g.status_code == 200, g.text
    assert top_boxes(g.content) == ["ftyp", "moov", "mdat"]
    clip = os.path.join(stack.work, "av.mp4")
    with open(clip, "wb") as f:
        f.write(g.content)
    info = probe(clip)
    streams = {s["codec_type"]: float(s["duration"]) for s in info["streams"]}
    assert set(streams) == {"video", "audio"}
    assert streams["audio"] == pytest.approx(10, abs=0.05)
    assert float(info["format"]["duration"]) == pytest.approx(10, abs=FRAME)
    audio = decoded_frames(clip, "a")
    assert audio and audio[0] == pytest.approx(0, abs=0.03)
    # both tracks decode end to end
    r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", clip, "-f", "null", "-"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_fmp4_keeps_audio_and_is_cut(stack, monkeypatch):
    seconds = 30
    src = source_with_audio(stack.work, seconds)
    monkeypatch.setitem(pf._SRC_CACHE, (stack.work, seconds), src)
    cam = os.path.join(stack.path("recordings"), "cam2")
    pf.write_segments(cam, T0, seconds, seg_seconds=10, workdir=stack.work)
    pf.rebuild(stack.bin("vms-index"), cam)
    ngx = pf.start_nginx(stack)
    g = ngx.get("/get", params={"path": "cam2", "start": ts(5.5), "duration": "10"})
    assert g.status_code == 200, g.text
    boxes = top_boxes(g.content)
    assert boxes[:2] == ["ftyp", "moov"] and "moof" in boxes
    clip = os.path.join(stack.work, "av.fmp4")
    with open(clip, "wb") as f:
        f.write(g.content)
    info = probe(clip)
    assert {s["codec_type"] for s in info["streams"]} == {"video", "audio"}
    assert float(info["format"]["duration"]) == pytest.approx(10, abs=FRAME)
    audio = decoded_frames(clip, "a")
    assert audio[0] == pytest.approx(0, abs=0.03) and audio[-1] == pytest.approx(10, abs=0.05)


def test_thread_pool_directive(stack):
    # the stack declares the pool it uses; a pool nobody declared is a configuration error
    assert stack.nginx_test().returncode == 0
    r = stack.nginx_test(vars={"EXTRA_SERVER": "vms_playback_thread_pool nosuch;"})
    assert r.returncode != 0 and 'unknown thread pool "nosuch"' in r.stderr, r.stderr
