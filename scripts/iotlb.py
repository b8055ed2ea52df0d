#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Count IOTLB invalidations per NVMe I/O command from a QEMU trace log.

The runner starts QEMU with -msg timestamp=on and the trace events in
TRACE_EVENTS, so every line reads "<pid>@<epoch>.<usec>:<event> ...".  An
invalidation is one IOTLB invalidation descriptor (VT-d) or command (AMD-Vi);
queue waits and context-cache flushes are not counted.  An I/O is one command
on an NVMe I/O submission queue (pci_nvme_io_cmd, any controller).  The
guest marks a window's edges with numbered writes to the host bridge's
config register 0x3c (tests/guest/lib.sh iotlb_mark), traced as
pci_cfg_write in the same log, so the edges need no host clock.

Usage: iotlb.py TRACE_LOG [--from EPOCH --to EPOCH]
"""

import argparse
import re
import sys

INVAL_EVENTS = ("vtd_inv_desc_iotlb_global", "vtd_inv_desc_iotlb_domain",
                "vtd_inv_desc_iotlb_pages", "vtd_inv_desc_iotlb_pasid",
                "vtd_inv_desc_iotlb_pasid_pages",
                "amdvi_pages_inval", "amdvi_all_inval", "amdvi_iotlb_inval")
IO_EVENT = "pci_nvme_io_cmd"
MARK_EVENT = "pci_cfg_write"
TRACE_EVENTS = INVAL_EVENTS + (IO_EVENT, MARK_EVENT)
LINE = re.compile(r"^\d+@(\d+\.\d+):(\w+)")
# "pci_cfg_write mch 00:00.0 @0x3c <- 0x2a": the q35 host bridge (QEMU's
# "mch"), Interrupt Line and Pin written together as the marker's number
MARK = re.compile(r"pci_cfg_write mch 00:0?0\.?0? @0x3c <- 0x([0-9a-f]+)")


def load(path, marks=None):
    """[(time, is_inval)] for every counted event in the trace log; the
    window markers' times go into marks (number -> time) if given."""
    events = []
    with open(path, errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            ev = m.group(2)
            if ev == IO_EVENT:
                events.append((float(m.group(1)), False))
            elif ev in INVAL_EVENTS:
                events.append((float(m.group(1)), True))
            elif ev == MARK_EVENT and marks is not None:
                mk = MARK.search(line)
                if mk:
                    marks.setdefault(int(mk.group(1), 16), float(m.group(1)))
    return events


def count(events, t0=None, t1=None):
    inval = io = 0
    for t, is_inval in events:
        if (t0 is not None and t < t0) or (t1 is not None and t > t1):
            continue
        if is_inval:
            inval += 1
        else:
            io += 1
    return {"inval": inval, "io": io, "per_io": inval / io if io else 0.0}


def counter(path):
    """A function (t0, t1) -> counts, for verdict.analyse(); its attribute
    marks maps each window marker's number to its trace time."""
    marks = {}
    events = load(path, marks)

    def counts(t0, t1):
        return count(events, t0, t1)
    counts.marks = marks
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("--from", dest="t0", type=float)
    ap.add_argument("--to", dest="t1", type=float)
    args = ap.parse_args()
    r = count(load(args.trace), args.t0, args.t1)
    print(f"{r['inval']} invalidations, {r['io']} NVMe I/O commands, "
          f"{r['per_io']:.3f} invalidations per I/O")


if __name__ == "__main__":
    sys.exit(main())
