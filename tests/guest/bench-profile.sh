# SPDX-License-Identifier: GPL-2.0
# Where the guest's CPU time goes on each I/O path (not a pass/fail test):
# for every path, one fio job under `perf record -a -g -e cpu-clock`, then
# the symbols with the most samples (self time), the same with their
# callers folded in (children), and the fio result.  Needs perf in the
# image (scripts/mkinitramfs.py --tool /usr/bin/perf).
#
# dis.bench_paths=name:serial[:map_mode[+variant]],...  as bench-fio.sh
# dis.profile_job=randread-4k-qd32   (bench-fio.sh's aio jobs on malloc'd buffers)
# dis.bench_runtime=SECONDS          (default 5)
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
# shellcheck source=bench-lib.sh
. /tests/bench-lib.sh
command -v perf >/dev/null || skip "no perf in the image (mkinitramfs --tool /usr/bin/perf)"
paths=$(cmdline_arg dis.bench_paths | tr ',' ' ')
job=$(cmdline_arg dis.profile_job || echo randread-4k-qd32)
runtime=$(cmdline_arg dis.bench_runtime || echo 5)
[ -n "$paths" ] || fail "dis.bench_paths is required"
params=$(bench_job_params "$job") || fail "unknown job $job"
# shellcheck disable=SC2086 # split the six words
set -- $params
if [ "$6" != aio ] || [ "$4" != malloc ]; then
	fail "$job: only the aio jobs on malloc'd buffers are profiled"
fi
rw=$1 bs=$2 qd=$3 mem=$4 nj=$5
echo 0 >/proc/sys/kernel/kptr_restrict
echo -1 >/proc/sys/kernel/perf_event_paranoid

for p in $paths; do
	name=${p%%:*}
	dev=$(bench_path_dev "$p") || fail "cannot set up path $name"
	perf record -q -a -g -e cpu-clock -o "/tmp/perf-$name.data" -- \
		fio --name=prof --filename="$dev" --ioengine=libaio --direct=1 \
		--rw="$rw" --bs="$bs" --iodepth="$qd" --iomem="$mem" \
		--numjobs="$nj" --group_reporting=1 --time_based=1 \
		--runtime="$runtime" --size=512m --norandommap=1 --randrepeat=0 \
		--output-format=terse --terse-version=3 >"/tmp/fio-$name.out" 2>&1 ||
		{ cat "/tmp/fio-$name.out"; fail "fio on $name failed"; }
	iops=$(grep '^3;' "/tmp/fio-$name.out" | cut -d';' -f8)
	echo "@@PROFILE $name $job $dev: read IOPS $iops"
	perf report -i "/tmp/perf-$name.data" --no-children --sort sym -g none \
		--stdio 2>/dev/null | grep -v "^#" | grep "%" | head -n 40 |
		sed "s/^/@@PROFILE $name self /"
	perf report -i "/tmp/perf-$name.data" --children --sort sym \
		--stdio -g none 2>/dev/null | grep -v '^#' | grep '%' | head -n 60 |
		sed "s/^/@@PROFILE $name children /"
	rm -f "/tmp/perf-$name.data"
done
