# SPDX-License-Identifier: GPL-2.0
# Helpers for guest tests (busybox sh).  Sourced by /init and by each test.
#
# A test is /tests/<name>.sh, run in its own shell: exit 0 passes, exit 77
# skips, anything else fails; `fail MSG` records the reason and exits.

# cmdline_arg NAME: value of NAME=value on the kernel command line.
cmdline_arg() {
	read -r _cmdline </proc/cmdline
	for w in $_cmdline; do
		case $w in
		"$1"=*) echo "${w#*=}"; return 0 ;;
		esac
	done
	return 1
}

# uptime in hundredths of a second
uptime_cs() {
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}"
}

fail() {
	echo "$*" >/tmp/.fail-reason
	echo "FAIL: $*"
	exit 1
}

skip() {
	echo "$*" >/tmp/.fail-reason
	echo "SKIP: $*"
	exit 77
}

# expect_console REGEX: this test will make the kernel print a line matching
# REGEX (an IOMMU fault, say); the verdict accepts such lines in this test,
# and fails the test if none appears.
expect_console() {
	echo "@@EXPECT $*"
}

# iotlb_begin LABEL / iotlb_end LABEL: the host counts IOTLB invalidations
# and NVMe I/O commands between the two (QEMU trace, outside the guest).
# iotlb_check LABEL per_io OP VALUE: the host fails this test unless
# invalidations per I/O in LABEL satisfy OP (lt le eq ge gt) VALUE.
# Each marker is a numbered write to the host bridge's Interrupt Line and
# Pin registers (config space 0x3c, which nothing else writes on q35), and
# QEMU traces it in the same log as the invalidations: the window's edges
# are exact, whatever the host's load.  The pause before a window
# (IOTLB_PAUSE seconds, default 0.2) lets the IOMMU's deferred flushes of
# earlier work (10 ms timers) happen before it begins.
iotlb_mark() {
	_seq=$(($(cat /tmp/.iotlb-seq 2>/dev/null || echo 0) + 1))
	echo "$_seq" >/tmp/.iotlb-seq
	# shellcheck disable=SC2059 # the format is the two bytes, octal escapes
	printf "\\$(printf %03o $((_seq & 255)))\\$(printf %03o $((_seq >> 8 & 255)))" |
		dd of=/sys/bus/pci/devices/0000:00:00.0/config bs=2 seek=30 count=1 \
			conv=notrunc 2>/dev/null
}

iotlb_begin() {
	sync
	sleep "${IOTLB_PAUSE:-0.2}"
	iotlb_mark
	echo "@@IOTLB-BEGIN $1 $_seq"
}

iotlb_end() {
	iotlb_mark
	echo "@@IOTLB-END $1 $_seq"
}

# iotlb_ops LABEL N: the window did N requests (when they are not NVMe I/O).
iotlb_ops() {
	echo "@@IOTLB-OPS $1 $2"
}

iotlb_check() {
	echo "@@IOTLB-CHECK $*"
}

# run_test NAME: run one test with its markers, time limit and outcome.
run_test() {
	_t=$1
	_limit=$(cmdline_arg dis.test_timeout || echo 300)
	echo "@@BEGIN $_t"
	_start=$(uptime_cs)
	rm -f /tmp/.fail-reason
	if [ -f "/tests/$_t.sh" ]; then
		# a process group of its own (setsid), whose id the test
		# records: a test killed by its time limit takes what it
		# started in the background (fio loops) with it
		rm -f /tmp/.test-pgid
		timeout -s KILL "$_limit" setsid sh -c \
			"echo \$\$ >/tmp/.test-pgid; . /tests/lib.sh; . /tests/$_t.sh"
		_rc=$?
		if [ "$_rc" = 137 ]; then
			# what every task was doing, for the log (kernels
			# without SysRq have no trigger file), then the rest of
			# the test's processes go
			if [ -w /proc/sysrq-trigger ]; then
				echo 1 >/proc/sys/kernel/sysrq
				echo t >/proc/sysrq-trigger
			fi
			_pg=$(cat /tmp/.test-pgid 2>/dev/null)
			[ -n "$_pg" ] && kill -s KILL "-$_pg" 2>/dev/null
		fi
	else
		echo "no such test" >/tmp/.fail-reason
		_rc=1
	fi
	_cs=$(($(uptime_cs) - _start))
	_secs=$((_cs / 100)).$(((_cs % 100) / 10))
	_why=$(cat /tmp/.fail-reason 2>/dev/null)
	case $_rc in
	0) echo "@@END $_t ok $_secs"; return 0 ;;
	77) echo "@@END $_t SKIP $_secs $_why"; return 0 ;;
	137) echo "@@END $_t FAIL $_secs killed after ${_limit}s" ;;
	*) echo "@@END $_t FAIL $_secs ${_why:-exit status $_rc}" ;;
	esac
	return 1
}

