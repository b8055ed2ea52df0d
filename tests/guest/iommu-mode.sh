# SPDX-License-Identifier: GPL-2.0
# The IOMMU mode the host asked for (dis.mode) is the one the guest kernel
# runs: every NVMe controller's IOMMU group has the expected domain type.
mode=$(cmdline_arg dis.mode) || fail "no dis.mode on the kernel command line"
case $mode in
intel-strict | intel-strict-cm | amd) want=DMA ;;
intel-lazy)
	# The DMA-FQ domain type exists from 5.15 on; before, a lazy domain
	# reads "DMA" and only the IOTLB count (stock-iotlb) tells it apart.
	rel=$(uname -r)
	maj=${rel%%.*}
	min=${rel#*.}
	min=${min%%[.-]*}
	if [ "$maj" -lt 5 ] || { [ "$maj" -eq 5 ] && [ "$min" -lt 15 ]; }; then
		want=DMA
	else
		want=DMA-FQ
	fi
	;;
pt) want=identity ;;
none) want=none ;;
*) fail "unknown mode $mode" ;;
esac
case $mode in
intel-*) hw=dmar ;;
pt) hw=dmar ;;
amd) hw=ivhd ;;
none) hw="" ;;
esac
if [ -n "$hw" ]; then
	found=""
	for i in /sys/class/iommu/"$hw"*; do
		[ -e "$i" ] && found=$i
	done
	[ -n "$found" ] || fail "mode $mode but no $hw IOMMU in /sys/class/iommu"
else
	[ -z "$(ls /sys/kernel/iommu_groups/ 2>/dev/null)" ] ||
		fail "mode none but the kernel created IOMMU groups"
fi
n=0
for d in /sys/bus/pci/devices/*; do
	read -r cls <"$d/class"
	[ "$cls" = 0x010802 ] || continue
	n=$((n + 1))
	got=$(iommu_type "$(basename "$d")")
	echo "$(basename "$d"): $got"
	[ "$got" = "$want" ] || fail "$(basename "$d") is in a '$got' domain, mode $mode wants '$want'"
done
[ "$n" -gt 0 ] || fail "no NVMe controller found"
echo "mode $mode: $n controller(s) in '$want' domains"
