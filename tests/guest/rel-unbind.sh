# SPDX-License-Identifier: GPL-2.0
# Reliability, hot unbind/rebind under load (rel.unbind_cycles, default 10):
# ctrl0 and ctrl1 on nvme_iova; fio write+verify passes run on ctrl1 all
# along.  Each cycle writes fresh data to ctrl0 (acknowledged: O_DIRECT +
# fsync), starts fio load on ctrl0, then takes ctrl0 away under it (driver
# unbind; cycles 2, 7, 12, ... PCI removal + rescan instead), waits for the load
# to end, brings ctrl0 back on nvme_iova and reads the data back.  Counts:
# cycles, fio runs, failures (load that hangs, a controller that does not
# come back), mismatches (data acknowledged before the unbind that reads
# back differently, fio verify errors on ctrl1), leaks (ranges the shim
# still holds for ctrl0 once idle, "leaked IOVA range" reports).
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
# shellcheck source=rel-lib.sh
. /tests/rel-lib.sh
cycles=$(rel_cycles unbind 10)
rel_demo_pair
devb=/dev/${REL_CB}n1
leaks0=$(rel_leak_reports)

# back_on_demo BDF: BDF, re-created by a rescan, bound to nvme_iova again;
# prints the controller.  The stock driver (unloaded before the rescan
# where it can be) probes asynchronously: let it finish before moving.
back_on_demo() {
	wait_for "/sys/bus/pci/devices/$1" 100 || return 1
	_n=20
	while [ ! -e "/sys/bus/pci/devices/$1/driver" ] && [ -e /sys/module/nvme ] &&
		[ $_n -gt 0 ]; do
		_n=$((_n - 1))
		sleep 0.1
	done
	if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
		nvi_stock_ctrl "$1" >/dev/null
		sh /tests/bind-nvme.sh --force to-demo "$1" >&2 || return 1
	else
		echo nvme_iova >"/sys/bus/pci/devices/$1/driver_override"
		echo "$1" >/sys/bus/pci/drivers_probe
	fi
	nvi_ctrl "$1"
}

rel_verify_loop b "$devb" 2m 8
loop=$!
i=0
removals=0
while [ $i -lt "$cycles" ]; do
	i=$((i + 1))
	deva=/dev/${REL_CA}n1
	seek=$(((i % 32) * 256))
	rel_put_ref "$deva" 256 "$seek" || { rel_fail "cycle $i: writing reference data"; break; }
	fio --name=load --filename="$deva" --rw=randrw --bs=64k --iodepth=32 \
		--direct=1 --ioengine=libaio --time_based --runtime=60 \
		--allow_file_create=0 --offset=64m --size=64m >/tmp/rel-load.out 2>&1 &
	load=$!
	sleep 1
	REL_CALLS=$((REL_CALLS + 1))
	echo "rel-unbind: cycle $i" >/dev/kmsg
	if [ $((i % 5)) -eq 2 ]; then
		removals=$((removals + 1))
		echo 1 >"/sys/bus/pci/devices/$REL_A/remove" ||
			{ rel_fail "cycle $i: PCI remove failed"; break; }
		how=removal
	else
		echo "$REL_A" >/sys/bus/pci/drivers/nvme_iova/unbind ||
			{ rel_fail "cycle $i: unbind failed"; break; }
		how=unbind
	fi
	if ! rel_wait $load 60; then
		rel_fail "cycle $i: fio load still running 60 s after the $how"
		break
	fi
	for c in /sys/class/nvme_iova/*; do
		[ "$(cat "$c/address" 2>/dev/null)" = "$REL_A" ] &&
			rel_fail "cycle $i: $(basename "$c") still registered after the $how"
	done
	echo "rel-unbind: cycle $i: load ended, rebinding" >/dev/kmsg
	if [ $how = removal ]; then
		rmmod nvme 2>/dev/null
		echo 1 >/sys/bus/pci/rescan
		REL_CA=$(back_on_demo "$REL_A")
	else
		echo "$REL_A" >/sys/bus/pci/drivers_probe
		REL_CA=$(nvi_ctrl "$REL_A")
	fi
	[ -n "$REL_CA" ] || { rel_fail "cycle $i: $REL_A did not come back after the $how"; break; }
	rel_check_ref "/dev/${REL_CA}n1" 256 "$seek"
	case $? in
	0) ;;
	1) rel_mismatch "cycle $i: data written before the $how reads back differently" ;;
	*) rel_fail "cycle $i: reading the data back after the $how failed" ;;
	esac
	rel_idle "$REL_A"
done
rel_stop_loops $loop
rel_verify_collect b
echo "rel: $i cycle(s) ($removals PCI removal(s)) with fio on $devb all along"

# a last full write+verify on both, then nothing may stay mapped
for c in "$REL_CA" "$REL_CB"; do
	[ -n "$c" ] || continue
	REL_CALLS=$((REL_CALLS + 1))
	DEV=/dev/${c}n1 SIZE=4m QD=8 RW=randwrite IOMEM=malloc \
		nvi_fio /tests/fio/nvme-verify.fio /tmp/rel-fio.out ||
		rel_fail "write+verify on $c after the cycles"
done
rel_idle "$REL_A"
rel_idle "$REL_B"
n=$(($(rel_leak_reports) - leaks0))
[ "$n" -eq 0 ] || { dmesg | grep 'leaked IOVA range' | tail -n 5; REL_LEAKS=$((REL_LEAKS + n)); }
rel_report rel-unbind "$i"
