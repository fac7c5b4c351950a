"""Retention (issue #3): segments deleted by age per camera and under disk pressure, oldest first
across cameras; never the segment being written; the index stays consistent and empty
directories go.

Fixture segments are real fragmented MP4 files (made by ffmpeg) placed where the path template
puts them, with old start times in their names; vmsd's start-up reconciliation indexes them (they
carry no start tag, so their names date them). Retention runs every second (scaled from a minute).
"""
import datetime
import os
import re
import shutil
import subprocess
import time

import pytest

import recindex as ri
import vmsstack

DAY = 86400


def make_mp4(path, seconds=2, bitrate="200k"):
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=25", "-t", str(seconds), "-c:v", "libx264",
                    "-preset", "ultrafast", "-g", "25", "-b:v", bitrate, "-f", "mp4", "-movflags",
                    "+frag_keyframe+empty_moov+default_base_moof", path], check=True, timeout=60)


def fixture_segment(root, camera, start_s, template_src):
    """Copies template_src to where the default template puts a segment starting at start_s."""
    t = datetime.datetime.fromtimestamp(start_s, datetime.timezone.utc)
    rel = f"{t:%Y/%m/%d/%H}/segment_{int(start_s)}.mp4"
    dst = os.path.join(root, camera, rel)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(template_src, dst)
    return rel


def conf(cameras, extra=""):
    text = """
[vmsd]
listen = 127.0.0.1:@API_PORT@
recordings = @RECORDINGS@
log_level = debug
retention_interval = 1s
frozen_timeout = 1h
watchdog_interval = 1h
still_timeout = 1h
""" + extra
    for cam_id, url, days, record in cameras:
        text += f"""
[camera {cam_id}]
url = {url}
retention_days = {days}
record = {"yes" if record else "no"}
segment_duration = 2s
"""
    return text


def metric(vmsd, name, **labels):
    body = vmsstack.http_get(vmsd.api + "/metrics", headers=vmsd.auth)[1].decode()
    total = None
    for line in body.splitlines():
        m = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line)
        if m and all(f'{k}="{v}"' in m.group(1) for k, v in labels.items()):
            total = (total or 0) + float(m.group(2))
    return total


def index_paths(root, camera):
    return {s["path"] for s in ri.segments(os.path.join(root, camera))}


def test_retention_by_age_per_camera(stack, tmp_path):
    root = stack.path("recordings")
    src = str(tmp_path / "src.mp4")
    make_mp4(src)
    now = time.time()
    cam = stack.camsim(cameras=2)
    fx = {
        # cam1 keeps 7 days, cam2 keeps 30
        ("cam1", "old"): [fixture_segment(root, "cam1", now - 10 * DAY, src),
                          fixture_segment(root, "cam1", now - 10 * DAY + 2, src),
                          fixture_segment(root, "cam1", now - 8 * DAY, src)],
        ("cam1", "young"): [fixture_segment(root, "cam1", now - 3 * DAY, src),
                            fixture_segment(root, "cam1", now - 3 * DAY + 2, src)],
        ("cam2", "old"): [fixture_segment(root, "cam2", now - 40 * DAY, src)],
        ("cam2", "young"): [fixture_segment(root, "cam2", now - 10 * DAY, src)],
    }
    vmsd = stack.vmsd(text=conf([("cam1", cam.url("cam1"), 7, True),
                                 ("cam2", cam.url("cam2"), 30, False)]))

    def aged_out():
        return not any(os.path.exists(os.path.join(root, c, p))
                       for (c, age), ps in fx.items() if age == "old" for p in ps)
    vmsstack.wait_for("aged segments deleted", aged_out, 30, vmsd.proc, vmsd.log)

    for (c, age), ps in fx.items():
        idx = index_paths(root, c)
        for p in ps:
            exists = os.path.exists(os.path.join(root, c, p))
            if age == "old":
                assert p not in idx, f"{c}/{p} still indexed"
                # its now empty day directory went with it
                assert not os.path.exists(os.path.dirname(os.path.dirname(os.path.join(root, c, p))))
            else:
                assert exists and p in idx, f"{c}/{p} (within retention) must stay"

    # live recording is untouched: segments keep being written and indexed
    def live():
        segs = [s for s in ri.segments(os.path.join(root, "cam1")) if s["start_us"] > (now - 60) * 1e6]
        return len(segs) >= 2 and segs
    vmsstack.wait_for("live segments", live, 30, vmsd.proc, vmsd.log)
    op = ri.open_segment(os.path.join(root, "cam1"))
    assert op is not None and os.path.exists(os.path.join(root, "cam1", op["path"]))

    assert metric(vmsd, "vms_retention_deleted_total", camera_id="cam1", reason="age") == 3
    assert metric(vmsd, "vms_retention_deleted_total", camera_id="cam2", reason="age") == 1
    # cam2 does not record: what it stores is exactly its one fixture within retention
    vmsstack.wait_for("vms_storage_bytes of cam2",
                      lambda: metric(vmsd, "vms_storage_bytes", camera_id="cam2") == os.path.getsize(src),
                      10, vmsd.proc, vmsd.log)
    assert metric(vmsd, "vms_storage_bytes", camera_id="cam1") > 2 * os.path.getsize(src)


