# SPDX-License-Identifier: GPL-2.0
# I/O timeouts on nvme_iova: ctrl1's drive is throttled in QEMU (run-vm.py
# --nvme ...,throttle=20) and nvme_iova is loaded with io_timeout=1, so in
# a burst at queue depth 100 requests wait in QEMU past the timeout.  A
# request's first timeout sends an Abort (QEMU completes it without
# aborting anything), its second schedules a controller reset, which
# cancels every outstanding request: fio's are requeued and sent again
# (the controller's SMART log counts more commands than fio issued), a
# passthrough write stuck behind them may fail as aborted (passthrough is
# not retried).  The fio write + verify burst must pass and nothing may
# hang; data written before reads back, a verify after the resets passes
# with no further timeout, the controller is live and the shim holds no
# range.  Then a read sent with a stale command id (debugfs
# inject_stale_cid): its completion must be refused, the request recovered
# by its timeout.  nvme_iova is unloaded at the end, so no later test
# inherits io_timeout=1.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
bdf=$(nvi_bdf ctrl1) || fail "no controller with serial ctrl1"
mm=$(nvi_modes | awk '{ print $1 }')

# nvme_iova with io_timeout=1: a loaded one (other parameters) goes first;
# the bind helper leaves driver_override set, so a later load rebinds.
if [ -d /sys/module/nvme_iova ]; then
	rmmod nvme_iova || fail "cannot unload nvme_iova"
fi
drv=$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")")
if [ "$drv" = nvme ]; then
	NVME_IOVA_PARAMS="map_mode=$mm io_timeout=1" \
		sh /tests/bind-nvme.sh --force to-demo "$bdf" >&2 ||
		fail "cannot move $bdf to nvme_iova"
else
	modprobe nvme_iova "map_mode=$mm" io_timeout=1 || fail "cannot load nvme_iova"
fi
c=$(nvi_ctrl "$bdf") || fail "$bdf did not come up on nvme_iova"
dev=/dev/${c}n1
[ "$(cat /sys/module/nvme_iova/parameters/io_timeout)" = 1 ] ||
	fail "nvme_iova io_timeout is not 1"

# since MARK: kernel messages after the marker MARK (written by mark)
mark() {
	echo "nvme-timeout $$: $1" >/dev/kmsg
}
since() {
	dmesg | sed -n "/nvme-timeout $$: $1\$/,\$p"
}

# count MARK REGEX: lines matching REGEX after the marker
count() {
	since "$1" | grep -c -e "$2"
}

# dev_cmds: read and write commands the controller has executed (SMART log)
dev_cmds() {
	nvme smart-log "/dev/$c" -o json >/tmp/smart.json 2>&1 ||
		{ cat /tmp/smart.json; return 1; }
	_r=$(sed -n 's/.*"host_read_commands" *: *"*\([0-9]*\).*/\1/p' /tmp/smart.json)
	_w=$(sed -n 's/.*"host_write_commands" *: *"*\([0-9]*\).*/\1/p' /tmp/smart.json)
	if [ -z "$_r" ] || [ -z "$_w" ]; then
		cat /tmp/smart.json
		return 1
	fi
	echo $((_r + _w))
}

# the known pattern, 1 MiB at 64 MiB: written at no depth, it never waits
dd if=/dev/urandom of=/tmp/pat bs=1M count=1 2>/dev/null
timeout 60 dd if=/tmp/pat of="$dev" bs=1M seek=64 oflag=direct 2>/dev/null ||
	fail "writing the pattern failed"
want=$(md5sum </tmp/pat)
dd if=/dev/urandom of=/tmp/pt bs=4k count=1 2>/dev/null

# the burst: 100 writes of 4 KiB at queue depth 100, then their verify
# (100 reads at the same depth); at 20 IOPS the last waits 5 s.  No
# merging: fio's batches of adjacent reads would go as a few big commands.
echo 2 >"/sys/block/${c}n1/queue/nomerges" || fail "cannot turn merging off"
cmds0=$(dev_cmds) || fail "nvme smart-log failed"
mark burst
t0=$(uptime_cs)
fio --name=burst --filename="$dev" --allow_file_create=0 --direct=1 \
	--ioengine=libaio --rw=write --bs=4k --size=400k --iodepth=100 \
	--verify=crc32c --verify_fatal=1 --do_verify=1 \
	--output-format=terse --terse-version=3 >/tmp/fio-burst.out 2>&1 &
pid=$!
# a passthrough write behind fio's (once most are in flight; QEMU's
# throttle would let a read pass them): it is not requeued, so a reset
# ends it with the host-aborted status, unless it completes before one
n=200
while [ $n -gt 0 ] && kill -0 $pid 2>/dev/null; do
	read -r r w <"/sys/block/${c}n1/inflight"
	[ "$w" -ge 90 ] && break
	n=$((n - 1))
	sleep 0.1
done
echo "passthrough write with $w write(s) in flight"
nvme write "$dev" -s 262144 -c 7 -z 4096 -d /tmp/pt >/tmp/pt.out 2>&1 &
ptpid=$!
wait_pid $pid 120 "the fio burst"
rc=$?
wait_pid $ptpid 60 "the passthrough write"
ptrc=$?
secs=$((($(uptime_cs) - t0) / 100))
cmds1=$(dev_cmds) || fail "nvme smart-log failed"
cmds=$((cmds1 - cmds0))
aborts=$(count burst 'timed out, aborting$')
resets=$(count burst 'abort timed out, resetting$')
nreset=$(count burst 'resetting controller$')
echo "burst: fio write + verify done in ${secs} s: $aborts abort(s), $resets reset request(s)," \
	"$nreset reset(s); the controller executed $cmds I/O commands for fio's 200 and 1 passthrough"
