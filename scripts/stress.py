#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""`make stress`: the long reliability scenarios, one guest boot each.

Boots every scenario (tests/guest/rel-*.sh, and the passthrough fuzzer
tests/guest/nvme-fuzz.sh when it exists) in its long form on every kernel x
IOMMU mode asked for (default 6.1 and 7 x intel-strict, intel-lazy; fault
injection also on 7+shim, since native 7 has nothing to inject into), with
the machinery of scripts/check.py (one boot = scripts/run-vm.py + the
verdict).  Each scenario prints one "@@DATA rel ..." line on the guest's
data port (tests/guest/rel-lib.sh); this script turns them into a table:
scenario, kernel, IOMMU mode, cycles and calls done, failures, data
mismatches, leaks, and the verdict (which also fails a boot for any kernel
WARN/BUG/Oops/lockup/IOMMU fault or fio verify report on the console).
The table is printed and written to build/stress/<time>/report.md (with
results.json); the logs of every boot stay beside it.  Exit status 1 if
anything failed.

The guest images must exist (the Makefile's stress target builds them with
scripts/prepare-guest.sh).  Not part of make check.

Usage: stress.py [--kernels "6.1 7"] [--modes "intel-strict intel-lazy"]
                 [--scenarios unbind,reset,...] [--scale F] [--jobs N]
