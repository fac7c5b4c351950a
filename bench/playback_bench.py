#!/usr/bin/python3
"""Playback benchmark: a synthetic camera with 30 days x 1-minute segments (43,200 files, each with
60 one-second fragments in the index).  Measures, with warm caches:

  * server compute time (`vms-index bench`: the module's own code path — index query, plan, text) for a
    24 h HLS playlist and a 30-day MediaMTX /list, against a walk of the camera directory that stats
    every file (how a list is made without an index; MediaMTX additionally parses every file);
  * the same two requests over HTTP against nginx with vms_playback, timed by the client;
  * a 10-minute clip of a second camera (real H.264 + AAC, 1-minute files) as a plain MP4
    (format=mp4: moov sample tables built in the thread pool) against the fragmented one (format=fmp4,
    the baseline), whole body over HTTP, and the nginx worker's peak memory after them (the media
    goes by sendfile, so it stays far below the clip's size).

Prints figures and ratios; targets: 24 h playlist <= 2 ms, 30-day /list <= 10 ms, >= 100x the walk.
Usage: VMS_BUILD_DIR=build /usr/bin/python3 bench/playback_bench.py
"""
import datetime as dt
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
import playback_fixtures as pf  # noqa: E402
import vmsstack  # noqa: E402

DAYS, SEG_S, FRAG_S = 30, 60, 1
START = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
US = 1_000_000


def header(magic, recsize, day_us):
    h = magic + struct.pack("<IIq", 1, recsize, day_us) + bytes(36)
    return h + struct.pack("<I", zlib.crc32(h))


def write_index(cam):
    """The day files of docs/index-format.md, written directly (43,200 appends with fsync would
    only measure the disk)."""
    idx = os.path.join(cam, ".index")
    os.makedirs(idx, exist_ok=True)
    nfr = SEG_S // FRAG_S
    for d in range(DAYS):
        day = START + dt.timedelta(days=d)
        day_us = int(day.timestamp()) * US
        segs, frags = [header(b"VMSISEG1", 256, day_us)], [header(b"VMSIFRG1", 32, day_us)]
        foff = 64
        for m in range(1440):
            t = day + dt.timedelta(minutes=m)
            start_us = int(t.timestamp()) * US
            rel = t.strftime("%Y/%m/%d/%H/") + f"segment_{int(t.timestamp())}.mp4"
            fr = b"".join(struct.pack("<QIIqq", 1000 + i * 50000, 50000, 1, i * FRAG_S * US, FRAG_S * US)
                          for i in range(nfr))
            bh = struct.pack("<IIq", 0x42524656, nfr, start_us) + bytes(12)
            frags.append(bh + struct.pack("<I", zlib.crc32(fr, zlib.crc32(bh))) + fr)
            rec = struct.pack("<qqQQIIII", start_us, SEG_S * US, 1000 + nfr * 50000, foff, 1000,
                              4, nfr, 0) + rel.encode().ljust(160, b"\0") + struct.pack("<q", start_us - int(START.timestamp()) * US) + bytes(36)
            segs.append(rec + struct.pack("<I", zlib.crc32(rec)))
            foff += 32 + nfr * 32
        name = day.strftime("%Y-%m-%d")
        with open(os.path.join(idx, name + ".seg"), "wb") as f:
            f.write(b"".join(segs))
        with open(os.path.join(idx, name + ".frag"), "wb") as f:
            f.write(b"".join(frags))


def write_files(cam):
    """The segment files themselves (empty: the walk baseline only stats them)."""
    for d in range(DAYS):
        for h in range(24):
            t0 = START + dt.timedelta(days=d, hours=h)
            p = os.path.join(cam, t0.strftime("%Y/%m/%d/%H"))
            os.makedirs(p, exist_ok=True)
            for m in range(60):
                t = t0 + dt.timedelta(minutes=m)
                open(os.path.join(p, f"segment_{int(t.timestamp())}.mp4"), "wb").close()


CLIP_S = 600


def clip_source(work):
    """10 minutes of 320x240 H.264 at 25 fps with AAC, 1 s fragments (the recorder's shape)."""
    out = os.path.join(work, f"source-{CLIP_S}s.mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={pf.FPS}",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(CLIP_S),
                    "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "1500k", "-g", str(pf.FPS),
                    "-keyint_min", str(pf.FPS), "-sc_threshold", "0", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", "64k",
                    "-movflags", "+frag_keyframe+empty_moov+default_base_moof", out], check=True)
    pf._SRC_CACHE[(work, CLIP_S)] = out


