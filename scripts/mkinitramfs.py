#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Build the guest initramfs for one target kernel.

Contents: busybox-static, the kernel's own modules the tests need (with their
dependencies, decompressed), the project's freshly built modules under
extra/ with depmod run so modprobe works, fio and nvme-cli with the shared
libraries they load, the project's own static guest tools (tests/fuzz,
built into BUILD/tools), and the guest test scripts.  No rootfs download, no
network.  The archive is an uncompressed cpio: the guest unpacks it with a
memcpy, which under TCG is faster than decompressing.

With --dkms ROOT, the project's installed modules are taken from a DKMS
install tree instead (ROOT/lib/modules/<abi>/updates/dkms, as
scripts/pkgtest.sh copies it out of its chroot) and land in the same place
in the image; only the test-only modules still come from the build tree.
--module FILE adds a module built elsewhere (it replaces one of the same
name).

Usage: mkinitramfs.py [--build DIR] [--obj DIR] [--dkms ROOT] [--module FILE]...
                      [--out FILE] KEY
"""

import argparse
import json
import lzma
import os
import re
import shutil
import stat
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# /usr/sbin/mke2fs: e2fsprogs' (Essential in Debian) beside busybox's
# /sbin/mke2fs, which makes ext2 only: nvme-cmds needs an ext4 journal
# (online discard in batches)
HOST_TOOLS = ["/usr/bin/fio", "/usr/sbin/nvme", "/usr/sbin/mke2fs"]
BUSYBOX = "/bin/busybox"


def die(msg):
    sys.exit(f"mkinitramfs: {msg}")


def modname(path):
    base = os.path.basename(path)
    base = re.sub(r"\.ko(\.xz|\.zst|\.gz)?$", "", base)
    return base.replace("-", "_")


def kernel_module_names(moddir):
    """Map the name of each module in moddir to its file."""
    index = {}
    for dirpath, _, files in os.walk(os.path.join(moddir, "kernel")):
        for f in files:
            if re.search(r"\.ko(\.xz|\.zst|\.gz)?$", f):
                index[modname(f)] = os.path.join(dirpath, f)
    return index


def kernel_modules(moddir, index, wanted):
    """Map each wanted module and its dependencies to its file in moddir
    (index: kernel_module_names(moddir))."""
    builtin = set()
    bpath = os.path.join(moddir, "modules.builtin")
    if os.path.exists(bpath):
        with open(bpath) as f:
            builtin = {modname(line.strip()) for line in f}
    out, todo = {}, [w.replace("-", "_") for w in wanted]
    while todo:
        name = todo.pop().replace("-", "_")
        if name in out or name in builtin:
            continue
        if name not in index:
            die(f"kernel module {name} not found in {moddir}")
        out[name] = index[name]
        r = subprocess.run(["modinfo", "-F", "depends", index[name]],
                           text=True, capture_output=True, check=True)
        todo += [d for d in r.stdout.strip().split(",") if d]
        r = subprocess.run(["modinfo", "-F", "softdep", index[name]],
                           text=True, capture_output=True, check=True)
        for word in r.stdout.split():
            if word not in ("pre:", "post:") and word.replace("-", "_") in index:
                todo.append(word.replace("-", "_"))
    return out


def copy_module(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if src.endswith(".xz"):
        with lzma.open(src) as fi, open(dst, "wb") as fo:
            shutil.copyfileobj(fi, fo)
    elif src.endswith(".zst"):
        subprocess.run(["zstd", "-q", "-d", "-f", src, "-o", dst], check=True)
    else:
        shutil.copy2(src, dst)


def shared_libs(binary):
    r = subprocess.run(["ldd", binary], text=True, capture_output=True, check=True)
    libs = []
    for line in r.stdout.splitlines():
        m = re.search(r"(/\S+) \(0x", line)
        if m:
            libs.append(m.group(1))
    return libs


def build_tests_tools(build, root):
    """Build the project's own guest tools (static, host gcc) into
    BUILD/tools and install them in the image's /usr/bin."""
    tools = os.path.join(build, "tools")
    os.makedirs(tools, exist_ok=True)
    subprocess.run(["make", "-s", "-C", os.path.join(TOP, "tests", "fuzz"),
                    "O=" + tools], check=True)
    for tool in ("nvme-passthru-fuzz", "nvme-overlong"):
        copy_file(os.path.join(tools, tool), root, "/usr/bin/" + tool)


