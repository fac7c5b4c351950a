"""Per-node storage (docs/scale-out.md, "Per-node storage"): each node keeps its own recordings and
serves them from its nginx (http.d/playback_node.conf.in); the front nginx checks every request as
on one node (vms_auth, vms_limit, vms_playback's parse) and vms-playback-router merges what the
nodes hold: one playlist, one timeline, one /list; a clip or /get comes from the node that holds it.

The recordings are fixture files (playback_fixtures) split between two node trees the way a camera
that moved twice leaves them: node-a holds [0 s, 60 s) and [100 s, 120 s), node-b [70 s, 90 s).
What a user checks: the playlist plays across the nodes in time order with a discontinuity at each
move, each media request reaches the node that holds the file, clips and /get come whole from one
node, the timeline and /list show all of it, a node that is down is named and its part left out,
and the caller's token never reaches a node."""
import json
import os
import re
import signal
import subprocess
import urllib.parse

import pytest
import requests

import playback_fixtures as pf
import vmsstack
from playback_fixtures import no_sanitizer_reports, ts  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("no_sanitizer_reports")   # ASan build: nginx and the router

FPS = pf.FPS
HOLDS = {"node-a": [(0, 60), (100, 120)], "node-b": [(70, 90)]}


@pytest.fixture
def fleet(stack):
    nodes, dirs = {}, {}
    for name, spans in HOLDS.items():
        rec = stack.path(f"rec-{name}")
        cam = os.path.join(rec, "cam1")
        held = sorted(s for a, b in spans for s in range(a, b))
        gaps = [(s, s + 1) for s in range(120) if s not in held]
        pf.write_segments(cam, pf.T0, 120, seg_seconds=10, gaps=gaps, workdir=stack.work)
        pf.rebuild(stack.bin("vms-index"), cam)
        nodes[name] = stack.nginx(name=f"nginx-{name}", vars={
            "RECORDINGS": rec, "PLAYBACK_NODE_LISTEN": f"127.0.0.1:{vmsstack.free_port()}",
            "REDIS_ADDR": "127.0.0.1:9", "KAFKA_BROKERS": "127.0.0.1:9"})
        dirs[name] = cam
    router = stack.playback_router({n: nodes[n].vars["PLAYBACK_NODE_LISTEN"] for n in nodes},
                                   args=("--timeout", "2s"))
    front = pf.start_nginx(stack, router.front_vars)
    front.nodes, front.dirs, front.router = nodes, dirs, router
    return front


def media_lines(text):
    lines = text.splitlines()
    return [(lines[i - 1], line) for i, line in enumerate(lines) if line.startswith("cam1/media/")]


def node_of(uri):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(uri).query)["node"][0]


