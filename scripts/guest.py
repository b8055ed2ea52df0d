# SPDX-License-Identifier: GPL-2.0
"""One guest boot for the harness's drivers (check.py, bench.py, mapbench.py,
stress.py): build the scripts/run-vm.py command line, run it, return its
result.  And the spread statistics their reports share.

    res = guest.boot(build, "6.1", "intel-strict", ["iommu-mode", "nvme-basic"],
                     out, timeout=300, vm=["--nvme", "size=1G"])
    res.ok          the runner left a result (res.result: its result.json)
    res.why         why not, from the runner's last output line
    res.tests       the tests' verdicts ([] when the runner failed)
    res.failed      those that failed

A kernel name may carry a flavour ("7+shim", "6.1+dkms"): the guest boots
the base kernel with the flavour's own image (BUILD/initramfs/NAME.cpio) and
dis.flavour=FLAVOUR on its command line.
"""

import json
import os
import statistics
import subprocess
import sys

SCRIPTS = os.path.dirname(os.path.abspath(__file__))


class Result:
    def __init__(self, out, result, why):
        self.out = out
        self.result = result
        self.why = why

    @property
    def ok(self):
        return self.result is not None

    @property
    def tests(self):
        return self.result["tests"] if self.result else []

    @property
    def failed(self):
        return [t for t in self.tests if t["status"] == "FAIL"]


def command(build, kernel, mode, tests, out, timeout, test_timeout=None, vm=(),
            append=(), verbose=False):
    """The run-vm.py command line of one boot."""
    key, _, flavour = kernel.partition("+")
    cmd = [sys.executable, os.path.join(SCRIPTS, "run-vm.py"), "--build", build,
           "--kernel", key, "--initrd", os.path.join(build, "initramfs", kernel + ".cpio"),
           "--mode", mode, "--tests", ",".join(tests), "--out", out,
           "--timeout", str(timeout)]
    if test_timeout:
        cmd += ["--test-timeout", str(test_timeout)]
    if verbose:
        cmd.append("-v")
    cmd += list(vm)
    for a in append:
        cmd += ["--append", a]
    if flavour:
        cmd += ["--append", f"dis.flavour={flavour}"]
    return cmd


def boot(build, kernel, mode, tests, out, timeout, on_line=None, **kw):
    """Boot one guest and wait for it.  on_line(line), if given, sees the
    console as it comes (the runner's -v output)."""
    cmd = command(build, kernel, mode, tests, out, timeout,
                  verbose=on_line is not None, **kw)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace")
    last = ""
    for line in proc.stdout:
        if line.strip():
            last = line.strip()
        if on_line:
            on_line(line)
    proc.wait()
    try:
        with open(os.path.join(out, "result.json")) as f:
            return Result(out, json.load(f), "")
    except (OSError, ValueError):
        return Result(out, None, "runner failed: " + (last or "?"))


def span(vals):
    """(median, min, max) of the values that are not None, or None."""
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    return (statistics.median(vals), min(vals), max(vals))


def fmt(s, digits=0):
    """A span as "median [min-max]", or "-"."""
    if s is None:
        return "-"
    med, lo, hi = s
    return f"{med:.{digits}f} [{lo:.{digits}f}-{hi:.{digits}f}]"
