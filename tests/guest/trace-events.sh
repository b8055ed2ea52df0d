# SPDX-License-Identifier: GPL-2.0
# The trace events of both modules (doc/tracepoints.md): every event of
# the systems nvme_iova and dma_iova_shim enabled through tracefs while dd
# writes, then reads, N blocks of 128 KiB with O_DIRECT through nvme_iova
# (map_mode=iova) on ctrl1: one request each, mapped through one IOVA
# range (more than two pages: never the one-segment direct mapping).
# Checks, from the records in the trace buffer (none may be lost):
#  - nvme_iova_submit: N reads and N writes, all mapped "iova", 128 KiB
#    each; as many nvme_iova_complete, all with status 0;
#  - where nvme_iova maps through the shim (old kernels, 7+shim): each
#    dma_iova_shim event counted as the shim's debugfs counters of the
#    device moved meanwhile (try_alloc ok: allocs, and one per request;
#    link: links and bytes_mapped; sync: syncs; teardown: frees and
#    unlinks; batch and flush-queue flushes: batch_flushes, batch_flushed,
#    fq_flushes; fallbacks: fallback_*).  With the kernel's own API (7.x)
#    there is no shim to count: only the driver's events are checked.
# The figures are printed; a sample of the records goes to the data port.
# Where the image has perf or trace-cmd (scripts/mkinitramfs.py --tool),
# they record and count the events too.
# nvi.trace_ios=N (default 100); nvi.trace_skip=EVENT leaves that event
# off (a negative control: the counts must then disagree).
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
T=/sys/kernel/tracing
[ -e $T/trace ] || mount -t tracefs nodev $T || fail "cannot mount tracefs"
n=$(cmdline_arg nvi.trace_ios || echo 100)
skip_ev=$(cmdline_arg nvi.trace_skip || echo)
bs=131072

nvi_demo_mode iova
dev=/dev/${c}n1
[ -d $T/events/nvme_iova ] || fail "no nvme_iova events in $T/events"
shim=0
if nvi_uses_shim; then
	shim=1
	[ -d $T/events/dma_iova_shim ] || fail "no dma_iova_shim events in $T/events"
fi
st=/sys/kernel/debug/dma_iova_shim/devices/$bdf

# nothing in flight before the window (the partition scan is done)
i=50
while read -r r w <"/sys/block/${c}n1/inflight" && [ $((r + w)) -gt 0 ]; do
	i=$((i - 1))
	[ $i -gt 0 ] || fail "I/O still in flight on $dev before the test"
	sleep 0.1
done

# snap FILE: the device's shim counters now (none yet: all 0)
snap() {
	if [ -r "$st" ]; then cat "$st" >"$1"; else : >"$1"; fi
}
# delta NAME: how much counter NAME moved over the window
delta() {
	b=$(awk -v k="$1" '$1 == k { print $2 }' /tmp/st.before)
	a=$(awk -v k="$1" '$1 == k { print $2 }' /tmp/st.after)
	echo $((${a:-0} - ${b:-0}))
}
fallbacks() {
	awk '$1 ~ /^fallback_/ { s += $2 } END { print s + 0 }' "$1"
}