"""

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check  # noqa: E402

TOP = check.TOP
# The controllers every scenario boots with: ctrl0, and ctrl1 on blkdebug
# failing I/O over one sector far from where the other scenarios write
# (the same layout as the [reliability] boot of tests/matrix.ini).
BAD_SECTOR = 1048576
CTRLS = f"--nvme size=1G --nvme size=1G,blkdebug=rw@{BAD_SECTOR} --append rel.bad_sector={BAD_SECTOR}"

# name -> (guest test, kernel command line of the long form, cycles,
#          guest seconds per cycle (an estimate for the time limit),
#          extra run-vm.py options, kernels (None: the ones asked for))
SCENARIOS = {
    "unbind": ("rel-unbind", "rel.unbind_cycles", 100, 8, "", None),
    "reset": ("rel-reset", "rel.reset_cycles", 100, 4, "", None),
    "inject": ("rel-inject", "rel.inject_cycles", 5, 120, "", "+shim"),
    "media": ("rel-media", "rel.media_cycles", 30, 20, "", None),
    "unload": ("rel-unload", "rel.unload_cycles", 50, 8, "", None),
    "concurrency": ("rel-concurrency", "rel.concurrency_cycles", 100, 6, "", None),
    "concurrency-smp4": ("rel-concurrency", "rel.concurrency_cycles", 100, 10,
                         "--smp 4", None),
    "fuzz": ("nvme-fuzz", "nvi.fuzz_count", 100000, 0.02, "", None),
    "pcicmd": ("nvme-pcicmd", "nvi.pcicmd_rounds", 10, 12, "", None),
}
ORDER = list(SCENARIOS)
COLUMNS = ["scenario", "kernel", "mode", "cycles", "calls", "failures",
           "mismatches", "leaks", "verdict", "note"]


def parse_data(path):
    """The @@DATA rel lines of a boot's data.log: {test: {key: value}}."""
    out = {}
    try:
        with open(path, errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return out
    for line in lines:
        pos = line.find("@@DATA rel ")
        if pos < 0:
            continue
        words = line[pos:].split()
        if len(words) < 3:
            continue
        fields = {}
        for w in words[3:]:
            k, sep, v = w.partition("=")
            if sep:
                fields[k] = v
        out[words[2]] = fields
    return out


def row_for(scenario, kernel, mode, test, data, result, cycles_asked):
    """One table row from a boot's data line and verdict."""
    row = {"scenario": scenario, "kernel": kernel, "mode": mode}
    t = None
    if result:
        t = next((x for x in result["tests"] if x["name"] == test), None)
    d = data.get(test)
    if d:
        for k in ("cycles", "calls", "failures", "mismatches", "leaks"):
            row[k] = d.get(k, "?")
        row["note"] = d.get("note", "-")
    else:
        # a test without a result line (the fuzzer, or one that was
        # killed): what the verdict knows
        row.update({k: "-" for k in ("cycles", "calls", "failures", "mismatches", "leaks")})
        row["note"] = "no result line"
        if t and t["status"] == "ok" and test == "nvme-fuzz":
            row.update({"calls": str(cycles_asked), "failures": "0", "note": "-"})
    if t is None:
        row["verdict"] = "FAIL: no result (runner failed)"
    elif t["status"] == "SKIP":
        row["verdict"] = "SKIP: " + t.get("note", "")
    elif t["status"] == "ok":
        row["verdict"] = "ok"
    else:
        row["verdict"] = "FAIL: " + ("; ".join(t["reasons"]) or "?")
    return row


def table_text(rows):
    """Plain text table, one row per boot."""
    w = {c: max([len(c)] + [len(str(r.get(c, ""))[:90]) for r in rows]) for c in COLUMNS}
    out = ["  ".join(c.ljust(w[c]) for c in COLUMNS)]
    for r in rows:
        out.append("  ".join(str(r.get(c, ""))[:90].ljust(w[c]) for c in COLUMNS).rstrip())
    return "\n".join(out)


def table_md(rows):
    out = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    for r in rows:
        out.append("| " + " | ".join(str(r.get(c, "")).replace("|", "/")
                                     for c in COLUMNS) + " |")
    return "\n".join(out)


def plan(kernels, modes, names, scale, have):
    """The boots to run: (scenario, kernel flavour, mode, section dict)."""
    runs = []
    for name in names:
        test, knob, cycles, per_cycle, extra, kflav = SCENARIOS[name]
        if test not in have:
            continue
        n = max(1, int(cycles * scale))
        secs = int(n * per_cycle * 3) + 300
        sec = {"tests": f"iommu-mode {test}",
               "vm": f"{CTRLS} {extra} --append {knob}={n} --test-timeout {secs}",
               "timeout": str(secs + 120), "cycles": n}
        ks = list(kernels)
        if kflav:
            ks += [k + kflav for k in kernels if (k + kflav) in check.FLAVOURS]
        for k in ks:
            for m in modes:
                runs.append((name, k, m, sec))
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--kernels", default=os.environ.get("KERNELS", "") or "6.1 7")
    ap.add_argument("--modes", default=os.environ.get("MODES", "") or
                    "intel-strict intel-lazy")
    ap.add_argument("--scenarios", default=",".join(ORDER),
                    help="comma separated, from: " + ", ".join(ORDER))
    ap.add_argument("--scale", type=float, default=1.0,
                    help="multiply every cycle count (0.1: a quick run)")
    ap.add_argument("--jobs", type=int, default=1, help="guests at once")
    ap.add_argument("--out", help="default build/stress/<time>")
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    names = [n for n in args.scenarios.split(",") if n]
    for n in names:
        if n not in SCENARIOS:
            sys.exit(f"stress: unknown scenario '{n}' (known: {', '.join(ORDER)})")
    kernels = args.kernels.split()
    modes = args.modes.split()
    have = {f[:-3] for f in os.listdir(os.path.join(TOP, "tests", "guest"))
            if f.endswith(".sh")}
    notes = []
    if "fuzz" in names and "nvme-fuzz" not in have:
        notes.append("fuzz: skipped, tests/guest/nvme-fuzz.sh does not exist yet")
    runs = plan(kernels, modes, names, args.scale, have)
    for _, k, _, _ in runs:
        img = os.path.join(build, "initramfs", k + ".cpio")
        if not os.path.exists(img):
            sys.exit(f"stress: no guest image {img} (scripts/prepare-guest.sh {k})")

    out = os.path.abspath(args.out or os.path.join(build, "stress",
                                                   time.strftime("%Y%m%d-%H%M%S")))
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(build, "kernels.lock")) as f:
        lock = json.load(f)
    started = time.time()
    print(f"stress: {len(runs)} boot(s), logs in {out}", flush=True)
    for n in notes:
        print("stress: " + n, flush=True)

    tally = check.Tally()
    rows = []

    def one(run):
        name, kernel, mode, sec = run
        check.run_boot(run, build, out, tally)
        boot = os.path.join(out, f"{name}-{kernel}-{mode}")
        try:
            with open(os.path.join(boot, "result.json")) as f:
                res = json.load(f)
        except (OSError, ValueError):
            res = None
        test = sec["tests"].split()[-1]
        row = row_for(name, kernel, mode, test, parse_data(os.path.join(boot, "data.log")),
                      res, sec["cycles"])
        row["log"] = os.path.relpath(os.path.join(boot, "console.log"), out)
        rows.append(row)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for fut in [pool.submit(one, r) for r in runs]:
            fut.result()

    order = {n: i for i, n in enumerate(ORDER)}
    rows.sort(key=lambda r: (order[r["scenario"]], r["kernel"], r["mode"]))
    wall = (time.time() - started) / 60
    text = table_text(rows)
    print()
    print(text)
    kv = ", ".join(f"{k} {lock[check.flavour_key(k)]['version']}"
                   for k in dict.fromkeys(check.flavour_key(k) for _, k, _, _ in runs))
    failed = [r for r in rows if r["verdict"].startswith("FAIL")]
    md = [f"# Reliability run {os.path.basename(out)}", "",
          f"Kernels: {kv or '-'}. Modes: {' '.join(modes)}. Scale {args.scale}. "
          f"Wall time {wall:.1f} min.", "",
          "cycles/calls: what the scenario did; failures: operations that did not "
          "work (or hung); mismatches: data read back wrong; leaks: IOVA ranges "
          "left mapped, slab growth over the threshold; verdict: the guest test "
          "and its console (no WARN/BUG/Oops/lockup/IOMMU fault).", "",
          table_md(rows), ""]
    md += [f"- {n}" for n in notes]
    md += [f"- failed: {r['scenario']} {r['kernel']} {r['mode']}: {r['log']}" for r in failed]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"rows": rows, "notes": notes, "scale": args.scale}, f, indent=1)
    print(f"\nstress: {len(rows)} boot(s), {len(failed)} failed, wall time {wall:.1f} min; "
          f"report {os.path.join(out, 'report.md')}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
