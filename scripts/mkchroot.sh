#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Create (once) a minimal debootstrap chroot of a Debian suite under
# build/chroot/, with what an out-of-tree module build needs.
#
#   mkchroot.sh SUITE        build/chroot/SUITE: the toolchain chroot for
#                            kernels whose headers want a newer compiler and
#                            C library than the host's (scripts/kbuild.sh)
#   mkchroot.sh SUITE pkg    build/chroot/SUITE-pkg: the same plus DKMS,
#                            debhelper, dh-dkms and lintian, and apt sources
#                            for SUITE's updates, security and backports, to
#                            test the DKMS tree and the Debian package
#                            (scripts/pkgtest.sh).  Tests never change it:
#                            they run on an overlay of it.
#
# Prints the chroot's directory.  A chroot is complete once .complete exists
# in it; an interrupted creation is started again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

suite=${1:?usage: mkchroot.sh SUITE [pkg]}
flavour=${2:-}
pkgs=gcc,make,libc6-dev,bc,bison,flex,libelf-dev,libssl-dev,kmod,xz-utils,zstd,dwarves,python3,perl,cpio,sparse,rsync
# Installed by apt inside the chroot (debootstrap cannot resolve virtual
# packages, which lintian's dependencies need).
extra=()
case $flavour in
"") dir=$BUILD/chroot/$suite ;;
pkg)
	dir=$BUILD/chroot/$suite-pkg
	extra=(dkms dh-dkms debhelper lintian fakeroot help2man dpkg-dev build-essential openssl)
	;;
*) die "unknown chroot flavour '$flavour' (known: pkg)" ;;
esac
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# apt_extra DIR LOG: install the flavour's extra packages in the chroot
# (apt resolves the virtual packages that debootstrap cannot), and note
# the list in DIR/.extra.
apt_extra() {
	if [ ! -d "$1" ] || [ -L "$1" ]; then
		die "$1 is not a chroot directory of its own"
	fi
	cp /etc/resolv.conf "$1/etc/resolv.conf"
	unshare --mount --propagation private /bin/sh -c "
		mount -t proc proc '$1/proc' &&
		chroot '$1' apt-get -q update &&
		DEBIAN_FRONTEND=noninteractive chroot '$1' \
			apt-get -q -y --no-install-recommends install ${extra[*]} &&
		chroot '$1' apt-get clean" >>"$2" 2>&1 ||
		die "apt-get in $1 failed, see $2"
	echo "${extra[*]}" >"$1/.extra"
}

if [ -f "$dir/.complete" ] && [ ${#extra[@]} -gt 0 ] &&
	[ "$(cat "$dir/.extra" 2>/dev/null)" != "${extra[*]}" ]; then
	# The list grew since the chroot was made: add what is new.
	echo "mkchroot: updating the packages of $dir" >&2
	apt_extra "$dir" "$dir.log"
fi
if [ ! -f "$dir/.complete" ]; then
	command -v debootstrap >/dev/null || die "debootstrap missing (apt-get install debootstrap)"
	name=$(basename "$dir")
	echo "mkchroot: creating $name chroot in $dir (once, a few minutes)" >&2
	rm -rf "$dir.tmp"
	mkdir -p "$BUILD/chroot/cache"
	base=$BUILD/chroot/$suite
	if [ -n "$flavour" ] && [ -f "$base/.complete" ]; then
		# The suite's toolchain chroot has the same base: start from a
		# copy of it (much faster than debootstrap).
		# Its content, into a new directory: never the base itself (it
		# may be a symbolic link), which other builds use as it is.
		echo "copying $base" >"$BUILD/chroot/$name.log"
		mkdir "$dir.tmp"
		cp -a "$base/." "$dir.tmp/"
		rm -f "$dir.tmp/.complete"
	else
		debootstrap --variant=minbase --include="$pkgs" \
			--cache-dir="$BUILD/chroot/cache" "$suite" "$dir.tmp" "$mirror" \
			>"$BUILD/chroot/$name.log" 2>&1 ||
			die "debootstrap $name failed, see $BUILD/chroot/$name.log"
	fi
	if [ "$flavour" = pkg ]; then
		# Kernel headers from the updates and backports suites depend on
		# packages of those suites (linux-base, compilers).
		cat >"$dir.tmp/etc/apt/sources.list" <<-EOF
			deb $mirror $suite main
			deb $mirror $suite-updates main
			deb $security $suite-security main
			deb $mirror $suite-backports main
		EOF
		apt_extra "$dir.tmp" "$BUILD/chroot/$name.log"
	fi
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
	touch "$dir/.complete"
fi
echo "$dir"
