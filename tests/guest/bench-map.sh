# SPDX-License-Identifier: GPL-2.0
# Mapping microbenchmark driver (a benchmark, not a pass/fail test of
# performance): binds dis_selftest to the edu device without running its
# cases, runs its microbenchmark (tests/selftest/mbench.c: map + unmap cost
# per request of 1-128 scattered pages, per mapping method, 1 and 2
# threads, or 1 on one CPU) and prints every result line as "@@DATA map <line>" on the data
# port (/dev/ttyS1) for the host (scripts/bench.py).  Then, with one
# thread and outside the timed runs, one IOTLB window "map:<method>:<segs>"
# per method and segment count, for the host to count invalidations per
# request.  Fails only if the pipeline breaks.
#
# dis.mbench_repeats=R      timed batches per method (default 11)
# dis.mbench_pages=P        pages per batch and method (default 1024)
# dis.mbench_count=N        requests per IOTLB window (default 200)
# dis.mbench_count_segs=S,...  segment counts with IOTLB windows
#                           (default 1,4,8,32,128; "none": no windows)
D=/sys/kernel/debug/dis_selftest
mode=$(cmdline_arg dis.mode)
repeats=$(cmdline_arg dis.mbench_repeats || echo 11)
pages=$(cmdline_arg dis.mbench_pages || echo 1024)
count=$(cmdline_arg dis.mbench_count || echo 200)
count_segs=$(cmdline_arg dis.mbench_count_segs || echo 1,4,8,32,128)

edu=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
		edu=$(basename "$d")
done
[ -n "$edu" ] || fail "no edu device (run-vm.py --edu)"

modprobe dma_iova_shim || fail "modprobe dma_iova_shim failed"
modprobe dis_selftest run_cases=0 || fail "modprobe dis_selftest failed"
echo dis_selftest >"/sys/bus/pci/devices/$edu/driver_override"
echo "$edu" >/sys/bus/pci/drivers_probe
echo >"/sys/bus/pci/devices/$edu/driver_override"
[ -e "/sys/bus/pci/drivers/dis_selftest/$edu" ] || fail "dis_selftest did not bind $edu"

# Wait until the guest is idle (at least 90% over a second, 60 s at most):
# work left from the boot must not run inside the timed batches, where with
# one vCPU (the icount clock) it is timed with them.  7.x runs its crypto
# self-tests (cryptomgr_test threads) for some 5 s after user space starts.
ncpu=$(grep -c '^processor' /proc/cpuinfo)
settle=0
while [ "$settle" -lt 60 ]; do
	read -r up0 idle0 _ </proc/uptime
	sleep 1
	read -r up1 idle1 _ </proc/uptime
	[ "$(awk -v u0="$up0" -v u1="$up1" -v i0="$idle0" -v i1="$idle1" -v n="$ncpu" \
		'BEGIN { print (i1 - i0 >= 0.9 * (u1 - u0) * n) }')" = 1 ] && break
	settle=$((settle + 1))
done

domain=$(iommu_type "$edu")
echo "mbench: edu $edu in a '$domain' domain, mode $mode, $repeats batches of $pages pages" \
	"(waited ${settle} s for the guest to go idle)"
echo "@@DATA map guest mode=$mode domain=$domain release=$(uname -r) settle=$settle" >/dev/ttyS1
echo "run $repeats $pages" >"$D/mbench" || fail "the benchmark run failed: $(cat "$D/mbench")"
cat "$D/mbench" >/tmp/mbench.out
cat /tmp/mbench.out
grep -q '^end ' /tmp/mbench.out || fail "incomplete benchmark output"
sed 's/^/@@DATA map /' /tmp/mbench.out >/dev/ttyS1

methods="map_page sgtable sgtable_fill shim_two_step"
grep -q '^mbench native=1' /tmp/mbench.out && methods="$methods native_two_step"
# no IOMMU, no trace: nothing to count
[ "$mode" = none ] && count_segs=none
if [ "$count_segs" != none ]; then
	for s in $(echo "$count_segs" | tr ',' ' '); do
		for m in $methods; do
			label="map:$m:$s"
			iotlb_begin "$label"
			echo "count $m $s $count" >"$D/mbench" ||
				fail "$count requests of $s segments ($m) failed"
			iotlb_end "$label"
			iotlb_ops "$label" "$count"
		done
	done
fi
echo "@@DATA map done" >/dev/ttyS1

echo "$edu" >/sys/bus/pci/drivers/dis_selftest/unbind
rmmod dis_selftest || fail "rmmod dis_selftest failed"
rmmod dma_iova_shim || fail "rmmod dma_iova_shim failed"
