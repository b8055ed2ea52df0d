#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot a stock Debian kernel in QEMU (q35, TCG) and run guest tests.

The guest gets a named IOMMU mode, NVMe controllers on sparse raw images and
optionally QEMU's edu DMA device; its /init runs the named tests and powers
off.  The serial console is captured to OUT/console.log, what tests write
to the guest's second serial port (/dev/ttyS1) to OUT/data.log, QEMU's
IOTLB, NVMe and PCI config write trace (the guest's IOTLB window markers,
scripts/iotlb.py) goes to OUT/trace.log, a wall-clock timeout is enforced, and the verdict
(scripts/verdict.py) goes to OUT/result.json.  A boot that oopses before user
space, or has not reached it after --boot-timeout seconds (known TCG flakes
of early boot, before any of our modules is loaded), is retried, at most
--retries times; nothing later is ever retried.

Usage: run-vm.py --kernel KEY --mode MODE --tests a,b,c --out DIR
                 [--nvme SPEC]... [--edu] [--timeout S] [--smp N] [--mem MiB]

NVMe SPEC (comma separated, all optional): size=1G, ns=N (namespaces),
  mdts=N, lbs=512|4096, blkdebug=read|write|rw[@SECTOR], once,
  throttle=IOPS (QEMU block throttling of every namespace's drive to IOPS
  requests per second, reads and writes together: with a deep queue,
  requests wait long enough in QEMU to hit the guest driver's I/O timeout)
  rp (the controller sits alone behind a hot-pluggable pcie-root-port
  with id rpN at slot 0x10+i, and the controller on the port's bus: HMP
  device_del nvmeN / pcie_aer_inject_error rpN work on it),
  subsys (the controller belongs to an NVM subsystem of its own, nqn
  subsysN: namespaces can be attached and detached), detached=N (with
  subsys: the last N namespaces start detached).
  Controllers get serials ctrl0, ctrl1, ... in order and PCI slots 0x10+i;
  their drives are dNn1, dNn2, ... (NVMe device id nvmeN).

QEMU's human monitor (HMP) listens on a unix socket (OUT/hmp.sock, or a
short path under /tmp when that one is too long).  A guest test asks the
host to run a monitor command by printing a console line
  @@HMP <seq> <command>
(tests/guest/lib.sh: hmp; a kernel message that the console appends to
the line is cut off); {OUT} in the command becomes the output
directory (where the drive images are).  The host runs the commands in
order, logs each with its reply in OUT/hmp.log and echoes both into
console.log as "hmp: ..." lines; the guest waits for the command's effect.

--icount SHIFT: the guest's clock counts its instructions (QEMU -icount
  shift=SHIFT: one instruction is 2^SHIFT ns of guest time; sleep=on, so
  idle time still passes as on the host), so the load on the host does not
  change what the guest measures.  All vCPUs then take turns on one host
  thread.  QEMU 7.2 hangs an x86 guest that brings up its second CPU at
  boot in this mode, so the kernel boots with maxcpus=1 and the guest's
  /init brings the other CPUs online (a hotplug works).
