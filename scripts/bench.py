#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""`make bench`: boot test hosts and compare I/O paths side by side with fio.

The default run is the headline, meant to end within 10 minutes on a
2-core machine: 6.1 and 7 under intel-strict and none, 4 KiB QD1 and QD32
and 128 KiB QD16 random reads, stock against demo-sg and demo-iova, and a
parity line per kernel, mode and job printed at the end; --full (BENCH=full)
runs every kernel, mode, job and path.

One guest per kernel x IOMMU mode runs every job on every path, rotating the
order of paths each round (tests/guest/bench-fio.sh), so drift on a shared
machine hits all paths alike; each path has a controller of its own, bound
once, and the fio guests run one at a time, after the mapping guests.  Per job and path the report gives median IOPS
with min and max over rounds, the ratio to the first path ("stock") in the
same round, MiB/s, completion latency p50/p99, guest CPU time per I/O and
IOTLB invalidations per I/O (QEMU trace); and the IOMMU tax: each path's IOPS
under each mode as a fraction of the same path with no IOMMU.

In the same run, the mapping microbenchmark (scripts/mapbench.py): one guest
per kernel x mode it covers (default 6.1 and 7 under intel-strict; --full:
every kernel, intel-strict, intel-strict-cm, intel-lazy, pt and none) times map + unmap per request for each mapping method, with
the shim's two-step API against the kernel's own on 7.x in the same guest.

Output: build/bench/<time>/report.md, results.json, every raw fio JSON, PNG
plots, map.csv and map-targets.csv.

The mapping guests' clock counts guest instructions (QEMU -icount, one vCPU,
so one thread) unless --map-clock host (BENCH_ICOUNT=0): then the host's
clock, two vCPUs, 1 and 2 threads, and the host's load in every figure.
The report says which clock was used and the host's load average at the
start and the end.

Usage: bench.py [--kernels "6.1 7 7+shim"] [--modes "intel-strict none"]
                [--rounds N] [--runtime S] [--jobs j1,j2] [--paths p1,p2]
                [--parallel N] [--fio-parallel N]
                [--suites fio,map] [--map-kernels "6.1 7"] [--map-modes M]
                [--map-repeats N] [--map-pages N] [--map-count N]
                [--map-count-segs 1,4,8,32,128|none]
                [--map-clock icount|host] [--map-icount-shift N]
