"""Start-up and the whole-process offline scan, in pairs: ``python -m benchmarks.startup``.

Each pair runs ``npm ls --package-lock-only --all --json`` and ``depaudit scan --lockfile ...
--format json --no-registry --offline --no-npm --cache-dir <empty>`` on one copy of a corpus
project, back to back, and keeps the ratio of the two (wall and CPU: user + system of the
process and its children). Pairs, not medians taken at different moments: on a shared machine
the load changes between runs, a pair sees about the same load. Also the CPU time of
``import depaudit.cli`` in a fresh interpreter (the median of the runs), and the machine's load
average when the runs started.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.lockinfo import lockfile_in
from benchmarks.measure import run_process
from benchmarks.run import CORPUS, DEPAUDIT, WORK, quiet_npm_env
from benchmarks.workdir import copy_project

IMPORT_PROBE = (
    "import time; t = time.process_time(); import depaudit.cli; print(time.process_time() - t)"
)


def import_cpu(runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, check=True
        )
        out.append(float(done.stdout.strip()))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", default="npm-lock-v3-theia-workspaces-large")
    parser.add_argument("--pairs", type=int, default=7)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    project = copy_project(CORPUS / args.target, WORK / "startup" / args.target)
    lock = lockfile_in(project)
    assert lock is not None
    env = quiet_npm_env(WORK / "npm-cache-startup")
    npm_ls = ["npm", "ls", "--package-lock-only", "--all", "--json"]
    rows = []
    for _ in range(args.pairs):
        cache = Path(tempfile.mkdtemp(prefix="startup-cache-", dir=WORK))
        cli = [*DEPAUDIT, "scan", "--lockfile", str(lock), "--format", "json"]
        cli += ["--no-registry", "--offline", "--no-npm", "--cache-dir", str(cache)]
        npm = run_process(npm_ls, project, env)
        ours = run_process(cli, project)
        shutil.rmtree(cache, ignore_errors=True)
        rows.append((npm, ours))
    imports = import_cpu(args.pairs)
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
        f"CPU {statistics.median(cpu):.2f}; `import depaudit.cli` CPU median "
        f"{statistics.median(imports) * 1000:.0f} ms (min {min(imports) * 1000:.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
