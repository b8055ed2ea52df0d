# SPDX-License-Identifier: GPL-2.0
# Namespace scans one at a time (issue 15 item 8): rescan ioctls (nvme
# ns-rescan, 3 loops) hammer nvme_iova's character device while the module
# is loaded and probes ctrl1, whose scan adds its namespaces; the character
# device exists before that scan, so rescans race it.  Each of
# nvi.rescan_rounds (default 8) rounds must end with each namespace's disk
# once, and no duplicate-name trace or add failure in the log.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
bdf=$(nvi_bdf ctrl1) || fail "no controller with serial ctrl1"
rounds=$(cmdline_arg nvi.rescan_rounds) || rounds=8
c=$(nvi_use_mode iova "$bdf") || fail "cannot bind $bdf to nvme_iova"
ndisks() { find /sys/block -name "${1}n*" | wc -l; }
want=$(ndisks "$c")

hammer() {
	while [ ! -e /tmp/rescan-stop ]; do
		for d in /dev/nvmeiova[0-9] /dev/nvmeiova[0-9][0-9]; do
			[ -c "$d" ] && nvme ns-rescan "$d" 2>/dev/null
		done
	done
}

r=0
while [ $r -lt "$rounds" ]; do
	r=$((r + 1))
	rmmod nvme_iova || fail "round $r: cannot unload nvme_iova"
	rm -f /tmp/rescan-stop
	hammer &
	p1=$!
	hammer &
	p2=$!
	hammer &
	p3=$!
	modprobe nvme_iova map_mode=iova || fail "round $r: cannot load nvme_iova"
	c=$(nvi_ctrl "$bdf") || fail "round $r: $bdf did not come back"
	sleep 1
	touch /tmp/rescan-stop
	wait $p1 $p2 $p3
	got=$(ndisks "$c")
	[ "$got" = "$want" ] || fail "round $r: $got disks on $c, want $want"
	if dmesg | grep -E "duplicate filename|namespace [0-9]+: -" >/tmp/dup; then
		cat /tmp/dup
		fail "round $r: a namespace was added twice"
	fi
done
echo "$rounds rounds of probe under 3 rescan loops: $want disk(s) each time, no duplicate"
rmmod nvme_iova || fail "cannot unload nvme_iova"
