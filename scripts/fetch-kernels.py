#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fetch stock Debian kernels (image, modules, headers) for the test matrix.

Nothing is installed on the host: a private apt configuration under
BUILD/apt resolves and downloads the packages, the .debs are cached under
BUILD/debs, and each kernel is unpacked into BUILD/kernels/<key>/root.
The resolved versions are written to BUILD/kernels.lock.

A target's flavour (scripts/targets.conf) picks Debian's image flavour:
amd64 (generic) or rt-amd64 (PREEMPT_RT).  Flavour "debug" is not
downloaded: scripts/build-debug-kernel.sh builds it from Debian's source
package (cached; it writes its own lock entry).

Usage: fetch-kernels.py [--build DIR] [--refresh] [KEY...]
"""

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
SECURITY_MIRROR = os.environ.get("DEBIAN_SECURITY_MIRROR",
                                 "http://deb.debian.org/debian-security")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
# Packages that make up a kernel: ABI-specific names only (a digit follows
# the prefix), so meta packages, compilers and linux-base are left out.
KERNEL_PKG = re.compile(r"^linux-(image|headers|kbuild|modules|binary|base)-[0-9]")
LISTS_MAX_AGE = 12 * 3600
# Bump when unpack() changes what it produces, so cached trees are redone.
UNPACK_LAYOUT = 2


def log(msg):
    print(f"fetch-kernels: {msg}", file=sys.stderr, flush=True)


def read_targets():
    targets = {}
    with open(os.path.join(TOP, "scripts", "targets.conf")) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            key, match, builder, suites = line[:4]
            flavour = line[4] if len(line) > 4 else "amd64"
            targets[key] = {"match": match, "builder": builder,
                            "suites": suites.split(","), "flavour": flavour}
    return targets


class Apt:
    """apt-get/apt-cache with a configuration private to the build dir."""

    def __init__(self, root, suites):
        self.root = root
        etc = os.path.join(root, "etc")
        for d in ("etc/apt.conf.d", "etc/preferences.d", "etc/sources.list.d",
                  "state/lists/partial", "cache/archives/partial"):
            os.makedirs(os.path.join(root, d), exist_ok=True)
        status = os.path.join(root, "state", "status")
        if not os.path.exists(status):
            open(status, "w").close()
        lines = []
        for s in suites:
            url = SECURITY_MIRROR if s.endswith("-security") else MIRROR
            lines.append(f"deb [signed-by={KEYRING}] {url} {s} main\n")
        self._write(os.path.join(etc, "sources.list"), "".join(lines))
        conf = f"""Dir::Etc "{etc}";
