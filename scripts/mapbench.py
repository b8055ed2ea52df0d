#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The mapping microbenchmark, host side (run by bench.py; a benchmark, not a test).

One guest per kernel x IOMMU mode binds dis_selftest to QEMU's edu device
and runs its microbenchmark (tests/selftest/mbench.c, driven by
tests/guest/bench-map.sh): the cost of mapping and unmapping one request of
1, 4, 8, 32 or 128 scattered 4 KiB pages with dma_map_page per segment,
dma_map_sgtable on a prebuilt table, filling the table + dma_map_sgtable,
the shim's two-step API and the kernel's own (7.x), with a thread per vCPU.
Every repeat batch times each method in turn (order rotated per batch), so
ratios are taken batch by batch: median and [min-max] over batches.  IOTLB
invalidations per request come from one-thread windows counted in QEMU's
trace.  Figures are reported, never judged.

The guests' clock counts instructions by default (QEMU -icount, one vCPU):
the host's load then does not move the figures, which measure the guest
instructions of each method (an IOTLB invalidation that QEMU emulates
costs host time only, so strict-mode figures leave it out).  One vCPU: two
vCPUs under icount take turns on one host thread, so two threads never map
at once.  The host clock (bench.py --map-clock host, BENCH_ICOUNT=0) runs
two vCPUs in parallel and times 1 and 2 threads, with the host's noise.
doc/mapbench-icount.md: why, the limits, and what was measured.

As a command: mapbench.py DATA_LOG [RESULT_JSON] prints the table of one
guest run (its data.log, and result.json for the invalidations);
mapbench.py --compare BEFORE AFTER [LIMIT_PERCENT] compares the tracked
ratios and the shim's ns per request of two bench output directories
(results.json) and flags what got worse by more than LIMIT_PERCENT
(default 5).
"""

import csv
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402
from guest import fmt, span  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METHODS = ["map_page", "sgtable", "sgtable_fill", "shim_two_step", "native_two_step"]
SHORT = {"map_page": "map_page", "sgtable": "sgtable", "sgtable_fill": "fill+sgtable",
         "shim_two_step": "shim 2-step", "native_two_step": "native 2-step"}
SHIM, NATIVE = "shim_two_step", "native_two_step"
SEGS = [1, 4, 8, 32, 128]
THREADS = [1, 2]
MODES = "intel-strict"
MODES_FULL = "intel-strict intel-strict-cm intel-lazy pt none"
STRICT = ("intel-strict", "intel-strict-cm", "amd")
# Under icount one instruction is 2^ICOUNT_SHIFT ns of guest time: at 3 the
# guest's clock runs about as fast as TCG executes on the build machine, so
# the guest's own timeouts keep their meaning, and its boot-time delay loops
# are no longer than on the host clock (at 0 they spin 8 times as many
# instructions: a 6.1 boot took 15 s longer).
ICOUNT_SHIFT = 3
# The comparisons the project tracks: (name, other method, modes or None
# for all, segment counts).
TARGETS = [("shim / native 2-step", NATIVE, None, SEGS),
           ("shim / fill+sgtable", "sgtable_fill", None, SEGS),
           ("shim / map_page (strict)", "map_page", STRICT, [32])]


def parse(lines):
    """Guest data lines -> (info, cells).  info["complete"]: the run ended."""
    info = {"complete": False, "done": False}
    cells = []
    for line in lines:
        pos = line.find("@@DATA map ")
        if pos < 0:
            continue
        words = line[pos:].split()[2:]
        if not words:
            continue
        if words[0] in ("guest", "mbench"):
            for w in words[1:]:
                k, _, v = w.partition("=")
                info[k] = v
        elif words[0] == "cell" and len(words) >= 7:
            method, thr, segs, req, path = words[1:6]
            cells.append({"method": method, "threads": int(thr), "segs": int(segs),
                          "requests": int(req), "path": path,
                          "ns": [int(x) for x in words[6:]]})
        elif words[0] == "end":
            info["complete"] = True
            for w in words[1:]:
                k, _, v = w.partition("=")
                info[k] = v
        elif words[0] == "done":
            info["done"] = True
    info["native"] = info.get("native") == "1"
    return info, cells


def inval_counts(result):
    """{(method, segs): invalidations per request} from a run's result.json."""
    out = {}
    for label, c in result.get("iotlb", {}).items():
        parts = label.split(":")
        if len(parts) == 3 and parts[0] == "map":
            out[(parts[1], int(parts[2]))] = c["per_io"]
    return out