def copy_file(src, root, dst=None):
    dst = os.path.join(root, (dst or src).lstrip("/"))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.islink(dst):     # a busybox applet: replace it, not busybox
        os.unlink(dst)
    shutil.copy2(os.path.realpath(src), dst)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--obj", help="module build tree (default BUILD/obj/KEY, "
                    "as scripts/kbuild.sh uses it)")
    ap.add_argument("--out", help="output cpio (default BUILD/initramfs/KEY.cpio)")
    ap.add_argument("--dkms", metavar="ROOT",
                    help="take the installed modules from ROOT/lib/modules/<abi>/updates/dkms")
    ap.add_argument("--module", action="append", default=[], metavar="FILE",
                    help="add a module built elsewhere (repeatable)")
    ap.add_argument("--tool", action="append", default=[], metavar="PATH",
                    help="add a host program and its libraries (repeatable), "
                         "e.g. /usr/bin/perf to profile in the guest")
    ap.add_argument("key")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    with open(os.path.join(build, "kernels.lock")) as f:
        lock = json.load(f)
    if args.key not in lock:
        die(f"kernel key {args.key} not fetched (scripts/fetch-kernels.py {args.key})")
    abi = lock[args.key]["abi"]
    kdir = os.path.join(build, "kernels", args.key)
    moddir = os.path.realpath(os.path.join(kdir, "modules"))
    out = os.path.abspath(args.out or os.path.join(build, "initramfs", args.key + ".cpio"))
    root = out[:-len(".cpio")] + ".root" if out.endswith(".cpio") else out + ".root"
    os.makedirs(os.path.dirname(out), exist_ok=True)

    shutil.rmtree(root, ignore_errors=True)
    for d in ("bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "run", "mnt",
              "root", "var/tmp", "lib64", "usr/bin", "usr/sbin"):
        os.makedirs(os.path.join(root, d), exist_ok=True)

    # busybox and its applets
    copy_file(BUSYBOX, root, "/bin/busybox")
    applets = subprocess.run([BUSYBOX, "--list-full"], text=True,
                             capture_output=True, check=True).stdout.split()
    for a in applets:
        p = os.path.join(root, a)
        if not os.path.lexists(p):
            os.makedirs(os.path.dirname(p), exist_ok=True)
            os.symlink("/bin/busybox", p)

    # user-space tools and their libraries
    for tool in HOST_TOOLS + args.tool:
        if not os.path.exists(tool):
            die(f"{tool} missing on the host (make deps)")
        copy_file(tool, root)
        for lib in shared_libs(tool):
            copy_file(lib, root)

    build_tests_tools(build, root)

    # kernel modules: the kernel's own, then ours
    with open(os.path.join(TOP, "tests", "guest", "kernel-modules.list")) as f:
        wanted = [w for line in f for w in line.split("#", 1)[0].split()]
    # NAME? : only where this kernel has NAME as a module
    index = kernel_module_names(moddir)
    wanted = [w for w in wanted if not w.endswith("?")] + \
        [w[:-1] for w in wanted if w.endswith("?") and w[:-1].replace("-", "_") in index]
    dst_moddir = os.path.join(root, "lib", "modules", abi)
    for name, src in kernel_modules(moddir, index, wanted).items():
        rel = os.path.relpath(src, moddir)
        rel = re.sub(r"\.(xz|zst|gz)$", "", rel)
        copy_module(src, os.path.join(dst_moddir, rel))
    for f in ("modules.builtin", "modules.builtin.modinfo", "modules.order"):
        if os.path.exists(os.path.join(moddir, f)):
            shutil.copy2(os.path.join(moddir, f), dst_moddir)
    ours = {}
    objtree = os.path.join(os.path.abspath(args.obj) if args.obj else
                           os.path.join(build, "obj", args.key), "tree")
    for dirpath, _, files in os.walk(objtree):
        ours.update({modname(f): os.path.join(dirpath, f) for f in files
                     if f.endswith(".ko")})
    if not ours:
        die(f"no modules built for {args.key} (make modules KERNEL={args.key})")
    dkms = {}
    if args.dkms:
        src = os.path.join(os.path.abspath(args.dkms), "lib", "modules", abi,
                           "updates", "dkms")
        if os.path.isdir(src):
            dkms = {modname(f): os.path.join(src, f) for f in os.listdir(src)
                    if re.search(r"\.ko(\.xz|\.zst|\.gz)?$", f)}
        if not dkms:
            die(f"no DKMS-installed modules in {src} (scripts/pkgtest.sh dkms {args.key})")
    for f in args.module:
        ours[modname(f)] = os.path.abspath(f)
    for name, ko in dkms.items():
        ours.pop(name, None)
        dst = re.sub(r"\.(xz|zst|gz)$", "", os.path.basename(ko))
        copy_module(ko, os.path.join(dst_moddir, "updates", "dkms", dst))
    for ko in ours.values():
        copy_module(ko, os.path.join(dst_moddir, "extra", os.path.basename(ko)))
    subprocess.run(["depmod", "-b", root, abi], check=True)

    # tests and configuration
    shutil.copytree(os.path.join(TOP, "tests", "guest"), os.path.join(root, "tests"))
    shutil.copytree(os.path.join(TOP, "tests", "fio"), os.path.join(root, "tests", "fio"))
    # the bind helper and the fio comparison are user tools (scripts/); the
    # guest tests run them too
    for tool in ("bind-nvme.sh", "fio-compare.sh"):
        shutil.copy2(os.path.join(TOP, "scripts", tool), os.path.join(root, "tests", tool))
    shutil.copy2(os.path.join(TOP, "tests", "guest", "init"), os.path.join(root, "init"))
    os.chmod(os.path.join(root, "init"), 0o755)
    with open(os.path.join(root, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n")
    with open(os.path.join(root, "etc", "group"), "w") as f:
        f.write("root:x:0:\nnogroup:x:65534:\n")
    with open(os.path.join(root, "etc", "kernel-key"), "w") as f:
        f.write(f"{args.key} {lock[args.key]['version']} {abi}\n")

    files = subprocess.run(["find", ".", "-mindepth", "1"], cwd=root, text=True,
                           capture_output=True, check=True).stdout
    with open(out + ".tmp", "wb") as fo:
        subprocess.run(["cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0"],
                       cwd=root, input=files.encode(), stdout=fo, check=True)
    os.replace(out + ".tmp", out)
    size = os.stat(out)[stat.ST_SIZE] >> 20
    print(f"mkinitramfs: {out} ({size} MiB, {len(ours) + len(dkms)} project module(s)"
          + (f", {len(dkms)} from DKMS" if dkms else "") + ")")


if __name__ == "__main__":
    main()
