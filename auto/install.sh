#!/usr/bin/env bash
# Installs the Debian packages vms needs, group by group, only what is missing.
# Idempotent and quiet: one line per group.  Run as root (or with sudo on PATH).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=auto/packages.sh
. "$here/packages.sh"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install: not root and no sudo; install: ${VMS_PACKAGES[*]}" >&2; exit 1; }
    SUDO="sudo"
fi

missing_of() {
    local p out=()
    for p in "$@"; do
        dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || out+=("$p")
    done
    echo "${out[@]:-}"
}

updated=0
for group in "${VMS_PACKAGE_GROUPS[@]}"; do
    var="VMS_PKGS_${group}[@]"
    missing=$(missing_of "${!var}")
    if [ -z "$missing" ]; then
        printf 'install: %-10s ok\n' "$group"
        continue
    fi
    if [ "$updated" -eq 0 ]; then
        $SUDO apt-get update -qq >/dev/null || { echo "install: apt-get update failed" >&2; exit 1; }
        updated=1
    fi
    printf 'install: %-10s installing %s\n' "$group" "$missing"
    # shellcheck disable=SC2086
    if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing \
            >"${VMS_LOG_DIR:-/tmp}/vms-apt-$group.log" 2>&1; then
        echo "install: apt-get failed for group $group; see ${VMS_LOG_DIR:-/tmp}/vms-apt-$group.log" >&2
        exit 1
    fi
done

# Libraries are checked by pkg-config so a missing one names its Debian package.
for pc in "${!VMS_PKGCONFIG[@]}"; do
    pkg-config --exists "$pc" || { echo "install: pkg-config cannot find $pc; install Debian package ${VMS_PKGCONFIG[$pc]}" >&2; exit 1; }
done