"""

import argparse
import json
import os
import queue
import re
import socket
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iotlb  # noqa: E402
import verdict  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# mode -> (QEMU IOMMU device, kernel command line).  Strict intel modes say
# so twice: 5.10's intel-iommu has its own flush queue and reads only
# intel_iommu=strict; later kernels read iommu.strict=1.
STRICT_INTEL = "intel_iommu=on,strict iommu.strict=1"
MODES = {
    "intel-strict-cm": (["-device", "intel-iommu,caching-mode=on"], STRICT_INTEL),
    "intel-strict": (["-device", "intel-iommu"], STRICT_INTEL),
    "intel-lazy": (["-device", "intel-iommu"], "intel_iommu=on iommu.strict=0"),
    "amd": (["-device", "amd-iommu"], "amd_iommu=fullflush iommu.strict=1"),
    "pt": (["-device", "intel-iommu"], "intel_iommu=on iommu=pt"),
    "none": ([], ""),
}
# The guest reads the clock through the TSC.  Under TCG the kernel would
# otherwise boot on it, find it "unstable" against the HPET some seconds
# later and switch: a static-key flip patched into running kernel text,
# which once oopsed (int3 in sched_clock_cpu, from clocksource_watchdog_work)
# in the middle of a test; and every later clock read is an emulated HPET
# access (about 40% of a 4 KiB fio I/O's guest CPU).  QEMU's TCG TSC
# follows one virtual clock for all vCPUs, so trusting it is safe here.
GUEST_CLOCK = "clocksource=tsc tsc=reliable"
BASE_CMDLINE = ("console=ttyS0,115200 panic=-1 loglevel=5 printk.devkmsg=on "
                "mitigations=off nowatchdog " + GUEST_CLOCK)


def parse_nvme(spec, index, outdir):
    opts = {"size": "1G", "ns": "1", "mdts": None, "lbs": None,
            "blkdebug": None, "once": False, "throttle": None, "rp": False,
            "subsys": False, "detached": "0"}
    for item in filter(None, spec.split(",")):
        k, _, v = item.partition("=")
        if k not in opts:
            raise SystemExit(f"run-vm: unknown NVMe option '{k}' in '{spec}'")
        opts[k] = v if v else True
    serial = f"ctrl{index}"
    args = []
    if opts["rp"]:
        # its own hot-pluggable slot (chassis/slot numbers must be unique)
        args += ["-device", f"pcie-root-port,id=rp{index},chassis={index + 1},"
                 f"slot={index + 1},addr={0x10 + index:#x}"]
        ctrl = f"nvme,id=nvme{index},serial={serial},bus=rp{index}"
    else:
        ctrl = f"nvme,id=nvme{index},serial={serial},addr={0x10 + index:#x}"
    if opts["mdts"]:
        ctrl += f",mdts={int(opts['mdts'])}"
    nns, detached = int(opts["ns"]), int(opts["detached"])
    if detached and not opts["subsys"]:
        raise SystemExit(f"run-vm: detached= needs subsys in '{spec}'")
    if opts["subsys"]:
        args += ["-device", f"nvme-subsys,id=subsys{index},nqn=subsys{index}"]
        ctrl += f",subsys=subsys{index}"
    args += ["-device", ctrl]
    for ns in range(1, nns + 1):
        img = os.path.join(outdir, f"{serial}n{ns}.img")
        with open(img, "wb") as f:
            f.truncate(_size(opts["size"]))
        drive = f"file={img}"
        if opts["blkdebug"]:
            conf = os.path.join(outdir, f"{serial}n{ns}.blkdebug")
            _blkdebug_conf(conf, opts["blkdebug"], opts["once"])
            drive = f"file=blkdebug:{conf}:{img}"
        if opts["throttle"]:
            drive += f",throttling.iops-total={int(opts['throttle'])}"
        did = f"d{index}n{ns}"
        args += ["-drive", f"{drive},if=none,id={did},format=raw,cache=unsafe,discard=unmap"]
        nsdev = f"nvme-ns,drive={did},bus=nvme{index},nsid={ns}"
        if opts["lbs"]:
            nsdev += f",logical_block_size={opts['lbs']},physical_block_size={opts['lbs']}"
        if ns > nns - detached:
            nsdev += ",detached=on"
        args += ["-device", nsdev]
    return args


def _size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(s[:-1]) * mult[s[-1].upper()] if s[-1].upper() in mult else int(s)


def _blkdebug_conf(path, what, once):
    spec, _, sector = what.partition("@")
    events = {"read": ["read_aio"], "write": ["write_aio"],
              "rw": ["read_aio", "write_aio"]}[spec]
    with open(path, "w") as f:
        for ev in events:
            f.write(f'[inject-error]\nevent = "{ev}"\nerrno = "5"\n')
            if sector:
                f.write(f'sector = "{sector}"\n')
            if once:
                f.write('once = "on"\n')
            f.write("\n")


def hmp_socket_path(outdir):
    """OUT/hmp.sock, or a /tmp path when that is too long for AF_UNIX."""
    path = os.path.join(outdir, "hmp.sock")
    if len(path.encode()) < 100:
        return path
    return os.path.join(tempfile.mkdtemp(prefix="run-vm-hmp."), "hmp.sock")


class Monitor:
    """QEMU's HMP on a unix socket, fed by a worker thread in line order."""

    PROMPT = b"(qemu) "
    ESC = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\x1b[@-_]")

    def __init__(self, sock_path, outdir, log):
        self.sock_path = sock_path
        self.outdir = outdir
        self.log = log              # console.log file, shared with the reader
        self.log_lock = threading.Lock()
        self.queue = queue.Queue()
        self.sock = None
        self.hmplog = open(os.path.join(outdir, "hmp.log"), "a")
        threading.Thread(target=self._worker, daemon=True).start()

    def submit(self, seq, command):
        self.queue.put((seq, command.replace("{OUT}", self.outdir)))

    def _read_prompt(self, deadline):
        buf = b""
        while not buf.endswith(self.PROMPT):
            self.sock.settimeout(max(0.1, deadline - time.time()))
            chunk = self.sock.recv(4096)
            if not chunk:
                raise OSError("monitor closed")
            buf += chunk
        return buf[:-len(self.PROMPT)]

    def _run(self, command):
        if self.sock is None:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.sock_path)
            self.sock = s
            self._read_prompt(time.time() + 10)     # the banner
        self.sock.sendall(command.encode() + b"\n")
        raw = self._read_prompt(time.time() + 30).decode("utf-8", "replace")
        text = self.ESC.sub("", raw).replace("\r", "")
        # the monitor echoes the command line first
        out = [ln for ln in text.split("\n") if ln.strip()]
        if out and out[0].strip().endswith(command.strip()):
            out = out[1:]
        return out

    def _worker(self):
        while True:
            seq, command = self.queue.get()
            try:
                reply = self._run(command)
            except OSError as e:
                reply = [f"(monitor error: {e})"]
                self.sock = None
            stamp = time.strftime("%H:%M:%S")
            self.hmplog.write(f"{stamp} [{seq}] {command}\n")
            for ln in reply:
                self.hmplog.write(f"{stamp} [{seq}]   {ln}\n")
            self.hmplog.flush()
            with self.log_lock:
                self.log.write(f"hmp: [{seq}] {command}\n")
                for ln in reply:
                    self.log.write(f"hmp: [{seq}]   {ln}\n")
                self.log.flush()


