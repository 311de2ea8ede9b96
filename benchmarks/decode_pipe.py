"""The decoding worker's pipe: Linux's default size against the widened one, paired.

``python -m benchmarks.decode_pipe [--pairs N] [LOCKFILE_DIR]``

Over the recorded packuments of a lockfile (``benchmarks/recordings/packuments/``, made by
``benchmarks/record.py``; theia's by default), each pair starts the registry's decoding
worker (``python -m depaudit.services.decode_worker``, as the scan starts it) twice, in
alternating order: once with its input pipe left at the system's default (64 kB on Linux),
once widened as ``Decoder`` widens it (``registry_decode.widen_pipe``). A thread of this
process writes every body to it in the scan's frames while this one reads the answers, so
both sides of the pipe work as they do in a scan. Printed per run: wall seconds from start to
the last answer, the worker's CPU (``RUSAGE_CHILDREN``, its start-up included) and the
pipe's size; then the medians and the median of the pairs' ratios.

For scale, it also prints the CPU of ``decode_worker.serve`` over the same frames read from
memory (no pipe, no process): what the worker's work costs without the crossing.
"""

from __future__ import annotations

import argparse
import io
import resource
import subprocess
import threading
import time
from pathlib import Path

from benchmarks.decode import DEFAULT, recorded_bodies
from benchmarks.measure import median
from benchmarks.replay import PACKUMENTS
from depaudit.services import decode_worker, registry_decode
from depaudit.services.frames import read_payload


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pipe_size(descriptor: int) -> int:
    import fcntl

    return int(fcntl.fcntl(descriptor, fcntl.F_GETPIPE_SZ))


def through_worker(bodies: list[bytes], widen: bool) -> tuple[float, float, int]:
    """Wall and worker CPU seconds to decode every body through one worker, and its pipe."""
    cpu_before = children_cpu()
    start = time.perf_counter()
    worker = subprocess.Popen(
        registry_decode.worker_argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert worker.stdin is not None and worker.stdout is not None
    if widen:
        registry_decode.widen_pipe(worker.stdin.fileno())
    size = pipe_size(worker.stdin.fileno())
    stdin = worker.stdin

    def feed() -> None:
        for body in bodies:
            stdin.write(decode_worker.BODY_FRAME.pack(len(body), decode_worker.AS_IS, 0))
            stdin.write(body)
            stdin.flush()
        stdin.close()

    feeder = threading.Thread(target=feed)
    feeder.start()
    answers = 0
    while read_payload(worker.stdout) is not None:
        answers += 1
    worker.wait()
    feeder.join()
    wall = time.perf_counter() - start
    if answers != len(bodies):
        raise SystemExit(f"the worker answered {answers} of {len(bodies)} bodies")
    return wall, children_cpu() - cpu_before, size


def from_memory(bodies: list[bytes]) -> float:
    """CPU seconds of ``serve`` over the same frames, read from memory in this process."""
    frames = io.BytesIO()
    for body in bodies:
        frames.write(decode_worker.BODY_FRAME.pack(len(body), decode_worker.AS_IS, 0))
        frames.write(body)
    source = io.BufferedReader(io.BytesIO(frames.getvalue()))
    start = time.process_time()
    decode_worker.serve(source, io.BytesIO())
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--pairs", type=int, default=6)
    parser.add_argument("--recordings", type=Path, default=PACKUMENTS)
    args = parser.parse_args()
    bodies = recorded_bodies(args.project, args.recordings)
    runs: dict[bool, list[tuple[float, float, int]]] = {False: [], True: []}
    ratios = []
    for n in range(args.pairs):
        order = (False, True) if n % 2 == 0 else (True, False)
        for widen in order:
            runs[widen].append(through_worker(bodies, widen))
        wide, default = runs[True][-1], runs[False][-1]
        ratios.append(wide[0] / default[0])
        print(
            f"pair {n + 1}: default pipe ({default[2] // 1024} kB) {default[0]:.2f} s wall, "
            f"worker CPU {default[1]:.2f} s; widened ({wide[2] // 1024} kB) {wide[0]:.2f} s, "
            f"{wide[1]:.2f} s"
        )
    for widen, label in ((False, "default"), (True, "widened")):
        walls = [r[0] for r in runs[widen]]
        cpus = [r[1] for r in runs[widen]]
        print(f"{label}: median {median(walls):.2f} s wall, worker CPU {median(cpus):.2f} s")
    print(f"widened/default wall, median of pairs: {median(ratios):.2f}")
    print(f"serve() from memory, no pipe: {median([from_memory(bodies) for _ in range(3)]):.2f} s")


if __name__ == "__main__":
    main()
