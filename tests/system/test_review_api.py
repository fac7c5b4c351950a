"""Review API (docs/events.md, "Review API"): vms-review-api on PostgreSQL behind nginx's vms_auth.
Events are rows as vms-detections-consumer writes them, at fixed instants in UTC."""
import os

import pytest
import requests

from helpers import add_event, iso, token as stack_token

T0 = 1767225600          # 2026-01-01T00:00:00Z


def token(stack, **claims):
    """Headers with a stack token (helpers.token)."""
    return {"Authorization": "Bearer " + stack_token(stack, **claims)}


@pytest.fixture
def review(stack, tmp_path):
    pg = stack.postgres()
    snaps = tmp_path / "snapshots"
    snaps.mkdir()
    api = stack.review_api(pg, args=["--snapshot-dir", str(snaps)])
    ngx = stack.nginx(vars={"REVIEW_API": api.addr, "REDIS_ADDR": "127.0.0.1:9"})
    return pg, api, ngx, snaps


def get(ngx, path, headers=None, **params):
    return requests.get(ngx.url(path), headers=headers, params=params, timeout=10)


def test_pages_newest_first_without_gaps_or_repeats(stack, review):
    pg, _, ngx, _ = review
    for i in range(23):
        add_event(pg, f"c1-{i:02d}", "cam1", T0 + 60 * i, T0 + 60 * i + 20)
    for i in range(3):                          # same start: ordered by id, still one page each
        add_event(pg, f"tie-{i}", "cam2", T0 + 600, T0 + 610)
    admin = token(stack, role="admin")
    seen, cursor, pages = [], None, 0
    while True:
        r = get(ngx, "/api/events", admin, limit=4, cursor=cursor)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["events"]) <= 4
        seen += body["events"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 7 and len(seen) == 26
    assert len({e["id"] for e in seen}) == 26
    keys = [(e["start"], e["id"]) for e in seen]
    assert keys == sorted(keys, reverse=True)
    first = seen[0]
    assert first == {"id": "c1-22", "camera_id": "cam1", "start": iso(T0 + 60 * 22), "end": iso(T0 + 60 * 22 + 20),
                     "labels": ["person"], "max_score": pytest.approx(0.8), "detections": 1,
                     "snapshot_detection": None, "state": "closed"}


def test_filters(stack, review):
    pg, _, ngx, _ = review
    add_event(pg, "a", "cam1", T0, T0 + 10, labels=("person",), score=0.9)
    add_event(pg, "b", "cam1", T0 + 100, T0 + 130, labels=("car", "person"), score=0.5)
    add_event(pg, "c", "cam2", T0 + 200, T0 + 210, labels=("car",), score=0.7)
    admin = token(stack, role="admin")

    def ids(**q):
        r = get(ngx, "/api/events", admin, **q)
        assert r.status_code == 200, r.text
        return [e["id"] for e in r.json()["events"]]
    assert ids() == ["c", "b", "a"]
    assert ids(camera="cam1") == ["b", "a"]
    assert ids(camera="cam1,cam2", label="car") == ["c", "b"]
    assert ids(min_score="0.6") == ["c", "a"]
    # overlap: b runs T0+100..T0+130
    assert ids(start=iso(T0 + 120), end=iso(T0 + 150)) == ["b"]
    assert ids(start=str(T0 + 120), end=str(T0 + 150)) == ["b"]                 # unix seconds
    assert ids(start="2026-01-01T01:02:00+01:00", end="2026-01-01T00:02:30Z") == ["b"]   # offsets
    assert ids(start="", end="") == ["c", "b", "a"]                               # empty = absent


def test_scope_of_the_token(stack, review):
    pg, _, ngx, _ = review
    add_event(pg, "mine", "cam1", T0, T0 + 10)
    add_event(pg, "theirs", "cam2", T0 + 20, T0 + 30, detections=("d-theirs",))
    viewer = token(stack, cameras=["cam1"])
    r = get(ngx, "/api/events", viewer)
    assert r.status_code == 200 and [e["id"] for e in r.json()["events"]] == ["mine"]
    r = get(ngx, "/api/events", viewer, camera="cam1,cam2")
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert get(ngx, "/api/events/theirs", viewer).status_code == 404       # not even its existence
    assert get(ngx, "/api/events/theirs/snapshot.jpg", viewer).status_code == 404
    assert get(ngx, "/api/export", viewer, cameras="cam1,cam2", start=iso(T0), end=iso(T0 + 60)).status_code == 403
    assert get(ngx, "/api/events/mine", viewer).status_code == 200
    assert get(ngx, "/api/events").status_code == 401
    # a token without view_stream (a publisher) sees nothing
    pub = token(stack, role="publisher", permissions=["publish"])
    assert get(ngx, "/api/events", pub).status_code == 403


def test_event_detail_with_detections_clip_and_snapshot(stack, review):
    pg, _, ngx, snaps = review
    jpg = snaps / "cam1" / "a.jpg"
    jpg.parent.mkdir()
    jpg.write_bytes(b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9")
    add_event(pg, "e1", "cam1", T0, T0 + 12, score=0.9, snapshot=f"file://{jpg}", detections=("d1", "d2", "d3"))
    add_event(pg, "e2", "cam1", T0 + 100, T0 + 101)
    add_event(pg, "evil", "cam1", T0 + 200, T0 + 201, snapshot=f"file://{snaps}/../../../../etc/passwd")
    add_event(pg, "evil2", "cam1", T0 + 300, T0 + 301, snapshot="file:///etc/passwd")
    os.symlink("/etc/passwd", snaps / "cam1" / "link.jpg")
    add_event(pg, "evil3", "cam1", T0 + 400, T0 + 401, snapshot=f"file://{snaps}/cam1/link.jpg")
    admin = token(stack, role="admin")
    r = get(ngx, "/api/events/e1", admin)
    assert r.status_code == 200, r.text
    ev = r.json()
    assert ev["id"] == "e1" and [d["id"] for d in ev["detections_list"]] == ["d1", "d2", "d3"]
    assert ev["detections_list"][0]["bbox"] == {"x": 10, "y": 20, "width": 30, "height": 40}
    assert ev["snapshot_url"] == "/api/events/e1/snapshot.jpg"
    # the clip: 5 s before the start to 5 s after the end, in the playback API
    assert ev["clip"]["mp4"] == f"/api/playback/cam1?start={iso(T0 - 5)}&end={iso(T0 + 17)}&format=mp4"
    assert ev["clip"]["hls"] == f"/api/playback/cam1?start={iso(T0 - 5)}&end={iso(T0 + 17)}"
    snap = get(ngx, "/api/events/e1/snapshot.jpg", admin)
    assert snap.status_code == 200 and snap.headers["Content-Type"] == "image/jpeg"
    assert snap.content == jpg.read_bytes()
    assert get(ngx, "/api/events/e2", admin).json()["snapshot_url"] is None
    for eid in ("e2", "evil", "evil2", "evil3"):
        r = get(ngx, f"/api/events/{eid}/snapshot.jpg", admin)
        assert r.status_code == 404 and b"root:" not in r.content, eid
    assert get(ngx, "/api/events/nope", admin).status_code == 404


def test_export_of_several_cameras(stack, review):
    _, _, ngx, _ = review
    admin = token(stack, role="admin")
    r = get(ngx, "/api/export", admin, cameras="cam1,cam2", start=iso(T0), end=iso(T0 + 600))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["start"] == iso(T0) and body["end"] == iso(T0 + 600)
    assert [c["camera"] for c in body["cameras"]] == ["cam1", "cam2"]
    assert body["cameras"][1]["mp4"] == f"/api/playback/cam2?start={iso(T0)}&end={iso(T0 + 600)}&format=mp4"
    for bad in ({"cameras": "cam1", "start": iso(T0), "end": iso(T0 + 3601)},
                {"cameras": "cam1", "start": iso(T0)},
                {"cameras": ",".join(f"c{i}" for i in range(17)), "start": iso(T0), "end": iso(T0 + 60)},
                {"cameras": "cam1", "start": iso(T0 + 60), "end": iso(T0)}):
        r = get(ngx, "/api/export", admin, **bad)
        assert r.status_code == 400 and r.json()["error"] == "bad_request", bad


@pytest.mark.parametrize("path,params,field", [
    ("/api/events", {"start": "yesterday"}, "start"),
    ("/api/events", {"end": "2026-02-30T00:00:00Z"}, "end"),
    ("/api/events", {"limit": "0"}, "limit"),
    ("/api/events", {"limit": "201"}, "limit"),
    ("/api/events", {"min_score": "1.5"}, "min_score"),
    ("/api/events", {"cursor": "not-a-cursor!"}, "cursor"),
    ("/api/events", {"cursor": "MTIzLmE"[:-1] + "$"}, "cursor"),
    ("/api/events", {"camera": "../cam1"}, "camera"),
    ("/api/events", {"camera": "cam1,,cam2"}, "camera"),
    ("/api/events/a%20b", {}, "event id"),
    ("/api/events/" + "x" * 129, {}, "event id"),
])
def test_bad_parameters_are_400(stack, review, path, params, field):
    _, _, ngx, _ = review
    r = get(ngx, path, token(stack, role="admin"), **params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] == "bad_request" and body["message"].startswith(field)


def test_postgres_down_is_503_then_recovers(stack, review):
    pg, api, ngx, _ = review
    add_event(pg, "before", "cam1", T0, T0 + 1)
    admin = token(stack, role="admin")
    assert get(ngx, "/api/events", admin).status_code == 200
    port = pg.port
    pg.stop()
    r = get(ngx, "/api/events", admin)
    assert r.status_code == 503 and r.headers.get("Retry-After") == "5"
    assert r.json()["error"] == "service_unavailable"
    assert get(ngx, "/api/events/before", admin).status_code == 503
    stack.postgres(port=port, name="postgres")
    r = get(ngx, "/api/events", admin)
    assert r.status_code == 200 and [e["id"] for e in r.json()["events"]] == ["before"]
    with open(api.log) as f:
        log = f.read()
    assert "connect failed" in log and "password" not in log
