#!/usr/bin/env bash
# vms_limit benchmark: one nginx worker, wrk against four locations with the same content
# handler: plain, rate-limited in the shared zone, rate-limited through Redis, and nginx's
# own limit_req.  Limits are set high enough that every request is allowed, so the
# figures are the cost of the check.  Prints requests/s and ratios to plain from one run.
# Targets (issue #5): shm >= 0.9x plain, Redis >= 0.6x plain; #17: Redis >= 0.8x plain.
# Also prints the worker's and redis-server's CPU time per request (from /proc).
# Environment: VMS_BUILD_DIR (default build/), BENCH_SECONDS (3), BENCH_ROUNDS (3), BENCH_CONNECTIONS (32).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v wrk >/dev/null || { echo "limit_bench: wrk missing (apt-get install -y wrk)" >&2; exit 1; }
export VMS_BUILD_DIR=${VMS_BUILD_DIR:-$root/build}
export BENCH_SECONDS=${BENCH_SECONDS:-3} BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
exec /usr/bin/python3 - "$root" <<'PY'
import os, re, subprocess, sys, tempfile, shutil
root = sys.argv[1]
sys.path.insert(0, os.path.join(root, "tests", "tools"))
import vmsstack

secs, conns = os.environ["BENCH_SECONDS"], os.environ["BENCH_CONNECTIONS"]
locations = """
location = /b/plain     { stub_status; }
location = /b/shm       { vms_limit_rate 1000000000/s; vms_limit_store local; stub_status; }
location = /b/redis     { vms_limit_rate 1000000000/s; vms_limit_store redis; stub_status; }
location = /b/limit_req { limit_req zone=bench burst=1000000 nodelay; stub_status; }
"""
work = tempfile.mkdtemp(prefix="vms-bench-")
st = vmsstack.Stack(os.environ["VMS_BUILD_DIR"], work)
try:
    r = st.redis()
    # the stack's own budgets (server.d/ratelimit.conf.in) off: this measures the module's
    # locations above, and /b/plain must stay a plain location
    ngx = st.nginx(vars={"REDIS_ADDR": r.addr, "EXTRA_SERVER": locations,
                         "LIMIT_API_RATE": "off", "LIMIT_FAIL_RATE": "off",
                         "EXTRA_HTTP": "limit_req_zone $binary_remote_addr zone=bench:10m rate=1000000r/s;"})
    names = ("plain", "shm", "redis", "limit_req")
    samples = {n: [] for n in names}
    cpu = {n: [] for n in names}      # (worker, redis-server) CPU us per request
    hz = os.sysconf("SC_CLK_TCK")
    worker = int(subprocess.run(["pgrep", "-P", str(ngx.pid)], capture_output=True, text=True,
                                check=True).stdout.split()[0])
    def ticks(pid):   # utime + stime of a process, in clock ticks
        with open(f"/proc/{pid}/stat") as f:
            v = f.read().rsplit(")", 1)[1].split()
        return int(v[11]) + int(v[12])
    # the machine is shared: interleave short runs and keep each location's median
    for rnd in range(int(os.environ.get("BENCH_ROUNDS", 3))):
        for name in names:
            url = ngx.url(f"/b/{name}")
            if rnd == 0:
                subprocess.run(["wrk", "-t1", f"-c{conns}", "-d1s", url], capture_output=True)
            w0, r0 = ticks(worker), ticks(r.pid)
            out = subprocess.run(["wrk", "-t1", f"-c{conns}", f"-d{secs}s", url],
                                 capture_output=True, text=True, check=True).stdout
            w1, r1 = ticks(worker), ticks(r.pid)
            n = int(re.search(r"(\d+) requests in", out).group(1))
            cpu[name].append(((w1 - w0) / hz * 1e6 / n, (r1 - r0) / hz * 1e6 / n))
            m = re.search(r"Requests/sec:\s+([\d.]+)", out)
            non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
            if non2xx:
                raise SystemExit(f"limit_bench: {name}: {non2xx.group(1)} refused responses\n{out}")
            samples[name].append(float(m.group(1)))
    rates = {n: sorted(v)[len(v) // 2] for n, v in samples.items()}
    with open(ngx.error_log) as f:
        if re.search(r"\[(alert|crit|emerg)\]", f.read()):
            raise SystemExit("limit_bench: nginx logged alerts; see " + ngx.error_log)
    plain = rates["plain"]
    print(f"vms_limit bench: 1 worker, wrk -t1 -c{conns} -d{secs}s x {len(samples['plain'])} "
          f"interleaved rounds (median), all requests allowed")
    # CPU per request does not depend on what else runs here, req/s does: on a small machine
    # wrk and redis-server take CPU from the worker.  The worker's capacity ratio is what the
    # module costs nginx; redis-server's time is paid by the Redis host.
    wcpu = {n: sorted(c[0] for c in v)[len(v) // 2] for n, v in cpu.items()}
    rcpu = {n: sorted(c[1] for c in v)[len(v) // 2] for n, v in cpu.items()}
    for name, v in rates.items():
        print(f"  {name:10s} {v:10.0f} req/s   {v / plain:5.2f}x plain   worker {wcpu[name]:5.1f} us/req "
              f"({wcpu['plain'] / wcpu[name]:4.2f}x plain capacity)   redis-server {rcpu[name]:5.1f} us/req")
    print(f"  targets: shm >= 0.90x ({'met' if rates['shm'] >= 0.9 * plain else 'NOT met'}), "
          f"redis >= 0.60x ({'met' if rates['redis'] >= 0.6 * plain else 'NOT met'})")
    wr = wcpu["plain"] / wcpu["redis"]
    print(f"  #17: redis >= 0.80x: worker capacity {wr:.2f}x ({'met' if wr >= 0.8 else 'NOT met'}), "
          f"throughput here {rates['redis'] / plain:.2f}x "
          f"({'met' if rates['redis'] >= 0.8 * plain else 'NOT met'}: redis-server shares this machine's cores)")
finally:
    st.stop()
    shutil.rmtree(work, ignore_errors=True)
PY
