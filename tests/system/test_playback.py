"""vms_playback end to end: fixture recordings (ffmpeg, cut into segment files like a recorder writes
them, indexed with `vms-index rebuild`) served by Debian's nginx with our module, read by ffmpeg /
ffprobe (third-party HLS and MP4 clients) and plain HTTP clients."""
import datetime as dt
import http.client
import os
import re
import subprocess
import threading
import urllib.parse

import pytest
import requests

import playback_fixtures as pf

from playback_fixtures import T0, ts  # T0 crosses midnight and an hour dir
FPS = pf.FPS


@pytest.fixture
def pb(stack):
    """cam1: 120 s in 10 s segments, gap [70, 80), from 23:59:00 (across midnight and an hour)."""
    rec = stack.path("recordings")
    cam = os.path.join(rec, "cam1")
    segs = pf.write_segments(cam, T0, 120, seg_seconds=10, gaps=[(70, 80)], workdir=stack.work)
    pf.rebuild(stack.bin("vms-index"), cam)
    ngx = pf.start_nginx(stack)
    ngx.rec, ngx.cam, ngx.segs, ngx.vms_index = rec, cam, segs, stack.bin("vms-index")
    return ngx


def probe_packets(url):
    """[(pts seconds, is_key)] of the video packets ffprobe reads from url."""
    r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                        "packet=pts_time,flags", "-of", "csv=p=0", url],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = []
    for line in r.stdout.split():
        pts, flags = line.split(",")[:2]
        out.append((float(pts), "K" in flags))
    return out


