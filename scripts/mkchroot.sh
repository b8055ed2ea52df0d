#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Create (once) a minimal debootstrap chroot of a Debian suite under
# build/chroot/<suite>, with what an out-of-tree module build needs.  Used for
# kernels whose headers want a newer compiler and C library than the host's.
#
# Usage: scripts/mkchroot.sh SUITE
set -euo pipefail
. "$(dirname "$0")/lib.sh"

suite=${1:?usage: mkchroot.sh SUITE}
dir=$BUILD/chroot/$suite
pkgs=gcc,make,libc6-dev,bc,bison,flex,libelf-dev,libssl-dev,kmod,xz-utils,zstd,dwarves,python3,perl,cpio,sparse,rsync

[ -f "$dir/.complete" ] && exit 0
command -v debootstrap >/dev/null || die "debootstrap missing (apt-get install debootstrap)"
echo "mkchroot: creating $suite build chroot in $dir (once, about a minute)" >&2
rm -rf "$dir.tmp"
mkdir -p "$BUILD/chroot/cache"
debootstrap --variant=minbase --include="$pkgs" \
	--cache-dir="$BUILD/chroot/cache" \
	"$suite" "$dir.tmp" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
	>"$BUILD/chroot/$suite.log" 2>&1 ||
	die "debootstrap $suite failed, see $BUILD/chroot/$suite.log"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
touch "$dir/.complete"