"""

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402
import mapbench  # noqa: E402
from guest import fmt, span  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The default run (the headline: parity of the demo driver with the stock
# one, within 10 minutes on a 2-core machine): these jobs, kernels and
# modes, the paths in PATHS; BENCH=full runs everything.
HEADLINE_JOBS = "randread-4k-qd1,randread-4k-qd32,randread-128k-qd16-malloc"
HEADLINE_KERNELS = "6.1 7"
HEADLINE_MODES = "intel-strict none"
FULL_KERNELS = "5.10 6.1 6.12 7 7+shim"
FULL_MODES = "intel-strict-cm intel-strict intel-lazy amd pt none"
ALL_JOBS = ("randread-4k-qd1,randread-4k-qd32,randwrite-4k-qd32,"
            "randread-128k-qd16-malloc,randread-128k-qd16-huge,read-1m-qd4,write-1m-qd4,"
            "randrw-70-30-4k-qd16-2jobs,randread-4k-qd1-poll,randread-4k-qd32-poll,"
            "randread-128k-qd16-poll")
# Jobs named *-poll use io_uring IOPOLL: their guests give both drivers a
# poll queue.
# Paths compared: (name, controller serial, nvme_iova map mode or "" for the
# stock driver).  The first is the baseline.  Identical controllers, one per
# driver and map mode: the stock driver keeps ctrl0, the demo driver binds
# ctrl1 with map_mode=sg and ctrl2 with iova once, so no run pays for a
# reload and every path keeps its controller for the whole guest.  The
# variants of a map mode (+2step, +nobatch: runtime parameters) share its
# controller.
PATHS = [("stock", "ctrl0", ""), ("demo-sg", "ctrl1", "sg"),
         ("demo-iova", "ctrl2", "iova")]
# Kernels given as KEY+shim are KEY with the shim forced in place of the
# native API (their guest image is build/initramfs/KEY+shim.cpio).  Only
# demo-iova differs there from KEY's own guest (sg and page run the same
# code), so such a guest runs the baseline and demo-iova alone.
FORCED_SHIM_PATHS = ("stock", "demo-iova", "demo-iova-2step")
# BENCH=full also runs demo-iova with single_segment=N: every request
# through the two-step API, none mapped directly (nvme-pci's 6.17+
# single-segment path), to show what that path is worth.
# demo-page (every segment mapped on its own) only shows what not to do.
FULL_PATHS = PATHS + [("demo-page", "ctrl3", "page"),
                      ("demo-iova-2step", "ctrl2", "iova+2step")]
# In strict domains demo-iova destroys a completion batch's IOVA ranges with
# one invalidation (nvme_iova batch_unmap, a dma-iova-shim extension);
# demo-iova-nobatch is the same path with one invalidation per request.
# Only where the two differ: a strict mode, through the shim, on a kernel
# with completion batches (not 5.10, not 7's native API).
NOBATCH_PATH = ("demo-iova-nobatch", "ctrl2", "iova+nobatch")
STRICT_MODES = ("intel-strict", "intel-strict-cm", "amd")
NO_BATCHING_KERNELS = ("5.10", "7")
# the path of which a path is a variant, for its IOMMU tax (no IOMMU: the
# variants are the same path)
TAX_BASE = {"demo-iova-nobatch": "demo-iova"}


def paths_for(kernel, mode, full=False, only=None):
    """The paths a guest of this kernel key and IOMMU mode runs."""
    paths = list(FULL_PATHS if full else PATHS)
    if mode in STRICT_MODES and kernel not in NO_BATCHING_KERNELS:
        paths.append(NOBATCH_PATH)
    if "+" in kernel:
        paths = [p for p in paths if p[0] in FORCED_SHIM_PATHS + (NOBATCH_PATH[0],)]
    if only:
        # the baseline always runs: every ratio is to it
        paths = [p for p in paths if p[0] in only or p == PATHS[0]]
    return paths

PRINT_LOCK = threading.Lock()


def say(msg):
    with PRINT_LOCK:
        print(msg, flush=True)


def fio_summary(js, busy_jiffies):
    job = js["jobs"][0]
    ios = job["read"]["total_ios"] + job["write"]["total_ios"]
    side = job["read"] if job["read"]["io_bytes"] else job["write"]
    pct = side.get("clat_ns", {}).get("percentile", {})
    iops = job["read"]["iops"] + job["write"]["iops"]
    return {"iops": iops, "mibs": (job["read"]["bw"] + job["write"]["bw"]) / 1024.0,
            "p50_us": pct.get("50.000000", 0) / 1000.0,
            "p99_us": pct.get("99.000000", 0) / 1000.0,
            # USER_HZ is 100: one jiffy is 10 ms of CPU
            "cpu_us_per_io": busy_jiffies * 10000.0 / ios if ios else 0.0}


def fio_clock_name(args):
    """How the fio guests' time was kept, for the report."""
    if args.fio_clock == "icount":
        return (f"guest time from the instruction count (QEMU -icount shift="
                f"{args.map_icount_shift}, one vCPU): IOPS and CPU per I/O count the "
                "guest's own work (driver, block layer, DMA mapping); QEMU's device and "
                "IOMMU emulation, MMIO doorbells included, take no guest time")
    return (f"the host's clock, {args.smp} vCPUs per guest, one guest at a time: "
            "everything counts, host noise included")


