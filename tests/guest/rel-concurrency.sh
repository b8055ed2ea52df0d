# SPDX-License-Identifier: GPL-2.0
# Reliability, concurrency (rel.concurrency_cycles rounds, default 10):
# ctrl0 and ctrl1 on nvme_iova, fio write+verify on each with as many jobs
# as CPUs (blk-mq spreads them over every queue), while, all at once:
#  - this shell runs rounds of passthrough commands on both controllers
#    (nvme id-ctrl, smart-log, io-passthru reads);
#  - a reset loop resets ctrl0 (sysfs reset_controller) and ctrl1 (ioctl)
#    by turns;
#  - a reader cats the shim's debugfs counters (total and per device;
#    none where nvme_iova uses the kernel's native API).
# No fio pass may fail (resets requeue what is in flight); passthrough
# commands may fail with an errno while a reset runs, but never hang and
# each kind must succeed at least once; resets must succeed.  Counts:
# cycles (command rounds), calls (commands, resets, fio passes, debugfs
# reads), failures, mismatches (fio verify errors), leaks (ranges
# outstanding once idle, "leaked IOVA range" reports).
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
# shellcheck source=rel-lib.sh
. /tests/rel-lib.sh
cycles=$(rel_cycles concurrency 10)
rel_demo_pair
leaks0=$(rel_leak_reports)
ncpu=$(grep -c '^processor' /proc/cpuinfo)
rel_note "smp$ncpu"

rel_verify_loop a "/dev/${REL_CA}n1" 2m 16 "$ncpu"
loop_a=$!
rel_verify_loop b "/dev/${REL_CB}n1" 2m 16 "$ncpu"
loop_b=$!

: >/tmp/rel-resets
: >/tmp/rel-reset-errors
(
	while [ ! -e /tmp/rel-stop ]; do
		sleep 2
		timeout 60 sh -c "echo 1 >/sys/class/nvme_iova/$REL_CA/reset_controller" \
			2>>/tmp/rel-reset-errors || echo "sysfs reset of $REL_CA failed" \
			>>/tmp/rel-reset-errors
		echo x >>/tmp/rel-resets
		sleep 2
		timeout 60 nvme reset "/dev/$REL_CB" 2>>/tmp/rel-reset-errors ||
			echo "ioctl reset of $REL_CB failed" >>/tmp/rel-reset-errors
		echo x >>/tmp/rel-resets
	done
) &
resets=$!

: >/tmp/rel-dbg
: >/tmp/rel-dbg-errors
(
	while [ ! -e /tmp/rel-stop ]; do
		for f in /sys/kernel/debug/dma_iova_shim/total \
			/sys/kernel/debug/dma_iova_shim/devices/*; do
			[ -e "$f" ] || continue
			cat "$f" >/dev/null 2>>/tmp/rel-dbg-errors ||
				echo "reading $f failed" >>/tmp/rel-dbg-errors
			echo x >>/tmp/rel-dbg
		done
		sleep 1
	done
) &
dbg=$!

ok_idctrl=0 ok_smart=0 ok_pt=0 errs=0
i=0
while [ $i -lt "$cycles" ]; do
	i=$((i + 1))
	for c in "$REL_CA" "$REL_CB"; do
		for what in idctrl smart pt; do
			case $what in
			idctrl) set -- nvme id-ctrl "/dev/$c" ;;
			smart) set -- nvme smart-log "/dev/$c" ;;
			pt) set -- nvme io-passthru "/dev/${c}n1" -n 1 -o 2 --cdw10=$((i * 16)) \
				--cdw12=15 -l 8192 -r -b ;;
			esac
			REL_CALLS=$((REL_CALLS + 1))
			timeout 60 "$@" >/tmp/rel-cmd.out 2>&1
			rc=$?
			case $rc in
			0) eval "ok_$what=\$((ok_$what + 1))" ;;
			137 | 143) rel_fail "round $i: '$*' hangs" ;;
			*) errs=$((errs + 1)); echo "rel: round $i: '$1 $2 $3' failed ($rc): $(head -c 120 /tmp/rel-cmd.out)" ;;
			esac
		done
	done
done
rel_stop_loops $loop_a $loop_b $resets $dbg
rel_verify_collect a
rel_verify_collect b
nres=$(wc -l </tmp/rel-resets)
ndbg=$(wc -l </tmp/rel-dbg)
REL_CALLS=$((REL_CALLS + nres + ndbg))
echo "rel: $i round(s): id-ctrl $ok_idctrl ok, smart-log $ok_smart ok, io-passthru $ok_pt ok," \
	"$errs command error(s); $nres reset(s); $ndbg debugfs read(s); $ncpu fio job(s) per controller"
rel_note "cmd-errors=$errs"
[ -s /tmp/rel-reset-errors ] && rel_fail "resets: $(head -n 3 /tmp/rel-reset-errors | tr '\n' ' ')"
[ -s /tmp/rel-dbg-errors ] && rel_fail "debugfs: $(head -n 3 /tmp/rel-dbg-errors | tr '\n' ' ')"
[ "$nres" -gt 0 ] || rel_fail "no reset ran"
if nvi_uses_shim; then
	[ "$ndbg" -gt 0 ] || rel_fail "no debugfs read ran"
else
	rel_note no-shim-debugfs
fi
for what in idctrl smart pt; do
	eval "n=\$ok_$what"
	[ "$n" -gt 0 ] || rel_fail "no $what command succeeded"
done
for c in "$REL_CA" "$REL_CB"; do
	[ "$(cat "/sys/class/nvme_iova/$c/state")" = live ] || rel_fail "$c not live at the end"
done
rel_idle "$REL_A"
rel_idle "$REL_B"
k=$(($(rel_leak_reports) - leaks0))
[ "$k" -eq 0 ] || { dmesg | grep 'leaked IOVA range' | tail -n 5; REL_LEAKS=$((REL_LEAKS + k)); }
rel_report rel-concurrency "$i"
