"""The AI pipeline inside vmsd: camsim cameras (a real surveillance clip and a
static scene) -> keyframes -> motion trigger -> provider stand-ins ->
DetectionResults in Kafka vms.detections and PostgreSQL, costs in
/api/analytics/ai-cost, /metrics and ai_costs, the daily budget."""
import datetime
import json
import os
import subprocess

import psycopg
import pytest

import vmsstack
from aitest import VTEST, aws_env, aws_standin, deepstack_standin, standin_get
from vmsdtest import Events, conf_text, log_lines, metric, wait


def static_clip(path, seconds=30):
    """A still scene with sensor noise and light slowly fading (no motion)."""
    frame = path + ".png"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", VTEST, "-frames:v", "1", frame], check=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-loop", "1", "-i", frame, "-t", str(seconds),
                    "-r", "10", "-vf", f"noise=alls=10:allf=t,eq=brightness='-0.15*t/{seconds}':eval=frame,"
                    "format=yuv420p", "-c:v", "libx264", "-g", "10", "-preset", "veryfast", path], check=True)
    return path


def utc_day():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def ai_conf(**kw):
    c = {"ai_enabled": "on"}
    c.update(kw)
    return c


def test_motion_trigger_detections_to_kafka_and_postgres(stack, tmp_path):
    pg = stack.postgres()
    k = stack.kafka()
    ds = deepstack_standin(stack)
    still = static_clip(str(tmp_path / "still.mp4"))
    cams = stack.camsim(cameras=0, args=["--camera", f"walk:file={VTEST},gop=10",
                                         "--camera", f"still:file={still},gop=10"])
    common = ai_conf(ai_provider="deepstack", ai_deepstack_url=ds.url, ai_interval="3s")
    v = stack.vmsd(text=conf_text(cams, ["walk", "still"], kafka=k, pg=pg,
                                  camera_extra={"walk": common, "still": common}))
    consumer = stack.detections_consumer(pg, k)

    def enough():
        return (metric(v, "vms_ai_frames_analysed_total", camera_id="still") >= 25
                and metric(v, "vms_ai_frames_analysed_total", camera_id="walk") >= 25)
    wait("25 analysed keyframes per camera", enough, 180, v)

    def m(name, cam, **lab):
        return metric(v, name, camera_id=cam, **lab)
    still_an = m("vms_ai_frames_analysed_total", "still")
    still_quiet = m("vms_ai_frames_skipped_total", "still", reason="no_motion") \
        + m("vms_ai_frames_skipped_total", "still", reason="first")
    assert still_quiet / still_an >= 0.9, (still_quiet, still_an)
    assert m("vms_ai_frames_sent_total", "still") <= 0.1 * still_an

    walk_an = m("vms_ai_frames_analysed_total", "walk")
    walk_quiet = m("vms_ai_frames_skipped_total", "walk", reason="no_motion") \
        + m("vms_ai_frames_skipped_total", "walk", reason="first")
    # people walk through the whole clip: motion on most keyframes, and the
    # provider called at most every ai_interval (3 s of frame time)
    assert (walk_an - walk_quiet) / walk_an >= 0.6, (walk_quiet, walk_an)
    assert m("vms_ai_frames_skipped_total", "walk", reason="interval") > 0
    assert m("vms_ai_frames_sent_total", "walk") >= 2

    v.stop()            # flushes Kafka
    calls = standin_get(ds, "/_standin/requests")
    assert calls and all(c["jpeg"] and c["size"] == [768, 576] for c in calls)

    def stored():
        with psycopg.connect(pg.url) as conn:
            return conn.execute("SELECT id, camera_id FROM detection_results").fetchall()
    det = Events(k.bootstrap, "vms.detections")
    try:
        # vms-detections-consumer stores what vmsd produced, each detection once
        wait("the detections of Kafka in PostgreSQL",
             lambda: det.poll() and {e["id"] for e in det.poll()} == {r[0] for r in stored()}, 60, consumer)
        msgs = det.poll()
    finally:
        det.close()
    rows = stored()
    assert {r[1] for r in rows} == {"walk"} and len(rows) == len({e["id"] for e in msgs})
    walk = [e for e in msgs if e["camera_id"] == "walk"]
    assert len(walk) == len(msgs)
    # person + car per answered call; a call cut short by the stop itself
    # reached the stand-in but produced nothing
    per_call = {}
    for e in walk:
        per_call.setdefault(e["trace_id"], set()).add(e["label"])
    assert all(labels == {"car", "person"} for labels in per_call.values())
    assert len(per_call) in (len(calls), len(calls) - 1)
    assert all(e["_key"] == "walk" for e in walk)
    assert all(e["provider"] == "deepstack" and e["frame"] == {"width": 768, "height": 576} for e in walk)


