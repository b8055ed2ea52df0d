# SPDX-License-Identifier: GPL-2.0
# The fio comparison tool (scripts/fio-compare.sh, /tests/fio-compare.sh in
# the guest) on the stock driver (ctrl0) against nvme_iova (ctrl1): a
# table with every job and path, the first path's ratio 1, a CSV with
# every run; write jobs need --write, and a device that carries data or is
# in use is refused (exit 4) unless --destroy-data, which never overrides
# "in use".
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
cmp_tool() {
	sh /tests/fio-compare.sh "$@"
}
s=$(nvme_wait_ctrl ctrl0) || fail "no stock controller ctrl0"
nvi_demo_mode iova
stock=/dev/${s}n1 demo=/dev/${c}n1

# expect RC CMD...: run CMD, fail unless it exits with RC
expect() {
	_want=$1
	shift
	"$@" >/tmp/cmp.out 2>/tmp/cmp.err
	_rc=$?
	sed 's/^/    /' /tmp/cmp.out /tmp/cmp.err
	[ "$_rc" = "$_want" ] || fail "'$*' exited $_rc, expected $_want"
}

expect 2 cmp_tool "stock=$stock"
expect 2 cmp_tool -j randwrite-4k-qd32 "stock=$stock" "demo=$demo"
expect 2 cmp_tool -j nosuchjob "stock=$stock" "demo=$demo"
expect 0 cmp_tool -r 2 -t 1 -s 64m -o /tmp/cmp.csv -j randread-4k-qd32 \
	-j randread-128k-qd16-malloc "stock=$stock" "demo=$demo"
for j in randread-4k-qd32 randread-128k-qd16-malloc; do
	for p in stock demo; do
		awk -v j="$j" -v p="$p" '$1 == j && $2 == p && $3 > 0 { f = 1 }
			END { exit !f }' /tmp/cmp.out || fail "no figures for $j on $p"
	done
	awk -v j="$j" '$1 == j && $2 == "stock" && $5 == "1.000" { f = 1 }
		END { exit !f }' /tmp/cmp.out || fail "the first path's ratio is not 1 for $j"
done
[ "$(wc -l </tmp/cmp.csv)" = 9 ] || fail "CSV has $(wc -l </tmp/cmp.csv) lines, want 1 + 2x2x2"

# a write job on a device that carries a signature, then one in use
mkswap "$demo" >/dev/null || fail "mkswap failed"
expect 4 cmp_tool --write -r 1 -t 1 -s 16m -j randwrite-4k-qd32 "demo=$demo" "stock=$stock"
grep -q "refusing to write to $demo: it carries a swap signature" /tmp/cmp.err ||
	fail "the signature was not named"
swapon "$demo" || fail "swapon failed"
expect 4 cmp_tool --write --destroy-data -r 1 -t 1 -s 16m -j randwrite-4k-qd32 \
	"demo=$demo" "stock=$stock"
grep -q "is used as swap" /tmp/cmp.err || fail "swap use not named"
swapoff "$demo"
expect 4 cmp_tool --write -r 1 -t 1 -s 16m -j randwrite-4k-qd32 "demo=$demo" "stock=$stock"
expect 0 cmp_tool --write --destroy-data -r 1 -t 1 -s 16m -j randwrite-4k-qd32 \
	"stock=$stock" "demo=$demo"
nvi_shim_idle "$bdf" || fail "ranges outstanding after the runs"
echo "fio-compare: table, ratios and CSV complete; writes refused on data and in-use devices"
