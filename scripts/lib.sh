# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the shell scripts in scripts/ (sourced, not run).

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}

die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

# lock_get KEY FIELD: a field of build/kernels.lock for one kernel key.
lock_get() {
	python3 - "$BUILD/kernels.lock" "$1" "$2" <<'PY'
import json, sys
lock = json.load(open(sys.argv[1]))
if sys.argv[2] not in lock:
    sys.exit(f"kernel key '{sys.argv[2]}' not in {sys.argv[1]}: run scripts/fetch-kernels.py")
print(lock[sys.argv[2]][sys.argv[3]])
PY
}

# chroot_suite KEY: the Debian suite whose toolchain builds for that kernel.
chroot_suite() {
	local s
	s=$(lock_get "$1" suite) || return 1
	echo "${s%%-*}"
}
