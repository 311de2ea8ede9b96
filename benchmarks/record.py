"""Record, once, the packuments the scan benchmarks replay.

Fetches the full document of every package name in the benchmark lockfiles from the registry
npm is configured with (``npm config get registry``; the host is never written anywhere) into
``benchmarks/recordings/packuments/`` (git-ignored). A name the registry does not know is
recorded as a 404. Already recorded names are skipped unless ``--force``.

``python -m benchmarks.record [--force] [--jobs N] [LOCKFILE ...]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import requests

from benchmarks.lockinfo import lockfile_in, registry_names
from benchmarks.replay import PACKUMENTS, missing_marker, packument_path

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus" / "real"
SCAN_TARGETS = ("npm-lock-v3-theia-workspaces-large", "npm-shrinkwrap-firebase-tools")


def configured_registry() -> str:
    out = subprocess.run(
        ["npm", "config", "get", "registry"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return out if out.endswith("/") else out + "/"


def default_lockfiles() -> list[Path]:
    found = [lockfile_in(CORPUS / target) for target in SCAN_TARGETS]
    return [lock for lock in found if lock is not None]


def record(lockfiles: list[Path], force: bool = False, jobs: int = 16) -> tuple[int, int, int]:
    """Fetch what is missing; returns (fetched, not found, failed)."""
    PACKUMENTS.mkdir(parents=True, exist_ok=True)
    names: set[str] = set()
    for lock in lockfiles:
        names |= registry_names(lock)
    todo = sorted(
        n
        for n in names
        if force or not (packument_path(n).is_file() or missing_marker(n).is_file())
    )
    if not todo:
        return 0, 0, 0
    base = configured_registry()
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=jobs, pool_maxsize=jobs)
    session.mount("http://", adapter)
    session.mount("https://", adapter)

    def fetch(name: str) -> str:
        url = base + quote(name, safe="@")
        for attempt in range(4):
            try:
                response = session.get(url, timeout=120)
            except requests.RequestException:
                time.sleep(1 + attempt)
                continue
            if response.status_code == 404:
                missing_marker(name).write_bytes(b"")
                return "missing"
            if response.status_code == 200:
                target = packument_path(name)
                tmp = target.with_suffix(".part")
                tmp.write_bytes(response.content)
                tmp.replace(target)
                return "ok"
            time.sleep(1 + attempt)
        return "failed"

    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(fetch, todo))
    return results.count("ok"), results.count("missing"), results.count("failed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lockfiles", nargs="*", type=Path)
    parser.add_argument("--force", action="store_true", help="re-record every name")
    parser.add_argument("--jobs", type=int, default=16)
    args = parser.parse_args()
    lockfiles = args.lockfiles or default_lockfiles()
    start = time.perf_counter()
    ok, missing, failed = record(lockfiles, args.force, args.jobs)
    print(
        f"recorded {ok} packuments, {missing} not found, {failed} failed "
        f"in {time.perf_counter() - start:.1f} s into {PACKUMENTS}",
        file=sys.stderr,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
