"""AI detection providers through vms-ai (the pipeline vmsd runs, on files):
Rekognition + S3 against a stand-in that checks SigV4 with botocore, DeepStack
against a stand-in, the offline local provider on opencv-doc pictures."""
import os
import re
import subprocess

import pytest

from aitest import (DATA, MESSI, PLATE_BLUR, RFC3339, SK, VTEST, aws_env, aws_standin, deepstack_standin,
                    overlap, rekognition_settings, results, run_ai, standin_config, standin_get,
                    sharp_plate_scene, summary, synthetic_plate, vtest_still)

RESULT_KEYS = {"schema", "type", "id", "camera_id", "ts", "ts_us", "provider", "kind", "label",
               "confidence", "bbox", "attributes", "snapshot", "frame", "trace_id"}

# Pictures from opencv-doc without a face (left01.jpg shows a person whose
# face is hidden behind a chessboard).
NO_FACES = ["aero1.jpg", "aero3.jpg", "apple.jpg", "blox.jpg", "board.jpg", "building.jpg",
            "butterfly.jpg", "fruits.jpg", "HappyFish.jpg", "home.jpg", "orange.jpg", "leuvenA.jpg",
            "leuvenB.jpg", "graf1.png", "box_in_scene.png", "left01.jpg", "left05.jpg", "right09.jpg",
            "ela_original.jpg", "ellipses.jpg", "WindowsLogo.jpg", "LinuxLogo.jpg", "pic1.png",
            "notes.png"]


def check_result(r, provider, frame):
    assert set(r) == RESULT_KEYS, set(r) ^ RESULT_KEYS
    assert r["schema"] == 1 and r["type"] == "detection"
    assert r["provider"] == provider
    assert r["kind"] in ("label", "face", "text")
    assert isinstance(r["label"], str) and r["label"]
    assert 0.0 <= r["confidence"] <= 1.0
    assert RFC3339.match(r["ts"])
    assert re.fullmatch(r"[0-9a-f]{32}-\d+", r["id"])
    assert r["frame"] == frame
    assert isinstance(r["attributes"], dict)
    b = r["bbox"]
    if b is not None:
        assert b["width"] > 0 and b["height"] > 0
        assert 0 <= b["x"] and b["x"] + b["width"] <= frame["width"]
        assert 0 <= b["y"] and b["y"] + b["height"] <= frame["height"]


def test_rekognition_signed_calls_results_and_s3_document(stack, tmp_path):
    aws = aws_standin(stack)
    pic = synthetic_plate(str(tmp_path / "car.png"))
    rc, lines, err = run_ai(stack, "detect", [pic], rekognition_settings(
        aws, ai_rekognition_apis="labels,faces,text"), args=["--camera", "gate-1"], env=aws_env())
    assert rc == 0, err
    reqs = standin_get(aws, "/_standin/requests")
    assert [(r["service"], r["op"]) for r in reqs] == [
        ("rekognition", "DetectLabels"), ("rekognition", "DetectFaces"), ("rekognition", "DetectText"),
        ("s3", "PutObject")]
    assert all(r["sig_ok"] for r in reqs), reqs
    assert all(r["jpeg"] for r in reqs if r["service"] == "rekognition")

    res = results(lines)
    frame = {"width": 640, "height": 480}
    for r in res:
        check_result(r, "rekognition", frame)
    by = {(r["kind"], r["label"]): r for r in res}
    # the stand-in's boxes are ratios of the picture: back to pixels
    assert by[("label", "Person")]["bbox"] == {"x": 64, "y": 120, "width": 128, "height": 240}
    assert by[("label", "Car")]["attributes"]["parents"] == ["Vehicle", "Transportation"]
    assert by[("label", "Car")]["attributes"]["color"] == "red"      # from the box pixels
    assert by[("label", "Outdoors")]["bbox"] is None                  # image-level label
    assert by[("face", "face")]["bbox"] == {"x": 96, "y": 144, "width": 64, "height": 72}
    assert by[("text", "KX52ABC")]["attributes"]["text"] == "KX52ABC"
    assert len([r for r in res if r["kind"] == "text"]) == 1           # lines, not words

    key = reqs[-1]["key"]
    assert re.fullmatch(r"vms-detections/gate-1/\d{8}T\d{6}\.\d{3}Z\.json", key)
    assert {r["snapshot"] for r in res} == {"s3://" + key}
    doc = standin_get(aws, "/_standin/s3/" + key)
    assert doc["camera_id"] == "gate-1" and doc["provider"] == "rekognition"
    assert sorted(d["label"] for d in doc["detections"]) == sorted(r["label"] for r in res)


