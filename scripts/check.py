#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""`make check`: build for every target kernel, boot the guest matrix, judge.

Steps: the host-side tests (verdict logic on canned logs), fetch the kernels
(cached), then per kernel: build the modules with W=1, build tests/consumer
against them (W=1), build the guest image, and queue that kernel's boots of
tests/matrix.ini (every kernel x IOMMU mode a boot applies to; JOBS guests
at once, the longest first) so that they run while the next kernel builds;
then sparse on it.  Beside them, a packaging lane: DKMS add/build/install/
remove in a debootstrap chroot of the kernel's suite for the "+dkms"
flavours (its modules make that flavour's guest image, booted there), then
the Debian package built, linted, installed and removed in a bookworm
chroot.  The host lints (checkpatch, shellcheck) run after the builds.  Prints
one line per test (ok/FAIL/SKIP, kernel, mode, test, seconds) as results come
in and, last, "N passed, N failed" (", N skipped" if any).  Exit status 1 on
any failure.  Logs of every run stay under build/check/<time>/; the runs that
failed are listed at the end.

Usage: check.py [--kernels "6.1 7"] [--modes "intel-strict"] [--boots stock]
                [--jobs N]
"""

import argparse
import configparser
import heapq
import json
import os
import subprocess
import sys
import threading
import time
import traceback
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402
import mapbench  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(TOP, "scripts")
MODES = ["intel-strict-cm", "intel-strict", "intel-lazy", "amd", "pt", "none"]
# Build flavours: a name usable in tests/matrix.ini -> (kernel key, make
# arguments).  "7+shim" is the 7.x kernel with the shim forced in place of
# the native API.
FLAVOURS = {"7+shim": ("7", ["DMA_IOVA_SHIM_FORCE=1"])}
# Flavours whose installed modules come from a DKMS build in a chroot of the
# kernel's suite (scripts/pkgtest.sh dkms KEY), with the consumer built
# there against the Module.symvers DKMS published; test-only modules still
# come from the kernel's plain build.
DKMS_FLAVOURS = {"6.1+dkms": ("6.1", "bookworm"), "7+dkms": ("7", "trixie")}
# The kernel the Debian package is installed with (its suite's chroot
# builds the package).
DEB_KERNEL = "6.1"


def flavour_key(name):
    """The kernel key a build flavour boots."""
    if name in DKMS_FLAVOURS:
        return DKMS_FLAVOURS[name][0]
    return FLAVOURS.get(name, (name,))[0]


class Tally:
    def __init__(self):
        self.counts = {"ok": 0, "FAIL": 0, "SKIP": 0}
        self.failed_runs = []
        self.lock = threading.Lock()

    def line(self, status, kernel, mode, name, secs, extra=""):
        with self.lock:
            self.counts[status] += 1
            print(f"{status:4} {kernel:7} {mode:15} {name:28} {secs:6.1f}s"
                  + (f"  {extra}" if extra else ""), flush=True)


def read_targets():
    """Every kernel key, those matrix.ini's "all" stands for (the generic
    kernels: no flavour column in targets.conf), and those built here from
    Debian's source (flavour "debug")."""
    keys, generic, built_here = [], [], []
    with open(os.path.join(SCRIPTS, "targets.conf")) as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if words:
                keys.append(words[0])
                if len(words) < 5 or words[4] == "amd64":
                    generic.append(words[0])
                elif words[4] == "debug":
                    built_here.append(words[0])
    return keys, generic, built_here


def host_tests(tally):
    """The verdict tests: fast, no QEMU."""
    suite = unittest.defaultTestLoader.discover(os.path.join(TOP, "tests", "verdict"),
                                                pattern="test_*.py")

    class Result(unittest.TestResult):
        def addSuccess(self, test):
            tally.line("ok", "host", "-", "verdict:" + test._testMethodName, 0.0)

        def addFailure(self, test, err):
            tally.line("FAIL", "host", "-", "verdict:" + test._testMethodName, 0.0,
                       self._exc_info_to_string(err, test).splitlines()[-1])

        addError = addFailure

    suite.run(Result())


LINTS = ["checkpatch", "shellcheck", "version-code"]


