"""/list and /get driven with MediaMTX v1.20's own request shapes (issue #11), asserting what
MediaMTX's playback server (internal/playback/on_list.go, on_get.go, server.go, and
internal/protocols/httpp/handler_origin.go) answers: empty arguments mean absent, Go durations,
path names with dots, its error bodies and statuses, its CORS headers and preflight."""
import os
import subprocess

import pytest
import requests

import playback_fixtures as pf

from playback_fixtures import T0, no_sanitizer_reports, ts  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("no_sanitizer_reports")


@pytest.fixture
def mtx(stack):
    """cam1: 60 s from T0 in 10 s files; site.a/cam7 (a MediaMTX path name with a dot): 20 s."""
    rec = stack.path("recordings")
    for rel, secs, style in (("cam1", 60, "vmsd"), ("site.a/cam7", 20, "mediamtx")):
        d = os.path.join(rec, rel)
        pf.write_segments(d, T0, secs, seg_seconds=10, style=style, workdir=stack.work)
        pf.rebuild(stack.bin("vms-index"), d)
    ngx = pf.start_nginx(stack)
    ngx.rec = rec
    return ngx


def error_body(r):
    """MediaMTX's defs.APIError: exactly {"status":"error","error":…}, as JSON."""
    assert r.headers["Content-Type"] == "application/json", r.headers
    body = r.json()
    assert set(body) == {"status", "error"} and body["status"] == "error", body
    return body["error"]


def test_empty_arguments_mean_absent(mtx):
    full = mtx.get("/list?path=cam1")
    assert full.status_code == 200 and [e["duration"] for e in full.json()] == [60]
    # MediaMTX: `if rawStart != ""` — start= and end= are the same as leaving them out
    r = mtx.get("/list?path=cam1&start=&end=")
    assert r.status_code == 200 and r.json() == full.json()
    r = mtx.get(f"/list?path=cam1&start=&end={ts(30)}")
    assert [(e["start"], e["duration"]) for e in r.json()] == [(ts(0), 30)]
    # /get: format= is fmp4 (MediaMTX's `case "", "fmp4"`)
    a = mtx.get(f"/get?path=cam1&start={ts(10)}&duration=5&format=")
    b = mtx.get(f"/get?path=cam1&start={ts(10)}&duration=5")
    assert a.status_code == 200 and a.headers["Content-Type"] == "video/mp4" and a.content == b.content


def test_duration_go_syntax_and_seconds(mtx):
    base = mtx.get("/get", params={"path": "cam1", "start": ts(10), "duration": "8"})
    assert base.status_code == 200
    for d in ["8s", "8.0", "8000ms", "+8s", "8000000us", "8000000\u00b5s", "7s1000ms"]:
        r = mtx.get("/get", params={"path": "cam1", "start": ts(10), "duration": d})
        assert r.status_code == 200, (d, r.text)
        assert r.content == base.content, d
    r = mtx.get("/get", params={"path": "cam1", "start": ts(0), "duration": "1m"})
    assert float(r.headers["X-VMS-Clip-Duration"]) == 60
    for d in ["", "8x", "s", "8 s", "8sec", "-8s", "0", "0s", "1e1"]:
        r = mtx.get("/get", params={"path": "cam1", "start": ts(10), "duration": d})
        assert r.status_code == 400 and error_body(r).startswith("invalid duration"), d


def test_path_names_follow_mediamtx(mtx):
    # dots are allowed in MediaMTX path names; the camera vms_auth checks is the last part
    tok = {"Authorization": f"Bearer {mtx.token(camera_id='cam7')}"}
    r = mtx.get("/list", params={"path": "site.a/cam7"}, headers=tok)
    assert r.status_code == 200, r.text
    entries = r.json()
    assert [(e["start"], e["duration"]) for e in entries] == [(ts(0), 20)]
    assert "path=site.a%2Fcam7" in entries[0]["url"]
    g = requests.get(entries[0]["url"], headers=tok)
    assert g.status_code == 200 and g.headers["Content-Type"] == "video/mp4"
    other = {"Authorization": f"Bearer {mtx.token(camera_id='cam1')}"}
    r = mtx.get("/list", params={"path": "site.a/cam7"}, headers=other)   # MediaMTX: 401 for every auth failure
    assert r.status_code == 401 and r.json() == {"status": "error", "error": "authentication error"}
    # still no traversal, no hidden directory: MediaMTX's 400 "invalid path name: …"
    for p in ["site.a/../cam1", "../cam1", "./cam1", "cam1/.", "cam1/.index", "/cam1", "cam1/",
              "site.a//cam7", "cam 1", "cam1\\x"]:
        r = mtx.get("/list", params={"path": p})
        assert r.status_code == 400 and error_body(r).startswith("invalid path name"), p


