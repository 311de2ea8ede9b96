"""Time and peak RSS of a child process, and small statistics helpers."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

GNU_TIME = Path("/usr/bin/time")
SRC = Path(__file__).resolve().parent.parent / "src"


def compile_sources(*folders: Path) -> None:
    """Byte-compile depaudit's sources once, as an installed package has them. Where
    ``PYTHONDONTWRITEBYTECODE`` is set (this machine sets it) no ``.pyc`` is ever written
    for the editable checkout, and every measured process compiled every module it imported:
    about 0.2 s of CPU per scan, counted in every figure taken before 2026-12-06 11:40."""
    import compileall

    for folder in folders or (SRC,):
        compileall.compile_dir(str(folder), quiet=1)
        ship_forms(Path(folder))


def ship_forms(src: Path) -> None:
    """The bundled data's fast forms for the checkout whose ``src`` folder this is, built
    as the install step builds them (``setup.py``), so a measured run with an empty cache
    folder reads them as an installed depaudit does, even after ``data/`` or the code that
    reads it changed since the last install. A checkout from before ``setup.py`` shipped
    them is left as it is: its runs build them, as that version did."""
    import importlib.util

    setup = src.resolve().parent / "setup.py"
    if not setup.is_file() or "def ship_forms" not in setup.read_text(encoding="utf-8"):
        return
    spec = importlib.util.spec_from_file_location("_depaudit_setup", setup)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.ship_forms(setup.parent, src.resolve() / "depaudit" / "_forms")


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float  # the child's own peak, or its largest waited-for descendant's
    returncode: int
    stdout: bytes
    cpu_seconds: float = 0.0  # user + system of the child and its waited-for descendants


def run_process(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
) -> Run:
    """Run ``argv`` to completion; wall time from spawn to reap. Peak RSS comes from GNU time
    when it is there: Python spawns children with vfork, and the kernel then counts the
    *harness's* resident set into the child's ``ru_maxrss`` at exec (measured: a 80 MB process
    reported as 320 MB). Without it, ``wait4``'s figure is used (an upper bound)."""
    rss_file = None
    if GNU_TIME.exists():
        fd, name = tempfile.mkstemp(prefix="rss-", suffix=".txt")
        os.close(fd)
        rss_file = Path(name)
        argv = [str(GNU_TIME), "-f", "%M", "-o", name, *argv]
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
    peak_kb = float(usage.ru_maxrss)
    if rss_file is not None:
        lines = rss_file.read_text().split()
        rss_file.unlink(missing_ok=True)
        if lines and lines[-1].isdigit():
            peak_kb = float(lines[-1])
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, peak_kb / 1024, proc.returncode, out, cpu)


def instructions(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None
) -> int | None:
    """The instructions ``argv`` executes, counted by valgrind's callgrind (the process and
    its threads; not its children): the same count for the same code and input whatever else
    the machine does, where its time moves by a quarter. With ``PYTHONHASHSEED=0`` unless
    ``env`` sets it: with a random seed (the default) two counts of the same scan differed by
    up to 5 M instructions of theia's 2.2 G (the order of sets and the size of dicts change),
    with a fixed one by less than 1 M. None without valgrind or when the count is not
    printed."""
    import re
    import shutil

    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    fixed = dict(env) if env is not None else dict(os.environ)
    fixed.setdefault("PYTHONHASHSEED", "0")
    done = subprocess.run(
        [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        cwd=cwd,
        env=fixed,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=1800,
        check=False,
    )
    found = re.search(rb"Collected : (\d+)", done.stderr)
    return int(found[1]) if found else None


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
