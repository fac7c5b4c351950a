#!/usr/bin/python3
"""Recording benchmark (issue #3): N camsim cameras recorded by one vmsd versus one
`ffmpeg -rtsp_transport tcp -i URL -c copy -f segment` process per camera (how Frigate records),
in the same run against the same camsim.  Prints, per N: CPU seconds and RSS per camera of each,
lost frames, and the ratios.  Not a test: figures depend on the machine and its load.

    ./build.sh bench                       (all of bench/)
    VMS_BUILD_DIR=build /usr/bin/python3 bench/record_bench.py [--cameras 16,32,64] [--seconds 20]
                                                      [--profiles realistic,bars] [--ingest]

Profiles (camsim encodes each once at start-up, so serving costs no encoding):
  realistic  1920x1080, 25 fps, GOP 2 s (50 frames), x264 CBR 4000 kbit/s, real footage: Debian
             opencv-doc's vtest.avi (pedestrians in a hall, 768x576 at 10 fps) scaled up, 30 s loop
  bars       640x360, 25 fps, GOP 1 s, constant quality, colour bars (the first runs' profile)

--ingest also runs vmsd reading the same cameras without recording them (no snapshots, no still
watchdog): the CPU of its RTSP ingest through libavformat alone, the floor under its recording figure.

Lost frames: every recorded segment is read back with ffprobe; a segment of duration D at F fps
should hold round(D*F) frames, and what it lacks (frames camsim skipped because a reader fell
behind, or the recorder dropped) is counted as lost.
"""
import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "tools"))
import vmsstack  # noqa: E402

FPS = 25
VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"   # Debian's opencv-doc
PROFILES = {
    "realistic": lambda n: [a for i in range(1, n + 1) for a in (
        "--camera", f"cam{i}:file={VTEST},size=1920x1080,fps={FPS},gop={2 * FPS},bitrate=4000,loop=30")],
    "bars": lambda n: ["--cameras", str(n), "--gop", str(FPS), "--fps", str(FPS)],
}
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


def private_bytes(pid):
    """Memory of the process alone (Private_Clean + Private_Dirty): RSS without the pages it shares
    with other processes, such as the shared libraries' code (FFmpeg's alone are ~45 MB RSS)."""
    total = 0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1]) * 1024
    return total


def lost_frames(files):
    """Frames missing from the recorded files, judged by each file's own duration."""
    lost = recorded = 0
    for path in files:
        out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
                              "-show_entries", "stream=nb_read_packets,duration", "-of", "json", path],
                             capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            lost += 1          # an unreadable file counts at least one
            continue
        st = json.loads(out.stdout)["streams"][0]
        n = int(st.get("nb_read_packets", 0))
        dur = float(st.get("duration") or 0)
        recorded += n
        lost += max(0, round(dur * FPS) - n)
    return lost, recorded


def measure(pids, seconds):
    """CPU seconds used by pids over the window, their peak RSS sum and peak private memory sum."""
    c0 = sum(cpu_seconds(p) for p in pids)
    peak = peak_priv = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        peak = max(peak, sum(rss_bytes(p) for p in pids))
        peak_priv = max(peak_priv, sum(private_bytes(p) for p in pids))
        time.sleep(1)
    return sum(cpu_seconds(p) for p in pids) - c0, peak, peak_priv


def run_vmsd(stack, cam, n, seconds, warmup, profile, ingest_only=False):
    """ingest_only: the same cameras read but not recorded, no snapshots, no still watchdog: what
    reading RTSP through libavformat costs vmsd, the floor under its recording figure."""
    name = f"vmsd-{profile}{n}" + ("-ingest" if ingest_only else "")
    rec = stack.path(name, "recordings")
    text = (f"[vmsd]\nlisten = 127.0.0.1:@API_PORT@\nrecordings = {rec}\nlog_level = warn\n"
            "retention_interval = 1h\nsegment_duration = 10s\n"
            # a loaded machine answers RTSP slowly: wait longer, retry sooner
            "io_timeout = 20s\nbackoff = 1s,2s,5s\n")
    if ingest_only:
        text += "record = off\nsnapshot_interval = 1h\nstill_timeout = 1h\n"
    for i in range(1, n + 1):
        text += f"\n[camera cam{i}]\nurl = {cam.url(f'cam{i}')}\n"
    vmsd = stack.vmsd(text=text, name=name)

    def online():
        return json.loads(vmsstack.http_get(vmsd.api + "/health")[1])["cameras_online"]
    wait_most(lambda: online() == n)
    time.sleep(warmup)
    up = online()
    cpu, rss, priv = measure([vmsd.pid], seconds)
    vmsd.stop()
    files = glob.glob(os.path.join(rec, "cam*", "**", "*.mp4"), recursive=True)
    return cpu, rss, lost_frames(files), up, priv


