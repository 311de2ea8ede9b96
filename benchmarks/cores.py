"""What two cores of this machine give at once: ``python -m benchmarks.cores [--rounds N]``.

A cold scan runs three busy processes (the scan's and two fetch workers) where curl's floor
runs one, so its ratio to the floor depends on how much the second core adds. On a virtual
machine it can add less than a core: the host may run other guests' work on it (the kernel
counts that as *steal*), and two busy cores may each run slower than one alone (shared caches,
the host's clock). This measures it, with the same kind of work (Python's own loop, no I/O):

each round runs one fixed loop alone, then two copies at once, alternating which comes first;
the *effective cores* of a round are ``2 x (the loop's time alone) / (the pair's time)`` (2.0:
the second core is a whole core; 1.0: it adds nothing). It prints each round, the medians,
the CPU time each loop took alone and in the pair (a loop slowed by the other's presence,
not by waiting: its CPU time grows too), and the steal the kernel counted meanwhile (the
``steal`` column of ``/proc/stat``, Linux only).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: the loop each process runs (~1 s of one core here), and prints its own CPU seconds
LOOP = "import time\nx = 0\nfor i in range(12_000_000):\n    x += i\nprint(time.process_time())\n"


def steal_ticks() -> int | None:
    """The kernel's steal count (clock ticks, every CPU), or None where it is not kept."""
    stat = Path("/proc/stat")
    if not stat.is_file():
        return None
    fields = stat.read_text().split("\n", 1)[0].split()
    return int(fields[8]) if len(fields) > 8 else None


def run_loops(count: int) -> tuple[float, list[float]]:
    """``count`` copies of :data:`LOOP` started at once: the wall time until the last ends,
    and each one's CPU seconds."""
    start = time.perf_counter()
    processes = [
        subprocess.Popen([sys.executable, "-c", LOOP], stdout=subprocess.PIPE) for _ in range(count)
    ]
    cpu = [float(p.communicate()[0]) for p in processes]
    return time.perf_counter() - start, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load}, "
        f"{os.cpu_count()} CPUs\n"
    )
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    stolen_before = steal_ticks()
    cores, alone_cpu, pair_cpu = [], [], []
    for i in range(args.rounds):
        if i % 2 == 0:
            alone, (cpu_alone,) = run_loops(1)
            pair, cpu_pair = run_loops(2)
        else:
            pair, cpu_pair = run_loops(2)
            alone, (cpu_alone,) = run_loops(1)
        cores.append(2 * alone / pair)
        alone_cpu.append(cpu_alone)
        pair_cpu.extend(cpu_pair)
        print(
            f"round {i + 1}: alone {alone:.2f} s (CPU {cpu_alone:.2f} s), two at once "
            f"{pair:.2f} s (CPU {cpu_pair[0]:.2f} s, {cpu_pair[1]:.2f} s): "
            f"{cores[-1]:.2f} effective cores"
        )
    stolen_after = steal_ticks()
    print("\n| effective cores (median) | range | a loop's CPU alone | in the pair | steal |")
    print("|---:|---|---:|---:|---:|")
    steal = (
        f"{(stolen_after - stolen_before) / tick:.1f} s"
        if stolen_before is not None and stolen_after is not None
        else "not kept"
    )
    print(
        f"| **{statistics.median(cores):.2f}** | {min(cores):.2f}-{max(cores):.2f} | "
        f"{statistics.median(alone_cpu):.2f} s | {statistics.median(pair_cpu):.2f} s | "
        f"{steal} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
