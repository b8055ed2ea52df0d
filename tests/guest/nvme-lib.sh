# SPDX-License-Identifier: GPL-2.0
# Helpers for the nvme_iova guest tests (sourced after /tests/lib.sh).

# nvi_bdf SERIAL: PCI address of the controller with that serial, whether
# the stock driver or nvme_iova holds it (waits up to 10 s).
nvi_bdf() {
	_n=100
	while [ $_n -gt 0 ]; do
		for c in /sys/class/nvme/nvme* /sys/class/nvme_iova/nvmeiova*; do
			[ -r "$c/serial" ] || continue
			read -r _s <"$c/serial"
			[ "$_s" = "$1" ] && { cat "$c/address"; return 0; }
		done
		# unbound (e.g. nvme_iova unloaded): the runner puts ctrlN at
		# slot 0x10+N
		_b=$(printf '0000:00:%02x.0' $((0x10 + ${1#ctrl})))
		if [ -d "/sys/bus/pci/devices/$_b" ] &&
			[ ! -e "/sys/bus/pci/devices/$_b/driver" ]; then
			echo "$_b"
			return 0
		fi
		_n=$((_n - 1))
		sleep 0.1
	done
	return 1
}

# nvi_demo_mode MODE: put ctrl1 under nvme_iova with map_mode MODE and set
# bdf (its PCI address), mm (MODE) and c (its nvmeiovaN), or fail the test.
# nvi_demo: the same with the first of nvi_modes.
nvi_demo_mode() {
	bdf=$(nvi_bdf ctrl1) || fail "no controller with serial ctrl1"
	mm=$1
	c=$(nvi_use_mode "$mm" "$bdf") ||
		fail "cannot move $bdf to nvme_iova (map_mode=$mm)"
}

nvi_demo() {
	nvi_demo_mode "$(nvi_modes | awk '{ print $1 }')"
}

# nvi_to_stock BDF: make sure the stock driver holds BDF; print its nvmeN.
nvi_to_stock() {
	if [ ! -e "/sys/bus/pci/devices/$1/driver" ] ||
		[ "$(basename "$(readlink "/sys/bus/pci/devices/$1/driver")")" != nvme ]; then
		sh /tests/bind-nvme.sh --force to-stock "$1" >&2 || return 1
	fi
	nvi_stock_ctrl "$1"
}

# nvi_ctrl BDF: nvmeiovaN bound to BDF, waiting up to 10 s for it and its
# first namespace.
nvi_ctrl() {
	_n=100
	while [ $_n -gt 0 ]; do
		for c in /sys/class/nvme_iova/nvmeiova*; do
			[ -r "$c/address" ] || continue
			if [ "$(cat "$c/address")" = "$1" ]; then
				_c=$(basename "$c")
				[ -b "/dev/${_c}n1" ] && { echo "$_c"; return 0; }
			fi
		done
		_n=$((_n - 1))
		sleep 0.1
	done
	echo "no nvme_iova controller with a namespace on $1 after 10 s; kernel says:" >&2
	dmesg | grep -i -E 'nvme|iova|dmar|pci' | tail -n 20 >&2
	return 1
}

# nvi_stock_ctrl BDF: nvmeN (stock driver) bound to BDF, waiting likewise.
nvi_stock_ctrl() {
	_n=100
	while [ $_n -gt 0 ]; do
		for c in /sys/class/nvme/nvme*; do
			[ -r "$c/address" ] || continue
			if [ "$(cat "$c/address")" = "$1" ]; then
				_c=$(basename "$c")
				[ -b "/dev/${_c}n1" ] && { echo "$_c"; return 0; }
			fi
		done
		_n=$((_n - 1))
		sleep 0.1
	done
	return 1
}

# nvi_uses_shim: the loaded nvme_iova maps through dma_iova_shim.ko (old
# kernels, or the forced-shim build on 7.x) rather than the native API.
nvi_uses_shim() {
	[ -e /sys/module/dma_iova_shim/holders/nvme_iova ]
}

# nvi_check_api: nvme_iova uses the API this kernel and build call for:
# the shim where the kernel lacks the API or the build forces it, else
# the kernel's own.
nvi_check_api() {
	if grep -q ' dma_iova_try_alloc$' /proc/kallsyms &&
		[ "$(cmdline_arg dis.flavour)" != shim ]; then
		nvi_uses_shim && { echo "nvme_iova uses the shim on a kernel with the native API"; return 1; }
	else
		nvi_uses_shim || { echo "nvme_iova does not use dma_iova_shim"; return 1; }
	fi
	return 0
}

# nvi_shim_idle BDF: with nothing in flight, the shim holds no range for the
# device (fine when the shim is not in use: nothing to hold).
nvi_shim_idle() {
	_st=/sys/kernel/debug/dma_iova_shim/devices/$1
	[ -r "$_st" ] || return 0
	grep -q '^outstanding 0$' "$_st" && return 0
	echo "shim ranges still outstanding for $1:"
	cat "$_st"
	return 1
}

# nvi_modes: map modes to exercise (kernel command line nvi.modes=a,b).
nvi_modes() {
	_m=$(cmdline_arg nvi.modes | tr ',' ' ')
	[ -n "$_m" ] || _m="iova sg page"
	echo "$_m"
}

# nvi_modes_from VAR: map modes for one test, from the kernel command line
# VAR=a,b (nvi.verify_modes for nvme-basic, nvi.iotlb_modes for
# nvme-iotlb), else those of nvi_modes.
nvi_modes_from() {
	_m=$(cmdline_arg "$1") || { nvi_modes; return; }
	echo "$_m" | tr ',' ' '
}

# nvi_use_mode MODE BDF: bind BDF to nvme_iova loaded with map_mode=MODE
# (first time through the bind helper, then by reloading the module: the
# helper leaves driver_override set, so the reload binds it again).
nvi_use_mode() {
	# a loaded module with another map mode must go first
	if [ -r /sys/module/nvme_iova/parameters/map_mode ] &&
		[ "$(cat /sys/module/nvme_iova/parameters/map_mode)" != "$1" ]; then
		rmmod nvme_iova || return 1
	fi
	if [ -e "/sys/bus/pci/devices/$2/driver" ] &&
		[ "$(basename "$(readlink "/sys/bus/pci/devices/$2/driver")")" = nvme ]; then
		NVME_IOVA_PARAMS="map_mode=$1" sh /tests/bind-nvme.sh --force to-demo "$2" >&2 ||
			return 1
	else
		rmmod nvme_iova 2>/dev/null
		modprobe nvme_iova "map_mode=$1" || return 1
	fi
	[ "$(cat /sys/module/nvme_iova/parameters/map_mode)" = "$1" ] || return 1
	nvi_ctrl "$2"
}

# nvi_bind_mode MODE BDF: BDF on nvme_iova with map_mode MODE, the other
# controllers left as they are (a controller keeps the mode it was bound
# with: the parameter is set, then only BDF is bound or bound again); print
# its nvmeiovaN.
nvi_bind_mode() {
	_mp=/sys/module/nvme_iova/parameters/map_mode
	_cur=$(basename "$(readlink "/sys/bus/pci/devices/$2/driver" 2>/dev/null)")
	if [ "$_cur" = nvme_iova ]; then
		_c=$(nvi_ctrl "$2") || return 1
		[ "$(cat "/sys/class/nvme_iova/$_c/map_mode")" = "$1" ] &&
			{ echo "$_c"; return 0; }
		echo "$1" >"$_mp" || return 1
		echo "$2" >/sys/bus/pci/drivers/nvme_iova/unbind || return 1
		echo "$2" >/sys/bus/pci/drivers_probe
	else
		[ -w "$_mp" ] && { echo "$1" >"$_mp" || return 1; }
		NVME_IOVA_PARAMS="map_mode=$1" sh /tests/bind-nvme.sh --force to-demo "$2" >&2 ||
			return 1
	fi
	_c=$(nvi_ctrl "$2") || return 1
	[ "$(cat "/sys/class/nvme_iova/$_c/map_mode")" = "$1" ] || return 1
	echo "$_c"
}

# nvi_fio JOBFILE OUT: run fio with terse output; fail the test on an error
nvi_fio() {
	fio --output-format=terse --terse-version=3 "$1" >"$2" 2>&1 ||
		{ cat "$2"; return 1; }
	_err=$(grep '^3;' "$2" | cut -d';' -f5 | head -n1)
	[ "$_err" = 0 ] || { cat "$2"; return 1; }
}

# wait_pid PID SECONDS [WHAT]: wait for PID and return its status; the test
# fails if PID is still alive after SECONDS (WHAT names it in the message).
wait_pid() {
	_n=$(($2 * 10))
	while kill -0 "$1" 2>/dev/null; do
		_n=$((_n - 1))
		[ $_n -gt 0 ] || fail "${3:-pid $1} hangs: still running after $2 s"
		sleep 0.1
	done
	wait "$1"
}

# nvi_root_port BDF: the PCI address of the port BDF sits behind; the test
# is skipped unless that is a root port of its own (run-vm.py --nvme ...,rp)
nvi_root_port() {
	_rp=$(basename "$(dirname "$(readlink -f "/sys/bus/pci/devices/$1")")")
	case $_rp in
	0000:*) echo "$_rp" ;;
	*) skip "ctrl1 ($1) is not behind a root port (run-vm.py --nvme ...,rp)" ;;
	esac
}

# nvi_fio_wait PID OUT WHAT: wait for a background fio (terse output in OUT)
# for up to 180 s; fail the test if it failed or counted an error.
nvi_fio_wait() {
	wait_pid "$1" 180 "$3: fio" ||
		{ cat "$2"; dmesg | tail -n 30; fail "$3: fio write + verify failed"; }
	[ "$(grep '^3;' "$2" | cut -d';' -f5)" = 0 ] ||
		{ cat "$2"; fail "$3: fio error"; }
}
