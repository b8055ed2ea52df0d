# SPDX-License-Identifier: GPL-2.0
# Controller resets (NVME_IOCTL_RESET) under fio write+verify load: the
# requests in flight are requeued and verify passes.  Then unbind under
# load: every outstanding request completes (fio sees errors, nothing
# hangs), and after rebinding a verify pass succeeds.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
nvi_demo
dev=/dev/${c}n1

DEV=$dev SIZE=8m QD=16 RW=randwrite IOMEM=malloc fio --output-format=terse \
	--terse-version=3 /tests/fio/nvme-verify.fio >/tmp/fio-bg.out 2>&1 &
pid=$!
sleep 2
for i in 1 2 3; do
	nvme reset "/dev/$c" || fail "reset $i failed"
	[ "$(cat "/sys/class/nvme_iova/$c/state")" = live ] || fail "not live after reset $i"
	sleep 0.5
done
wait_pid $pid 120 || { cat /tmp/fio-bg.out; fail "fio verify failed across resets"; }
err=$(grep '^3;' /tmp/fio-bg.out | cut -d';' -f5)
[ "$err" = 0 ] || { cat /tmp/fio-bg.out; fail "fio saw errors across resets"; }
echo "3 resets under write+verify load: verified"

fio --name=load --filename="$dev" --allow_file_create=0 --rw=randrw --bs=64k --iodepth=32 --direct=1 \
	--ioengine=libaio --time_based --runtime=30 --size=64m >/tmp/fio-load.out 2>&1 &
pid=$!
sleep 2
echo "$bdf" >/sys/bus/pci/drivers/nvme_iova/unbind || fail "unbind failed"
[ -e "/sys/bus/pci/devices/$bdf/driver" ] && fail "$bdf still bound"
wait_pid $pid 60
echo "unbind under load: fio ended (status $?), nothing hangs"
for _x in /sys/class/nvme_iova/*; do
	[ -e "$_x" ] && fail "a controller is still registered: $(basename "$_x")"
done
dmesg | grep "$bdf: leaked IOVA range" && fail "the driver left mapped ranges behind at unbind"

echo "$bdf" >/sys/bus/pci/drivers_probe
c=$(nvi_ctrl "$bdf") || fail "rebind failed"
DEV=/dev/${c}n1 SIZE=4m QD=8 RW=randwrite IOMEM=malloc \
	nvi_fio /tests/fio/nvme-verify.fio /tmp/fio.out || fail "verify after rebind failed"
echo "rebound as $c: verified"
nvi_shim_idle "$bdf" || fail "ranges outstanding after the verify"
