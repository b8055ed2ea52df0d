# SPDX-License-Identifier: GPL-2.0
# Reliability, controller resets under load (rel.reset_cycles, default 10):
# ctrl0 and ctrl1 on nvme_iova, fio write+verify passes on both all along;
# ctrl0 is reset again and again, by turns through the ioctl (nvme reset
# /dev/nvmeiovaN) and the driver's sysfs reset_controller.  Requests in
# flight are requeued, so no fio pass may see an error.  (The driver has
# its own reset_controller, so the PCI function reset is not used.)
# Counts: cycles (resets), calls (resets + fio passes), failures (a reset
# that fails or leaves the controller not live, a fio pass with an I/O
# error), mismatches (fio verify errors), leaks (ranges outstanding once
# idle, "leaked IOVA range" reports).
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
# shellcheck source=rel-lib.sh
. /tests/rel-lib.sh
cycles=$(rel_cycles reset 10)
rel_demo_pair
leaks0=$(rel_leak_reports)

# live CTRL: the controller is live again (waits up to 10 s)
live() {
	_n=100
	while [ "$(cat "/sys/class/nvme_iova/$1/state")" != live ]; do
		_n=$((_n - 1))
		[ $_n -gt 0 ] || return 1
		sleep 0.1
	done
}

rel_verify_loop a "/dev/${REL_CA}n1" 2m 16
loop_a=$!
rel_verify_loop b "/dev/${REL_CB}n1" 2m 16
loop_b=$!
sleep 2
i=0
ioctl=0
sysfs=0
while [ $i -lt "$cycles" ]; do
	i=$((i + 1))
	REL_CALLS=$((REL_CALLS + 1))
	if [ $((i % 2)) -eq 1 ]; then
		ioctl=$((ioctl + 1))
		timeout 60 nvme reset "/dev/$REL_CA" >/tmp/rel-reset.out 2>&1 ||
			rel_fail "cycle $i: nvme reset: $(cat /tmp/rel-reset.out)"
	else
		sysfs=$((sysfs + 1))
		timeout 60 sh -c "echo 1 >/sys/class/nvme_iova/$REL_CA/reset_controller" \
			>/tmp/rel-reset.out 2>&1 ||
			rel_fail "cycle $i: reset_controller: $(cat /tmp/rel-reset.out)"
	fi
	live "$REL_CA" || { rel_fail "cycle $i: $REL_CA not live 10 s after the reset"; break; }
	sleep 0.3
done
rel_stop_loops $loop_a $loop_b
rel_verify_collect a
rel_verify_collect b
echo "rel: $i reset(s) of $REL_CA ($ioctl ioctl, $sysfs sysfs) under write+verify load"
rel_idle "$REL_A"
rel_idle "$REL_B"
n=$(($(rel_leak_reports) - leaks0))
[ "$n" -eq 0 ] || { dmesg | grep 'leaked IOVA range' | tail -n 5; REL_LEAKS=$((REL_LEAKS + n)); }
rel_report rel-reset "$i"
