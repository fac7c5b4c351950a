#!/usr/bin/env bash
# Builds our nginx modules as dynamic .so files that Debian's /usr/sbin/nginx loads:
# a copy of Debian's nginx-dev tree, configured with its exact conf_flags (incl. --with-compat)
# plus --add-dynamic-module for each module, then one make target per module.
# Usage: auto/modules.sh BUILD_DIR [module ...]   (default: every modules/*/config)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
B=${1:?build dir}; shift
src=/usr/share/nginx/src
[ -f "$src/conf_flags" ] || { echo "modules: $src/conf_flags missing; install Debian package nginx-dev" >&2; exit 1; }

mods=("$@")
if [ ${#mods[@]} -eq 0 ]; then
    for c in "$root"/modules/*/config; do mods+=("$(basename "$(dirname "$c")")"); done
fi

mkdir -p "$B/logs"
B=$(cd "$B" && pwd)
ngx="$B/nginx"
# The nginx-free library a module may link (the recording store) and the vms-index CLI come first.
make -C "$root/modules" B="$B" -j2 >"$B/logs/recstore.log" 2>&1 \
    || { echo "modules: the recording store failed to build; see $B/logs/recstore.log" >&2; tail -20 "$B/logs/recstore.log" >&2; exit 1; }
export VMS_RECSTORE_LIB="$B/lib/librecstore.a"
cc_opt="-I$root/modules/common -Wno-unused-parameter"
ld_opt=""
if [ "${VMS_SANITIZE:-0}" = 1 ]; then
    cc_opt+=" -fsanitize=address,undefined -fno-omit-frame-pointer"
    ld_opt+=" -fsanitize=address,undefined"
fi
if [ "${VMS_COVERAGE:-0}" = 1 ]; then
    cc_opt+=" --coverage -fprofile-update=atomic"
    ld_opt+=" --coverage"
fi

# Reconfigure only when the module list, a module's config file or the flags change.
# shellcheck disable=SC1091
. "$src/conf_flags"
adds=()
for m in "${mods[@]}"; do adds+=("--add-dynamic-module=$root/modules/$m"); done
stamp=$( { printf '%s\n' "${NGX_CONF_FLAGS[@]}" "${adds[@]}" "$cc_opt" "$ld_opt" "${CC:-cc}" "$VMS_RECSTORE_LIB";
           for m in "${mods[@]}"; do cat "$root/modules/$m/config"; done; } | sha256sum | cut -c1-16)
if [ ! -f "$ngx/objs/Makefile" ] || [ "$(cat "$ngx/.vms-stamp" 2>/dev/null)" != "$stamp" ]; then
    rm -rf "$ngx"; mkdir -p "$ngx"
    cp -a "$src/." "$ngx/"
    ( cd "$ngx" && CC="${CC:-cc}" ./configure "${NGX_CONF_FLAGS[@]}" "${adds[@]}" \
          --with-cc-opt="$cc_opt" --with-ld-opt="$ld_opt" ) >"$B/logs/nginx-configure.log" 2>&1 \
        || { echo "modules: configure failed; see $B/logs/nginx-configure.log" >&2; exit 1; }
    echo "$stamp" > "$ngx/.vms-stamp"
fi

mkdir -p "$B/modules"
fail=0
for m in "${mods[@]}"; do
    so="ngx_http_vms_${m}_module.so"
    # nginx's makefile does not list a library among a module's prerequisites: relink by hand
    if grep -q VMS_RECSTORE_LIB "$root/modules/$m/config" && [ "$VMS_RECSTORE_LIB" -nt "$ngx/objs/$so" ]; then
        rm -f "$ngx/objs/$so"
    fi
    if ( cd "$ngx" && make -f objs/Makefile "objs/$so" ) >"$B/logs/module-$m.log" 2>&1; then
        # A running nginx has $B/modules/$so mapped: rewriting that file in place crashes every
        # worker. Install only a newer link (the copy keeps its mtime, so an unchanged module is left
        # alone), renamed over the old file, whose inode the running nginx keeps.
        if [ "$ngx/objs/$so" -nt "$B/modules/$so" ]; then
            "$root/auto/install-atomic.sh" "$B/modules" "$ngx/objs/$so"
            echo "modules: installed $so"
        else
            echo "modules: $so unchanged"
        fi
    else
        echo "modules: $m failed; see $B/logs/module-$m.log" >&2
        tail -20 "$B/logs/module-$m.log" >&2
        fail=1
    fi
done
exit $fail
