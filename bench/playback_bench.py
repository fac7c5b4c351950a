#!/usr/bin/python3
"""Playback benchmark: a synthetic camera with 30 days x 1-minute segments (43,200 files, each with
60 one-second fragments in the index).  Measures, with warm caches:

  * server compute time (`vms-index bench`: the module's own code path — index query, plan, text) for a
    24 h HLS playlist and a 30-day MediaMTX /list, against a walk of the camera directory that stats
    every file (how a list is made without an index; MediaMTX additionally parses every file);
  * the same two requests over HTTP against nginx with vms_playback, timed by the client.

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
    finally:
        st.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