def run_one(kernel, mode, args, outdir):
    out = os.path.join(outdir, f"{kernel}-{mode}")
    jobs = args.jobs.split(",")
    these = paths_for(kernel, mode, args.full,
                      args.paths.split(",") if args.paths else None)
    paths = ",".join(f"{n}:{s}" + (f":{m}" if m else "") for n, s, m in these)
    n_runs = args.rounds * len(jobs) * len(these)
    timeout = 120 + n_runs * (args.runtime + 15)
    append = [f"dis.bench_paths={paths} dis.bench_jobs={args.jobs} "
              f"dis.bench_rounds={args.rounds} dis.bench_runtime={args.runtime}"]
    if any(j.endswith("-poll") for j in jobs):
        append.append("nvme.poll_queues=1 nvme_iova.poll_queues=1")
    vm = ["--smp", str(args.smp)]
    if args.fio_clock == "icount":
        vm = ["--icount", str(args.map_icount_shift), "--smp", "1"]
    # controllers ctrl0 .. the highest serial a path names
    for _ in range(1 + max(int(s[len("ctrl"):]) for _, s, _ in these)):
        vm += ["--nvme", "size=2G"]
    say(f"bench: {kernel} {mode}: {n_runs} fio runs of {args.runtime} s")
    done = 0

    def progress(line):
        nonlocal done
        pos = line.find("@@IOTLB-END ")
        if pos >= 0:
            done += 1
            rnd, job, path = line[pos:].split()[1].split(":")
            say(f"  [{done}/{n_runs}] {kernel} {mode} round {rnd} {job} {path} done")

    r = guest.boot(args.build, kernel, mode, ["iommu-mode", "bench-fio"], out, timeout,
                   on_line=progress, test_timeout=timeout, vm=vm, append=append)
    if not r.ok:
        return [], [(kernel, mode, {"name": "bench-fio", "reasons": [r.why]})]
    res = r.result
    rows = []
    batches = {}
    with open(os.path.join(out, "data.log"), errors="replace") as f:
        for line in f:
            pos = line.find("@@DATA batches ")
            if pos >= 0:
                _, _, rnd, job, path, *kv = line[pos:].split()
                batches[(rnd, job, path)] = {k: int(v) for k, _, v in
                                             (x.partition("=") for x in kv) if v}
                continue
            pos = line.find("@@DATA fio ")
            if pos < 0:
                continue
            _, _, rnd, job, path, busy, blob = line[pos:].split(" ", 6)
            try:
                js = json.loads(blob)
            except ValueError:
                say(f"bench: unreadable fio output for {job} {path} round {rnd}")
                continue
            with open(os.path.join(out, f"fio-{rnd}-{job}-{path}.json"), "w") as fo:
                json.dump(js, fo, indent=1)
            row = {"kernel": kernel, "mode": mode, "round": int(rnd), "job": job,
                   "path": path, **fio_summary(js, int(busy))}
            io = res.get("iotlb", {}).get(f"{rnd}:{job}:{path}")
            if io and mode != "none":
                row["inval_per_io"] = io["per_io"]
            rows.append(row)
    for row in rows:
        b = batches.get((str(row["round"]), row["job"], row["path"]))
        if b:
            row["batch"] = b
    bad = [(kernel, mode, t) for t in res["tests"] if t["status"] == "FAIL"]
    return rows, bad


def summarise(rows):
    """(kernel, mode, job, path) -> medians and spread over rounds."""
    groups = {}
    for r in rows:
        groups.setdefault((r["kernel"], r["mode"], r["job"], r["path"]), []).append(r)
    table = []
    for (k, m, j, p), rs in sorted(groups.items()):
        base = {x["round"]: x["iops"] for x in groups.get((k, m, j, PATHS[0][0]), [])}
        ratios = [r["iops"] / base[r["round"]] for r in rs if base.get(r["round"])]
        cpu_ratio = []
        for r in rs:
            b = [x for x in groups.get((k, m, j, PATHS[0][0]), []) if x["round"] == r["round"]]
            if b and b[0]["cpu_us_per_io"]:
                cpu_ratio.append(r["cpu_us_per_io"] / b[0]["cpu_us_per_io"])
        table.append({
            "kernel": k, "mode": m, "job": j, "path": p, "rounds": len(rs),
            "iops": span([r["iops"] for r in rs]),
            "ratio": span(ratios),
            "mibs": statistics.median(r["mibs"] for r in rs),
            "p50_us": statistics.median(r["p50_us"] for r in rs),
            "p99_us": statistics.median(r["p99_us"] for r in rs),
            "cpu_us_per_io": statistics.median(r["cpu_us_per_io"] for r in rs),
            "cpu_ratio": span(cpu_ratio),
            "inval_per_io": span([r.get("inval_per_io") for r in rs]),
            "batch": batch_summary([r["batch"] for r in rs if r.get("batch")])})
    return table


