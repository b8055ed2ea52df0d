#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Move a PCI NVMe controller between the stock nvme driver and nvme_iova.
#
#   bind-nvme.sh [--dry-run] [--force] {to-demo|to-stock|status} DEV
#
# DEV: a PCI address (0000:00:11.0 or 00:11.0), a stock controller name
# (nvme1, /dev/nvme1) or a demo one (nvmeiova0, /dev/nvmeiova0).
#
# The controller's namespaces disappear from the system while it moves, so:
#  - a controller with a namespace (or partition) that is mounted, used as
#    swap, held by md/dm/... (/sys/block/*/holders), open by a process, or
#    that holds the root file system is refused, whatever the options;
#  - a controller with namespaces that are idle moves only with --force;
#  - a controller without block devices moves freely.
# --dry-run prints the steps and changes nothing.  NVME_IOVA_PARAMS (e.g.
# "map_mode=sg") is passed to modprobe when nvme_iova has to be loaded.
#
# Exit status: 0 done (or already bound there), 1 the (un)bind failed,
# 2 usage, 3 no such NVMe controller, 4 refused: in use, 5 refused: has
# block devices and no --force, 6 the target driver cannot be loaded.
#
# It works the same on a test host and in the guest (busybox sh), whose
# image carries it as /tests/bind-nvme.sh.

# set by the package's installer (debian/install-tools); else ../VERSION
PKG_VERSION=
DRY=0
FORCE=0
ACTION=
DEV=

die() {
	_rc=$1
	shift
	echo "bind-nvme: $*" >&2
	exit "$_rc"
}

usage() {
	echo "usage: bind-nvme.sh [--dry-run] [--force] {to-demo|to-stock|status} DEV" >&2
	exit 2
}

help() {
	cat <<'EOF2'
Usage: bind-nvme.sh [--dry-run] [--force] {to-demo|to-stock|status} DEV

Move a PCI NVMe controller between the stock nvme driver and nvme_iova
(the dma-iova-shim demo driver), or show which driver holds it.

DEV is a PCI address (0000:00:11.0 or 00:11.0), a stock controller name
(nvme1, /dev/nvme1) or a demo one (nvmeiova0, /dev/nvmeiova0).

A controller whose namespaces are mounted, used as swap, held by
md/dm/LVM, open by a process, or that holds the root file system is
refused, whatever the options.  One with idle namespaces moves only with
--force.  NVME_IOVA_PARAMS (e.g. "map_mode=sg") is passed to modprobe when
nvme_iova has to be loaded.

Options:
  -n, --dry-run   print the steps, change nothing
  -f, --force     move a controller whose namespaces are idle
  -h, --help      this text
  --version       the version

Exit status: 0 done (or already there), 1 the (un)bind failed, 2 usage,
3 no such NVMe controller, 4 refused: in use, 5 refused: has block devices
and no --force, 6 the target driver cannot be loaded.
EOF2
	exit 0
}

while [ $# -gt 0 ]; do
	case $1 in
	--dry-run | -n) DRY=1 ;;
	--force | -f) FORCE=1 ;;
	-h | --help) help ;;
	--version)
		[ -n "$PKG_VERSION" ] ||
			PKG_VERSION=$(cat "$(dirname "$0")/../VERSION" 2>/dev/null) || PKG_VERSION=unknown
		echo "bind-nvme.sh (dma-iova-shim) $PKG_VERSION"
		exit 0 ;;
	to-demo | to-stock | status)
		[ -z "$ACTION" ] || usage
		ACTION=$1 ;;
	-*) usage ;;
	*)
		[ -z "$DEV" ] || usage
		DEV=$1 ;;
	esac
	shift
done
if [ -z "$ACTION" ] || [ -z "$DEV" ]; then
	usage
fi

# run CMD...: do it, or print it under --dry-run
run() {
	if [ "$DRY" = 1 ]; then
		echo "would: $*"
		return 0
	fi
	sh -c "$*"
}

# --- find the controller ---------------------------------------------------
resolve_bdf() {
	_d=${1#/dev/}
	case $_d in
	nvmeiova[0-9]*)
		_f=/sys/class/nvme_iova/${_d%%n[0-9]*}/address
		[ -r "$_f" ] || _f=/sys/class/nvme_iova/$_d/address
		[ -r "$_f" ] && cat "$_f" && return 0 ;;
	nvme[0-9]*)
		_c=$(echo "$_d" | sed 's/^\(nvme[0-9]*\).*/\1/')
		[ -r "/sys/class/nvme/$_c/address" ] &&
			cat "/sys/class/nvme/$_c/address" && return 0 ;;
	*:*)
		case $_d in
		????:??:??.?) ;;
		??:??.?) _d=0000:$_d ;;
		esac
		[ -d "/sys/bus/pci/devices/$_d" ] && echo "$_d" && return 0 ;;
	esac
	return 1
}

BDF=$(resolve_bdf "$DEV") || die 3 "$DEV: no such NVMe controller"
PCI=/sys/bus/pci/devices/$BDF
read -r CLASS <"$PCI/class"
[ "$CLASS" = 0x010802 ] || die 3 "$BDF is not an NVMe controller (class $CLASS)"

current_driver() {
	if [ -e "$PCI/driver" ]; then
		basename "$(readlink "$PCI/driver")"
	else
		echo none
	fi
}

