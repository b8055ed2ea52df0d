#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The chroot side of scripts/pkgtest.sh (which see); runs inside a throwaway
# overlay of a debootstrap chroot, as root.  /src: the source tree (read
# only); /debs: kernel packages; /out: results.
#
#   pkgtest-chroot.sh dkms ABI DEB...
#   pkgtest-chroot.sh deb
#   pkgtest-chroot.sh deb-install ABI PACKAGE DEB...
set -euo pipefail

name=dma-iova-shim
ver=$(cat /src/VERSION)
arch=$(uname -m)
log=/out/chroot.log
: >"$log"

say() { echo "pkgtest: $*"; }
die() {
	echo "pkgtest: FAIL: $*" >&2
	exit 1
}
# quiet CMD...: run CMD with its output in the log, shown only on failure.
quiet() {
	echo "+ $*" >>"$log"
	if ! "$@" >>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "$* failed (log: $log)"
	fi
}
# show CMD...: run CMD, printing its output indented.
show() {
	echo "  \$ $*"
	"$@" 2>&1 | sed 's/^/    /'
	return "${PIPESTATUS[0]}"
}

# The kernel's header packages, and what they need from the archive.
install_headers() {
	local debs=() d
	# From the private cache: apt takes a package already in its archive
	# directory (checked against the index) instead of downloading it.
	for d in "$@"; do
		cp "/debs/$d" /var/cache/apt/archives/
		debs+=("/debs/$d")
	done
	say "installing ${*}"
	if ! apt-get install -y -q --no-install-recommends "${debs[@]}" >>"$log" 2>&1; then
		# the package lists in the cached chroot may be stale
		quiet apt-get update -q
		quiet apt-get install -y -q --no-install-recommends "${debs[@]}"
	fi
}

# check_modinfo FILE: the hygiene every installed module must have.
check_modinfo() {
	local f=$1 k v p
	show modinfo "$f"
	for k in license version description author; do
		v=$(modinfo -F "$k" "$f")
		[ -n "$v" ] || die "$f: no $k in modinfo"
	done
	[ "$(modinfo -F license "$f")" = GPL ] || die "$f: license is not GPL"
	[ "$(modinfo -F version "$f")" = "$ver" ] ||
		die "$f: version $(modinfo -F version "$f"), VERSION says $ver"
	# every parameter has a description: "name:description (type)"
	while read -r p; do
		case $p in
		*:\ \(*) die "$f: parameter ${p%%:*} has no description" ;;
		esac
	done < <(modinfo -F parm "$f")
}

