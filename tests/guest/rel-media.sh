# SPDX-License-Identifier: GPL-2.0
# Reliability, media errors (rel.media_cycles, default 10): ctrl1 sits on
# blkdebug failing every read and write that touches sector
# rel.bad_sector (default 1048576; run-vm.py --nvme ...,blkdebug=rw@SECTOR
# with the same sector).  With fio write+verify running on ctrl1's first
# 4 MiB all along, each cycle:
#  - dd writes and reads over the bad sector: both fail (EIO or ENODATA);
#  - fio reads and writes over it: fio reports the error;
#  - nvme-cli read and write of that LBA: non-zero exit;
#  - data written right before the bad sector reads back intact.
# Counts: cycles, calls (error I/Os tried), failures (an I/O over the bad
# sector that succeeds, good I/O that fails, anything that hangs),
# mismatches (data next to the bad sector, fio verify errors elsewhere),
# leaks (ranges outstanding once idle: every error completion must unmap).
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
# shellcheck source=rel-lib.sh
. /tests/rel-lib.sh
cycles=$(rel_cycles media 10)
bad=$(cmdline_arg rel.bad_sector || echo 1048576)
rel_demo_pair
bdf=$REL_B
dev=/dev/${REL_CB}n1
leaks0=$(rel_leak_reports)
# 4 KiB blocks around the bad sector (blkdebug counts 512-byte sectors)
blk=$((bad / 8))
near_kib=$((blk * 4 - 64))

# expect_error WHAT CMD...: CMD must fail, within 60 s
expect_error() {
	_what=$1
	shift
	REL_CALLS=$((REL_CALLS + 1))
	timeout 60 "$@" >/tmp/rel-err.out 2>&1
	case $? in
	0) rel_fail "cycle $i: $_what over the bad sector succeeded" ;;
	137 | 143) rel_fail "cycle $i: $_what over the bad sector hangs" ;;
	esac
}

head -c 4096 /dev/urandom >/tmp/rel-blk
rel_verify_loop m "$dev" 2m 8
loop=$!
i=0
while [ $i -lt "$cycles" ]; do
	i=$((i + 1))
	expect_error "dd write" dd if=/tmp/rel-blk of="$dev" bs=4k seek=$blk count=1 \
		oflag=direct conv=fsync
	expect_error "dd read" dd if="$dev" of=/dev/null bs=4k skip=$blk count=1 iflag=direct
	grep -q -e "Input/output error" -e "No data available" /tmp/rel-err.out ||
		rel_fail "cycle $i: dd read error is neither EIO nor ENODATA: $(cat /tmp/rel-err.out)"
	for rw in read write; do
		expect_error "fio $rw" fio --name=bad --filename="$dev" --rw=$rw --bs=64k \
			--offset=$(((blk - 16) * 4096)) --size=128k --direct=1 \
			--ioengine=libaio --iodepth=4 --allow_file_create=0
		grep -q "error" /tmp/rel-err.out ||
			rel_fail "cycle $i: fio $rw did not report the error"
	done
	expect_error "nvme read" nvme read "$dev" -s "$bad" -c 7 -z 4096 -d /tmp/rel-x
	expect_error "nvme write" nvme write "$dev" -s "$bad" -c 7 -z 4096 -d /tmp/rel-blk
	REL_CALLS=$((REL_CALLS + 1))
	if rel_put_ref "$dev" 64 "$near_kib"; then
		rel_check_ref "$dev" 64 "$near_kib"
		case $? in
		0) ;;
		1) rel_mismatch "cycle $i: data next to the bad sector reads back differently" ;;
		*) rel_fail "cycle $i: reading next to the bad sector failed" ;;
		esac
	else
		rel_fail "cycle $i: writing next to the bad sector failed"
	fi
done
rel_stop_loops $loop
rel_verify_collect m
echo "rel: $i cycle(s) of errors over sector $bad with fio write+verify elsewhere"
rel_idle "$bdf"
k=$(($(rel_leak_reports) - leaks0))
[ "$k" -eq 0 ] || { dmesg | grep 'leaked IOVA range' | tail -n 5; REL_LEAKS=$((REL_LEAKS + k)); }
rel_report rel-media "$i"
