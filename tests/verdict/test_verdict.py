#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fast tests of the console verdict (scripts/verdict.py) and the IOTLB
counter (scripts/iotlb.py) on canned guest console logs: no QEMU needed."""

import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import iotlb  # noqa: E402
import verdict  # noqa: E402


def load(name):
    with open(os.path.join(HERE, "logs", name)) as f:
        return f.readlines()


def status(res):
    return {t["name"]: t["status"] for t in res["tests"]}


def reasons(res, name):
    return " | ".join(next(t["reasons"] for t in res["tests"] if t["name"] == name))


class Verdict(unittest.TestCase):
    def test_clean_run_passes(self):
        res = verdict.analyse(load("clean.log"), ["iommu-mode", "stock-fio-verify"])
        self.assertEqual(status(res), {"iommu-mode": "ok", "stock-fio-verify": "ok"})
        self.assertFalse(res["retry"])

    def test_expect_at_poweroff(self):
        lines = load("expect-poweroff.log")
        res = verdict.analyse(lines, ["nvme-shutdown"])
        self.assertEqual(status(res), {"nvme-shutdown": "ok"})
        # the line must come after @@DONE, and come at all
        res = verdict.analyse([ln for ln in lines if "CC.SHN) with 1" not in ln],
                              ["nvme-shutdown"])
        self.assertEqual(status(res)["nvme-shutdown"], "FAIL")
        self.assertIn("never appeared at poweroff", reasons(res, "nvme-shutdown"))

    def test_warn_fails_test_that_said_ok(self):
        res = verdict.analyse(load("warn.log"), ["iommu-mode", "stock-fio-verify"])
        self.assertEqual(status(res)["stock-fio-verify"], "FAIL")
        self.assertIn("kernel WARNING", reasons(res, "stock-fio-verify"))
        self.assertEqual(status(res)["iommu-mode"], "ok")
        self.assertFalse(res["retry"])

    def test_rt_sleeping_lock_in_atomic_fails(self):
        # Debian's 6.1 PREEMPT_RT kernel, the shim before its RT fix: the
        # self-test declares Call Trace (its WARN cases) but not a BUG
        res = verdict.analyse(load("rt-sleep-in-atomic.log"))
        self.assertEqual(status(res)["shim-selftest"], "FAIL")
        self.assertIn("scheduling while atomic", reasons(res, "shim-selftest"))

    def test_debug_kernel_checkers_fail(self):
        res = verdict.analyse(load("debug-checkers.log"))
        st = status(res)
        self.assertEqual(st["iommu-mode"], "ok")
        self.assertEqual(st["boot"] if "boot" in st else "ok", "ok")
        for name, why in (("lockdep-wait-context", "kernel BUG"),
                          ("nonstatic-key", "lockdep report"),
                          ("kmemleak", "kmemleak report"),
                          ("ubsan", "UBSAN report"),
                          ("dma-debug", "DMA-API debug report")):
            self.assertEqual(st[name], "FAIL", name)
            self.assertIn(why, reasons(res, name))

    def test_dmar_fault_fails(self):
        res = verdict.analyse(load("dmar-fault.log"))
        self.assertEqual(status(res)["selftest-edu"], "FAIL")
        self.assertIn("DMAR fault", reasons(res, "selftest-edu"))

    def test_declared_dmar_fault_passes_even_if_late(self):
        res = verdict.analyse(load("dmar-fault-expected.log"))
        self.assertEqual(status(res)["selftest-edu"], "ok")

    def test_declared_fault_that_never_came_fails(self):
        res = verdict.analyse(load("dmar-fault-missing.log"))
        self.assertEqual(status(res)["selftest-edu"], "FAIL")
        self.assertIn("never appeared", reasons(res, "selftest-edu"))

    def test_fio_verify_mismatch_fails(self):
        res = verdict.analyse(load("fio-verify-mismatch.log"))
        self.assertEqual(status(res)["stock-fio-verify"], "FAIL")
        self.assertIn("fio verify failure", reasons(res, "stock-fio-verify"))

    def test_fio_verify_line_fails_even_if_test_said_ok(self):
        lines = [ln.replace("@@END stock-fio-verify FAIL 3.1", "@@END stock-fio-verify ok 3.1")
                 for ln in load("fio-verify-mismatch.log")]
        res = verdict.analyse(lines)
        self.assertEqual(status(res)["stock-fio-verify"], "FAIL")

    def test_guest_that_never_powered_off(self):
        res = verdict.analyse(load("no-poweroff.log"),
                              ["iommu-mode", "stock-rebind", "stock-iotlb"],
                              timed_out=True, timeout=60)
        st = status(res)
        self.assertEqual(st["iommu-mode"], "ok")
        self.assertEqual(st["stock-rebind"], "FAIL")
        self.assertEqual(st["stock-iotlb"], "FAIL")
        self.assertEqual(st["poweroff"], "FAIL")
        self.assertIn("within 60 s", reasons(res, "poweroff"))
        self.assertIn("hung task", reasons(res, "stock-rebind"))
        self.assertIn("not run", reasons(res, "stock-iotlb"))
        self.assertFalse(res["retry"])

    def test_early_boot_oops_is_retried(self):
        res = verdict.analyse(load("early-oops.log"), ["iommu-mode"])
        self.assertTrue(res["retry"])
        self.assertIn("Oops", res["retry_reason"])
        self.assertEqual(status(res)["boot"], "FAIL")
        self.assertEqual(status(res)["iommu-mode"], "FAIL")

    def test_early_boot_hang_is_retried(self):
        # the runner stopped a guest that had not reached user space by
        # its boot deadline: retried like an early oops, and said so
        res = verdict.analyse(load("early-hang.log"), ["iommu-mode"], timed_out=True,
                              timeout=420, boot_deadline=120)
        self.assertTrue(res["retry"])
        self.assertIn("no user space within 120 s", res["retry_reason"])
        self.assertEqual(status(res)["boot"], "FAIL")
        self.assertEqual(status(res)["iommu-mode"], "FAIL")
        self.assertIn("no user space within 120 s", reasons(res, "poweroff"))

    def test_hang_at_the_overall_timeout_before_user_space_is_retried(self):
        # no boot deadline (it was longer than the run's limit): the same
        # pre-user-space hang, still nothing of ours ran
        res = verdict.analyse(load("early-hang.log"), ["iommu-mode"], timed_out=True,
                              timeout=60)
        self.assertTrue(res["retry"])
        self.assertIn("no user space within 60 s", res["retry_reason"])
        self.assertIn("never reached user space", reasons(res, "boot"))
        self.assertIn("within 60 s", reasons(res, "poweroff"))

    def test_qemu_exit_before_user_space_is_retried(self):
        # a triple fault under -no-reboot: QEMU exits, the kernel says nothing
        res = verdict.analyse(load("early-exit.log"), ["iommu-mode"])
        self.assertTrue(res["retry"])
        self.assertIn("QEMU stopped before user space", res["retry_reason"])
        self.assertIn("Freeing unused kernel image", res["retry_reason"])
        self.assertIn("last console line: [    2.9", reasons(res, "boot"))
        self.assertEqual(status(res)["iommu-mode"], "FAIL")
        self.assertIn("before reporting @@DONE", reasons(res, "poweroff"))

    def test_exit_after_user_space_is_not_retried(self):
        res = verdict.analyse(load("no-poweroff.log"), ["iommu-mode", "stock-iotlb"])
        self.assertFalse(res["retry"])

    def test_qemu_crash_is_named(self):
        res = verdict.analyse(load("no-poweroff.log"), ["iommu-mode", "stock-iotlb"],
                              qemu_died="QEMU died of SIGSEGV")
        self.assertFalse(res["retry"])
        self.assertIn("@@DONE: QEMU died of SIGSEGV", reasons(res, "poweroff"))

    def test_late_oops_is_not_retried(self):
        res = verdict.analyse(load("late-oops.log"), ["iommu-mode", "stock-fio-verify"])
        self.assertFalse(res["retry"])
        self.assertEqual(status(res)["stock-fio-verify"], "FAIL")
        self.assertIn("kernel BUG", reasons(res, "stock-fio-verify"))
        self.assertEqual(status(res)["poweroff"], "FAIL")

    def test_warn_between_tests_blames_the_previous_test(self):
        res = verdict.analyse(load("between-tests.log"))
        st = status(res)
        self.assertEqual(st["stock-rebind"], "FAIL")
        self.assertEqual(st["stock-iotlb"], "ok")

    def test_skip_is_not_a_failure(self):
        res = verdict.analyse(load("skip.log"))
        self.assertEqual(status(res)["shim-fallback"], "SKIP")

    def test_user_space_text_is_not_a_kernel_warning(self):
        lines = load("clean.log")
        lines.insert(6, "this test prints WARNING: and Oops and BUG in user space\n")
        self.assertEqual(status(verdict.analyse(lines))["iommu-mode"], "ok")


def emit(f, t0, n_io, n_inval):
    """Trace lines of a window from t0: n_io NVMe I/O commands and n_inval
    IOTLB invalidations, each with the queue wait that is not counted."""
    for i in range(n_io):
        f.write(f"1@{t0 + 0.001 * (i + 1):.6f}:pci_nvme_io_cmd cid 0\n")
    for i in range(n_inval):
        f.write(f"1@{t0 + 0.0005 * (i + 1):.6f}:vtd_inv_desc_iotlb_pages x\n")
        f.write(f"1@{t0 + 0.0005 * (i + 1):.6f}:vtd_inv_desc_wait_sw x\n")


class Iotlb(unittest.TestCase):
    def run_windows(self, inval_strict, inval_lazy):
        lines = load("iotlb.log")
        timed = [(1000.0 + i, ln) for i, ln in enumerate(lines)]
        t = {ln.split()[-1] + ln.split()[0][2:]: tm for tm, ln in timed
             if ln.startswith("@@IOTLB-")}
        with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
            emit(f, t["strictIOTLB-BEGIN"], 100, inval_strict)
            emit(f, t["lazyIOTLB-BEGIN"], 100, inval_lazy)
            emit(f, 10.0, 50, 50)       # boot time: outside every window
            path = f.name
        try:
            return verdict.analyse(timed, iotlb=iotlb.counter(path))
        finally:
            os.unlink(path)

    def test_checks_hold(self):
        res = self.run_windows(100, 1)
        self.assertEqual(status(res)["stock-iotlb"], "ok")
        self.assertEqual(res["iotlb"]["strict"], {"inval": 100, "io": 100, "per_io": 1.0})
        self.assertEqual(res["iotlb"]["lazy"]["inval"], 1)

    def test_checks_fail(self):
        res = self.run_windows(50, 30)
        self.assertEqual(status(res)["stock-iotlb"], "FAIL")
        why = reasons(res, "stock-iotlb")
        self.assertIn("iotlb strict: 0.500", why)
        self.assertIn("iotlb lazy: 0.300", why)

    def test_declared_request_count_replaces_nvme_io(self):
        lines = [ln for ln in load("iotlb.log")]
        i = lines.index("@@IOTLB-CHECK strict per_io ge 1\n")
        lines.insert(i, "@@IOTLB-OPS strict 50\n")
        timed = [(1000.0 + k, ln) for k, ln in enumerate(lines)]
        t0 = next(tm for tm, ln in timed if ln.startswith("@@IOTLB-BEGIN strict"))
        with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
            for k in range(100):
                f.write(f"1@{t0 + 0.001 * (k + 1):.6f}:vtd_inv_desc_iotlb_pages x\n")
            path = f.name
        try:
            res = verdict.analyse(timed, iotlb=iotlb.counter(path))
        finally:
            os.unlink(path)
        self.assertEqual(res["iotlb"]["strict"]["per_io"], 2.0)

    def run_marked(self, drop=None):
        """Windows numbered 1-4 whose console lines were read 50 s late:
        the edges come from QEMU's marker events, not from the host."""
        lines, n = [], 0
        for ln in load("iotlb.log"):
            if ln.startswith(("@@IOTLB-BEGIN", "@@IOTLB-END")):
                n += 1
                ln = f"{ln.rstrip()} {n}\n"
            lines.append(ln)
        timed = [(1050.0 + k, ln) for k, ln in enumerate(lines)]
        with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
            f.write("1@5.000000:pci_cfg_write mch 00:00.0 @0x4 <- 0x3\n")
            for k, (t0, n_inval) in enumerate(((1000.0, 100), (1010.0, 1))):
                for m, tm in ((2 * k + 1, t0), (2 * k + 2, t0 + 1)):
                    if m != drop:
                        f.write(f"1@{tm:.6f}:pci_cfg_write mch 00:00.0 @0x3c <- {m:#x}\n")
                emit(f, t0, 100, n_inval)
            path = f.name
        try:
            return verdict.analyse(timed, iotlb=iotlb.counter(path))
        finally:
            os.unlink(path)

    def test_marked_windows_ignore_the_host_clock(self):
        res = self.run_marked()
        self.assertEqual(status(res)["stock-iotlb"], "ok")
        self.assertEqual(res["iotlb"]["strict"], {"inval": 100, "io": 100, "per_io": 1.0})
        self.assertEqual(res["iotlb"]["lazy"]["inval"], 1)

    def test_missing_marker_fails_its_window(self):
        res = self.run_marked(drop=3)
        self.assertEqual(status(res)["stock-iotlb"], "FAIL")
        self.assertIn("iotlb lazy: a window marker is missing", reasons(res, "stock-iotlb"))
        self.assertIn("strict", res["iotlb"])

    def test_no_trace_fails_a_check(self):
        res = verdict.analyse(load("iotlb.log"))
        self.assertEqual(status(res)["stock-iotlb"], "FAIL")


if __name__ == "__main__":
    unittest.main()