case ${1:-} in
dkms)
	abi=$2
	shift 2
	install_headers "$@"
	[ -e "/lib/modules/$abi/build/Makefile" ] || die "no /lib/modules/$abi/build"

	say "make dkms-install (source tree to /usr/src/$name-$ver, dkms add)"
	# the source alone: /src/build holds other kernels' builds, which a
	# parallel make check is writing (cp failed on a vanishing temp file)
	mkdir /tmp/src
	tar -C /src --exclude=./build --exclude=./.git --exclude=./.unlanded -cf - . |
		tar -xf - -C /tmp/src
	quiet make -C /tmp/src dkms-install
	[ -f "/usr/src/$name-$ver/dkms.conf" ] || die "no /usr/src/$name-$ver/dkms.conf"
	grep -q "^PACKAGE_VERSION=\"$ver\"" "/usr/src/$name-$ver/dkms.conf" ||
		die "dkms.conf does not carry version $ver"
	[ -e "/usr/src/$name-$ver/tests" ] && die "the DKMS tree holds tests/"
	show dkms build -m "$name" -v "$ver" -k "$abi" || die "dkms build failed"
	make_log=/var/lib/dkms/$name/$ver/$abi/$arch/log/make.log
	grep -q CONFTEST "$make_log" || die "the compat probes did not run in the DKMS build"
	say "compat probes ran in the DKMS build: $(grep -c CONFTEST "$make_log") CONFTEST line(s) in make.log"
	show dkms install -m "$name" -v "$ver" -k "$abi" || die "dkms install failed"
	show dkms status
	dkms status -m "$name" -v "$ver" -k "$abi" | grep -q ': installed' ||
		die "dkms status does not say installed"
	mods=$(find "/lib/modules/$abi/updates/dkms" -name '*.ko*' | sort)
	say "installed: $mods"
	echo "$mods" | grep -q '/dma_iova_shim\.ko' || die "dma_iova_shim not installed"
	if find "/lib/modules/$abi" -name 'dis_*' | grep .; then
		die "test-only modules were installed"
	fi
	for f in $mods; do
		check_modinfo "$f"
	done

	sdk=/var/lib/dkms/$name/kernel-$abi-$arch
	show ls -l "$sdk/" "$sdk/include/"
	grep -E '\sdmashim_iova_try_alloc\s' "$sdk/Module.symvers" ||
		die "no dmashim_iova_try_alloc in $sdk/Module.symvers"
	crc=$(awk '$2 == "dmashim_iova_try_alloc" { print $1 }' "$sdk/Module.symvers")
	if grep -q '^CONFIG_MODVERSIONS=y' "/lib/modules/$abi/build/.config"; then
		[ "$crc" != 0x00000000 ] || die "no CRC for dmashim_iova_try_alloc with CONFIG_MODVERSIONS"
		say "CONFIG_MODVERSIONS: the exports have CRCs ($crc for dmashim_iova_try_alloc)"
	else
		say "this kernel has no CONFIG_MODVERSIONS: no CRCs to check"
	fi

	say "consumer: make -C tests/consumer KVER=$abi W=1 (the installed Module.symvers)"
	cp -a /src/tests/consumer /tmp/consumer
	make -C /tmp/consumer KVER="$abi" W=1 >/tmp/consumer.log 2>&1 ||
		{ cat /tmp/consumer.log; die "consumer build failed"; }
	sed 's/^/    /' /tmp/consumer.log
	if grep -E 'warning:|error:' /tmp/consumer.log; then
		die "consumer build has warnings"
	fi
	show modinfo -F depends /tmp/consumer/dis_consumer.ko
	cp /tmp/consumer/dis_consumer.ko /out/
	mkdir -p "/out/root/lib/modules/$abi/updates"
	cp -a "/lib/modules/$abi/updates/dkms" "/out/root/lib/modules/$abi/updates/"

	# A kernel the shim cannot work on: the same headers without
	# CONFIG_IOMMU_DMA.  DKMS must skip it; a build by hand must stop
	# with a message naming what is missing.
	bad=$abi-noiommu
	cp -a "/usr/src/linux-headers-$abi" "/usr/src/linux-headers-$bad"
	sed -i '/^CONFIG_IOMMU_DMA=/d' "/usr/src/linux-headers-$bad/.config" \
		"/usr/src/linux-headers-$bad/include/config/auto.conf"
	sed -i '/define CONFIG_IOMMU_DMA 1/d' "/usr/src/linux-headers-$bad/include/generated/autoconf.h"
	# newer headers name their own directory (KBUILD_OUTPUT) in the Makefile
	sed -i "s|/linux-headers-$abi\$|/linux-headers-$bad|" "/usr/src/linux-headers-$bad/Makefile"
	mkdir -p "/lib/modules/$bad"
	ln -s "/usr/src/linux-headers-$bad" "/lib/modules/$bad/build"
	rc=0
	show dkms build -m "$name" -v "$ver" -k "$bad" || rc=$?
	[ "$rc" = 77 ] || die "dkms build for a kernel without CONFIG_IOMMU_DMA: exit $rc, not 77 (skipped)"
	say "DKMS skips a kernel without CONFIG_IOMMU_DMA (exit 77)"
	rc=0
	make -C "/lib/modules/$bad/build" M="/usr/src/$name-$ver" \
		>/tmp/bad.log 2>&1 || rc=$?
	grep -E 'error: #error' /tmp/bad.log | sed 's/^/    /'
	if [ "$rc" = 0 ] || ! grep -q 'needs a kernel with CONFIG_IOMMU_DMA' /tmp/bad.log; then
		die "a build without CONFIG_IOMMU_DMA did not stop with the expected #error"
	fi
	[ -e "/usr/src/$name-$ver/src/shim/dma_iova_shim.ko" ] && die "a module was produced anyway"
	say "a build by hand stops with the #error above, no module"
	# that build wrote into the source tree: leave it as installed
	make -C "/lib/modules/$abi/build" M="/usr/src/$name-$ver" clean >/dev/null 2>&1

	say "make dkms-remove"
	quiet make -C /tmp/src dkms-remove
	show dkms status
	[ -z "$(dkms status -m "$name")" ] || die "dkms still lists $name"
	[ ! -e "/var/lib/dkms/$name" ] || die "/var/lib/dkms/$name left behind"
	[ ! -e "/usr/src/$name-$ver" ] || die "/usr/src/$name-$ver left behind"
	if find "/lib/modules/$abi" -name 'dma_iova_shim*' | grep .; then
		die "modules left behind"
	fi
	say "dkms $abi: ok"
	;;