def ffmpeg_frames(url):
    """Frames ffmpeg decodes from url, end to end."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", url, "-map", "0:v:0", "-f", "null", "-",
                        "-progress", "pipe:1"], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    return int(re.findall(r"^frame=(\d+)", r.stdout, re.M)[-1])


def test_playlist_read_end_to_end_by_ffmpeg(pb):
    # [5 s, 35 s): cut inside the first and the fourth segment, at fragment (1 s) boundaries
    url = pb.url(f"/api/playback/cam1?start={ts(5)}&end={ts(35)}&jwt={pb.tok}")
    r = requests.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    text = r.text
    assert text.startswith("#EXTM3U\n#EXT-X-VERSION:7\n")
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and text.rstrip().endswith("#EXT-X-ENDLIST")
    assert "#EXT-X-MAP:URI=" in text and "#EXT-X-DISCONTINUITY" not in text
    extinf = [float(x) for x in re.findall(r"#EXTINF:([\d.]+),", text)]
    assert extinf == [5, 10, 10, 5]
    assert len(re.findall(r"#EXT-X-BYTERANGE:\d+@\d+", text)) == 4
    # media URIs carry the token and the signed player session (vms_limit, docs/limit.md), so
    # the player's segment requests pass the same checks and belong to this stream lease
    sess = re.search(r"vms_session=([^&\"\s]+)", text).group(1)
    media = [line for line in text.splitlines() if line.startswith("cam1/media/")]
    assert len(media) == 4 and all(line.endswith(f"&jwt={pb.tok}&vms_session={sess}") for line in media)
    assert f'.mp4?jwt={pb.tok}&vms_session={sess}",BYTERANGE=' in text
    # each media byte range is the file's bytes, except decode times inside its moof boxes
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("#EXT-X-BYTERANGE:"):
            continue
        n, o = map(int, line.split(":")[1].split("@"))
        got = requests.get(pb.url("/api/playback/" + lines[i + 1]), headers={"Range": f"bytes={o}-{o + n - 1}"})
        assert got.status_code == 206 and len(got.content) == n
        with open(os.path.join(pb.cam, lines[i + 1].split("media/")[1].split("?")[0]), "rb") as f:
            data = f.read()
        moofs = [(off, off + size) for typ, off, size in pf.boxes(data) if typ == "moof"]
        diffs = [o + k for k in range(n) if got.content[k] != data[o + k]]
        assert all(any(a <= d < b for a, b in moofs) for d in diffs)
        assert 0 < len(diffs) <= 8 * len([1 for a, b in moofs if o <= a < o + n])
    # the decoded duration matches the asked range (within one frame per segment)
    frames = ffmpeg_frames(url)
    assert abs(frames - 30 * FPS) <= len(extinf), frames


def test_gap_in_recordings(pb):
    url = pb.url(f"/api/playback/cam1?start={ts(50)}&end={ts(100)}&jwt={pb.tok}")
    text = requests.get(url).text
    lines = text.splitlines()
    assert lines.count("#EXT-X-DISCONTINUITY") == 1
    i = lines.index("#EXT-X-DISCONTINUITY")
    # the discontinuity sits right before the first segment after the gap (recorded from 80 s)
    after = next(l for l in lines[i:] if l.startswith("#EXT-X-PROGRAM-DATE-TIME:"))
    assert after.endswith(ts(80)), after
    # ffmpeg plays across it: 20 s before the gap + 20 s after
    frames = ffmpeg_frames(url)
    assert abs(frames - 40 * FPS) <= 4, frames

    tl = pb.get(f"/api/playback/cam1/timeline?start={ts(50)}&end={ts(100)}")
    assert tl.status_code == 200 and tl.headers["Content-Type"] == "application/json"
    body = tl.json()
    assert [(s["start"], s["end"]) for s in body["spans"]] == [(ts(50), ts(70)), (ts(80), ts(100))]
    assert [(g["start"], g["end"], g["duration"]) for g in body["gaps"]] == [(ts(70), ts(80), 10)]


def frame_md5(url, seek=None):
    args = ["ffmpeg", "-v", "error", "-nostdin"] + (["-ss", str(seek)] if seek is not None else [])
    r = subprocess.run(args + ["-i", url, "-frames:v", "1", "-f", "md5", "-"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def save(pb, name, content):
    path = os.path.join(pb.rec, name)
    with open(path, "wb") as f:
        f.write(content)
    return path


def test_playback_seek_accuracy(pb, stack):
    # a fragmented clip asked from 12.4 s is cut there, as MediaMTX's fmp4 muxer does: the pictures
    # from the keyframe at 12 s are sent first with no duration, stacked at t=0, and the clip lasts
    # the asked 8 s (format=mp4, a plain MP4 with an edit list instead: test_playback_mp4.py)
    r = pb.get(f"/api/playback/cam1?start={ts(12.4)}&end={ts(20.4)}&format=fmp4")
    assert r.status_code == 200 and r.headers["Content-Type"] == "video/mp4"
    assert r.headers["X-VMS-Clip-Start"] == ts(12.4)
    assert float(r.headers["X-VMS-Clip-Duration"]) == pytest.approx(8, abs=1.0 / FPS)
    clip = save(pb, "clip.mp4", r.content)
    pkts = probe_packets(clip)
    assert pkts[0] == (0.0, True), "starts at 0 with the keyframe"
    assert [p[0] for p in pkts[:11]] == [0.0] * 11      # 12.0 .. 12.36 s, then the picture at 12.4 s
    assert pkts[11][0] == pytest.approx(1.0 / FPS, abs=0.001)
    assert len(pkts) == 10 + 8 * FPS
    assert pkts[-1][0] == pytest.approx(8 - 1.0 / FPS, abs=0.001)
    # the keyframe it starts with is the source's picture at 12 s
    source = pf.source(stack.work, 120)
    assert frame_md5(clip) == frame_md5(source, seek=12)
    # across segment files (10 s each) it plays as one file of the right length
    dur = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                          clip], capture_output=True, text=True).stdout
    assert float(dur) == pytest.approx(8.0, abs=1.0 / FPS)

    # MediaMTX /get from the same instant: same clip
    g = pb.get("/get", params={"path": "cam1", "start": ts(12.4), "duration": "8"})
    assert g.status_code == 200 and g.content == r.content


def test_get_gaps_skip_bridges_the_gap(pb):
    # without gaps=skip, /get stops at the gap (MediaMTX); with it, the clip runs on after the gap
    g = pb.get("/get", params={"path": "cam1", "start": ts(60), "duration": "30"})
    assert g.status_code == 200 and float(g.headers["X-VMS-Clip-Duration"]) == 10
    g = pb.get("/get", params={"path": "cam1", "start": ts(60), "duration": "30", "gaps": "skip"})
    assert g.status_code == 200 and float(g.headers["X-VMS-Clip-Duration"]) == 20
    pkts = probe_packets(save(pb, "skip.mp4", g.content))
    assert len(pkts) == 20 * FPS
    # timestamps run on without a jump where the gap was
    steps = {round(b[0] - a[0], 3) for a, b in zip(pkts, pkts[1:])}
    assert steps == {round(1.0 / FPS, 3)}


def test_concurrent_playback_sessions(pb):
    # one token (one stream session) per player; the plan allows 32 concurrent streams
    urls = [pb.url(f"/api/playback/cam1?start={ts(0)}&end={ts(60)}&jwt={pb.token(plan='enterprise')}")
            for _ in range(20)]
    results = [None] * 20

    def play(i):
        try:
            results[i] = ffmpeg_frames(urls[i])
        except Exception as e:      # noqa: BLE001 — reported below
            results[i] = e

    threads = [threading.Thread(target=play, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == 60 * FPS for r in results), results


def test_list_and_get_like_mediamtx(pb):
    r = pb.get("/list?path=cam1")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    entries = r.json()
    assert [(e["start"], e["duration"]) for e in entries] == [(ts(0), 70), (ts(80), 40)]
    u = urllib.parse.urlsplit(entries[0]["url"])
    assert (u.scheme, u.netloc, u.path) == ("http", f"127.0.0.1:{pb.port}", "/get")
    assert list(urllib.parse.parse_qs(u.query)) == ["duration", "path", "start"]
    assert urllib.parse.parse_qs(u.query) == {"duration": ["70"], "path": ["cam1"], "start": [ts(0)]}

    # clipped to start/end
    r = pb.get("/list", params={"path": "cam1", "start": ts(65), "end": ts(90)})
    assert [(e["start"], e["duration"]) for e in r.json()] == [(ts(65), 5), (ts(80), 10)]

    # the url /list gives plays the whole span
    g = requests.get(entries[1]["url"], headers=pb.auth)
    assert g.status_code == 200 and g.headers["Content-Type"] == "video/mp4"
    pkts = probe_packets(save(pb, "get.mp4", g.content))
    assert pkts[0][1] and len(pkts) == 40 * FPS

    # nothing there: MediaMTX's 404 body
    r = pb.get("/list", params={"path": "cam1", "start": ts(200), "end": ts(300)})
    assert r.status_code == 404 and r.json() == {"status": "error", "error": "no recording segments found"}
    r = pb.get("/get", params={"path": "cam1", "start": ts(72), "duration": "5"})
    assert r.status_code == 404 and r.json()["error"] == "no recording segments found"
    r = pb.get("/get", params={"path": "nosuchcam", "start": ts(0), "duration": "5"})
    assert r.status_code == 404


def test_mediamtx_recorded_segments(stack):
    """Files named by MediaMTX's recordPath (%path/%Y-%m-%d_%H-%M-%S-%f) under a nested path name."""
    cam = os.path.join(stack.path("recordings"), "camera", "cam7")
    pf.write_segments(cam, T0 + dt.timedelta(microseconds=250000), 30, seg_seconds=10, style="mediamtx",
                      workdir=stack.work)
    assert os.path.exists(os.path.join(cam, "2026-11-23_23-59-00-250000.mp4"))
    pf.rebuild(stack.bin("vms-index"), cam)
    ngx = pf.start_nginx(stack)
    # the MediaMTX path name "camera/cam7" is camera cam7 for vms_auth
    admin = {"Authorization": f"Bearer {ngx.token(camera_id='cam7')}"}
    entries = ngx.get("/list", params={"path": "camera/cam7"}, headers=admin).json()
    assert entries == [{"start": "2026-11-23T23:59:00.25Z", "duration": 30,
                        "url": entries[0]["url"]}]
    assert "path=camera%2Fcam7" in entries[0]["url"]
    g = requests.get(entries[0]["url"], headers=admin)
    assert g.status_code == 200 and len(g.content) > 1000
    other = {"Authorization": f"Bearer {ngx.token(camera_id='cam8')}"}
    assert ngx.get("/list", params={"path": "camera/cam7"}, headers=other).status_code == 401  # MediaMTX's shape


