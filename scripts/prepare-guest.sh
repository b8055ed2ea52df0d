#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the modules and the guest image for one kernel flavour: a kernel key
# of scripts/targets.conf, or KEY+shim for KEY with the shim forced in place
# of the native API.  Output: build/initramfs/FLAVOUR.cpio.
#
# Usage: scripts/prepare-guest.sh FLAVOUR
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavour=${1:?usage: prepare-guest.sh FLAVOUR}
key=${flavour%%+*}
args=()
case $flavour in
*+shim) args=(DMA_IOVA_SHIM_FORCE=1) ;;
*+*) die "unknown flavour $flavour" ;;
esac
obj=$BUILD/obj/$flavour
OBJ=$obj "$TOP/scripts/kbuild.sh" "$key" "${args[@]}"
python3 "$TOP/scripts/mkinitramfs.py" --build "$BUILD" --obj "$obj" \
	--out "$BUILD/initramfs/$flavour.cpio" "$key"
