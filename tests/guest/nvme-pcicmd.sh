# SPDX-License-Identifier: GPL-2.0
# A controller whose PCI command register is cleared under I/O (memory
# decoding and bus mastering off, as `setpci COMMAND=0` does), then
# restored: after 3 s (odd rounds) or only once the driver's reset has
# begun (even rounds): its requests time out (io_timeout=3), the Abort gets
# no answer, the reset turns the PCI device and bus mastering on again
# (before, a reset that found them off declared the controller dead) and
# brings the controller back; fio's write + verify (its reads come after
# the recovery) passes and the disk keeps its name.  nvi.pcicmd_rounds=N rounds (default 2; make
# stress runs 10).  nvme_iova is unloaded at the end (io_timeout=3 stays
# with this test).
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
bdf=$(nvi_bdf ctrl1) || fail "no controller with serial ctrl1"
mm=$(nvi_modes | awk '{ print $1 }')
rounds=$(cmdline_arg nvi.pcicmd_rounds) || rounds=2

c=$(nvi_use_mode "$mm" "$bdf") || fail "cannot bind $bdf to nvme_iova"
rmmod nvme_iova || fail "cannot unload nvme_iova"
modprobe nvme_iova "map_mode=$mm" io_timeout=3 || fail "cannot load nvme_iova io_timeout=3"
c=$(nvi_ctrl "$bdf") || fail "$bdf did not come back on nvme_iova"
dev=/dev/${c}n1
cfg=/sys/bus/pci/devices/$bdf/config

# the command register (config space offset 4, 16 bits little endian)
cmd_get() { od -An -tu2 -j4 -N2 "$cfg" | tr -d ' '; }
cmd_set() {
	printf '%b' "\\$(printf %03o $(($1 & 255)))\\$(printf %03o $(($1 >> 8)))" |
		dd of="$cfg" bs=1 seek=4 count=2 conv=notrunc 2>/dev/null
}

r=0
while [ $r -lt "$rounds" ]; do
	r=$((r + 1))
	DEV=$dev SIZE=64m QD=16 RW=randwrite IOMEM=malloc fio --output-format=terse \
		--terse-version=3 /tests/fio/nvme-verify.fio >/tmp/pcicmd-fio.out 2>&1 &
	pid=$!
	sleep 1
	# a fio that already ended would leave nothing to time out (16 MiB
	# per job did, under intel-lazy and amd)
	kill -0 $pid 2>/dev/null ||
		{ cat /tmp/pcicmd-fio.out; fail "round $r: fio ended within 1 s"; }
	saved=$(cmd_get)
	[ $((saved & 6)) = 6 ] || fail "round $r: command register $saved lacks memory/bus master"
	echo "nvme-pcicmd: round $r, command register $saved -> 0" >/dev/kmsg
	cmd_set 0
	[ "$(cmd_get)" = 0 ] || fail "round $r: the command register did not take 0"
	# and a read that is surely in flight, should fio be between requests
	dd if="$dev" of=/dev/null bs=4k count=1 skip=$((r * 4096)) iflag=direct 2>/dev/null &
	guard=$!
	if [ $((r % 2)) = 1 ]; then
		# odd rounds: restored after 3 s, before any timeout
		how="for 3 s"
		sleep 3
	else
		# even rounds: still cleared when the reset starts (a device
		# disabled under the driver): the reset itself must turn it on
		how="until the reset began"
		n=0
		while ! dmesg | sed -n "/nvme-pcicmd: round $r, /,\$p" |
			grep -q "$bdf: resetting controller"; do
			n=$((n + 1))
			[ $n -lt 600 ] || { cmd_set "$saved"; fail "round $r: no reset within 60 s"; }
			sleep 0.1
		done
		sleep 2
	fi
	cmd_set "$saved"
	echo "nvme-pcicmd: round $r, command register restored" >/dev/kmsg
	wait_pid $guard 60 "round $r: guard read" || fail "round $r: the guard read failed"
	nvi_fio_wait $pid /tmp/pcicmd-fio.out "round $r"
	st=$(cat "/sys/class/nvme_iova/$c/state")
	[ "$st" = live ] || fail "round $r: $c is $st"
	[ -b "$dev" ] || fail "round $r: $dev is gone"
	echo "round $r: command register cleared $how under write + verify: recovered, verified"
done
nvi_shim_idle "$bdf" || fail "ranges leaked"
rmmod nvme_iova || fail "cannot unload nvme_iova"
