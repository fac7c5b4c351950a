#!/usr/bin/python3
"""Per-node storage benchmark (docs/scale-out.md, storage mode (b)): what vms-playback-router costs.

The synthetic camera of playback_bench.py (30 days x 1-minute segments) is split between two node
trees as a camera that moved once leaves it (days 1-15 on node-a, 16-30 on node-b).  In the same
run, against the same index files:

  baseline   one nginx with vms_playback over the whole tree (a single node, or shared storage);
  per-node   the front nginx -> vms-playback-router -> both nodes' nginx, merged.

Both fronts check the token (vms_auth) and keep the API budget off, as deployed minus the limits.
Requests: a 24 h HLS playlist across the move (the merge: two node playlists of 12 h each), a
30-day MediaMTX /list, and a 24 h timeline.  Prints the client-side median of each and the ratio
per-node / baseline.  Not a test: figures depend on the machine and its load.

Usage: VMS_BUILD_DIR=build /usr/bin/python3 bench/pbrouter_bench.py [--rounds 40]
"""
import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import playback_bench as pb  # noqa: E402
import playback_fixtures as pf  # noqa: E402
import vmsstack  # noqa: E402


def split(full, node_dir, days):
    """node_dir/cam1: the index day files of `days` only (the media files are not read)."""
    idx = os.path.join(node_dir, "cam1", ".index")
    os.makedirs(idx)
    for d in days:
        name = (pb.START + dt.timedelta(days=d)).strftime("%Y-%m-%d")
        for ext in (".seg", ".frag"):
            shutil.copyfile(os.path.join(full, ".index", name + ext), os.path.join(idx, name + ext))


def timed(session, url, rounds):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        r = session.get(url)
        times.append(time.perf_counter() - t0)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return statistics.median(times), len(r.content)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=40)
    args = ap.parse_args()
    build = os.path.abspath(os.environ.get("VMS_BUILD_DIR") or os.path.join(ROOT, "build"))
    work = tempfile.mkdtemp(prefix="vms-bench-pbrouter-")
    st = vmsstack.Stack(build, work)
    try:
        full = os.path.join(st.path("recordings"), "cam1")
        pb.write_index(full)
        half = pb.DAYS // 2
        nodes = {}
        for name, days in (("node-a", range(half)), ("node-b", range(half, pb.DAYS))):
            split(full, st.path(f"rec-{name}"), days)
            nodes[name] = st.nginx(name=f"nginx-{name}", vars={
                "RECORDINGS": st.path(f"rec-{name}"), "PLAYBACK_NODE_LISTEN": f"127.0.0.1:{vmsstack.free_port()}",
                "REDIS_ADDR": "127.0.0.1:9", "KAFKA_BROKERS": "127.0.0.1:9", "LIMIT_API_RATE": "off"})
        router = st.playback_router({n: g.vars["PLAYBACK_NODE_LISTEN"] for n, g in nodes.items()})
        base = pf.start_nginx(st, {"LIMIT_API_RATE": "off"})
        front = st.nginx(name="nginx-front", vars={"REDIS_ADDR": "127.0.0.1:9", "KAFKA_BROKERS": "127.0.0.1:9",
                                                    "LIMIT_API_RATE": "off", **router.front_vars})
        move = pb.START + dt.timedelta(days=half)
        day = (move - dt.timedelta(hours=12), move + dt.timedelta(hours=12))
        end = pb.START + dt.timedelta(days=pb.DAYS)
        paths = {"24 h playlist across the move": f"/api/playback/cam1?start={pb.iso(day[0])}&end={pb.iso(day[1])}",
                 "30-day /list": f"/list?path=cam1&start={pb.iso(pb.START)}&end={pb.iso(end)}",
                 "24 h timeline": f"/api/playback/cam1/timeline?start={pb.iso(day[0])}&end={pb.iso(day[1])}"}
        s = requests.Session()
        s.headers.update(base.auth)
        print(f"synthetic camera: {pb.DAYS} days x 1440 segments, days 1-{half} on node-a, "
              f"{half + 1}-{pb.DAYS} on node-b; {args.rounds} requests each, medians")
        for name, path in paths.items():
            # interleaved: baseline, per-node, baseline, per-node (drift hits both)
            b1, n1 = timed(s, base.url(path), args.rounds // 2), timed(s, front.url(path), args.rounds // 2)
            b2, n2 = timed(s, base.url(path), args.rounds // 2), timed(s, front.url(path), args.rounds // 2)
            b, n = (b1[0] + b2[0]) / 2, (n1[0] + n2[0]) / 2
            print(f"{name}: baseline {b * 1000:.2f} ms ({b1[1]} bytes), per-node {n * 1000:.2f} ms "
                  f"({n1[1]} bytes): {n / b:.2f}x")
    finally:
        st.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
