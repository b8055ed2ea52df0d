# SPDX-License-Identifier: GPL-2.0
# IOTLB invalidations per NVMe I/O through nvme_iova, 128 KiB random reads
# from malloc'd buffers (32 pages each), counted by the host from QEMU's
# trace, one window per map mode.  In strict mode the iova path costs one
# invalidation per request (one IOVA range, destroyed in one step), the sg
# path about one (one dma_unmap_sg), the page path one per page (~32).
# Map modes: nvi.iotlb_modes, else nvi.modes, else all three.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
bdf=$(nvi_bdf ctrl1) || fail "no controller with serial ctrl1"
mode=$(cmdline_arg dis.mode)
nios=$(cmdline_arg nvi.nios || echo 200)
filled=
for mm in $(nvi_modes_from nvi.iotlb_modes); do
	c=$(nvi_use_mode "$mm" "$bdf") || fail "cannot bind $bdf with map_mode=$mm"
	dev=/dev/${c}n1
	# fill the range once (the first map mode) so that reads hit written
	# blocks
	[ -n "$filled" ] ||
		dd if=/dev/zero of="$dev" bs=1M count=64 oflag=direct 2>/dev/null ||
		fail "cannot fill $dev"
	filled=1
	iotlb_begin "$mm-128k"
	DEV=$dev BS=128k QD=4 NIOS=$nios fio --output-format=terse --terse-version=3 \
		/tests/fio/randread.fio >/tmp/fio.out 2>&1 || { cat /tmp/fio.out; fail "fio failed"; }
	iotlb_end "$mm-128k"
	# every translating mode, 5.10 included, maps through the shim:
	# a fallback to one mapping per segment is a failure
	st=/sys/kernel/debug/dma_iova_shim/devices/$bdf
	if [ "$mm" = iova ] && nvi_uses_shim; then
		case $mode in
		intel-* | amd)
			{ [ -e "$st" ] && ! grep -q '^domain unusable' "$st"; } ||
				fail "map_mode=iova: the shim does not translate for $bdf"
			;;
		esac
	fi
	case $mode in
	intel-strict)
		case $mm in
		iova) iotlb_check "$mm-128k" per_io le 1.1 ;;
		sg) iotlb_check "$mm-128k" per_io le 1.5 ;;
		page) iotlb_check "$mm-128k" per_io ge 24 ;;
		esac ;;
	intel-lazy)
		case $mm in
		iova)
			if nvi_uses_shim; then
				# the shim's own flush queue (5.10 VT-d: the DMA
				# ops' queue) defers the flush; both also flush
				# on a 10 ms timer, so a slow (loaded, TCG) guest
				# sees more per request: at >= 400 requests/s
				# that stays below 0.25
				iotlb_check "$mm-128k" per_io lt 0.25
			else
				# the kernel's own API: 7.3.4's dma_iova_destroy()
				# is dma_iova_unlink() (always an iotlb_sync)
				# then dma_iova_free() (IOVA freed at once), even
				# in a DMA-FQ domain: one per request (traced by
				# trace-native-destroy; doc/native-destroy-lazy.md)
				iotlb_check "$mm-128k" per_io ge 0.9
				iotlb_check "$mm-128k" per_io le 1.1
			fi ;;
		sg) iotlb_check "$mm-128k" per_io lt 0.25 ;;
		# 32 queued IOVAs per request fill the flush queue faster
		page) iotlb_check "$mm-128k" per_io lt 0.5 ;;
		esac ;;
	pt) iotlb_check "$mm-128k" per_io lt 0.01 ;;
	esac
	echo "map_mode=$mm: $nios reads of 128 KiB on $dev"
done
