#!/usr/bin/env bash
# vms_auth benchmark: wrk against one nginx worker serving a 1 KB static file, without auth and
# behind vms_auth with HS256, RS256 and ES256 tokens, each with one reused token (verified-token
# cache on) and with unique tokens (cache off, 1000 distinct tokens in rotation: every request pays
# the full signature check).  Prints req/s and the ratio to the plain run, all from one run.
#   VMS_BUILD_DIR=build bash bench/auth_bench.sh      (BENCH_SECONDS=8 BENCH_CONNS=16)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
B=$(realpath -m "${VMS_BUILD_DIR:-$root/build}")
so="$B/modules/ngx_http_vms_auth_module.so"
secs=${BENCH_SECONDS:-8}
conns=${BENCH_CONNS:-16}
PY=/usr/bin/python3
[ -f "$so" ] || { echo "auth_bench: $so not built (./build.sh)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "auth_bench: wrk missing (apt-get install -y wrk)" >&2; exit 1; }

work=$(mktemp -d /tmp/vms-auth-bench.XXXXXX)
chmod 755 "$work"
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root;"
pids=()
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
open(f"{w}/keys/hs.key", "w").write(secret)
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

run() {   # run PORT PATH [wrk options] [-- script args] -> req/s
    local port=$1 path=$2; shift 2
    local opts=() rest=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    [ $# -gt 0 ] && rest=("$@")
    wrk -t1 -c"$conns" -d"${secs}s" "${opts[@]}" "http://127.0.0.1:$port$path" "${rest[@]}" 2>&1 \
        | tee -a "$work/wrk.log" | awk '/Requests\/sec/ {print $2}'
}
check() {   # the token must really be accepted
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $2" "http://127.0.0.1:$1/auth/cam1/file.txt")
    [ "$code" = 200 ] || { echo "auth_bench: token refused ($code)" >&2; exit 1; }
}

plain=$(run "$cached" /plain/file.txt)
printf '%-28s %10s req/s\n' "plain (no auth)" "$plain"
for alg in HS256 RS256 ES256; do
    one=$(cat "$work/$alg.one")
    check "$cached" "$one"
    check "$nocache" "$(head -1 "$work/$alg.many")"
    r1=$(run "$cached" /auth/cam1/file.txt -H "Authorization: Bearer $one")
    r2=$(run "$nocache" /auth/cam1/file.txt -s "$work/many.lua" -- "$work/$alg.many")
    printf '%-28s %10s req/s  %5.2fx plain\n' "$alg reused token (cache)" "$r1" "$(awk -v a="$r1" -v b="$plain" 'BEGIN {print a / b}')"
    printf '%-28s %10s req/s  %5.2fx plain\n' "$alg unique tokens" "$r2" "$(awk -v a="$r2" -v b="$plain" 'BEGIN {print a / b}')"
done
if grep -q "Non-2xx" "$work/wrk.log"; then
    echo "auth_bench: some responses were not 200" >&2
    exit 1
fi