def lint(tally, outdir, what, key="host"):
    t0 = time.time()
    log = os.path.join(outdir, f"lint-{what}-{key}.log")
    args = [os.path.join(SCRIPTS, "lint.sh"), what] + ([] if key == "host" else [key])
    with open(log, "w") as f:
        rc = subprocess.run(args, stdout=f, stderr=subprocess.STDOUT).returncode
    with open(log) as f:
        lines = [ln.strip() for ln in f if ln.strip()]
    first = lines[0][:150] if lines else ""
    if rc == 0:
        tally.line("ok", key, "-", "lint " + what, time.time() - t0)
    elif rc == 77:
        tally.line("SKIP", key, "-", "lint " + what, time.time() - t0, first)
    else:
        tally.line("FAIL", key, "-", "lint " + what, time.time() - t0,
                   f"{len(lines)} finding(s), first: {first}; see {log}")


def step(cmd, log, env=None):
    with open(log, "w") as f:
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
    return r.returncode == 0


def build_debug_kernel(key, outdir, build, tally):
    """Compile the debug kernel from Debian's source (cached); False on failure."""
    t0 = time.time()
    log = os.path.join(outdir, f"kernel-{key}.log")
    ok = step([os.path.join(SCRIPTS, "build-debug-kernel.sh")], log,
              env=dict(os.environ, BUILD=build))
    with open(log) as f:
        last = [ln.strip() for ln in f if ln.strip()][-1:]
    tally.line("ok" if ok else "FAIL", key, "-", "kernel build (debug)",
               time.time() - t0, (last[0] if ok and last else f"see {log}"))
    if ok:
        with open(os.path.join(build, "kernels.lock")) as f:
            ent = json.load(f)[key]
        print(f"kernel {key:7} {ent['version']} ({ent['abi']}, built from "
              f"{'/'.join(ent['packages'])})", flush=True)
    return ok


def prepare_kernel(name, outdir, build, tally, compiled=None):
    """Build modules and guest image for one kernel flavour; False on failure.
    compiled: for a kernel compiled here, a function waiting for that
    compile and saying whether it worked."""
    key, make_args = FLAVOURS.get(name, (name, []))
    if compiled and not compiled():
        return False
    t0 = time.time()
    log = os.path.join(outdir, f"build-{name}.log")
    env = dict(os.environ, BUILD=build)
    if name != key:
        env["OBJ"] = os.path.join(build, "obj", name)
    ok = step([os.path.join(SCRIPTS, "kbuild.sh"), key] + make_args, log, env=env)
    if ok:
        with open(log) as f:
            warnings = [ln.strip() for ln in f if "warning:" in ln]
        if warnings:
            tally.line("FAIL", name, "-", "build (W=1)", time.time() - t0,
                       f"{len(warnings)} warning(s), first: {warnings[0][:120]}; see {log}")
        else:
            tally.line("ok", name, "-", "build (W=1)", time.time() - t0)
    else:
        tally.line("FAIL", name, "-", "build (W=1)", time.time() - t0, f"see {log}")
        return False
    if name == key:
        t0 = time.time()
        log = os.path.join(outdir, f"consumer-{name}.log")
        ok = step([os.path.join(SCRIPTS, "kbuild.sh"), key, "--consumer"], log, env=env)
        with open(log) as f:
            warnings = [ln.strip() for ln in f if "warning:" in ln]
        if not ok or warnings:
            why = (f"{len(warnings)} warning(s), first: {warnings[0][:120]}; "
                   if warnings else "") + f"see {log}"
            tally.line("FAIL", name, "-", "consumer build (W=1)", time.time() - t0, why)
        else:
            tally.line("ok", name, "-", "consumer build (W=1)", time.time() - t0)
    t0 = time.time()
    log = os.path.join(outdir, f"initramfs-{name}.log")
    if not step([sys.executable, os.path.join(SCRIPTS, "mkinitramfs.py"),
                 "--build", build, "--obj", env.get("OBJ", os.path.join(build, "obj", key)),
                 "--out", os.path.join(build, "initramfs", name + ".cpio"), key], log):
        tally.line("FAIL", name, "-", "guest image", time.time() - t0, f"see {log}")
        return False
    return True


def pkgtest(tally, outdir, build, label, args, kernel="host"):
    """One scripts/pkgtest.sh step; True if it passed."""
    t0 = time.time()
    log = os.path.join(outdir, "pkgtest-" + "-".join(args) + ".log")
    ok = step([os.path.join(SCRIPTS, "pkgtest.sh")] + args, log,
              env=dict(os.environ, BUILD=build))
    extra = ""
    if not ok:
        with open(log) as f:
            fails = [ln.strip() for ln in f if "FAIL" in ln or "Error" in ln]
        extra = (fails[-1][:150] + "; " if fails else "") + f"see {log}"
    tally.line("ok" if ok else "FAIL", kernel, "-", label, time.time() - t0, extra)
    return ok