Dir::Etc::sourcelist "{etc}/sources.list";
Dir::Etc::sourceparts "{etc}/sources.list.d";
Dir::Etc::parts "{etc}/apt.conf.d";
Dir::Etc::preferences "{etc}/preferences";
Dir::Etc::preferencesparts "{etc}/preferences.d";
Dir::Etc::trusted "/etc/apt/trusted.gpg";
Dir::Etc::trustedparts "/etc/apt/trusted.gpg.d";
Dir::State "{root}/state";
Dir::State::status "{status}";
Dir::Cache "{root}/cache";
Acquire::Check-Valid-Until "false";
Acquire::Languages "none";
Acquire::Retries "3";
APT::Architectures {{ "amd64"; }};
APT::Sandbox::User "root";
"""
        self._write(os.path.join(etc, "apt.conf"), conf)
        self.env = dict(os.environ, APT_CONFIG=os.path.join(etc, "apt.conf"))

    @staticmethod
    def _write(path, text):
        old = None
        if os.path.exists(path):
            with open(path) as f:
                old = f.read()
        if old != text:
            with open(path, "w") as f:
                f.write(text)

    def run(self, *args, cwd=None, check=True):
        r = subprocess.run(args, env=self.env, cwd=cwd, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if check and r.returncode:
            raise RuntimeError(f"{' '.join(args)} failed:\n{r.stderr}")
        return r.stdout

    def update(self, force):
        stamp = os.path.join(self.root, "state", "updated")
        src = os.path.join(self.root, "etc", "sources.list")
        fresh = (os.path.exists(stamp) and
                 os.path.getmtime(stamp) > os.path.getmtime(src) and
                 time.time() - os.path.getmtime(stamp) < LISTS_MAX_AGE)
        if fresh and not force:
            return
        log("apt-get update (private configuration)")
        try:
            self.run("apt-get", "-q", "update")
        except RuntimeError as e:
            if os.path.exists(stamp) and not force:
                log(f"update failed, using cached package lists: {e}")
                return
            raise
        open(stamp, "w").close()

    def madison(self, pkg):
        out = self.run("apt-cache", "madison", pkg, check=False)
        rows = []
        for line in out.splitlines():
            parts = [p.strip() for p in line.split("|")]
            if len(parts) == 3:
                rows.append((parts[1], parts[2].split()[1].split("/")[0]))
        return rows

    def depends(self, pkg, version):
        out = self.run("apt-cache", "show", f"{pkg}={version}")
        stanza = out.split("\n\n")[0]
        m = re.search(r"^Depends: (.*)$", stanza, re.M)
        deps = []
        if m:
            for alt in m.group(1).split(","):
                first = alt.split("|")[0].strip()
                dm = re.match(r"([^ (]+)(?: \(([<>=]+) ([^)]+)\))?", first)
                deps.append(dm.groups())
        return deps


def version_cmp(a, op, b):
    ops = {"=": "eq", ">=": "ge", "<=": "le", ">>": "gt", "<<": "lt"}
    return subprocess.run(["dpkg", "--compare-versions", a, ops[op], b]).returncode == 0


def newest(versions):
    best = None
    for v in versions:
        if best is None or version_cmp(v, ">>", best):
            best = v
    return best


def resolve(apt, key, target):
    """Newest matching kernel in the target's suites and its package set."""
    image = f"linux-image-{target['flavour']}"
    cands = [(v, s) for v, s in apt.madison(image)
             if s in target["suites"] and fnmatch.fnmatch(v, target["match"])]
    if not cands:
        raise RuntimeError(f"no {image} {target['match']} in "
                           f"{','.join(target['suites'])}")
    ver = newest(v for v, _ in cands)
    suite = [s for v, s in cands if v == ver][0]
    pkgs = {}
    todo = [(image, ver), (f"linux-headers-{target['flavour']}", ver)]
    while todo:
        name, v = todo.pop()
        for dep, op, dver in apt.depends(name, v):
            if not KERNEL_PKG.match(dep) or dep in pkgs:
                continue
            avail = [x for x, _ in apt.madison(dep)]
            if op:
                avail = [x for x in avail if version_cmp(x, op, dver)]
            if not avail:
                raise RuntimeError(f"{key}: cannot satisfy {dep} {op} {dver}")
            pkgs[dep] = newest(avail)
            todo.append((dep, pkgs[dep]))
    abi = None
    for name in pkgs:
        m = re.match(r"^linux-image-(.*-amd64)$", name)
        if m:
            abi = m.group(1)
    if not abi:
        raise RuntimeError(f"{key}: no linux-image-<abi> package among {sorted(pkgs)}")
    return {"key": key, "version": ver, "suite": suite, "abi": abi,
            "builder": target["builder"], "flavour": target["flavour"],
            "packages": pkgs}


def download(apt, debdir, pkgs):
    os.makedirs(debdir, exist_ok=True)
    files = []
    for name, ver in sorted(pkgs.items()):
        fname = f"{name}_{ver.replace(':', '%3a')}_"
        have = [f for f in os.listdir(debdir) if f.startswith(fname) and f.endswith(".deb")]
        if not have:
            apt.update(False)
            log(f"downloading {name} {ver}")
            apt.run("apt-get", "-q", "download", f"{name}={ver}", cwd=debdir)
            have = [f for f in os.listdir(debdir)
                    if f.startswith(fname) and f.endswith(".deb")]
        if not have:
            raise RuntimeError(f"download of {name} {ver} produced no file")
        files.append(os.path.join(debdir, have[0]))
    return files


