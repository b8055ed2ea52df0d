# SPDX-License-Identifier: GPL-2.0
# The demo disk describes itself to the block layer as the stock driver's
# disk does: every queue/* attribute of a demo disk (ctrl1) equals that of a
# stock disk on the same QEMU controller model (ctrl0), except the ones
# listed below, each with its reason.  Tools size their work by these
# (rotational, io_poll, nr_requests, max_sectors_kb ...).
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh

# allowed ATTRIBUTE: the demo follows current nvme-pci (7.x here); where an
# older kernel's nvme-pci derives an attribute differently, the difference
# is listed for that kernel, with the reason (doc/queue-attributes.md).
kver=$(uname -r)
allowed() {
	case "${kver%%-*}:$1" in
	# NOWS 0 gave io_opt = one block; NPDG was not used for discard
	5.10.*:optimal_io_size | 6.1.*:optimal_io_size) return 0 ;;
	5.10.*:discard_granularity | 6.1.*:discard_granularity) return 0 ;;
	6.12.*:discard_granularity) return 0 ;;
	# 5.10's nvme-pci does not read the NVM command set's DMRSL (v5.14)
	5.10.*:discard_max_bytes | 5.10.*:discard_max_hw_bytes) return 0 ;;
	# 6.1's nvme-pci clamps transfers by dma_max_mapping_size() (swiotlb),
	# not yet by dma_opt_mapping_size() (the IOVA caches: 128 KiB)
	6.1.*:max_hw_sectors_kb | 6.1.*:max_sectors_kb) return 0 ;;
	6.1.*:max_segments | 6.1.*:write_zeroes_max_bytes) return 0 ;;
	# 7.x's nvme-pci drops the PRP boundary for SGL-capable controllers;
	# the demo keeps PRPs for what fits them (map_mode, sgl=auto)
	7.*:virt_boundary_mask) return 0 ;;
	esac
	return 1
}

s0=$(nvi_bdf ctrl0) || fail "no controller with serial ctrl0"
s=$(nvi_to_stock "$s0") || fail "cannot put ctrl0 under the stock driver"
b1=$(nvi_bdf ctrl1) || fail "no controller with serial ctrl1"
c=$(nvi_use_mode iova "$b1") || fail "cannot bind ctrl1 to nvme_iova"
sq=/sys/block/${s}n1/queue
dq=/sys/block/${c}n1/queue
[ -d "$sq" ] || fail "no queue directory for ${s}n1"
[ -d "$dq" ] || fail "no queue directory for ${c}n1"

n=0
bad=0
for f in "$sq"/*; do
	a=$(basename "$f")
	[ -f "$f" ] || continue
	[ -r "$f" ] || continue
	sv=$(cat "$f" 2>/dev/null) || continue
	[ -r "$dq/$a" ] || { echo "$a: missing on the demo disk"; bad=$((bad + 1)); continue; }
	dv=$(cat "$dq/$a" 2>/dev/null)
	n=$((n + 1))
	[ "$sv" = "$dv" ] && continue
	if allowed "$a"; then
		echo "$a: stock '$sv', demo '$dv' (allowed)"
	else
		echo "$a: stock '$sv', demo '$dv'"
		bad=$((bad + 1))
	fi
done
[ "$n" -gt 10 ] || fail "only $n attributes compared"
[ "$bad" = 0 ] || fail "$bad of $n queue attributes differ from the stock disk's"
echo "$n queue attributes of ${c}n1 match ${s}n1"
