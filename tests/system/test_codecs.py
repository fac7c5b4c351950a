"""Cameras other than camsim's default H.264 baseline: an H.265 camera end to end (camsim: x265,
closed GOPs, rtph265pay -> vmsd records it as hvc1 fMP4 that decodes without an error -> nginx
plays it back by HLS and MediaMTX's /get -> the still watchdog, whose first look at an H.265
keyframe is its coded size (keysize.c), reports a still picture and its end), next to an H.264
camera; cameras with B-frames (H.264 High, H.265), whose frames arrive out of display order; and a
camera with AAC audio (recorded, played back) next to one with G.711 (left out, video kept)."""
import datetime as dt
import json
import os
import re
import subprocess

import pytest

import playback_fixtures as pf
import recindex as ri
from vmsdtest import camera, conf_text, health, wait

FPS = 25


def iso_us(us):
    return pf.iso(dt.datetime.fromtimestamp(us / 1e6, dt.timezone.utc))


def probe(path_or_url, fields="codec_name,codec_tag_string,width,height"):
    """ffprobe's streams of a file or URL, with those fields."""
    r = subprocess.run(["ffprobe", "-v", "error", "-show_entries", f"stream={fields}", "-of", "json", path_or_url],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["streams"]


def decode(path_or_url):
    """Frames decoded, and FFmpeg's complaints (none expected)."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path_or_url, "-map", "0:v:0", "-f", "null", "-",
                        "-progress", "pipe:1"], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    return int(re.findall(r"^frame=(\d+)", r.stdout, re.M)[-1]), r.stderr.strip()


def test_h265_camera_records_plays_back_and_goes_still(stack):
    cams = stack.camsim(cameras=0, args=("--camera", f"cam1:codec=h265,size=640x360,fps={FPS},gop={FPS}",
                                         "--camera", f"cam2:codec=h264,size=640x360,fps={FPS},gop={FPS}"))
    # snapshots once an hour: the only decodes left are the first keyframe's and the watchdog's
    v = stack.vmsd(text=conf_text(cams, ["cam1", "cam2"], extra={"snapshot_interval": "1h"},
                                  camera_extra={"cam1": {"segment_duration": "2s"},
                                                "cam2": {"segment_duration": "2s"}}))
    d = os.path.join(stack.path("recordings"), "cam1")
    segs = wait("3 closed H.265 segments", lambda: len(ri.segments(d)) >= 3 and ri.segments(d), 90, v)

    # the files: hvcC-tagged HEVC at the camera's size, every frame decodes cleanly
    files = [os.path.join(d, s["path"]) for s in segs[:3]]
    for f in files:
        assert probe(f) == [{"codec_name": "hevc", "codec_tag_string": "hvc1", "width": 640, "height": 360}]
        frames, errors = decode(f)
        assert errors == "" and frames >= FPS, (f, frames, errors)
    assert probe(os.path.join(stack.path("recordings"), "cam2", ri.segments(
        os.path.join(stack.path("recordings"), "cam2"))[0]["path"]))[0]["codec_name"] == "h264"

    # a moving picture costs no decode per look: the first keyframe's only (snapshots are hourly)
    cam1 = camera(v, "cam1")
    looks = cam1["frames"] // FPS
    assert looks >= 5 and cam1["keyframes_decoded"] <= 2, cam1

    # playback through nginx: HLS over the three segments, and MediaMTX's /get
    ngx = pf.start_nginx(stack)
    start = iso_us(segs[0]["start_us"])
    end = iso_us(segs[2]["start_us"] + segs[2]["duration_us"])
    want = round((segs[2]["start_us"] + segs[2]["duration_us"] - segs[0]["start_us"]) / 1e6 * FPS)
    frames, errors = decode(ngx.url(f"/api/playback/cam1?start={start}&end={end}&jwt={ngx.tok}"))
    assert errors == "" and abs(frames - want) <= 2, (frames, want, errors)
    r = ngx.get(f"/get?path=cam1&start={start}&duration=4s")
    assert r.status_code == 200 and r.headers["Content-Type"] == "video/mp4", r.text[:200]
    got = os.path.join(stack.work, "get.mp4")
    with open(got, "wb") as f:
        f.write(r.content)
    assert probe(got)[0]["codec_name"] == "hevc"
    frames, errors = decode(got)
    assert errors == "" and abs(frames - 4 * FPS) <= 2, (frames, errors)

    # the still watchdog on H.265: a repeated picture is seen and its end too; cam2 moves on
    cams.fault("cam1", "still")
    wait("cam1 still", lambda: camera(v, "cam1")["still"] is True, 30, v)
    assert camera(v, "cam1")["state"] == "online" and camera(v, "cam2")["still"] is False
    cams.fault("cam1", "resume")
    wait("cam1 moving again", lambda: camera(v, "cam1")["still"] is False, 30, v)
    assert health(v)["cameras_online"] == 2


@pytest.mark.parametrize("codec", ["h264", "h265"])
def test_b_frame_camera_records_and_plays_back(stack, codec):
    """Two B-frames between references: RTP carries presentation times out of order; the
    recording keeps every frame, in order, with no decoding error, in files and through HLS."""
    cams = stack.camsim(cameras=0, args=("--camera", f"cam1:codec={codec},bframes=2,size=640x360,fps={FPS},gop={FPS}",))
    v = stack.vmsd(text=conf_text(cams, ["cam1"], camera_extra={"cam1": {"segment_duration": "2s"}}))
    d = os.path.join(stack.path("recordings"), "cam1")
    segs = wait("4 closed segments", lambda: len(ri.segments(d)) >= 4 and ri.segments(d), 90, v)[:4]
    for s in segs:
        f = os.path.join(d, s["path"])
        frames, errors = decode(f)
        want = round(s["duration_us"] / 1e6 * FPS)
        assert errors == "" and abs(frames - want) <= 1, (f, frames, want, errors)
        # presentation times strictly increase once reordered: no frame twice, none lost
        r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=pts",
                            "-of", "csv=p=0", f], capture_output=True, text=True, timeout=60)
        pts = [int(x.split(",")[0]) for x in r.stdout.split()]
        assert pts == sorted(set(pts)) and len(pts) == frames, pts

    ngx = pf.start_nginx(stack)
    start = iso_us(segs[1]["start_us"])
    end = iso_us(segs[3]["start_us"] + segs[3]["duration_us"])
    want = round((segs[3]["start_us"] + segs[3]["duration_us"] - segs[1]["start_us"]) / 1e6 * FPS)
    frames, errors = decode(ngx.url(f"/api/playback/cam1?start={start}&end={end}&jwt={ngx.tok}"))
    assert errors == "" and abs(frames - want) <= 2, (frames, want, errors)


def streams(path_or_url):
    return probe(path_or_url, "codec_type,codec_name,sample_rate,duration")


def test_camera_audio_aac_recorded_and_played_g711_left_out(stack):
    """A camera's AAC audio (RTP MPEG4-GENERIC) is recorded next to its video, covering each file,
    and plays back through HLS; G.711, which MP4 cannot hold, is left out with a log line naming it
    while the camera's video records."""
    cams = stack.camsim(cameras=0, args=("--camera", f"cam1:audio=aac,fps={FPS},gop={FPS}",
                                         "--camera", f"cam2:audio=pcmu,fps={FPS},gop={FPS}"))
    v = stack.vmsd(text=conf_text(cams, ["cam1", "cam2"], camera_extra={c: {"segment_duration": "2s"}
                                                                      for c in ("cam1", "cam2")}))
    rec = stack.path("recordings")
    d1, d2 = os.path.join(rec, "cam1"), os.path.join(rec, "cam2")
    segs = wait("3 closed segments each", lambda: len(ri.segments(d1)) >= 3 and len(ri.segments(d2)) >= 3
                and ri.segments(d1), 90, v)[:3]
    for s in segs:
        f = os.path.join(d1, s["path"])
        st = streams(f)
        assert [(x["codec_type"], x["codec_name"]) for x in st] == [("video", "h264"), ("audio", "aac")], st
        assert st[1]["sample_rate"] == "16000"
        # the audio covers the file: no more than a frame (64 ms) short or long at either end
        assert abs(float(st[1]["duration"]) - s["duration_us"] / 1e6) <= 0.13, (st, s)
        r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", f, "-f", "null", "-"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    for s in ri.segments(d2)[:3]:
        assert [x["codec_name"] for x in streams(os.path.join(d2, s["path"]))] == ["h264"]
    with open(v.log, errors="replace") as f:
        log = f.read()
    assert "not recorded: MP4 cannot hold pcm_mulaw" in log

    ngx = pf.start_nginx(stack)
    start = iso_us(segs[0]["start_us"])
    end = iso_us(segs[2]["start_us"] + segs[2]["duration_us"])
    seconds = (segs[2]["start_us"] + segs[2]["duration_us"] - segs[0]["start_us"]) / 1e6
    out = os.path.join(stack.work, "pb.wav")
    r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i",
                        ngx.url(f"/api/playback/cam1?start={start}&end={end}&jwt={ngx.tok}"),
                        "-map", "0:a:0", "-y", out], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    got = float(streams(out)[0]["duration"])
    assert abs(got - seconds) <= 0.2, (got, seconds)
