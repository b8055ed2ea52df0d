#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Packaging tests, each in a throwaway overlay of a debootstrap chroot
# (scripts/mkchroot.sh SUITE pkg), never on this machine's /lib/modules:
#
#   pkgtest.sh dkms KEY    the kernel's Debian header packages (from the
#                          private apt cache, build/debs) installed in the
#                          chroot of its suite; make dkms-install; dkms
#                          build and install; modinfo and the published
#                          Module.symvers checked; tests/consumer built
#                          against it with its own Makefile (W=1); a kernel
#                          without CONFIG_IOMMU_DMA skipped by DKMS and
#                          refused by the build; dkms remove and make
#                          dkms-remove leave nothing behind.  The installed
#                          modules and the consumer are kept in
#                          build/dkms/KEY/ (for mkinitramfs.py --dkms).
#   pkgtest.sh deb         the Debian package, built with dpkg-buildpackage
#                          in the bookworm chroot, then lintian; result in
#                          build/deb/.
#   pkgtest.sh deb-install the package installed in a bookworm chroot with
#                          the 6.1 headers (DKMS builds the modules), its
#                          files checked, then purged (nothing left).
#
# Each prints what it checks; the last line is "pkgtest: <what>: ok" on
# success, and the exit status is non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() { die "usage: pkgtest.sh dkms KEY | deb | deb-install"; }

# kernel_debs KEY: the header packages of a kernel (headers, kbuild and,
# on newer kernels, linux-base-<abi>), as file names in build/debs.
kernel_debs() {
	python3 - "$BUILD/kernels.lock" "$1" "$BUILD/debs" <<'PY'
import json, os, re, sys
lock = json.load(open(sys.argv[1]))[sys.argv[2]]
files = os.listdir(sys.argv[3])
for name, ver in sorted(lock["packages"].items()):
    if not re.match(r"linux-(headers|kbuild|base)-", name):
        continue
    pre = f"{name}_{ver.replace(':', '%3a')}_"
    hit = [f for f in files if f.startswith(pre) and f.endswith(".deb")]
    if not hit:
        sys.exit(f"{pre}*.deb not in {sys.argv[3]}: run scripts/fetch-kernels.py {sys.argv[2]}")
    print(hit[0])
PY
}

# in_chroot SUITE NAME ARGS...: run scripts/pkgtest-chroot.sh ARGS in a
# fresh overlay of SUITE's pkg chroot, where /src is this source tree (read
# only), /debs the kernel package cache and /out build/pkgtest/NAME/out.
# Files named in the array with_files are copied to /out first.
with_files=()
in_chroot() {
	local suite=$1 name=$2 ch run rc=0
	shift 2
	ch=$("$TOP/scripts/mkchroot.sh" "$suite" pkg)
	run=$BUILD/pkgtest/$name
	rm -rf "$run"
	mkdir -p "$run/upper" "$run/work" "$run/root" "$run/out" \
		"$BUILD/chroot/$suite-pkg.archives/partial"
	cp "$TOP/scripts/pkgtest-chroot.sh" "${with_files[@]}" "$run/out/"
	# apt's downloads are kept across runs; everything else is dropped.
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --mount --propagation private /bin/bash -euc '
		ch=$1 run=$2 top=$3 debs=$4 archives=$5
		shift 5
		m=$run/root
		mount -t overlay overlay -o "lowerdir=$ch,upperdir=$run/upper,workdir=$run/work" "$m"
		mkdir -p "$m/src" "$m/debs" "$m/out"
		mount --bind "$top" "$m/src"
		mount -o remount,bind,ro "$m/src"
		mount --bind "$debs" "$m/debs"
		mount --bind "$run/out" "$m/out"
		mount --bind "$archives" "$m/var/cache/apt/archives"
		mount -t proc proc "$m/proc"
		mount --rbind /dev "$m/dev"
		mount -t tmpfs tmpfs "$m/tmp"
		cp /etc/resolv.conf "$m/etc/resolv.conf"
		exec chroot "$m" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
			/bin/bash /out/pkgtest-chroot.sh "$@"
	' pkgtest "$ch" "$run" "$TOP" "$(realpath "$BUILD/debs")" \
		"$BUILD/chroot/$suite-pkg.archives" "$@" || rc=$?
	rm -rf "$run/upper" "$run/work"
	return $rc
}

what=${1:-}
case $what in
dkms)
	key=${2:-}
	[ -n "$key" ] || usage
	abi=$(lock_get "$key" abi)
	suite=$(chroot_suite "$key")
	mapfile -t debs < <(kernel_debs "$key")
	in_chroot "$suite" "dkms-$key" dkms "$abi" "${debs[@]}"
	out=$BUILD/dkms/$key
	rm -rf "$out"
	mkdir -p "$out"
	cp -a "$BUILD/pkgtest/dkms-$key/out/root" "$BUILD/pkgtest/dkms-$key/out/dis_consumer.ko" \
		"$out/"
	echo "pkgtest: modules for the guest in $out"
	echo "pkgtest: dkms $key: ok"
	;;
deb)
	in_chroot bookworm deb deb
	mkdir -p "$BUILD/deb"
	rm -f "$BUILD"/deb/*
	cp "$BUILD"/pkgtest/deb/out/pkg/* "$BUILD/deb/"
	ls -l "$BUILD/deb/"
	echo "pkgtest: deb: ok"
	;;
deb-install)
	abi=$(lock_get 6.1 abi)
	mapfile -t debs < <(kernel_debs 6.1)
	deb=$(cd "$BUILD/deb" 2>/dev/null && ls dma-iova-shim-dkms_*_all.deb) ||
		die "no package in $BUILD/deb: run make deb"
	with_files=("$BUILD/deb/$deb")
	in_chroot bookworm deb-install deb-install "$abi" "$deb" "${debs[@]}"
	echo "pkgtest: deb-install: ok"
	;;
*) usage ;;
esac