def qemu_command(args, outdir, trace, hmp_sock):
    kdir = os.path.join(args.build, "kernels", args.kernel)
    dev, kcmd = MODES[args.mode]
    icount = args.icount is not None
    cmdline = " ".join(filter(None, [
        BASE_CMDLINE, kcmd, f"dis.mode={args.mode}", f"dis.tests={args.tests}",
        f"dis.test_timeout={args.test_timeout}",
        "maxcpus=1" if icount and args.smp > 1 else "", *args.append]))
    cmd = ["qemu-system-x86_64", "-machine", "q35", "-accel", args.accel,
           *(["-icount", f"shift={args.icount},sleep=on,align=off"] if icount else []),
           "-cpu", "max", "-m", str(args.mem), "-smp", str(args.smp),
           "-display", "none", "-no-reboot", "-nic", "none",
           # HMP for the guest's @@HMP requests (Monitor)
           "-monitor", f"unix:{hmp_sock},server=on,wait=off",
           # ttyS0: the console; ttyS1: a data channel that kernel messages
           # cannot interleave with (tests write results there).
           "-serial", "stdio", "-serial", "file:" + os.path.join(outdir, "data.log"),
           "-kernel", os.path.join(kdir, "vmlinuz"),
           "-initrd", args.initrd or os.path.join(args.build, "initramfs",
                                                  args.kernel + ".cpio"),
           "-append", cmdline]
    # The IOMMU must precede the devices it translates.
    cmd += dev
    if trace:
        evfile = os.path.join(outdir, "trace-events")
        with open(evfile, "w") as f:
            f.write("\n".join(iotlb.TRACE_EVENTS) + "\n")
        cmd += ["-msg", "timestamp=on", "-trace", f"events={evfile}",
                "-D", os.path.join(outdir, "trace.log")]
    for i, spec in enumerate(args.nvme):
        cmd += parse_nvme(spec, i, outdir)
    if args.edu:
        cmd += ["-device", "edu,addr=0xa"]
    return cmd


