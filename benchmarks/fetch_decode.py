"""The least any cold scan does with the registry's answers: fetch every packument and decode
it, nothing else. ``python -m benchmarks.fetch_decode [--workers] BASE_URL|- NAMES_FILE``

``--workers``: the way a scan fetches a tree of :data:`~depaudit.services.registry.
DECODE_PROCESS_FROM` names or more (theia's): the registry service made as the scan makes it
(``build_registry_service``: npm's configuration of the current folder, ``BASE_URL`` as
``--registry`` unless it is ``-``), its fetch workers forked and given the set-up and every job
by the service's own code (``RegistryService._start_workers``), and each worker's answer read
(unpickled) here, nothing else: no tree, no settling of the answers, no facts, no cache, no
report. What the scan adds to this is its own: ``python -m benchmarks.cold_scan --bound``
runs it in every pair, against the registry itself too (``--live``).

Without it, depaudit's own fetch (``http_bulk.BulkFetcher``, sized as the registry service
sizes it, one session with its settings, gzip asked for and left to the decoder) and its
decoding workers (``registry_decode.Decoders``, a second one when the first falls behind):
no tree, no scan, no cache, no report. Since the fetch workers (``services/fetch_worker.py``)
this is the way of a fetch the scan drives itself (fewer names, a session handed in, or where
no fetch worker starts); ``cold_scan --bound`` ran it until 2026-12-08.

Prints one JSON line: the names asked for, the bodies fetched, those decoded, and failures.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import Future
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    if argv[:1] == ["--workers"]:
        return by_workers(*argv[1:])
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


def by_workers(base: str, names_file: str) -> int:
    """``--workers``: the fetch workers alone, as a scan of these names runs them."""
    import tempfile

    from depaudit.services import fetch_worker
    from depaudit.services.registry import build_registry_service
    from depaudit.services.registry_decode import decode_workers

    names = [n for n in Path(names_file).read_text().splitlines() if n]
    with tempfile.TemporaryDirectory(prefix="fetch-decode-") as folder:
        service = build_registry_service(
            Path.cwd(), registry=None if base == "-" else base, cache_dir=Path(folder)
        )
        try:
            service._allow(len(names))  # the budgets a scan of these names has
            to_fetch = [(name, service.url_for(name), None) for name in names]
            service._ahead = fetch_worker.spawn(decode_workers())  # (as _spawn_ahead does)
            workers = service._start_workers(to_fetch)
            if workers is None:
                sys.exit("no fetch worker could start")
            fetched = decoded = failed = 0
            with workers:
                for _, answer in workers.answers():
                    if answer[0] != "got" or answer[1] != 200:
                        failed += 1
                        continue
                    fetched += 1
                    decoded += answer[4] is not None
            if workers.reaper is not None:
                workers.reaper.join()
        finally:
            service.close()
    counts = {"names": len(names), "fetched": fetched, "decoded": decoded, "failed": failed}
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
