# SPDX-License-Identifier: GPL-2.0
# Flush, FUA, discard and write-zeroes through nvme_iova: the block layer
# sees the write cache and FUA, each command reaches the controller and
# succeeds, and a zeroed range reads back as zeros.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
nvi_demo
d=${c}n1
q=/sys/block/$d/queue
echo "write_cache=$(cat "$q/write_cache") fua=$(cat "$q/fua") discard_max=$(cat "$q/discard_max_bytes") write_zeroes_max=$(cat "$q/write_zeroes_max_bytes")"
[ "$(cat "$q/write_cache")" = "write back" ] || fail "volatile write cache not reported"
[ "$(cat "$q/fua")" = 1 ] || fail "FUA not reported"
[ "$(cat "$q/discard_max_bytes")" -gt 0 ] || fail "discard not reported"
[ "$(cat "$q/write_zeroes_max_bytes")" -gt 0 ] || fail "write zeroes not reported"

# stat fields: 12 discards completed, 16 flushes completed
stat_field() { awk -v f="$1" '{ print $f }' "/sys/block/$d/stat"; }

dd if=/dev/urandom of=/tmp/r bs=1M count=4 2>/dev/null
dd if=/tmp/r of="/dev/$d" bs=1M oflag=direct 2>/dev/null || fail "write failed"

f0=$(stat_field 16)
# O_DIRECT|O_SYNC writes on a write-back device with FUA go out as FUA writes
fio --name=fua --filename="/dev/$d" --rw=write --bs=4k --size=64k --direct=1 \
	--sync=1 --ioengine=psync --verify=crc32c --do_verify=1 >/tmp/fio.out 2>&1 ||
	{ cat /tmp/fio.out; fail "O_SYNC (FUA) write failed"; }
dd if=/tmp/r of="/dev/$d" bs=1M count=1 conv=fsync 2>/dev/null || fail "fsync (flush) failed"
f1=$(stat_field 16)
[ "$f1" -gt "$f0" ] || fail "no flush reached the device ($f0 -> $f1)"
echo "flush: $((f1 - f0)) flush request(s) completed"

t0=$(stat_field 12)
blkdiscard -o $((2 << 20)) -l $((1 << 20)) "/dev/$d" || fail "discard failed"
t1=$(stat_field 12)
[ "$t1" -gt "$t0" ] || fail "no discard reached the device"
echo "discard: $((t1 - t0)) discard request(s) completed"
# a namespace whose DLFEAT says deallocated blocks read zeros must give
# zeros there now
dl=$(nvme id-ns "/dev/$d" 2>/dev/null | awk '/^dlfeat/ { print $3 }')
if [ $((${dl:-0} & 7)) = 1 ]; then
	dd if=/dev/zero of=/tmp/z1 bs=1M count=1 2>/dev/null
	dd if="/dev/$d" of=/tmp/d1 bs=1M skip=2 count=1 iflag=direct 2>/dev/null
	cmp /tmp/z1 /tmp/d1 || fail "discarded range does not read zeros (dlfeat $dl)"
	echo "discard: the range reads zeros, as DLFEAT $dl promises"
fi

# write-zeroes: fallocate(PUNCH_HOLE|KEEP_SIZE) on a block device becomes
# REQ_OP_WRITE_ZEROES (no fallback to writing zero pages)
fio --name=wz --filename="/dev/$d" --ioengine=falloc --rw=trim --bs=64k \
	--offset=1m --size=512k >/tmp/fio.out 2>&1 || { cat /tmp/fio.out; fail "write-zeroes failed"; }
dd if=/dev/zero of=/tmp/z bs=64k count=8 2>/dev/null
dd if="/dev/$d" of=/tmp/zr bs=64k skip=16 count=8 iflag=direct 2>/dev/null
cmp /tmp/z /tmp/zr || fail "write-zeroed range does not read back as zeros"
# and the neighbours kept their data
dd if="/dev/$d" of=/tmp/n bs=64k skip=24 count=8 iflag=direct 2>/dev/null
dd if=/tmp/r of=/tmp/nr bs=64k skip=24 count=8 2>/dev/null
cmp /tmp/n /tmp/nr || fail "data next to the zeroed range changed"
echo "write-zeroes: 512 KiB read back as zeros, neighbours intact"

# multi-range discard: ext4 mounted with -o discard frees a file whose
# blocks alternate with another file's, sending one discard bio per freed
# extent in a burst; with mq-deadline and 4 requests in flight they wait in
# the scheduler and merge into Dataset Management commands of several
# ranges (max_discard_segments > 1): fewer commands than extents (seen:
# 11-43 for 64 on 5.10-7; at least one must carry several ranges).  The
# other file must keep every byte: a range sent wrong would deallocate its
# blocks.
segs=$(cat "$q/max_discard_segments")
if [ "$segs" -gt 1 ] && ! grep -q mq-deadline "$q/scheduler"; then
	echo "discard: no mq-deadline in this kernel, multi-range discard not tried"
elif [ "$segs" -gt 1 ]; then
	/usr/sbin/mke2fs -q -F -t ext4 -E nodiscard "/dev/$d" || fail "mke2fs (e2fsprogs) failed"
	modprobe ext4 2>/dev/null
	mkdir -p /mnt/mr
	mount -t ext4 -o discard "/dev/$d" /mnt/mr || fail "mount failed"
	# small files share the group preallocation, so the two interleave
	echo 100000 >"/sys/fs/ext4/$d/mb_stream_req"
	i=0
	while [ $i -lt 64 ]; do
		dd if=/tmp/r of=/mnt/mr/a bs=4k skip=$i seek=$i count=1 \
			oflag=direct conv=notrunc 2>/dev/null
		dd if=/tmp/r of=/mnt/mr/b bs=4k skip=$((i + 64)) seek=$i count=1 \
			oflag=direct conv=notrunc 2>/dev/null
		i=$((i + 1))
	done
	sync
	sched=$(sed 's/.*\[\(.*\)\].*/\1/' "$q/scheduler")
	nr=$(cat "$q/nr_requests")
	echo mq-deadline >"$q/scheduler" || fail "cannot select mq-deadline"
	echo 4 >"$q/nr_requests"
	t0=$(stat_field 12)
	rm /mnt/mr/a && sync
	n=$(($(stat_field 12) - t0))
	echo "$sched" >"$q/scheduler"
	echo "$nr" >"$q/nr_requests"
	umount /mnt/mr || fail "umount failed"
	mount -t ext4 "/dev/$d" /mnt/mr || fail "remount failed"
	dd if=/tmp/r of=/tmp/b.ref bs=4k skip=64 count=64 2>/dev/null
	cmp /mnt/mr/b /tmp/b.ref || { umount /mnt/mr; fail "multi-range discard destroyed the neighbouring file's data"; }
	umount /mnt/mr
	[ "$n" -gt 0 ] || fail "deleting a file on -o discard sent no discard"
	[ "$n" -lt 64 ] || fail "64 freed extents went out as $n discards: none merged (max $segs ranges)"
	echo "discard: a 64-extent file freed with $n discard command(s) (up to $segs ranges each), its neighbour intact"
fi
