# SPDX-License-Identifier: GPL-2.0
# Reliability, injected mapping failures (rel.inject_cycles rounds over the
# combinations, default 1): with the shim's fault injection failing every
# Nth dma_iova_try_alloc and/or every Mth dma_iova_link (N, M from the list
# below, 1 = every call), on ctrl0 (nvme_iova):
#  - fio write+verify completes without error: the block path falls back
#    to per-segment mappings on either failure; it never hangs and never
#    reads back wrong data;
#  - data a dd wrote and the device acknowledged under injection reads back
#    intact once injection is off;
#  - passthrough reads (nvme read, nvme io-passthru) return, with success
#    or an errno (the pinned-pages passthrough path gives ENOMEM back on a
#    failed link);
#  - the injection did happen (the shim's counters moved) and nothing stays
#    mapped.
# Only where nvme_iova calls the shim (not the native API of 7.x: skip).
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
# shellcheck source=rel-lib.sh
. /tests/rel-lib.sh
rounds=$(rel_cycles inject 1)
rel_demo_pair
nvi_uses_shim || skip "nvme_iova uses the kernel's native API here, not the shim: nothing to inject into"
par=/sys/module/dma_iova_shim/parameters
st=/sys/kernel/debug/dma_iova_shim/devices/$REL_A
dev=/dev/${REL_CA}n1
leaks0=$(rel_leak_reports)

# "ALLOC:LINK" pairs: fail every ALLOC-th try_alloc, every LINK-th link
# (rel.inject_combos=A:L,A:L,... for fewer)
combos=$(cmdline_arg rel.inject_combos | tr ',' ' ')
[ -n "$combos" ] || combos="1:0 3:0 64:0 0:1 0:2 0:7 0:64 5:3 1:1"

counter() {
	awk -v k="$1" '$1 == k { print $2 }' "$st"
}

inject() {
	echo "$1" >$par/fail_alloc_every
	echo "$2" >$par/fail_link_every
}

r=0
n=0
while [ $r -lt "$rounds" ]; do
	r=$((r + 1))
	for combo in $combos; do
		n=$((n + 1))
		na=${combo%:*}
		nl=${combo#*:}
		[ $n = 1 ] && cat "$st"
		fb0=$(counter fallback_injected)
		le0=$(counter link_errors)
		inject "$na" "$nl"
		what="alloc every $na, link every $nl"
		echo "rel-inject: $what" >/dev/kmsg

		DEV=$dev SIZE=2m QD=16 RW=randwrite IOMEM=malloc fio --output-format=terse \
			--terse-version=3 /tests/fio/nvme-verify.fio >/tmp/rel-fio.out 2>&1 &
		pid=$!
		REL_CALLS=$((REL_CALLS + 1))
		if ! rel_wait $pid 60; then
			rel_fail "$what: fio hangs (60 s); injection off"
			inject 0 0
			rel_wait $pid 60 || { rel_fail "$what: fio still hangs with injection off"; break 2; }
		fi
		err=$(grep '^3;' /tmp/rel-fio.out | cut -d';' -f5 | head -n1)
		if rel_verify_errors /tmp/rel-fio.out; then
			cat /tmp/rel-fio.out
			rel_mismatch "$what: fio verify errors"
			fio_res=mismatch
		elif [ "$REL_STATUS" = 0 ] && [ "$err" = 0 ]; then
			fio_res=ok
		else
			tail -n 5 /tmp/rel-fio.out
			rel_fail "$what: fio status $REL_STATUS, error ${err:-?}"
			fio_res=error
		fi

		# acknowledged under injection: must read back once it is off
		seek=$((1024 + n * 64))
		acked=0
		rel_put_ref "$dev" 64 "$seek" && acked=1
		REL_CALLS=$((REL_CALLS + 1))

		pt=""
		for cmd in "nvme read $dev -s 8 -c 15 -z 8192 -d /tmp/rel-pt" \
			"nvme io-passthru $dev -n 1 -o 2 --cdw10=8 --cdw12=15 -l 8192 -r -b"; do
			REL_CALLS=$((REL_CALLS + 1))
			# shellcheck disable=SC2086 # a command line
			timeout 60 $cmd >/tmp/rel-pt.out 2>&1
			rc=$?
			case $rc in
			0) pt="$pt ok" ;;
			137 | 143) rel_fail "$what: '${cmd%% /*}' hangs"; pt="$pt hang" ;;
			*) pt="$pt rc$rc" ;;
			esac
		done

		inject 0 0
		if [ $acked = 1 ]; then
			rel_check_ref "$dev" 64 "$seek"
			case $? in
			0) ;;
			1) rel_mismatch "$what: data acknowledged under injection reads back differently" ;;
			*) rel_fail "$what: reading back without injection failed" ;;
			esac
		fi
		fb=$(($(counter fallback_injected) - fb0))
		le=$(($(counter link_errors) - le0))
		echo "rel: $what: fio $fio_res, dd $([ $acked = 1 ] && echo ok || echo error)," \
			"passthrough$pt; $fb injected fallback(s), $le link error(s)"
		[ "$na" = 0 ] || [ "$fb" -gt 0 ] || rel_fail "$what: no try_alloc was made to fail"
		# (with every try_alloc failing, nothing is linked)
		[ "$nl" = 0 ] || [ "$na" = 1 ] || [ "$le" -gt 0 ] ||
			rel_fail "$what: no link was made to fail"
		rel_idle "$REL_A"
	done
done
inject 0 0
REL_CALLS=$((REL_CALLS + 1))
DEV=$dev SIZE=4m QD=8 RW=randwrite IOMEM=malloc \
	nvi_fio /tests/fio/nvme-verify.fio /tmp/rel-fio.out ||
	rel_fail "write+verify without injection afterwards"
rel_idle "$REL_A"
k=$(($(rel_leak_reports) - leaks0))
[ "$k" -eq 0 ] || { dmesg | grep 'leaked IOVA range' | tail -n 5; REL_LEAKS=$((REL_LEAKS + k)); }
rel_report rel-inject "$n"
