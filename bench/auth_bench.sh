#!/usr/bin/env bash
# vms_auth benchmark: wrk against one nginx worker serving a 1 KB static file, without auth and
# behind vms_auth with HS256, RS256 and ES256 tokens, each with one reused token (verified-token
# cache on) and with unique tokens (cache off, 1000 distinct tokens in rotation: every request pays
# the full signature check).  Prints req/s, the worker's CPU time per request (from /proc, so not
# skewed by other load on the machine) and the capacity ratios (CPU baseline / CPU x) to two runs
# without auth: a plain static prefix location, and the same regex location as the auth one; all
# from one run; then vms_jwt_verify's CPU time per token.
#   VMS_BUILD_DIR=build bash bench/auth_bench.sh      (BENCH_SECONDS=5 BENCH_CONNS=16 BENCH_ROUNDS=3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
B=$(realpath -m "${VMS_BUILD_DIR:-$root/build}")
so="$B/modules/ngx_http_vms_auth_module.so"
secs=${BENCH_SECONDS:-5}
conns=${BENCH_CONNS:-16}
rounds=${BENCH_ROUNDS:-3}
PY=/usr/bin/python3
[ -f "$so" ] || { echo "auth_bench: $so not built (./build.sh)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "auth_bench: wrk missing (apt-get install -y wrk)" >&2; exit 1; }

work=$(mktemp -d /tmp/vms-auth-bench.XXXXXX)
chmod 755 "$work"
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
pids=()
declare -A masters
cleanup() {
    for p in "${pids[@]}"; do kill -QUIT "$p" 2>/dev/null || true; done
    sleep 0.5
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/html" "$work/logs" "$work/keys"
head -c 1024 /dev/urandom | base64 -w0 | head -c 1024 > "$work/html/file.txt"

"$PY" - "$work" <<'PYEOF'
import sys, time, uuid, jwt, secrets
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
w = sys.argv[1]
secret = secrets.token_hex(32)
import os
with open(os.open(f"{w}/keys/hs.key", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
    f.write(secret)   # a secret file others can read makes vms_auth warn
keys = {"HS256": secret, "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ES256": ec.generate_private_key(ec.SECP256R1())}
for alg in ("RS256", "ES256"):
    pem = keys[alg].public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    open(f"{w}/keys/{alg}.pem", "wb").write(pem)
now = int(time.time())
for alg, key in keys.items():
    def tok():
        return jwt.encode({"sub": "bench", "role": "viewer", "camera_id": "cam1", "exp": now + 3600,
                           "iat": now, "jti": uuid.uuid4().hex}, key, algorithm=alg)
    open(f"{w}/{alg}.one", "w").write(tok())
    with open(f"{w}/{alg}.many", "w") as f:
        for _ in range(1000):
            f.write(tok() + "\n")
PYEOF

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_nginx() {   # start_nginx NAME CACHE_DIRECTIVE -> sets $port (not in a subshell: pids, trap)
    local name=$1 cache=$2
    port=$(free_port)
    mkdir -p "$work/$name/logs"
    cat > "$work/$name/nginx.conf" <<CONF
load_module $so;
$user_line
worker_processes 1;
pid $work/$name/nginx.pid;
error_log $work/$name/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    vms_auth_secret file:$work/keys/hs.key;
    vms_auth_public_key $work/keys/RS256.pem;
    vms_auth_public_key $work/keys/ES256.pem;
    $cache
    vms_auth_log_rate 1;
    server {
        listen 127.0.0.1:$port;
        root $work/html;
        location /plain/ { alias $work/html/; }
        location ~ ^/noauth/(?<cam>[a-z0-9]+)/ {     # the auth location's shape, without vms_auth
            rewrite ^ /file.txt break;
        }
        location ~ ^/auth/(?<cam>[a-z0-9]+)/ {
            vms_auth on;
            vms_auth_require view_stream \$cam;
            rewrite ^ /file.txt break;
        }
    }
}
CONF
    nginx -p "$work/$name" -c "$work/$name/nginx.conf" -e "$work/$name/logs/error.log" -g "daemon off;" &
    pids+=($!)
    masters[$port]=$!
    for _ in $(seq 50); do
        curl -fs "http://127.0.0.1:$port/plain/file.txt" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "auth_bench: nginx $name did not start" >&2; cat "$work/$name/logs/error.log" >&2; exit 1
}

cat > "$work/many.lua" <<'LUA'
local toks, i = {}, 0
init = function(args)
    for line in io.lines(args[1]) do toks[#toks + 1] = line end
end
request = function()
    i = i % #toks + 1
    return wrk.format("GET", "/auth/cam1/file.txt", { ["Authorization"] = "Bearer " .. toks[i] })
end
LUA

start_nginx cached "vms_auth_cache zone=bench:10m;"
cached=$port
start_nginx nocache "vms_auth_cache off;"
nocache=$port

worker_ticks() {   # utime+stime of nginx's worker listening on PORT (clock ticks)
    local master=${masters[$1]} w
    w=$(pgrep -P "$master" | head -1)
    awk '{print $14 + $15}' "/proc/$w/stat"
}

# run PORT PATH [wrk options] [-- script args]: prints "req/s cpu_us_per_request".  The worker's CPU
# time per request does not depend on what else runs on the machine; req/s does.
run() {
    local port=$1 path=$2; shift 2
    local opts=() rest=() t0 t1 out
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    [ $# -gt 0 ] && rest=("$@")
    t0=$(worker_ticks "$port")
    out=$(wrk -t1 -c"$conns" -d"${secs}s" "${opts[@]}" "http://127.0.0.1:$port$path" "${rest[@]}" 2>&1)
    t1=$(worker_ticks "$port")
    echo "$out" >> "$work/wrk.log"
    echo "$out" | awk -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" '
        /requests in/ {n = $1} /Requests\/sec/ {r = $2}
        END {printf "%s %.1f\n", r, (t1 - t0) / hz * 1e6 / n}'
}

check() {   # the token must really be accepted
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $2" "http://127.0.0.1:$1/auth/cam1/file.txt")
    [ "$code" = 200 ] || { echo "auth_bench: token refused ($code)" >&2; exit 1; }
}

report() {   # report LABEL "req/s cpu": capacity against both baselines
    local rps=${2% *} cpu=${2#* }
    printf '%-28s %9s req/s  worker %6s us CPU/req  %5.2fx plain  %5.2fx same location\n' "$1" "$rps" "$cpu" \
        "$(awk -v a="$plain_cpu" -v b="$cpu" 'BEGIN {print a / b}')" \
        "$(awk -v a="$same_cpu" -v b="$cpu" 'BEGIN {print a / b}')"
}
# Two baselines: a plain static prefix location, and the auth location's own shape (regex with a
# capture, rewrite) without vms_auth, which is what vms_auth adds to.  Every configuration runs once
# per round, rounds interleaved (BENCH_ROUNDS, 3), and the run with the median CPU per request is
# reported: a drift of the machine over the minutes of the benchmark hits every configuration alike.
algs=(HS256 RS256 ES256)
labels=("plain (no auth)" "same location, no auth" "plain, RS256 header unread")
for alg in "${algs[@]}"; do
    check "$cached" "$(cat "$work/$alg.one")"
    check "$nocache" "$(head -1 "$work/$alg.many")"
    labels+=("$alg reused token (cache)" "$alg unique tokens")
done
sample() {   # sample I: one run of configuration I of labels
    case $1 in
    0) run "$cached" /plain/file.txt ;;
    1) run "$cached" /noauth/cam1/file.txt ;;
    2) run "$cached" /plain/file.txt -H "Authorization: Bearer $(cat "$work/RS256.one")" ;;
    *)
        local alg=${algs[($1 - 3) / 2]}
        if (( ($1 - 3) % 2 == 0 )); then
            run "$cached" /auth/cam1/file.txt -H "Authorization: Bearer $(cat "$work/$alg.one")"
        else
            run "$nocache" /auth/cam1/file.txt -s "$work/many.lua" -- "$work/$alg.many"
        fi ;;
    esac
}
for _ in $(seq "$rounds"); do
    for i in "${!labels[@]}"; do
        sample "$i" >> "$work/samples.$i"
    done
done
median() { sort -n -k2 "$work/samples.$1" | sed -n "$(( (rounds + 1) / 2 ))p"; }
plain=$(median 0)
plain_cpu=${plain#* }
same=$(median 1)
same_cpu=${same#* }
echo "vms_auth bench: 1 worker, wrk -t1 -c$conns -d${secs}s, $rounds interleaved rounds (the median run by CPU per request)"
for i in "${!labels[@]}"; do
    report "${labels[$i]}" "$(median "$i")"
done

# CPU time per verification through vms_jwt (no HTTP, unaffected by other processes' load)
cat > "$work/verify.c" <<'CEOF'
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "vms_jwt.h"
static char buf[1 << 16];
static size_t slurp(const char *p) { FILE *f = fopen(p, "r"); size_t n = fread(buf, 1, sizeof(buf) - 1, f); fclose(f); buf[n] = 0; return n; }
int main(int argc, char **argv) {
    char err[256], key[8192], tok[4096];
    vms_jwt_keyset_t *ks = vms_jwt_keyset_new();
    size_t n = slurp(argv[2]); memcpy(key, buf, n + 1);
    int rc = strcmp(argv[1], "HS256") == 0 ? vms_jwt_keyset_add_secret(ks, key, n, 0, NULL, err, sizeof(err))
                                          : vms_jwt_keyset_add_pem(ks, key, n, 0, NULL, err, sizeof(err));
    if (rc) { fprintf(stderr, "%s\n", err); return 1; }
    n = slurp(argv[3]); memcpy(tok, buf, n + 1);
    struct timespec a, b;
    int N = strcmp(argv[1], "HS256") == 0 ? 100000 : 5000;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    for (int i = 0; i < N; i++) {
        vms_jwt_t out; const char *why;
        if (vms_jwt_verify(ks, tok, n, &out, &why)) { fprintf(stderr, "%s\n", why); return 1; }
        json_decref(out.payload);
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3 / N);
    return 0;
}
CEOF
core="$root/modules/auth/core"
cc -O2 -I"$core" -o "$work/verify" "$work/verify.c" "$core/vms_jwt.c" "$core/vms_jwt_keys.c" -ljansson -lcrypto
for alg in HS256 RS256 ES256; do
    keyf="$work/keys/$alg.pem"; [ "$alg" = HS256 ] && keyf="$work/keys/hs.key"
    printf '%-28s %10s us CPU per verification\n' "$alg vms_jwt_verify" "$("$work/verify" "$alg" "$keyf" "$work/$alg.one")"
done

if grep -q "Non-2xx" "$work/wrk.log"; then
    echo "auth_bench: some responses were not 200" >&2
    exit 1
fi