def test_bad_requests(pb):
    r = pb.get(f"/api/playback/cam1?start={ts(30)}&end={ts(10)}")
    assert r.status_code == 400 and r.json()["error"] == "end must be after start"
    r = pb.get(f"/api/playback/cam1?start=yesterday&end={ts(10)}")
    assert r.status_code == 400 and "invalid start" in r.json()["error"]
    r = pb.get(f"/api/playback/cam1?start={ts(0)}")
    assert r.status_code == 400 and "required" in r.json()["error"]
    r = pb.get(f"/api/playback/cam1?start={ts(0)}&end={ts(10)}&format=avi")
    assert r.status_code == 400
    r = pb.get(f"/api/playback/cam1?start={ts(500)}&end={ts(600)}")
    assert r.status_code == 404 and r.headers["Content-Type"] == "application/json"
    assert r.json()["status"] == "error"
    r = pb.get(f"/api/playback/nosuchcam?start={ts(0)}&end={ts(10)}")
    assert r.status_code == 404
    r = pb.get("/get", params={"path": "cam1", "start": ts(0), "duration": "-3"})
    assert r.status_code == 400


def raw_get(port, target, token):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.putrequest("GET", target, skip_accept_encoding=True)
    c.putheader("Authorization", f"Bearer {token}")
    c.endheaders()
    resp = c.getresponse()
    body = resp.read()
    c.close()
    return resp.status, body


