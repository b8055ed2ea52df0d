#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the project's modules out of tree against one target kernel's headers.
#
# The sources are copied to build/obj/<key> (kbuild writes objects beside the
# sources, so every kernel gets its own copy) and built there with W=1.
# Kernels whose headers need a newer toolchain than the host's are built in a
# debootstrap chroot of their suite (scripts/mkchroot.sh).
#
# With --consumer, instead: build tests/consumer (an outside driver using the
# shim) with its own Makefile against the modules built before, as a driver
# developer would (its SHIM directory is the build tree: Module.symvers and
# include/).
#
# Usage: scripts/kbuild.sh KEY [--consumer] [extra make arguments...]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

key=${1:?usage: kbuild.sh KEY [--consumer] [make args]}
shift
consumer=0
if [ "${1:-}" = --consumer ]; then
	consumer=1
	shift
fi
kroot=$BUILD/kernels/$key/root
abi=$(lock_get "$key" abi)
builder=$(lock_get "$key" builder)
obj=$(realpath -m "${OBJ:-$BUILD/obj/$key}")
[ -d "$kroot/usr/src/linux-headers-$abi" ] || die "no headers for $key: run scripts/fetch-kernels.py $key"

mkdir -p "$obj"
if [ "$consumer" = 1 ]; then
	[ -s "$obj/tree/Module.symvers" ] || die "build the modules for $key first (scripts/kbuild.sh $key)"
fi
rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
	--exclude='.*.cmd' --exclude='Module.symvers' --exclude='modules.order' \
	--exclude='/build' --exclude='/.git' --exclude='/debian' \
	"$TOP/" "$obj/src.new/"
# Update only what changed so make stays incremental.
rsync -a --checksum --exclude='*.o' --exclude='*.ko' "$obj/src.new/" "$obj/tree/"
rm -rf "$obj/src.new"
if [ "$consumer" = 1 ]; then
	# modpost of an outside module does not run again when only
	# KBUILD_EXTRA_SYMBOLS changed: a consumer linked against an older
	# shim build keeps that build's symbol CRCs and fails to load
	# ("disagrees about version of symbol"); link it afresh
	rm -f "$obj/tree/tests/consumer/"*.ko "$obj/tree/tests/consumer/"*.mod* \
		"$obj/tree/tests/consumer/Module.symvers"
fi

# The compiler the kernel was built with, if this machine has it; else gcc.
cc_for() {
	local cfg=$1 want
	want=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "$cfg")
	case $want in
	x86_64-linux-gnu-gcc-*) want=${want#x86_64-linux-gnu-} ;;
	esac
	if [ -n "$want" ] && command -v "$want" >/dev/null; then
		echo "$want"
	else
		echo gcc
	fi
}

if [ "$builder" = host ]; then
	cc=$(cc_for "$kroot/usr/src/linux-headers-$abi/.config")
	if [ "$consumer" = 1 ]; then
		exec make -C "$obj/tree/tests/consumer" KDIR="$kroot/usr/src/linux-headers-$abi" \
			SHIM="$obj/tree" CC="$cc" W=1 "$@"
	fi
	exec make -C "$kroot/usr/src/linux-headers-$abi" M="$obj/tree" \
		CC="$cc" W=1 "$@"
fi

suite=$(chroot_suite "$key")
"$TOP/scripts/mkchroot.sh" "$suite" >/dev/null
ch=$BUILD/chroot/$suite
mkdir -p "$ch/kroot" "$ch/obj"
# A private mount namespace: the bind mounts vanish when the build ends.
args=$(printf ' %q' "$@")
if [ "$consumer" = 1 ]; then
	target="-C /obj/tests/consumer KDIR=/kroot/usr/src/linux-headers-$abi SHIM=/obj"
else
	target="-C /kroot/usr/src/linux-headers-$abi M=/obj"
fi
exec unshare --mount --propagation private /bin/sh -c "
	mount --bind '$kroot' '$ch/kroot' &&
	mount --bind '$obj/tree' '$ch/obj' &&
	mount -t proc proc '$ch/proc' &&
	mount --bind /dev '$ch/dev' &&
	exec chroot '$ch' /bin/sh -c 'cc=\$(sed -n \"s/^CONFIG_CC_VERSION_TEXT=\\\"\\([^ ]*\\) .*/\\1/p\" /kroot/usr/src/linux-headers-$abi/.config); command -v \"\$cc\" >/dev/null || cc=gcc; exec make $target CC=\$cc W=1 $args'"