def unpack(kdir, lock, files):
    """Unpack into kdir/root; make the headers tree usable where it lies."""
    stamp = os.path.join(kdir, "unpacked.json")
    want = json.dumps(dict(lock, layout=UNPACK_LAYOUT), sort_keys=True)
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.read() == want:
                return
    root = os.path.join(kdir, "root")
    shutil.rmtree(kdir, ignore_errors=True)
    os.makedirs(root)
    for deb in files:
        log(f"unpacking {os.path.basename(deb)}")
        subprocess.run(["dpkg-deb", "-x", deb, root], check=True)
    abi = lock["abi"]
    hdr = os.path.join(root, "usr", "src", f"linux-headers-{abi}")
    mk = os.path.join(hdr, "Makefile")
    with open(mk) as f:
        text = f.read()
    # The arch headers name their -common twin (and on newer kernels their
    # own output directory) by absolute /usr/src paths: make them relative to
    # this Makefile so the tree works wherever it is unpacked or mounted.
    text2 = ("__srcdir := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)\n" +
             text.replace("/usr/src/", "$(__srcdir)/"))
    with open(mk, "w") as f:
        f.write(text2)
    # Modules: /lib/modules on older suites, /usr/lib/modules on newer ones.
    for base in ("lib/modules", "usr/lib/modules"):
        if os.path.isdir(os.path.join(root, base, abi)):
            os.symlink(os.path.join("root", base, abi), os.path.join(kdir, "modules"))
            break
    else:
        raise RuntimeError(f"{lock['key']}: no modules directory for {abi}")
    for cand in (f"boot/vmlinuz-{abi}", f"usr/lib/modules/{abi}/vmlinuz",
                 f"lib/modules/{abi}/vmlinuz"):
        if os.path.exists(os.path.join(root, cand)):
            os.symlink(os.path.join("root", cand), os.path.join(kdir, "vmlinuz"))
            break
    else:
        raise RuntimeError(f"{lock['key']}: no vmlinuz for {abi}")
    os.symlink(os.path.join("root", "usr", "src", f"linux-headers-{abi}"),
               os.path.join(kdir, "headers"))
    with open(stamp, "w") as f:
        f.write(want)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(TOP, "build"))
    ap.add_argument("--refresh", action="store_true",
                    help="re-read the archive even if the lock file exists")
    ap.add_argument("keys", nargs="*")
    args = ap.parse_args()

    targets = read_targets()
    keys = args.keys or list(targets)
    for k in keys:
        if k not in targets:
            sys.exit(f"fetch-kernels: unknown kernel key '{k}' (known: {' '.join(targets)})")
    build = os.path.abspath(args.build)
    lockfile = os.path.join(build, "kernels.lock")
    locks = {}
    if os.path.exists(lockfile):
        with open(lockfile) as f:
            locks = json.load(f)
    suites = sorted({s for t in targets.values() for s in t["suites"]})
    apt = Apt(os.path.join(build, "apt"), suites)
    built_here = [k for k in keys if targets[k]["flavour"] == "debug"]
    keys = [k for k in keys if k not in built_here]
    need = [k for k in keys if args.refresh or k not in locks]
    if need:
        apt.update(args.refresh)
        for k in need:
            locks[k] = resolve(apt, k, targets[k])
            log(f"{k}: {locks[k]['version']} ({locks[k]['abi']}, {locks[k]['suite']})")
        os.makedirs(build, exist_ok=True)
        with open(lockfile + ".tmp", "w") as f:
            json.dump(locks, f, indent=1, sort_keys=True)
        os.replace(lockfile + ".tmp", lockfile)
    for k in keys:
        files = download(apt, os.path.join(build, "debs"), locks[k]["packages"])
        unpack(os.path.join(build, "kernels", k), locks[k], files)
        print(f"{k} {locks[k]['version']} {locks[k]['abi']}")
    for k in built_here:
        r = subprocess.run([os.path.join(TOP, "scripts", "build-debug-kernel.sh")],
                           env=dict(os.environ, BUILD=build), text=True,
                           stdout=subprocess.PIPE)
        if r.returncode:
            raise RuntimeError(f"{k}: scripts/build-debug-kernel.sh failed")
        print(r.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, subprocess.CalledProcessError) as e:
        sys.exit(f"fetch-kernels: {e}")
