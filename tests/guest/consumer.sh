# SPDX-License-Identifier: GPL-2.0
# An outside driver built against the shim (tests/consumer, dis_consumer):
# modprobe loads the shim first where the driver needs it (depmod resolved
# the dependency), the symbol versions match (MODVERSIONS), the driver maps
# pages for QEMU's edu device and checks the data, and the shim cannot be
# unloaded while the driver is loaded.
mode=$(cmdline_arg dis.mode)
edu=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] &&
		edu=$(basename "$d")
done
[ -n "$edu" ] || fail "no edu device (run-vm.py --edu)"
[ -e /sys/module/dis_consumer ] && fail "dis_consumer already loaded"

native=0
grep -q ' dma_iova_try_alloc$' /proc/kallsyms && native=1
# The path the driver must take: the IOVA one wherever the API translates
# (5.10 included).
case $mode in
intel-* | amd) path=iova ;;
*) path=phys ;;
esac

dmesg -c >/dev/null
modprobe dis_consumer || fail "modprobe dis_consumer failed"
dmesg | grep -E 'disagrees about version|no symbol version|Unknown symbol' &&
	fail "symbol version trouble loading dis_consumer"
echo "dis_consumer depends on: $(modinfo -F depends dis_consumer)"
if [ "$native" = 1 ]; then
	[ -e /sys/module/dma_iova_shim/holders/dis_consumer ] &&
		fail "dis_consumer uses the shim on a kernel with the native API"
	echo "dis_consumer calls the kernel's own API"
else
	[ -e /sys/module/dma_iova_shim/holders/dis_consumer ] ||
		fail "dis_consumer loaded without holding dma_iova_shim"
	echo "dis_consumer holds dma_iova_shim $(cat /sys/module/dma_iova_shim/version)"
fi

echo dis_consumer >"/sys/bus/pci/devices/$edu/driver_override"
echo "$edu" >/sys/bus/pci/drivers_probe
line=$(dmesg | grep "dis_consumer $edu: " | sed 's/^\[[^]]*\] //')
echo "$line"
case $line in
*" path $path: pass") ;;
*) fail "wanted 'path $path: pass', got '${line:-nothing}'" ;;
esac

if [ "$native" = 0 ]; then
	rmmod dma_iova_shim 2>/dev/null &&
		fail "rmmod dma_iova_shim succeeded while dis_consumer uses it"
	echo "rmmod dma_iova_shim refused while dis_consumer is loaded"
fi
echo "$edu" >/sys/bus/pci/drivers/dis_consumer/unbind
echo >"/sys/bus/pci/devices/$edu/driver_override"
rmmod dis_consumer || fail "rmmod dis_consumer failed"
if [ -e /sys/module/dma_iova_shim ]; then
	rmmod dma_iova_shim || fail "rmmod dma_iova_shim failed after dis_consumer left"
	echo "rmmod dma_iova_shim works once dis_consumer is gone"
fi
exit 0
