#!/usr/bin/env bash
# vms: one entry point.   ./build.sh [build|run [--detach] [--tls]|stop|token [opts]|test [pytest args]|bench|clean]
# Every command installs what is missing first (auto/install.sh), then builds.
# Environment: VMS_BUILD_DIR (default build/), VMS_SANITIZE=1, VMS_MODULES="auth limit",
#              VMS_SKIP_INSTALL=1 (skip apt step), VMS_TEST_SANITIZE=0 (system tests on the plain build),
#              VMS_TEST_COVERAGE=0 (no gcov counters in the sanitizer build, no coverage report).
set -euo pipefail
root=$(cd "$(dirname "$0")" && pwd)
cd "$root"
PY=/usr/bin/python3
B=$(realpath -m "${VMS_BUILD_DIR:-$root/build}")
export VMS_ROOT=$root

step() {   # step NAME LOGFILE command...: runs quietly, names the step and its log on failure
    local name=$1 log=$2; shift 2
    mkdir -p "$(dirname "$log")"
    if ! "$@" >"$log" 2>&1; then
        echo "build.sh: step '$name' failed; log: $log" >&2
        tail -25 "$log" >&2
        exit 1
    fi
}

install() {
    [ "${VMS_SKIP_INSTALL:-0}" = 1 ] && return 0
    VMS_LOG_DIR=/tmp bash auto/install.sh || { echo "build.sh: step 'install' failed" >&2; exit 1; }
}

build_into() {   # build_into DIR [sanitize 0|1] [coverage 0|1]
    local d=$1 san=${2:-0} cov=${3:-0}
    mkdir -p "$d/logs" "$d/bin"
    # make does not see compiler flags change: objects of other flags are removed first
    if [ "$(cat "$d/.flags" 2>/dev/null)" != "sanitize=$san coverage=$cov" ]; then
        rm -rf "$d/obj" "$d/unit" "$d/fuzz" "$d/bin"/* "$d/.sanitize"
        echo "sanitize=$san coverage=$cov" > "$d/.flags"
    fi
    export VMS_SANITIZE=$san VMS_COVERAGE=$cov
    # shellcheck disable=SC2086
    step "nginx modules" "$d/logs/modules.log" auto/modules.sh "$d" ${VMS_MODULES:-}
    step "vmsd"       "$d/logs/sidecar.log" make -C sidecar B="$d" -j2
    step "test tools" "$d/logs/tools.log"   make -C tests/tools B="$d" -j2
    step "unit tests" "$d/logs/unit.log"    make -C tests/unit B="$d" -j2
    [ "$san" = 1 ] && touch "$d/.sanitize"
    unset VMS_SANITIZE VMS_COVERAGE
    echo "build.sh: built into $d"
}

build() { install; build_into "$B" "${VMS_SANITIZE:-0}"; }

# The unit tests again with the wall clock moved (Debian's faketime): a year ahead, and seconds
# before a month and a year boundary (in the local time of TZ), each in UTC and in a zone behind
# UTC, where the local day is not UTC's day for hours. A test that depends on today's date or on
# the zone fails here, not in CI some day later. libfaketime is LD_PRELOADed: the plain build
# (ASan insists on being the first DSO loaded).
unit_faketime() {
    command -v faketime >/dev/null || { echo "build.sh: faketime missing; install Debian package faketime" >&2; exit 1; }
    [ -f "$B/.sanitize" ] && { echo "unit: skipped: $B is a sanitizer build"; return 0; }
    # without the zone file glibc would quietly run these in UTC
    [ -f /usr/share/zoneinfo/America/Sao_Paulo ] || { echo "build.sh: time zone data missing; install Debian package tzdata" >&2; exit 1; }
    local at tz
    for at in "+365d" "@2027-01-31 23:59:50" "@2027-12-31 23:59:50"; do
        for tz in UTC America/Sao_Paulo; do
            echo "unit: clock at $at, TZ=$tz"
            TZ=$tz make -s -C tests/unit B="$B" run RUN_WITH="faketime -f '$at'" >"$B/logs/unit-faketime.log" 2>&1 \
                || { echo "build.sh: unit tests fail with the clock at $at, TZ=$tz; log: $B/logs/unit-faketime.log" >&2
                     grep -E '^\[  (ERROR|FAILED)|^\[   LINE|^unit: FAILED' "$B/logs/unit-faketime.log" >&2; exit 1; }
        done
    done
}

run_tests() {
    build
    echo "== unit tests"
    make -s -C tests/unit B="$B" run
    echo "== unit tests with the clock moved (faketime)"
    unit_faketime
    local sb="$B-asan"
    if [ "${VMS_TEST_SANITIZE:-1}" = 1 ]; then
        # the sanitizer build counts coverage too (gcov): unit and system tests run on it, and
        # tests/tools/coverage.py reports per folder at the end
        echo "== sanitizer build (ASan/UBSan, coverage) and its unit tests"
        build_into "$sb" 1 "${VMS_TEST_COVERAGE:-1}"
        find "$sb" -name '*.gcda' -delete
        ASAN_OPTIONS=detect_leaks=1 make -s -C tests/unit B="$sb" run
    fi
    echo "== fuzz smoke"
    step "fuzz build" "$B/logs/fuzz.log" make -C tests/fuzz B="$B" -j2
    make -s -C tests/fuzz B="$B" run
    echo "== system tests"
    local tb=$B
    [ "${VMS_TEST_SANITIZE:-1}" = 1 ] && tb=$sb
    # Most system tests wait on timers (backoff, segment durations), so two run at once; the
    # browser test (Chromium playing real-time media) runs alone afterwards.
    local pytest=("$PY" -m pytest -p no:cacheprovider)
    if [ $# -gt 0 ]; then   # a selection (-k NAME, a file): run what matches
        VMS_BUILD_DIR=$tb "${pytest[@]}" -n "${VMS_TEST_JOBS:-2}" tests/system "$@"
        return
    fi
    VMS_BUILD_DIR=$tb "${pytest[@]}" -n "${VMS_TEST_JOBS:-2}" tests/system \
        --deselect tests/system/test_browser.py::test_browser
    echo "== browser tests"
    VMS_BUILD_DIR=$tb "${pytest[@]}" tests/system/test_browser.py
    if [ "${VMS_TEST_SANITIZE:-1}" = 1 ] && [ "${VMS_TEST_COVERAGE:-1}" = 1 ]; then
        echo "== coverage (unit + system + browser tests, gcovr)"
        "$PY" tests/tools/coverage.py "$sb"
    fi
}

cmd=${1:-build}; [ $# -gt 0 ] && shift
case "$cmd" in
    build) build ;;
    run)   build; exec "$PY" tests/tools/vmsstack.py run --build "$B" "$@" ;;
    stop)  exec "$PY" tests/tools/vmsstack.py stop ;;
    token) exec "$PY" tests/tools/vmsstack.py token "$@" ;;
    test)  run_tests "$@" ;;
    bench) build; for s in bench/*.sh bench/*.py; do [ -e "$s" ] || continue; echo "== $s"; \
               case "$s" in *.py) VMS_BUILD_DIR=$B "$PY" "$s" ;; *) VMS_BUILD_DIR=$B bash "$s" ;; esac; done ;;
    clean) rm -rf "$B" "$B-asan" var ;;
    *) echo "usage: ./build.sh [build|run [--detach] [--tls]|stop|token [--role R --plan P --camera C]|test [pytest args]|bench|clean]" >&2; exit 2 ;;
esac
