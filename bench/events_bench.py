#!/usr/bin/python3
"""Operator-loop benchmark (docs/events.md), each figure against a baseline taken in the same run:

  live push latency   a message produced on Kafka vms.events -> vms-push -> nginx nchan -> an
                      EventSource reader, vs the same reader fed by POSTs straight to nchan's
                      publisher (the Kafka + vms-push share of the latency); p50 / p95 over N messages
  review API          GET /api/events?camera=cam1&limit=50 through nginx (vms_auth, proxy,
                      vms-review-api, PostgreSQL with 20 000 review events of 8 cameras) vs GET
                      /health on the same nginx, requests/s with wrk (16 connections, 5 s)

Usage: VMS_BUILD_DIR=build bench/events_bench.py   (./build.sh bench runs it)
"""
import json
import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import jwt
import psycopg
import requests
from confluent_kafka import Producer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import vmsstack  # noqa: E402

BUILD = os.environ.get("VMS_BUILD_DIR") or os.path.join(ROOT, "build")
N = int(os.environ.get("VMS_BENCH_MESSAGES", "200"))


def reader(url, headers, q, ready):
    r = requests.get(url, headers=headers, stream=True, timeout=(5, 300))
    ready.set()
    for line in r.iter_lines(chunk_size=1, decode_unicode=True):
        if line and line.startswith("data:"):
            q.put((time.monotonic_ns(), json.loads(line[5:])))


def latencies(send, q, n):
    """send(i, payload) n times, 20 ms apart; the reader's receive time minus the send time (ms)."""
    got = {}

    def drain(deadline):
        while time.monotonic() < deadline:
            try:
                at, msg = q.get(timeout=0.05)
            except queue.Empty:
                continue
            if "seq" in msg and msg.get("run") == run:
                got[msg["seq"]] = (at - msg["sent"]) / 1e6
            if len(got) == n:
                return
    run = os.urandom(4).hex()
    for i in range(n):
        send(i, {"type": "bench", "camera_id": "cam1", "run": run, "seq": i, "sent": time.monotonic_ns()})
        drain(time.monotonic() + 0.02)
    drain(time.monotonic() + 30)
    v = sorted(got.values())
    return v, len(got)


def pct(v, p):
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def wrk(url, headers):
    args = ["wrk", "-t", "2", "-c", "16", "-d", "5s"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run(args + [url], capture_output=True, text=True, timeout=60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, int(non2xx.group(1)) if non2xx else 0


def main():
    work = tempfile.mkdtemp(prefix="vms-bench-events-")
    st = vmsstack.Stack(BUILD, work)
    try:
        pg, k = st.postgres(), st.kafka()
        api = st.review_api(pg)
        # no API budget: the figure is the path, not the 100/min per token limit
        ngx = st.nginx(vars={"REVIEW_API": api.addr, "KAFKA_BROKERS": k.bootstrap, "REDIS_ADDR": "127.0.0.1:9",
                             "LIMIT_API_RATE": "off", "LIMIT_FAIL_RATE": "off"})
        st.push(k, ngx)
        with open(st.secret_file()) as f:
            key = f.read().strip()
        now = int(time.time())
        tok = jwt.encode({"sub": "bench", "role": "admin", "iat": now, "exp": now + 3600}, key, algorithm="HS256")
        auth = {"Authorization": f"Bearer {tok}"}

        # -- live push latency
        q, ready = queue.Queue(), threading.Event()
        threading.Thread(target=reader, args=(ngx.url("/api/events/live?cameras=cam1"),
                                              {**auth, "Accept": "text/event-stream"}, q, ready), daemon=True).start()
        ready.wait(10)
        pub = f"{ngx.push_publisher}/_vms/pub/cam1"
        sess = requests.Session()
        base, nb = latencies(lambda i, m: sess.post(pub, data=json.dumps(m), timeout=5), q, N)
        p = Producer({"bootstrap.servers": k.bootstrap, "linger.ms": 0, "enable.idempotence": True})
        for _ in range(100):                      # vms-push joins at the live edge: warm up
            p.produce("vms.events", key="cam1", value=json.dumps({"type": "warm", "camera_id": "cam1"}))
            p.flush(5)
            try:
                q.get(timeout=0.5)
                break
            except queue.Empty:
                pass

        def via_kafka(i, m):
            p.produce("vms.events", key="cam1", value=json.dumps(m))
            p.poll(0)
        pipe, npipe = latencies(via_kafka, q, N)
        print(f"live push latency, {N} messages:")
        print(f"  nchan publisher -> SSE (baseline)     p50 {pct(base, 50):7.2f} ms  p95 {pct(base, 95):7.2f} ms"
              f"  ({nb} received)")
        print(f"  Kafka -> vms-push -> nchan -> SSE     p50 {pct(pipe, 50):7.2f} ms  p95 {pct(pipe, 95):7.2f} ms"
              f"  ({npipe} received)")
        print(f"  ratio p50 {pct(pipe, 50) / pct(base, 50):.1f}x, p95 {pct(pipe, 95) / pct(base, 95):.1f}x")

        # -- review API throughput
        with psycopg.connect(pg.dsn) as c:
            c.execute("INSERT INTO review_events (id, camera_id, start_ts, end_ts, labels, max_score, detections, state)"
                      " SELECT 'b' || i, 'cam' || (i % 8), to_timestamp(1767225600 + i * 30),"
                      " to_timestamp(1767225600 + i * 30 + 10), ARRAY['person'], 0.5 + (i % 50) / 100.0, 1, 'closed'"
                      " FROM generate_series(1, 20000) i")
        health, _ = wrk(ngx.url("/health"), {})
        events, bad = wrk(ngx.url("/api/events?camera=cam1&limit=50"), auth)
        print("review API through nginx, wrk 16 connections 5 s:")
        print(f"  GET /health (baseline)                      {health:9.0f} req/s")
        print(f"  GET /api/events?camera=cam1&limit=50         {events:9.0f} req/s  ({bad} non-2xx)")
        print(f"  ratio {events / health:.3f}x of nginx's static answer")
    finally:
        st.stop()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
