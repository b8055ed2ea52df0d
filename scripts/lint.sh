#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Static checks.  Each subcommand prints its findings and exits non-zero if
# there are any:
#   lint.sh checkpatch        checkpatch.pl --strict on every C source/header
#   lint.sh sparse KEY        sparse (C=2) build against one target kernel
#                             (exit 77: no usable sparse for that kernel)
#   lint.sh shellcheck        shellcheck on every shell script
#   lint.sh version-code      no LINUX_VERSION_CODE outside the compat layers
#   lint.sh abi-crc KEY       the shim's symbol CRCs (what a driver built
#                             against it checks at load) do not move when
#                             its internal header pulls in more kernel types
set -euo pipefail
. "$(dirname "$0")/lib.sh"

c_sources() {
	cd "$TOP" && git ls-files -co --exclude-standard -- \
		'src/*.c' 'src/*.h' 'include/*.h' 'tests/*.c' 'tests/*.h'
}

case ${1:-} in
checkpatch)
	"$TOP/scripts/fetch-checkpatch.sh"
	cp=$BUILD/tools/checkpatch/checkpatch.pl
	# ALLOC_WITH_SIZEOF asks for kzalloc_obj() & co., which none of the
	# target kernels before 7.x have.
	out=$(c_sources | (cd "$TOP" && xargs -r perl "$cp" --strict --no-tree \
		--terse --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,ALLOC_WITH_SIZEOF -f) || true)
	bad=$(printf '%s\n' "$out" | grep -E ': (ERROR|WARNING|CHECK):' || true)
	[ -z "$bad" ] && exit 0
	printf '%s\n' "$bad"
	exit 1
	;;
sparse)
	key=${2:?usage: lint.sh sparse KEY}
	"$TOP/scripts/fetch-checkpatch.sh"
	common=$(ls -d "$BUILD/kernels/$key/root/usr/src/"linux-headers-*-common 2>/dev/null || true)
	if [ -n "$common" ] && [ ! -e "$common/scripts/checker-valid.sh" ] &&
		[ -f "$BUILD/tools/checkpatch/checker-valid.sh" ] &&
		grep -q checker-valid "$common/Makefile"; then
		cp "$BUILD/tools/checkpatch/checker-valid.sh" "$common/scripts/"
	fi
	log=$(OBJ=$BUILD/obj-lint/$key "$TOP/scripts/kbuild.sh" "$key" C=2 2>&1) ||
		{ printf '%s\n' "$log"; exit 1; }
	if printf '%s\n' "$log" | grep -q 'sparse is not available or not up to date'; then
		# 7.x headers use __typeof_unqual__, which no sparse in Debian's
		# archive understands yet; the kernel's checker-valid.sh says so.
		echo "no sparse in Debian understands $key's headers (__typeof_unqual__): checker-valid.sh rejects it"
		exit 77
	fi
	bad=$(printf '%s\n' "$log" | grep -E 'warning:|error:' || true)
	[ -z "$bad" ] && exit 0
	printf '%s\n' "$bad"
	exit 1
	;;
shellcheck)
	command -v shellcheck >/dev/null || die "shellcheck missing (apt-get install shellcheck)"
	cd "$TOP"
	rc=0
	for f in $(git ls-files -co --exclude-standard -- 'scripts/*.sh' .ci/run tests/guest/init debian/install-tools); do
		shellcheck -x -P "$TOP/scripts" "$f" || rc=1
	done
	# guest tests: busybox sh, sourced by run_test after lib.sh
	for f in $(git ls-files -co --exclude-standard -- 'tests/guest/*.sh'); do
		shellcheck -s sh -x -P "$TOP/tests/guest" -e SC2034,SC2154 "$f" || rc=1
	done
	exit $rc
	;;
version-code)
	cd "$TOP"
	bad=$(git grep -n LINUX_VERSION_CODE -- src include tests |
		grep -v '^src/compat/' || true)
	[ -z "$bad" ] && exit 0
	echo "LINUX_VERSION_CODE outside the compat layer:"
	printf '%s\n' "$bad"
	exit 1
	;;
abi-crc)
	key=${2:?usage: lint.sh abi-crc KEY}
	# The tree as it is (make check's own build, brought up to date), then
	# a copy whose src/shim/shim.h includes two more kernel headers first.
	obj=$BUILD/obj/$key
	more=$BUILD/obj-lint/abi-$key
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	OBJ=$obj "$TOP/scripts/kbuild.sh" "$key" >"$tmp/log" 2>&1 ||
		{ cat "$tmp/log"; die "abi-crc: the build for $key failed"; }
	mkdir "$tmp/src"
	(cd "$TOP" && git ls-files -co --exclude-standard -z |
		xargs -0 cp --parents -t "$tmp/src")
	sed -i '0,/^#include/s//#include <linux\/blkdev.h>\n#include <linux\/perf_event.h>\n#include/' \
		"$tmp/src/src/shim/shim.h"
	grep -q 'perf_event.h' "$tmp/src/src/shim/shim.h" || die "abi-crc: could not change shim.h"
	BUILD=$BUILD OBJ=$more "$tmp/src/scripts/kbuild.sh" "$key" >"$tmp/log" 2>&1 ||
		{ cat "$tmp/log"; die "abi-crc: the changed build for $key failed"; }
	crcs() { awk '$2 ~ /^dmashim_/ { print $2, $1 }' "$1/tree/Module.symvers" | sort; }
	crcs "$obj" >"$tmp/before"
	crcs "$more" >"$tmp/after"
	[ -s "$tmp/before" ] || die "abi-crc: no dmashim_ export in $obj/tree/Module.symvers"
	bad=$(diff "$tmp/before" "$tmp/after" || true)
	if [ -z "$bad" ]; then
		echo "abi-crc $key: $(wc -l <"$tmp/before") CRCs unchanged"
		exit 0
	fi
	echo "the CRCs of the shim's exports follow its internal headers (export from src/shim/exports.c only):"
	printf '%s\n' "$bad"
	exit 1
	;;
*)
	die "usage: lint.sh checkpatch|sparse KEY|shellcheck|version-code|abi-crc KEY"
	;;
esac
