# SPDX-License-Identifier: GPL-2.0
# The modules as DKMS installed them (scripts/pkgtest.sh dkms, put in the
# image by mkinitramfs.py --dkms): modprobe finds the shim in updates/dkms
# through depmod's index, its modinfo is complete, and modprobe -r unloads
# it.
# The demo driver comes the same way; modprobe resolves its dependency on
# the shim (none on a kernel with the native API) from depmod's index.
for m in dma_iova_shim nvme_iova; do
	f=$(modinfo -n "$m") || fail "modinfo finds no $m"
	case $f in
	*/updates/dkms/$m.ko*) echo "$m: $f" ;;
	*) fail "$m is not the DKMS one: $f" ;;
	esac
	for k in license version description author; do
		v=$(modinfo -F "$k" "$m")
		[ -n "$v" ] || fail "modinfo $m: no $k"
		echo "$m $k: $v"
	done
	[ "$(modinfo -F license "$m")" = GPL ] || fail "$m: license is not GPL"
	[ -e "/sys/module/$m" ] && fail "$m loaded before modprobe"
done
modprobe nvme_iova || fail "modprobe nvme_iova failed"
[ -e /sys/module/nvme_iova ] || fail "modprobe did not load nvme_iova"
if grep -q ' dma_iova_try_alloc$' /proc/kallsyms; then
	echo "native two-step API: nvme_iova needs no shim"
else
	[ -e /sys/module/dma_iova_shim/holders/nvme_iova ] ||
		fail "modprobe nvme_iova did not bring the shim in"
	echo "modprobe nvme_iova loaded dma_iova_shim as its dependency"
fi
modprobe -r nvme_iova || fail "modprobe -r nvme_iova failed"
[ -e /sys/module/dma_iova_shim ] && modprobe -r dma_iova_shim
[ -e /sys/module/nvme_iova ] && fail "nvme_iova still loaded after modprobe -r"
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
modprobe dma_iova_shim || fail "modprobe dma_iova_shim failed"
[ -e /sys/module/dma_iova_shim ] || fail "modprobe did not load dma_iova_shim"
[ "$(cat /sys/module/dma_iova_shim/version)" = "$(modinfo -F version dma_iova_shim)" ] ||
	fail "the loaded module's version differs from modinfo's"
modprobe -r dma_iova_shim || fail "modprobe -r dma_iova_shim failed"
[ -e /sys/module/dma_iova_shim ] && fail "dma_iova_shim still loaded after modprobe -r"
exit 0
