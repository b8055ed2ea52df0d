# SPDX-License-Identifier: GPL-2.0
# Negative control: corrupt data fio wrote, then let fio verify it and report
# success whatever fio says.  The verdict must fail this test from fio's
# console output alone (tests/matrix.ini: expect = FAIL).
c=$(nvme_wait_ctrl ctrl0) || fail "no ctrl0"
dev=/dev/${c}n1
fio --name=w --filename="$dev" --direct=1 --rw=write --bs=64k --size=1m \
	--verify=crc32c --do_verify=0 >/dev/null 2>&1 || fail "fio write failed"
dd if=/dev/zero of="$dev" bs=4k seek=40 count=1 oflag=direct 2>/dev/null
fio --name=w --filename="$dev" --direct=1 --rw=write --bs=64k --size=1m \
	--verify=crc32c --verify_only=1 2>&1 | head -5
echo "ignored fio's verdict; saying ok"
