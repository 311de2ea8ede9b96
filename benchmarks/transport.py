"""The registry fetch's transport alone: ``python -m benchmarks.transport``.

Fetches every packument of a lockfile (theia's by default: 1,877 names, 215 MB) from the
loopback replay (``benchmarks/replay.py``, run here as a subprocess, so its CPU is not counted)
with no decoding, in this process, alternating:

- **urllib3 threads**: 32 threads sharing one ``urllib3.PoolManager`` (pool of 32), each GET
  read whole (what the registry service did before ``http_bulk``, minus requests' own
  per-request work, which was removed earlier);
- **libcurl multi**: ``depaudit.http_bulk.BulkFetcher`` with 32 transfers at a time, through
  a depaudit session (its settings, retries, caps and budget included).

Prints CPU (this process: user + system) and wall seconds of each run, and the medians.
``python -m benchmarks.transport [--runs N] [--delay-ms MS] [--jobs N] [TARGET]``
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.lockinfo import lockfile_in, registry_names
from benchmarks.measure import median

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "tests" / "corpus" / "real"


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def with_urllib3(urls: list[str], jobs: int) -> int:
    import urllib3

    pool = urllib3.PoolManager(maxsize=jobs)

    def get(url: str) -> int:
        response = pool.request("GET", url, headers={"Accept": "application/json"})
        return len(response.data)

    with ThreadPoolExecutor(jobs) as threads:
        total = sum(threads.map(get, urls))
    pool.clear()
    return total


def with_libcurl(urls: list[str], jobs: int) -> int:
    from depaudit.http import build_session
    from depaudit.http_bulk import BulkFetcher, Job

    sizes: list[int] = []
    session = build_session(jobs)
    BulkFetcher(session, jobs).get_many(
        (Job(None, url, {"Accept": "application/json"}) for url in urls),
        lambda _, got: sizes.append(len(getattr(got, "body", b""))),
    )
    session.close()
    return sum(sizes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", default="npm-lock-v3-theia-workspaces-large")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--jobs", type=int, default=32)
    args = parser.parse_args()
    lock = lockfile_in(CORPUS / args.target)
    assert lock is not None
    from depaudit.services.registry import escape_name

    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.replay", "--delay-ms", str(args.delay_ms)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=HERE.parent,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+/)", banner)
        assert found, banner
        base = found.group(1)
        urls = [base + escape_name(name) for name in sorted(registry_names(lock))]
        figures: dict[str, list[tuple[float, float]]] = {"urllib3 threads": [], "libcurl multi": []}
        for _ in range(args.runs):
            for label, fetch in (
                ("urllib3 threads", with_urllib3),
                ("libcurl multi", with_libcurl),
            ):
                started, used = time.perf_counter(), cpu()
                size = fetch(urls, args.jobs)
                wall, spent = time.perf_counter() - started, cpu() - used
                figures[label].append((spent, wall))
                print(
                    f"{label}: CPU {spent:.2f} s, wall {wall:.2f} s, {size / 2**20:.0f} MiB",
                    file=sys.stderr,
                )
        print(f"{len(urls)} GETs, {args.jobs} at a time, {args.delay_ms:g} ms added round trip")
        for label, runs in figures.items():
            print(
                f"{label}: CPU {median([c for c, _ in runs]):.2f} s, "
                f"wall {median([w for _, w in runs]):.2f} s (median of {len(runs)})"
            )
    finally:
        server.terminate()
        server.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
