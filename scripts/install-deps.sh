#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what the build, the guests and the tests need on a Debian 12 host.
# Only packages from the host's own configured archive; nothing else changes.
# Usage: install-deps.sh [extra packages...]
set -euo pipefail

pkgs=(
	make gcc libc6-dev bc bison flex libelf-dev libssl-dev	# module builds
	patch							# debug kernel patches
	dwarves							# pahole: BTF for 6.12+
	kmod cpio xz-utils zstd rsync python3 ca-certificates	# images, scripts
	debootstrap						# toolchain chroots
	qemu-system-x86 busybox-static fio nvme-cli		# guests
	sparse shellcheck perl					# lint
	"$@"
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
