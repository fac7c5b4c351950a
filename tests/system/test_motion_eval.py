"""`vms-ai eval` on the labelled clips of tests/tools/make_motion_clips.sh: the
motion criterion vmsd runs (regions >= motion_min_area, or the whole changed
fraction >= motion_threshold) finds a small intruder the old fraction alone
missed, raises nothing on slow or sudden light changes, finds the walkers of
vtest.avi; and the tool refuses a bad ground-truth file."""
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("motion-clips")
    subprocess.run([os.path.join(ROOT, "tests/tools/make_motion_clips.sh"), str(d)], check=True, timeout=300)
    return d


def evaluate(stack, clips, name, *args):
    r = subprocess.run([stack.bin("vms-ai"), "eval", "--json", *args, str(clips / f"{name}.mp4"),
                        str(clips / f"{name}.json")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_small_intruder_needs_the_region_criterion(stack, clips):
    new = evaluate(stack, clips, "intruder")
    assert new["intervals"][0]["found"], new
    assert new["false_triggers"] == 0, new
    # the whole-frame fraction alone (min_area off, the old threshold) misses it
    old = evaluate(stack, clips, "intruder", "--motion-min-area", "0", "--motion-threshold", "0.03")
    assert not old["intervals"][0]["found"], old


@pytest.mark.parametrize("name", ["ramp", "jump"])
def test_light_changes_trigger_nothing(stack, clips, name):
    r = evaluate(stack, clips, name)
    assert r["triggers"] == 0, r
    assert r["calls"] == 0 and r["skip_rate"] == 1.0, r


def test_vtest_walkers_found_and_frozen_start_skipped(stack, clips):
    r = evaluate(stack, clips, "vtest")
    assert r["found"] == 1, r
    assert r["false_triggers"] == 0, r          # the frozen first 5 s


def test_text_output_and_bad_ground_truth(stack, clips, tmp_path):
    exe = stack.bin("vms-ai")
    r = subprocess.run([exe, "eval", str(clips / "intruder.mp4"), str(clips / "intruder.json")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "interval 1 [4, 12] s" in r.stdout and "false triggers/min" in r.stdout and "/hour" in r.stdout
    for text, why in (('{"intervals":[{"start":5}]}', "interval 0"), ("{nope", "not JSON"),
                      ('{"intervals":[{"start":9,"end":3}]}', "interval 0"), ('[1]', "intervals")):
        gt = tmp_path / "gt.json"
        gt.write_text(text)
        r = subprocess.run([exe, "eval", str(clips / "jump.mp4"), str(gt)], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 2, (text, r.stderr)
        assert why in r.stderr and r.stdout == "", (text, r.stderr)