def media_session(pb, tok=None):
    """The signed player session a playlist hands its media URIs (vms_limit, docs/limit.md)."""
    r = pb.get(f"/api/playback/cam1?start={ts(0)}&end={ts(30)}",
               headers={"Authorization": f"Bearer {tok or pb.tok}"})
    assert r.status_code == 200, r.text
    return re.search(r"vms_session=([^&\"\s]+)", r.text).group(1)


def test_traversal_refused(pb):
    seg = pb.segs[0][1]
    admin = pb.token(role="admin")
    sess = media_session(pb, admin)
    ok, body = raw_get(pb.port, f"/api/playback/cam1/media/{seg}?vms_session={sess}", admin)
    assert ok == 200 and body[4:8] == b"ftyp"
    os.symlink("/etc/passwd", os.path.join(pb.cam, "link.mp4"))
    os.symlink("/etc", os.path.join(pb.cam, "2026", "etcdir"))
    outside = os.path.join(pb.rec, "secret.mp4")
    with open(outside, "w") as f:
        f.write("secret")
    attempts = [
        "/api/playback/cam1/media/../secret.mp4",
        "/api/playback/cam1/media/%2e%2e/secret.mp4",
        "/api/playback/cam1/media/%2E%2E%2Fsecret.mp4",
        "/api/playback/cam1/media/..%2fsecret.mp4",
        "/api/playback/cam1/media//etc/passwd",
        "/api/playback/cam1/media/%2fetc%2fpasswd",
        "/api/playback/..%2Fsecret.mp4?start=2026-11-23T23:59:00Z&end=2026-11-23T23:59:10Z",
        "/api/playback/cam1/media/link.mp4",
        "/api/playback/cam1/media/2026/etcdir/passwd",
        "/api/playback/cam1/media/.index/lock",
        "/list?path=..%2Fcam1",
        "/list?path=%2Fetc",
        "/get?path=cam1%2F..%2F..&start=2026-11-23T23:59:00Z&duration=5",
    ]
    for a in attempts:
        if "/media/" in a:
            a += f"?vms_session={sess}"
        status, body = raw_get(pb.port, a, admin)
        assert status in (400, 404), (a, status)
        assert b"secret" not in body and b"root:" not in body, a


