# SPDX-License-Identifier: GPL-2.0
# dma-iova-shim: entry points.  The modules themselves are described in
# Kbuild; this Makefile drives builds against the project's target kernels
# (stock Debian kernels fetched into build/, see scripts/targets.conf) and
# the guest test matrix.
#
#   make bench                 the main job: boot test hosts, compare I/O paths
#   make bench BENCH=full      every kernel, mode and job
#   make bench BENCH_SUITES=map   the mapping microbenchmark only (or fio)
#   make bench BENCH_ICOUNT=0     its guests on the host's clock, not their instruction count
#   make check                 build everything, boot the test matrix
#   make lint                  checkpatch --strict, shellcheck, sparse per kernel
#   make check KERNELS="6.1" MODES="intel-strict"   a narrower matrix
#   make stress                the long reliability scenarios (not in check)
#   make stress SCENARIOS=unbind,reset SCALE=0.1 KERNELS=6.1 MODES=intel-strict
#   make modules KERNEL=6.1    build the modules against one target kernel
#   make kernels               fetch the target kernels (cached)
#   make initramfs KERNEL=6.1  build one guest image
#   make vm KERNEL=6.1 MODE=intel-strict TESTS=iommu-mode   one boot, verbose
#   make dkms-install          copy the DKMS source tree to /usr/src and dkms add it
#   make dkms-remove           dkms remove it (every kernel) and delete that tree
#   make deb                   the Debian DKMS package, built in a bookworm chroot
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

.PHONY: all bench check lint stress deps kernels modules initramfs vm verdict-tests clean distclean \
	dkms-tree dkms-install dkms-remove deb

# The version, in one place: module, DKMS tree, Debian package.
NAME := dma-iova-shim
VERSION := $(shell cat VERSION)
DKMS_SRC = $(DESTDIR)/usr/src/$(NAME)-$(VERSION)
# The DKMS source tree: what builds the installed modules, no tests.
DKMS_FILES := Kbuild VERSION src include scripts/dkms-post-build.sh

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

BENCH_KERNELS = $(or $(KERNELS),$(if $(filter full,$(BENCH)),5.10 6.1 6.12 7 7+shim,6.1 7))

bench:
	@scripts/install-deps.sh gnuplot-nox
	@$(PY) scripts/fetch-kernels.py $(sort $(foreach k,$(BENCH_KERNELS),$(firstword $(subst +, ,$(k))))) >/dev/null
	@for k in $(BENCH_KERNELS); do scripts/prepare-guest.sh $$k >/dev/null || exit 1; done
	@$(PY) scripts/bench.py --kernels "$(BENCH_KERNELS)"

# The static checks alone (make check runs them too): checkpatch --strict,
# shellcheck, no LINUX_VERSION_CODE outside the compat layer, the shim's
# symbol CRCs independent of its internal headers (first kernel), and sparse
# against every target kernel's headers (exit 77 from lint.sh: no sparse
# for that kernel, reported and not counted as a failure).
LINT_KERNELS = $(or $(KERNELS),$(shell awk '!/^\#/ && NF { print $$1 }' scripts/targets.conf))

lint: deps
	@$(PY) scripts/fetch-kernels.py $(LINT_KERNELS) >/dev/null
	@rc=0; for w in checkpatch shellcheck version-code; do \
		scripts/lint.sh $$w || { echo "lint: $$w failed"; rc=1; }; done; \
	scripts/lint.sh abi-crc $(firstword $(LINT_KERNELS)) || { echo "lint: abi-crc failed"; rc=1; }; \
	for k in $(LINT_KERNELS); do \
		scripts/lint.sh sparse $$k; r=$$?; \
		if [ $$r = 77 ]; then echo "lint: sparse $$k skipped"; \
		elif [ $$r != 0 ]; then echo "lint: sparse $$k failed"; rc=1; fi; done; \
	[ $$rc = 0 ] && echo "lint: clean"; exit $$rc

check: deps
	@$(PY) scripts/check.py --kernels "$(KERNELS)" --modes "$(MODES)" \
		--boots "$(BOOTS)" --jobs $(JOBS)

# The reliability scenarios in their long forms (scripts/stress.py): 6.1
# and 7 by default, fault injection also on 7+shim.
STRESS_KERNELS = $(or $(KERNELS),6.1 7)
STRESS_IMAGES = $(STRESS_KERNELS) $(if $(filter 7,$(STRESS_KERNELS)),7+shim)

stress: deps
	@$(PY) scripts/fetch-kernels.py $(sort $(foreach k,$(STRESS_KERNELS),$(firstword $(subst +, ,$(k))))) >/dev/null
	@for k in $(STRESS_IMAGES); do scripts/prepare-guest.sh $$k >/dev/null || exit 1; done
	@$(PY) scripts/stress.py --kernels "$(STRESS_KERNELS)" $(if $(MODES),--modes "$(MODES)") \
		$(if $(SCENARIOS),--scenarios "$(SCENARIOS)") $(if $(SCALE),--scale $(SCALE)) \
		--jobs $(or $(PARALLEL),1)

# The DKMS source tree alone (DESTDIR=... for packaging).
dkms-tree:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)
	tar -c --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' --exclude='.*.cmd' \
		--exclude=Module.symvers --exclude=modules.order --exclude=compat-config.h \
		--exclude=conftest.log $(DKMS_FILES) | tar -x -C $(DKMS_SRC)
	sed 's/#MODULE_VERSION#/$(VERSION)/' dkms.conf >$(DKMS_SRC)/dkms.conf

dkms-install: dkms-tree
	@command -v dkms >/dev/null || { echo "dkms missing (apt-get install dkms)"; exit 1; }
	dkms add -m $(NAME) -v $(VERSION)
	@echo "Now: dkms install -m $(NAME) -v $(VERSION) [-k KERNEL], or wait for the next kernel"

dkms-remove:
	@command -v dkms >/dev/null || { echo "dkms missing (apt-get install dkms)"; exit 1; }
	if dkms status -m $(NAME) -v $(VERSION) | grep -q .; then \
		dkms remove -m $(NAME) -v $(VERSION) --all; fi
	rm -rf $(DKMS_SRC)

deb: deps
	scripts/pkgtest.sh deb

clean:
	rm -rf $(BUILD)/obj $(BUILD)/initramfs $(BUILD)/check $(BUILD)/vm $(BUILD)/stress \
		$(BUILD)/dkms $(BUILD)/deb $(BUILD)/pkgtest

distclean:
	rm -rf $(BUILD)