tr_off() {
	echo 0 >$T/tracing_on
	for s in nvme_iova dma_iova_shim; do
		[ -d $T/events/$s ] && echo 0 >$T/events/$s/enable
	done
	: >$T/trace
}
tr_off
echo 8192 >$T/buffer_size_kb || fail "cannot size the trace buffer"
echo 1 >$T/events/nvme_iova/enable
[ $shim = 0 ] || echo 1 >$T/events/dma_iova_shim/enable
if [ -n "$skip_ev" ]; then
	for e in "$T"/events/*/"$skip_ev"/enable; do
		[ -e "$e" ] || fail "no event $skip_ev"
		echo 0 >"$e"
		echo "event $skip_ev left off (nvi.trace_skip)"
	done
fi

snap /tmp/st.before
echo 1 >$T/tracing_on
dd if=/dev/zero of="$dev" bs=$bs count="$n" oflag=direct conv=notrunc 2>/tmp/dd.out ||
	{ cat /tmp/dd.out; fail "dd write failed"; }
dd if="$dev" of=/dev/null bs=$bs count="$n" iflag=direct 2>/tmp/dd.out ||
	{ cat /tmp/dd.out; fail "dd read failed"; }
# a lazy domain's flush queue flushes within 10 ms of its last entry
sleep 0.2
echo 0 >$T/tracing_on
snap /tmp/st.after
cp $T/trace /tmp/trace.txt

# a record lost to a full buffer would make every count below wrong
written=$(awk '/^# entries-in-buffer/ { split($3, a, "/"); print a[2] }' /tmp/trace.txt)
kept=$(awk '/^# entries-in-buffer/ { split($3, a, "/"); print a[1] }' /tmp/trace.txt)
echo "trace buffer: $kept records kept of ${written:-?} written"
if [ -z "$kept" ] || [ "$kept" != "$written" ]; then
	fail "trace records lost ($kept of $written kept)"
fi

# one pass over the records: NAME VALUE lines
awk '
function val(k,   i, f) {
	for (i = 1; i <= NF; i++)
		if (index($i, k "=") == 1)
			return substr($i, length(k) + 2)
	return ""
}
/^#/ { next }
/ nvme_iova_submit: / {
	c["submit"]++; c["submit_" val("cmd")]++; c["submit_map_" val("map")]++
	c["submit_segs"] += val("segs"); c["submit_bytes"] += val("bytes")
	if (val("bytes") != bs) c["submit_odd_size"]++
}
/ nvme_iova_complete: / {
	c["complete"]++; s = val("status")
	if (s != "0x0" && s != "0") c["complete_error"]++
}
/ dmashim_try_alloc: / {
	if (val("result") == "ok") c["alloc_ok"]++; else c["alloc_fallback"]++
}
/ dmashim_link: / {
	if (val("ret") == "0") { c["link_ok"]++; c["link_bytes"] += val("size") }
	else c["link_error"]++
}
/ dmashim_sync: / { c["sync"]++ }
/ dmashim_teardown: / {
	c["teardown"]++; c["teardown_flush_" val("flush")]++
	if ($0 !~ / unlink iova=/) c["teardown_free"]++
	if (val("size") != "0") c["teardown_unmap"]++
}
/ dmashim_batch_flush: / { c["batch_flush"]++; c["batch_ranges"] += val("ranges") }
/ dmashim_fq_flush: / { c["fq_flush"]++; c["fq_ranges"] += val("ranges") }
END { for (k in c) print k, c[k] }
' bs=$bs /tmp/trace.txt >/tmp/counts
# cnt NAME: a count from the records (0 if none)
cnt() {
	v=$(awk -v k="$1" '$1 == k { print $2 }' /tmp/counts)
	echo "${v:-0}"
}

ios=$((2 * n))
echo "I/O: $n writes + $n reads of $bs bytes with O_DIRECT on $dev ($bdf, map_mode=iova, $(iommu_type "$bdf") domain)"
echo "nvme_iova_submit: $(cnt submit) (write $(cnt submit_write), read $(cnt submit_read), map=iova $(cnt submit_map_iova), segments $(cnt submit_segs), bytes $(cnt submit_bytes))"
echo "nvme_iova_complete: $(cnt complete) (status not 0: $(cnt complete_error))"
# a sample for doc/tracepoints.md: the first records, and the first read's
{
	grep -v '^#' /tmp/trace.txt | head -n 40
	awk '/^#/ { next }
	/ nvme_iova_complete: / && !on { buf = "" }
	!on { buf = buf $0 "\n" }
	/ nvme_iova_submit: .* cmd=read / && !on { on = 1; printf "%s", buf; next }
	on' /tmp/trace.txt | head -n 60
} | sed 's/^/@@DATA trace-events /' >/dev/ttyS1

[ "$(cnt submit_write)" = "$n" ] || fail "$(cnt submit_write) write submits for $n writes"
[ "$(cnt submit_read)" = "$n" ] || fail "$(cnt submit_read) read submits for $n reads"
[ "$(cnt submit)" = $ios ] || fail "$(cnt submit) submits for $ios requests"
[ "$(cnt submit_map_iova)" = $ios ] || fail "$(cnt submit_map_iova) of $ios requests mapped through an IOVA range"
[ "$(cnt submit_odd_size)" = 0 ] || fail "$(cnt submit_odd_size) requests not of $bs bytes"
[ "$(cnt submit_bytes)" = $((ios * bs)) ] || fail "$(cnt submit_bytes) bytes submitted for $((ios * bs))"
[ "$(cnt complete)" = $ios ] || fail "$(cnt complete) completions for $ios requests"
[ "$(cnt complete_error)" = 0 ] || fail "$(cnt complete_error) completions with an error status"

# With perf in the image (scripts/mkinitramfs.py --tool /usr/bin/perf):
# perf stat counts the events over K more reads, perf record takes two.
if command -v perf >/dev/null; then
	k=10
	evs="nvme_iova:nvme_iova_submit nvme_iova:nvme_iova_complete"
	[ $shim = 0 ] || evs="$evs dma_iova_shim:dmashim_try_alloc dma_iova_shim:dmashim_sync dma_iova_shim:dmashim_teardown"
	set --
	for e in $evs; do set -- "$@" -e "$e"; done
	perf stat -x, -a "$@" -- dd if="$dev" of=/dev/null bs=$bs count=$k \
		iflag=direct 2>/tmp/perf.stat || { cat /tmp/perf.stat; fail "perf stat failed"; }
	for e in $evs; do
		v=$(awk -F, -v e="$e" '$3 == e { print $1 }' /tmp/perf.stat)
		echo "perf stat: $e $v for $k reads"
		[ "$v" = $k ] || fail "perf stat counted ${v:-nothing} $e for $k reads"
	done
	set -- -e 'nvme_iova:*'
	[ $shim = 0 ] || set -- "$@" -e 'dma_iova_shim:*'
	perf record -q -a "$@" -o /tmp/perf.data -- dd if="$dev" of=/dev/null \
		bs=$bs count=2 iflag=direct 2>/tmp/perf.out ||
		{ cat /tmp/perf.out; fail "perf record failed"; }
	perf script -i /tmp/perf.data 2>&1 | head -n 80 |
		sed 's/^/@@DATA perf-script /' >/dev/ttyS1
	echo "perf record: $(perf script -i /tmp/perf.data 2>/dev/null | wc -l) records of 2 reads"
fi

# With trace-cmd in the image (--tool /usr/bin/trace-cmd): two more reads
# recorded by trace-cmd record; its report goes to the data port.
if command -v trace-cmd >/dev/null; then
	set -- -e nvme_iova
	[ $shim = 0 ] || set -- "$@" -e dma_iova_shim
	trace-cmd record -q "$@" -o /tmp/tc.dat dd if="$dev" of=/dev/null \
		bs=$bs count=2 iflag=direct >/tmp/tc.out 2>&1 ||
		{ cat /tmp/tc.out; fail "trace-cmd record failed"; }
	trace-cmd report -i /tmp/tc.dat >/tmp/tc.txt 2>&1 ||
		{ cat /tmp/tc.txt; fail "trace-cmd report failed"; }
	head -n 80 /tmp/tc.txt | sed 's/^/@@DATA trace-cmd /' >/dev/ttyS1
	v=$(grep -c ' nvme_iova_submit: ' /tmp/tc.txt)
	echo "trace-cmd record: $v nvme_iova_submit for 2 reads"
	[ "$v" = 2 ] || fail "trace-cmd recorded $v nvme_iova_submit for 2 reads"
fi

if [ $shim = 0 ]; then
	echo "nvme_iova maps through the kernel's own API: no dma_iova_shim events to count"
	tr_off
	echo 1408 >$T/buffer_size_kb
	echo 1 >$T/tracing_on
	exit 0
fi

fb_before=$(fallbacks /tmp/st.before)
fb_after=$(fallbacks /tmp/st.after)
echo "dmashim_try_alloc: ok $(cnt alloc_ok) (debugfs allocs +$(delta allocs)), fallback $(cnt alloc_fallback) (fallback_* +$((fb_after - fb_before)))"
echo "dmashim_link: ok $(cnt link_ok) (links +$(delta links)), bytes $(cnt link_bytes) (bytes_mapped +$(delta bytes_mapped)), failed $(cnt link_error) (link_errors +$(delta link_errors))"
echo "dmashim_sync: $(cnt sync) (syncs +$(delta syncs))"
echo "dmashim_teardown: $(cnt teardown), freeing $(cnt teardown_free) (frees +$(delta frees)), unmapping $(cnt teardown_unmap) (unlinks +$(delta unlinks)); flush=now $(cnt teardown_flush_now), batch $(cnt teardown_flush_batch), fq $(cnt teardown_flush_fq), dma_ops $(cnt teardown_flush_dma_ops), none $(cnt teardown_flush_none)"
echo "dmashim_batch_flush: $(cnt batch_flush) (batch_flushes +$(delta batch_flushes)), ranges $(cnt batch_ranges) (batch_flushed +$(delta batch_flushed))"
echo "dmashim_fq_flush: $(cnt fq_flush) (fq_flushes +$(delta fq_flushes)), ranges $(cnt fq_ranges) (fq_queued +$(delta fq_queued))"

# same NAME COUNT COUNTER: the records agree with the debugfs counter
same() {
	d=$(delta "$3")
	[ "$2" = "$d" ] || fail "$1: $2 records, but debugfs $3 moved by $d"
}
same "dmashim_try_alloc ok" "$(cnt alloc_ok)" allocs
[ "$(cnt alloc_ok)" = $ios ] || fail "$(cnt alloc_ok) IOVA ranges allocated for $ios requests"
[ "$(cnt alloc_fallback)" = $((fb_after - fb_before)) ] ||
	fail "dmashim_try_alloc fallback: $(cnt alloc_fallback) records, but debugfs fallback_* moved by $((fb_after - fb_before))"
same "dmashim_link ok" "$(cnt link_ok)" links
same "dmashim_link failed" "$(cnt link_error)" link_errors
same "dmashim_link bytes" "$(cnt link_bytes)" bytes_mapped
[ "$(cnt link_bytes)" = $((ios * bs)) ] || fail "$(cnt link_bytes) bytes linked for $((ios * bs))"
same dmashim_sync "$(cnt sync)" syncs
same "dmashim_teardown freeing" "$(cnt teardown_free)" frees
same "dmashim_teardown unmapping" "$(cnt teardown_unmap)" unlinks
same dmashim_batch_flush "$(cnt batch_flush)" batch_flushes
same "dmashim_batch_flush ranges" "$(cnt batch_ranges)" batch_flushed
same dmashim_fq_flush "$(cnt fq_flush)" fq_flushes
[ "$(cnt teardown_flush_batch)" = "$(cnt batch_ranges)" ] ||
	fail "$(cnt teardown_flush_batch) teardowns into a batch, $(cnt batch_ranges) ranges flushed by batches"
tr_off
echo 1408 >$T/buffer_size_kb
echo 1 >$T/tracing_on
