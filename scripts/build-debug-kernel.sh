#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build a lockdep/KASAN/kmemleak/DMA-API-debug kernel from Debian's own 6.1
# source and lay it out as target kernel "6.1-debug" of the test harness.
#
# The stock Debian kernels the matrix runs have none of the checkers that
# catch locking, memory and DMA API misuse, and a distribution build of
# one with them takes hours.  This builds the linux-source-6.1 package of the
# same Debian release as key "6.1" of build/kernels.lock, with a small
# configuration (allnoconfig + scripts/debug-kernel.config: only what the
# QEMU guests of scripts/run-vm.py use), and installs the result the way
# scripts/fetch-kernels.py unpacks a downloaded kernel:
#
#   BUILD/kernels/6.1-debug/root/boot/vmlinuz-ABI
#   BUILD/kernels/6.1-debug/root/lib/modules/ABI/        (depmod run)
#   BUILD/kernels/6.1-debug/root/usr/src/linux-headers-ABI -> the O= tree
#   BUILD/kernels/6.1-debug/{vmlinuz,modules,headers}    (symlinks)
#
# so that kbuild.sh, mkinitramfs.py, run-vm.py and prepare-guest.sh take it
# unchanged, and merges its entry into BUILD/kernels.lock.  Nothing is
# installed on the host; the source package comes through the project's
# private apt configuration (BUILD/apt, made by fetch-kernels.py).
#
# Work tree: BUILD/debug-kernel/{src,obj}.  The object tree is kept, so a
# configuration change rebuilds incrementally.  A stamp (hash of the source
# package, the fragment, the patches and LAYOUT) makes an unchanged re-run a
# no-op.  scripts/debug-kernel-patches/*.patch are applied to the source:
# local fixes of the debug build, each saying why.
#
# Usage: scripts/build-debug-kernel.sh [--force]
# Environment: JOBS (default: nproc).
# Output (stdout, last line): "6.1-debug VERSION ABI", as fetch-kernels.py.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KEY=6.1-debug
BASE_KEY=6.1
SRC_PKG=linux-source-6.1
# Bump when the layout or the build steps change, so cached builds are redone.
LAYOUT=2
FRAGMENT=$TOP/scripts/debug-kernel.config
# Debian 6.1 is built with gcc-12 (CONFIG_CC_VERSION_TEXT of its headers);
# kbuild.sh picks the same compiler for the project's modules.
CC_BIN=gcc-12

force=0
case ${1:-} in
--force) force=1 ;;
"") ;;
*) die "usage: build-debug-kernel.sh [--force]" ;;
esac

work=$BUILD/debug-kernel
kdir=$BUILD/kernels/$KEY
stamp=$work/stamp
lockfile=$BUILD/kernels.lock
export APT_CONFIG=$BUILD/apt/etc/apt.conf

log() {
	echo "build-debug-kernel: $*" >&2
}

# The private apt configuration and the lock entry of the stock 6.1 kernel
# come from fetch-kernels.py.
if [ ! -f "$APT_CONFIG" ] || [ ! -f "$lockfile" ] ||
	! lock_get "$BASE_KEY" version >/dev/null 2>&1; then
	log "no private apt configuration or no $BASE_KEY lock entry yet: fetching $BASE_KEY"
	python3 "$TOP/scripts/fetch-kernels.py" --build "$BUILD" "$BASE_KEY" >/dev/null
fi
base_version=$(lock_get "$BASE_KEY" version)
base_abi=$(lock_get "$BASE_KEY" abi)
# 6.1.0-57-amd64 -> 6.1.0-57-debug: the ABI number says which Debian
# release the source is, the flavour keeps it apart from the stock kernel.
abi=${base_abi%-amd64}-debug

# --- The source package ------------------------------------------------------

# madison rows "pkg | version | url suite/main arch Packages" -> "version suite"
madison() {
	apt-cache madison "$SRC_PKG" 2>/dev/null |
		awk -F'|' '{ gsub(/ /, "", $2); split($3, a, " "); sub(/\/.*/, "", a[2]); print $2, a[2] }'
}

