# SPDX-License-Identifier: GPL-2.0
# fio write + crc32c verify through the stock nvme driver, block sizes 4k to
# 1M, queue depth 1 and 32, on controller ctrl0.
c=$(nvme_wait_ctrl ctrl0) || fail "no controller with serial ctrl0 under the stock driver"
dev=/dev/${c}n1
wait_for "$dev" || fail "$dev did not appear"
for qd in 1 32; do
	for rw in write randwrite; do
		DEV=$dev SIZE=16m QD=$qd RW=$rw fio --output-format=terse --terse-version=3 \
			/tests/fio/verify.fio >/tmp/fio.out 2>&1 ||
			{ cat /tmp/fio.out; fail "fio $rw qd$qd verify on $dev failed"; }
		# terse v3: field 5 is the error count
		err=$(cut -d';' -f5 /tmp/fio.out | head -n1)
		[ "$err" = 0 ] || { cat /tmp/fio.out; fail "fio $rw qd$qd: error $err"; }
		echo "fio $rw qd$qd on $dev: verified"
	done
done
