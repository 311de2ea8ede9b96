"""The cold fetch with its transfers split over processes, against the scan's way, paired:
``python -m benchmarks.fetch_split [--rounds N] [--processes K] [--target NAME]``.

A measurement for the next step of issue 17, not a feature: against the registry npm is
configured with, over the names of a corpus lockfile (theia's by default), each round runs,
one after the other:

- curl's floor, as ``benchmarks.cold_scan`` measures it (``--parallel-max 64``, the bodies as
  sent, written nowhere);
- ``benchmarks.fetch_decode``: depaudit's fetch as the scan does it, one process driving every
  transfer, its bodies decoded by the decoding workers (``registry_decode.Decoders``);
- K processes of this module (``child``), each fetching every K-th name with its own
  ``BulkFetcher`` (its own session and HTTP/2 connection) and decoding each body in its
  fetch thread as it arrives (``decode_worker.decode_frame``): no body crosses a pipe, and
  libcurl's own work is spread over the processes.

Each run's wall time and CPU (its processes', reaped) are printed, then the medians and each
one's ratio to the floor of its round.
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
from typing import Any

from benchmarks.cold_scan import CORPUS, DEFAULT_TARGET, curl_argv, curl_config
from benchmarks.lockinfo import lockfile_in, registry_names
from benchmarks.measure import median


def child(base: str, names_file: str) -> int:
    """Fetch and decode the names of ``names_file``; prints how many bodies decoded."""
    from depaudit.http import Fetched, build_session
    from depaudit.http_bulk import BulkFetcher, Job
    from depaudit.services.decode_worker import ENCODINGS, decode_frame
    from depaudit.services.registry import (
        ACCEPT_FULL,
        DEFAULT_JOBS,
        MULTIPLEXED_JOBS,
        escape_name,
    )

    names = [n for n in Path(names_file).read_text(encoding="utf-8").splitlines() if n]
    session = build_session(DEFAULT_JOBS)
    decoded = 0

    def done(job: Job, got: Fetched | Exception) -> None:
        nonlocal decoded
        if isinstance(got, Exception) or got.status != 200:
            return
        body = got.body if isinstance(got.body, bytes) else bytes(got.body)
        encoding = ENCODINGS.get(got.headers.get("Content-Encoding", "").strip().lower(), 0)
        try:
            decode_frame(body, encoding, session.max_body)
        except ValueError:
            return
        decoded += 1

    count = len(names)
    fetcher = BulkFetcher(
        session, min(DEFAULT_JOBS, count), min(MULTIPLEXED_JOBS, count), inflate=False
    )
    jobs = (Job(name, base + escape_name(name), {"Accept": ACCEPT_FULL}) for name in names)
    fetcher.get_many(jobs, done)
    session.close()
    print(decoded)
    return 0


def timed(argvs: list[list[str]]) -> tuple[float, float, list[str]]:
    """Wall seconds for the processes of ``argvs`` run side by side, their CPU, their
    outputs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    running = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for argv in argvs
    ]
    outputs = [process.communicate()[0] for process in running]
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, outputs


def main() -> int:
    if sys.argv[1:2] == ["child"]:
        return child(sys.argv[2], sys.argv[3])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--target", default=DEFAULT_TARGET)
    args = parser.parse_args()
    registry = subprocess.run(
        ["npm", "config", "get", "registry"], capture_output=True, text=True, check=True
    ).stdout.strip()
    base = registry.rstrip("/") + "/"
    lock = lockfile_in(CORPUS / args.target)
    assert lock is not None
    names = sorted(registry_names(lock))
    scratch = Path(tempfile.mkdtemp(prefix="fetch-split-"))
    every = scratch / "names"
    every.write_text("\n".join(names), encoding="utf-8")
    shares = []
    for index in range(args.processes):
        share = scratch / f"names-{index}"
        share.write_text("\n".join(names[index :: args.processes]), encoding="utf-8")
        shares.append(share)
    floor_config = curl_config(base, names, scratch / "curl.config")
    python = sys.executable
    load = " ".join(f"{n:.2f}" for n in os.getloadavg())
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load};"
        f" {args.target}: {len(names)} names, against the registry npm is configured with\n"
    )
    rows: list[dict[str, Any]] = []
    try:
        run_rounds(args, base, python, floor_config, every, shares, rows)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print_table(args, rows)
    return 0


def run_rounds(
    args: argparse.Namespace,
    base: str,
    python: str,
    floor_config: Path,
    every: Path,
    shares: list[Path],
    rows: list[dict[str, Any]],
) -> None:
    for round_ in range(args.rounds):
        floor = timed([curl_argv(floor_config, parallel=64)])
        scan_way = timed([[python, "-m", "benchmarks.fetch_decode", base, str(every)]])
        split = timed(
            [[python, "-m", "benchmarks.fetch_split", "child", base, str(s)] for s in shares]
        )
        decoded = sum(int(out.strip() or 0) for out in split[2])
        rows.append({"floor": floor, "scan_way": scan_way, "split": split})
        print(
            f"round {round_ + 1}: curl {floor[0]:.2f} s (CPU {floor[1]:.2f} s); the scan's way "
            f"{scan_way[0]:.2f} s ({scan_way[1]:.2f} s); {args.processes} processes "
            f"{split[0]:.2f} s ({split[1]:.2f} s, {decoded} bodies decoded)",
            flush=True,
        )


def print_table(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    print(
        "\n| run | wall (median) | CPU (median) | ratio to the floor (median of rounds) |\n"
        "|---|---:|---:|---:|"
    )
    labels = {
        "floor": "curl's floor",
        "scan_way": "the scan's fetch: one process, two decoding workers",
        "split": f"{args.processes} processes, each fetching and decoding its share",
    }
    for key, label in labels.items():
        wall = median([row[key][0] for row in rows])
        cpu = median([row[key][1] for row in rows])
        ratio = median([row[key][0] / row["floor"][0] for row in rows])
        print(f"| {label} | {wall:.2f} s | {cpu:.2f} s | {ratio:.2f}x |")


if __name__ == "__main__":
    sys.exit(main())
