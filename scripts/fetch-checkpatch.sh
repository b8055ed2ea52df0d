#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fetch checkpatch.pl (with its data files) from Debian's linux-source
# package of the newest kernel fetched into build/tools/checkpatch (cached),
# with checker-valid.sh, which newer headers packages need for sparse but
# do not ship.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dest=$BUILD/tools/checkpatch
[ -x "$dest/checkpatch.pl" ] && exit 0
# the newest kernel fetched so far
ver=$(python3 -c '
import json, subprocess, sys
best = None
for v in (k["version"] for k in json.load(open(sys.argv[1])).values()):
    if best is None or subprocess.run(["dpkg", "--compare-versions", v, "gt", best]).returncode == 0:
        best = v
print(best)' "$BUILD/kernels.lock") || die "no kernels fetched yet (scripts/fetch-kernels.py)"
series=${ver%%-*}
series=${series%.*}
export APT_CONFIG=$BUILD/apt/etc/apt.conf
mkdir -p "$BUILD/debs" "$dest.tmp"
cd "$BUILD/debs"
deb=$(ls "linux-source-${series}_${ver}_all.deb" 2>/dev/null || true)
if [ -z "$deb" ]; then
	echo "fetch-checkpatch: downloading linux-source-$series $ver" >&2
	apt-get -q download "linux-source-$series=$ver" >/dev/null
	deb=$(ls "linux-source-${series}_${ver}_all.deb")
fi
# checker-valid.sh only exists in newer trees: a missing member is fine,
# a missing checkpatch.pl is not.
dpkg-deb --fsys-tarfile "$deb" |
	tar -x -O --wildcards '*/linux-source-*.tar.xz' |
	tar -xJ -C "$dest.tmp" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch' '*/scripts/checker-valid.sh' \
		'*/.clang-format' 2>/dev/null || true
[ -f "$dest.tmp/scripts/checkpatch.pl" ] || die "no checkpatch.pl in $deb"
mkdir -p "$dest"
mv "$dest.tmp"/scripts/* "$dest/"
[ -f "$dest.tmp/.clang-format" ] && mv "$dest.tmp/.clang-format" "$dest/"
rm -rf "$dest.tmp"
