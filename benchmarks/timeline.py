"""Where a cold scan's time goes: ``python -m benchmarks.timeline``.

Runs the whole cold ``depaudit scan`` of one lockfile (theia's by default) ``--runs`` times,
each with an empty cache folder, through ``benchmarks/timeline_probe.py``, which stamps the
moments of the scan: the first requests out, the first answer, the fetch's end, the decoding
workers' last answer, the registry's facts, the report written; this harness adds the
process's end (reaped). Each stamp has the time since the spawn and the CPU spent by then, the
process's own and that of the children it has reaped (the decoding workers, once they end);
then the CPU of each of the process's threads, by name.
The probe imports the fetch's modules before the scan starts, so the split of the time before
the first request differs from a plain run's; the moments after it do not.

Against the loopback replay of the recorded packuments (``--delay-ms`` added per request, as
``benchmarks/replay.py``), or with ``--live`` against the registry npm is configured with.
Prints a markdown table per run. ``python -m benchmarks.timeline [--runs N] [--live]
[--delay-ms D] [--target NAME]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.cold_scan import CORPUS, DEFAULT_TARGET, WORK, depaudit_argv
from benchmarks.lockinfo import lockfile_in
from benchmarks.measure import compile_sources
from benchmarks.replay import ReplayServer
from benchmarks.workdir import copy_project

HERE = Path(__file__).resolve().parent
PROBE = HERE / "timeline_probe.py"


def one_run(lock: Path, url: str | None, scratch: Path, index: int) -> dict[str, Any]:
    """One cold scan through the probe: its stamps (and the harness's own at the reaping)
    and its threads' CPU."""
    cache = scratch / f"cache-{index}"
    out = scratch / f"stamps-{index}.json"
    argv = depaudit_argv(lock, url, cache, None)
    argv[1:3] = [str(PROBE)]  # (``-m depaudit`` -> the probe, with the same arguments)
    env = dict(os.environ, npm_config_update_notifier="false")
    env["DEPAUDIT_TIMELINE_OUT"] = str(out)
    start = time.time()
    env["DEPAUDIT_TIMELINE_T0"] = repr(start)
    done = subprocess.run(
        argv, cwd=lock.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    reaped = time.time() - start
    if done.returncode not in (0, 1) or not out.is_file():  # 1: suspects found
        sys.exit(f"the scan failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    found: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    found["stamps"].append({"moment": "the process is reaped", "at_s": reaped})
    shutil.rmtree(cache, ignore_errors=True)
    return found


def table(stamps: list[dict[str, Any]]) -> str:
    lines = [
        "| moment | at | since the one before | CPU by then (own + reaped children) |",
        "|---|---:|---:|---:|",
    ]
    before = 0.0
    for row in stamps:
        at = row["at_s"]
        cpu = f"{row['cpu_s']:.2f} s + {row['children_cpu_s']:.2f} s" if "cpu_s" in row else ""
        lines.append(
            f"| {row['moment']} | {at * 1000:.0f} ms | +{(at - before) * 1000:.0f} ms | {cpu} |"
        )
        before = at
    return "\n".join(lines)


def thread_table(threads: dict[str, float]) -> str:
    lines = ["| thread (by name) | CPU |", "|---|---:|"]
    for name, seconds in sorted(threads.items(), key=lambda item: -item[1]):
        lines.append(f"| {name} | {seconds:.2f} s |")
    return "\n".join(lines)


def target_arguments(parser: argparse.ArgumentParser) -> None:
    """The options naming what a cold scan runs against (shared with ``cpu_split``)."""
    parser.add_argument("--target", default=DEFAULT_TARGET)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="added per replayed request")
    parser.add_argument(
        "--live", action="store_true", help="against the registry npm is configured with"
    )


@contextmanager
def cold_setup(args: argparse.Namespace, name: str) -> Iterator[tuple[Path, str | None, Path]]:
    """The sources compiled, the target's project copied under ``WORK/name``, the loopback
    replay started unless ``args.live``, a heading printed: ``(lockfile, registry URL or None
    for npm's own, scratch folder)``; the server stopped and the scratch removed after."""
    compile_sources(HERE.parent / "src")
    project = copy_project(CORPUS / args.target, WORK / name / args.target)
    lock = lockfile_in(project)
    assert lock is not None
    scratch = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=WORK))
    server = None if args.live else ReplayServer(delay=args.delay_ms / 1000).start()
    try:
        where = (
            "the registry npm is configured with"
            if args.live
            else f"the loopback replay, +{args.delay_ms:g} ms a request"
        )
        load = " ".join(f"{n:.2f}" for n in os.getloadavg())
        print(
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load};"
            f" {args.target}, cold, against {where}\n"
        )
        yield lock, (None if server is None else server.url), scratch
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    target_arguments(parser)
    args = parser.parse_args()
    with cold_setup(args, "timeline") as (lock, url, scratch):
        for index in range(args.runs):
            found = one_run(lock, url, scratch, index)
            print(
                f"run {index + 1}:\n\n{table(found['stamps'])}\n\n"
                f"{thread_table(found['threads'])}\n",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