# terse v3: field 5 error, 6 KiB read, 47 KiB written
sum=$(grep '^3;' /tmp/fio-burst.out | cut -d';' -f5,6,47)
err=$(echo "$sum" | cut -d';' -f1)
rkb=$(echo "$sum" | cut -d';' -f2)
wkb=$(echo "$sum" | cut -d';' -f3)
if [ $rc -ne 0 ] || [ "$err" != 0 ] || [ "$wkb" != 400 ] || [ "$rkb" != 400 ]; then
	cat /tmp/fio-burst.out
	fail "the fio burst failed across timeouts and resets (status $rc, error ${err:-none}," \
		"${wkb:-?} KiB written, ${rkb:-?} KiB verified of 400)"
fi
[ "$aborts" -gt 0 ] ||
	fail "no request timed out (is ctrl1 throttled: run-vm.py --nvme ...,throttle=20?)"
[ "$resets" -gt 0 ] || fail "timeouts were aborted, but no abort timed out into a reset"
[ "$nreset" -gt 0 ] || fail "a reset was asked for, but the controller was never reset"
# the request that asked for the first reset had been aborted before
first=$(since burst | grep -m 1 -e "abort timed out, resetting$")
tq=$(echo "$first" | sed -n 's/.*I\/O \(tag [0-9]* (queue [0-9]*)\) abort timed out.*/\1/p')
[ -n "$tq" ] || fail "cannot read the tag from: $first"
since burst | sed "/abort timed out, resetting$/,\$d" | grep -q -F "$tq timed out, aborting" ||
	fail "no abort before the reset for $tq"
# requests the resets cancelled were sent again: the controller did more
# than fio's 200 and the passthrough write
[ "$cmds" -gt 201 ] || fail "no request was sent again after the resets"
since burst | grep -e "reset failed" -e "controller is dead" -e "timed out, disabling" \
	-e "I/O error" -e "stray completion" -e "invalid command id" &&
	fail "the driver reported the errors above during the burst"
since burst | grep -m 1 -F "$tq timed out, aborting"
echo "$first"
since burst | grep -m 1 -e "resetting controller$"
if [ $ptrc -eq 0 ]; then
	got=$(timeout 60 dd if="$dev" bs=4k skip=32768 count=1 iflag=direct 2>/dev/null | md5sum)
	[ "$got" = "$(md5sum </tmp/pt)" ] ||
		fail "the passthrough write succeeded, but its data does not read back"
	echo "passthrough write during the burst: completed, reads back"
else
	cat /tmp/pt.out
	grep -q -e "Aborted By Host" -e "Abort Requested" /tmp/pt.out ||
		fail "the passthrough write failed (status $ptrc), not as aborted"
	echo "passthrough write during the burst: aborted (allowed: passthrough is not retried)"
fi
st=$(cat "/sys/class/nvme_iova/$c/state")
[ "$st" = live ] || fail "$c is $st after the burst, not live"
read -r r w <"/sys/block/${c}n1/inflight"
[ "$r$w" = 00 ] || fail "requests still in flight after the burst: $r read(s), $w write(s)"

# data written before the resets
got=$(timeout 60 dd if="$dev" bs=1M skip=64 count=1 iflag=direct 2>/dev/null | md5sum)
[ "$got" = "$want" ] || fail "the pattern written before the burst reads back different"

# a verify at a depth that never waits 1 s: no timeout, no reset
mark after
DEV=$dev SIZE=1m QD=2 RW=randwrite IOMEM=malloc \
	nvi_fio /tests/fio/nvme-verify.fio /tmp/fio.out || fail "verify after the resets failed"
n=$(count after 'timed out')
[ "$n" = 0 ] || fail "$n timeout(s) in the verify at depth 2"
echo "verify after the resets: passed, no timeout"
nvi_shim_idle "$bdf" || fail "ranges outstanding after the verify"

# a completion whose command id has another generation than the request's
# (an older command on the tag, answering late) is refused: the request
# waits for its timeout, is aborted, reset and sent again, and reads right
inj=/sys/kernel/debug/nvme_iova/$c/inject_stale_cid
[ -w "$inj" ] || fail "no $inj"
mark stale
echo 1 >"$inj" || fail "cannot write $inj"
got=$(timeout 60 dd if="$dev" bs=1M skip=64 count=1 iflag=direct 2>/dev/null | md5sum)
[ "$got" = "$want" ] || fail "the read sent with a stale command id reads back different"
[ "$(cat "$inj")" = 0 ] || fail "the stale command id was never sent"
n=$(count stale 'stale completion')
[ "$n" -ge 1 ] || fail "the completion with a stale command id was not refused"
n=$(count stale 'timed out, aborting$')
[ "$n" -ge 1 ] || fail "the request whose completion was refused never timed out"
since stale | grep -m 1 -e 'stale completion'
echo "a completion with a stale generation: refused, the request recovered ($n timeout(s))"
st=$(cat "/sys/class/nvme_iova/$c/state")
[ "$st" = live ] || fail "$c is $st after the stale completion, not live"

# leave nvme_iova unloaded: later tests load it with their own parameters
rmmod nvme_iova || fail "cannot unload nvme_iova"
since after | grep "leaked IOVA range" && fail "the driver left mapped ranges behind at unbind"
echo "abort, then reset on timeouts: every request completed, data intact"