def test_rekognition_wrong_secret_is_an_auth_error_not_retried(stack, tmp_path):
    aws = aws_standin(stack, secret="the-real-secret")
    pic = synthetic_plate(str(tmp_path / "car.png"))
    rc, lines, err = run_ai(stack, "detect", [pic], rekognition_settings(aws, ai_retries="3"),
                            env=aws_env())
    assert rc == 2
    errors = [x["error"] for x in lines if "error" in x]
    assert errors and errors[0]["class"] == "auth"
    assert "InvalidSignatureException" in errors[0]["message"]
    reqs = standin_get(aws, "/_standin/requests")
    assert len(reqs) == 1 and not reqs[0]["sig_ok"]       # not retried
    assert SK not in "".join(map(str, lines)) + err        # no secret in output
    assert summary(lines)["cost"]["total_usd"] == 0        # a refused call is not billed


def test_rekognition_timeout_handling(stack, tmp_path):
    """Timeout per attempt (5 s in production, scaled to 300 ms) and 3 retries
    with backoff: 4 attempts, then a timeout error; nothing billed."""
    aws = aws_standin(stack)
    standin_config(aws, delay=1.5)
    pic = synthetic_plate(str(tmp_path / "car.png"))
    rc, lines, err = run_ai(stack, "detect", [pic], rekognition_settings(
        aws, ai_timeout="300ms", ai_retries="3", ai_retry_backoff="100ms"), env=aws_env())
    assert rc == 2
    errors = [x["error"] for x in lines if "error" in x]
    assert errors[0]["class"] == "timeout"
    assert "4 attempts" in errors[0]["message"]
    reqs = [r for r in standin_get(aws, "/_standin/requests") if r["op"] == "DetectLabels"]
    assert len(reqs) == 4
    # backoff: the gaps between attempts grow (100 ms, 200 ms, 400 ms +- 20 %,
    # each after a 300 ms timeout)
    gaps = [b["t"] - a["t"] for a, b in zip(reqs, reqs[1:])]
    assert gaps[0] < gaps[2]
    assert not results(lines)
    assert summary(lines)["cost"]["total_usd"] == 0


def test_rekognition_retries_server_errors_and_throttling(stack, tmp_path):
    aws = aws_standin(stack)
    standin_config(aws, fail=1, throttle=1)
    pic = synthetic_plate(str(tmp_path / "car.png"))
    rc, lines, err = run_ai(stack, "detect", [pic], rekognition_settings(
        aws, ai_retries="3", ai_retry_backoff="50ms"), env=aws_env())
    assert rc == 0, err
    reqs = [r["status"] for r in standin_get(aws, "/_standin/requests") if r["op"] == "DetectLabels"]
    assert reqs == [500, 400, 200]
    assert {r["label"] for r in results(lines)} >= {"Person", "Car"}
    cost = summary(lines)["cost"]["cameras"][0]["days"][0]
    assert cost["calls"]["DetectLabels"] == 1           # billed once: the success


