# SPDX-License-Identifier: GPL-2.0
# Benchmark driver (not a pass/fail test of performance): run fio jobs on
# several paths, alternating the order of paths every round, and print each
# result as one "@@DATA fio <round> <job> <path> <busy-jiffies> <json>" line
# on the data port (/dev/ttyS1, kept apart from kernel messages) for the
# host (scripts/bench.py); busy jiffies are the guest's user, system,
# irq and softirq time over the run, from /proc/stat.  Each run is also an
# IOTLB window "<round>:<job>:<path>".
#
# dis.bench_paths=name:serial[:map_mode[+2step|+nobatch]],...   paths to
#   compare: a controller (serial ctrlN) on the stock driver, or on
#   nvme_iova bound with that map_mode (each map mode on a controller of
#   its own, bound once: no reloads between runs); +2step: single_segment=N, every request through the two-step
#   API; +nobatch: batch_unmap=N, one invalidation per request in strict
#   mode.  After each run on nvme_iova, its completion batches in the run
#   (debugfs completion_batches, differences) go out as one line
#   "@@DATA batches <round> <job> <path> key=value...".
# dis.bench_jobs=job,...            from the table below
# dis.bench_rounds=N  dis.bench_runtime=SECONDS
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
# shellcheck source=bench-lib.sh
. /tests/bench-lib.sh
paths=$(cmdline_arg dis.bench_paths | tr ',' ' ')
jobs=$(cmdline_arg dis.bench_jobs | tr ',' ' ')
rounds=$(cmdline_arg dis.bench_rounds || echo 3)
runtime=$(cmdline_arg dis.bench_runtime || echo 5)
if [ -z "$paths" ] || [ -z "$jobs" ]; then
	fail "dis.bench_paths and dis.bench_jobs are required"
fi

# the polled form of the job file: io_uring, IOPOLL
awk '/^ioengine=/ { print "ioengine=io_uring"; print "hipri"; next } { print }' \
	/tests/fio/bench.fio >/tmp/bench-poll.fio

# batch_snap DEV: nvme_iova's completion batch counters of DEV's controller
# as "key value" lines (histogram buckets as hist_<name>_<bucket>), or
# nothing for the stock driver
batch_snap() {
	_f=/sys/kernel/debug/nvme_iova/$(basename "$1" | sed 's/n[0-9]*$//')/completion_batches
	[ -r "$_f" ] || return 0
	awk '$1 ~ /_per_/ { for (i = 2; i <= NF; i++) { split($i, kv, ":")
			print "hist_" $1 "_" kv[1], kv[2] } ; next }
		{ print $1, $2 }' "$_f"
}

# busy jiffies of all CPUs: user nice system irq softirq
cpu_busy() {
	read -r _ u n s _ _ irq sirq _ </proc/stat
	echo $((u + n + s + irq + sirq))
}

for p in $paths; do
	bench_path_dev "$p" >/dev/null || fail "cannot set up path ${p%%:*}"
done
echo 64 >/proc/sys/vm/nr_hugepages
mkdir -p /mnt/huge && mount -t hugetlbfs none /mnt/huge 2>/dev/null

r=1
while [ "$r" -le "$rounds" ]; do
	for j in $jobs; do
		params=$(bench_job_params "$j") || fail "unknown job $j"
		# shellcheck disable=SC2086 # split the five words
		set -- $params
		rw=$1 bs=$2 qd=$3 mem=$4 nj=$5 engine=$6
		[ "$mem" = mmaphuge ] && mem=mmaphuge:/mnt/huge/fio
		jobfile=/tests/fio/bench.fio
		[ "$engine" = poll ] && jobfile=/tmp/bench-poll.fio
		# rotate the path order every round so drift hits all paths alike
		order=$paths
		i=1
		while [ "$i" -lt "$r" ]; do
			# shellcheck disable=SC2086 # a list of words
			set -- $order
			first=$1
			shift
			order="$* $first"
			i=$((i + 1))
		done
		for p in $order; do
			name=${p%%:*}
			dev=$(bench_path_dev "$p") || fail "path $name lost its device"
			label="$r:$j:$name"
			batch_snap "$dev" >/tmp/batch0
			iotlb_begin "$label"
			busy0=$(cpu_busy)
			DEV=$dev RW=$rw BS=$bs QD=$qd MEM=$mem NUMJOBS=$nj RUNTIME=$runtime \
				fio --output-format=json "$jobfile" >/tmp/bench.json 2>/tmp/bench.err ||
				{ cat /tmp/bench.err; fail "fio $j on $name failed"; }
			busy1=$(cpu_busy)
			iotlb_end "$label"
			echo "@@DATA fio $r $j $name $((busy1 - busy0)) $(tr -d '\n\t' </tmp/bench.json)" >/dev/ttyS1
			if [ -s /tmp/batch0 ]; then
				batch_snap "$dev" >/tmp/batch1
				echo "@@DATA batches $r $j $name $(awk 'NR == FNR { a[$1] = $2; next }
					{ printf "%s=%d ", $1, $2 - a[$1] }' /tmp/batch0 /tmp/batch1)" >/dev/ttyS1
			fi
		done
	done
	r=$((r + 1))
done
