#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Decide what a guest run's console log says about each test.

The guest's /init reports tests with @@ lines (tests/guest/lib.sh):

  @@GUEST-START <key> <release>   user space started; none of our modules yet
  @@BEGIN <test>                  a test starts
  @@EXPECT <regex>                this test will make the kernel print such a line
  @@EXPECT-POWEROFF <regex>       ... after @@DONE, while the guest powers off
  @@IOTLB-BEGIN/END <label> [n]   window for counting IOTLB invalidations;
                                  its edge is marker n of QEMU's trace, or
                                  when the line was read, without n
  @@IOTLB-OPS <label> <n>         the window did n requests (default: count
                                  the NVMe I/O commands in it)
  @@IOTLB-CHECK <label> per_io <op> <value>
  @@END <test> ok|FAIL|SKIP <secs> [reason]
  @@DONE                          all tests ran; the guest powers off next

A test passes only if it said ok AND the console has no kernel BUG, WARNING,
Oops, general protection fault, lockup, hung task, IOMMU fault, call trace,
lockdep, KASAN, UBSAN, kmemleak or DMA-API debug report (or fio verify
failure) in its span, other than lines it declared with
@@EXPECT, AND every line it expected appeared (those of @@EXPECT-POWEROFF after
@@DONE), AND its IOTLB checks hold.
Bad lines outside any test fail the pseudo-test "boot" (before the first test)
or the test just finished (kernel messages can lag the @@END line).  A guest
that did not power off in time, or stopped before @@DONE, fails "poweroff" and
every test it did not finish.  A guest that never reached user space
(@@GUEST-START, printed before any of our modules is loaded) ran nothing of
ours: an oops there is a known TCG flake of early boot, and so are a silent
hang the runner stopped at its boot deadline and a QEMU that exited with no
kernel message (a triple fault under -no-reboot).  Such a run asks to be
retried (the runner decides how often); its reason names the last console
line.

