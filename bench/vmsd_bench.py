#!/usr/bin/python3
"""vmsd recording benchmark: N camsim cameras recorded by one vmsd, against one
`ffmpeg -rtsp_transport tcp -i URL -c copy -f segment` process per camera (how Frigate records), in the
same run and for the same measured window.  For each N prints CPU seconds per camera per minute, RSS
per camera (vmsd: its RSS / N; ffmpeg: the mean process RSS) and lost frames (expected at camsim's
frame rate over the window minus received), then the ratios.

Targets (issue #3): vmsd <= 1/3 of ffmpeg's CPU, <= 5 MB RSS per camera, nothing lost, 64 cameras on
2 cores.  Not a test: it prints, it does not assert.

Usage: VMS_BUILD_DIR=build /usr/bin/python3 bench/vmsd_bench.py [N ...] [--seconds S]
       (default N: 16 32 64, S: 30)
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
import vmsstack  # noqa: E402
from vmsdtest import conf_text, metric  # noqa: E402

FPS = 25
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK   # utime + stime


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def frames_vmsd(v, cams):
    return sum(metric(v, "vms_camera_frames_received_total", camera_id=c) for c in cams)


def frames_ffmpeg(progress_files):
    total = 0
    for p in progress_files:
        try:
            with open(p) as f:
                m = re.findall(r"^frame=(\d+)", f.read(), re.M)
            total += int(m[-1]) if m else 0
        except OSError:
            pass
    return total


def run(n, seconds, build):
    work = tempfile.mkdtemp(prefix="vms-bench-")
    st = vmsstack.Stack(build, work)
    out = {}
    try:
        cams = st.camsim(cameras=n, args=("--fps", str(FPS)))
        names = [f"cam{i}" for i in range(1, n + 1)]
        v = st.vmsd(text=conf_text(cams, names, extra={"snapshot_interval": "30s", "log_level": "warn"}))
        vmsstack.wait_for("all cameras streaming", lambda: metric(v, "vms_streams_active") == n, 120, v.proc, v.log)

        ff_dir = os.path.join(work, "ffmpeg")
        os.makedirs(ff_dir)
        procs, progress = [], []
        for c in names:
            d = os.path.join(ff_dir, c)
            os.makedirs(d)
            p = os.path.join(d, "progress")
            progress.append(p)
            procs.append(subprocess.Popen(
                ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", cams.url(c),
                 "-c", "copy", "-f", "segment", "-segment_time", "60", "-reset_timestamps", "1",
                 "-progress", p, os.path.join(d, "seg%05d.mp4")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        try:
            time.sleep(5)   # warm-up: connections up, buffers full (a benchmark, not a test)
            t0 = time.monotonic()
            c0 = {"vmsd": cpu_seconds(v.pid), "ffmpeg": sum(cpu_seconds(p.pid) for p in procs)}
            f0 = {"vmsd": frames_vmsd(v, names), "ffmpeg": frames_ffmpeg(progress)}
            time.sleep(seconds)
            dt = time.monotonic() - t0
            c1 = {"vmsd": cpu_seconds(v.pid), "ffmpeg": sum(cpu_seconds(p.pid) for p in procs)}
            f1 = {"vmsd": frames_vmsd(v, names), "ffmpeg": frames_ffmpeg(progress)}
            rss = {"vmsd": rss_bytes(v.pid) / n, "ffmpeg": sum(rss_bytes(p.pid) for p in procs) / n}
            alive = sum(p.poll() is None for p in procs)
        finally:
            for p in procs:
                vmsstack.kill_group(p.pid)
                p.wait()
        expected = FPS * dt * n
        for who in ("vmsd", "ffmpeg"):
            out[who] = {
                "cpu_s_per_cam_min": (c1[who] - c0[who]) / n * 60 / dt,
                "rss_mb_per_cam": rss[who] / 2**20,
                "lost_frames": max(0, round(expected - (f1[who] - f0[who]))),
                "expected_frames": round(expected),
            }
        out["ffmpeg_alive"] = alive
    finally:
        st.stop()
        shutil.rmtree(work, ignore_errors=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cameras", nargs="*", type=int, default=[16, 32, 64])
    ap.add_argument("--seconds", type=float, default=30)
    args = ap.parse_args()
    build = os.environ.get("VMS_BUILD_DIR") or os.path.join(ROOT, "build")
    print(f"vmsd vs ffmpeg -c copy -f segment, {args.seconds:.0f} s window, camsim {FPS} fps 640x360, "
          f"{os.cpu_count()} cores")
    print(f"{'cams':>5} {'who':>7} {'CPU s/cam/min':>14} {'RSS MB/cam':>11} {'lost frames':>12}")
    for n in args.cameras:
        r = run(n, args.seconds, build)
        for who in ("vmsd", "ffmpeg"):
            x = r[who]
            print(f"{n:>5} {who:>7} {x['cpu_s_per_cam_min']:>14.3f} {x['rss_mb_per_cam']:>11.2f} "
                  f"{x['lost_frames']:>6}/{x['expected_frames']}")
        ratio = r["vmsd"]["cpu_s_per_cam_min"] / max(r["ffmpeg"]["cpu_s_per_cam_min"], 1e-9)
        print(f"{n:>5}   ratio  vmsd CPU = {ratio:.2f} x ffmpeg (target <= 0.33); "
              f"vmsd RSS {r['vmsd']['rss_mb_per_cam']:.2f} MB/cam (target <= 5); "
              f"ffmpeg processes alive {r['ffmpeg_alive']}/{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
