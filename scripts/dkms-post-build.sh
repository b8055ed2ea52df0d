#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# DKMS POST_BUILD hook (dkms.conf), run in the DKMS build directory after
# the modules are built for one kernel.  Keeps what a module built against
# the shim needs beside the built modules, in DKMS's per-kernel directory,
# which DKMS removes with them.  Once installed, DKMS links it as
# /var/lib/dkms/dma-iova-shim/kernel-<kernel>-<arch>:
#   Module.symvers   the shim's exports and their CRCs (KBUILD_EXTRA_SYMBOLS)
#   include/         the public headers (dma-iova-shim.h, ...)
#
# Usage: dkms-post-build.sh PER_KERNEL_DIR
set -eu

dest=${1:?usage: dkms-post-build.sh PER_KERNEL_DIR}
[ -s Module.symvers ] || {
	echo "dkms-post-build: no Module.symvers in $(pwd)" >&2
	exit 1
}
mkdir -p "$dest/include"
cp Module.symvers "$dest/Module.symvers"
cp include/*.h "$dest/include/"
echo "dkms-post-build: Module.symvers and headers kept in $dest"
