#!/usr/bin/python3
"""Local person detector benchmark: HOG cost per motion box.

The local provider runs OpenCV's HOG people detector on the motion box
(docs/ai.md "Local provider: persons").  This prints the CPU time it spends
per box, for boxes cut from opencv-doc's vtest.avi (768x576 pedestrians):
  walker   128x224 px around one walking person (a typical motion box)
  group    320x256 px around the group in the middle of the path
  frame    the whole 768x576 frame (no motion box: the whole picture)
at the default ai_local_min_person (64 px: the box is scaled by 1.5), and as
the baseline from the same run the face Haar cascade (ai_local_faces) on the
same boxes, with the ratio HOG / face cascade.

Method: one `vms-ai detect` process per case gets the box N times; CPU time
of the child (user + sys, so other load on the machine does not count) for
N = 1 is subtracted from N = 1 + REPS, which removes start-up (library and
cascade loading) and leaves the per-box cost, PNG decode and RGB-to-grey
included in both the HOG and the baseline figure.
Usage: VMS_BUILD_DIR=build bench/person_bench.py [REPS]
"""
import os
import resource
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("VMS_BUILD_DIR") or os.path.join(ROOT, "build")
VTEST = "/usr/share/doc/opencv-doc/examples/data/vtest.avi"
BOXES = [("walker", "128:224:625:215"), ("group", "320:256:300:120"), ("frame", None)]
ONLY = {
    "hog": {"ai_local_persons": "on", "ai_local_faces": "off", "ai_local_plates": "off"},
    "faces": {"ai_local_persons": "off", "ai_local_faces": "on", "ai_local_plates": "off"},
}


def cpu_of(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def per_box_ms(pic, what, reps):
    argv = [os.path.join(BUILD, "bin", "vms-ai"), "detect", "-s", "ai_provider=local"]
    for k, v in ONLY[what].items():
        argv += ["-s", f"{k}={v}"]
    one = min(cpu_of(argv + [pic]) for _ in range(3))
    many = min(cpu_of(argv + [pic] * (1 + reps)) for _ in range(3))
    return max(0.0, many - one) / reps * 1000


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as d:
        print(f"{'box':<8} {'size':>9} {'hog ms':>8} {'faces ms':>9} {'hog/faces':>10}")
        for name, crop in BOXES:
            pic = os.path.join(d, name + ".png")
            vf = ["-vf", f"crop={crop}"] if crop else []
            subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-ss", "5", "-i", VTEST, *vf,
                            "-frames:v", "1", pic], check=True)
            size = "x".join(crop.split(":")[:2]) if crop else "768x576"
            hog = per_box_ms(pic, "hog", reps)
            faces = per_box_ms(pic, "faces", reps)
            ratio = hog / faces if faces > 0 else float("inf")
            print(f"{name:<8} {size:>9} {hog:8.2f} {faces:9.2f} {ratio:10.2f}")


if __name__ == "__main__":
    main()