def run(kernel, mode, args, outdir, say):
    """Boot one guest; return (cells, info, failed tests)."""
    out = os.path.join(outdir, f"map-{kernel}-{mode}")
    windows = 0 if mode == "none" or args.map_count_segs == "none" else \
        len(args.map_count_segs.split(",")) * len(METHODS)
    timeout = int(300 + args.map_repeats * args.map_pages * 0.005 + windows * 15)
    vm = ["--edu", "--nvme", "size=64M"]
    if args.map_clock == "icount":
        vm += ["--icount", str(args.map_icount_shift), "--smp", "1"]
    append = [f"dis.mbench_repeats={args.map_repeats} dis.mbench_pages={args.map_pages} "
              f"dis.mbench_count={args.map_count} dis.mbench_count_segs={args.map_count_segs}"]
    say(f"bench: map {kernel} {mode}: {args.map_repeats} batches of {args.map_pages} "
        f"pages per method, up to {windows} IOTLB windows, {clock_name(args)}")
    done = 0

    def progress(line):
        nonlocal done
        if "@@IOTLB-END map:" in line:
            done += 1
            say(f"  [{done}/{windows}] map {kernel} {mode} IOTLB "
                f"{line.split('@@IOTLB-END ')[1].split()[0]} done")
        elif line.startswith("mbench: "):
            say(f"  map {kernel} {mode}: timing")

    r = guest.boot(args.build, kernel, mode, ["iommu-mode", "bench-map"], out, timeout,
                   on_line=progress, test_timeout=timeout, vm=vm, append=append)
    if not r.ok:
        return [], {}, [(kernel, mode, {"name": "bench-map", "reasons": [r.why]})]
    res = r.result
    try:
        with open(os.path.join(out, "data.log"), errors="replace") as f:
            info, cells = parse(f)
    except OSError:
        info, cells = parse([])
    inval = inval_counts(res)
    for c in cells:
        c.update({"kernel": kernel, "mode": mode})
        if c["threads"] == 1 and (c["method"], c["segs"]) in inval:
            c["inval_per_req"] = inval[(c["method"], c["segs"])]
    info.update({"kernel": kernel, "mode": mode, "version": res.get("version", ""),
                 "clock": res.get("clock", "host")})
    bad = [(kernel, mode, t) for t in res["tests"] if t["status"] == "FAIL"]
    if not info["complete"]:
        bad.append((kernel, mode, {"name": "bench-map", "reasons": ["incomplete output"]}))
    return cells, info, bad


def clock_name(args):
    """The guests' clock, as the report says it."""
    if args.map_clock == "icount":
        return (f"guest clock from the instruction count (QEMU -icount shift="
                f"{args.map_icount_shift}: {1 << args.map_icount_shift} ns per instruction), "
                "1 vCPU")
    return "host clock (the TSC of TCG), 2 vCPUs"


def summarise(cells):
    """Per cell: ns median/min/max over batches, and shim / method per batch."""
    by = {(c["kernel"], c["mode"], c["threads"], c["segs"], c["method"]): c for c in cells}
    table = []
    for c in cells:
        shim = by.get((c["kernel"], c["mode"], c["threads"], c["segs"], SHIM))
        ratio = None
        if shim and len(shim["ns"]) == len(c["ns"]):
            ratio = span([s / o for s, o in zip(shim["ns"], c["ns"]) if o])
        table.append({k: c[k] for k in ("kernel", "mode", "threads", "segs", "method",
                                        "path", "requests")}
                     | {"repeats": len(c["ns"]), "ns": span(c["ns"]),
                        "inval_per_req": c.get("inval_per_req"), "shim_ratio": ratio})
    order = {m: i for i, m in enumerate(METHODS)}
    table.sort(key=lambda t: (t["kernel"], t["mode"], t["threads"], t["segs"],
                              order.get(t["method"], 99)))
    return table


def targets(table):
    """The tracked comparisons: shim / other, median [min-max] over batches."""
    out = []
    for name, other, modes, segs in TARGETS:
        for t in table:
            if t["method"] == other and t["segs"] in segs and t["shim_ratio"] and \
                    (modes is None or t["mode"] in modes):
                out.append({"comparison": name, "kernel": t["kernel"], "mode": t["mode"],
                            "threads": t["threads"], "segs": t["segs"],
                            "ratio": t["shim_ratio"]})
    return out


