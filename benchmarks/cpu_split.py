"""Which process spends a cold scan's CPU, and when: ``python -m benchmarks.cpu_split``.

Runs the whole cold ``depaudit scan`` of one lockfile (theia's by default) ``--runs`` times,
each with an empty cache folder, and samples every ``--every-ms`` the CPU (user + system, from
``/proc/PID/stat``) of the scan's process and of each of its child processes (the fetch
workers). A run is cut into three phases by what the samples saw: the *head* (from the spawn to
the first sample with a child), the *fetch* (while a child is alive) and the *tail* (after the
last child is gone, to the process's end). For each phase it prints the wall time, the CPU of
the scan's process and of its children, and the cores they kept busy on average.

Why: on 2 cores a cold scan is bound by the CPU of three processes (the scan's and two fetch
workers) where curl's floor uses one core; this shows whether a change moved CPU out of the
serial head or tail (each millisecond of it one of wall time) or out of the fetch (about half a
millisecond of wall time each, both cores busy), and which process gave it up.

The samples are the kernel's clock ticks (10 ms on Linux), so a phase's split is good to a
tick or two per process; the run's total (``RUSAGE_CHILDREN`` of this harness: the scan and the
workers it reaped) is exact. Linux only.

Beside the CPU, each phase shows how long the processes' threads were ready to run but waited
for a core (``run_delay`` of ``/proc/PID/task/*/schedstat``, summed over the threads alive at
each sample): where it is large, the run is bound by the cores, not by the network or a pipe.
The whole run's line adds the machine's busy core-seconds over the run (``/proc/stat``, every
process and the kernel's own network work: on two cores a run can take no less than half of
it) and those stolen by the host (a virtual machine's cores are not all its own).

``python -m benchmarks.cpu_split [--runs N] [--live | --delay-ms D] [--target NAME]
[--every-ms M]``: against the loopback replay of the recorded packuments unless ``--live``
(the registry npm is configured with).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

from benchmarks.cold_scan import depaudit_argv
from benchmarks.measure import median
from benchmarks.timeline import cold_setup, target_arguments

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PHASES = ("head", "fetch", "tail")


def cpu_ticks(pid: int) -> int | None:
    """User + system clock ticks of process ``pid`` (all its threads), None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat(5)