def test_cost_tracking_accuracy(stack):
    """Priced calls match the calls the stand-in answered, everywhere they
    are reported; the daily budget stops calls and emits ai.budget_exceeded."""
    pg = stack.postgres()
    k = stack.kafka()
    aws = aws_standin(stack)
    cams = stack.camsim(cameras=0, args=["--camera", f"walk:file={VTEST},gop=10"])
    # per sent frame: DetectLabels 0.002 (configured) + DetectFaces 0.001
    # (default) + PutObject 0.000005 = 0.003005; the budget allows 3 frames
    conf = ai_conf(ai_provider="rekognition", ai_rekognition_endpoint=aws.url, ai_s3_endpoint=aws.url,
                   ai_rekognition_apis="labels,faces", ai_interval="1s",
                   ai_price="DetectLabels:0.002", ai_budget_usd_per_day="0.0075")
    # vmsd reads the AWS credentials from its environment (the stack copies ours)
    old = {key: os.environ.get(key) for key in aws_env()}
    os.environ.update(aws_env())
    first_day = utc_day()
    try:
        v = stack.vmsd(text=conf_text(cams, ["walk"], kafka=k, pg=pg, camera_extra={"walk": conf}))
    finally:
        for key, val in old.items():
            if val is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = val
    wait("the budget to stop calls",
         lambda: metric(v, "vms_ai_frames_skipped_total", camera_id="walk", reason="budget") >= 2, 180, v)
    # The budget and the report are per UTC day (vmsd's clock): every call fell on the day the
    # test started unless it ran across midnight, where the budget starts afresh and no count holds.
    today = utc_day()
    if today != first_day:
        pytest.skip(f"ran across UTC midnight ({first_day} to {today}): the daily budget restarted")

    reqs = standin_get(aws, "/_standin/requests")
    assert all(r["sig_ok"] for r in reqs)
    answered = {}
    for r in reqs:
        if r["status"] == 200:
            answered[r["op"]] = answered.get(r["op"], 0) + 1
    assert answered == {"DetectLabels": 3, "DetectFaces": 3, "PutObject": 3}

    status, body = vmsstack.http_get(v.api + "/api/analytics/ai-cost?camera_id=walk", headers=v.auth)
    assert status == 200
    cost = json.loads(body)
    days = cost["cameras"][0]["days"]
    assert cost["cameras"][0]["camera_id"] == "walk" and [d["date"] for d in days] == [today]
    assert days[0]["calls"] == answered
    assert abs(days[0]["cost_usd"] - 0.009015) < 1e-9
    assert abs(cost["total_usd"] - 0.009015) < 1e-9

    assert metric(v, "vms_rekognition_calls", camera_id="walk", api="DetectLabels") == 3
    assert metric(v, "vms_rekognition_calls", camera_id="walk", api="DetectFaces") == 3
    assert abs(metric(v, "vms_rekognition_cost_usd", camera_id="walk") - 0.009015) < 1e-6

    for bad in ("camera_id=../x", "from=yesterday"):
        status, body = vmsstack.http_get(v.api + "/api/analytics/ai-cost?" + bad, headers=v.auth)
        assert status == 400 and "error" in json.loads(body)

    v.stop()
    with psycopg.connect(pg.url) as conn:
        rows = conn.execute("SELECT api, calls, cost_usd::float8, day::text FROM ai_costs "
                            "WHERE camera_id = 'walk' ORDER BY api").fetchall()
    assert {r[0]: r[1] for r in rows} == answered
    assert abs(sum(r[2] for r in rows) - 0.009015) < 1e-9
    assert {r[3] for r in rows} == {today}

    ev = Events(k.bootstrap, "vms.detections")
    try:
        wait("ai.budget_exceeded in Kafka", lambda: ev.of("ai.budget_exceeded"), 30)
        events = ev.of("ai.budget_exceeded")
    finally:
        ev.close()
    assert len(events) == 1
    assert events[0]["camera_id"] == "walk" and events[0]["budget_usd"] == 0.0075
    assert events[0]["spent_usd"] >= 0.0075


def test_roi_outside_the_frame_is_a_clear_error_and_recording_goes_on(stack):
    cams = stack.camsim(cameras=0, args=["--camera", f"walk:file={VTEST},gop=10"])
    conf = ai_conf(ai_provider="local", roi_areas='[{"x":700,"y":500,"width":200,"height":100}]')
    v = stack.vmsd(text=conf_text(cams, ["walk"], camera_extra={"walk": conf}))
    wait("roi error", lambda: metric(v, "vms_ai_frames_skipped_total", camera_id="walk",
                                     reason="roi_invalid") >= 2, 120, v)
    errs = [line for line in log_lines(v) if line.get("level") == "error" and "roi_areas" in line.get("message", "")]
    assert len(errs) == 1, errs        # once, not once per frame
    assert "roi_areas[0]" in errs[0]["message"] and "768x576" in errs[0]["message"]
    assert metric(v, "vms_ai_frames_analysed_total", camera_id="walk") == 0


def test_bad_analysis_keys_name_file_line_and_key(stack):
    cams = stack.camsim(cameras=0, args=["--camera", f"walk:file={VTEST},gop=10"])
    text = conf_text(cams, ["walk"], camera_extra={"walk": {
        "ai_enabled": "on", "motion_threshold": "3%", "roi_areas": '[{"x":1}]', "ai_colour": "red"}})
    conf = os.path.join(stack.path("badconf"), "vmsd.conf")
    with open(conf, "w") as f:
        f.write(text.replace("@API_PORT@", "1").replace("@RECORDINGS@", stack.path("rec"))
                .replace("@STATE@", stack.path("state")))
    r = subprocess.run([stack.bin("vmsd"), "-t", "-c", conf], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert 'key "motion_threshold": expected a number' in r.stderr
    assert 'key "roi_areas": roi_areas[0]: "y" must be an integer' in r.stderr
    assert 'key "ai_colour": unknown analysis key' in r.stderr