def render(table, tgts, infos):
    """Markdown: targets, ns per request, invalidations per request."""
    methods = [m for m in METHODS if any(t["method"] == m for t in table)]
    by = {(t["kernel"], t["mode"], t["threads"], t["segs"], t["method"]): t for t in table}
    out = ["Ratios are shim two-step time / the other method's time in the same "
           "batch (below 1: the shim is cheaper): median [min-max] over batches.", "",
           "| comparison | kernel | mode | threads | "
           + " | ".join(f"{s} seg" for s in SEGS) + " |",
           "|---|---|---|---|" + "---|" * len(SEGS)]
    rows = {}
    for g in tgts:
        rows.setdefault((g["comparison"], g["kernel"], g["mode"], g["threads"]), {})[
            g["segs"]] = g["ratio"]
    for (name, k, m, thr), vals in rows.items():
        out.append(f"| {name} | {k} | {m} | {thr} | "
                   + " | ".join(fmt(vals.get(s), 2) for s in SEGS) + " |")
    clocks = sorted({i.get("clock", "host") for i in infos})
    out += ["", "Nanoseconds per request (map + unmap) as each thread sees it, median "
            "[min-max] over batches"
            + ("; with 2 threads both map at once on their own CPU" if "host" in clocks
               else "") + ". Clock: "
            + ", ".join("host (TSC)" if c == "host" else
                        f"{c} (guest ns = instructions x {1 << int(c.split('=')[1])})"
                        for c in clocks)
            + ". fb: try_alloc said no, per-segment dma_map_phys (the fallback).", "",
            "| kernel | mode | threads | segs | " + " | ".join(SHORT[m] for m in methods)
            + " |", "|---|---|---|---|" + "---|" * len(methods)]
    keys = sorted({(t["kernel"], t["mode"], t["threads"], t["segs"]) for t in table})
    for k, m, thr, s in keys:
        cells = []
        for meth in methods:
            t = by.get((k, m, thr, s, meth))
            cells.append("-" if not t else fmt(t["ns"])
                         + (" fb" if t["path"] == "fallback" else ""))
        out.append(f"| {k} | {m} | {thr} | {s} | " + " | ".join(cells) + " |")
    inv = [t for t in table if t["inval_per_req"] is not None]
    if inv:
        out += ["", "IOTLB invalidations per request (one thread, QEMU trace).", "",
                "| kernel | mode | segs | " + " | ".join(SHORT[m] for m in methods) + " |",
                "|---|---|---|" + "---|" * len(methods)]
        for k, m, s in sorted({(t["kernel"], t["mode"], t["segs"]) for t in inv}):
            cells = []
            for meth in methods:
                t = by.get((k, m, 1, s, meth))
                v = t["inval_per_req"] if t else None
                cells.append("-" if v is None else f"{v:.3f}")
            out.append(f"| {k} | {m} | {s} | " + " | ".join(cells) + " |")
    notes = [f"{i['kernel']} {i['mode']}: domain {i.get('domain', '?')}, DMA mask "
             f"{i.get('mask', '?')}, {i.get('cpus', '?')} CPUs, {i.get('repeats', '?')} "
             f"batches of {i.get('pages', '?')} pages per method"
             + (f", {i['late_starts']} late thread starts" if i.get("late_starts", "0") != "0"
                else "") for i in infos]
    if notes:
        out += [""] + [f"- {n}" for n in notes]
    return "\n".join(out) + "\n"


def write_csv(outdir, table, tgts, versions):
    """map.csv (every cell) and map-targets.csv (the tracked ratios)."""
    with open(os.path.join(outdir, "map.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kernel", "version", "mode", "threads", "segs", "method", "path",
                    "requests_per_batch", "repeats", "median_ns", "min_ns", "max_ns",
                    "inval_per_request", "shim_ratio_median", "shim_ratio_min",
                    "shim_ratio_max"])
        for t in table:
            r = t["shim_ratio"] or ("", "", "")
            ns = t["ns"] or ("", "", "")
            inv = "" if t["inval_per_req"] is None else f"{t['inval_per_req']:.4f}"
            w.writerow([t["kernel"], versions.get(t["kernel"], ""), t["mode"], t["threads"],
                        t["segs"], t["method"], t["path"], t["requests"], t["repeats"],
                        *ns, inv, *(f"{x:.4f}" if x != "" else "" for x in r)])
    with open(os.path.join(outdir, "map-targets.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["comparison", "kernel", "mode", "threads", "segs", "ratio_median",
                    "ratio_min", "ratio_max"])
        for g in tgts:
            w.writerow([g["comparison"], g["kernel"], g["mode"], g["threads"], g["segs"],
                        *(f"{x:.4f}" for x in g["ratio"])])