# The source of exactly the stock kernel's version if the archive has it,
# else the newest one of bookworm/bookworm-security.  A cached .deb of the
# wanted version is enough (no archive access needed).
pick_source() {
	local rows v
	src_deb=$(find "$BUILD/debs" -maxdepth 1 -name "${SRC_PKG}_${base_version}_all.deb" 2>/dev/null | head -n1)
	if [ -n "$src_deb" ] && [ -f "$work/source.suite" ]; then
		src_version=$base_version
		src_suite=$(cat "$work/source.suite")
		return
	fi
	rows=$(madison | awk '$2 == "bookworm" || $2 == "bookworm-security"')
	if [ -z "$rows" ]; then
		# Package lists older than the source package: refresh them
		# (not the lock, which fetch-kernels.py --refresh would redo).
		log "apt-get update (private configuration)"
		apt-get -q update >&2
		rows=$(madison | awk '$2 == "bookworm" || $2 == "bookworm-security"')
	fi
	[ -n "$rows" ] || die "no $SRC_PKG in bookworm/bookworm-security (private apt lists)"
	if grep -q "^$base_version " <<<"$rows"; then
		src_version=$base_version
	else
		src_version=""
		while read -r v _; do
			if [ -z "$src_version" ] || dpkg --compare-versions "$v" gt "$src_version"; then
				src_version=$v
			fi
		done <<<"$rows"
		log "$SRC_PKG $base_version not in the archive, using $src_version"
	fi
	src_suite=$(awk -v v="$src_version" '$1 == v { print $2; exit }' <<<"$rows")
	src_deb=$BUILD/debs/${SRC_PKG}_${src_version}_all.deb
}

mkdir -p "$work" "$BUILD/debs"
pick_source
echo "$src_suite" >"$work/source.suite"

# --- Cache check ---------------------------------------------------------------