def batch_summary(snaps):
    """Completion batches of a path's rounds: requests per batch (median
    over rounds), the share of requests ended in a batch, and the summed
    histograms of requests per batch and IOVA ranges per batch flush."""
    if not snaps:
        return None
    per, share = [], []
    hists = {"requests_per_batch": {}, "ranges_per_flush": {}}
    for b in snaps:
        if b.get("batches"):
            per.append(b["batched"] / b["batches"])
        done = b.get("batched", 0) + b.get("single", 0)
        if done:
            share.append(b.get("batched", 0) / done)
        for k, v in b.items():
            for h, acc in hists.items():
                if k.startswith(f"hist_{h}_"):
                    bucket = k[len(f"hist_{h}_"):]
                    acc[bucket] = acc.get(bucket, 0) + v
    return {"rq_per_batch": span(per), "batched_share": span(share),
            "ranges": sum(b.get("batched_ranges", 0) for b in snaps), **hists}


def tax(table):
    """IOPS under each mode as a fraction of the same path with no IOMMU."""
    none = {(t["kernel"], t["job"], t["path"]): t["iops"][0]
            for t in table if t["mode"] == "none"}
    out = []
    for t in table:
        base = none.get((t["kernel"], t["job"], TAX_BASE.get(t["path"], t["path"])))
        if base and t["mode"] != "none":
            out.append({"kernel": t["kernel"], "mode": t["mode"], "job": t["job"],
                        "path": t["path"], "fraction": t["iops"][0] / base})
    return out


PARITY_PATHS = ("demo-sg", "demo-iova")


def parity(table):
    """The headline: per kernel, mode and job, demo-sg's and demo-iova's
    IOPS and CPU per I/O as ratios to stock in the same round (median
    [min-max] over rounds).  Figures only: the targets (issue 16) are
    demo-sg >= 0.97x IOPS and <= 1.03x CPU per I/O, demo-iova >= 1.0x."""
    by = {(t["kernel"], t["mode"], t["job"], t["path"]): t for t in table}
    out = ["Parity with the stock driver (ratio to stock in the same round, "
           "median [min-max]; targets: demo-sg IOPS >= 0.97 and CPU/IO <= 1.03, "
           "demo-iova IOPS >= 1.00):"]
    for k, m, j in sorted({(t["kernel"], t["mode"], t["job"]) for t in table}):
        cells = []
        for p in PARITY_PATHS:
            t = by.get((k, m, j, p))
            if t and t["ratio"]:
                cells.append(f"{p} IOPS {fmt(t['ratio'], 2)} CPU/IO {fmt(t['cpu_ratio'], 2)}")
        if cells:
            out.append(f"  parity {k} {m} {j}: " + "; ".join(cells))
    return "\n".join(out) + "\n"


