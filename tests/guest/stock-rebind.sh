# SPDX-License-Identifier: GPL-2.0
# Unbind ctrl1 from the stock nvme driver and bind it back through
# driver_override while ctrl0 keeps running fio with verify; data written to
# ctrl1 before the unbind reads back after the rebind.
c0=$(nvme_wait_ctrl ctrl0) || fail "no ctrl0"
c1=$(nvme_wait_ctrl ctrl1) || fail "no ctrl1"
bdf=$(cat "/sys/class/nvme/$c1/address")
echo "ctrl1 is $c1 at $bdf"
dev1=/dev/${c1}n1

dd if=/dev/urandom of=/tmp/pattern bs=64k count=16 2>/dev/null
dd if=/tmp/pattern of="$dev1" bs=64k oflag=direct 2>/dev/null || fail "write to $dev1 failed"

DEV=/dev/${c0}n1 SIZE=24m QD=16 RW=randwrite fio --output-format=terse \
	--terse-version=3 /tests/fio/verify.fio >/tmp/fio-bg.out 2>&1 &
fio_pid=$!

echo "$bdf" >/sys/bus/pci/drivers/nvme/unbind || fail "unbind $bdf failed"
[ ! -e "/sys/bus/pci/devices/$bdf/driver" ] || fail "$bdf still has a driver after unbind"
for c in /sys/class/nvme/nvme*; do
	[ -e "$c/address" ] && [ "$(cat "$c/address")" = "$bdf" ] &&
		fail "$bdf still registered as $(basename "$c")"
done
echo nvme >"/sys/bus/pci/devices/$bdf/driver_override" || fail "driver_override"
echo "$bdf" >/sys/bus/pci/drivers_probe || fail "drivers_probe $bdf failed"
echo >"/sys/bus/pci/devices/$bdf/driver_override"
n=100
until c1=$(nvme_ctrl ctrl1) && [ -b "/dev/${c1}n1" ]; do
	n=$((n - 1))
	[ $n -gt 0 ] || fail "ctrl1 did not come back after rebinding $bdf"
	sleep 0.1
done
echo "ctrl1 is back as $c1 at $(cat "/sys/class/nvme/$c1/address")"
drv=$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")")
[ "$drv" = nvme ] || fail "$bdf bound to '$drv', not nvme"
dd if="/dev/${c1}n1" of=/tmp/readback bs=64k count=16 iflag=direct 2>/dev/null ||
	fail "read back from /dev/${c1}n1 failed"
cmp /tmp/pattern /tmp/readback || fail "data written before the unbind changed"

wait $fio_pid || { cat /tmp/fio-bg.out; fail "fio on $c0 failed during the rebind"; }
echo "fio on $c0 kept running and verified"