# --- NVMe helpers ---------------------------------------------------------

# nvme_ctrl SERIAL: the nvmeN name of the controller with that serial (the
# host runner gives controllers the serials ctrl0, ctrl1, ...).
nvme_ctrl() {
	for c in /sys/class/nvme/nvme*; do
		[ -e "$c/serial" ] || continue
		read -r s <"$c/serial"
		[ "$s" = "$1" ] && { basename "$c"; return 0; }
	done
	return 1
}

# nvme_wait_ctrl SERIAL: like nvme_ctrl, waiting up to 10 s for the
# controller (and its first namespace's block device) to appear.
nvme_wait_ctrl() {
	_n=100
	until _c=$(nvme_ctrl "$1") && [ -b "/dev/${_c}n1" ]; do
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || return 1
		sleep 0.1
	done
	echo "$_c"
}

# nvme_pci SERIAL: PCI address of the controller with that serial, found
# from sysfs whatever driver it is bound to.
nvme_pci() {
	for d in /sys/bus/pci/devices/*; do
		read -r cls <"$d/class"
		[ "$cls" = 0x010802 ] || continue
		n=$(nvme_serial_of_pci "$(basename "$d")")
		[ "$n" = "$1" ] && { basename "$d"; return 0; }
	done
	return 1
}

# nvme_serial_of_pci BDF: serial of the controller at BDF if a driver that
# registers in /sys/class/nvme holds it.
nvme_serial_of_pci() {
	for c in /sys/class/nvme/nvme*; do
		[ -e "$c/address" ] || continue
		read -r a <"$c/address"
		[ "$a" = "$1" ] && { cat "$c/serial"; return 0; }
	done
	return 1
}

# wait_for PATH [TENTHS]: wait until PATH exists (default 10 s).
wait_for() {
	_n=${2:-100}
	while [ ! -e "$1" ]; do
		_n=$((_n - 1))
		[ "$_n" -le 0 ] && return 1
		sleep 0.1
	done
}

# iommu_type BDF: DMA, DMA-FQ, identity, ... or "none".
iommu_type() {
	if [ -e "/sys/bus/pci/devices/$1/iommu_group/type" ]; then
		cat "/sys/bus/pci/devices/$1/iommu_group/type"
	else
		echo none
	fi
}

# hmp COMMAND...: have the host run a QEMU monitor (HMP) command, e.g.
# `hmp device_del nvme1` (scripts/run-vm.py: it is logged with its reply in
# OUT/hmp.log and console.log).  Nothing comes back to the guest: the
# caller waits for the command's effect (hmp_wait).  {OUT} stands for the
# host's output directory.
hmp() {
	_hmp_seq=$((${_hmp_seq:-0} + 1))
	echo "@@HMP $$.$_hmp_seq $*" >/dev/console
}

# hmp_wait SECONDS CONDITION...: wait up to SECONDS for the shell command
# CONDITION to succeed (the effect of an hmp command); print how long it
# took (tenths of a second) and return 0, or return 1 after SECONDS.
hmp_wait() {
	_hw_left=$(($1 * 10))
	_hw_t=0
	shift
	until "$@"; do
		[ $_hw_t -lt "$_hw_left" ] || return 1
		_hw_t=$((_hw_t + 1))
		sleep 0.1
	done
	echo "$_hw_t"
}
