"""Start-up and the whole-process offline scan, in pairs: ``python -m benchmarks.startup``.

Each pair runs ``npm ls --package-lock-only --all --json`` and ``depaudit scan --lockfile ...
--format json --no-registry --offline --no-npm --cache-dir <empty>`` on one copy of a corpus
project, back to back, and keeps the ratio of the two (wall and CPU: user + system of the
process and its children). Pairs, not medians taken at different moments: on a shared machine
the load changes between runs, a pair sees about the same load. Each pair also runs
``depaudit --help`` and ``python -c pass`` (the interpreter's own start-up, the floor).

Import CPU, in fresh interpreters (``time.process_time`` around the imports), one run of each
per pair: ``import depaudit.cli`` alone, and *the scan's imports*: every module the same offline
scan loads (listed by one scan run first, in the order it loaded them), imported in that order.
The bundled data's fast form (``depaudit.bundled``) is built by that first scan, as it is by
any first run after installing, so the pairs measure the runs that follow. And the machine's
load average when the runs started.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.lockinfo import lockfile_in
from benchmarks.measure import compile_sources, run_process
from benchmarks.run import CORPUS, DEPAUDIT, WORK, quiet_npm_env
from benchmarks.workdir import copy_project

IMPORT_PROBE = (
    "import time; t = time.process_time(); import depaudit.cli; print(time.process_time() - t)"
)
#: runs a scan in-process and prints the modules it loaded, in the order it loaded them
LIST_PROBE = """
import contextlib, io, json, sys
before = set(sys.modules)
import depaudit.cli
with contextlib.redirect_stdout(io.StringIO()):
    depaudit.cli.main(json.loads(sys.argv[1]))
print(json.dumps([m for m in sys.modules if m not in before]))
"""
#: imports the listed modules in order and prints the CPU time it took
SCAN_IMPORT_PROBE = """
import importlib, json, sys, time
names = json.loads(sys.stdin.read())
t = time.process_time()
for name in names:
    try:
        importlib.import_module(name)
    except Exception:
        pass
print(time.process_time() - t)
"""


def import_cpu() -> float:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip())


def scan_modules(scan_args: list[str]) -> list[str]:
    """The modules an in-process run of ``depaudit`` with ``scan_args`` loads, in order."""
    done = subprocess.run(
        [sys.executable, "-c", LIST_PROBE, json.dumps(scan_args)],
        capture_output=True,
        text=True,
        check=True,
    )
    names: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return names


def scan_import_cpu(names: list[str]) -> float:
    done = subprocess.run(
        [sys.executable, "-c", SCAN_IMPORT_PROBE],
        input=json.dumps(names),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", default="npm-lock-v3-theia-workspaces-large")
    parser.add_argument("--pairs", type=int, default=7)
    args = parser.parse_args()
    compile_sources()
    WORK.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    project = copy_project(CORPUS / args.target, WORK / "startup" / args.target)
    lock = lockfile_in(project)
    assert lock is not None
    env = quiet_npm_env(WORK / "npm-cache-startup")
    npm_ls = ["npm", "ls", "--package-lock-only", "--all", "--json"]
    scan_args = ["scan", "--lockfile", str(lock), "--format", "json"]
    scan_args += ["--no-registry", "--offline", "--no-npm"]
    cache = Path(tempfile.mkdtemp(prefix="startup-cache-", dir=WORK))
    modules = scan_modules([*scan_args, "--cache-dir", str(cache)])
    shutil.rmtree(cache, ignore_errors=True)
    rows = []
    helps, floors, imports, scan_imports = [], [], [], []
    for _ in range(args.pairs):
        cache = Path(tempfile.mkdtemp(prefix="startup-cache-", dir=WORK))
        npm = run_process(npm_ls, project, env)
        ours = run_process([*DEPAUDIT, *scan_args, "--cache-dir", str(cache)], project)
        shutil.rmtree(cache, ignore_errors=True)
        rows.append((npm, ours))
        helps.append(run_process([*DEPAUDIT, "--help"], project))
        floors.append(run_process([sys.executable, "-c", "pass"], project))
        imports.append(import_cpu())
        scan_imports.append(scan_import_cpu(modules))
    wall = [o.seconds / n.seconds for n, o in rows]
    cpu = [o.cpu_seconds / n.cpu_seconds for n, o in rows]
    print(f"load average at start: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")
    print(f"{args.target}, {args.pairs} pairs (npm ls, then depaudit):")
    print("| pair | npm ls wall | depaudit wall | ratio | npm ls CPU | depaudit CPU | ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for i, (n, o) in enumerate(rows, 1):
        wall_ratio, cpu_ratio = o.seconds / n.seconds, o.cpu_seconds / n.cpu_seconds
        print(
            f"| {i} | {n.seconds:.2f} s | {o.seconds:.2f} s | {wall_ratio:.2f} "
            f"| {n.cpu_seconds:.2f} s | {o.cpu_seconds:.2f} s | {cpu_ratio:.2f} |"
        )
    print(
        f"\nmedian ratio depaudit / npm ls: wall {statistics.median(wall):.2f}, "
        f"CPU {statistics.median(cpu):.2f}"
    )
    for label, values in (
        ("`import depaudit.cli`", imports),
        (f"the scan's imports ({len(modules)} modules)", scan_imports),
        ("`depaudit --help` process", [r.cpu_seconds for r in helps]),
        ("`python -c pass` process", [r.cpu_seconds for r in floors]),
    ):
        print(
            f"{label}: CPU median {statistics.median(values) * 1000:.0f} ms "
            f"(min {min(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
