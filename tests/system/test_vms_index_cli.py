"""vms-index, the recording index's command line (docs/index-format.md), as an operator uses it:
rebuild a camera's index from its files, list and check it, print the timeline and playlist
nginx would serve, mark the open segment; every misuse gets exit 2 and a line that says what is
wrong.  The timeline it prints is the one vms_playback answers for the same range (one index, two
readers that must agree)."""
import json
import os
import re
import subprocess

import pytest

import playback_fixtures as pf
import recindex as ri

from playback_fixtures import T0, ts


def run(stack, *args):
    r = subprocess.run([stack.bin("vms-index"), *args], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


@pytest.fixture
def cam(stack):
    """25 s from T0 in 10 s segments, with a 2 s hole (a new connection) at 12 s."""
    d = os.path.join(stack.path("recordings"), "cam1")
    pf.write_segments(d, T0, 25, seg_seconds=10, gaps=((12, 14),), workdir=stack.work)
    return d


def test_rebuild_list_and_check(stack, cam):
    rc, out, err = run(stack, "rebuild", cam)
    assert rc == 0, err
    assert out.strip() == f"vms-index: {cam}: 4 segments indexed, 0 unreadable, 0 names not matching"
    rc, out, _ = run(stack, "list", cam)
    rows = [ln.split() for ln in out.splitlines()]
    assert [r[0] for r in rows] == [ts(0), ts(10), ts(14), ts(24)]
    assert [int(r[1]) for r in rows] == [10, 2, 10, 1]                 # seconds each
    assert [("disc" in r) for r in rows] == [False, False, True, False]  # the hole: a new connection
    # a range lists the segments that overlap it
    rc, out, _ = run(stack, "list", cam, "--start", ts(11), "--end", ts(15))
    assert [ln.split()[0] for ln in out.splitlines()] == [ts(10), ts(14)]
    # --frags: a fragment per second, keyframes marked
    rc, out, _ = run(stack, "list", cam, "--frags")
    frags = [ln for ln in out.splitlines() if ln.strip().startswith("frag ")]
    assert len(frags) == 23 and all(ln.endswith(" key") for ln in frags)
    rc, out, _ = run(stack, "check", cam)
    assert rc == 0 and out.strip().endswith("files checked, ok")


def test_check_finds_a_corrupt_index_and_rebuild_mends_it(stack, cam):
    assert run(stack, "rebuild", cam)[0] == 0
    seg = os.path.join(cam, ".index", T0.strftime("%Y-%m-%d") + ".seg")
    with open(seg, "r+b") as f:
        f.seek(100)
        b = f.read(1)
        f.seek(100)
        f.write(bytes([b[0] ^ 0xFF]))
    rc, out, err = run(stack, "check", cam)
    assert rc == 1 and "CORRUPT" in out and f"{seg}: record 0: record checksum mismatch" in err
    rc, _, err = run(stack, "list", cam)
    assert rc == 1 and "checksum mismatch" in err
    # a file that is no MP4 is skipped and counted; the index is whole again
    junk = os.path.join(cam, pf.seg_name(T0).replace("1795478340", "1795478399"))
    with open(junk, "w") as f:
        f.write("not an mp4")
    rc, out, err = run(stack, "rebuild", cam)
    assert rc == 1 and "4 segments indexed, 1 unreadable" in out
    assert "no moov box" in err and junk in err
    assert run(stack, "check", cam)[0] == 0


def test_timeline_and_playlist_match_what_nginx_serves(stack, cam):
    assert run(stack, "rebuild", cam)[0] == 0
    rc, out, err = run(stack, "timeline", cam, "--start", ts(-60), "--end", ts(60))
    assert rc == 0, err
    cli = json.loads(out)
    ngx = pf.start_nginx(stack)
    served = ngx.get(f"/api/playback/cam1/timeline?start={ts(-60)}&end={ts(60)}",
                     headers={"Authorization": f"Bearer {ngx.token(camera_id='cam1')}"}).json()
    assert cli["spans"] == served["spans"] and cli["gaps"] == served["gaps"]
    assert [s["duration"] for s in cli["spans"]] == [12, 11]
    rc, out, _ = run(stack, "playlist", cam, "--start", ts(0), "--end", ts(25), "--prefix", "https://x/media/")
    assert rc == 0 and out.startswith("#EXTM3U\n")
    assert out.count("#EXTINF:") == 4 and out.count("#EXT-X-DISCONTINUITY") == 1
    uris = [ln for ln in out.splitlines() if ln and not ln.startswith("#")]
    assert all(u.startswith("https://x/media/2026/11/23/23/segment_") for u in uris), uris
    assert "#EXT-X-ENDLIST" in out


def test_open_marks_and_clears_the_segment_being_written(stack, cam):
    assert run(stack, "rebuild", cam)[0] == 0
    last = pf.seg_name(T0).replace("1795478340", "1795478364")
    assert run(stack, "open", cam, last)[0] == 0
    rec = ri.open_segment(cam)
    assert rec is not None and rec["path"] == last
    assert run(stack, "open", cam, "--clear")[0] == 0
    assert ri.open_segment(cam) is None


@pytest.mark.parametrize("args,says", [
    ((), r"^usage: vms-index rebuild"),
    (("frob", "/x"), r"^usage: vms-index rebuild"),
    (("timeline", "{cam}"), r"timeline needs --start and --end"),
    (("timeline", "{cam}", "--start", "nope", "--end", "2026-11-25T00:00:00Z"), r"bad option or value: --start nope"),
    (("playlist", "{cam}", "--start", "2026-11-25T00:00:00Z", "--end", "2026-11-24T00:00:00Z"), r"needs --start and --end \(end after start\)"),
    (("open", "{cam}"), r"^usage: "),
])
def test_misuse_is_exit_2_with_a_reason(stack, cam, args, says):
    rc, out, err = run(stack, *[a.replace("{cam}", cam) for a in args])
    assert rc == 2, (args, rc, out, err)
    assert re.search(says, err, re.M), err


def test_a_camera_without_an_index_says_how_to_make_one(stack, cam):
    rc, _, err = run(stack, "list", cam)
    assert rc == 1 and f"run vms-index rebuild {cam}" in err


def test_bench_prints_its_figures(stack, cam):
    assert run(stack, "rebuild", cam)[0] == 0
    rc, out, err = run(stack, "bench", cam, "--start", ts(-60), "--end", ts(60))
    assert rc == 0, err
    figures = json.loads(out)
    assert figures["segments"] == 4 and figures["playlist_entries"] == 4
    assert all(figures[k] > 0 for k in ("playlist_24h_us", "list_30d_us", "walk_stat_us"))
