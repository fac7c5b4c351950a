#!/usr/bin/python3
"""AI pipeline benchmark: analysis cost per sampled frame and skip rates.

Runs `vms-ai analyze --keyframes --frames` (the code vmsd runs on each
keyframe: crop, libswscale to a 160 px grey picture, motion) on:
  walk-1080p  opencv-doc's vtest.avi (pedestrians) upscaled to 1920x1080 H.264,
              one keyframe per second (what a camera with a 1 s GOP gives vmsd)
  walk-576p   the same clip at its own 768x576
  static      one vtest frame with sensor noise and a 20 % fade, 60 s
and prints per clip: samples, decode and analysis time per sample (mean, p95),
motion and skip rates, and cameras per core at 1 sample/s.  The provider is
called at most once per clip (ai_interval = 1 day) so provider time is not
part of the figures.  Then the motion criterion alone on vtest.avi at
640x360, 5 samples/s: the default (regions after a 3x3 open + close, labelled,
>= motion_min_area, or the fraction) against the fraction alone
(motion_min_area = 0, the criterion before), alternated in the same run, and
their ratio.  Usage: VMS_BUILD_DIR=build bench/ai_bench.py
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("VMS_BUILD_DIR") or os.path.join(ROOT, "build")
VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True)


def clips(d):
    walk1080 = os.path.join(d, "walk1080.mp4")
    ffmpeg("-i", VTEST, "-t", "60", "-vf", "scale=1920:1080,format=yuv420p", "-c:v", "libx264",
           "-preset", "veryfast", "-g", "10", "-r", "10", walk1080)
    walk576 = os.path.join(d, "walk576.mp4")
    ffmpeg("-i", VTEST, "-t", "60", "-vf", "format=yuv420p", "-c:v", "libx264", "-preset", "veryfast",
           "-g", "10", "-r", "10", walk576)
    frame = os.path.join(d, "still.png")
    ffmpeg("-i", VTEST, "-frames:v", "1", frame)
    static = os.path.join(d, "static.mp4")
    ffmpeg("-loop", "1", "-i", frame, "-t", "60", "-r", "10", "-vf",
           "noise=alls=10:allf=t,eq=brightness='-0.2*t/60':eval=frame,format=yuv420p",
           "-c:v", "libx264", "-preset", "veryfast", "-g", "10", static)
    return [("walk-1080p", walk1080), ("walk-576p", walk576), ("static", static)]


def p95(v):
    v = sorted(v)
    return v[min(len(v) - 1, int(0.95 * len(v)))]


def run(path, *extra, sampling=("--keyframes",)):
    argv = [os.path.join(BUILD, "bin", "vms-ai"), "analyze", *sampling, "--frames",
            "-s", "ai_provider=local", "-s", "ai_interval=86400s", *extra, path]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    frames = [json.loads(x)["frame"] for x in out.splitlines() if x.startswith('{"frame"')]
    frames = frames[1:]          # the first sample primes the background (and opens the scaler)
    # thread CPU time: what a core spends, whatever else the machine runs
    an = [f["analysis_cpu_us"] for f in frames]
    dec = [f["decode_cpu_us"] for f in frames]
    motion = sum(f["motion"] for f in frames)
    skipped = sum(1 for f in frames if not f["sent"])
    return {
        "samples": len(frames),
        "analysis_us_mean": round(statistics.mean(an)), "analysis_us_p95": p95(an),
        "decode_us_mean": round(statistics.mean(dec)), "decode_us_p95": p95(dec),
        "motion_rate": round(motion / len(frames), 3),
        "skipped_no_motion": round(1 - motion / len(frames), 3),
        "skipped_total": round(skipped / len(frames), 3),
        "cameras_per_core_analysis": int(1e6 / statistics.mean(an)),
        "cameras_per_core_decode_and_analysis": int(1e6 / (statistics.mean(an) + statistics.mean(dec))),
    }


def criterion(d):
    """Analysis CPU per sample at 640x360, new criterion vs the fraction alone."""
    walk360 = os.path.join(d, "walk360.mp4")
    ffmpeg("-i", VTEST, "-t", "60", "-vf", "scale=640:360,format=yuv420p", "-c:v", "libx264",
           "-preset", "veryfast", "-g", "10", "-r", "10", walk360)
    runs = {"regions": [], "fraction": []}
    for _ in range(3):
        for name, extra in (("regions", ()), ("fraction", ("-s", "motion_min_area=0"))):
            r = run(walk360, *extra, sampling=("--fps", "5"))
            runs[name].append((r["analysis_us_mean"], r["motion_rate"]))
    out = {}
    for name, v in runs.items():
        out[name] = {"analysis_us_mean": min(x[0] for x in v), "motion_rate": v[0][1]}
    out["ratio"] = round(out["regions"]["analysis_us_mean"] / out["fraction"]["analysis_us_mean"], 2)
    return out


def main():
    with tempfile.TemporaryDirectory(prefix="ai-bench-") as d:
        res = {name: run(path) for name, path in clips(d)}
        crit = criterion(d)
    print(json.dumps(res, indent=1))
    print(f"{'clip':12} {'samples':>7} {'analysis CPU µs':>15} {'p95':>6} {'decode CPU µs':>13} "
          f"{'motion':>7} {'no-motion skip':>14} {'cams/core':>10} {'incl.decode':>11}")
    for name, r in res.items():
        print(f"{name:12} {r['samples']:7} {r['analysis_us_mean']:15} {r['analysis_us_p95']:6} "
              f"{r['decode_us_mean']:13} {r['motion_rate']:7.0%} {r['skipped_no_motion']:14.0%} "
              f"{r['cameras_per_core_analysis']:10} {r['cameras_per_core_decode_and_analysis']:11}")
    print(f"motion criterion, 640x360 at 5/s (best of 3, thread CPU µs per sample, crop + scale + motion): "
          f"regions {crit['regions']['analysis_us_mean']} (motion on {crit['regions']['motion_rate']:.0%}), "
          f"fraction alone {crit['fraction']['analysis_us_mean']} "
          f"(motion on {crit['fraction']['motion_rate']:.0%}), ratio {crit['ratio']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
