# SPDX-License-Identifier: GPL-2.0
# Reliability, unload ordering (rel.unload_cycles, default 10):
#  - rmmod dma_iova_shim is refused while nvme_iova uses it;
#  - rmmod nvme_iova with fio write+verify running on its disk is refused
#    (the open disk holds the module) and fio finishes unharmed;
#  - then CYCLES times: unload nvme_iova (and the shim), load it again (it
#    binds ctrl0 and ctrl1 again through their driver_override), write and
#    read back data on ctrl0; ranges outstanding before each unload and
#    "leaked IOVA range" reports count as leaks;
#  - unreclaimable slab after the cycles against before (after two warm-up
#    cycles, caches dropped both times): growth beyond the threshold is a
#    leak.  Threshold: rel.slab_limit_kb KiB, default 128 + 4 per cycle.
#    Measured noise on 6.1 intel-lazy: +104 KiB after 5 cycles, +156 KiB
#    after 50 (not growing with the cycles), so 50 cycles catch a leak of
#    more than about 4 KiB per cycle (a controller, its queues, its tag
#    set); smaller ones drown in the noise.  The caches that grew most are
#    printed.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
# shellcheck source=rel-lib.sh
. /tests/rel-lib.sh
cycles=$(rel_cycles unload 10)
limit=$(cmdline_arg rel.slab_limit_kb || echo $((128 + 4 * cycles)))
rel_demo_pair
leaks0=$(rel_leak_reports)
shim=0
nvi_uses_shim && shim=1
mm=$(cat /sys/module/nvme_iova/parameters/map_mode)

# 1. the shim cannot go while the demo driver uses it
if [ $shim = 1 ]; then
	REL_CALLS=$((REL_CALLS + 1))
	if rmmod dma_iova_shim 2>/tmp/rel-rmmod.out; then
		rel_fail "rmmod dma_iova_shim succeeded while nvme_iova uses it"
		modprobe dma_iova_shim
	else
		echo "rel: rmmod dma_iova_shim refused: $(cat /tmp/rel-rmmod.out)"
	fi
	[ -e /sys/module/dma_iova_shim ] || rel_fail "dma_iova_shim is gone"
else
	rel_note shim-not-used
	echo "rel: nvme_iova does not use the shim here (native API): no shim ordering to check"
fi

# 2. the demo driver cannot go while its disk is in use
DEV=/dev/${REL_CA}n1 SIZE=4m QD=16 RW=randwrite IOMEM=malloc fio --output-format=terse \
	--terse-version=3 --allow_file_create=0 /tests/fio/nvme-verify.fio \
	>/tmp/rel-fio.out 2>&1 &
pid=$!
# wait until fio writes (it has the disk open by then)
st=/sys/block/${REL_CA}n1/stat
w0=$(awk '{ print $5 }' "$st")
n=300
while [ "$(awk '{ print $5 }' "$st")" = "$w0" ] && kill -0 $pid 2>/dev/null; do
	n=$((n - 1))
	[ $n -gt 0 ] || break
	sleep 0.1
done
REL_CALLS=$((REL_CALLS + 2))
if rmmod nvme_iova 2>/tmp/rel-rmmod.out; then
	# allowed only if fio had already finished
	kill -0 $pid 2>/dev/null && rel_fail "rmmod nvme_iova succeeded with fio running on it"
	echo "rel: rmmod nvme_iova succeeded (fio had ended)"
	rel_note fio-ended-early
	modprobe nvme_iova "map_mode=$mm"
else
	echo "rel: rmmod nvme_iova with fio running refused: $(cat /tmp/rel-rmmod.out)"
fi
if rel_wait $pid 120; then
	err=$(grep '^3;' /tmp/rel-fio.out | cut -d';' -f5 | head -n1)
	if rel_verify_errors /tmp/rel-fio.out; then
		cat /tmp/rel-fio.out
		rel_mismatch "fio verify errors around the refused rmmod"
	elif [ "$REL_STATUS" != 0 ] || [ "$err" != 0 ]; then
		tail -n 5 /tmp/rel-fio.out
		rel_fail "fio failed around the refused rmmod (status $REL_STATUS, error ${err:-?})"
	fi
else
	rel_fail "fio hangs after rmmod nvme_iova"
fi

# one unload + load; the controllers come back on nvme_iova
reload() {
	rel_idle "$REL_A" || true
	rel_idle "$REL_B" || true
	rmmod nvme_iova || { rel_fail "rmmod nvme_iova: idle, still refused"; return 1; }
	if [ $shim = 1 ]; then
		rmmod dma_iova_shim || { rel_fail "rmmod dma_iova_shim after nvme_iova left"; return 1; }
	fi
	modprobe nvme_iova "map_mode=$mm" || { rel_fail "modprobe nvme_iova"; return 1; }
	REL_CA=$(nvi_ctrl "$REL_A") || { rel_fail "$REL_A not back on nvme_iova"; return 1; }
	REL_CB=$(nvi_ctrl "$REL_B") || { rel_fail "$REL_B not back on nvme_iova"; return 1; }
	seek=$((($1 % 16) * 128))
	rel_put_ref "/dev/${REL_CA}n1" 128 "$seek" || { rel_fail "write after reload"; return 1; }
	rel_check_ref "/dev/${REL_CA}n1" 128 "$seek"
	case $? in
	0) ;;
	1) rel_mismatch "cycle $1: data reads back differently" ;;
	*) rel_fail "cycle $1: read after reload failed" ;;
	esac
}

# unreclaimable slab, KiB
sunreclaim() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	sleep 1
	awk '$1 == "SUnreclaim:" { print $2 }' /proc/meminfo
}

# bytes per slab cache: name active_objs*objsize
slab_bytes() {
	awk 'NR > 2 { print $1, $2 * $4 }' /proc/slabinfo
}

# 3. repeated unload/load
reload 0
reload 0
s0=$(sunreclaim)
slab_bytes >/tmp/rel-slab0
i=0
while [ $i -lt "$cycles" ]; do
	i=$((i + 1))
	REL_CALLS=$((REL_CALLS + 1))
	reload $i || break
done
rel_idle "$REL_A"
rel_idle "$REL_B"
s1=$(sunreclaim)
slab_bytes >/tmp/rel-slab1
grow=$((s1 - s0))
echo "rel: $i unload/load cycle(s): SUnreclaim $s0 -> $s1 KiB ($grow KiB; limit $limit KiB)"
echo "rel: caches that grew most (bytes):"
awk 'NR == FNR { a[$1] = $2; next } { d = $2 - a[$1]; if (d > 0) print d, $1 }' \
	/tmp/rel-slab0 /tmp/rel-slab1 | sort -rn | head -n 8 | sed 's/^/rel:   /'
rel_note "slab+${grow}KiB"
[ "$grow" -le "$limit" ] || rel_leak "unreclaimable slab grew $grow KiB over $i cycles (limit $limit KiB)"
k=$(($(rel_leak_reports) - leaks0))
[ "$k" -eq 0 ] || { dmesg | grep 'leaked IOVA range' | tail -n 5; REL_LEAKS=$((REL_LEAKS + k)); }
rel_report rel-unload "$i"
