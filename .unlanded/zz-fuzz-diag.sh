# SPDX-License-Identifier: GPL-2.0
# Passthrough fuzzing of nvme_iova (tests/fuzz/nvme-passthru-fuzz.c): random
# admin and I/O passthrough ioctls on the controller's character device and
# the namespace's block device, as root and unprivileged.  Data written
# before the fuzz (fio) must survive it, the controller must still answer
# Identify, the shim must hold no range and pinned pages must balance.
#
# Kernel command line: nvi.fuzz_count=N calls in all (default 10000),
# nvi.fuzz_seed=S (default: random; printed either way), nvi.fuzz_args=A,B
# more fuzzer options for every phase (e.g. --short-timeouts=100).
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
bdf=$(nvi_bdf ctrl1) || fail "no controller with serial ctrl1"
mm=$(nvi_modes | awk '{ print $1 }')
c=$(nvi_use_mode "$mm" "$bdf") || fail "cannot move $bdf to nvme_iova"
ctrl=/dev/$c
dev=/dev/${c}n1
count=$(cmdline_arg nvi.fuzz_count || echo 10000)
seed=$(cmdline_arg nvi.fuzz_seed || od -An -N4 -tu4 /dev/urandom | tr -d ' ')
extra=$(cmdline_arg nvi.fuzz_args | tr ',' ' ')
# the driver's transfer limit, for every phase (the controller device alone
# does not show it): MDTS and the DMA layer's fast-path size, as the disk has it
extra="--max-xfer $(($(cat "/sys/block/${c}n1/queue/max_hw_sectors_kb") * 1024)) $extra"
echo "fuzz: seed $seed, $count calls, map mode $mm, $ctrl and $dev"

# The data the fuzz must not touch: [0, 16M) by the project's verify job,
# [16M, 24M) by a sequential job that fio can verify again later.  Writes
# from the fuzzer start at 32 MiB.
DEV=$dev SIZE=8m QD=8 RW=randwrite IOMEM=malloc \
	nvi_fio /tests/fio/nvme-verify.fio /tmp/fio.out || fail "fio write+verify before the fuzz failed"
region() {
	if fio --output-format=terse --terse-version=3 --name=region \
		--filename="$dev" --rw=write --bs=128k --offset=16m --size=8m \
		--direct=1 --ioengine=libaio --iodepth=4 --verify=crc32c \
		--verify_fatal=1 "$@" >/tmp/fio-region.out 2>&1 &&
		[ "$(grep '^3;' /tmp/fio-region.out | cut -d';' -f5)" = 0 ]; then
		return 0
	fi
	cat /tmp/fio-region.out
	return 1
}
region || fail "fio write of the verify region failed"
# md5 of each MiB of [0, 24M), one a line: which MiB changed, if any
sums() {
	_i=0
	while [ "$_i" -lt 24 ]; do
		echo "$_i $(dd if="$dev" bs=1M skip="$_i" count=1 iflag=direct 2>/dev/null | md5sum)"
		_i=$((_i + 1))
	done
}
sums >/tmp/fuzz-sum0
lbs=$(cat "/sys/block/${c}n1/queue/logical_block_size")
protect=$((32 * 1024 * 1024 / lbs))
echo "fuzz: 24 MiB written and verified, writes kept from LBA $protect on"

# pins held (acquired - released), per-CPU deltas folded in first
pins() {
	echo 1 >/proc/sys/vm/stat_refresh 2>/dev/null
	awk '/^nr_foll_pin_acquired /{ a = $2 } /^nr_foll_pin_released /{ r = $2 }
		END { if (a == "") print "none"; else print a - r }' /proc/vmstat
}
pins0=$(pins)

# phase NAME SHARE% ARGS...: run the fuzzer on its slice of the calls
first=0
phase() {
	_name=$1 _n=$((count * $2 / 100))
	shift 2
	[ "$_n" -gt 0 ] || return 0
	echo "fuzz phase $_name: nvme-passthru-fuzz --seed $seed --first $first --count $_n --protect $protect $* $extra"
	_t0=$(uptime_cs)
	# shellcheck disable=SC2086 # $extra: options, one per word
	nvme-passthru-fuzz --seed "$seed" --first "$first" --count "$_n" \
		--protect "$protect" "$@" $extra >/tmp/fuzz.out 2>&1
	_rc=$?
	_cs=$(($(uptime_cs) - _t0))
	# the calls that went wrong, then the summary
	grep -A1 '^UNEXPECTED' /tmp/fuzz.out | head -n 40
	sed -n '/^outcome/,$p' /tmp/fuzz.out
	echo "fuzz phase $_name: exit $_rc after $((_cs / 100)).$((_cs % 100 / 10)) s"
	first=$((first + _n))
	[ "$_rc" = 0 ] || { grep -v '^UNEXPECTED\|^  got' /tmp/fuzz.out | head -n 20; fail "fuzz phase $_name failed (seed $seed)"; }
}


check_all() {
	_i=0
	while [ "$_i" -lt 24 ]; do
		dd if="$dev" bs=1M skip="$_i" count=1 iflag=direct of=/tmp/m.bin 2>/dev/null
		_got=$(md5sum </tmp/m.bin | cut -d' ' -f1)
		_want=$(awk -v m="$_i" '$1 == m { print $2 }' /tmp/fuzz-sum0)
		if [ "$_got" != "$_want" ]; then
			dd if="$dev" bs=1M skip="$_i" count=1 iflag=direct of=/tmp/g.bin 2>/dev/null
			echo "DIAG iter $1 MiB $_i bad read; re-read $( [ "$(md5sum </tmp/g.bin | cut -d' ' -f1)" = "$_want" ] && echo good || echo bad too)"
			cmp -l /tmp/g.bin /tmp/m.bin | awk '{ o = $1 - 1; if (first == "") first = o; last = o; n++; if ($3 == 0) z++ }
				END { printf "DIAG   %d bytes differ, offsets %d..%d (page %d..%d), %d of them zero in the bad read\n", n, first, last, first / 4096, last / 4096, z }'
			_off=$(cmp /tmp/g.bin /tmp/m.bin | awk '{ print $5 }' | tr -d ,)
			_off=$(( (_off - 1) / 16 * 16 ))
			echo "DIAG   bad read at $_off:"
			od -A d -t x1 -j "$_off" -N 64 /tmp/m.bin | sed 's/^/DIAG     /'
			echo "DIAG   good data at $_off:"
			od -A d -t x1 -j "$_off" -N 32 /tmp/g.bin | sed 's/^/DIAG     /'
			strings -n 8 /tmp/m.bin | head -5 | sed 's/^/DIAG   str: /'
		fi
		_i=$((_i + 1))
	done
}
iters=$(cmdline_arg nvi.diag_iters || echo 6)
i=0
while [ "$i" -lt "$iters" ]; do
	seed=$((seed + 1))
	first=0
	phase admin-root 30 --ctrl "$ctrl" --ns "$dev" --path admin >/dev/null
	echo "DIAG iter $i seed $seed done"
	check_all "$i"
	i=$((i + 1))
done
cat /sys/kernel/debug/dma_iova_shim/devices/$bdf 2>/dev/null | grep -v hist
