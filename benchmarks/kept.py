"""Requests one after another through ``depaudit.http_bulk.fetch_one``, a session's connection
kept against a connection each, paired: ``python -m benchmarks.kept``.

``fetch_one`` carries the scan's requests that go one at a time: GitHub's calls (an advisory
page per 150 packages, then two calls per top suspect's repository), the npm advisories' POST.
Each round asks the registry npm is configured with for the same ``--requests`` packuments,
one after another, both ways, the order alternating from round to round:

- **kept**: one session for all of them, whose connection ``fetch_one`` keeps between
  requests (``http_bulk.kept_connections``);
- **a connection each**: a new session for each request, so each makes its own TCP and TLS
  connection, as every ``fetch_one`` did before 2026-12-08.

The packuments are the smallest among the recorded bodies of a corpus lockfile's names
(``benchmarks/recordings``, theia's by default), so that the connection, not the body, is what
is measured; without recordings, the lockfile's first names. Prints each round's wall time
and this process's CPU (user + system), per request, then the medians of the rounds.
``python -m benchmarks.kept [--rounds N] [--requests N] [TARGET]``
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks.lockinfo import lockfile_in, registry_names
from benchmarks.measure import median
from benchmarks.record import configured_registry
from benchmarks.replay import PACKUMENTS

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "tests" / "corpus" / "real"


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def smallest(names: set[str], count: int) -> list[str]:
    """``count`` names, those of the smallest recorded bodies first (else in name order)."""
    sized = []
    for name in sorted(names):
        recorded = PACKUMENTS / (quote(name, safe="@") + ".json")
        sized.append((recorded.stat().st_size if recorded.is_file() else 1 << 40, name))
    return [name for _, name in sorted(sized)[:count]]


def one_way(urls: list[str], kept: bool) -> tuple[float, float]:
    """Wall and CPU seconds for ``urls`` one after another (every answer a 200)."""
    from depaudit.http import Fetched, build_session
    from depaudit.http_bulk import Job, fetch_one

    sessions: list[Any] = []
    start_cpu, start = cpu(), time.perf_counter()
    for url in urls:
        if not (kept and sessions):
            sessions.append(build_session(1, retries=0))
        got = fetch_one(sessions[-1], Job(None, url, {"Accept": "application/json"}))
        if not isinstance(got, Fetched) or got.status != 200:
            raise SystemExit(f"{url}: {got!r}")
    wall, used = time.perf_counter() - start, cpu() - start_cpu
    for each in sessions:
        each.close()
    return wall, used


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", default="npm-lock-v3-theia-workspaces-large")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    lock = lockfile_in(CORPUS / args.target)
    assert lock is not None
    base = configured_registry()
    names = smallest(registry_names(lock), args.requests)
    urls = [base + quote(name, safe="@") for name in names]
    one_way(urls[:2], kept=True)  # (the imports and the first DNS answer, outside the rounds)
    rows: dict[str, list[tuple[float, float]]] = {"kept": [], "a connection each": []}
    for round_ in range(args.rounds):
        order = [True, False] if round_ % 2 == 0 else [False, True]
        for kept in order:
            rows["kept" if kept else "a connection each"].append(one_way(urls, kept))
        line = ", ".join(
            f"{way} {runs[-1][0] / len(urls) * 1000:.1f} ms "
            f"(CPU {runs[-1][1] / len(urls) * 1000:.1f} ms)"
            for way, runs in rows.items()
        )
        print(f"round {round_ + 1}, per request: {line}", flush=True)
    print(
        f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {len(urls)} packuments one "
        f"after another, the registry npm is configured with; {args.rounds} rounds\n"
    )
    print("| way | wall per request (median) | CPU per request (median) |")
    print("|---|---:|---:|")
    for way, runs in rows.items():
        wall = median([w for w, _ in runs]) / len(urls) * 1000
        used = median([c for _, c in runs]) / len(urls) * 1000
        print(f"| {way} | {wall:.1f} ms | {used:.1f} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
