# SPDX-License-Identifier: GPL-2.0
# A device whose default domain changes between two binds is classified
# again (issue 15 item 11): ctrl1 on nvme_iova maps through the shim's IOVA
# path; unbound, its group's type set to identity (sysfs iommu_group/type)
# and bound again, every try_alloc falls back ("identity") and the data
# still verifies; back to the original type, the IOVA path returns.  The
# shim's context for the device must go at each unbind (its debugfs file
# with it).  Only where nvme_iova maps through the shim, and where the
# group type can be written (5.11+).
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
bdf=$(nvi_bdf ctrl1) || fail "no controller with serial ctrl1"
orig=$(iommu_type "$bdf")
case $orig in
DMA | DMA-FQ) ;;
*) skip "ctrl1's domain is $orig: nothing to translate" ;;
esac
c=$(nvi_use_mode iova "$bdf") || fail "cannot bind $bdf to nvme_iova"
nvi_uses_shim || skip "nvme_iova uses the kernel's own two-step API"
st=/sys/kernel/debug/dma_iova_shim/devices/$bdf
drv=/sys/bus/pci/drivers/nvme_iova
type=/sys/bus/pci/devices/$bdf/iommu_group/type

field() { awk -v k="$1" '$1 == k { print $2 }' "$st"; }

# 8 MiB of 128 KiB writes, read back and compared: multi-segment requests
# take the IOVA path where the domain allows it
io() {
	dd if=/dev/urandom of=/tmp/pattern bs=128k count=64 2>/dev/null
	dd if=/tmp/pattern of="/dev/${1}n1" bs=128k oflag=direct 2>/dev/null ||
		fail "$2: write failed"
	dd if="/dev/${1}n1" of=/tmp/back bs=128k count=64 iflag=direct 2>/dev/null ||
		fail "$2: read failed"
	cmp -s /tmp/pattern /tmp/back || fail "$2: data read back differs"
}

unbind() {
	echo "$bdf" >"$drv/unbind" || fail "cannot unbind $bdf"
	[ ! -e "$st" ] || fail "the shim still has a context for $bdf after unbind"
}

rebind() {
	echo "$bdf" >"$drv/bind" || fail "cannot bind $bdf again"
	c=$(nvi_ctrl "$bdf") || fail "$bdf did not come back on nvme_iova"
}

io "$c" "$orig"
[ "$(field domain)" != unusable ] || fail "$orig domain taken as unusable: $(cat "$st")"
a=$(field allocs)
[ "${a:-0}" -gt 0 ] || fail "$orig: no IOVA range allocated"
echo "$orig: domain $(field domain), $a ranges"

unbind
echo identity >"$type" 2>/dev/null || {
	rebind
	skip "cannot set $bdf's group type (kernel older than 5.11?)"
}
[ "$(iommu_type "$bdf")" = identity ] || fail "the group type did not change"
rebind
io "$c" identity
[ "$(field domain)" = unusable ] ||
	fail "identity domain not classified again: $(cat "$st")"
[ "$(field allocs)" = 0 ] || fail "identity: ranges allocated: $(cat "$st")"
f=$(field fallback_identity)
[ "${f:-0}" -gt 0 ] || fail "identity: no fallback counted: $(cat "$st")"
echo "identity: domain unusable ($(field reason)), $f fallbacks, data verified"

unbind
echo "$orig" >"$type" || fail "cannot set the group type back to $orig"
rebind
io "$c" "$orig again"
a=$(field allocs)
if [ "$(field domain)" = unusable ] || [ "${a:-0}" -eq 0 ]; then
	fail "$orig again: IOVA path not back: $(cat "$st")"
fi
echo "$orig again: domain $(field domain), $a ranges, data verified"
rmmod nvme_iova || fail "cannot unload nvme_iova"
