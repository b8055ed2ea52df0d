# SPDX-License-Identifier: GPL-2.0
# IOTLB invalidations per NVMe I/O on the stock driver, counted by the host
# from QEMU's trace: at least one per I/O in strict mode, far below one in
# lazy (flush-queue) mode.
c=$(nvme_wait_ctrl ctrl0) || fail "no ctrl0"
dev=/dev/${c}n1
mode=$(cmdline_arg dis.mode)
iotlb_begin stock-4k
DEV=$dev BS=4k QD=8 NIOS=2000 fio --output-format=terse --terse-version=3 \
	/tests/fio/randread.fio >/tmp/fio.out 2>&1 || { cat /tmp/fio.out; fail "fio failed"; }
iotlb_end stock-4k
case $mode in
intel-strict | intel-strict-cm | amd) iotlb_check stock-4k per_io ge 1 ;;
intel-lazy) iotlb_check stock-4k per_io lt 0.1 ;;
esac
echo "2000 reads done on $dev"