def waited(pid: int) -> float:
    """Seconds the threads of process ``pid`` alive now have waited for a core (0 once it is
    gone): the second field of each ``/proc/PID/task/TID/schedstat``, in nanoseconds."""
    total = 0
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    for thread in threads:
        try:
            with open(f"/proc/{pid}/task/{thread}/schedstat", encoding="ascii") as stat:
                total += int(stat.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def machine_busy() -> tuple[float, float]:
    """The machine's busy core-seconds since boot (every CPU's time but idle, iowait and
    steal) and its stolen ones (the time its virtual CPUs were ready but the host ran
    something else: a core the run had and could not use)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(v) for v in stat.readline().split()[1:9]]
    return (sum(fields[:7]) - fields[3] - fields[4]) / TICK, fields[7] / TICK


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (those of every one of its threads)."""
    found: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for thread in threads:
        try:
            with open(f"/proc/{pid}/task/{thread}/children", encoding="ascii") as listing:
                found += [int(child) for child in listing.read().split()]
        except OSError:
            continue
    return found


def sample_run(argv: list[str], cwd: Path, every: float) -> dict[str, Any]:
    """One run of ``argv``, sampled: the phases' wall time and each process's CPU in them."""
    with tempfile.TemporaryFile() as errors:  # (a pipe read only at its end could fill)
        return _sampled(argv, cwd, every, errors)


def _sampled(argv: list[str], cwd: Path, every: float, errors: IO[bytes]) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = machine_busy()
    start = time.perf_counter()
    env = dict(os.environ, npm_config_update_notifier="false")
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    seen: dict[int, int] = {}  # pid -> ticks at its last sample
    seen_wait: dict[int, float] = {}  # pid -> seconds waited for a core, at its last sample
    spent = {phase: {"scan": 0, "children": 0} for phase in PHASES}
    waits = {phase: {"scan": 0.0, "children": 0.0} for phase in PHASES}
    first_child = last_child = None
    while process.poll() is None:
        time.sleep(every)
        now = time.perf_counter() - start
        kids = children(process.pid)
        if kids and first_child is None:
            first_child = now
        if first_child is not None and kids:
            last_child = now
        phase = "head" if first_child is None else ("fetch" if kids else "tail")
        for pid in [process.pid, *kids]:
            ticks = cpu_ticks(pid)
            if ticks is None:
                continue
            who = "scan" if pid == process.pid else "children"
            spent[phase][who] += ticks - seen.get(pid, 0)
            seen[pid] = ticks
            wait = waited(pid)
            waits[phase][who] += max(0.0, wait - seen_wait.get(pid, 0.0))
            seen_wait[pid] = wait
    wall = time.perf_counter() - start
    busy_after = machine_busy()
    busy, stolen = (after - before for after, before in zip(busy_after, busy_before, strict=True))
    if process.returncode not in (0, 1):  # 1: suspects found
        errors.seek(0)
        said = errors.read().decode(errors="replace")
        sys.exit(f"the scan failed ({process.returncode}): {said[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    head_end = first_child if first_child is not None else wall
    fetch_end = last_child if last_child is not None else head_end
    walls = {"head": head_end, "fetch": fetch_end - head_end, "tail": wall - fetch_end}
    return {
        "wall": wall,
        "cpu": total,
        "machine": busy,
        "stolen": stolen,
        "phases": {
            phase: {
                "wall": walls[phase],
                "scan": spent[phase]["scan"] / TICK,
                "children": spent[phase]["children"] / TICK,
                "scan_wait": waits[phase]["scan"],
                "children_wait": waits[phase]["children"],
            }
            for phase in PHASES
        },
    }


def table(run: dict[str, Any]) -> str:
    lines = [
        "| phase | wall | the scan's process | its children | cores busy "
        "| waited for a core: the scan's, its children's |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for phase in PHASES:
        row = run["phases"][phase]
        busy = (row["scan"] + row["children"]) / row["wall"] if row["wall"] > 0 else 0.0
        lines.append(
            f"| {phase} | {row['wall'] * 1000:.0f} ms | {row['scan']:.2f} s "
            f"| {row['children']:.2f} s | {busy:.2f} "
            f"| {row['scan_wait']:.2f} s, {row['children_wait']:.2f} s |"
        )
    sampled = sum(run["phases"][p]["scan"] + run["phases"][p]["children"] for p in PHASES)
    lines.append(
        f"| whole run | {run['wall'] * 1000:.0f} ms | CPU {run['cpu']:.2f} s exact "
        f"({sampled:.2f} s sampled) | | {run['cpu'] / run['wall']:.2f} "
        f"| the machine busy {run['machine']:.2f} core-s, {run['stolen']:.2f} stolen |"
    )
    return "\n".join(lines)


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "wall": median([r["wall"] for r in runs]),
        "cpu": median([r["cpu"] for r in runs]),
        "machine": median([r["machine"] for r in runs]),
        "stolen": median([r["stolen"] for r in runs]),
        "phases": {
            phase: {
                key: median([r["phases"][phase][key] for r in runs])
                for key in ("wall", "scan", "children", "scan_wait", "children_wait")
            }
            for phase in PHASES
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--every-ms", type=float, default=20.0)
    target_arguments(parser)
    args = parser.parse_args()
    if not Path("/proc/self/stat").is_file():
        sys.exit("cpu_split reads /proc: Linux only")
    with cold_setup(args, "cpu_split") as (lock, url, scratch):
        print(f"sampled every {args.every_ms:g} ms\n")
        runs = []
        for index in range(args.runs):
            cache = scratch / f"cache-{index}"
            argv = depaudit_argv(lock, url, cache, None)
            run = sample_run(argv, lock.parent, args.every_ms / 1000)
            shutil.rmtree(cache, ignore_errors=True)
            runs.append(run)
            print(f"run {index + 1}:\n\n{table(run)}\n", flush=True)
        print(f"medians of {len(runs)} runs (each column on its own):\n\n{table(medians(runs))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