Usage as a command: verdict.py CONSOLE_LOG [--tests a,b,c] [--timed-out]
"""

import argparse
import json
import re
import sys

KTIME = re.compile(r"\[\s*\d+\.\d+\]\s?")
# Patterns on kernel lines (after the printk timestamp).
KERNEL_BAD = [
    (re.compile(r"\bBUG\b"), "kernel BUG"),
    (re.compile(r"WARNING:"), "kernel WARNING"),
    (re.compile(r"\bOops\b"), "kernel Oops"),
    (re.compile(r"general protection"), "general protection fault"),
    (re.compile(r"soft lockup|hard LOCKUP"), "lockup"),
    (re.compile(r"hung task|blocked for more than \d+ seconds"), "hung task"),
    (re.compile(r"detected stalls?\b|self-detected stall"), "RCU stall"),
    (re.compile(r"DMAR:.*[Ff]ault"), "DMAR fault"),
    (re.compile(r"AMD-Vi:.*Event"), "AMD-Vi event"),
    (re.compile(r"Call Trace"), "call trace"),
    (re.compile(r"Kernel panic"), "kernel panic"),
    # the debug kernel's checkers (most of their reports also start with
    # BUG: or WARNING:, these are the ones that do not)
    (re.compile(r"kmemleak: \d+ new suspected memory leaks?"), "kmemleak report"),
    (re.compile(r"unreferenced object 0x"), "kmemleak report"),
    (re.compile(r"UBSAN:"), "UBSAN report"),
    (re.compile(r"INFO: trying to register non-static key"), "lockdep report"),
    (re.compile(r"DMA-API: .*(device driver|debugging out of memory|overlapping mappings)"),
     "DMA-API debug report"),
    # a checker that switched itself off sees nothing more this boot
    (re.compile(r"INFO: lockdep is turned off|kmemleak: Kernel memory leak detector disabled"
                r"|Cannot allocate a kmemleak_object|ODEBUG: Out of memory"),
     "a debug checker switched off"),
]
# Patterns on any line: fio's own verify failure reports.
ANY_BAD = [
    (re.compile(r"verify: bad (magic|header)|verify failed|fio: .*verify"),
     "fio verify failure"),
]
# Which bad lines before user space count as the early-boot TCG flake.
EARLY_FLAKE = {"kernel Oops", "kernel BUG", "general protection fault",
               "kernel panic", "call trace"}


def classify(line):
    """Return a description if the line is bad, else None."""
    m = KTIME.search(line)
    if m:
        text = line[m.end():]
        for rx, what in KERNEL_BAD:
            if rx.search(text):
                return what
    for rx, what in ANY_BAD:
        if rx.search(line):
            return what
    return None


class Test:
    def __init__(self, name):
        self.name = name
        self.status = None      # ok, FAIL, SKIP; None if it never ended
        self.secs = 0.0
        self.reasons = []
        self.expects = []       # [regex, seen]
        self.note = ""          # why it skipped
        self.began = False

    def fail(self, why):
        if why not in self.reasons:
            self.reasons.append(why)

    def result(self):
        status = "FAIL" if self.reasons or not self.status else self.status
        return {"name": self.name, "status": status, "secs": self.secs,
                "reasons": self.reasons, "note": self.note}


def _count(iotlb, window, n_ops):
    r = dict(iotlb(window[0], window[1]))
    if n_ops is not None:
        r["io"] = n_ops
        r["per_io"] = r["inval"] / n_ops if n_ops else 0.0
    return r


def _op(op, a, b):
    return {"lt": a < b, "le": a <= b, "eq": a == b, "ge": a >= b,
            "gt": a > b}[op]


def analyse(lines, planned=(), timed_out=False, timeout=None, iotlb=None,
            boot_deadline=None, qemu_died=None):
    """Judge one boot.

    lines: console lines, each a str or a (host_time, str) pair.
    boot_deadline: set (seconds) when the runner stopped the guest because
           it had not reached user space by then.
    qemu_died: how QEMU ended, when a signal killed it (e.g. "QEMU died
           of SIGSEGV"), for the report.
    planned: the tests the guest was asked to run, in order.
    iotlb: a function(label_begin_time, label_end_time) -> dict with
           "inval", "io", "per_io", or None when no trace was taken.
    """
    tests = {}
    order = []
    boot = Test("boot")
    poweroff = Test("poweroff")
    cur = None          # test in progress
    last = None         # test whose expectations are active / last ended
    started = done = False
    early_flake = None
    tail = ""           # the last console line with text before user space
    windows = {}        # label -> [t_begin, t_end]
    ops = {}            # label -> requests declared by the guest
    checks = []         # (test, label, op, value)
    marks = getattr(iotlb, "marks", None)   # marker number -> trace time
    unmarked = set()    # windows with a marker missing from the trace
    at_poweroff = []    # [test, regex, seen]: lines expected after @@DONE

    def get(name):
        if name not in tests:
            tests[name] = Test(name)
            order.append(name)
        return tests[name]

    for item in lines:
        t, line = item if isinstance(item, tuple) else (None, item)
        line = line.rstrip("\r\n")
        if not started and line.strip():
            tail = line.strip()
        pos = line.find("@@")
        if pos >= 0 and not KTIME.match(line):
            words = line[pos + 2:].split()
            kw = words[0] if words else ""
            if kw == "GUEST-START":
                started = True
                continue
            if kw == "BEGIN" and len(words) > 1:
                cur = get(words[1])
                cur.began = True
                last = cur
                continue
            if kw == "EXPECT-POWEROFF" and last is not None:
                regex = line[pos + 2:].split(None, 1)[1] if len(words) > 1 else ""
                at_poweroff.append([last, re.compile(regex), False])
                continue
            if kw == "EXPECT" and last is not None:
                regex = line[pos + 2:].split(None, 1)[1] if len(words) > 1 else ""
                last.expects.append([re.compile(regex), False])
                continue
            if kw == "END" and len(words) >= 4:
                tt = get(words[1])
                tt.status = words[2]
                try:
                    tt.secs = float(words[3])
                except ValueError:
                    pass
                why = " ".join(words[4:])
                if tt.status == "SKIP":
                    tt.note = why
                elif tt.status != "ok":
                    tt.fail(why or "the test reported " + tt.status)
                cur = None
                continue
            if kw in ("IOTLB-BEGIN", "IOTLB-END") and len(words) > 1:
                w = windows.setdefault(words[1], [None, None])
                edge = t
                if len(words) > 2 and marks is not None:
                    # the guest's numbered marker, as QEMU traced it
                    edge = marks.get(int(words[2]) if words[2].isdigit() else -1)
                    if edge is None:
                        unmarked.add(words[1])
                w[0 if kw == "IOTLB-BEGIN" else 1] = edge
                continue
            if kw == "IOTLB-OPS" and len(words) >= 3:
                ops[words[1]] = int(words[2])
                continue
            if kw == "IOTLB-CHECK" and len(words) >= 5 and last is not None:
                checks.append((last, words[1], words[3], float(words[4])))
                continue
            if kw == "DONE":
                done = True
                last = None
                continue
        if done:
            for e in at_poweroff:
                if e[1].search(line):
                    e[2] = True
        what = classify(line)
        if not what:
            continue
        owner = cur or last
        if owner is not None:
            hit = [e for e in owner.expects if e[0].search(line)]
            if hit:
                for e in hit:
                    e[1] = True
                continue
        desc = f"console: {what}: {line.strip()[:160]}"
        if not started:
            boot.fail(desc)
            if what in EARLY_FLAKE and early_flake is None:
                early_flake = desc
        elif owner is not None:
            owner.fail(desc)
        else:
            boot.fail(desc)

    for name in order:
        for regex, seen in tests[name].expects:
            if not seen:
                tests[name].fail(f"expected console line /{regex.pattern}/ never appeared")
    for tt, regex, seen in at_poweroff:
        if not seen:
            tt.fail(f"expected console line /{regex.pattern}/ never appeared at poweroff")
    iotlb_report = {}
    for tt, label, op, value in checks:
        w = windows.get(label)
        if iotlb is None:
            tt.fail(f"iotlb {label}: no QEMU trace for this run")
            continue
        if label in unmarked:
            tt.fail(f"iotlb {label}: a window marker is missing from QEMU's trace")
            continue
        if not w or None in w:
            tt.fail(f"iotlb {label}: window not closed")
            continue
        r = _count(iotlb, w, ops.get(label))
        iotlb_report[label] = r
        if r["io"] == 0:
            tt.fail(f"iotlb {label}: no NVMe I/O (or declared requests) in the window")
        elif not _op(op, r["per_io"], value):
            tt.fail(f"iotlb {label}: {r['per_io']:.3f} invalidations per I/O, "
                    f"wanted {op} {value}")
    for label, w in windows.items():
        if label not in iotlb_report and iotlb is not None and None not in w:
            iotlb_report[label] = _count(iotlb, w, ops.get(label))

    if boot_deadline:
        poweroff.fail(f"stopped: no user space within {boot_deadline} s")
    elif timed_out:
        poweroff.fail(f"guest did not power off within {timeout or '?'} s")
    elif not done:
        poweroff.fail("guest stopped before reporting @@DONE"
                      + (f": {qemu_died}" if qemu_died else ""))
    for name in planned:
        tt = get(name)
        if tt.status is None:
            if tt.began:
                tt.fail("did not finish: " + (poweroff.reasons or ["?"])[0])
            else:
                tt.fail("not run: the guest stopped before it")
    if not started:
        boot.fail("the guest never reached user space"
                  + (f" within {boot_deadline} s" if boot_deadline else "")
                  + f"; last console line: {tail[:160] or '(none)'}")
        if early_flake is None:
            if boot_deadline or timed_out:
                early_flake = (f"no user space within {boot_deadline or timeout} s "
                               "(early-boot hang)")
            else:
                early_flake = ("QEMU stopped before user space with no kernel message "
                               f"(last console line: {tail[:120] or '(none)'})")

    results = [boot.result()] if boot.reasons else []
    results += [tests[n].result() for n in order]
    if poweroff.reasons:
        results.append(poweroff.result())
    return {"tests": results, "retry": early_flake is not None,
            "retry_reason": early_flake, "iotlb": iotlb_report}


def main():
    ap = argparse.ArgumentParser(description="Judge a guest console log.")
    ap.add_argument("log")
    ap.add_argument("--tests", default="")
    ap.add_argument("--timed-out", action="store_true")
    args = ap.parse_args()
    with open(args.log, errors="replace") as f:
        res = analyse(f.readlines(), [t for t in args.tests.split(",") if t],
                      timed_out=args.timed_out)
    json.dump(res, sys.stdout, indent=1)
    print()
    sys.exit(0 if all(t["status"] != "FAIL" for t in res["tests"]) else 1)


if __name__ == "__main__":
    main()