def prepare_dkms(name, outdir, build, tally):
    """DKMS in the kernel's suite chroot, then the flavour's guest image."""
    key, suite = DKMS_FLAVOURS[name]
    if not pkgtest(tally, outdir, build,
                   f"dkms add/build/install/remove ({suite} chroot)",
                   ["dkms", key], kernel=key):
        return False
    t0 = time.time()
    log = os.path.join(outdir, f"initramfs-{name}.log")
    dk = os.path.join(build, "dkms", key)
    if not step([sys.executable, os.path.join(SCRIPTS, "mkinitramfs.py"),
                 "--build", build, "--obj", os.path.join(build, "obj", key),
                 "--dkms", os.path.join(dk, "root"),
                 "--module", os.path.join(dk, "dis_consumer.ko"),
                 "--out", os.path.join(build, "initramfs", name + ".cpio"), key], log):
        tally.line("FAIL", name, "-", "guest image", time.time() - t0, f"see {log}")
        return False
    return True


def deb_tests(outdir, build, tally):
    """The Debian package: build and lintian, then install and purge."""
    if pkgtest(tally, outdir, build, "deb build + lintian (bookworm chroot)", ["deb"]):
        pkgtest(tally, outdir, build, "deb install/remove (bookworm chroot)",
                ["deb-install"], kernel=DEB_KERNEL)


def harness_guard(tally, what, fn):
    """fn, with an exception in it counted as a failure (a harness bug must
    not pass for a clean run, nor stop the other boots)."""
    def run(*args):
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - reported, then the run goes on
            tally.line("FAIL", "-", "-", f"harness: {what}", 0.0,
                       traceback.format_exc().strip().splitlines()[-1])
            traceback.print_exc()
    return run


class BootQueue:
    """Guest boots on a fixed number of workers, the longest (by its
    timeout) first among those queued.  Boots are queued as their kernel's
    image becomes ready, so the first guests run while later kernels still
    build."""

    def __init__(self, workers, tally):
        self.tally = tally
        self.heap = []
        self.seq = 0
        self.closed = False
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self._work, daemon=True)
                        for _ in range(max(1, workers))]
        for th in self.threads:
            th.start()

    def add(self, cost, fn, *args):
        with self.cond:
            heapq.heappush(self.heap, (-cost, self.seq, fn, args))
            self.seq += 1
            self.cond.notify()

    def _work(self):
        while True:
            with self.cond:
                while not self.heap and not self.closed:
                    self.cond.wait()
                if not self.heap:
                    return
                _, _, fn, args = heapq.heappop(self.heap)
            harness_guard(self.tally, fn.__name__, fn)(*args)

    def finish(self):
        """No more boots: wait until every queued one has run."""
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        for th in self.threads:
            th.join()


def run_boot(run, build, outdir, tally):
    name, kernel, mode, sec = run
    out = os.path.join(outdir, f"{name}-{kernel}-{mode}")
    tests = [t for t in sec.get("tests." + mode, sec["tests"]).split()
             if kernel in sec.get("only." + t, kernel).split()]
    r = guest.boot(build, kernel, mode, tests, out, sec.get("timeout", "300"),
                   vm=sec.get("vm", "").split() + sec.get("vm." + mode, "").split())
    if not r.ok:
        tally.line("FAIL", kernel, mode, name, 0.0, r.why)
        tally.failed_runs.append(out)
        return
    res = r.result
    for note in res.get("retries", []):
        print(f"note {kernel:5} {mode:15} early-boot flake retried: {note}", flush=True)
    failed = False
    negative = sec.get("expect", "ok") == "FAIL"
    for t in res["tests"]:
        extra = "; ".join(t["reasons"]) or t.get("note", "")
        status = t["status"]
        if negative and t["name"] in tests:
            want = sec.get("reason." + t["name"], "")
            if status == "FAIL" and want in extra:
                status, extra = "ok", f"failed as it must: {extra}"
            else:
                status, extra = "FAIL", (f"negative control not caught (wanted a "
                                         f"'{want}' failure, got {t['status']}: {extra})")
        tally.line(status, kernel, mode, t["name"], t["secs"], extra[:300])
        failed |= status == "FAIL"
    for label, c in res.get("iotlb", {}).items():
        print(f"iotlb {kernel:5} {mode:15} {label}: {c['inval']} invalidations / "
              f"{c['io']} I/O = {c['per_io']:.3f} per I/O", flush=True)
    if failed:
        tally.failed_runs.append(out)


