# SPDX-License-Identifier: GPL-2.0
# Shadow doorbells (Doorbell Buffer Config), as nvme-pci uses them: on a
# controller that offers them (OACS bit 8; QEMU 7.2 reports OACS 0x10a), the
# demo driver's I/O queues ring through the shadow page, writing the
# doorbell register only when the controller's event index asks (debugfs
# doorbells counts both).  At depth 32 most SQ tail updates go without a
# register write.  CQ heads are only counted: QEMU 7.2's event index asks
# for nearly every one (0 to 7 of about 500 went without, 6.1 to 7).  The
# shadow survives controller resets (set up again at each enable, with the
# controller's view cleared) with the data right; shadow_doorbells=N puts
# every queue back on its registers.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
nvi_demo
d=${c}n1
db=/sys/kernel/debug/nvme_iova/$c/doorbells
[ -r "$db" ] || fail "no $db"

# the stock driver's view of the same controller model: does it offer them?
sbdf=$(nvi_bdf ctrl0) || fail "no controller with serial ctrl0"
s=$(nvi_to_stock "$sbdf") || fail "cannot put $sbdf under the stock driver"
oacs=$(nvme id-ctrl "/dev/$s" | awk '$1 == "oacs" { print $3 }')
[ -n "$oacs" ] || fail "nvme id-ctrl /dev/$s printed no oacs"
[ $((oacs & 0x100)) -ne 0 ] ||
	skip "the controller does not offer Doorbell Buffer Config (oacs $oacs)"
echo "oacs $oacs: Doorbell Buffer Config offered"

dbv() { awk -v k="$1" '$1 == k { print $2 }' "$db"; }

# run 4 KiB random reads at depth 32 for a while; print "mmio shadow" SQ
# and CQ updates they took: "sq_mmio sq_shadow cq_mmio cq_shadow"
qd32() {
	_a="$(dbv sq_mmio) $(dbv sq_shadow) $(dbv cq_mmio) $(dbv cq_shadow)"
	fio --name=qd32 --filename="/dev/$d" --ioengine=libaio --direct=1 \
		--rw=randread --bs=4k --iodepth=32 --size=64m --io_size=16m \
		--output-format=terse --terse-version=3 >/tmp/fio-db.out 2>&1 ||
		{ cat /tmp/fio-db.out; fail "fio 4 KiB QD32 reads failed ($1)"; }
	_b="$(dbv sq_mmio) $(dbv sq_shadow) $(dbv cq_mmio) $(dbv cq_shadow)"
	# shellcheck disable=SC2086
	set -- $_a $_b
	echo "$(($5 - $1)) $(($6 - $2)) $(($7 - $3)) $(($8 - $4))"
}

# write + verify at depth 32 with N resets of the controller meanwhile
verify_with_resets() {
	fio --name=dbv --filename="/dev/$d" --ioengine=libaio --direct=1 \
		--rw=randwrite --bs=4k --iodepth=32 --size=32m \
		--verify=crc32c --verify_fatal=1 --do_verify=1 \
		--output-format=terse --terse-version=3 >/tmp/fio-dbv.out 2>&1 &
	_p=$!
	for _i in $(seq "$1"); do
		sleep 2
		echo 1 >"/sys/class/nvme_iova/$c/reset_controller" ||
			fail "reset $_i of $c failed"
	done
	nvi_fio_wait $_p /tmp/fio-dbv.out "write + verify with $1 resets ($2)"
}

[ "$(dbv shadow)" = 1 ] || { cat "$db"; fail "$c has no shadow doorbells on a controller that offers them"; }
# shellcheck disable=SC2046
set -- $(qd32 "shadow doorbells")
echo "shadow on, 4096 reads at QD32: SQ tail $1 register + $2 shadow only, CQ head $3 register + $4 shadow only"
[ $(($1 + $2)) -gt 0 ] || fail "no SQ doorbell counted"
[ "$2" -gt 0 ] || fail "every SQ doorbell wrote the register with shadow doorbells on"
[ "$1" -lt $((($1 + $2) * 9 / 10)) ] ||
	fail "$1 of $(($1 + $2)) SQ doorbells wrote the register at depth 32"

verify_with_resets 2 "shadow doorbells"
[ "$(dbv shadow)" = 1 ] || fail "no shadow doorbells after a reset"
# shellcheck disable=SC2046
set -- $(qd32 "after resets")
[ "$2" -gt 0 ] || fail "after resets every SQ doorbell wrote the register"
echo "after 2 resets: SQ tail $1 register + $2 shadow only"

# turned off: the next enable leaves every queue on its registers
echo N >/sys/module/nvme_iova/parameters/shadow_doorbells
echo 1 >"/sys/class/nvme_iova/$c/reset_controller" || fail "reset of $c failed"
[ "$(dbv shadow)" = 0 ] || fail "shadow doorbells still on with shadow_doorbells=N after a reset"
# shellcheck disable=SC2046
set -- $(qd32 "registers only")
echo "shadow off: SQ tail $1 register + $2 shadow only, CQ head $3 register + $4 shadow only"
if [ "$2" != 0 ] || [ "$4" != 0 ]; then
	fail "shadow-only doorbells with shadow_doorbells=N"
fi
[ "$1" -gt 0 ] || fail "no SQ doorbell register write counted with shadow_doorbells=N"
verify_with_resets 1 "registers only"

echo Y >/sys/module/nvme_iova/parameters/shadow_doorbells
echo 1 >"/sys/class/nvme_iova/$c/reset_controller" || fail "reset of $c failed"
[ "$(dbv shadow)" = 1 ] || fail "shadow doorbells not back with shadow_doorbells=Y after a reset"
nvi_shim_idle "$bdf" || fail "ranges left after the runs"