def test_one_playlist_across_the_nodes(fleet):
    url = fleet.url(f"/api/playback/cam1?start={ts(5)}&end={ts(115)}&jwt={fleet.tok}")
    r = requests.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    assert "X-VMS-Playback-Missing" not in r.headers
    text = r.text
    assert text.startswith("#EXTM3U\n#EXT-X-VERSION:7\n") and text.rstrip().endswith("#EXT-X-ENDLIST")
    lines = text.splitlines()
    # in time order: node-a, node-b, node-a again, a discontinuity at each move
    pdts = [line.split(":", 1)[1] for line in lines if line.startswith("#EXT-X-PROGRAM-DATE-TIME:")]
    assert pdts == sorted(pdts) and pdts[0] == ts(5), pdts
    order = [node_of(uri) for _, uri in media_lines(text)]
    runs = [n for i, n in enumerate(order) if i == 0 or order[i - 1] != n]
    assert runs == ["node-a", "node-b", "node-a"], order
    assert lines.count("#EXT-X-DISCONTINUITY") == 2
    assert sum(float(x) for x in re.findall(r"#EXTINF:([\d.]+),", text)) == pytest.approx(55 + 20 + 15)
    # every media and init URI names its node and carries the token and the player session
    sess = re.search(r"vms_session=([^&\"\s]+)", text).group(1)
    for _, uri in media_lines(text):
        assert uri.endswith(f"&jwt={fleet.tok}&vms_session={sess}"), uri
    maps = re.findall(r'#EXT-X-MAP:URI="([^"]+)"', text)
    assert len(maps) >= 3 and all(f"&jwt={fleet.tok}&vms_session={sess}" in m for m in maps)
    # each byte range, fetched through the front, is that node's file (decode times aside)
    for i, line in enumerate(lines):
        if not line.startswith("#EXT-X-BYTERANGE:"):
            continue
        n, o = map(int, line.split(":")[1].split("@"))
        uri = lines[i + 1]
        got = requests.get(fleet.url("/api/playback/" + uri), headers={"Range": f"bytes={o}-{o + n - 1}"})
        assert got.status_code == 206 and len(got.content) == n, (uri, got.status_code, got.text[:200])
        path = urllib.parse.urlsplit(uri).path.split("media/", 1)[1]
        with open(os.path.join(fleet.dirs[node_of(uri)], path), "rb") as f:
            data = f.read()
        moofs = [(off, off + size) for typ, off, size in pf.boxes(data) if typ == "moof"]
        assert all(any(a <= o + k < b for a, b in moofs) for k in range(n) if got.content[k] != data[o + k])
    # a player plays all of it: 90 s of frames from two nodes
    r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", url, "-map", "0:v:0", "-f", "null", "-",
                        "-progress", "pipe:1"], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    frames = int(re.findall(r"^frame=(\d+)", r.stdout, re.M)[-1])
    assert abs(frames - 90 * FPS) <= 12, frames
    # the caller's token went to no node: nodes see only s= and t= on media requests
    for name in fleet.nodes:
        with open(os.path.join(fleet.nodes[name].prefix, "logs", "access.log")) as f:
            log = f.read()
        # (the log redacts credentials to jwt=[redacted]: the names would show)
        assert '"path":"/api/playback/cam1/media/' in log and fleet.tok not in log, name
        assert "jwt=" not in log and "vms_session" not in log, name


def test_timeline_and_list_merge_the_nodes(fleet):
    tl = fleet.get(f"/api/playback/cam1/timeline?start={ts(0)}&end={ts(120)}")
    assert tl.status_code == 200, tl.text
    body = tl.json()
    assert body["camera_id"] == "cam1" and (body["start"], body["end"]) == (ts(0), ts(120))
    assert [(s["start"], s["end"]) for s in body["spans"]] == [(ts(0), ts(60)), (ts(70), ts(90)),
                                                               (ts(100), ts(120))]
    assert [(g["start"], g["end"]) for g in body["gaps"]] == [(ts(60), ts(70)), (ts(90), ts(100))]

    lst = fleet.get(f"/list?path=cam1&start={ts(0)}")
    assert lst.status_code == 200, lst.text
    entries = lst.json()
    assert [(e["start"], e["duration"]) for e in entries] == [(ts(0), 60), (ts(70), 20), (ts(100), 20)]
    # each entry's url is a /get on the front that answers that recording
    for e in entries:
        u = urllib.parse.urlsplit(e["url"])
        assert f"{u.scheme}://{u.netloc}" == fleet.url("").rstrip("/") and u.path == "/get", e
        g = fleet.get(f"/get?{u.query}")
        assert g.status_code == 200 and g.content[4:8] == b"ftyp", (e, g.status_code, g.text[:200])

    # nothing recorded in the range on any node: the module's own 404, as on one node
    none = fleet.get(f"/list?path=cam1&start={ts(60.5)}&end={ts(69)}")
    assert none.status_code == 404 and none.json()["error"] == "no recording segments found", none.text
    # a bad argument: the module's own 400
    bad = fleet.get("/api/playback/cam1/timeline?start=yesterday&end=" + ts(10))
    assert bad.status_code == 400 and bad.json()["status"] == "error", bad.text


def clip_seconds(data, tmp):
    with open(tmp, "wb") as f:
        f.write(data)
    r = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", tmp],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return float(r.stdout)


def served_get(fleet, node, start):
    """node's nginx answered a /get starting at ts(start) (the router's /list asks are not /get)"""
    with open(os.path.join(fleet.nodes[node].prefix, "logs", "access.log")) as f:
        return any(e["path"] == "/get" and e["status"] == 200
                   and urllib.parse.parse_qs(e["args"])["start"] == [ts(start)]
                   for e in map(json.loads, f))


