"""Helpers for the AI pipeline system tests (test_ai*.py): the vms-ai tool,
the Rekognition/S3 and DeepStack stand-ins, sample pictures."""
import json
import os
import re
import subprocess
import sys
import urllib.request

import vmsstack

DATA = "/usr/share/doc/opencv-doc/examples/data"     # Debian opencv-doc
VTEST = os.path.join(DATA, "vtest.avi")
MESSI = os.path.join(DATA, "messi5.jpg")
PLATE_BLUR = os.path.join(DATA, "licenseplate_motion.jpg")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"   # fonts-dejavu-core
TOOLS = os.path.join(vmsstack.ROOT, "tests", "tools")
AK, SK, REGION = "AKIDVMSTEST0000", "stand-in-secret-key-0123456789", "eu-west-1"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def run_ai(stack, mode, files, settings=None, args=(), env=None, timeout=300):
    """Runs vms-ai; returns (exit status, [parsed JSON lines], stderr)."""
    argv = [stack.bin("vms-ai"), mode, *args]
    for k, v in (settings or {}).items():
        argv += ["-s", f"{k}={v}"]
    argv += list(files)
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run(argv, capture_output=True, text=True, env=e, timeout=timeout)
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    return r.returncode, lines, r.stderr


def results(lines):
    return [x["result"] for x in lines if "result" in x]


def summary(lines):
    return [x["summary"] for x in lines if "summary" in x][-1]


def aws_standin(stack, secret=SK):
    # the key in a 0600 file, not on the command line (docs/security.md "Secrets")
    path = os.path.join(stack.path("aws-standin"), "secret_key")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret)
    svc = stack._start("aws-standin", [sys.executable, os.path.join(TOOLS, "aws_standin.py"),
                                       "--access-key", AK, "--secret-file", path])
    m = svc.wait_line(r"aws-standin: ready (\S+)", 15)
    svc.url = "http://" + m.group(1)
    return svc


def deepstack_standin(stack):
    svc = stack._start("deepstack-standin", [sys.executable, os.path.join(TOOLS, "deepstack_standin.py")])
    m = svc.wait_line(r"deepstack-standin: ready (\S+)", 15)
    svc.url = "http://" + m.group(1)
    return svc


def standin_get(svc, path):
    with urllib.request.urlopen(svc.url + path, timeout=5) as r:
        return json.loads(r.read())


def standin_config(svc, **cfg):
    req = urllib.request.Request(svc.url + "/_standin/config", data=json.dumps(cfg).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def aws_env():
    return {"AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SK, "AWS_REGION": REGION}


def rekognition_settings(aws, **more):
    s = {"ai_provider": "rekognition", "ai_rekognition_endpoint": aws.url, "ai_s3_endpoint": aws.url}
    s.update(more)
    return s


def synthetic_plate(path, text="KX52 ABC"):
    """A red car's back with a white plate carrying `text` (ffmpeg drawtext)."""
    vf = ("drawbox=x=120:y=150:w=400:h=260:color=0xb02020:t=fill,"
          "drawbox=x=220:y=300:w=200:h=52:color=white:t=fill,"
          "drawbox=x=220:y=300:w=200:h=52:color=black:t=3,"
          f"drawtext=fontfile={FONT}:text='{text}':x=232:y=309:fontsize=34:fontcolor=black")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=0x506070:s=640x480:d=1",
                    "-vf", vf, "-frames:v", "1", path], check=True)
    return path


def sharp_plate_scene(path, text="GR21 KTV"):
    """A 1280x720 street scene: a blue car's back with a UK-size plate (150x34
    px, 24 px DejaVu Sans Bold: a 520 mm plate a few metres from a 90-degree
    camera), seen at a slant (ffmpeg perspective: the right side 80 px
    shorter), with sensor noise.  The plate lands at about x 645..795,
    y 420..455."""
    vf = ("drawbox=x=380:y=250:w=520:h=330:color=0x1f3a8a:t=fill,"
          "drawbox=x=380:y=520:w=520:h=60:color=0x202020:t=fill,"
          "drawbox=x=420:y=300:w=120:h=50:color=0xd03020:t=fill,"
          "drawbox=x=740:y=300:w=120:h=50:color=0xd03020:t=fill,"
          "drawbox=x=565:y=430:w=150:h=34:color=0xf4f4f0:t=fill,"
          "drawbox=x=565:y=430:w=150:h=34:color=0x101010:t=2,"
          f"drawtext=fontfile={FONT}:text='{text}':x=573:y=436:fontsize=24:fontcolor=0x101010,"
          "perspective=x0=0:y0=0:x1=1280:y1=80:x2=0:y2=720:x3=1280:y3=640:sense=destination,"
          "noise=alls=3:allf=t")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=0x6a7a6a:s=1280x720:d=1",
                    "-vf", vf, "-frames:v", "1", path], check=True)
    return path


def vtest_still(path, at_s=5, crop=None):
    """One frame of opencv-doc's vtest.avi (768x576, pedestrians) as PNG,
    optionally an ffmpeg crop "w:h:x:y" of it."""
    vf = ["-vf", f"crop={crop}"] if crop else []
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-ss", str(at_s), "-i", VTEST, *vf,
                    "-frames:v", "1", path], check=True)
    return path


def overlap(a, b):
    """Intersection area over the smaller box, boxes as dicts x/y/width/height."""
    ix = max(0, min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"]))
    iy = max(0, min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"]))
    return ix * iy / min(a["width"] * a["height"], b["width"] * b["height"])