def bench_smoke(kernel, build, outdir, tally):
    """The bench pipeline end to end, so it cannot rot: one fio job, one
    round; the mapping microbenchmark with one repeat batch and one IOTLB
    window per method.  Judged on completeness, never on figures."""
    t0 = time.time()
    out = os.path.join(outdir, "bench-smoke")
    r = subprocess.run([sys.executable, os.path.join(SCRIPTS, "bench.py"), "--build", build,
                        "--kernels", kernel, "--modes", "intel-strict", "--rounds", "1",
                        "--runtime", "1", "--jobs", "randread-4k-qd32", "--parallel", "1",
                        "--suites", "fio,map", "--map-kernels", kernel.split("+")[0],
                        "--map-repeats", "1", "--map-pages", "64", "--map-count", "20",
                        "--map-count-segs", "32", "--out", out],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    why = ""
    try:
        with open(os.path.join(out, "results.json")) as f:
            res = json.load(f)
        paths = {row["path"] for row in res["rows"]}
        with open(os.path.join(out, "report.md")) as f:
            report = f.read()
        if r.returncode:
            why = "bench.py failed: " + r.stdout.strip().splitlines()[-1]
        elif len(paths) < 4 or any(row["iops"] <= 0 for row in res["rows"]):
            why = f"rows missing or empty: {sorted(paths)}"
        elif not res["map"]["guests"]:
            why = "no mapping microbenchmark guest"
        elif miss := mapbench.missing(res["map"]["cells"], res["map"]["guests"], 1, "32"):
            why = f"mapping microbenchmark incomplete: {len(miss)} gap(s), first: {miss[0]}"
        elif "## Mapping microbenchmark" not in report or "shim / " not in report:
            why = "no mapping microbenchmark table or ratios in report.md"
        elif not all(os.path.exists(os.path.join(out, f))
                     for f in ("map.csv", "map-targets.csv")):
            why = "no map.csv / map-targets.csv"
    except (OSError, ValueError, KeyError) as e:
        why = f"no results: {e}"
    if why:
        tally.line("FAIL", kernel, "intel-strict", "bench smoke", time.time() - t0,
                   f"{why}; see {out}")
        tally.failed_runs.append(out)
    else:
        tally.line("ok", kernel, "intel-strict", "bench smoke", time.time() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--kernels", default=os.environ.get("KERNELS", ""))
    ap.add_argument("--modes", default=os.environ.get("MODES", ""))
    ap.add_argument("--boots", default=os.environ.get("BOOTS", ""))
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS", "2")))
    args = ap.parse_args()

    started = time.time()
    build = os.path.abspath(args.build)
    all_keys, generic_keys, built_here = read_targets()
    keys = args.kernels.split() or all_keys
    modes = args.modes.split() or MODES
    for k in keys:
        if k not in all_keys:
            sys.exit(f"check: unknown kernel '{k}' (known: {' '.join(all_keys)})")
    for m in modes:
        if m not in MODES:
            sys.exit(f"check: unknown mode '{m}' (known: {' '.join(MODES)})")
    outdir = os.path.join(build, "check", time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(outdir)
    latest = os.path.join(build, "check", "latest")
    if os.path.islink(latest):
        os.unlink(latest)
    os.symlink(os.path.basename(outdir), latest)

    tally = Tally()
    host_tests(tally)

    # The debug kernel is compiled here (minutes): by prepare_kernel(),
    # last, while the other kernels' guests run.
    fetched = [k for k in keys if k not in built_here]
    r = subprocess.run([sys.executable, os.path.join(SCRIPTS, "fetch-kernels.py"),
                        "--build", build] + fetched, text=True, stdout=subprocess.PIPE)
    if r.returncode:
        tally.line("FAIL", "-", "-", "fetch kernels", 0.0)
        keys = []
    with open(os.path.join(build, "kernels.lock")) as f:
        lock = json.load(f)
    for k in keys:
        if k in fetched:
            print(f"kernel {k:7} {lock[k]['version']} ({lock[k]['abi']}, "
                  f"{lock[k]['suite']})", flush=True)
    builds = keys + [f for f, (k, _) in FLAVOURS.items() if k in keys]
    # 6.1 first: it has the most boots, the bench smoke and the package;
    # the debug kernel last: it compiles a kernel first
    builds.sort(key=lambda k: (flavour_key(k) in built_here,
                               flavour_key(k) != DEB_KERNEL))
    dkms = []
    if not args.boots or "dkms" in args.boots.split():
        dkms = [f for f, (k, _) in DKMS_FLAVOURS.items() if k in keys]

    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(TOP, "tests", "matrix.ini"))
    runs = []
    for name in cfg.sections():
        if args.boots and name not in args.boots.split():
            continue
        sec = cfg[name]
        kk = [x for w in sec.get("kernels", "all").split()
              for x in (generic_keys if w == "all" else [w])]
        kk = [k for k in kk if flavour_key(k) in keys]
        mm = MODES if sec.get("modes", "all") == "all" else sec["modes"].split()
        for m in modes:
            # kernels.MODE: only these of the section's kernels in mode MODE
            km = sec.get("kernels." + m, "").split() or kk
            for k in builds + dkms:
                if k in kk and k in km and m in mm:
                    runs.append((name, k, m, sec))

    # Which kernel flavours built (set when prepare_kernel() is done).
    built = {k: threading.Event() for k in builds}
    ready = set()

    def dkms_chain(flavour):
        built[flavour_key(flavour)].wait()
        if flavour_key(flavour) in ready and prepare_dkms(flavour, outdir, build, tally):
            for r in runs:
                if r[1] == flavour:
                    run_boot(r, build, outdir, tally)

    def packaging():
        for f in dkms:
            dkms_chain(f)
        if DEB_KERNEL in keys and not args.boots:
            deb_tests(outdir, build, tally)

    # The packaging lane (chroots, DKMS, the package, the +dkms boots) runs
    # beside the guests, and the guests of a kernel start as soon as its
    # image is built: much of a guest's time is spent waiting.
    lane = threading.Thread(target=harness_guard(tally, "packaging", packaging))
    lane.start()
    # Kernels compiled here start compiling at once: it is the longest
    # step of a fresh run, and their guests are queued when it is done.
    compiles = {}

    def compile_kernel(k, result):
        result["ok"] = build_debug_kernel(k, outdir, build, tally)

    for k in builds:
        if k in built_here:
            result = {}
            th = threading.Thread(target=harness_guard(tally, f"kernel {k}", compile_kernel),
                                  args=(k, result))
            th.start()
            compiles[k] = (th, result)

    def compiled(k):
        if k not in compiles:
            return None
        th, result = compiles[k]

        def wait():
            th.join()
            return result.get("ok", False)
        return wait

    boots = BootQueue(args.jobs, tally)
    smoke = "6.1" if "6.1" in builds else (builds[0] if builds else None)
    for k in builds:
        if prepare_kernel(k, outdir, build, tally, compiled=compiled(k)):
            ready.add(k)
            # longest boots first (their timeout is the estimate), so that
            # the short ones fill in at the end
            for r in runs:
                if r[1] == k:
                    boots.add(int(r[3].get("timeout", "300")), run_boot, r, build,
                              outdir, tally)
            if k == smoke and "intel-strict" in modes and not args.boots:
                boots.add(300, bench_smoke, k, build, outdir, tally)
        built[k].set()
        if k == flavour_key(k):
            lint(tally, outdir, "sparse", k)
        if k == DEB_KERNEL:
            lint(tally, outdir, "abi-crc", k)
    for what in LINTS:
        lint(tally, outdir, what)
    boots.finish()
    lane.join()
    runs = [r for r in runs if r[1] in ready or flavour_key(r[1]) in ready]

    for out in tally.failed_runs:
        print(f"failed run kept: {out}/console.log")
    wall = time.time() - started
    print(f"check: {len(runs)} guest boots, wall time {wall / 60:.1f} min, logs in {outdir}")
    c = tally.counts
    summary = f"{c['ok']} passed, {c['FAIL']} failed"
    if c["SKIP"]:
        summary += f", {c['SKIP']} skipped"
    print(summary)
    return 1 if c["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
