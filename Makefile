# SPDX-License-Identifier: GPL-2.0
# dma-iova-shim: entry points.  The modules themselves are described in
# Kbuild; this Makefile drives builds against the project's target kernels
# (stock Debian kernels fetched into build/, see scripts/targets.conf) and
# the guest test matrix.
#
#   make bench                 the main job: boot test hosts, compare I/O paths
#   make bench BENCH=full      every kernel, mode and job
#   make bench BENCH_SUITES=map   the mapping microbenchmark only (or fio)
#   make check                 build everything, boot the test matrix
#   make check KERNELS="6.1" MODES="intel-strict"   a narrower matrix
#   make modules KERNEL=6.1    build the modules against one target kernel
#   make kernels               fetch the target kernels (cached)
#   make initramfs KERNEL=6.1  build one guest image
#   make vm KERNEL=6.1 MODE=intel-strict TESTS=iommu-mode   one boot, verbose
#   make clean                 remove build products (keeps the download cache)

KERNELS ?=
MODES ?=
BOOTS ?=
JOBS ?= 2
KERNEL ?= 6.1
MODE ?= intel-strict
TESTS ?= iommu-mode
BUILD ?= $(CURDIR)/build
export BUILD

PY := python3

.PHONY: all bench check deps kernels modules initramfs vm verdict-tests clean distclean

all: modules

deps:
	@scripts/install-deps.sh

kernels: deps
	@$(PY) scripts/fetch-kernels.py $(KERNELS)

modules: deps
	@$(PY) scripts/fetch-kernels.py $(KERNEL) >/dev/null
	scripts/kbuild.sh $(KERNEL)

initramfs: modules
	$(PY) scripts/mkinitramfs.py $(KERNEL)

vm: initramfs
	$(PY) scripts/run-vm.py --kernel $(KERNEL) --mode $(MODE) --tests $(TESTS) \
		--nvme size=1G --nvme size=1G --edu --out $(BUILD)/vm -v

verdict-tests:
	$(PY) tests/verdict/test_verdict.py

BENCH_KERNELS = $(or $(KERNELS),$(if $(filter full,$(BENCH)),5.10 6.1 6.12 7 7+shim,6.1 7 7+shim))

bench:
	@scripts/install-deps.sh gnuplot-nox
	@$(PY) scripts/fetch-kernels.py $(sort $(foreach k,$(BENCH_KERNELS),$(firstword $(subst +, ,$(k))))) >/dev/null
	@for k in $(BENCH_KERNELS); do scripts/prepare-guest.sh $$k >/dev/null || exit 1; done
	@$(PY) scripts/bench.py --kernels "$(BENCH_KERNELS)"

check: deps
	@$(PY) scripts/check.py --kernels "$(KERNELS)" --modes "$(MODES)" \
		--boots "$(BOOTS)" --jobs $(JOBS)

clean:
	rm -rf $(BUILD)/obj $(BUILD)/initramfs $(BUILD)/check $(BUILD)/vm

distclean:
	rm -rf $(BUILD)
