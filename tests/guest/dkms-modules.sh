# SPDX-License-Identifier: GPL-2.0
# The modules as DKMS installed them (scripts/pkgtest.sh dkms, put in the
# image by mkinitramfs.py --dkms): modprobe finds the shim in updates/dkms
# through depmod's index, its modinfo is complete, and modprobe -r unloads
# it.
f=$(modinfo -n dma_iova_shim) || fail "modinfo finds no dma_iova_shim"
case $f in
*/updates/dkms/dma_iova_shim.ko*) echo "dma_iova_shim: $f" ;;
*) fail "dma_iova_shim is not the DKMS one: $f" ;;
esac
for k in license version description author; do
	v=$(modinfo -F "$k" dma_iova_shim)
	[ -n "$v" ] || fail "modinfo: no $k"
	echo "$k: $v"
done
[ "$(modinfo -F license dma_iova_shim)" = GPL ] || fail "license is not GPL"
[ -e /sys/module/dma_iova_shim ] && fail "dma_iova_shim loaded before modprobe"
modprobe dma_iova_shim || fail "modprobe dma_iova_shim failed"
[ -e /sys/module/dma_iova_shim ] || fail "modprobe did not load dma_iova_shim"
[ "$(cat /sys/module/dma_iova_shim/version)" = "$(modinfo -F version dma_iova_shim)" ] ||
	fail "the loaded module's version differs from modinfo's"
modprobe -r dma_iova_shim || fail "modprobe -r dma_iova_shim failed"
[ -e /sys/module/dma_iova_shim ] && fail "dma_iova_shim still loaded after modprobe -r"
exit 0