def test_deepstack_provider(stack, tmp_path):
    ds = deepstack_standin(stack)
    pic = synthetic_plate(str(tmp_path / "car.png"))
    rc, lines, err = run_ai(stack, "detect", [pic], {
        "ai_provider": "deepstack", "ai_deepstack_url": ds.url, "ai_min_confidence": "0.4"})
    assert rc == 0, err
    reqs = standin_get(ds, "/_standin/requests")
    assert len(reqs) == 1
    assert reqs[0]["jpeg"] and reqs[0]["size"] == [640, 480]
    assert reqs[0]["min_confidence"] == "0.400"
    res = results(lines)
    for r in res:
        check_result(r, "deepstack", {"width": 640, "height": 480})
    assert sorted(r["label"] for r in res) == ["car", "person"]     # dog at 0.2 filtered
    car = [r for r in res if r["label"] == "car"][0]
    assert car["bbox"] == {"x": 320, "y": 288, "width": 256, "height": 144}
    assert car["attributes"]["color"] == "red"


def test_provider_interface_compliance(stack, tmp_path):
    """Every provider answers the same picture with the same result schema,
    in full-frame coordinates, and fails with a classified error."""
    aws = aws_standin(stack)
    ds = deepstack_standin(stack)
    pic = synthetic_plate(str(tmp_path / "car.png"))
    roi = '[{"x":100,"y":140,"width":440,"height":300}]'
    configs = {
        "rekognition": (rekognition_settings(aws, ai_rekognition_apis="labels,faces"), aws_env()),
        "deepstack": ({"ai_provider": "deepstack", "ai_deepstack_url": ds.url}, {}),
        "local": ({"ai_provider": "local"}, {}),
    }
    for name, (settings, env) in configs.items():
        full = dict(settings)
        rc, lines, err = run_ai(stack, "detect", [pic], full, env=env)
        assert rc == 0, (name, err)
        res = results(lines)
        assert res, name
        for r in res:
            check_result(r, name, {"width": 640, "height": 480})
        # with a region of interest the provider sees only the crop, and the
        # boxes still come back in full-frame pixels inside the region
        full["roi_areas"] = roi
        rc, lines, err = run_ai(stack, "detect", [pic], full, env=env)
        assert rc == 0, (name, err)
        for r in results(lines):
            check_result(r, name, {"width": 640, "height": 480})
            b = r["bbox"]
            if b is not None:
                cx, cy = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
                assert 100 <= cx <= 540 and 140 <= cy <= 440, (name, b)
    ds_reqs = standin_get(ds, "/_standin/requests")
    assert ds_reqs[-1]["size"] == [440, 300]          # the crop, not the frame

    # unreachable endpoints: a connect error after the retries
    dead = "http://127.0.0.1:9"
    for name, settings, env in (
            ("rekognition", {"ai_provider": "rekognition", "ai_rekognition_endpoint": dead}, aws_env()),
            ("deepstack", {"ai_provider": "deepstack", "ai_deepstack_url": dead}, {})):
        settings.update({"ai_retries": "2", "ai_retry_backoff": "10ms"})
        rc, lines, err = run_ai(stack, "detect", [pic], settings, env=env)
        assert rc == 2, name
        e = [x["error"] for x in lines if "error" in x][0]
        assert e["class"] == "connect" and "3 attempts" in e["message"], (name, e)

    # configuration errors name the key
    rc, _, err = run_ai(stack, "detect", [pic], {"ai_provider": "nonsense"})
    assert rc == 1 and 'key "ai_provider"' in err
    rc, _, err = run_ai(stack, "detect", [pic], {"ai_provider": "rekognition"},
                        env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
    assert rc == 1 and "AWS_ACCESS_KEY_ID" in err


def test_local_provider_finds_messis_face(stack):
    rc, lines, err = run_ai(stack, "detect", [MESSI], {"ai_provider": "local"})
    assert rc == 0, err
    faces = [r for r in results(lines) if r["kind"] == "face"]
    messi = {"x": 220, "y": 85, "width": 48, "height": 50}       # by eye, 548x342 picture
    assert any(overlap(f["bbox"], messi) > 0.6 for f in faces), faces
    assert len(faces) <= 2


def test_local_provider_reads_a_plate_and_the_vehicle_colour(stack, tmp_path):
    pic = synthetic_plate(str(tmp_path / "car.png"), "KX52 ABC")
    rc, lines, err = run_ai(stack, "detect", [pic], {"ai_provider": "local"})
    assert rc == 0, err
    plates = [r for r in results(lines) if r["label"] == "license_plate"]
    assert len(plates) == 1
    p = plates[0]
    assert overlap(p["bbox"], {"x": 220, "y": 300, "width": 200, "height": 52}) > 0.9
    assert p["attributes"]["plate_text"] == "KX52ABC"
    assert p["attributes"]["vehicle_color"] == "red"


def test_local_provider_reads_a_sharp_plate_at_a_slant(stack, tmp_path):
    """A plate of realistic size in a street scene, slanted, not blurred: the
    exact text must be read."""
    pic = sharp_plate_scene(str(tmp_path / "street.png"), "GR21 KTV")
    rc, lines, err = run_ai(stack, "detect", [pic], {"ai_provider": "local"})
    assert rc == 0, err
    plates = [r for r in results(lines) if r["label"] == "license_plate"]
    assert len(plates) == 1, plates
    assert overlap(plates[0]["bbox"], {"x": 645, "y": 420, "width": 150, "height": 35}) > 0.5
    assert plates[0]["attributes"]["plate_text"] == "GR21KTV"
    assert plates[0]["attributes"]["vehicle_color"] == "blue"


@pytest.mark.xfail(strict=True, reason="licenseplate_motion.jpg cannot be read: blur extent ~11 px (10-90 % "
                   "edge rise 9 px at the boot handle) against ~4 px strokes on a 16-19 px character "
                   "pitch, plus ~55 deg streaks; characters keep 22-81 of 255 levels of contrast and "
                   "merge with their neighbours. Wiener deconvolution (LEN 20-90, THETA 0-175) with "
                   "Tesseract psm 7/8/13 and an A-Z0-9 whitelist reads no plate-like text; the cascade "
                   "fires on the boot handle. See docs/ai.md 'Local provider: plates'")
def test_local_provider_plate_in_licenseplate_motion(stack):
    rc, lines, err = run_ai(stack, "detect", [PLATE_BLUR], {"ai_provider": "local"})
    assert rc == 0, err
    plate = {"x": 225, "y": 222, "width": 135, "height": 76}      # by eye, 600x482 picture
    plates = [r for r in results(lines) if r["label"] == "license_plate"]
    assert any(overlap(p["bbox"], plate) > 0.5 and len(p["attributes"].get("plate_text", "")) >= 4
               for p in plates), plates


# vtest.avi at 5 s: the man walking down on the right, by eye (768x576)
VTEST_WALKER = {"x": 665, "y": 258, "width": 50, "height": 112}


def test_local_provider_finds_pedestrians(stack, tmp_path):
    """HOG people detector on a still of vtest.avi (no motion box: the whole
    picture is searched)."""
    pic = vtest_still(str(tmp_path / "vtest.png"))
    rc, lines, err = run_ai(stack, "detect", [pic], {"ai_provider": "local"})
    assert rc == 0, err
    persons = [r for r in results(lines) if r["label"] == "person"]
    for r in persons:
        check_result(r, "local", {"width": 768, "height": 576})
        assert r["kind"] == "label" and r["attributes"]["method"] == "hog"
        assert r["confidence"] >= 0.9            # ai_local_person_confidence's default
    assert any(overlap(r["bbox"], VTEST_WALKER) > 0.5 for r in persons), persons
    # one box per person after suppression
    for i, a in enumerate(persons):
        assert all(overlap(a["bbox"], b["bbox"]) <= 0.6 for b in persons[i + 1:]), persons

    # the knobs: off, and a confidence nothing reaches
    for settings in ({"ai_local_persons": "off"}, {"ai_local_person_confidence": "1"}):
        rc, lines, err = run_ai(stack, "detect", [pic], {"ai_provider": "local", **settings})
        assert rc == 0, err
        assert not [r for r in results(lines) if r["label"] == "person"], settings


def test_local_provider_no_person_in_an_empty_scene(stack, tmp_path):
    """The lawn of the same vtest.avi frame (litter, no pedestrian) and a
    synthetic background: no person."""
    lawn = vtest_still(str(tmp_path / "lawn.png"), crop="400:260:0:310")
    bg = str(tmp_path / "bg.png")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "gradients=s=640x360:seed=7,noise=alls=12:allf=t", "-frames:v", "1", bg], check=True)
    for pic in (lawn, bg):
        rc, lines, err = run_ai(stack, "detect", [pic], {"ai_provider": "local"})
        assert rc == 0, err
        assert not [r for r in results(lines) if r["label"] == "person"], pic


