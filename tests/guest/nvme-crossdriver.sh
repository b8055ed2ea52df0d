# SPDX-License-Identifier: GPL-2.0
# Data written through the stock driver reads back identically through
# nvme_iova after rebinding the controller, and the other way round.
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
bdf=$(nvi_bdf ctrl1) || fail "no controller with serial ctrl1"
mm=$(nvi_modes | awk '{ print $1 }')
s=$(nvi_to_stock "$bdf") || fail "cannot put ctrl1 under the stock driver"

dd if=/dev/urandom of=/tmp/a bs=64k count=40 2>/dev/null
dd if=/dev/urandom of=/tmp/b bs=64k count=40 2>/dev/null
# stock writes A at 0 (1 MiB blocks) ...
dd if=/tmp/a of="/dev/${s}n1" bs=1M oflag=direct conv=fsync 2>/dev/null ||
	fail "stock write failed"
c=$(nvi_use_mode "$mm" "$bdf") || fail "cannot move $bdf to nvme_iova"
# ... the demo reads it back in 4 KiB and 128 KiB pieces
for bs in 4k 128k; do
	dd if="/dev/${c}n1" of=/tmp/a.rb bs=$bs count=$((2560 / ${bs%k})) iflag=direct 2>/dev/null ||
		fail "demo read failed"
	cmp /tmp/a /tmp/a.rb || fail "stock-written data differs through nvme_iova (bs $bs)"
done
echo "stock -> nvme_iova (map_mode=$mm): 2.5 MiB identical"
# the demo writes B at 8 MiB in odd-sized pieces
dd if=/tmp/b of="/dev/${c}n1" bs=20k seek=$((8192 / 20)) oflag=direct conv=fsync 2>/dev/null ||
	fail "demo write failed"
sh /tests/bind-nvme.sh --force to-stock "$bdf" >&2 || fail "cannot move $bdf back to nvme"
s=$(nvi_stock_ctrl "$bdf") || fail "stock controller did not come back"
dd if="/dev/${s}n1" of=/tmp/b.rb bs=20k skip=$((8192 / 20)) count=128 iflag=direct 2>/dev/null ||
	fail "stock read failed"
cmp /tmp/b /tmp/b.rb || fail "nvme_iova-written data differs through the stock driver"
dd if="/dev/${s}n1" of=/tmp/a.rb bs=1M count=2 iflag=direct 2>/dev/null
cmp -n 2097152 /tmp/a /tmp/a.rb || fail "data at 0 changed"
echo "nvme_iova -> stock: 2.5 MiB identical"
