# SPDX-License-Identifier: GPL-2.0
# Power off with I/O in flight (issue 15 item 4): leaves fio writing to
# ctrl1 through nvme_iova, deep queue, and returns; the guest's /init then
# powers off (run it last), and the kernel calls the driver's .shutdown
# with requests outstanding.  The harness fails the run if the guest does
# not power off in time or prints a WARN/BUG/lockdep report after @@DONE
# ("boot"), and this test if the driver's shutdown line (an orderly CC.SHN
# shutdown, with the requests it held) is missing from the console
# (@@EXPECT-POWEROFF, scripts/verdict.py).
# shellcheck source=nvme-lib.sh
. /tests/nvme-lib.sh
nvi_demo
dev=/dev/${c}n1
# busybox setsid: fio outlives this test's shell (and its timeout's kill)
setsid fio --name=off --filename="$dev" --allow_file_create=0 --rw=randwrite \
	--bs=4k-128k --iodepth=64 --direct=1 --ioengine=libaio --time_based \
	--runtime=600 --size=256m >/dev/null 2>&1 </dev/null &
sleep 2
kill -0 $! 2>/dev/null || fail "fio did not start"
# the console shows KERN_INFO from here on (run-vm.py boots with loglevel=5)
echo 7 >/proc/sys/kernel/printk
echo "@@EXPECT-POWEROFF $bdf: shut down \\(CC.SHN\\) with [0-9]+ request"
echo "fio left writing to $dev ($bdf) at depth 64 for the poweroff"