def test_clips_come_from_the_node_that_holds_them(fleet, tmp_path):
    # /get inside node-b's part, then inside node-a's: whole clips, each from its node
    for start, node in ((75, "node-b"), (10, "node-a"), (105, "node-a")):
        g = fleet.get(f"/get?path=cam1&start={urllib.parse.quote(ts(start))}&duration=5&format=mp4")
        assert g.status_code == 200, g.text
        assert clip_seconds(g.content, tmp_path / "c.mp4") == pytest.approx(5, abs=0.1)
        assert served_get(fleet, node, start) and not served_get(fleet, ({"node-a", "node-b"} - {node}).pop(), start)
    # a range across a move stops at the move, as a clip stops at any gap
    c = fleet.get(f"/api/playback/cam1?start={ts(50)}&end={ts(80)}&format=mp4")
    assert c.status_code == 200, c.text
    assert clip_seconds(c.content, tmp_path / "d.mp4") == pytest.approx(10, abs=0.1)
    assert c.headers["X-VMS-Clip-Start"] == ts(50)
    # before every recording on every node: the module's 404
    g = fleet.get(f"/get?path=cam1&start={urllib.parse.quote(ts(-600))}&duration=5")
    assert g.status_code == 404, g.text


def test_checks_stay_at_the_front(fleet):
    # no token, a token without playback: refused at the front, no node asked
    assert requests.get(fleet.url(f"/api/playback/cam1?start={ts(0)}&end={ts(10)}")).status_code == 401
    other = fleet.token(permissions=["live"])
    r = requests.get(fleet.url(f"/api/playback/cam1?start={ts(0)}&end={ts(10)}&jwt={other}"))
    assert r.status_code == 403, r.text
    # a media URI naming no node of the fleet: 400; naming the wrong node: that node's 404
    text = requests.get(fleet.url(f"/api/playback/cam1?start={ts(75)}&end={ts(80)}&jwt={fleet.tok}")).text
    uri = next(u for _, u in media_lines(text))
    bad = fleet.get("/api/playback/" + uri.replace("node=node-b", "node=node-x"))
    assert bad.status_code == 400 and bad.json()["error"] == "node: not a playback node", bad.text
    wrong = fleet.get("/api/playback/" + uri.replace("node=node-b", "node=node-a"))
    assert wrong.status_code == 404, wrong.text
    # the router is not reachable without the front's headers
    raw = requests.get(f"http://{fleet.router.addr}/api/playback/cam1?start={ts(0)}")
    assert raw.status_code == 400 and "X-VMS-Args" in raw.json()["error"]


def test_a_node_down_is_named_and_its_part_left_out(fleet):
    # a node that hangs (its nginx master and workers stopped): left out after --timeout, named
    os.killpg(fleet.nodes["node-b"].pid, signal.SIGSTOP)
    try:
        r = fleet.get(f"/api/playback/cam1/timeline?start={ts(0)}&end={ts(120)}")
        assert r.status_code == 200 and r.headers["X-VMS-Playback-Missing"] == "node-b", r.text
        assert len(r.json()["spans"]) == 2
        assert "node node-b: /api/playback/cam1/timeline: " in fleet.router.output()
    finally:
        os.killpg(fleet.nodes["node-b"].pid, signal.SIGCONT)
    # a node whose nginx is gone
    fleet.nodes["node-b"].stop()
    r = fleet.get(f"/api/playback/cam1?start={ts(5)}&end={ts(115)}")
    assert r.status_code == 200, r.text
    assert r.headers["X-VMS-Playback-Missing"] == "node-b"
    assert {node_of(u) for _, u in media_lines(r.text)} == {"node-a"}
    assert r.text.splitlines().count("#EXT-X-DISCONTINUITY") == 1
    tl = fleet.get(f"/api/playback/cam1/timeline?start={ts(0)}&end={ts(120)}")
    assert tl.headers["X-VMS-Playback-Missing"] == "node-b" and len(tl.json()["spans"]) == 2
    fleet.nodes["node-a"].stop()
    r = fleet.get(f"/api/playback/cam1?start={ts(5)}&end={ts(115)}")
    assert r.status_code == 503, r.text
    assert r.json() == {"status": "error", "error": "playback nodes unavailable: node-a,node-b"}
    assert r.headers["X-VMS-Playback-Missing"] == "node-a,node-b"
    g = fleet.get(f"/get?path=cam1&start={urllib.parse.quote(ts(10))}&duration=5")
    assert g.status_code == 503, g.text
    assert "node node-a: " in fleet.router.output()   # logged once per node per 10 s
