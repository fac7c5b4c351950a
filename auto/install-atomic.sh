#!/usr/bin/env bash
# Installs files so that a process using the old ones survives: each file is copied (mode and mtime
# kept) to a temporary name in the destination directory, then renamed over the old file. The rename
# is atomic within one file system, and a running process that has the old file mapped (an nginx
# with our module loaded, a running vmsd) keeps the old inode; rewriting the file in place would
# change the code under it and crash it.
# Usage: auto/install-atomic.sh DEST_DIR FILE...
set -euo pipefail
dest=${1:?usage: install-atomic.sh DEST_DIR FILE...}; shift
mkdir -p "$dest"
for f in "$@"; do
    n=$(basename "$f")
    cp -p "$f" "$dest/.$n.tmp.$$"
    mv -f "$dest/.$n.tmp.$$" "$dest/$n"
done
