# SPDX-License-Identifier: GPL-2.0
# Poll queues: nvme_iova poll_queues=1 gives the disk a polled hardware
# queue (no interrupt vector), io_poll and io_poll_delay take writes as on
# a stock disk, and io_uring IOPOLL (fio --hipri) write + verify runs on it
# in classic and hybrid polling with its completions reaped by polling: the
# controller's interrupts do not grow with the I/O (an interrupt-driven
# queue takes one per completion or batch).
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
nvi_demo_mode iova
rmmod nvme_iova || fail "cannot unload nvme_iova"
modprobe nvme_iova map_mode=iova poll_queues=1 || fail "modprobe poll_queues=1 failed"
c=$(nvi_ctrl "$bdf") || fail "$bdf did not come back with poll_queues=1"
d=${c}n1
q=/sys/block/$d/queue
dmesg | grep -q "$c: .*(1 polled)" || fail "$c did not set up a polled queue: $(dmesg | grep "$c:" | tail -n 1)"
[ "$(cat "$q/io_poll")" = 1 ] || fail "io_poll is $(cat "$q/io_poll") with a poll queue"
echo 1 >"$q/io_poll" || fail "io_poll does not take a write"

# interrupts of this controller (all its vectors, all CPUs)
irqs() {
	awk -v c="$c" '$NF == c { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i } END { print s + 0 }' /proc/interrupts
}
for delay in -1 0; do
	what=classic
	[ "$delay" = 0 ] && what=hybrid
	# 5.10's hybrid polling stalls io_uring IOPOLL with the stock driver
	# too (nvme poll_queues=1, io_poll_delay=0: fio made no I/O in 60 s)
	case "$delay:$(uname -r)" in
	0:5.10.*) echo "io_poll_delay: hybrid polling not run on 5.10"; continue ;;
	esac
	if echo "$delay" >"$q/io_poll_delay" 2>/dev/null; then
		echo "io_poll_delay=$(cat "$q/io_poll_delay") ($what)"
	else
		echo "io_poll_delay: $what polling not offered by this kernel"
		[ "$delay" = -1 ] || continue
	fi
	i0=$(irqs)
	nvi_fio_out=/tmp/fio-poll.out
	fio --name=poll --filename="/dev/$d" --ioengine=io_uring --hipri \
		--direct=1 --rw=randwrite --bs=4k --size=8m --iodepth=4 \
		--verify=crc32c --verify_fatal=1 --do_verify=1 \
		--output-format=terse --terse-version=3 >"$nvi_fio_out" 2>&1 ||
		{ cat "$nvi_fio_out"; fail "fio io_uring --hipri ($what) failed"; }
	err=$(grep '^3;' "$nvi_fio_out" | cut -d';' -f5 | head -n1)
	[ "$err" = 0 ] || { cat "$nvi_fio_out"; fail "fio io_uring --hipri ($what): error $err"; }
	n=4096	# 8 MiB written, then read back: 2048 I/Os each
	di=$(($(irqs) - i0))
	echo "$what: $n polled I/Os, $di interrupts (the controller had $i0 before)"
	[ "$i0" -gt 0 ] || fail "no interrupt counted for $c: /proc/interrupts not read right"
	[ "$di" -lt $((n / 20)) ] || fail "$what polling: $di interrupts for $n I/Os"
done

# the polled queue survives a controller reset (created again without an
# interrupt) and still serves polled I/O
echo 1 >"/sys/class/nvme_iova/$c/reset_controller" || fail "reset of $c failed"
i0=$(irqs)
fio --name=poll2 --filename="/dev/$d" --ioengine=io_uring --hipri --direct=1 \
	--rw=randread --bs=4k --size=8m --iodepth=1 \
	--output-format=terse --terse-version=3 >/tmp/fio-poll2.out 2>&1 ||
	{ cat /tmp/fio-poll2.out; fail "polled reads after a reset failed"; }
di=$(($(irqs) - i0))
[ "$di" -lt 100 ] || fail "after a reset: $di interrupts for 2048 polled reads"
echo "after a reset: 2048 polled reads, $di interrupts"
rmmod nvme_iova || fail "cannot unload nvme_iova with a poll queue"
modprobe nvme_iova map_mode=iova || fail "cannot reload nvme_iova"
