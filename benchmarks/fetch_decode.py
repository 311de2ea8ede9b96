"""The least any cold scan does with the registry's answers: fetch every packument and decode
it, nothing else. ``python -m benchmarks.fetch_decode BASE_URL NAMES_FILE``

depaudit's own fetch (``http_bulk.BulkFetcher``, sized as the registry service sizes it, one
session with its settings, gzip asked for and left to the decoder) and its decoding workers
(``registry_decode.Decoders``, a second one when the first falls behind): no tree, no
scan, no cache, no report. Since the fetch workers (``services/fetch_worker.py``) this is the
way of a fetch the scan drives itself (a session handed in, or where no fetch worker starts);
``benchmarks.fetch_split`` measures the workers' way. ``python -m benchmarks.cold_scan
--bound`` runs it in every pair beside curl's floor and the whole scan, so what reading the
bodies costs by itself is measured in the same run as the target it is compared with.

Prints one JSON line: the names asked for, the bodies fetched, those decoded, and failures.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import Future
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    base, names_file = argv
    names = [n for n in Path(names_file).read_text().splitlines() if n]

    from depaudit.http import build_session
    from depaudit.http_bulk import BulkFetcher, Job
    from depaudit.services.registry import (
        ACCEPT_FULL,
        DEFAULT_JOBS,
        MULTIPLEXED_JOBS,
        escape_name,
    )
    from depaudit.services.registry_decode import Decoders, decode_workers

    session = build_session(DEFAULT_JOBS)
    decoded: list[Future[Any]] = []
    failed = 0

    def done(job: Job, got: Any) -> None:
        nonlocal failed
        if isinstance(got, Exception) or got.status != 200:
            failed += 1
            return
        encoding = got.headers.get("Content-Encoding", "")
        decoded.append(decoders.submit(got.body, encoding, session.max_body))

    count = len(names)
    fetcher = BulkFetcher(
        session, min(DEFAULT_JOBS, count), min(MULTIPLEXED_JOBS, count), inflate=False
    )
    jobs = (Job(name, base + escape_name(name), {"Accept": ACCEPT_FULL}) for name in names)
    with Decoders(decode_workers()) as decoders:
        fetcher.get_many(jobs, done)
        good = sum(1 for future in decoded if future.exception() is None)
    session.close()
    print(json.dumps({"names": count, "fetched": len(decoded), "decoded": good, "failed": failed}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