def missing(cells, infos, repeats, count_segs):
    """What a complete run lacks (for the smoke test): a list of strings."""
    miss = []
    for i in infos:
        k, m = i["kernel"], i["mode"]
        if not i.get("complete"):
            miss.append(f"{k} {m}: no end line")
        have = {(c["threads"], c["segs"], c["method"]): c for c in cells
                if c["kernel"] == k and c["mode"] == m}
        methods = METHODS if i.get("native") else METHODS[:-1]
        for thr in THREADS[:int(i.get("cpus", "1"))]:
            for s in SEGS:
                for meth in methods:
                    c = have.get((thr, s, meth))
                    if not c:
                        miss.append(f"{k} {m}: no cell {meth} {thr} thread(s) {s} seg")
                    elif len(c["ns"]) != repeats:
                        miss.append(f"{k} {m}: {meth} {thr}/{s}: {len(c['ns'])} batches")
                    elif thr == 1 and m != "none" and count_segs != "none" and \
                            str(s) in count_segs.split(",") and "inval_per_req" not in c:
                        miss.append(f"{k} {m}: no IOTLB count for {meth} {s} seg")
    return miss


def load_run(path):
    """A bench output directory (or its results.json) -> its "map" part."""
    if os.path.isdir(path):
        path = os.path.join(path, "results.json")
    with open(path) as f:
        return json.load(f)["map"]


def spread(tgts):
    """Per tracked ratio, (max - min) / median over batches."""
    return [(g["ratio"][2] - g["ratio"][1]) / g["ratio"][0] for g in tgts if g["ratio"][0]]


def compare(before, after, limit=5.0):
    """Markdown: every tracked ratio and the shim's ns per request, before ->
    after (median over batches) and the change; ** where the after run is
    worse by more than limit percent.  Returns (text, [what got worse])."""
    def rows(run):
        out = {}
        for g in run["targets"]:
            out.setdefault((g["comparison"], g["kernel"], g["mode"], g["threads"]), {})[
                g["segs"]] = g["ratio"][0]
        for t in run["summary"]:
            if t["method"] == SHIM and t["ns"]:
                out.setdefault(("shim ns per request", t["kernel"], t["mode"],
                                t["threads"]), {})[t["segs"]] = t["ns"][0]
        return out

    b, a = rows(before), rows(after)
    worse, changes = [], []
    out = ["| comparison | kernel | mode | threads | "
           + " | ".join(f"{s} seg" for s in SEGS) + " |",
           "|---|---|---|---|" + "---|" * len(SEGS)]
    for key in sorted(set(b) & set(a), key=lambda k: (k[0].startswith("shim ns"), k)):
        cells = []
        for s in SEGS:
            x, y = b[key].get(s), a[key].get(s)
            if x is None or y is None:
                cells.append("-")
                continue
            pct = 100.0 * (y / x - 1) if x else 0.0
            changes.append(abs(pct))
            digits = 0 if key[0].startswith("shim ns") else 2
            cell = f"{x:.{digits}f} -> {y:.{digits}f} ({pct:+.1f}%)"
            if pct > limit:
                cell = f"**{cell}**"
                worse.append(f"{key[0]}, {key[1]} {key[2]}, {key[3]} thread(s), {s} seg: "
                             f"{x:.{digits}f} -> {y:.{digits}f} ({pct:+.1f}%)")
            cells.append(cell)
        out.append(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | " + " | ".join(cells) + " |")
    sb, sa = spread(before["targets"]), spread(after["targets"])
    out += ["", f"Spread of the tracked ratios over batches, (max - min) / median: before "
            f"median {100 * statistics.median(sb):.1f}%, max {100 * max(sb):.1f}%; after "
            f"median {100 * statistics.median(sa):.1f}%, max {100 * max(sa):.1f}%."
            if sb and sa else "",
            f"Change of the medians, before to after: median |change| "
            f"{statistics.median(changes):.1f}%, max {max(changes):.1f}%; "
            f"{len(worse)} worse by more than {limit:g}%." if changes else "No common cells."]
    return "\n".join(out) + "\n", worse


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if sys.argv[1] == "--compare":
        if len(sys.argv) < 4:
            sys.exit(__doc__)
        text, _ = compare(load_run(sys.argv[2]), load_run(sys.argv[3]),
                          float(sys.argv[4]) if len(sys.argv) > 4 else 5.0)
        print(text)
        return
    with open(sys.argv[1], errors="replace") as f:
        info, cells = parse(f)
    res = {}
    if len(sys.argv) > 2:
        with open(sys.argv[2]) as f:
            res = json.load(f)
    inval = inval_counts(res)
    info.update({"kernel": "-", "mode": info.get("mode", "-")})
    for c in cells:
        c.update({"kernel": "-", "mode": info["mode"]})
        if c["threads"] == 1 and (c["method"], c["segs"]) in inval:
            c["inval_per_req"] = inval[(c["method"], c["segs"])]
    table = summarise(cells)
    print(render(table, targets(table), [info]))


if __name__ == "__main__":
    main()
