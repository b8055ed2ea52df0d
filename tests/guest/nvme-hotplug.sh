# SPDX-License-Identifier: GPL-2.0
# Hot removal under I/O (issue 15 item 5): ctrl1 sits behind its own
# hot-pluggable pcie-root-port (run-vm.py --nvme ...,rp); the host removes
# it with HMP device_del while fio writes to it through nvme_iova.  fio
# must end with errors, the disk and the controller must be gone within
# 30 s, nothing may hang, the shim must hold no IOVA range (debugfs total:
# outstanding 0, no "leaked IOVA range").  Then the host adds it back
# (device_add, its drive again if QEMU dropped it), it is bound to
# nvme_iova again and fio write + verify passes on it.  Prints the times.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
bdf=$(nvi_bdf ctrl1) || fail "no controller with serial ctrl1"
rp=$(nvi_root_port "$bdf") || exit $?
mm=$(nvi_modes | awk '{ print $1 }')
c=$(nvi_use_mode "$mm" "$bdf") || fail "cannot bind $bdf to nvme_iova"
dev=/dev/${c}n1
echo "ctrl1 $bdf ($c) behind root port $rp, map_mode=$mm"

fio --name=hot --filename="$dev" --allow_file_create=0 --rw=randwrite --bs=4k-128k \
	--iodepth=32 --direct=1 --ioengine=libaio --time_based --runtime=120 \
	--size=256m --output-format=terse --terse-version=3 >/tmp/hot-fio.out 2>&1 &
pid=$!
sleep 2
kill -0 $pid 2>/dev/null || { cat /tmp/hot-fio.out; fail "fio ended within 2 s"; }
echo "nvme-hotplug: device_del" >/dev/kmsg
sleep 0.2	# its console line out before the @@HMP one
t0=$(uptime_cs)
hmp device_del nvme1
gone() { [ ! -e "/sys/bus/pci/devices/$bdf" ] && [ ! -b "$dev" ] && [ ! -e "/sys/class/nvme_iova/$c" ]; }
hmp_wait 30 gone >/dev/null ||
	{ dmesg | tail -n 30; fail "$bdf / $dev still there 30 s after device_del"; }
t_gone=$(($(uptime_cs) - t0))
wait_pid $pid 30 "fio after the removal"
rc=$?
t_fio=$(($(uptime_cs) - t0))
err=$(grep '^3;' /tmp/hot-fio.out | cut -d';' -f5)
[ "$rc" != 0 ] || [ "${err:-0}" != 0 ] ||
	{ cat /tmp/hot-fio.out; fail "fio saw no error although its disk went away"; }
dmesg | grep -q 'leaked IOVA range' && fail "the driver left mapped ranges behind"
tot=/sys/kernel/debug/dma_iova_shim/total
if [ -r $tot ]; then
	grep -q '^outstanding 0$' $tot || { cat $tot; fail "shim ranges outstanding after the removal"; }
	shim="shim outstanding 0"
else
	shim="no shim"
fi
echo "device_del under fio: $bdf gone after $((t_gone / 100)).$((t_gone % 100 / 10)) s," \
	"fio ended after $((t_fio / 100)).$((t_fio % 100 / 10)) s (status $rc, error ${err:-?}); $shim"

echo "nvme-hotplug: device_add" >/dev/kmsg
sleep 0.2	# its console line out before the @@HMP one
t0=$(uptime_cs)
# QEMU drops a -drive's backend with the device that used it: add it again
# (an error "Duplicate ID" in hmp.log when it did not)
hmp "drive_add 0 file={OUT}/ctrl1n1.img,if=none,id=d1n1,format=raw,cache=unsafe,discard=unmap"
hmp device_add nvme,id=nvme1,serial=ctrl1,bus=rp1,drive=d1n1
hmp_wait 30 test -e "/sys/bus/pci/devices/$bdf" >/dev/null ||
	{ dmesg | tail -n 20; fail "$bdf did not come back within 30 s of device_add"; }
# the stock driver may take it first (it matches the class): move it
c=$(nvi_use_mode "$mm" "$bdf") || fail "cannot bind the re-added $bdf to nvme_iova"
t=$(($(uptime_cs) - t0))
DEV=/dev/${c}n1 SIZE=8m QD=16 RW=randwrite IOMEM=malloc \
	nvi_fio /tests/fio/nvme-verify.fio /tmp/hot-verify.out || fail "verify on the re-added controller failed"
nvi_shim_idle "$bdf" || fail "ranges outstanding after the verify"
echo "device_add: $bdf back and bound to nvme_iova as $c after $((t / 100)).$((t % 100 / 10)) s; fio write + verify passed"
