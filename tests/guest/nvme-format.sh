# SPDX-License-Identifier: GPL-2.0
# Format NVM and namespace attachment through passthrough, honoured as
# nvme-pci does (src/nvme/effects.c).  Run with
#   --nvme size=1G --nvme size=512M,ns=3,lbs=4096,mdts=5,subsys,detached=1
# on ctrl1 (namespaces 1 and 2 attached, 4096-byte blocks; 3 detached).
# The commands go as raw admin-passthru, so that only the driver's own
# handling of their effects can bring the disks in line (nvme-cli's format
# and attach-ns would rescan by themselves).
#  1. Format namespace 1 to 512-byte blocks while fio writes to it: fio sees
#     no error (its I/O waits while the queues are frozen), the disk has
#     512-byte blocks and the same capacity at once, fio verifies with
#     512-byte I/O, namespace 2's data is untouched.
#  2. Format it to a format with metadata, which the driver cannot serve:
#     capacity 0 and read-only, a read and SUBMIT_IO refused.
#  3. Format it back to 4096-byte blocks: capacity back, writable, verified.
#  4. Attach namespace 3: its disk appears and verifies; detach it under
#     fio: fio fails, the disk goes; attach it again: back, data intact.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
nvi_demo
d=${c}n1

# lbaf_index MS LBADS: the LBA format of namespace 1 with that metadata
# size and block size ("lbaf  4 : ms:0   lbads:12 rp:0 (in use)")
lbaf_index() {
	nvme id-ns "/dev/$c" -n 1 | awk -v ms="ms:$1" -v ds="lbads:$2" \
		'$1 == "lbaf" && $4 == ms && $5 == ds { print $2; exit }'
}

# format LBAF: Format NVM (80h) of namespace 1, no secure erase
format() {
	nvme admin-passthru "/dev/$c" --opcode=0x80 --namespace-id=1 \
		--cdw10="$1" --timeout=120000 >/tmp/fmt.out 2>&1 ||
		{ cat /tmp/fmt.out; fail "Format NVM to LBA format $1 failed"; }
}

# expect_geometry LBS SECTORS RO WHEN (LBS -: any)
expect_geometry() {
	_lbs=$(cat "/sys/block/$d/queue/logical_block_size")
	_size=$(cat "/sys/block/$d/size")
	_ro=$(cat "/sys/block/$d/ro")
	echo "$d: lbs $_lbs, $_size sectors, ro $_ro ($4)"
	[ "$1" = - ] || [ "$_lbs" = "$1" ] || fail "$d: logical block size $_lbs after $4, expected $1"
	[ "$_size" = "$2" ] || fail "$d: $_size sectors after $4, expected $2"
	[ "$_ro" = "$3" ] || fail "$d: ro $_ro after $4, expected $3"
}

verify() {
	fio --name=v --filename="/dev/$1" --direct=1 --ioengine=libaio \
		--bsrange="$2"-64k --rw=randwrite --iodepth=16 --size=4m \
		--verify=crc32c --verify_fatal=1 --do_verify=1 \
		>/tmp/fio.out 2>&1 || { cat /tmp/fio.out; fail "fio verify on $1 ($3)"; }
}

f512=$(lbaf_index 0 9)
fmeta=$(lbaf_index 8 12)
f4k=$(lbaf_index 0 12)
if [ -z "$f512" ] || [ -z "$fmeta" ] || [ -z "$f4k" ]; then
	nvme id-ns "/dev/$c" -n 1
	fail "LBA formats 512, 4096+8 or 4096 not offered"
fi
sectors=$(cat "/sys/block/$d/size")
expect_geometry 4096 "$sectors" 0 "probe"
dd if=/dev/urandom of=/tmp/p2 bs=64k count=8 2>/dev/null
dd if=/tmp/p2 of="/dev/${c}n2" bs=64k oflag=direct 2>/dev/null || fail "write n2"

# 1. 512-byte blocks, under I/O
fio --name=busy --filename="/dev/$d" --direct=1 --ioengine=libaio --bs=4k \
	--rw=randwrite --iodepth=8 --time_based --runtime=8 \
	>/tmp/busy.out 2>&1 &
