# SPDX-License-Identifier: GPL-2.0
# Helpers for the reliability scenarios (tests/guest/rel-*.sh, sourced
# after /tests/nvme-lib.sh).  Each scenario counts what it did and what went
# wrong, and ends with rel_report, which prints one result line on the data
# port for the host (scripts/stress.py):
#
#   @@DATA rel <test> cycles=N calls=N failures=N mismatches=N leaks=N note=...
#
# and the same on the console, then fails the test if anything went wrong.
#   cycles      scenario cycles done (unbind/rebind, resets, loads, ...)
#   calls       operations counted inside them (fio runs, commands, ...)
#   failures    things that did not work: an I/O error where none is
#               allowed, a command that hung, a controller that did not
#               come back, a refusal that did not happen
#   mismatches  data read back differently than it was written
#   leaks       IOVA ranges left mapped (shim counters, "leaked IOVA
#               range" reports), slab growth over the threshold

REL_FAILURES=0
REL_MISMATCHES=0
REL_LEAKS=0
REL_CALLS=0
REL_NOTE=""

# rel_cycles NAME DEFAULT: the cycle count for scenario NAME, from the
# kernel command line: rel.NAME_cycles=N, else rel.cycles=N, else DEFAULT.
rel_cycles() {
	cmdline_arg "rel.$1_cycles" || cmdline_arg rel.cycles || echo "$2"
}

# rel_fail MSG / rel_mismatch MSG / rel_leak MSG: count one and say why.
rel_fail() {
	REL_FAILURES=$((REL_FAILURES + 1))
	echo "rel: failure: $*"
}

rel_mismatch() {
	REL_MISMATCHES=$((REL_MISMATCHES + 1))
	echo "rel: data mismatch: $*"
}

rel_leak() {
	REL_LEAKS=$((REL_LEAKS + 1))
	echo "rel: leak: $*"
}

# rel_note TEXT: a word for the table (no spaces).
rel_note() {
	REL_NOTE=${REL_NOTE:+$REL_NOTE,}$1
}

# rel_report TEST CYCLES: the result line; fails the test on any count.
rel_report() {
	_line="cycles=$2 calls=$REL_CALLS failures=$REL_FAILURES"
	_line="$_line mismatches=$REL_MISMATCHES leaks=$REL_LEAKS note=${REL_NOTE:--}"
	echo "@@DATA rel $1 $_line" >/dev/ttyS1
	echo "rel-result $1 $_line"
	[ $((REL_FAILURES + REL_MISMATCHES + REL_LEAKS)) -eq 0 ] ||
		fail "$REL_FAILURES failure(s), $REL_MISMATCHES mismatch(es), $REL_LEAKS leak(s) in $2 cycle(s)"
}

# rel_wait PID SECONDS: wait for PID; 0 if it ended (its status in
# REL_STATUS), 1 if it is still alive after SECONDS.
rel_wait() {
	_n=$(($2 * 10))
	while kill -0 "$1" 2>/dev/null; do
		_n=$((_n - 1))
		[ $_n -gt 0 ] || return 1
		sleep 0.1
	done
	wait "$1"
	REL_STATUS=$?
	return 0
}

# rel_leak_reports: "leaked IOVA range" lines the shim printed so far
rel_leak_reports() {
	dmesg | grep -c 'leaked IOVA range'
}

# rel_idle BDF: the shim holds no range for BDF (counts a leak otherwise)
rel_idle() {
	nvi_shim_idle "$1" >/tmp/rel-idle.out && return 0
	rel_leak "$(tr '\n' ' ' </tmp/rel-idle.out | cut -c1-200)"
	return 1
}

# rel_verify_errors FILE: fio's output in FILE reports verify failures
rel_verify_errors() {
	grep -q -E 'verify: bad|verify failed|fio: .*verify' "$1"
}

# rel_verify_loop TAG DEV SIZE QD [JOBS]: in the background, run fio
# write+verify passes on DEV until /tmp/rel-stop exists: JOBS jobs
# (default 2), each on its own SIZE of the disk, block sizes 512 B..256 KiB,
# crc32c.  Counts go to /tmp/rel-TAG.runs, .errors (passes that failed) and
# .mismatches (passes whose failure was a verify failure).  The caller
# stops it with rel_stop_loops $!, then calls rel_verify_collect TAG.
rel_verify_loop() {
	: >"/tmp/rel-$1.runs"
	: >"/tmp/rel-$1.errors"
	: >"/tmp/rel-$1.mismatches"
	(
		while [ ! -e /tmp/rel-stop ]; do
			fio --name="rel-$1" --filename="$2" --size="$3" --offset_increment="$3" \
				--numjobs="${5:-2}" --iodepth="$4" --rw=randwrite \
				--bsrange=512-256k --direct=1 --ioengine=libaio \
				--verify=crc32c --verify_fatal=1 --verify_backlog=0 \
				--do_verify=1 --randrepeat=0 --group_reporting=1 \
				--allow_file_create=0 --output-format=terse --terse-version=3 \
				>"/tmp/rel-$1.out" 2>&1
			_rc=$?
			echo x >>"/tmp/rel-$1.runs"
			_err=$(grep '^3;' "/tmp/rel-$1.out" | cut -d';' -f5 | head -n1)
			if [ $_rc -ne 0 ] || [ "$_err" != 0 ]; then
				echo x >>"/tmp/rel-$1.errors"
				rel_verify_errors "/tmp/rel-$1.out" &&
					echo x >>"/tmp/rel-$1.mismatches"
				cp "/tmp/rel-$1.out" "/tmp/rel-$1.failed"
			fi
		done
	) &
}

