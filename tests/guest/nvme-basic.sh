# SPDX-License-Identifier: GPL-2.0
# nvme_iova data path: bind ctrl1 to nvme_iova through the bind helper, then
# for each map mode (module reloaded with map_mode=) run fio write + crc32c
# verify, sequential and random, block sizes 512 B..1 MiB, queue depth 1 and
# 32, two jobs, from malloc'd and from huge-page buffers (a quick grid by
# default, every combination with nvi.grid=full).  Map modes: nvi.verify_modes,
# else nvi.modes, else all three.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
bdf=$(nvi_bdf ctrl1) || fail "no controller with serial ctrl1"
size=$(cmdline_arg nvi.size || echo 4m)
grid=$(cmdline_arg nvi.grid || echo quick)
# huge-page buffers: fio's mmaphuge, or shmhuge (SysV shm) with
# nvi.huge_mem=shmhuge.  The debug kernel needs the latter: fio unmaps part
# of its hugetlbfs mapping, and Debian 6.1's __vma_adjust() calls
# hugetlb_split() before it takes the i_mmap lock that function asserts
# (mm/mmap.c, mm/hugetlb.c), a lockdep WARN of the kernel's own.
huge_mem=$(cmdline_arg nvi.huge_mem || echo mmaphuge)

echo 64 >/proc/sys/vm/nr_hugepages
mkdir -p /mnt/huge
mount -t hugetlbfs none /mnt/huge 2>/dev/null
huge=$(awk '/HugePages_Total/ { print $2 }' /proc/meminfo)
[ "${huge:-0}" -ge 32 ] || fail "only ${huge:-0} huge pages"

for mode in $(nvi_modes_from nvi.verify_modes); do
	c=$(nvi_use_mode "$mode" "$bdf") || fail "cannot bind $bdf to nvme_iova map_mode=$mode"
	dev=/dev/${c}n1
	nvi_check_api || fail "map_mode=$mode: wrong DMA API"
	echo "map_mode=$mode: $bdf is $c, $(cat "/sys/block/${c}n1/queue/max_hw_sectors_kb") KiB max," \
		"$(cat "/sys/class/nvme_iova/$c/queue_count") queue(s)"
	# quick: random writes at QD 32 from malloc'd buffers (many segments
	# per request) and sequential writes at QD 1 from huge pages (few);
	# full (kernel command line nvi.grid=full): every combination
	if [ "$grid" = full ]; then
		runs="write:1:malloc write:32:malloc randwrite:1:malloc randwrite:32:malloc
			write:1:$huge_mem write:32:$huge_mem randwrite:1:$huge_mem randwrite:32:$huge_mem"
	else
		runs="randwrite:32:malloc write:1:$huge_mem"
	fi
	for r in $runs; do
		rw=${r%%:*}
		qd=${r#*:}
		qd=${qd%:*}
		mem=${r##*:}
		DEV=$dev SIZE=$size QD=$qd RW=$rw IOMEM=$mem \
			nvi_fio /tests/fio/nvme-verify.fio /tmp/fio.out ||
			fail "map_mode=$mode: fio $rw qd$qd $mem verify on $dev failed"
		echo "map_mode=$mode $rw qd$qd $mem: verified"
	done
	if [ "$mode" = iova ] && [ "$grid" = full ]; then
		# one-segment requests that fit two controller pages are mapped
		# directly (single_segment=Y, as nvme-pci); N sends every request
		# through the two-step API: both verify, and where the shim
		# counts its calls, only N gives 4 KiB writes IOVA ranges (with
		# the full grid: [driver-grid], every generic kernel)
		st=/sys/kernel/debug/dma_iova_shim/devices/$bdf
		allocs() { awk '$1 == "allocs" { print $2 }' "$st" 2>/dev/null; }
		for one in Y N; do
			echo "$one" >/sys/module/nvme_iova/parameters/single_segment
			a0=$(allocs)
			fio --name=one --filename="$dev" --ioengine=libaio --direct=1 \
				--rw=randwrite --bs=4k --size=4m --iodepth=8 --verify=crc32c \
				--verify_fatal=1 --output-format=terse --terse-version=3 \
				>/tmp/fio.out 2>&1 || { cat /tmp/fio.out; fail "single_segment=$one: 4 KiB verify failed"; }
			[ "$(grep '^3;' /tmp/fio.out | cut -d';' -f5)" = 0 ] ||
				{ cat /tmp/fio.out; fail "single_segment=$one: fio error"; }
			[ -r "$st" ] || { echo "single_segment=$one: 4 KiB writes verified"; continue; }
			da=$(($(allocs) - a0))
			echo "single_segment=$one: 4 KiB writes verified, $da IOVA ranges"
			case $one in
			Y) [ "$da" -lt 64 ] || fail "single_segment=Y: $da IOVA ranges for 4 KiB writes" ;;
			N) [ "$da" -ge 1024 ] || fail "single_segment=N: only $da IOVA ranges for 2048 I/Os" ;;
			esac
		done
		echo Y >/sys/module/nvme_iova/parameters/single_segment
	fi
	nvi_shim_idle "$bdf" || fail "map_mode=$mode: ranges leaked"
done
# nothing may be left mapped or pinned: unloading must be clean
rmmod nvme_iova || fail "rmmod nvme_iova failed"