def test_local_provider_persons_in_the_motion_box(stack, tmp_path):
    """Through the pipeline: motion analysis hands the moving region to the
    provider, which finds the walkers in it (boxes in frame coordinates)."""
    clip = str(tmp_path / "vtest.mp4")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-ss", "5", "-t", "2", "-i", VTEST,
                    "-c:v", "libx264", "-preset", "ultrafast", clip], check=True)
    rc, lines, err = run_ai(stack, "analyze", [clip], {"ai_provider": "local", "ai_interval": "1s",
                                                       "ai_local_faces": "off", "ai_local_plates": "off"},
                            args=["--fps", "4"])
    assert rc == 0, err
    persons = [r for r in results(lines) if r["label"] == "person"]
    assert persons, lines
    for r in persons:
        check_result(r, "local", {"width": 768, "height": 576})
    # every person is on the road or the path (below the buildings' line)
    assert all(r["bbox"]["y"] > 100 for r in persons), persons


def test_detection_false_positive_rate(stack):
    """Faces and plates reported on 24 opencv-doc pictures without a visible
    face or licence plate (measured: 1 face, on a shirt; no plate)."""
    pics = [os.path.join(DATA, f) for f in NO_FACES]
    faces = plates = 0
    for p in pics:
        # persons off: left01/left05 show one, and the empty-scene test covers them
        rc, lines, err = run_ai(stack, "detect", [p], {"ai_provider": "local", "ai_local_persons": "off"})
        assert rc == 0, err
        faces += len([r for r in results(lines) if r["kind"] == "face"])
        plates += len([r for r in results(lines) if r["label"] == "license_plate"])
    assert faces / len(pics) <= 0.1, f"{faces} false faces in {len(pics)} pictures"
    assert plates / len(pics) <= 0.05, f"{plates} false plates in {len(pics)} pictures"


def test_snapshot_of_the_picture_sent_without_s3(stack, tmp_path):
    """Providers without S3 keep the JPEG they were sent when ai_snapshot_dir
    is set, and the results point at it."""
    ds = deepstack_standin(stack)
    pic = synthetic_plate(str(tmp_path / "car.png"))
    snaps = tmp_path / "snaps"
    rc, lines, err = run_ai(stack, "detect", [pic], {
        "ai_provider": "deepstack", "ai_deepstack_url": ds.url, "ai_snapshot_dir": str(snaps)},
        args=["--camera", "yard"])
    assert rc == 0, err
    refs = {r["snapshot"] for r in results(lines)}
    assert len(refs) == 1
    ref = refs.pop()
    assert re.fullmatch(r"file://" + re.escape(str(snaps)) + r"/yard/\d{8}T\d{6}\.\d{3}Z\.jpg", ref)
    with open(ref[len("file://"):], "rb") as f:
        assert f.read(2) == b"\xff\xd8"
