#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Compare block I/O paths with fio on one host: the same jobs on two or more
# block devices (e.g. a controller on the stock nvme driver and one on
# nvme_iova), the order of the paths rotated every round so drift hits all
# of them alike.  Prints, per job and path, the median IOPS with min and
# max over the rounds, the median of the per-round ratios to the first
# path, MiB/s, completion latency p50/p99 and CPU (usr+sys) per I/O.
#
#   fio-compare.sh [options] NAME=DEVICE NAME=DEVICE [...]
#
# Read jobs only by default.  Write jobs (--write) overwrite the first
# --size bytes of every device; a device that is mounted, used as swap,
# held by another device or carries a file system or partition table is
# refused unless --destroy-data is also given.  It runs the same on a test
# host and in a busybox guest (POSIX sh, awk, fio).

# set by the package's installer (debian/install-tools); else ../VERSION
PKG_VERSION=
ROUNDS=3
RUNTIME=10
SIZE=1g
JOBS=
WRITE=0
DESTROY=0
DRY=0
CSV=
PATHS=

die() {
	_rc=$1
	shift
	echo "fio-compare: $*" >&2
	exit "$_rc"
}

usage() {
	echo "usage: fio-compare.sh [-j JOB]... [-r ROUNDS] [-t SECONDS] [-s SIZE] [--write [--destroy-data]] [-o CSV] NAME=DEVICE NAME=DEVICE..." >&2
	exit 2
}

help() {
	cat <<'EOF2'
Usage: fio-compare.sh [options] NAME=DEVICE NAME=DEVICE [...]

Run the same fio jobs on two or more block devices, rotating the order of
the devices every round, and print per job and device: median IOPS with
min and max over the rounds, the median of the per-round IOPS ratios to
the first device, MiB/s, completion latency p50/p99 (microseconds) and
CPU time (usr+sys) per I/O.  Meant for comparing I/O paths on identical
hardware, e.g. an NVMe controller on the stock nvme driver against one on
nvme_iova (dma-iova-shim's demo driver).

Jobs (-j, repeatable; "all" for every job; default randread-4k-qd32):
  randread-4k-qd1  randread-4k-qd32  randread-128k-qd16-malloc
  randread-128k-qd16-huge  read-1m-qd4                (read only)
  randwrite-4k-qd32  write-1m-qd4  randrw-70-30-2jobs (need --write)

Options:
  -j, --job JOB        a job from the list above
  -r, --rounds N       rounds (default 3)
  -t, --runtime S      seconds per run (default 10)
  -s, --size SIZE      part of each device the jobs use (default 1g)
  -o, --csv FILE       also write every run as CSV to FILE
  --write              allow write jobs: they overwrite the first SIZE
                       bytes of every device
  --destroy-data       with --write: also on devices that carry a file
                       system, a partition table or other data
  -n, --dry-run        print the fio command lines, run nothing
  -h, --help           this text
  --version            the version

A device that is mounted, used as swap or held by another device (md, dm,
LVM) is never written to.  The *-huge job needs free huge pages
(/proc/sys/vm/nr_hugepages).

Exit status: 0 done, 1 a fio run failed, 2 usage, 4 refused: a device is
in use or holds data.
EOF2
	exit 0
}

version() {
	_v=$PKG_VERSION
	[ -n "$_v" ] || _v=$(cat "$(dirname "$0")/../VERSION" 2>/dev/null) || _v=unknown
	echo "fio-compare.sh (dma-iova-shim) $_v"
	exit 0
}

# job_params JOB: "RW BS QD IOMEM NUMJOBS WRITES" for a job name
job_params() {
	case $1 in
	randread-4k-qd1) echo randread 4k 1 malloc 1 0 ;;
	randread-4k-qd32) echo randread 4k 32 malloc 1 0 ;;
	randread-128k-qd16-malloc) echo randread 128k 16 malloc 1 0 ;;
	randread-128k-qd16-huge) echo randread 128k 16 mmaphuge 1 0 ;;
	read-1m-qd4) echo read 1m 4 malloc 1 0 ;;
	randwrite-4k-qd32) echo randwrite 4k 32 malloc 1 1 ;;
	write-1m-qd4) echo write 1m 4 malloc 1 1 ;;
	randrw-70-30-2jobs) echo randrw 4k 16 malloc 2 1 ;;
	*) return 1 ;;
	esac
}

ALLJOBS="randread-4k-qd1 randread-4k-qd32 randread-128k-qd16-malloc
randread-128k-qd16-huge read-1m-qd4 randwrite-4k-qd32 write-1m-qd4
randrw-70-30-2jobs"