def worker_hwm_kb(ngx):
    """Peak resident memory (VmHWM) of the nginx worker(s)."""
    kids = open(f"/proc/{ngx.proc.pid}/task/{ngx.proc.pid}/children").read().split()
    peak = 0
    for k in kids:
        with open(f"/proc/{k}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
    return peak


def clip_bench(st, ngx, s):
    t = time.monotonic()
    clip_source(st.work)
    cam = os.path.join(st.path("recordings"), "cam2")
    t0 = START + dt.timedelta(days=DAYS + 1)
    pf.write_segments(cam, t0, CLIP_S, seg_seconds=60, workdir=st.work)
    pf.rebuild(st.bin("vms-index"), cam)
    print(f"clip camera: {CLIP_S} s in 1-minute files, H.264 320x240 + AAC, in {time.monotonic() - t:.1f} s")
    s.headers["Authorization"] = f"Bearer {ngx.token(camera_id='cam2', plan='enterprise')}"
    start = pf.iso(t0 + dt.timedelta(seconds=0.5))          # mid-GOP: both formats cut there
    res = {}
    hwm0 = worker_hwm_kb(ngx)
    runs = {f: ([], [], [0]) for f in ("fmp4", "mp4")}
    for _ in range(7):                  # alternated, so neither format gets the warmer caches
        for fmt, (heads, times, size) in runs.items():
            t1 = time.perf_counter()
            resp = s.get(ngx.url("/get"), params={"path": "cam2", "start": start,
                                                  "duration": str(CLIP_S - 1), "format": fmt}, stream=True)
            # the headers leave nginx once the thread pool has read the fragments and built the boxes
            heads.append(time.perf_counter() - t1)
            assert resp.status_code == 200, resp.text
            size[0] = sum(len(c) for c in resp.iter_content(1 << 20))
            times.append(time.perf_counter() - t1)
            assert size[0] == int(resp.headers["Content-Length"])
    for fmt, (heads, times, size) in runs.items():
        size = size[0]
        res[fmt] = (statistics.median(heads), statistics.median(times))
        print(f"HTTP 10-minute /get format={fmt}: median {res[fmt][0] * 1000:.1f} ms to the headers, "
              f"{res[fmt][1] * 1000:.0f} ms for the whole {size / 1e6:.1f} MB (client-side, loopback)")
    print(f"ratio plain mp4 / fragmented (baseline): {res['mp4'][0] / res['fmp4'][0]:.2f}x to the headers, "
          f"{res['mp4'][1] / res['fmp4'][1]:.2f}x whole body")
    print(f"nginx worker peak RSS: {hwm0 / 1024:.1f} MB before the clips, {worker_hwm_kb(ngx) / 1024:.1f} MB after")


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    build = os.path.abspath(os.environ.get("VMS_BUILD_DIR") or os.path.join(ROOT, "build"))
    work = tempfile.mkdtemp(prefix="vms-bench-playback-")
    st = vmsstack.Stack(build, work)
    try:
        cam = os.path.join(st.path("recordings"), "cam1")
        t = time.monotonic()
        write_files(cam)
        write_index(cam)
        print(f"synthetic camera: {DAYS} days x {1440} segments in {time.monotonic() - t:.1f} s")
        end = START + dt.timedelta(days=DAYS)
        day = START + dt.timedelta(days=DAYS // 2)
        check = subprocess.run([st.bin("vms-index"), "check", cam], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr

        r = subprocess.run([st.bin("vms-index"), "bench", cam, "--start", iso(START), "--end", iso(end),
                            "--day", iso(day)], capture_output=True, text=True, check=True)
        b = json.loads(r.stdout)
        assert b["segments"] == DAYS * 1440 and b["files_walked"] >= DAYS * 1440, b
        print(f"server compute (best of 50): 24 h playlist {b['playlist_24h_us'] / 1000:.3f} ms "
              f"({b['playlist_entries']} entries, {b['playlist_bytes']} bytes); 30-day /list "
              f"{b['list_30d_us'] / 1000:.3f} ms ({b['segments']} segments)")
        print(f"baseline walk + stat of {b['files_walked']} files (best of 3): {b['walk_stat_us'] / 1000:.1f} ms")
        print(f"ratio walk / playlist: {b['walk_stat_us'] / b['playlist_24h_us']:.0f}x;  "
              f"walk / list: {b['walk_stat_us'] / b['list_30d_us']:.0f}x")

        # ($request_time is not used: nginx's cached clock does not move inside one handler)
        ngx = pf.start_nginx(st)      # with vms_auth and vms_limit, as deployed
        s = requests.Session()
        s.headers.update(ngx.auth)
        urls = {"24 h playlist": ngx.url(f"/api/playback/cam1?start={iso(day)}&end={iso(day + dt.timedelta(days=1))}"),
                "30-day /list": ngx.url(f"/list?path=cam1&start={iso(START)}&end={iso(end)}")}
        for name, url in urls.items():
            times = []
            for _ in range(30):
                t0 = time.perf_counter()
                resp = s.get(url)
                times.append(time.perf_counter() - t0)
                assert resp.status_code == 200, resp.text
            print(f"HTTP {name}: median {statistics.median(times) * 1000:.2f} ms client-side "
                  f"(python-requests, loopback; {len(resp.content)} bytes)")
        t0 = time.perf_counter()
        for _, _, files in os.walk(cam):
            for f in files:
                pass
        print(f"(python os.walk without stat, for scale: {(time.perf_counter() - t0) * 1000:.1f} ms)")
        clip_bench(st, ngx, s)
    finally:
        st.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
