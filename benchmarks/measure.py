"""Time and peak RSS of a child process, and small statistics helpers."""

from __future__ import annotations

import os
import statistics
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float  # the child's own peak, or its largest waited-for descendant's
    returncode: int
    stdout: bytes


def run_process(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> Run:
    """Run ``argv`` to completion; wall time from spawn to reap, peak RSS from ``wait4``."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    try:
        assert proc.stdout is not None
        out = proc.stdout.read()  # to EOF; the child is reaped below, with its rusage
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        killer.cancel()
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode, out)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt_s(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "–"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def fmt_ratio(ours: float, theirs: float) -> str:
    if not ours or ours != ours or theirs != theirs:
        return "–"
    return f"1/{theirs / ours:.1f}" if theirs >= ours else f"{ours / theirs:.1f}x slower"