# Controller name(s) and block devices that live on this PCI function.
ctrl_names() {
	for c in /sys/class/nvme/* /sys/class/nvme_iova/*; do
		[ -r "$c/address" ] || continue
		[ "$(cat "$c/address")" = "$BDF" ] && basename "$c"
	done
}

block_devs() {
	for b in /sys/block/*; do
		[ -e "$b" ] || continue
		p=$(readlink -f "$b")
		case $p in
		*/"$BDF"/*) basename "$b"; continue ;;
		esac
		# native NVMe multipath: the visible head is virtual, its paths
		# hang below the controller
		for m in "$b"/multipath/*; do
			[ -e "$m" ] || continue
			case $(readlink -f "$m") in
			*/"$BDF"/*) basename "$b"; break ;;
			esac
		done
	done
}

# A block device and its partitions, as names.
with_parts() {
	echo "$1"
	for p in /sys/block/"$1"/"$1"*; do
		[ -e "$p/partition" ] && basename "$p"
	done
}

# words LIST: a newline-separated list on one line, space-separated
words() {
	printf '%s' "$1" | tr '\n' ' '
}

BLOCKS=$(for b in $(block_devs); do with_parts "$b"; done)
CTRLS=$(ctrl_names)

if [ "$ACTION" = status ]; then
	echo "$BDF driver=$(current_driver) controllers=$(words "$CTRLS") blocks=$(words "$BLOCKS")"
	exit 0
fi

# --- in-use checks (nothing overrides them) ---------------------------------
busy=""
root_majmin=$(awk '$5 == "/" { print $3 }' /proc/self/mountinfo 2>/dev/null)
for n in $BLOCKS; do
	mm=$(cat "/sys/class/block/$n/dev" 2>/dev/null)
	if [ -n "$mm" ] && [ "$mm" = "$root_majmin" ]; then
		busy="$busy\n  /dev/$n holds the root file system"
		continue
	fi
	if [ -n "$mm" ] && awk -v mm="$mm" '$3 == mm { f = 1 } END { exit !f }' \
		/proc/self/mountinfo 2>/dev/null; then
		where=$(awk -v mm="$mm" '$3 == mm { print $5 }' /proc/self/mountinfo | head -n1)
		busy="$busy\n  /dev/$n is mounted on $where"
	fi
	if awk -v d="/dev/$n" '$1 == d { f = 1 } END { exit !f }' /proc/swaps 2>/dev/null; then
		busy="$busy\n  /dev/$n is used as swap"
	fi
	for h in /sys/class/block/"$n"/holders/*; do
		[ -e "$h" ] && busy="$busy\n  /dev/$n is held by $(basename "$h")"
	done
done
# open file descriptors on the block devices or the controller node
for fd in /proc/[0-9]*/fd/*; do
	t=$(readlink "$fd" 2>/dev/null) || continue
	case $t in
	/dev/*) ;;
	*) continue ;;
	esac
	for n in $BLOCKS $CTRLS; do
		if [ "$t" = "/dev/$n" ]; then
			pid=${fd#/proc/}
			pid=${pid%%/*}
			[ "$pid" = "$$" ] && continue
			comm=$(cat "/proc/$pid/comm" 2>/dev/null)
			busy="$busy\n  /dev/$n is open by pid $pid ($comm)"
		fi
	done
done
if [ -n "$busy" ]; then
	printf "bind-nvme: refusing to move %s: in use:%b\n" "$BDF" "$busy" >&2
	exit 4
fi

# --- move it -----------------------------------------------------------------
case $ACTION in
to-demo) target=nvme_iova ;;
to-stock) target=nvme ;;
esac
cur=$(current_driver)
if [ "$cur" = "$target" ]; then
	echo "$BDF already bound to $target"
	exit 0
fi
if [ -n "$BLOCKS" ] && [ "$FORCE" != 1 ]; then
	die 5 "$BDF has block devices ($(words "$BLOCKS")) that would disappear; pass --force to move it"
fi

if [ ! -d "/sys/bus/pci/drivers/$target" ]; then
	if [ "$target" = nvme_iova ]; then
		run "modprobe nvme_iova ${NVME_IOVA_PARAMS:-}" ||
			die 6 "cannot load nvme_iova"
	else
		run "modprobe nvme" || die 6 "cannot load nvme"
	fi
	[ "$DRY" = 1 ] || [ -d "/sys/bus/pci/drivers/$target" ] ||
		die 6 "driver $target is not registered"
fi

echo "moving $BDF: $cur -> $target"
run "echo $target > $PCI/driver_override" || die 1 "driver_override failed"
if [ "$cur" != none ]; then
	run "echo $BDF > /sys/bus/pci/drivers/$cur/unbind" || die 1 "unbind from $cur failed"
fi
run "echo $BDF > /sys/bus/pci/drivers_probe" || true
if [ "$DRY" = 1 ]; then
	[ "$target" = nvme ] && echo "would: echo > $PCI/driver_override"
	exit 0
fi
# the stock driver needs no override; the demo keeps it, so reloading
# nvme_iova with other parameters rebinds the controller to it.
[ "$target" = nvme ] && echo >"$PCI/driver_override"
now=$(current_driver)
[ "$now" = "$target" ] || die 1 "$BDF is bound to '$now', not $target"
# wait for the controller to register (and its namespaces to appear)
cls=nvme
[ "$target" = nvme_iova ] && cls=nvme_iova
n=100
while [ $n -gt 0 ]; do
	for c in /sys/class/"$cls"/*; do
		[ -r "$c/address" ] && [ "$(cat "$c/address")" = "$BDF" ] &&
			{ echo "$BDF is $(basename "$c") ($target)"; exit 0; }
	done
	n=$((n - 1))
	sleep 0.1
done
die 1 "$BDF bound to $target but no controller registered"
