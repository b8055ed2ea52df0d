# SPDX-License-Identifier: GPL-2.0
# No memory leaked by the project's modules, as kmemleak sees it (debug
# kernels only, e.g. 6.1-debug of scripts/build-debug-kernel.sh; release
# kernels have no kmemleak and skip).  Run it last: it unloads the
# project's modules, so that what they allocated and never freed is no
# longer referenced from their data, then makes kmemleak scan twice (an
# object is reported only once two scans found it unreferenced and
# unchanged) and reads the report.
#
# An object fails the test if a frame of its allocation backtrace is in one
# of our modules: by name ("[nvme_iova]") while the module is loaded, or,
# as kmemleak prints frames of modules unloaded since, as a bare address
# within where the module lay (taken from /proc/modules before unloading).
# Leaks of the kernel itself (early-boot false positives and the like) are
# listed but do not fail.
KML=/sys/kernel/debug/kmemleak
OURS="dis_consumer dis_harness_warn dis_selftest nvme_iova dma_iova_shim"

[ -e "$KML" ] || skip "kmemleak: not built in this kernel, nothing to check"

# Where each of our loaded modules lies: "name base size" (core part).
: >/tmp/kml.ranges
while read -r name size _ _ _ addr _; do
	for m in $OURS; do
		[ "$name" = "$m" ] && echo "$name ${addr#0x} $size" >>/tmp/kml.ranges
	done
done </proc/modules
echo "our modules loaded: $(cut -d' ' -f1 /tmp/kml.ranges | tr '\n' ' ')"
grep -q ' 0000000000000000 ' /tmp/kml.ranges &&
	echo "kmemleak: module addresses hidden (kptr_restrict): frames of unloaded modules cannot be told apart"

# Dependents first; a module that will not go is a failure of its own.
for m in $OURS; do
	[ -d "/sys/module/$m" ] || continue
	rmmod "$m" || fail "rmmod $m failed"
done

# The unloads' frees (RCU callbacks, deferred work) settle first; then the
# two scans, the second past kmemleak's minimum object age (5 s).
sleep 2
echo scan >"$KML" || fail "kmemleak is disabled ($(dmesg | grep -m1 'kmemleak:.*disabl'))"
sleep 6
echo scan >"$KML" || fail "second kmemleak scan failed"
cat "$KML" >/tmp/kml.report

total=$(grep -c '^unreferenced object' /tmp/kml.report)
echo "kmemleak: $total unreferenced object(s) in all"

# One line per reported object: "ours|kernel <first lines of the report>".
# Addresses (16 hex digits) are compared as (high, low) halves of 32 bits,
# which awk's doubles hold exactly.
awk -v ours="$OURS" '
function hex(s,    i, n) {
	n = 0
	s = tolower(s)
	for (i = 1; i <= length(s); i++)
		n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return n
}
function inside(a,    i, hi, lo) {
	hi = hex(substr(a, 1, 8))
	lo = hex(substr(a, 9, 8))
	for (i = 1; i <= nr; i++)
		if (hi == bhi[i] && lo >= blo[i] && lo < blo[i] + bsz[i])
			return name[i]
	return ""
}
function flush() {
	if (obj != "")
		print (mine ? "ours " : "kernel ") obj " " where
	obj = ""; mine = 0; where = ""
}
FILENAME == "/tmp/kml.ranges" {
	nr++
	name[nr] = $1
	bhi[nr] = hex(substr($2, 1, 8))
	blo[nr] = hex(substr($2, 9, 8))
	bsz[nr] = $3 + 0
	next
}
/^unreferenced object/ { flush(); obj = $3 " " $4 " " $5; next }
/\[<[0-9a-f]+>\]/ {
	a = $0
	sub(/.*\[</, "", a)
	sub(/>\].*/, "", a)
	fn = $2
	n = split(ours, m, " ")
	for (i = 1; i <= n; i++)
		if (index($0, "[" m[i] "]"))
			mine = 1
	mod = length(a) == 16 ? inside(a) : ""
	if (mod != "") {
		mine = 1
		fn = "0x" a "[" mod ",unloaded]"
	}
	# the first frame outside the allocators says who allocated it
	if (where == "" && fn !~ /^(0x[0-9a-f]+$|kmem|kmalloc|__kmalloc|kmemleak|slab|__slab|___slab|alloc_|__alloc|kvmalloc|kzalloc|krealloc|__kmem|vmalloc|__vmalloc|mempool)/)
		where = "from " fn
}
END { flush() }
' /tmp/kml.ranges /tmp/kml.report >/tmp/kml.objects

grep '^kernel ' /tmp/kml.objects | sed 's/^kernel /kmemleak (kernel, ignored): /'
if grep -q '^ours ' /tmp/kml.objects; then
	echo "--- kmemleak report"
	cat /tmp/kml.report
	fail "$(grep -c '^ours ' /tmp/kml.objects) object(s) leaked by our modules: $(grep '^ours ' /tmp/kml.objects | head -n 3 | cut -d' ' -f2- | tr '\n' ';')"
fi
echo "kmemleak: nothing leaked by our modules"
