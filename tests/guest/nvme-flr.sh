# SPDX-License-Identifier: GPL-2.0
# A function-level reset through sysfs (echo 1 > .../BDF/reset, the PCI
# core's pci_reset_function()) under fio write + verify on nvme_iova, 3
# times (issue 15 item 4): the driver's reset_prepare stops the
# controller and keeps its requests, reset_done brings it back and
# requeues them.  The reset must return within 30 s, the controller be
# live right after it (no I/O timeout needed to notice the reset: the
# driver's own reset, not a timeout's, must have run), fio's verify pass
# and the disk keep its name.  Prints how long each reset took.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
nvi_demo
dev=/dev/${c}n1
[ -w "/sys/bus/pci/devices/$bdf/reset" ] || fail "$bdf has no reset attribute"
echo "ctrl1 $bdf ($c), map_mode=$mm, reset methods:" \
	"$(cat "/sys/bus/pci/devices/$bdf/reset_method" 2>/dev/null)"

for r in 1 2 3; do
	DEV=$dev SIZE=32m QD=16 RW=randwrite IOMEM=malloc fio --output-format=terse \
		--terse-version=3 /tests/fio/nvme-verify.fio >/tmp/flr-fio.out 2>&1 &
	pid=$!
	sleep 1
	kill -0 $pid 2>/dev/null || { cat /tmp/flr-fio.out; fail "round $r: fio ended within 1 s"; }
	echo "nvme-flr: round $r" >/dev/kmsg
	t0=$(uptime_cs)
	(echo 1 >"/sys/bus/pci/devices/$bdf/reset") &
	rpid=$!
	wait_pid $rpid 30 "round $r: the reset" || fail "round $r: the reset failed"
	t=$(($(uptime_cs) - t0))
	st=$(cat "/sys/class/nvme_iova/$c/state")
	[ "$st" = live ] || { dmesg | tail -n 20; fail "round $r: $c is $st right after the reset"; }
	wait_pid $pid 120 "round $r: fio" ||
		{ cat /tmp/flr-fio.out; dmesg | tail -n 30; fail "round $r: fio write + verify failed"; }
	[ "$(grep '^3;' /tmp/flr-fio.out | cut -d';' -f5)" = 0 ] ||
		{ cat /tmp/flr-fio.out; fail "round $r: fio error"; }
	to=$(dmesg | sed -n "/nvme-flr: round $r\$/,\$p" | grep -c 'timed out')
	[ "$to" = 0 ] || { dmesg | tail -n 20; fail "round $r: $to I/O or admin timeouts across the reset"; }
	st=$(cat "/sys/class/nvme_iova/$c/state")
	[ "$st" = live ] || fail "round $r: $c is $st"
	[ -b "$dev" ] || fail "round $r: $dev is gone"
	mb=$(($(grep '^3;' /tmp/flr-fio.out | cut -d';' -f47) / 1024))
	echo "round $r: FLR under write + verify took $((t / 100)).$((t % 100 / 10)) s," \
		"no timeout; fio wrote $mb MiB, verified; $c live"
done
nvi_shim_idle "$bdf" || fail "ranges leaked"
