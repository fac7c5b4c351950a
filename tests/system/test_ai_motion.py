"""Motion trigger on real and synthetic footage through vms-ai (the code vmsd
runs on each sampled frame): pedestrians in opencv-doc's vtest.avi, regions of
interest, a static noisy scene with fading light, an IR-style switch."""
import subprocess

from aitest import VTEST, run_ai

QUIET = {"ai_interval": "86400s", "ai_local_plates": "off"}


def frames(stack, path, **settings):
    s = dict(QUIET)
    s.update(settings)
    rc, lines, err = run_ai(stack, "analyze", [path], s, args=["--frames"])
    assert rc == 0, err
    return [x["frame"] for x in lines if "frame" in x][1:]      # the first primes the background


def clip(path, vf, seconds, src):
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", src, "-t", str(seconds), "-r", "10",
                    "-vf", vf + ",format=yuv420p", "-c:v", "libx264", "-g", "10", "-preset", "veryfast", path],
                   check=True)
    return path


def first_frame(tmp_path):
    png = str(tmp_path / "vtest0.png")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", VTEST, "-frames:v", "1", png], check=True)
    return png


def test_motion_found_where_people_walk(stack):
    fr = frames(stack, VTEST)
    moving = [f for f in fr if f["motion"]]
    assert len(moving) >= 0.8 * len(fr), (len(moving), len(fr))
    # every motion box is in the part of the 768x576 picture people cross
    # (road, plaza, lawn), never the sky-line of buildings alone
    for f in moving:
        x, y, w, h = f["motion_box"]
        assert y + h > 130 and w > 0 and h > 0, f


def test_roi_limits_motion_to_its_areas(stack):
    facade = '[{"x":310,"y":0,"width":280,"height":100}]'          # building front: nobody walks
    fr = frames(stack, VTEST, roi_areas=facade)
    assert sum(f["motion"] for f in fr) == 0
    lawn = '[{"x":0,"y":430,"width":400,"height":146}]'            # two people cross it at 53..68 s
    fr = frames(stack, VTEST, roi_areas=lawn)
    moving = [f for f in fr if f["motion"]]
    # not the fading trace they leave in the background once gone (a region that no longer changes)
    assert moving and all(50 <= f["t"] <= 70 for f in moving), [f["t"] for f in moving]
    for f in moving:
        x, y, w, h = f["motion_box"]
        assert x >= 0 and y >= 430 and x + w <= 400 and y + h <= 576, f


def test_static_scene_skips_at_least_90_percent(stack, tmp_path):
    src = first_frame(tmp_path)
    path = clip(str(tmp_path / "static.mp4"), "noise=alls=10:allf=t,eq=brightness='-0.2*t/60':eval=frame", 60, src)
    rc, lines, err = run_ai(stack, "analyze", [path], QUIET)
    assert rc == 0, err
    s = [x["summary"] for x in lines if "summary" in x][0]
    quiet = s["skipped"]["no_motion"] + s["skipped"]["first"]
    assert quiet / s["frames"] >= 0.9, s
    assert s["sent"] == 0


def test_ir_switch_is_not_motion(stack, tmp_path):
    """At 20 s the picture turns grey, brighter and flatter (day -> IR)."""
    src = first_frame(tmp_path)
    vf = ("noise=alls=8:allf=t,hue=s='if(gt(t,20),0,1)',"
          "eq=brightness='if(gt(t,20),0.25,0)':contrast='if(gt(t,20),0.6,1)':eval=frame")
    path = clip(str(tmp_path / "ir.mp4"), vf, 40, src)
    fr = frames(stack, path)
    assert sum(f["motion"] for f in fr) == 0          # normalisation absorbs it
    fr = frames(stack, path, motion_normalize="off")
    assert sum(f["motion"] for f in fr) == 0          # the raw jump: background recalibrated
    assert [f["t"] for f in fr if f["recalibrated"]] and all(20 <= f["t"] <= 22 for f in fr if f["recalibrated"])