# Local fixes to the debug build, applied in name order (each says why).
patches=("$TOP"/scripts/debug-kernel-patches/*.patch)
[ -e "${patches[0]}" ] || patches=()
patch_set=$(cat "${patches[@]}" </dev/null | sha256sum | cut -d' ' -f1)

want=$( {
	echo "layout $LAYOUT abi $abi cc $CC_BIN"
	basename "$src_deb"
	cat "$FRAGMENT"
	echo "patches $patch_set"
} | sha256sum | cut -d' ' -f1)

# lock_entry: the kernels.lock entry of this kernel, as JSON.
lock_entry() {
	python3 - "$KEY" "$src_version" "$src_suite" "$abi" "$SRC_PKG" <<'PY'
import json, sys
key, version, suite, abi, pkg = sys.argv[1:]
print(json.dumps({"key": key, "version": version, "suite": suite, "abi": abi,
                  "builder": "host", "packages": {pkg: version}},
                 indent=1, sort_keys=True))
PY
}

# merge_lock: add or replace this kernel's entry in kernels.lock, keeping
# every other key; written to a temporary file and renamed over the old one
# so that a concurrent reader never sees half a file.
merge_lock() {
	local entry
	entry=$(lock_entry)
	python3 - "$lockfile" "$KEY" "$entry" <<'PY'
import json, os, sys
path, key, entry = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
lock = {}
if os.path.exists(path):
    with open(path) as f:
        lock = json.load(f)
if lock.get(key) == entry:
    sys.exit(0)
lock[key] = entry
tmp = f"{path}.{os.getpid()}.tmp"
with open(tmp, "w") as f:
    json.dump(lock, f, indent=1, sort_keys=True)
os.replace(tmp, path)
PY
}

if [ "$force" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
	[ -e "$kdir/vmlinuz" ] && [ -e "$kdir/headers/Module.symvers" ]; then
	merge_lock
	echo "$KEY $src_version $abi"
	exit 0
fi

if [ ! -f "$src_deb" ]; then
	log "downloading $SRC_PKG $src_version"
	(cd "$BUILD/debs" && apt-get -q download "$SRC_PKG=$src_version") >&2
fi
[ -f "$src_deb" ] || die "download of $SRC_PKG $src_version produced no file"

# --- Unpack (once per source package) ------------------------------------------

src=$work/src/$SRC_PKG
unpack() {
	log "unpacking $(basename "$src_deb")"
	rm -rf "$work/src"
	mkdir -p "$work/src"
	dpkg-deb --fsys-tarfile "$src_deb" |
		tar -xO "./usr/src/$SRC_PKG.tar.xz" | tar -xJ -C "$work/src"
	basename "$src_deb" >"$work/src/.unpacked"
}
if [ ! -f "$work/src/.unpacked" ] || [ "$(cat "$work/src/.unpacked")" != "$(basename "$src_deb")" ]; then
	rm -rf "$work/obj"	# another source: nothing of the old build holds
	unpack
fi
[ -f "$src/Makefile" ] || die "no $src/Makefile after unpacking $(basename "$src_deb")"
# The patch set: on a source that had another one, unpack again (the
# object tree stays: make rebuilds what the patches touch).
if [ "$(cat "$work/src/.patched" 2>/dev/null || echo none)" != "$patch_set" ]; then
	[ -f "$work/src/.patched" ] && unpack
	for p in "${patches[@]}"; do
		log "applying $(basename "$p")"
		patch -d "$src" -p1 --forward --quiet <"$p" >&2 ||
			die "$(basename "$p") does not apply to $(basename "$src_deb")"
	done
	echo "$patch_set" >"$work/src/.patched"
fi

# --- Configure -----------------------------------------------------------------

obj=$work/obj
mkdir -p "$obj"
# KERNELRELEASE on the command line is how Debian gives its kernels their
# ABI name (UTS_RELEASE, /lib/modules/ABI) while kernel.release keeps the
# upstream version; external module builds then read it from utsrelease.h.
kmake=(make -C "$src" O="$obj" CC="$CC_BIN" HOSTCC="$CC_BIN" KERNELRELEASE="$abi")

log "configuring (allnoconfig + $(basename "$FRAGMENT"))"
# allnoconfig, not defconfig: everything the guests do not use stays out
# (no network, USB, DRM, sound, virtio, ...) without a list of what to cut.
# olddefconfig then gives the options the fragment makes visible their
# defaults.  The new .config replaces the old one only if it differs, so
# an unchanged configuration leaves the object tree's timestamps alone.
# 64BIT is set before allnoconfig: otherwise allnoconfig computes a 32-bit
# configuration first, whose values (FRAME_WARN=1024, the frame-pointer
# unwinder) olddefconfig would keep.
cfg=$work/config.new
echo "CONFIG_64BIT=y" >"$work/allno.config"
"${kmake[@]}" -s KCONFIG_CONFIG="$cfg" KCONFIG_ALLCONFIG="$work/allno.config" \
	allnoconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$work" "$cfg" "$FRAGMENT" >/dev/null
# merge_config.sh writes its result to .config of the -O directory.
mv "$work/.config" "$cfg"
"${kmake[@]}" -s KCONFIG_CONFIG="$cfg" olddefconfig >/dev/null
if ! cmp -s "$cfg" "$obj/.config"; then
	mv "$cfg" "$obj/.config"
fi
rm -f "$cfg" "$cfg.old"

# Every line of the fragment must have survived Kconfig: an option whose
# dependencies are unmet is dropped silently, and the kernel would lack a
# checker the tests count on.
missing=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF -- "$line" "$obj/.config" && continue
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		grep -q "^$sym=" "$obj/.config" || continue
		;;
	*) continue ;;
	esac
	sym=${line#\# }
	sym=${sym%%[= ]*}
	echo "build-debug-kernel: not in .config: '$line' (got: $(grep -E "^$sym=|^# $sym is not set" "$obj/.config" || echo absent))" >&2
	missing=1
done <"$FRAGMENT"
[ "$missing" = 0 ] || die "configuration incomplete, fix $FRAGMENT"

# --- Build ---------------------------------------------------------------------

jobs=${JOBS:-$(nproc)}
log "building bzImage and modules (-j$jobs, $abi)"
start=$(date +%s)
"${kmake[@]}" -j"$jobs" bzImage modules >"$work/build.log" 2>&1 ||
	{ tail -n 40 "$work/build.log" >&2; die "kernel build failed (log: $work/build.log)"; }
log "built in $(($(date +%s) - start)) s"

# --- Lay out like fetch-kernels.py's unpack() ----------------------------------

tmpk=$kdir.new
rm -rf "$tmpk"
mkdir -p "$tmpk/root/boot" "$tmpk/root/usr/src"
"${kmake[@]}" -s INSTALL_MOD_PATH="$tmpk/root" INSTALL_MOD_STRIP=1 modules_install >&2
moddir=$tmpk/root/lib/modules/$abi
[ -f "$moddir/modules.builtin" ] || die "modules_install left no modules.builtin"
[ -f "$moddir/modules.dep" ] || depmod -b "$tmpk/root" "$abi"
# The build/source links point into the work tree by absolute paths, as
# those of an installed kernel do into /usr/src: replace them by the same
# relative link as the headers.
rm -f "$moddir/build" "$moddir/source"
ln -s "../../../usr/src/linux-headers-$abi" "$moddir/build"
cp "$obj/arch/x86/boot/bzImage" "$tmpk/root/boot/vmlinuz-$abi"
cp "$obj/System.map" "$tmpk/root/boot/System.map-$abi"
cp "$obj/.config" "$tmpk/root/boot/config-$abi"
# The headers are the O= object tree itself (Module.symvers, .config,
# include/generated, scripts/ and its Makefile naming the source tree):
# an external module build needs nothing else, and a link keeps it
# incremental.  Relative, so that BUILD can move as a whole.
ln -s "../../../../../debug-kernel/obj" "$tmpk/root/usr/src/linux-headers-$abi"
ln -s "root/lib/modules/$abi" "$tmpk/modules"
ln -s "root/boot/vmlinuz-$abi" "$tmpk/vmlinuz"
ln -s "root/usr/src/linux-headers-$abi" "$tmpk/headers"
[ -f "$tmpk/headers/Module.symvers" ] || die "no Module.symvers in the headers link"
rm -rf "$kdir"
mv "$tmpk" "$kdir"

merge_lock
echo "$want" >"$stamp"
log "kernels.lock entry:"
lock_entry >&2
echo "$KEY $src_version $abi"
