# SPDX-License-Identifier: GPL-2.0
# Which unmap branch the kernel's own dma_iova_destroy() takes in a lazy
# (DMA-FQ) domain (issue 17 item 5, doc/native-destroy-lazy.md).  Counts
# calls of the DMA-IOMMU unmap and flush functions with the function tracer
# while reads go through nvme_iova on ctrl1 (128 KiB, map_mode=iova, then
# map_mode=sg) and through the stock driver on ctrl0 (4 KiB: one segment,
# dma_map_phys; 128 KiB: the kernel's two-step API), each in an IOTLB
# window; records a function_graph of a few destroys.  Traces go to the
# data port (/dev/ttyS1), counts to the console.  Checks: the DMA-ops
# unmaps of the same devices defer (their domains' flush queues work); on
# 7.3.4 every dma_iova_destroy() calls the VT-d iotlb_sync once and frees
# its IOVA at once (free_iova_fast): one invalidation per request.
# Needs the native API (key 7 without +shim) and mode intel-lazy.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
T=/sys/kernel/tracing
D=/dev/ttyS1
[ -e $T/trace ] || mount -t tracefs nodev $T || fail "no tracefs"
grep -q ' dma_iova_destroy$' /proc/kallsyms || skip "no native dma_iova_destroy"
[ "$(cmdline_arg dis.mode)" = intel-lazy ] || skip "needs mode intel-lazy"
nios=$(cmdline_arg nvi.nios || echo 200)

data() { sed "s/^/@@DATA $1 /" >$D; }

echo "release $(uname -r)"
# which of the candidate functions exist (a missing one is inlined or
# absent from this kernel) and which ftrace can hook
fns="dma_iova_destroy dma_iova_unlink dma_iova_free __iommu_dma_iova_unlink
iommu_dma_free_iova iommu_unmap_fast iommu_iotlb_sync intel_iommu_tlb_sync
cache_tag_flush_range intel_flush_iotlb_all fq_flush_iotlb fq_flush_timeout
queue_iova fq_ring_add fq_ring_free free_iova_fast __iommu_dma_unmap
iommu_dma_unmap_phys dma_unmap_phys iommu_dma_unmap_sg"
hook=
for f in $fns; do
	k=$(grep -c " $f\$" /proc/kallsyms)
	t=$(grep -c "^$f\$" $T/available_filter_functions)
	echo "symbol $f kallsyms=$k ftrace=$t"
	[ "$t" -gt 0 ] && hook="$hook $f"
done
echo "hooked:$hook"

bdf1=$(nvi_bdf ctrl1) || fail "no ctrl1"
bdf0=$(nvi_bdf ctrl0) || fail "no ctrl0"
for b in "$bdf0" "$bdf1"; do
	[ "$(iommu_type "$b")" = DMA-FQ ] || fail "$b is not in a DMA-FQ domain"
done
echo "ctrl1 $bdf1 domain $(iommu_type "$bdf1") group $(basename "$(readlink /sys/bus/pci/devices/"$bdf1"/iommu_group)")"
echo "ctrl0 $bdf0 domain $(iommu_type "$bdf0") group $(basename "$(readlink /sys/bus/pci/devices/"$bdf0"/iommu_group)")"

tr_reset() {
	echo 0 >$T/tracing_on
	echo nop >$T/current_tracer
	: >$T/set_ftrace_filter
	: >$T/set_graph_function
	: >$T/trace
}

# count LABEL DEV BS: NIOS reads in an IOTLB window, function calls counted
count() {
	tr_reset
	echo 8192 >$T/buffer_size_kb
	for f in $hook; do echo "$f" >>$T/set_ftrace_filter; done
	echo function >$T/current_tracer
	iotlb_begin "$1"
	echo 1 >$T/tracing_on
	DEV=$2 BS=$3 QD=4 NIOS=$nios fio --output-format=terse --terse-version=3 \
		/tests/fio/randread.fio >/tmp/fio.out 2>&1 || { cat /tmp/fio.out; fail "fio failed"; }
	echo 0 >$T/tracing_on
	iotlb_end "$1"
	grep -q 'LOST\|lost' $T/trace && echo "$1: trace lost events"
	: >"/tmp/calls.$1"
	for f in $hook; do
		n=$(grep -c " $f <-" $T/trace)
		echo "$f $n" >>"/tmp/calls.$1"
		[ "$n" -gt 0 ] && echo "$1: $f $n"
	done
	awk '!/^#/' $T/trace | head -n 40 | data "$1"
}