def test_missing_path_is_mediamtx_400(mtx):
    for q in ["/list", "/list?path=", f"/get?start={ts(0)}&duration=5", "/list?start=&end="]:
        # MediaMTX validates the path before it authenticates: 400 even without a token
        for headers in (mtx.auth, {}):
            r = mtx.get(q, headers=headers)
            assert r.status_code == 400, (q, r.status_code)
            assert error_body(r) == "invalid path name: cannot be empty ()"   # MediaMTX: "%w (%s)"


def test_end_before_start_on_list_is_404(mtx):
    r = mtx.get("/list", params={"path": "cam1", "start": ts(30), "end": ts(10)})
    assert r.status_code == 404 and error_body(r) == "no recording segments found"
    r = mtx.get("/list", params={"path": "cam1", "start": ts(30), "end": ts(30)})
    assert r.status_code == 404 and error_body(r) == "no recording segments found"


def test_start_before_the_first_recording(mtx):
    # MediaMTX's FindSegments keeps every segment when start precedes the first: what is recorded
    # in [start, start + duration) is served, not 404
    r = mtx.get("/get", params={"path": "cam1", "start": ts(-30), "duration": "40"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "video/mp4", r.text
    # as MediaMTX's muxer: the clip's t=0 is start, the recording begins 30 s into it
    assert r.headers["X-VMS-Clip-Start"] == ts(-30)
    assert float(r.headers["X-VMS-Clip-Duration"]) == 40
    clip = os.path.join(mtx.rec, "early.mp4")
    with open(clip, "wb") as f:
        f.write(r.content)
    out = subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0",
                          "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", clip],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and int(out.stdout) == 10 * pf.FPS, out
    # /list from before the first recording: the recording as it is
    r = mtx.get("/list", params={"path": "cam1", "start": ts(-3600)})
    assert [(e["start"], e["duration"]) for e in r.json()] == [(ts(0), 60)]
    # nothing recorded in the range at all: MediaMTX's 404
    r = mtx.get("/get", params={"path": "cam1", "start": ts(-30), "duration": "20"})
    assert r.status_code == 404 and error_body(r) == "no recording segments found"


def test_start_in_a_gap_is_404_like_mediamtx(stack):
    # MediaMTX muxes from the segment that starts before `start`; when `start` lies in the gap after
    # it, nothing is written and it answers 404, even if a later recording is in the range
    d = os.path.join(stack.path("recordings"), "cam3")
    pf.write_segments(d, T0, 40, seg_seconds=10, gaps=[(20, 30)], workdir=stack.work)
    pf.rebuild(stack.bin("vms-index"), d)
    ngx = pf.start_nginx(stack)
    r = ngx.get("/get", params={"path": "cam3", "start": ts(25), "duration": "10"})
    assert r.status_code == 404 and error_body(r) == "no recording segments found"
    r = ngx.get("/get", params={"path": "cam3", "start": ts(15), "duration": "10"})
    assert r.status_code == 200 and float(r.headers["X-VMS-Clip-Duration"]) == 5
    r = ngx.get("/get", params={"path": "cam3", "start": ts(-5), "duration": "10"})
    assert r.status_code == 200 and r.headers["X-VMS-Clip-Start"] == ts(-5)
    assert float(r.headers["X-VMS-Clip-Duration"]) == 10


def test_cors_like_mediamtx(mtx):
    # playbackAllowOrigins ["*"] (the default): "*" on every answer, never with credentials
    for q, headers, status in [("/list?path=cam1", mtx.auth, 200), ("/list?path=cam1", {}, 401),
                               ("/list", {}, 400), (f"/get?path=cam1&start={ts(0)}&duration=2", mtx.auth, 200),
                               (f"/api/playback/cam1/timeline?start={ts(0)}&end={ts(10)}", mtx.auth, 200)]:
        r = mtx.get(q, headers={"Origin": "https://app.example.com", **headers})
        assert r.status_code == status, (q, r.status_code)
        assert r.headers.get("Access-Control-Allow-Origin") == "*", (q, r.headers)
        assert "Access-Control-Allow-Credentials" not in r.headers
    # the preflight: 204 before any authentication, the methods and headers MediaMTX allows
    for q in ["/list?path=cam1", "/get?path=cam1", "/api/playback/cam1"]:
        r = requests.options(mtx.url(q), headers={"Origin": "https://app.example.com",
                                                  "Access-Control-Request-Method": "GET",
                                                  "Access-Control-Request-Headers": "authorization"})
        assert r.status_code == 204, (q, r.status_code, r.text)
        assert r.headers["Access-Control-Allow-Methods"] == "OPTIONS, GET"
        assert r.headers["Access-Control-Allow-Headers"] == "Authorization"
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert r.content == b""
    # not a preflight, not GET: a JSON 405
    for method in ("OPTIONS", "POST", "DELETE"):
        r = requests.request(method, mtx.url("/list?path=cam1"), headers=mtx.auth)
        assert r.status_code == 405 and error_body(r) == "method not allowed", method
        assert "GET" in r.headers["Allow"]


def test_cors_origin_list(stack):
    d = os.path.join(stack.path("recordings"), "cam1")
    pf.write_segments(d, T0, 10, seg_seconds=10, workdir=stack.work)
    pf.rebuild(stack.bin("vms-index"), d)
    ngx = pf.start_nginx(stack, {"EXTRA_HTTP": "vms_playback_allow_origins https://app.example.com "
                                               "http://*.example.org;"})
    cases = [("https://app.example.com", "https://app.example.com"),
             ("https://app.example.com:443", "https://app.example.com:443"),
             ("http://tv.example.org", "http://tv.example.org"),
             ("http://example.org", "http://example.org"),
             ("https://evil.com", None), ("http://app.example.com", None),
             ("https://tv.example.org", None), ("http://example.org.evil.com", None), ("null", None)]
    for origin, want in cases:
        r = ngx.get("/list?path=cam1", headers={"Origin": origin, **ngx.auth})
        assert r.status_code == 200
        assert r.headers.get("Access-Control-Allow-Origin") == want, origin
        if want:
            assert "Origin" in r.headers.get("Vary", "")


def test_a_path_whose_last_part_is_no_camera_id_is_just_unrecorded(mtx):
    """MediaMTX path names allow dots in every part; vms records cameras whose ids have none, so
    such a path (all of it allowed to an admin) has no recordings: MediaMTX's 404, not an auth error."""
    admin = {"Authorization": f"Bearer {mtx.token(role='admin', permissions=None)}"}
    for p in ["cam.1", "site.a/cam.7", "v1.2"]:
        r = mtx.get("/list", params={"path": p}, headers=admin)
        assert r.status_code == 404 and error_body(r) == "no recording segments found", (p, r.text)
        r = mtx.get("/get", params={"path": p, "start": ts(0), "duration": "5s"}, headers=admin)
        assert r.status_code == 404, (p, r.status_code, r.text)
    # a camera-scoped token is refused on it, with MediaMTX's 401; a MediaMTX token whose
    # permission names the whole path is not
    scoped = {"Authorization": f"Bearer {mtx.token(camera_id='cam1')}"}
    r = mtx.get("/list", params={"path": "cam.1"}, headers=scoped)
    assert r.status_code == 401 and r.json() == {"status": "error", "error": "authentication error"}
    mtx_tok = mtx.token(role=None, permissions=None,
                        mediamtx_permissions=[{"action": "playback", "path": "site.a/cam.7"}])
    r = mtx.get("/list", params={"path": "site.a/cam.7"}, headers={"Authorization": f"Bearer {mtx_tok}"})
    assert r.status_code == 404 and error_body(r) == "no recording segments found"
    r = mtx.get("/list", params={"path": "site.a/cam.8"}, headers={"Authorization": f"Bearer {mtx_tok}"})
    assert r.status_code == 401
    # mediamtx_permissions are matched against the whole path, as MediaMTX does, also when its last
    # part is a camera id
    whole = mtx.token(role=None, permissions=None,
                      mediamtx_permissions=[{"action": "playback", "path": "site.a/cam7"}])
    r = mtx.get("/list", params={"path": "site.a/cam7"}, headers={"Authorization": f"Bearer {whole}"})
    assert r.status_code == 200 and len(r.json()) == 1