def test_disk_floor_deletes_all_but_the_open_segment(stack, tmp_path):
    """A free-space floor above what the disk has: every closed segment goes, oldest first,
    the one being written never does."""
    root = stack.path("recordings")
    src = str(tmp_path / "src.mp4")
    make_mp4(src)
    now = time.time()
    old = [fixture_segment(root, "cam1", now - 3600 - 10 * i, src) for i in range(3)]
    cam = stack.camsim(cameras=1)
    vmsd = stack.vmsd(text=conf([("cam1", cam.url("cam1"), 30, True)],
                                extra="disk_min_free = 999999999999999999\n"))
    d = os.path.join(root, "cam1")

    def fixtures_gone():
        return not any(os.path.exists(os.path.join(d, p)) for p in old)
    vmsstack.wait_for("fixture segments deleted under pressure", fixtures_gone, 30, vmsd.proc, vmsd.log)

    # recording goes on; closed segments are deleted as they close, the open one stays
    def cycled():
        return (metric(vmsd, "vms_retention_deleted_total", camera_id="cam1", reason="disk") or 0) >= 6
    vmsstack.wait_for("live segments deleted under pressure", cycled, 60, vmsd.proc, vmsd.log)
    op = vmsstack.wait_for("the open segment", lambda: ri.open_segment(d), 10, vmsd.proc, vmsd.log)
    assert os.path.exists(os.path.join(d, op["path"]))
    for s in ri.segments(d):
        assert os.path.exists(os.path.join(d, s["path"])), "index and files agree"
    assert metric(vmsd, "vms_retention_deleted_total", camera_id="cam1", reason="age") is None
    with open(vmsd.log) as f:
        assert re.search(r"retention: cheap pass: 0 segments by age, [1-9]\d* by disk pressure", f.read())


@pytest.fixture
def small_fs(stack):
    """A 16 MiB tmpfs as the recordings root (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    root = stack.path("recordings")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", root],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount tmpfs: {r.stderr.strip()}")
    yield root
    stack.stop()
    subprocess.run(["umount", "-l", root], check=False)


def test_disk_percentage_oldest_first_across_cameras(stack, tmp_path, small_fs):
    """Above max used percent on a 16 MiB filesystem: exactly the oldest segments across both
    cameras go until usage is under the limit."""
    root = small_fs
    src = str(tmp_path / "big.mp4")
    make_mp4(src, seconds=4, bitrate="2M")
    size = os.path.getsize(src)
    assert 0.7e6 < size < 1.3e6, size
    now = time.time()
    # six segments, cameras interleaved in time: c1 c2 c1 c2 c1 c2 (oldest first)
    order = [("cam1" if i % 2 == 0 else "cam2", now - 7200 + 60 * i) for i in range(6)]
    rels = [(c, fixture_segment(root, c, t, src)) for c, t in order]
    st = os.statvfs(root)
    total = (st.f_blocks - st.f_bfree + st.f_bavail) * st.f_frsize
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    # a limit that needs a bit more than two segments freed: the three oldest must go
    pct = int((used - 2.5 * size) * 100 / total)
    bogus = "rtsp://127.0.0.1:9/none"   # not recording: only the fixtures are on this disk
    vmsd = stack.vmsd(text=conf([("cam1", bogus, 0, False), ("cam2", bogus, 0, False)],
                                extra=f"disk_max_used_percent = {pct}\n"))

    def settled():
        return sum(os.path.exists(os.path.join(root, c, p)) for c, p in rels) <= 3
    vmsstack.wait_for("oldest segments deleted", settled, 30, vmsd.proc, vmsd.log)
    present = [os.path.exists(os.path.join(root, c, p)) for c, p in rels]
    assert present == [False, False, False, True, True, True], present
    for c in ("cam1", "cam2"):
        assert index_paths(root, c) == {p for (cc, p), ok in zip(rels, present) if cc == c and ok}
    st = os.statvfs(root)
    used_now = (st.f_blocks - st.f_bfree) * st.f_frsize
    assert used_now * 100 <= pct * total
