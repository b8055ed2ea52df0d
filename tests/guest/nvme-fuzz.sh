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
nvi_demo
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

phase admin-root 30 --ctrl "$ctrl" --ns "$dev" --path admin
phase io-root-char 20 --ctrl "$ctrl" --path io
phase io-root-block 25 --ns "$dev" --path io
phase admin-unpriv 10 --ctrl "$ctrl" --ns "$dev" --path admin --unpriv
phase io-unpriv 15 --ctrl "$ctrl" --ns "$dev" --path io --unpriv

[ "$(cat "/sys/class/nvme_iova/$c/state")" = live ] || fail "controller not live after the fuzz"
nvme id-ctrl "$ctrl" >/tmp/id.out 2>&1 || { cat /tmp/id.out; fail "nvme id-ctrl after the fuzz failed"; }
grep -q '^sn *: *ctrl1' /tmp/id.out || { head -n 5 /tmp/id.out; fail "nvme id-ctrl: wrong serial"; }
echo "nvme id-ctrl: ok ($(grep '^mn ' /tmp/id.out | tr -s ' '))"
region --verify_only=1 || fail "fio verify-only of the region failed after the fuzz"
sums >/tmp/fuzz-sum1
changed=$(awk 'NR == FNR { s[$1] = $2; next } s[$1] != $2 { printf " %s", $1 }' \
	/tmp/fuzz-sum0 /tmp/fuzz-sum1)
if [ -n "$changed" ]; then
	# a second read tells a wrong read from data changed on the medium
	sums >/tmp/fuzz-sum2
	again=$(awk 'NR == FNR { s[$1] = $2; next } s[$1] != $2 { printf " %s", $1 }' \
		/tmp/fuzz-sum0 /tmp/fuzz-sum2)
	fail "the protected 24 MiB read back different after the fuzz (MiB$changed;" \
		"read again: ${again:+still MiB}${again:-all as written: a wrong read, not a write})"
fi
echo "fio verify-only of [16M, 24M): ok; [0, 24M) unchanged"
nvi_shim_idle "$bdf" || fail "shim ranges outstanding after the fuzz"
pins1=$(pins)
[ "$pins0" = "$pins1" ] || fail "pinned pages: $pins0 held before the fuzz, $pins1 after"
echo "fuzz: seed $seed, $count calls, pins held $pins0 before and after, no range outstanding"