def render(table, taxes):
    out = ["| kernel | mode | job | path | IOPS median [min-max] | ratio to stock "
           "[min-max] | MiB/s | p50 us | p99 us | CPU us/IO (ratio) | inval/IO |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for t in table:
        inv = "-" if t["inval_per_io"] is None else f"{t['inval_per_io'][0]:.3f}"
        cpu = f"{t['cpu_us_per_io']:.1f}"
        if t["cpu_ratio"]:
            cpu += f" ({t['cpu_ratio'][0]:.2f})"
        out.append(f"| {t['kernel']} | {t['mode']} | {t['job']} | {t['path']} | "
                   f"{fmt(t['iops'])} | {fmt(t['ratio'], 2)} | {t['mibs']:.1f} | "
                   f"{t['p50_us']:.0f} | {t['p99_us']:.0f} | {cpu} | {inv} |")
    if taxes:
        out += ["", "IOMMU tax: IOPS as a fraction of the same path without an IOMMU "
                "(1 - fraction is the tax).", "",
                "| kernel | mode | job | path | fraction of no-IOMMU IOPS | tax |",
                "|---|---|---|---|---|---|"]
        for t in taxes:
            out.append(f"| {t['kernel']} | {t['mode']} | {t['job']} | {t['path']} | "
                       f"{t['fraction']:.2f} | {100 * (1 - t['fraction']):.0f}% |")
    batched = [t for t in table if t.get("batch")]
    if batched:
        out += ["", "Completion batches of the demo paths (nvme_iova debugfs "
                "completion_batches, per run): requests per batch (median [min-max] "
                "over rounds), the share of requests ended in a batch, and over all "
                "rounds the histogram of IOVA ranges per batch flush (batched "
                "unmapping; empty where it is off).", "",
                "| kernel | mode | job | path | requests/batch | batched share | "
                "ranges per flush (bucket:flushes) |", "|---|---|---|---|---|---|---|"]
        for t in batched:
            b = t["batch"]
            hist = " ".join(f"{k}:{v}" for k, v in b["ranges_per_flush"].items() if v) or "-"
            out.append(f"| {t['kernel']} | {t['mode']} | {t['job']} | {t['path']} | "
                       f"{fmt(b['rq_per_batch'], 2)} | {fmt(b['batched_share'], 2)} | "
                       f"{hist} |")
    return "\n".join(out) + "\n"


def plot(outdir, table):
    """PNG plots with gnuplot, one panel per kernel and IOMMU mode, the jobs
    along x and a bar per path with its [min-max] over rounds as an error
    bar: IOPS as a ratio to stock (a line at 1.0) and IOTLB invalidations
    per I/O (log scale, stock included)."""
    if not shutil.which("gnuplot"):
        say("bench: gnuplot missing, no plots (apt-get install gnuplot-nox)")
        return []
    present = {t["path"] for t in table}
    by = {(t["kernel"], t["mode"], t["job"], t["path"]): t for t in table}
    panels = sorted({(t["kernel"], t["mode"]) for t in table})
    jobs = sorted({t["job"] for t in table})
    made = []
    for name, key, ylabel, skip in (
            ("ratio", "ratio", "IOPS / stock IOPS, same round", {"stock"}),
            ("inval", "inval_per_io", "IOTLB invalidations per I/O", set())):
        paths = [p for p, _, _ in FULL_PATHS + [NOBATCH_PATH]
                 if p in present and p not in skip]

        def cell(k, m, j, p):
            t = by.get((k, m, j, p))
            v = t[key] if t and t[key] else None
            # nothing to draw of a zero on a log scale
            return None if v and key == "inval_per_io" and v[0] <= 0 else v

        dat = os.path.join(outdir, f"plot-{name}.dat")
        drawn = []          # (kernel, mode, its paths) of each data block
        with open(dat, "w") as f:
            for k, m in panels:
                have = [p for p in paths if any(cell(k, m, j, p) for j in jobs)]
                rows = []
                for j in jobs:
                    cells = [" ".join(f"{v:.4f}" for v in cell(k, m, j, p))
                             if cell(k, m, j, p) else "NaN NaN NaN" for p in have]
                    rows.append(f'"{j}" ' + " ".join(cells))
                if have:
                    f.write("\n".join(rows) + "\n\n\n")
                    drawn.append((k, m, have))
        if not drawn:
            continue
        cols = 1 if len(drawn) == 1 else 2
        nrows = -(-len(drawn) // cols)
        png = os.path.join(outdir, f"{name}.png")
        script = [f"set terminal pngcairo size 1600,{60 + 440 * nrows} font ',11'",
                  f"set output '{png}'",
                  f"set multiplot layout {nrows},{cols} title "
                  f"'{ylabel}: median of the rounds, bars [min-max]' font ',14'",
                  "set style data histograms",
                  "set style histogram errorbars gap 2 lw 1",
                  "set style fill solid 0.7 border -1",
                  "set grid ytics", "set xtics rotate by -15 font ',10'",
                  "set key outside right top font ',10'", f"set ylabel '{ylabel}'"]
        if name == "ratio":
            script += ["set yrange [0:*]",
                       "set arrow 1 from graph 0, first 1 to graph 1, first 1 "
                       "nohead dt 2 lw 2 lc rgb 'black' front"]
        else:
            # whole decades, with room above the highest bar
            top = max(cell(k, m, j, p)[2] for k, m, have in drawn for j in jobs
                      for p in have if cell(k, m, j, p))
            script += ["set logscale y",
                       f"set yrange [0.001:{10 ** math.ceil(math.log10(top * 2)):g}]"]
        for i, (k, m, have) in enumerate(drawn):
            # a path keeps its colour in every panel
            script += [f"set title '{k} {m}'", "plot " + ", ".join(
                f"'{dat}' index {i} using {2 + 3 * c}:{3 + 3 * c}:{4 + 3 * c}:xtic(1) "
                f"title '{p}' lt {paths.index(p) + 1}" for c, p in enumerate(have))]
        script.append("unset multiplot")
        r = subprocess.run(["gnuplot"], input="\n".join(script) + "\n", text=True,
                           capture_output=True)
        if r.returncode == 0:
            made.append(png)
        else:
            say(f"bench: gnuplot failed for {name}: {r.stderr.strip()[:200]}")
    return made


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--kernels", default=os.environ.get("KERNELS") or None)
    ap.add_argument("--modes", default=os.environ.get("MODES") or None)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "3")))
    ap.add_argument("--runtime", type=int, default=int(os.environ.get("RUNTIME", "3")))
    ap.add_argument("--jobs", default=os.environ.get("BENCH_JOBS") or "")
    ap.add_argument("--paths", default=os.environ.get("BENCH_PATHS") or "",
                    help="only these paths (comma-separated names; stock always runs)")
    ap.add_argument("--full", action="store_true", default=os.environ.get("BENCH") == "full")
    ap.add_argument("--out", help="report directory (default build/bench/<time>)")
    ap.add_argument("--parallel", type=int, default=int(os.environ.get("PARALLEL", "2")),
                    help="mapping guests run at once (their clock is the instruction "
                         "count: other guests do not move their figures)")
    ap.add_argument("--fio-parallel", type=int,
                    default=int(os.environ.get("FIO_PARALLEL", "0")),
                    help="fio guests run at once, after the mapping guests (default: "
                         "2 on the instruction-count clock, 1 on the host's, where a "
                         "fio guest needs the machine to itself)")
    ap.add_argument("--smp", type=int, default=int(os.environ.get("BENCH_SMP", "2")),
                    help="vCPUs of a fio guest")
    ap.add_argument("--fio-clock", choices=("host", "icount"),
                    default=os.environ.get("FIO_CLOCK") or None,
                    help="the fio guests' clock: their instruction count (default; "
                         "one vCPU; device emulation takes no guest time) or the "
                         "host's (default with --full: the poll jobs need two vCPUs)")
    ap.add_argument("--suites", default=os.environ.get("BENCH_SUITES") or "fio,map",
                    help="fio (I/O paths), map (mapping microbenchmark), or both")
    ap.add_argument("--map-kernels", default=os.environ.get("MAP_KERNELS") or None,
                    help="default: the kernels without a +flavour")
    ap.add_argument("--map-modes", default=os.environ.get("MAP_MODES") or None,
                    help="default: --modes if given, else " + mapbench.MODES)
    ap.add_argument("--map-repeats", type=int, default=int(os.environ.get("MAP_REPEATS", "15")),
                    help="timed batches per method and cell")
    ap.add_argument("--map-pages", type=int, default=int(os.environ.get("MAP_PAGES", "2048")),
                    help="pages mapped per batch and method")
    ap.add_argument("--map-count", type=int, default=200,
                    help="requests per IOTLB window")
    ap.add_argument("--map-count-segs", default="1,4,8,32,128",
                    help="segment counts with an IOTLB window, or none")
    ap.add_argument("--map-clock", choices=("icount", "host"),
                    default="host" if os.environ.get("BENCH_ICOUNT") == "0" else "icount",
                    help="the mapping guests' clock: their instruction count (default) "
                         "or the host's (BENCH_ICOUNT=0)")
    ap.add_argument("--map-icount-shift", type=int, default=mapbench.ICOUNT_SHIFT,
                    help="under icount, one instruction is 2^N ns of guest time")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    if not args.fio_clock:
        args.fio_clock = "host" if args.full else "icount"
    if not args.fio_parallel:
        args.fio_parallel = 2 if args.fio_clock == "icount" else 1
    suites = set(args.suites.split(","))
    if not args.jobs:
        args.jobs = ALL_JOBS if args.full else HEADLINE_JOBS
    if args.fio_clock == "icount" and "-poll" in args.jobs:
        ap.error("the -poll jobs need two vCPUs: use FIO_CLOCK=host")
    explicit_modes = args.modes
    if not args.modes:
        args.modes = FULL_MODES if args.full else HEADLINE_MODES
    if not args.kernels:
        args.kernels = FULL_KERNELS if args.full else HEADLINE_KERNELS
    if not args.map_kernels:
        args.map_kernels = " ".join(k for k in args.kernels.split() if "+" not in k)
    if not args.map_modes:
        args.map_modes = explicit_modes or (mapbench.MODES_FULL if args.full
                                            else mapbench.MODES)

    started = time.time()
    load_start = os.getloadavg()
    kernels = args.kernels.split() if "fio" in suites else []
    modes = args.modes.split()
    map_kernels = args.map_kernels.split() if "map" in suites else []
    map_modes = args.map_modes.split()
    outdir = os.path.abspath(args.out or os.path.join(args.build, "bench",
                                                      time.strftime("%Y%m%d-%H%M%S")))
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(args.build, "kernels.lock")) as f:
        lock = json.load(f)
    def key(k):
        return k.partition("+")[0]

    all_kernels = list(dict.fromkeys(kernels + map_kernels))
    for k in all_kernels:
        say(f"kernel {k}: {lock[key(k)]['version']} ({lock[key(k)]['abi']})")
    rows, failures, cells, infos = [], [], [], []
    # the mapping guests first, then the fio guests on their own: a fio
    # guest's figures are host time, which any other guest disturbs
    with ThreadPoolExecutor(max_workers=max(1, args.parallel)) as pool:
        futs = [pool.submit(mapbench.run, k, m, args, outdir, say)
                for k in map_kernels for m in map_modes]
        for fut in futs:
            c, info, bad = fut.result()
            cells += c
            if info:
                infos.append(info)
            failures += bad
    with ThreadPoolExecutor(max_workers=max(1, args.fio_parallel)) as pool:
        futs = [pool.submit(run_one, k, m, args, outdir) for k in kernels for m in modes]
        for fut in futs:
            r, bad = fut.result()
            rows += r
            failures += bad
    table = summarise(rows)
    taxes = tax(table)
    report = render(table, taxes) if rows else ""
    headline = parity(table) if rows else ""
    pngs = plot(outdir, table) if rows else []
    map_table = mapbench.summarise(cells)
    map_targets = mapbench.targets(map_table)
    map_report = mapbench.render(map_table, map_targets, infos) if cells else ""
    if cells:
        mapbench.write_csv(outdir, map_table, map_targets,
                           {k: lock[key(k)]["version"] for k in map_kernels})
    wall = time.time() - started
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write(f"# Benchmark, {time.strftime('%Y-%m-%d %H:%M')}\n\n"
                f"Machine: {os.cpu_count()} CPUs, QEMU TCG, {args.parallel} mapping "
                f"guest(s) at a time, then {args.fio_parallel} fio guest(s) at a "
                f"time; wall time {wall / 60:.1f} min. Host load average (1, 5, 15 min): "
                + " ".join(f"{x:.2f}" for x in load_start) + " at the start, "
                + " ".join(f"{x:.2f}" for x in os.getloadavg()) + " at the end.\n\nKernels: "
                + ", ".join(f"{k} = {lock[key(k)]['version']} ({lock[key(k)]['abi']})"
                             for k in all_kernels) + "\n\n")
        if rows:
            f.write(f"## I/O paths (fio)\n\nClock: {fio_clock_name(args)}. "
                    f"{args.rounds} rounds of {args.runtime} s per "
                    "job and path, path order rotated each round.\n\n```\n" + headline
                    + "```\n\n" + report + "\n"
                    + "".join(f"![{os.path.basename(p)}]({os.path.basename(p)})\n"
                              for p in pngs) + "\n")
        if cells:
            f.write("## Mapping microbenchmark\n\nClock: " + mapbench.clock_name(args)
                    + ".\n\n" + map_report
                    + "\nEvery cell: map.csv; the ratios above: map-targets.csv.\n")
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"rows": rows, "summary": table, "tax": taxes,
                   "kernels": {k: lock[key(k)] for k in all_kernels},
                   "rounds": args.rounds, "runtime": args.runtime,
                   "map": {"cells": cells, "guests": infos, "summary": map_table,
                           "targets": map_targets, "repeats": args.map_repeats,
                           "pages": args.map_pages, "count": args.map_count,
                           "count_segs": args.map_count_segs, "clock": args.map_clock,
                           "icount_shift": args.map_icount_shift}}, f, indent=1)
    print()
    if args.full:
        print(report)
    print(map_report)
    print(headline)
    for k, m, t in failures:
        print(f"bench: {k} {m}: {t['name']} FAILED: {'; '.join(t['reasons'])}")
    if not args.out:
        latest = os.path.join(os.path.dirname(outdir), "latest")
        if os.path.islink(latest):
            os.unlink(latest)
        os.symlink(os.path.basename(outdir), latest)
    print(f"bench: report in {outdir}/report.md (wall time {wall / 60:.1f} min)")
    empty = (kernels and not rows) or (map_kernels and not cells)
    return 1 if failures or empty else 0


if __name__ == "__main__":
    sys.exit(main())