busy=$!
sleep 2
format "$f512"
expect_geometry 512 "$sectors" 0 "Format NVM to 512-byte blocks"
wait "$busy" || { cat /tmp/busy.out; fail "fio failed across the format"; }
verify "$d" 512 "512-byte blocks"
dd if="/dev/${c}n2" of=/tmp/r2 bs=64k count=8 iflag=direct 2>/dev/null
cmp /tmp/p2 /tmp/r2 || fail "namespace 2 changed by the format of namespace 1"

# 2. metadata: the driver cannot serve it
format "$fmeta"
expect_geometry - 0 1 "Format NVM to 4096+8 (metadata)"
dmesg | grep -q "$d: format changed to one the driver cannot serve" ||
	fail "no kernel message about the format the driver cannot serve"
got=$(dd if="/dev/$d" bs=4k count=1 iflag=direct 2>/dev/null | wc -c)
[ "$got" = 0 ] || fail "read $got bytes from $d with no capacity"
nvme read "/dev/$d" -s 0 -c 0 -z 4096 -d /tmp/rd >/tmp/rd.out 2>&1 &&
	{ cat /tmp/rd.out; fail "SUBMIT_IO accepted on a format the driver cannot serve"; }

# 3. back to 4096-byte blocks
format "$f4k"
expect_geometry 4096 "$sectors" 0 "Format NVM back to 4096-byte blocks"
verify "$d" 4k "4096-byte blocks again"

# 4. attach, detach under I/O, attach again
if nvme list-ns "/dev/$c" --all | grep -q ':0x3$'; then
	cntlid=$(nvme id-ctrl "/dev/$c" | awk '$1 == "cntlid" { print $3; exit }')
	[ -n "$cntlid" ] || fail "no cntlid in id-ctrl"
	cntlid=$((cntlid))
	# controller list: one entry (the escapes are built, not data)
	# shellcheck disable=SC2059
	printf "\\001\\000\\$(printf %03o $((cntlid & 255)))\\$(printf %03o $((cntlid >> 8)))" \
		>/tmp/cl
	dd if=/dev/zero bs=4092 count=1 2>/dev/null >>/tmp/cl
	attach() {
		nvme admin-passthru "/dev/$c" --opcode=0x15 --namespace-id=3 \
			--cdw10="$1" --data-len=4096 --input-file=/tmp/cl --write \
			>/tmp/att.out 2>&1 || { cat /tmp/att.out; fail "Namespace Attachment ($1) failed"; }
	}
	[ -b "/dev/${c}n3" ] && fail "${c}n3 exists before namespace 3 is attached"
	attach 0
	[ -b "/dev/${c}n3" ] || fail "no ${c}n3 after attaching namespace 3"
	verify "${c}n3" 4k "attached namespace"
	dd if=/dev/urandom of=/tmp/p3 bs=64k count=8 2>/dev/null
	dd if=/tmp/p3 of="/dev/${c}n3" bs=64k oflag=direct 2>/dev/null || fail "write n3"
	fio --name=busy --filename="/dev/${c}n3" --direct=1 --ioengine=libaio --bs=4k \
		--offset=1m --rw=randwrite --iodepth=8 --time_based --runtime=30 \
		>/tmp/busy.out 2>&1 &
	busy=$!
	sleep 2
	attach 1
	_n=300
	while [ -b "/dev/${c}n3" ] && [ $_n -gt 0 ]; do
		_n=$((_n - 1))
		sleep 0.1
	done
	[ -b "/dev/${c}n3" ] && fail "${c}n3 still there 30 s after detaching"
	wait "$busy" && fail "fio ran on through the detach with no error"
	attach 0
	[ -b "/dev/${c}n3" ] || fail "no ${c}n3 after attaching namespace 3 again"
	dd if="/dev/${c}n3" of=/tmp/r3 bs=64k count=8 iflag=direct 2>/dev/null
	cmp /tmp/p3 /tmp/r3 || fail "namespace 3's data changed across detach and attach"
	echo "namespace attach, detach under I/O, attach: verified"
fi
echo "Format NVM (512, metadata, 4096) and revalidation: verified"