def wait_most(done, timeout=120):
    """Waits for done() up to timeout; a loaded machine may never get there."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and not done():
        time.sleep(1)


def run_ffmpeg(stack, cam, n, seconds, warmup, profile):
    out = stack.path(f"ffmpeg-{profile}{n}")
    procs = []
    for i in range(1, n + 1):
        d = os.path.join(out, f"cam{i}")
        os.makedirs(d, exist_ok=True)
        procs.append(stack._start(f"ffmpeg-{profile}{n}-cam{i}", [
            "ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", cam.url(f"cam{i}"),
            "-c", "copy", "-f", "segment", "-segment_time", "10", "-reset_timestamps", "1",
            "-strftime", "1", os.path.join(d, "%Y%m%d%H%M%S.mp4")], stop_signal=signal.SIGINT))
    def started():
        return sum(bool(glob.glob(os.path.join(out, f"cam{i}", "*.mp4"))) for i in range(1, n + 1))
    wait_most(lambda: started() == n)
    time.sleep(warmup)
    up = started()
    cpu, rss, priv = measure([p.pid for p in procs], seconds)
    for p in procs:
        p.stop()
    files = glob.glob(os.path.join(out, "cam*", "*.mp4"))
    return cpu, rss, lost_frames(files), up, priv


def warm_up(cam, n, batch=4):
    """Connects to every camera once, a few at a time: camsim prepares a camera's media at its
    first DESCRIBE, and many first DESCRIBEs at once time out on a loaded machine, which would
    penalize whichever recorder connects first."""
    for first in range(1, n + 1, batch):
        probes = [subprocess.Popen(["ffprobe", "-v", "quiet", "-rtsp_transport", "tcp",
                                    cam.url(f"cam{i}")], stdin=subprocess.DEVNULL)
                  for i in range(first, min(first + batch, n + 1))]
        for p in probes:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cameras", default="16,32,64")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--profiles", default="realistic,bars", help="comma-separated: " + ",".join(PROFILES))
    ap.add_argument("--ingest", action="store_true",
                    help="also run vmsd reading the cameras without recording (its RTSP ingest alone)")
    args = ap.parse_args()
    profiles = args.profiles.split(",")
    for p in profiles:
        if p not in PROFILES:
            ap.error(f"--profiles: unknown profile {p!r}")
    if "realistic" in profiles and not os.path.exists(VTEST):
        ap.error(f"the realistic profile needs {VTEST} (apt-get install opencv-doc)")
    build = os.environ.get("VMS_BUILD_DIR") or os.path.join(vmsstack.ROOT, "build")
    work = tempfile.mkdtemp(prefix="vms-bench-")
    stack = vmsstack.Stack(build, work)
    rows = []
    try:
        for profile in profiles:
            for n in [int(x) for x in args.cameras.split(",")]:
                cam = stack.camsim(cameras=0, args=PROFILES[profile](n), name=f"camsim-{profile}{n}")
                warm_up(cam, n)
                v = run_vmsd(stack, cam, n, args.seconds, args.warmup, profile)
                f = run_ffmpeg(stack, cam, n, args.seconds, args.warmup, profile)
                i = run_vmsd(stack, cam, n, args.seconds, args.warmup, profile, True) if args.ingest else None
                cam.stop()
                rows.append((profile, n, v, f, i))
                print_row(profile, n, v, f, args.seconds, i)
    finally:
        stack.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("\nsummary (vmsd / ffmpeg, lower is better for vmsd):")
    for profile, n, v, f, i in rows:
        print(f"  {profile:9s} {n:3d} cameras: CPU per recording camera {ratio(v[0] / max(v[3], 1), f[0] / max(f[3], 1))}, "
              f"RSS per recording camera {ratio(v[1] / max(v[3], 1), f[1] / max(f[3], 1))} "
              f"(vmsd {v[1] / max(v[3], 1) / 1e6:.2f} MB, private {v[4] / max(v[3], 1) / 1e6:.2f} MB), "
              f"lost frames vmsd {v[2][0]} / ffmpeg {f[2][0]}"
              + (f", vmsd ingest alone {ratio(i[0] / max(i[3], 1), f[0] / max(f[3], 1))}" if i else ""))
    for (p1, n1, v1, _, _), (p2, n2, v2, _, _) in zip(rows, rows[1:]):
        if p1 == p2 and v2[3] > v1[3]:
            print(f"  {p1}: vmsd RSS added per camera from {v1[3]} to {v2[3]} recording cameras: "
                  f"{(v2[1] - v1[1]) / (v2[3] - v1[3]) / 1e6:.2f} MB "
                  f"(private memory {(v2[4] - v1[4]) / (v2[3] - v1[3]) / 1e6:.2f} MB)")


def ratio(a, b):
    return f"{a / b:.2f}x" if b else "n/a"


def print_row(profile, n, v, f, seconds, ingest=None):
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"== {profile}: {n} cameras, {seconds:.0f} s window (load average {load} on {os.cpu_count()} CPUs)")
    for name, (cpu, rss, (lost, rec), up, priv) in (("vmsd", v), ("ffmpeg", f)):
        k = max(up, 1)
        print(f"  {name:7s} {up}/{n} recording  CPU {cpu:7.2f} s ({cpu / k * 1000 / seconds:6.1f} ms/s per "
              f"camera, {cpu / seconds * 100:5.1f} % of one core)  RSS {rss / k / 1e6:6.2f} MB per camera "
              f"({rss / 1e6:7.1f} MB total; private {priv / k / 1e6:5.2f} MB per camera)  "
              f"frames recorded {rec}, lost {lost}")
    if ingest:
        cpu, _, _, up, _ = ingest
        print(f"  ingest  {up}/{n} read, not recorded  CPU {cpu:7.2f} s ({cpu / max(up, 1) * 1000 / seconds:6.1f} ms/s "
              f"per camera): vmsd's RTSP reading alone, {ratio(cpu / max(up, 1), f[0] / max(f[3], 1))} of ffmpeg's recording")
    print(f"  ratio   CPU {ratio(v[0] / max(v[3], 1), f[0] / max(f[3], 1))}  "
          f"RSS {ratio(v[1] / max(v[3], 1), f[1] / max(f[3], 1))} (per recording camera)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
