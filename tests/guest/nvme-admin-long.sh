# SPDX-License-Identifier: GPL-2.0
# A long passthrough admin command does not hold up the others (issue 15
# item 6): an Asynchronous Event Request sent through the admin passthrough
# ioctl with a 6 s timeout (QEMU keeps it until an event, so it only ends
# by timing out) while Identify commands, the controller's Abort path's
# kind of command, must each come back within 3 s; before, one admin
# command at a time, each waited for the AER.  Its timeout then disables
# the controller (the command may still be in its hands) and the reset
# brings it back: the controller is live again and a write + verify
# passes.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
nvi_demo

nvme admin-passthru "/dev/$c" --opcode=0x0c --timeout=6000 >/tmp/aer.out 2>&1 &
aer=$!
sleep 0.5
kill -0 $aer 2>/dev/null || { cat /tmp/aer.out; fail "the AER passthrough ended at once"; }
worst=0
for i in 1 2 3 4; do
	t0=$(uptime_cs)
	nvme id-ctrl "/dev/$c" >/dev/null 2>&1 || fail "Identify $i failed behind the AER"
	dt=$(($(uptime_cs) - t0))
	[ $dt -gt $worst ] && worst=$dt
done
kill -0 $aer 2>/dev/null || fail "the AER passthrough ended before the Identify commands did"
[ $worst -le 300 ] || fail "an Identify took $((worst * 10)) ms behind a pending admin command"
echo "4 Identify commands behind a pending AER: the slowest took $((worst * 10)) ms"

wait_pid $aer 30 "the AER passthrough" && fail "the AER passthrough did not time out"
n=0
until [ "$(cat "/sys/class/nvme_iova/$c/state")" = live ]; do
	n=$((n + 1))
	[ $n -lt 300 ] || fail "$c is $(cat "/sys/class/nvme_iova/$c/state") 30 s after the AER timed out"
	sleep 0.1
done
dmesg | grep -q "admin command opcode 0x0c timed out" ||
	fail "no timeout reported for the AER"
DEV=/dev/${c}n1 SIZE=4m QD=16 RW=randwrite IOMEM=malloc \
	nvi_fio /tests/fio/nvme-verify.fio /tmp/fio.out || fail "write + verify after the reset failed"
echo "the AER timed out, the reset brought $c back, write + verify passed"
nvi_shim_idle "$bdf" || fail "ranges leaked"