# graph LABEL DEV BS FUNC: function_graph of FUNC during 4 reads
graph() {
	grep -q "^$4\$" $T/available_filter_functions || { echo "$1: $4 not traceable"; return; }
	tr_reset
	echo "$4" >$T/set_graph_function
	echo 8 >$T/max_graph_depth
	echo function_graph >$T/current_tracer
	echo 1 >$T/tracing_on
	DEV=$2 BS=$3 QD=1 NIOS=4 fio --output-format=terse --terse-version=3 \
		/tests/fio/randread.fio >/tmp/fio.out 2>&1 || { cat /tmp/fio.out; fail "fio failed"; }
	echo 0 >$T/tracing_on
	awk '!/^#/' $T/trace | head -n 120 | data "$1"
	echo "$1: graph of $4: $(grep -c "$4()" $T/trace) calls, $(grep -c 'intel_iommu_tlb_sync()\|intel_iommu_tlb_sync() {' $T/trace) intel_iommu_tlb_sync"
	echo 0 >$T/max_graph_depth
}

c0=$(nvi_to_stock "$bdf0") || fail "stock driver does not hold $bdf0"
c=$(nvi_use_mode iova "$bdf1") || fail "cannot bind $bdf1 with map_mode=iova"
nvi_uses_shim && skip "nvme_iova uses the shim: not the native API"
dd if=/dev/zero of="/dev/${c}n1" bs=1M count=64 oflag=direct 2>/dev/null || fail "cannot fill"
dd if=/dev/zero of="/dev/${c0}n1" bs=1M count=64 oflag=direct 2>/dev/null || fail "cannot fill"

count demo-iova-128k "/dev/${c}n1" 128k
graph graph-demo-iova "/dev/${c}n1" 128k dma_iova_destroy
count stock-4k "/dev/${c0}n1" 4k
count stock-128k "/dev/${c0}n1" 128k
graph graph-stock-4k "/dev/${c0}n1" 4k iommu_dma_unmap_phys
c=$(nvi_use_mode sg "$bdf1") || fail "cannot bind $bdf1 with map_mode=sg"
count demo-sg-128k "/dev/${c}n1" 128k
tr_reset
echo 1408 >$T/buffer_size_kb

# calls LABEL FUNC: calls of FUNC counted in window LABEL
calls() {
	awk -v f="$2" '$1 == f { print $2 }' "/tmp/calls.$1"
}
# the DMA-ops unmaps queue their IOVAs: no iotlb_sync of their own
for w in stock-4k demo-sg-128k; do
	[ "$(calls $w intel_iommu_tlb_sync)" = 0 ] ||
		fail "$w: the DMA-ops unmap called intel_iommu_tlb_sync"
	iotlb_check $w per_io lt 0.25
done
# the two-step API: one iotlb_sync and one immediate IOVA free per destroy
for w in demo-iova-128k stock-128k; do
	d=$(calls $w dma_iova_destroy)
	[ "$d" -ge "$nios" ] || fail "$w: $d dma_iova_destroy calls for $nios reads"
	[ "$(calls $w intel_iommu_tlb_sync)" -ge "$d" ] ||
		fail "$w: $(calls $w intel_iommu_tlb_sync) intel_iommu_tlb_sync for $d destroys"
	[ "$(calls $w free_iova_fast)" -ge "$d" ] ||
		fail "$w: $(calls $w free_iova_fast) free_iova_fast for $d destroys"
	iotlb_check $w per_io ge 0.9
	iotlb_check $w per_io le 1.1
done
