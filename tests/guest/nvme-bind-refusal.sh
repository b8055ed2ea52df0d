# SPDX-License-Identifier: GPL-2.0
# The bind helper (scripts/bind-nvme.sh, /tests/bind-nvme.sh in the guest):
# usage and unknown devices, --dry-run changes nothing, an idle controller
# with namespaces needs --force, and a namespace that is open, used as swap,
# mounted or the root file system is refused whatever the options, leaving
# the binding alone.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
# the helper under test
bind_nvme() {
	sh /tests/bind-nvme.sh "$@"
}
bdf=$(nvi_bdf ctrl1) || fail "no controller with serial ctrl1"
s=$(nvi_to_stock "$bdf") || fail "cannot put ctrl1 under the stock driver"

# expect RC CMD...: run CMD, fail unless it exits with RC
expect() {
	_want=$1
	shift
	"$@" >/tmp/h.out 2>&1
	_rc=$?
	sed 's/^/    /' /tmp/h.out
	[ "$_rc" = "$_want" ] || fail "'$*' exited $_rc, expected $_want"
}
driver() { basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")"; }

expect 2 bind_nvme
expect 2 bind_nvme sideways "$bdf"
expect 3 bind_nvme to-demo 0000:00:1e.0
expect 3 bind_nvme to-demo nvme9
expect 0 bind_nvme status "$bdf"
expect 0 bind_nvme --dry-run --force to-demo "$bdf"
grep -q "would:" /tmp/h.out || fail "dry-run printed no steps"
[ "$(driver)" = nvme ] || fail "dry-run moved the controller"
expect 5 bind_nvme to-demo "$s"
[ "$(driver)" = nvme ] || fail "moved without --force"

# shellcheck disable=SC2217 # sleep ignores stdin: the redirect only holds the device open
sleep 60 <"/dev/${s}n1" &
p=$!
sleep 0.2
expect 4 bind_nvme --force to-demo "$bdf"
grep -q "open by pid $p" /tmp/h.out || fail "open device not named"
kill $p
wait $p 2>/dev/null

mkswap "/dev/${s}n1" >/dev/null || fail "mkswap failed"
swapon "/dev/${s}n1" || fail "swapon failed"
expect 4 bind_nvme --force --dry-run to-demo "$bdf"
grep -q "swap" /tmp/h.out || fail "swap not named"
swapoff "/dev/${s}n1"

fs=""
for f in ext4 ext2 vfat minix; do
	modprobe -q "$f" 2>/dev/null
	grep -qw "$f" /proc/filesystems && { fs=$f; break; }
done
if [ -n "$fs" ]; then
	case $fs in
	vfat) mkdosfs "/dev/${s}n1" >/dev/null ;;
	*) mke2fs -q "/dev/${s}n1" ;;
	esac
	mkdir -p /mnt/t
	mount -t "$fs" "/dev/${s}n1" /mnt/t || fail "mount failed"
	expect 4 bind_nvme --force to-demo "$bdf"
	grep -q "mounted on /mnt/t" /tmp/h.out || fail "mount not named"
	# the root file system: the helper run on a system whose root is
	# this namespace (a chroot into it, where /proc/self/mountinfo
	# shows it mounted on /), as on a host booted from it
	mkdir -p /mnt/t/bin /mnt/t/proc /mnt/t/sys /mnt/t/dev
	cp /bin/busybox /mnt/t/bin/busybox || fail "cannot copy busybox"
	for a in $(busybox --list); do
		[ -e "/mnt/t/bin/$a" ] || ln -s busybox "/mnt/t/bin/$a"
	done
	cp /tests/bind-nvme.sh /mnt/t/bind-nvme.sh
	mount -t proc proc /mnt/t/proc || fail "cannot mount proc in the chroot"
	mount -t sysfs sysfs /mnt/t/sys || fail "cannot mount sysfs in the chroot"
	mount -o bind /dev /mnt/t/dev || fail "cannot bind-mount /dev in the chroot"
	expect 4 chroot /mnt/t /bin/sh /bind-nvme.sh --force to-demo "$bdf"
	grep -q "/dev/${s}n1 holds the root file system" /tmp/h.out ||
		fail "the root file system was not named"
	umount /mnt/t/dev /mnt/t/sys /mnt/t/proc
	umount /mnt/t
else
	fail "no block file system in the guest image: mounted and root cases not exercised"
fi
[ "$(driver)" = nvme ] || fail "a refusal moved the controller"

expect 0 bind_nvme --force to-demo "$bdf"
[ "$(driver)" = nvme_iova ] || fail "not moved to nvme_iova"
c=$(nvi_ctrl "$bdf") || fail "no nvmeiova controller"
expect 0 bind_nvme to-demo "$c"
expect 5 bind_nvme to-stock "$c"
# shellcheck disable=SC2217 # sleep ignores stdin: the redirect only holds the device open
sleep 60 <"/dev/$c" &
p=$!
sleep 0.2
expect 4 bind_nvme --force to-stock "/dev/$c"
kill $p
wait $p 2>/dev/null
expect 0 bind_nvme --force to-stock "$c"
[ "$(driver)" = nvme ] || fail "not moved back to nvme"
echo "bind helper: exit codes 0/2/3/4/5 as documented, refusals leave the binding alone"
