# SPDX-License-Identifier: GPL-2.0
# Admin passthrough commands whose data_len claims more than the controller
# moves must not touch other requests' PRP lists.  nvme-overlong sends
# Identify Controller (4 KiB) with data_len 12 KiB from a buffer 2 KiB into
# a page: the driver points PRP 2 at a list, the controller writes its last
# 2 KiB through PRP 2 as data.  Meanwhile fio writes and verifies 128 KiB
# blocks at depth 16 on ctrl1 (PRP lists of 31 entries, from the same small
# DMA pool).  With passthrough lists in that pool, fio's lists were
# overwritten: reads of zeros, verify failures (found by the fuzz, seed
# 113485771 on 6.1-debug intel-lazy).
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
nvi_demo
dev=/dev/${c}n1
fio --name=v --filename="$dev" --direct=1 --ioengine=libaio --bs=128k \
	--rw=randwrite --iodepth=16 --size=32m --verify=crc32c --verify_fatal=1 \
	--do_verify=1 --loops=6 >/tmp/fio.out 2>&1 &
fpid=$!
n=0
while kill -0 "$fpid" 2>/dev/null && [ $n -lt 400 ]; do
	nvme-overlong "/dev/$c" 25 >/tmp/ov.out 2>&1 ||
		{ cat /tmp/ov.out; fail "Identify with an overlong data_len failed"; }
	n=$((n + 1))
done
wait "$fpid" || { cat /tmp/fio.out; fail "fio verify failed beside overlong admin commands"; }
[ $n -gt 0 ] || fail "fio ended before any overlong command was sent"
echo "$((n * 25)) overlong Identify commands beside fio verify (128 KiB, QD 16): data intact"
st=$(cat "/sys/class/nvme_iova/$c/state")
[ "$st" = live ] || fail "$c is $st, not live"