while [ $# -gt 0 ]; do
	case $1 in
	-j | --job) [ $# -ge 2 ] || usage; JOBS="$JOBS $2"; shift ;;
	-r | --rounds) [ $# -ge 2 ] || usage; ROUNDS=$2; shift ;;
	-t | --runtime) [ $# -ge 2 ] || usage; RUNTIME=$2; shift ;;
	-s | --size) [ $# -ge 2 ] || usage; SIZE=$2; shift ;;
	-o | --csv) [ $# -ge 2 ] || usage; CSV=$2; shift ;;
	--write) WRITE=1 ;;
	--destroy-data) DESTROY=1 ;;
	-n | --dry-run) DRY=1 ;;
	-h | --help) help ;;
	--version) version ;;
	-*) echo "fio-compare: unknown option $1" >&2; usage ;;
	*=*) PATHS="$PATHS $1" ;;
	*) echo "fio-compare: '$1' is not NAME=DEVICE" >&2; usage ;;
	esac
	shift
done

case $ROUNDS in '' | *[!0-9]* | 0) die 2 "--rounds wants a positive number" ;; esac
case $RUNTIME in '' | *[!0-9]* | 0) die 2 "--runtime wants a positive number of seconds" ;; esac
[ "$DESTROY" = 1 ] && [ "$WRITE" = 0 ] && die 2 "--destroy-data only goes with --write"
[ -n "$JOBS" ] || JOBS=randread-4k-qd32
[ "$(echo "$JOBS" | tr -d ' ')" = all ] && JOBS=$ALLJOBS
# shellcheck disable=SC2086 # the paths are words, split on purpose
set -- $PATHS
[ $# -ge 2 ] || { echo "fio-compare: give at least two NAME=DEVICE paths" >&2; usage; }
command -v fio >/dev/null || die 2 "fio not found (apt-get install fio)"

needs_write=0
for j in $JOBS; do
	p=$(job_params "$j") || die 2 "unknown job '$j' (see --help)"
	# shellcheck disable=SC2086 # split on purpose
	set -- $p
	[ "$6" = 1 ] && needs_write=1
done
[ "$needs_write" = 1 ] && [ "$WRITE" = 0 ] &&
	die 2 "a job writes: give --write (it overwrites the first $SIZE of every device)"

# in_use DEV: why the block device must not be written to, or nothing
in_use() {
	_b=$(basename "$(readlink -f "$1")")
	_sys=/sys/class/block/$_b
	for _d in "$_sys" "$_sys"/"$_b"*; do
		[ -e "$_d/dev" ] || continue
		_n=$(basename "$_d")
		if awk -v d="/dev/$_n" '$1 == d { f = 1 } END { exit !f }' /proc/mounts; then
			echo "/dev/$_n is mounted"
			return
		fi
		if awk -v d="/dev/$_n" '$1 == d { f = 1 } END { exit !f }' /proc/swaps; then
			echo "/dev/$_n is used as swap"
			return
		fi
		for _h in "$_d"/holders/*; do
			[ -e "$_h" ] || continue
			echo "/dev/$_n is held by $(basename "$_h")"
			return
		done
		for _f in /proc/[0-9]*/fd/*; do
			[ "$(readlink "$_f" 2>/dev/null)" = "/dev/$_n" ] || continue
			_p=${_f#/proc/}
			echo "/dev/$_n is open by pid ${_p%%/*}"
			return
		done
	done
}

# at DEV OFFSET LEN: LEN bytes of DEV at OFFSET, NULs dropped
at() {
	dd if="$1" bs=1 skip="$2" count="$3" 2>/dev/null | tr -d '\000'
}

# has_data DEV: what the device carries, or nothing.  blkid where there
# is one (util-linux: every known signature); else the common signatures
# by hand, and any non-zero byte in the first MiB.
has_data() {
	_b=$(basename "$(readlink -f "$1")")
	if ls -d /sys/class/block/"$_b"/"$_b"* >/dev/null 2>&1; then
		echo "it has partitions"
		return
	fi
	if blkid -V 2>&1 | grep -q util-linux; then
		_t=$(blkid -p -o value -s TYPE "$1" 2>/dev/null)
		[ -n "$_t" ] || _t=$(blkid -p -o value -s PTTYPE "$1" 2>/dev/null)
		[ -n "$_t" ] && echo "it carries a $_t signature"
		return
	fi
	if [ "$(at "$1" 4086 10)" = SWAPSPACE2 ]; then
		echo "it carries a swap signature"
	elif [ "$(at "$1" 512 8)" = "EFI PART" ]; then
		echo "it carries a gpt signature"
	elif [ "$(dd if="$1" bs=1 skip=1080 count=2 2>/dev/null | od -An -tx1 | tr -d ' ')" = 53ef ]; then
		echo "it carries an ext2/3/4 signature"
	elif [ -n "$(dd if="$1" bs=64k count=16 2>/dev/null | tr -d '\000' | head -c 1)" ]; then
		echo "its first MiB is not blank"
	fi
}

for p in $PATHS; do
	dev=${p#*=}
	[ -b "$dev" ] || die 2 "${p%%=*}: $dev is not a block device"
	if [ "$WRITE" = 1 ]; then
		why=$(in_use "$dev")
		[ -n "$why" ] && die 4 "refusing to write to $dev: $why"
		why=$(has_data "$dev")
		[ -n "$why" ] && [ "$DESTROY" = 0 ] &&
			die 4 "refusing to write to $dev: $why (--destroy-data overwrites it)"
	fi
done

tmp=$(mktemp -d) || die 1 "mktemp failed"
trap 'rm -rf "$tmp"' EXIT INT TERM
[ -n "$CSV" ] && echo "round,job,path,iops,mib_s,clat_p50_us,clat_p99_us,cpu_us_per_io" >"$CSV"

# run_fio JOB NAME DEV: one fio run; appends "iops mib p50 p99 cpu_us" to
# $tmp/JOB.NAME
run_fio() {
	# shellcheck disable=SC2046 # split on purpose
	set -- "$1" "$2" "$3" $(job_params "$1")
	_cmd="fio --name=$1 --filename=$3 --rw=$4 --bs=$5 --iodepth=$6 --iomem=$7
		--numjobs=$8 --group_reporting --rwmixread=70 --direct=1
		--ioengine=libaio --size=$SIZE --time_based --runtime=$RUNTIME
		--randrepeat=0 --norandommap --output-format=terse --terse-version=3"
	if [ "$DRY" = 1 ]; then
		# shellcheck disable=SC2086 # one line, whitespace folded
		echo "would run:" $_cmd
		return 0
	fi
	# shellcheck disable=SC2086 # word splitting of the options is wanted
	$_cmd >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err" >&2; return 1; }
	# terse v3: read IOPS 8, KiB/s 7, clat p50 24, p99 30; write 49, 48,
	# 65, 71; usr% 88, sys% 89; error 5
	awk -F';' -v rt="$RUNTIME" '
		$1 == 3 {
			if ($5 != 0) { print "error " $5; exit }
			iops = $8 + $49; kib = $7 + $48
			p50 = ($8 >= $49) ? $24 : $65; p99 = ($8 >= $49) ? $30 : $71
			sub(/.*=/, "", p50); sub(/.*=/, "", p99)
			cpu = ($88 + $89) / 100 * rt * 1e6
			cpuio = iops > 0 ? cpu / (iops * rt) : 0
			printf "%.0f %.1f %s %s %.1f\n", iops, kib / 1024, p50, p99, cpuio
			exit
		}' "$tmp/out" >"$tmp/line"
	grep -q '^error' "$tmp/line" && { cat "$tmp/out" >&2; return 1; }
	[ -s "$tmp/line" ] || { cat "$tmp/out" >&2; return 1; }
	cat "$tmp/line" >>"$tmp/$1.$2"
	[ -n "$CSV" ] && awk -v r="$ROUND" -v j="$1" -v p="$2" \
		'{ printf "%s,%s,%s,%s,%s,%s,%s,%s\n", r, j, p, $1, $2, $3, $4, $5 }' \
		"$tmp/line" >>"$CSV"
	return 0
}

# shellcheck disable=SC2086 # split on purpose
set -- $PATHS
npaths=$#
ROUND=1
while [ "$ROUND" -le "$ROUNDS" ]; do
	for j in $JOBS; do
		# rotate the order of the paths by one every round
		k=0
		while [ $k -lt "$npaths" ]; do
			i=$(((k + ROUND - 1) % npaths + 1))
			eval "p=\${$i}"
			name=${p%%=*}
			[ "$DRY" = 1 ] || printf 'round %s/%s  %-26s %-12s ' "$ROUND" "$ROUNDS" "$j" "$name" >&2
			run_fio "$j" "$name" "${p#*=}" || die 1 "fio failed: $j on ${p#*=}"
			[ "$DRY" = 1 ] || awk '{ v = $1 } END { print v " IOPS" }' "$tmp/$j.$name" >&2
			k=$((k + 1))
		done
	done
	ROUND=$((ROUND + 1))
done
[ "$DRY" = 1 ] && exit 0

# The table: one line per job and path.
printf '%-26s %-12s %22s %8s %9s %9s %9s %10s\n' job path "IOPS median [min-max]" \
	"ratio" "MiB/s" "p50 us" "p99 us" "CPU us/IO"
first=${1%%=*}
for j in $JOBS; do
	for p in $PATHS; do
		name=${p%%=*}
		paste -d' ' "$tmp/$j.$name" "$tmp/$j.$first" | awk -v j="$j" -v p="$name" '
			function median(a, n,   i, k, t) {
				for (i = 2; i <= n; i++)
					for (k = i; k > 1 && a[k - 1] > a[k]; k--) {
						t = a[k]; a[k] = a[k - 1]; a[k - 1] = t
					}
				return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
			}
			{
				n++; iops[n] = $1; mib[n] = $2; p50[n] = $3; p99[n] = $4
				cpu[n] = $5; ratio[n] = $6 > 0 ? $1 / $6 : 0
				if (n == 1 || $1 < lo) lo = $1
				if (n == 1 || $1 > hi) hi = $1
			}
			END {
				printf "%-26s %-12s %8.0f [%.0f-%.0f] %8.3f %9.1f %9.0f %9.0f %10.1f\n",
				       j, p, median(iops, n), lo, hi, median(ratio, n),
				       median(mib, n), median(p50, n), median(p99, n),
				       median(cpu, n)
			}'
	done
done
