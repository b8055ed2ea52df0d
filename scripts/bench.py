#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""`make bench`: boot test hosts and compare I/O paths side by side with fio.

One guest per kernel x IOMMU mode runs every job on every path, alternating
the order of paths each round (tests/guest/bench-fio.sh), so drift on a
shared machine hits all paths alike.  The report gives, per job and path, the
median IOPS with min and max over rounds, the ratio to the first path in the
same run, MiB/s, completion latency p50/p99 and IOTLB invalidations per I/O
(QEMU trace).  Written to build/bench/<time>/report.md with results.json and
every raw fio JSON beside it.

Usage: bench.py [--kernels "6.1"] [--modes "intel-strict"] [--rounds N]
                [--runtime S] [--jobs j1,j2]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(TOP, "scripts")
DEFAULT_JOBS = "randread-4k-qd32,randread-128k-qd16-malloc"
# path name -> controller serial; the first path is the baseline.
PATHS = [("stock-a", "ctrl0"), ("stock-b", "ctrl1")]


def fio_summary(js):
    job = js["jobs"][0]
    side = job["read"] if job["read"]["io_bytes"] else job["write"]
    pct = side.get("clat_ns", {}).get("percentile", {})
    return {"iops": side["iops"], "mibs": side["bw"] / 1024.0,
            "p50_us": pct.get("50.000000", 0) / 1000.0,
            "p99_us": pct.get("99.000000", 0) / 1000.0,
            "cpu": job["usr_cpu"] + job["sys_cpu"]}


def run_one(kernel, mode, args, outdir):
    out = os.path.join(outdir, f"{kernel}-{mode}")
    paths = ",".join(f"{n}:{s}" for n, s in PATHS)
    n_runs = args.rounds * len(args.jobs.split(",")) * len(PATHS)
    timeout = 90 + n_runs * (args.runtime + 8)
    cmd = [sys.executable, os.path.join(SCRIPTS, "run-vm.py"), "--kernel", kernel,
           "--mode", mode, "--tests", "iommu-mode,bench-fio", "--out", out,
           "--timeout", str(timeout), "--test-timeout", str(timeout),
           "--append", f"dis.bench_paths={paths} dis.bench_jobs={args.jobs} "
                       f"dis.bench_rounds={args.rounds} dis.bench_runtime={args.runtime}"]
    for _ in PATHS:
        cmd += ["--nvme", "size=2G"]
    print(f"bench: {kernel} {mode}: {n_runs} fio runs of {args.runtime} s "
          f"(about {timeout // 60 + 1} min)", flush=True)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    with open(os.path.join(out, "result.json")) as f:
        res = json.load(f)
    rows = []
    with open(os.path.join(out, "console.log"), errors="replace") as f:
        for line in f:
            pos = line.find("@@DATA fio ")
            if pos < 0:
                continue
            _, _, rnd, job, path, blob = line[pos:].split(" ", 5)
            try:
                js = json.loads(blob)
            except ValueError:
                print(f"bench: unreadable fio output for {job} {path} round {rnd}",
                      file=sys.stderr)
                continue
            raw = os.path.join(out, f"fio-{rnd}-{job}-{path}.json")
            with open(raw, "w") as fo:
                json.dump(js, fo, indent=1)
            row = {"kernel": kernel, "mode": mode, "round": int(rnd), "job": job,
                   "path": path, **fio_summary(js)}
            io = res.get("iotlb", {}).get(f"{rnd}:{job}:{path}")
            if io and mode != "none":
                row["inval_per_io"] = io["per_io"]
            rows.append(row)
    bad = [t for t in res["tests"] if t["status"] == "FAIL"]
    return rows, bad, res