# rel_verify_collect TAG: add a rel_verify_loop's counts; print a failed
# pass's output (the verdict sees fio's verify lines in it too)
rel_verify_collect() {
	_runs=$(wc -l <"/tmp/rel-$1.runs")
	_errs=$(wc -l <"/tmp/rel-$1.errors")
	_mism=$(wc -l <"/tmp/rel-$1.mismatches")
	REL_CALLS=$((REL_CALLS + _runs))
	echo "rel: $1: $_runs fio verify pass(es), $_errs failed, $_mism with verify errors"
	[ "$_runs" -gt 0 ] || rel_fail "$1: no fio pass completed"
	if [ "$_errs" -gt 0 ]; then
		tail -n 20 "/tmp/rel-$1.failed"
		REL_FAILURES=$((REL_FAILURES + _errs - _mism))
		REL_MISMATCHES=$((REL_MISMATCHES + _mism))
	fi
}

# rel_stop_loops PID...: stop rel_verify_loop jobs, each must end in 120 s
rel_stop_loops() {
	touch /tmp/rel-stop
	for _p in "$@"; do
		rel_wait "$_p" 120 || rel_fail "a fio verify loop hangs (pid $_p)"
	done
	rm -f /tmp/rel-stop
}

# rel_demo_pair: put ctrl0 and ctrl1 on nvme_iova (first map mode of
# nvi.modes); sets REL_A, REL_B (PCI addresses) and REL_CA, REL_CB
# (controllers).  Controllers already there stay (nvi_use_mode would
# reload the module, renaming the other one).
rel_demo_pair() {
	# a scenario killed by its time limit may have left injection on
	for _p in fail_alloc_every fail_link_every; do
		[ -w "/sys/module/dma_iova_shim/parameters/$_p" ] &&
			echo 0 >"/sys/module/dma_iova_shim/parameters/$_p"
	done
	_mm=$(nvi_modes | awk '{ print $1 }')
	REL_A=$(nvi_bdf ctrl0) || fail "no controller with serial ctrl0"
	REL_B=$(nvi_bdf ctrl1) || fail "no controller with serial ctrl1"
	for _b in "$REL_A" "$REL_B"; do
		if [ "$(basename "$(readlink "/sys/bus/pci/devices/$_b/driver")")" = nvme_iova ] &&
			[ "$(cat /sys/module/nvme_iova/parameters/map_mode)" = "$_mm" ]; then
			continue
		fi
		nvi_use_mode "$_mm" "$_b" >/dev/null || fail "cannot move $_b to nvme_iova"
	done
	REL_CA=$(nvi_ctrl "$REL_A") || fail "$REL_A is not on nvme_iova"
	REL_CB=$(nvi_ctrl "$REL_B") || fail "$REL_B is not on nvme_iova"
}

# rel_put_ref DEV KIB SEEK_KIB: write KIB KiB of fresh random data at
# SEEK_KIB with O_DIRECT and fsync (acknowledged by the device when dd
# returns); the data's checksum in REL_REF_SUM.
rel_put_ref() {
	head -c $(($2 * 1024)) /dev/urandom >/tmp/rel-ref
	REL_REF_SUM=$(md5sum </tmp/rel-ref | cut -d' ' -f1)
	dd if=/tmp/rel-ref of="$1" bs=4k seek=$(($3 / 4)) oflag=direct conv=fsync \
		2>/dev/null
}

# rel_check_ref DEV KIB SEEK_KIB: the data rel_put_ref wrote reads back:
# 0 intact, 1 different, 2 the read failed
rel_check_ref() {
	dd if="$1" of=/tmp/rel-back bs=4k skip=$(($3 / 4)) count=$(($2 / 4)) \
		iflag=direct 2>/dev/null || return 2
	[ "$(md5sum </tmp/rel-back | cut -d' ' -f1)" = "$REL_REF_SUM" ]
}