def boot(cmd, logpath, timeout, boot_timeout, verbose, hmp_sock):
    """Run QEMU; return ([(host_time, line)], timed_out, missed_boot, died):
    QEMU is stopped after timeout seconds, or after boot_timeout if the
    guest's user space has not said @@GUEST-START by then; died says which
    signal ended QEMU otherwise (a crash of QEMU's own), or is None."""
    lines = []
    user_space = threading.Event()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)

    def reader():
        with open(logpath, "w") as log:
            mon = Monitor(hmp_sock, os.path.dirname(logpath), log)
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace")
                lines.append((time.time(), line))
                if "@@GUEST-START" in line:
                    user_space.set()
                pos = line.find("@@HMP ")
                if pos >= 0 and not verdict.KTIME.match(line):
                    req = line[pos + 6:]
                    # a kernel message the serial port put on the same line
                    km = verdict.KTIME.search(req)
                    if km:
                        req = req[:km.start()]
                    seq, _, command = req.strip().partition(" ")
                    if command:
                        mon.submit(seq, command)
                with mon.log_lock:
                    log.write(line)
                    log.flush()
                if verbose:
                    sys.stdout.write(line)
                    sys.stdout.flush()

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    timed_out = missed_boot = False
    t0 = time.time()
    try:
        while not user_space.is_set() and proc.poll() is None:
            if time.time() - t0 >= min(boot_timeout, timeout):
                missed_boot = boot_timeout < timeout
                raise subprocess.TimeoutExpired(cmd, boot_timeout)
            user_space.wait(0.5)
        proc.wait(timeout=max(1, timeout - (time.time() - t0)))
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        proc.wait()
    th.join(timeout=10)
    died = None
    if not timed_out and proc.returncode is not None and proc.returncode < 0:
        died = f"QEMU died of {signal.Signals(-proc.returncode).name}"
        with open(logpath, "a") as log:
            log.write(f"run-vm: {died}\n")
    return lines, timed_out, missed_boot, died


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--mode", required=True, choices=sorted(MODES))
    ap.add_argument("--tests", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--nvme", action="append", default=[],
                    help="add an NVMe controller (repeatable)")
    ap.add_argument("--edu", action="store_true", help="add QEMU's edu DMA device")
    ap.add_argument("--timeout", type=int, default=300,
                    help="wall-clock limit per boot, seconds")
    ap.add_argument("--boot-timeout", type=int, default=120,
                    help="seconds the guest may take to reach user space")
    ap.add_argument("--test-timeout", type=int, default=240)
    ap.add_argument("--smp", type=int, default=2)
    ap.add_argument("--mem", type=int, default=1024)
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--icount", type=int, metavar="SHIFT",
                    help="guest time from its instruction count: 2^SHIFT ns each")
    ap.add_argument("--initrd", help="guest image (default BUILD/initramfs/KERNEL.cpio)")
    ap.add_argument("--append", action="append", default=[],
                    help="extra kernel command line (repeatable)")
    ap.add_argument("--no-trace", dest="trace", action="store_false")
    ap.add_argument("--retries", type=int, default=2)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    with open(os.path.join(args.build, "kernels.lock")) as f:
        lock = json.load(f)[args.kernel]
    out = os.path.abspath(args.out)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    planned = [t for t in args.tests.split(",") if t]
    trace = args.trace and args.mode != "none"
    started = time.time()
    retries = []
    while True:
        for f in os.listdir(out):
            if f.endswith(".img") or f in ("trace.log", "data.log"):
                os.unlink(os.path.join(out, f))
        hmp_sock = hmp_socket_path(out)
        if os.path.exists(hmp_sock):
            os.unlink(hmp_sock)
        cmd = qemu_command(args, out, trace, hmp_sock)
        with open(os.path.join(out, "qemu-cmdline"), "w") as f:
            f.write(" ".join(cmd) + "\n")
        lines, timed_out, missed_boot, died = boot(cmd, os.path.join(out, "console.log"),
                                                   args.timeout, args.boot_timeout,
                                                   args.verbose, hmp_sock)
        counter = None
        tpath = os.path.join(out, "trace.log")
        if trace and os.path.exists(tpath):
            counter = iotlb.counter(tpath)
        res = verdict.analyse(lines, planned, timed_out, args.timeout, counter,
                              boot_deadline=args.boot_timeout if missed_boot else None,
                              qemu_died=died)
        if res["retry"] and len(retries) < args.retries:
            n = len(retries) + 1
            os.replace(os.path.join(out, "console.log"),
                       os.path.join(out, f"console.retry{n}.log"))
            retries.append(res["retry_reason"])
            print(f"run-vm: {args.kernel} {args.mode}: early-boot flake, retrying "
                  f"({n}/{args.retries}): {res['retry_reason']}", file=sys.stderr)
            continue
        break
    for f in os.listdir(out):
        if f.endswith(".img"):
            os.unlink(os.path.join(out, f))
    res.update({"kernel": args.kernel, "version": lock["version"], "abi": lock["abi"],
                "mode": args.mode, "retries": retries,
                "clock": "host" if args.icount is None else f"icount shift={args.icount}",
                "wall": round(time.time() - started, 1), "out": out})
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump(res, f, indent=1)
    failed = [t for t in res["tests"] if t["status"] == "FAIL"]
    for t in res["tests"]:
        extra = "; ".join(t["reasons"]) or t.get("note", "")
        print(f"{t['status']:4} {args.kernel} {args.mode} {t['name']} {t['secs']}s"
              + (f"  ({extra})" if extra else ""))
    for label, r in res["iotlb"].items():
        print(f"iotlb {args.kernel} {args.mode} {label}: {r['inval']} invalidations / "
              f"{r['io']} I/O = {r['per_io']:.3f} per I/O")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