def summarise(rows):
    """Group rounds: (kernel, mode, job, path) -> medians and spread."""
    groups = {}
    for r in rows:
        groups.setdefault((r["kernel"], r["mode"], r["job"], r["path"]), []).append(r)
    table = []
    for (k, m, j, p), rs in groups.items():
        iops = [r["iops"] for r in rs]
        base = groups.get((k, m, j, PATHS[0][0]), [])
        ratios = []
        for r in rs:
            b = [x["iops"] for x in base if x["round"] == r["round"]]
            if b and b[0]:
                ratios.append(r["iops"] / b[0])
        inv = [r["inval_per_io"] for r in rs if "inval_per_io" in r]
        table.append({
            "kernel": k, "mode": m, "job": j, "path": p, "rounds": len(rs),
            "iops_median": statistics.median(iops), "iops_min": min(iops),
            "iops_max": max(iops),
            "ratio_median": statistics.median(ratios) if ratios else None,
            "ratio_min": min(ratios) if ratios else None,
            "ratio_max": max(ratios) if ratios else None,
            "mibs": statistics.median(r["mibs"] for r in rs),
            "p50_us": statistics.median(r["p50_us"] for r in rs),
            "p99_us": statistics.median(r["p99_us"] for r in rs),
            "inval_per_io": statistics.median(inv) if inv else None})
    return table


def render(table, lock, kernels):
    out = ["| kernel | mode | job | path | IOPS median [min-max] | ratio to "
           f"{PATHS[0][0]} median [min-max] | MiB/s | p50 us | p99 us | inval/IO |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for t in table:
        ratio = ("-" if t["ratio_median"] is None else
                 f"{t['ratio_median']:.2f} [{t['ratio_min']:.2f}-{t['ratio_max']:.2f}]")
        inv = "-" if t["inval_per_io"] is None else f"{t['inval_per_io']:.3f}"
        out.append(f"| {t['kernel']} | {t['mode']} | {t['job']} | {t['path']} | "
                   f"{t['iops_median']:.0f} [{t['iops_min']:.0f}-{t['iops_max']:.0f}] | "
                   f"{ratio} | {t['mibs']:.1f} | {t['p50_us']:.0f} | {t['p99_us']:.0f} | "
                   f"{inv} |")
    head = ["Kernels: " + ", ".join(f"{k} = {lock[k]['version']} ({lock[k]['abi']})"
                                    for k in kernels)]
    return "\n".join(head + [""] + out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--kernels", default=os.environ.get("KERNELS") or "6.1")
    ap.add_argument("--modes", default=os.environ.get("MODES") or "intel-strict")
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "3")))
    ap.add_argument("--runtime", type=int, default=int(os.environ.get("RUNTIME", "5")))
    ap.add_argument("--jobs", default=os.environ.get("BENCH_JOBS") or DEFAULT_JOBS)
    args = ap.parse_args()

    started = time.time()
    kernels, modes = args.kernels.split(), args.modes.split()
    outdir = os.path.join(os.path.abspath(args.build), "bench",
                          time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(outdir)
    with open(os.path.join(args.build, "kernels.lock")) as f:
        lock = json.load(f)
    rows, failures = [], []
    for k in kernels:
        for m in modes:
            r, bad, _ = run_one(k, m, args, outdir)
            rows += r
            failures += [(k, m, t) for t in bad]
            part = summarise(r)
            print(render(part, lock, [k]), flush=True)
    table = summarise(rows)
    report = render(table, lock, kernels)
    wall = time.time() - started
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write(f"# Benchmark {time.strftime('%Y-%m-%d %H:%M')}\n\n"
                f"Machine: {os.cpu_count()} CPUs, QEMU TCG; {args.rounds} rounds of "
                f"{args.runtime} s per job and path; wall time {wall / 60:.1f} min.\n\n")
        f.write(report)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"rows": rows, "summary": table,
                   "kernels": {k: lock[k] for k in kernels}}, f, indent=1)
    for k, m, t in failures:
        print(f"bench: {k} {m}: {t['name']} FAILED: {'; '.join(t['reasons'])}")
    print(f"bench: report in {outdir}/report.md (wall time {wall / 60:.1f} min)")
    return 1 if failures or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