deb)
	say "building the package (dpkg-buildpackage) from a copy of /src"
	mkdir -p /tmp/pkg
	rsync -a --exclude=/build --exclude=/.git /src/ "/tmp/pkg/$name-$ver/"
	cd "/tmp/pkg/$name-$ver"
	# The version's one place is VERSION: the changelog is made from it.
	cat >debian/changelog <<-EOF
		$name ($ver) unstable; urgency=medium

		  * Release $ver (see the project's history).

		 -- dma-iova-shim developers <dma-iova-shim@users.noreply.example.org>  $(date -R -d @"$(stat -c %Y /src/VERSION)")
	EOF
	quiet dpkg-buildpackage -us -uc
	cd /tmp/pkg
	mkdir -p /out/pkg
	cp ./*.deb ./*.dsc ./*.tar.* ./*.changes ./*.buildinfo /out/pkg/
	deb=$(ls ./*.deb)
	show dpkg-deb -I "$deb"
	show dpkg-deb -c "$deb"
	say "lintian (fails on errors and warnings; overrides in debian/)"
	show lintian --fail-on error,warning --info --display-info --pedantic \
		./*.changes || die "lintian found errors or warnings"
	say "deb: ok"
	;;
deb-install)
	abi=$2 deb=$3
	shift 3
	install_headers "$@"
	say "apt-get install $deb"
	show apt-get install -y -q --no-install-recommends "/out/$deb" ||
		die "installing the package failed"
	show dkms status
	dkms status -m "$name" -v "$ver" -k "$abi" | grep -q ': installed' ||
		die "installing the package did not build and install the modules"
	ls "/lib/modules/$abi/updates/dkms/"dma_iova_shim.ko* >/dev/null ||
		die "no dma_iova_shim in /lib/modules/$abi/updates/dkms"
	sdk=/var/lib/dkms/$name/kernel-$abi-$arch
	for f in "$sdk/Module.symvers" "$sdk/include/dma-iova-shim.h" \
		"/usr/src/$name-$ver/include/dma-iova-shim.h" \
		"/usr/share/doc/$name-dkms/README.Debian"; do
		[ -e "$f" ] || die "$f missing"
		echo "    $f"
	done
	# the tools of debian/tools.list: on PATH, with the package's version
	# and a man page
	grep -v -e '^#' -e '^[[:space:]]*$' /src/debian/tools.list |
		while read -r src dst _; do
			t=$(basename "$dst")
			[ -x "/$dst" ] || die "/$dst ($src) not installed"
			"$t" --help >/dev/null || die "$t --help failed"
			v=$("$t" --version) || die "$t --version failed"
			case $v in *" $ver") ;; *) die "$t --version says '$v', not $ver" ;; esac
			ls /usr/share/man/man*/"$t".*.gz >/dev/null 2>&1 || die "no man page for $t"
			echo "    /$dst: $v, man page $(ls /usr/share/man/man*/"$t".*.gz)"
		done || exit 1
	say "apt-get purge $name-dkms"
	show apt-get purge -y -q "$name-dkms" || die "removing the package failed"
	for f in "/var/lib/dkms/$name" "/usr/src/$name-$ver" \
		"/lib/modules/$abi/updates/dkms/dma_iova_shim.ko"; do
		[ ! -e "$f" ] || die "$f left behind"
	done
	if find "/lib/modules/$abi" -name 'dma_iova_shim*' | grep .; then
		die "modules left behind"
	fi
	say "deb-install: ok"
	;;
*)
	die "usage: pkgtest-chroot.sh dkms ABI DEB... | deb | deb-install ABI PACKAGE DEB..."
	;;
esac
