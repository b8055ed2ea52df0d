# SPDX-License-Identifier: GPL-2.0
# nvme-cli, unchanged, on /dev/nvmeiova<C> and its namespace: the same
# commands give the same output as through the stock driver on the same
# controller (device names normalised), and data written with nvme-cli
# through one driver reads back through the other.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
bdf=$(nvi_bdf ctrl1) || fail "no controller with serial ctrl1"
mm=$(nvi_modes | awk '{ print $1 }')

# cli_all CTRL NS OUTDIR: the comparable commands
cli_all() {
	_o=$3
	mkdir -p "$_o"
	nvme id-ctrl "/dev/$1" >"$_o/id-ctrl" 2>&1 || fail "nvme id-ctrl /dev/$1 failed"
	nvme id-ns "/dev/$2" >"$_o/id-ns" 2>&1 || fail "nvme id-ns /dev/$2 failed"
	nvme id-ns "/dev/$1" -n 1 >"$_o/id-ns-ctrl" 2>&1 || fail "nvme id-ns /dev/$1 -n 1 failed"
	nvme list-ns "/dev/$1" >"$_o/list-ns" 2>&1 || fail "nvme list-ns /dev/$1 failed"
	nvme get-feature "/dev/$1" -f 7 >"$_o/feat7" 2>&1 || fail "nvme get-feature -f 7 failed"
	nvme get-feature "/dev/$1" -f 6 >"$_o/feat6" 2>&1 || fail "nvme get-feature -f 6 failed"
	nvme smart-log "/dev/$1" >"$_o/smart-full" 2>&1 || fail "nvme smart-log /dev/$1 failed"
	grep -i "critical_warning\|available_spare " "$_o/smart-full" >"$_o/smart"
	nvme admin-passthru "/dev/$1" -o 6 --cdw10=1 -l 4096 -r -b >"$_o/admin-id" 2>&1 ||
		fail "nvme admin-passthru identify on /dev/$1 failed"
	nvme io-passthru "/dev/$2" -o 2 -n 1 --cdw10=200 --cdw12=7 -l 4096 -r -b \
		>"$_o/io-read" 2>&1 || fail "nvme io-passthru read on /dev/$2 failed"
	nvme flush "/dev/$2" >"$_o/flush" 2>&1 || fail "nvme flush /dev/$2 failed"
	nvme error-log "/dev/$1" -e 8 >"$_o/error-log" 2>&1 || fail "nvme error-log /dev/$1 failed"
	# temperature threshold: set, then read back
	nvme set-feature "/dev/$1" -f 4 -v 0x15e >"$_o/set-feat4" 2>&1 ||
		fail "nvme set-feature -f 4 on /dev/$1 failed"
	nvme get-feature "/dev/$1" -f 4 >"$_o/feat4" 2>&1 || fail "nvme get-feature -f 4 failed"
	grep -q '0x0*15e' "$_o/feat4" || fail "set-feature -f 4 did not take on /dev/$1: $(cat "$_o/feat4")"
	# deallocate and write-zeroes ranges that hold data: they read zeros
	nvme write "/dev/$2" -s 400 -c 15 -z 8192 -d /tmp/pat1 >/dev/null 2>&1 ||
		fail "nvme write on /dev/$2 failed"
	nvme dsm "/dev/$2" -n 1 -s 400 -b 8 -d >"$_o/dsm" 2>&1 || fail "nvme dsm on /dev/$2 failed"
	nvme write-zeroes "/dev/$2" -s 408 -c 7 >"$_o/write-zeroes" 2>&1 ||
		fail "nvme write-zeroes on /dev/$2 failed"
	nvme read "/dev/$2" -s 400 -c 15 -z 8192 -d "$_o/zeros.bin" >/dev/null 2>&1 ||
		fail "nvme read on /dev/$2 failed"
	cmp -s "$_o/zeros.bin" /tmp/zeros8k 4096 4096 ||
		fail "write-zeroed blocks on /dev/$2 are not zeros"
	# deallocated blocks read zeros only if the namespace says so (DLFEAT)
	_dl=$(awk '/^dlfeat/ { print $3 }' "$_o/id-ns")
	if [ $((${_dl:-0} & 7)) = 1 ]; then
		cmp -s -n 4096 "$_o/zeros.bin" /tmp/zeros8k ||
			fail "deallocated blocks on /dev/$2 are not zeros (dlfeat $_dl)"
	fi
	for f in "$_o"/*; do
		sed -i "s/$1/DEV/g; s/$2/DEVNS/g" "$f"
	done
}

dd if=/dev/urandom of=/tmp/pat1 bs=4k count=8 2>/dev/null
dd if=/dev/urandom of=/tmp/pat2 bs=4k count=8 2>/dev/null
dd if=/dev/zero of=/tmp/zeros8k bs=4k count=2 2>/dev/null

s=$(nvi_to_stock "$bdf") || fail "cannot put ctrl1 under the stock driver"
nvme write "/dev/${s}n1" -s 200 -c 63 -z 32768 -d /tmp/pat1 >/dev/null 2>&1 ||
	fail "nvme write through the stock driver failed"
cli_all "$s" "${s}n1" /tmp/cli-stock

c=$(nvi_use_mode "$mm" "$bdf") || fail "cannot move $bdf to nvme_iova"
cli_all "$c" "${c}n1" /tmp/cli-demo
for f in /tmp/cli-stock/*; do
	n=$(basename "$f")
	case $n in smart-full | *.bin) continue ;; esac
	cmp -s "$f" "/tmp/cli-demo/$n" || {
		diff "$f" "/tmp/cli-demo/$n" | head -n 20
		fail "nvme-cli '$n' output differs between nvme and nvme_iova"
	}
done
echo "id-ctrl id-ns list-ns get-feature set-feature smart-log error-log admin-passthru io-passthru flush dsm write-zeroes: same output"

# data: what the stock driver wrote, nvme read gets through ours
nvme read "/dev/${c}n1" -s 200 -c 63 -z 32768 -d /tmp/rd1 >/dev/null 2>&1 ||
	fail "nvme read through nvme_iova failed"
cmp /tmp/pat1 /tmp/rd1 || fail "nvme read through nvme_iova returned other data"
nvme write "/dev/${c}n1" -s 300 -c 63 -z 32768 -d /tmp/pat2 >/dev/null 2>&1 ||
	fail "nvme write through nvme_iova failed"
# an odd-sized, unaligned io-passthru read (data_len 3 KiB + 512)
nvme io-passthru "/dev/${c}n1" -o 2 -n 1 --cdw10=300 --cdw12=6 -l 3584 -r -b >/tmp/rd-odd 2>/dev/null ||
	fail "odd-sized io-passthru failed"
cmp -n 3584 /tmp/pat2 /tmp/rd-odd || fail "odd-sized io-passthru returned other data"
nvme reset "/dev/$c" || fail "nvme reset /dev/$c failed"
[ "$(cat "/sys/class/nvme_iova/$c/state")" = live ] || fail "$c not live after reset"
nvme id-ctrl "/dev/$c" >/dev/null 2>&1 || fail "id-ctrl after reset failed"
echo "nvme read/write/io-passthru data and nvme reset OK"

sh /tests/bind-nvme.sh --force to-stock "$bdf" >&2 || fail "cannot move $bdf back"
s=$(nvi_stock_ctrl "$bdf") || fail "stock controller did not come back"
nvme read "/dev/${s}n1" -s 300 -c 63 -z 32768 -d /tmp/rd2 >/dev/null 2>&1 ||
	fail "nvme read through the stock driver failed"
cmp /tmp/pat2 /tmp/rd2 || fail "data written with nvme-cli through nvme_iova differs"
echo "nvme-cli write through nvme_iova reads back through nvme"