def test_segment_serving_range_and_cache(pb):
    seg = pb.segs[0][1]
    size = os.path.getsize(os.path.join(pb.cam, seg))
    url = pb.url(f"/api/playback/cam1/media/{seg}?vms_session={media_session(pb)}")
    r = requests.get(url, headers=pb.auth)
    assert r.status_code == 200 and r.headers["Content-Type"] == "video/mp4"
    assert int(r.headers["Content-Length"]) == size
    assert "max-age=" in r.headers["Cache-Control"] and "immutable" in r.headers["Cache-Control"]
    r = requests.get(url, headers={"Range": "bytes=100-199", **pb.auth})
    assert r.status_code == 206 and r.headers["Content-Range"] == f"bytes 100-199/{size}"
    with open(os.path.join(pb.cam, seg), "rb") as f:
        assert r.content == f.read()[100:200]

    # a segment being written: served, listed, never cached
    last = pb.segs[-1][1]
    subprocess.run([pb.vms_index, "open", pb.cam, last], check=True)
    r = pb.get(f"/api/playback/cam1/media/{last}?vms_session={media_session(pb)}")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-cache"


def test_open_segment_in_playlist(stack):
    cam = os.path.join(stack.path("recordings"), "cam2")
    segs = pf.write_segments(cam, T0, 30, seg_seconds=10, workdir=stack.work)
    vi = stack.bin("vms-index")
    # the last file is still being written: not in the closed index, only in the open record
    os.rename(os.path.join(cam, segs[-1][1]), os.path.join(cam, "hold.tmp"))
    pf.rebuild(vi, cam)
    os.rename(os.path.join(cam, "hold.tmp"), os.path.join(cam, segs[-1][1]))
    subprocess.run([vi, "open", cam, segs[-1][1]], check=True)
    ngx = pf.start_nginx(stack)
    text = ngx.get(f"/api/playback/cam2?start={ts(0)}&end={ts(60)}").text
    assert re.findall(r"#EXTINF:([\d.]+),", text) == ["10", "10", "10"]
    assert segs[-1][1] in text


def test_missing_and_corrupt_index(pb):
    idx = os.path.join(pb.cam, ".index")
    day = os.path.join(idx, "2026-11-23.seg")
    with open(day, "r+b") as f:
        f.seek(64 + 256 + 10)
        b = f.read(1)
        f.seek(64 + 256 + 10)
        f.write(bytes([b[0] ^ 0xFF]))
    r = pb.get(f"/api/playback/cam1?start={ts(0)}&end={ts(30)}")
    assert r.status_code == 500 and "corrupt" in r.json()["error"]
    with open(pb.error_log) as f:
        assert day in f.read()
    # the CLI rebuilds it
    pf.rebuild(pb.vms_index, pb.cam)
    assert pb.get(f"/api/playback/cam1?start={ts(0)}&end={ts(30)}").status_code == 200

    os.rename(idx, idx + ".gone")
    r = pb.get(f"/api/playback/cam1?start={ts(0)}&end={ts(30)}")
    assert r.status_code == 503 and "vms-index rebuild" in r.json()["error"]
    with open(pb.error_log) as f:
        assert idx in f.read()


def test_playback_permission_and_stream_limit(pb):
    q = f"/api/playback/cam1?start={ts(0)}&end={ts(30)}"
    assert pb.get(q, headers={}).status_code == 401
    # view_stream alone (a viewer without the playback permission) is not enough
    viewer = pb.token(permissions=None)
    assert pb.get(q, headers={"Authorization": f"Bearer {viewer}"}).status_code == 403
    # a token scoped to another camera
    other = pb.token(camera_id="cam9")
    assert pb.get(q, headers={"Authorization": f"Bearer {other}"}).status_code == 403
    assert pb.get("/list?path=cam1", headers={"Authorization": f"Bearer {other}"}).status_code == 401  # MediaMTX's
    # each playback session holds a stream lease: the free plan's 2 streams, then 429
    codes = [pb.get(q, headers={"Authorization": f"Bearer {pb.token(plan='free')}"}).status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]


def test_aborted_requests_leave_nginx_healthy(pb):
    """Clients that hang up while a clip's reads are in the thread pool: no worker dies."""
    import socket
    target = f"/api/playback/cam1?start={ts(0)}&end={ts(60)}&format=mp4"
    for _ in range(30):
        s = socket.create_connection(("127.0.0.1", pb.port))
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {pb.tok}\r\n\r\n".encode())
        s.close()
    r = pb.get(target)
    assert r.status_code == 200 and float(r.headers["X-VMS-Clip-Duration"]) == 60
    with open(pb.error_log) as f:
        log = f.read()
    assert "exited on signal" not in log and "AddressSanitizer" not in log
