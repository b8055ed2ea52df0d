# SPDX-License-Identifier: GPL-2.0
# Media errors through nvme_iova: ctrl1 sits on blkdebug that fails every
# read touching sector 2048 (run-vm.py --nvme ...,blkdebug=read@2048).  The
# error reaches dd (as ENODATA, like the stock driver), fio and nvme-cli;
# other sectors and writes keep working; nothing hangs.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
nvi_demo
dev=/dev/${c}n1

dd if="$dev" of=/dev/null bs=512 count=2048 iflag=direct 2>/dev/null ||
	fail "reading sectors 0-2047 failed"
dd if="$dev" of=/dev/null bs=512 skip=2048 count=1 iflag=direct 2>/tmp/dd.err &&
	fail "reading sector 2048 succeeded"
cat /tmp/dd.err
grep -q -e "No data available" -e "Input/output error" /tmp/dd.err ||
	fail "read error is neither ENODATA (medium error) nor EIO"

fio --name=rd --filename="$dev" --rw=read --bs=4k --size=2m --direct=1 \
	--ioengine=libaio --iodepth=8 --output-format=terse --terse-version=3 \
	>/tmp/fio.out 2>&1 && fail "fio read over sector 2048 succeeded"
grep -q "error" /tmp/fio.out || { cat /tmp/fio.out; fail "fio did not report the error"; }
echo "fio: $(grep -m1 -o 'error=[^ ]*.*' /tmp/fio.out)"

nvme read "$dev" -s 2048 -c 0 -z 512 -d /tmp/x >/tmp/cli.out 2>&1 &&
	fail "nvme read of LBA 2048 succeeded"
cat /tmp/cli.out
nvme read "$dev" -s 8 -c 0 -z 512 -d /tmp/x >/dev/null 2>&1 || fail "nvme read of LBA 8 failed"
dd if=/dev/urandom of="$dev" bs=4k count=4 seek=1024 oflag=direct 2>/dev/null ||
	fail "write failed"
echo "errors reported, other I/O fine"
