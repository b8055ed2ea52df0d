# SPDX-License-Identifier: GPL-2.0
# Helpers of the benchmark guest scripts (bench-fio.sh, bench-profile.sh),
# sourced after /tests/nvme-lib.sh: the job table and setting up a path.

# bench_job_params JOB: RW BS QD MEM NUMJOBS ENGINE of a job name (randrw
# jobs read 70%; ENGINE poll: io_uring with IOPOLL, on the poll queue the
# guest's drivers were given: nvme.poll_queues=1 nvme_iova.poll_queues=1
# on the command line)
bench_job_params() {
	case $1 in
	randread-4k-qd1) echo randread 4k 1 malloc 1 aio ;;
	randread-4k-qd32) echo randread 4k 32 malloc 1 aio ;;
	randwrite-4k-qd32) echo randwrite 4k 32 malloc 1 aio ;;
	randread-128k-qd16-malloc) echo randread 128k 16 malloc 1 aio ;;
	randread-128k-qd16-huge) echo randread 128k 16 mmaphuge 1 aio ;;
	read-1m-qd4) echo read 1m 4 malloc 1 aio ;;
	write-1m-qd4) echo write 1m 4 malloc 1 aio ;;
	randrw-70-30-4k-qd16-2jobs) echo randrw 4k 16 malloc 2 aio ;;
	randread-4k-qd1-poll) echo randread 4k 1 malloc 1 poll ;;
	randread-4k-qd32-poll) echo randread 4k 32 malloc 1 poll ;;
	randread-128k-qd16-poll) echo randread 128k 16 malloc 1 poll ;;
	*) return 1 ;;
	esac
}

# bench_path_dev NAME:SERIAL[:MODE[+2step|+nobatch]]: the block device of
# a path, binding the controller and setting the variant's parameters first
bench_path_dev() {
	_s=${1#*:}
	_m=
	case $_s in *:*) _m=${_s#*:} _s=${_s%%:*} ;; esac
	if [ -z "$_m" ]; then
		_c=$(nvme_wait_ctrl "$_s") || return 1
	else
		_b=$(nvi_bdf "$_s") || return 1
		# each demo path has a controller of its own, bound once with
		# its map mode (a probe costs seconds of a TCG guest's time)
		_c=$(nvi_bind_mode "${_m%%+*}" "$_b") || return 1
		_one=Y
		_batch=Y
		case $_m in
		*+2step) _one=N ;;
		*+nobatch) _batch=N ;;
		esac
		echo "$_one" >/sys/module/nvme_iova/parameters/single_segment || return 1
		echo "$_batch" >/sys/module/nvme_iova/parameters/batch_unmap || return 1
	fi
	echo "/dev/${_c}n1"
}
