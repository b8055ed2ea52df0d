# SPDX-License-Identifier: GPL-2.0
# Several namespaces and 4 KiB blocks: run with
#   --nvme size=1G --nvme size=512M,ns=2,lbs=4096,mdts=5
# ctrl1 gets one disk per namespace, 4096-byte logical blocks, and a
# transfer limit from MDTS (2^5 pages = 128 KiB); fio verifies on both.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
nvi_demo
for n in 1 2; do
	d=${c}n$n
	[ -b "/dev/$d" ] || fail "/dev/$d missing"
	lbs=$(cat "/sys/block/$d/queue/logical_block_size")
	max=$(cat "/sys/block/$d/queue/max_hw_sectors_kb")
	echo "$d: $(cat "/sys/block/$d/size") sectors, lbs $lbs, max_hw_sectors_kb $max"
	[ "$lbs" = 4096 ] || fail "$d: logical block size $lbs, expected 4096"
	[ "$max" = 128 ] || fail "$d: max_hw_sectors_kb $max, expected 128 (MDTS 5)"
	[ "$(nvme id-ns "/dev/$d" -o json | grep -c nsze)" -ge 1 ] || fail "id-ns on $d"
done
# distinct data on each namespace
dd if=/dev/urandom of=/tmp/p1 bs=64k count=8 2>/dev/null
dd if=/dev/urandom of=/tmp/p2 bs=64k count=8 2>/dev/null
dd if=/tmp/p1 of="/dev/${c}n1" bs=64k oflag=direct 2>/dev/null || fail "write n1"
dd if=/tmp/p2 of="/dev/${c}n2" bs=64k oflag=direct 2>/dev/null || fail "write n2"
dd if="/dev/${c}n1" of=/tmp/r1 bs=64k count=8 iflag=direct 2>/dev/null
dd if="/dev/${c}n2" of=/tmp/r2 bs=64k count=8 iflag=direct 2>/dev/null
cmp /tmp/p1 /tmp/r1 || fail "namespaces mixed up (n1)"
cmp /tmp/p2 /tmp/r2 || fail "namespaces mixed up (n2)"
for n in 1 2; do
	fio --name=v --filename="/dev/${c}n$n" --direct=1 --ioengine=libaio \
		--bsrange=4k-1m --rw=randwrite --iodepth=16 --size=4m --verify=crc32c \
		--verify_fatal=1 --do_verify=1 --output-format=terse --terse-version=3 \
		>/tmp/fio.out 2>&1 || { cat /tmp/fio.out; fail "fio verify on ${c}n$n"; }
done
# 512-byte I/O must be refused on a 4096-byte namespace, not corrupt it
# (fio, not busybox dd: dd retries a failed O_DIRECT write without it)
fio --name=small --filename="/dev/${c}n1" --direct=1 --ioengine=psync --bs=512 \
	--rw=write --size=4k >/tmp/fio.out 2>&1 &&
	fail "512-byte direct write accepted on a 4096-byte namespace"
echo "2 namespaces, 4 KiB blocks, MDTS limit: verified"
