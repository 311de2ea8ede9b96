"""Run ``depaudit`` with stamps at the cold scan's moments (``benchmarks/timeline.py`` runs it).

``python benchmarks/timeline_probe.py ARGS...`` is ``depaudit ARGS...`` with wrappers around
the methods that mark where a cold scan is: the fetch's first requests and answers, its
end, the decoding workers' last answer, the registry's facts, the report written. Each stamp
is the wall time since ``DEPAUDIT_TIMELINE_T0`` (the harness's clock at the spawn) and the
process's CPU so far, its own and its reaped children's (the decoding workers, once they have
ended). With them, the CPU of each of the process's threads that has ended by then (the
decoders' feed and answers, the other services' pool: by name), and the main thread's, which
drives the fetch. They are written as JSON to ``DEPAUDIT_TIMELINE_OUT`` when the report is
written.
Nothing here is imported by depaudit.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

T0 = float(os.environ["DEPAUDIT_TIMELINE_T0"])
STAMPS: list[dict[str, Any]] = []
#: CPU seconds of the threads that have ended, by name (``enrich_0``... by its prefix)
THREADS: dict[str, float] = {}


def count_threads() -> None:
    """Each thread's own CPU (``time.thread_time``) added to :data:`THREADS` when it ends."""
    run = threading.Thread.run

    def counted(self: threading.Thread) -> None:
        start = time.thread_time()
        try:
            run(self)
        finally:
            name = self.name.rstrip("0123456789").rstrip("_-") or self.name
            with LOCK:
                THREADS[name] = THREADS.get(name, 0.0) + time.thread_time() - start

    threading.Thread.run = counted  # type: ignore[method-assign]


LOCK = threading.Lock()


def stamp(moment: str) -> None:
    times = os.times()
    STAMPS.append(
        {
            "moment": moment,
            "at_s": time.time() - T0,
            "cpu_s": times.user + times.system,
            "children_cpu_s": times.children_user + times.children_system,
        }
    )


def wrap(owner: Any, name: str, before: str | None, after: str | None) -> None:
    original = getattr(owner, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if before is not None:
            stamp(before)
        try:
            return original(*args, **kwargs)
        finally:
            if after is not None:
                stamp(after)

    setattr(owner, name, wrapped)


def main() -> None:
    stamp("the interpreter is up")
    count_threads()
    from depaudit import cli, http_bulk
    from depaudit.services import registry, registry_decode

    fetch = http_bulk.BulkFetcher.get_many

    def get_many(self: Any, jobs: Any, done: Any, *args: Any, **kwargs: Any) -> Any:
        answers = 0
        started = kwargs.pop("started", None)

        def first_out() -> None:
            stamp("the first requests go out")
            if started is not None:
                started()

        def counted(job: Any, got: Any) -> None:
            nonlocal answers
            answers += 1
            if answers == 1:
                stamp("the first answer")
            done(job, got)

        try:
            return fetch(self, jobs, counted, *args, started=first_out, **kwargs)
        finally:
            stamp("the last answer (the fetch returns)")

    http_bulk.BulkFetcher.get_many = get_many  # type: ignore[method-assign]
    wrap(registry_decode.Decoders, "close", None, "the decoding workers have answered")
    # a big fetch in fetch workers (services/fetch_worker.py): the same moments, seen from
    # the scan's side of their pipes
    from depaudit.services import fetch_worker

    send, answers = fetch_worker.FetchWorkers.send, fetch_worker.FetchWorkers.answers

    def sent(self: Any, jobs: Any) -> None:
        send(self, jobs)
        stamp("the first requests go out (the jobs are with the fetch workers)")

    def answered(self: Any, stop: Any = None) -> Any:
        first = True
        for answer in answers(self, stop):
            if first:
                stamp("the first answer")
                first = False
            yield answer
        stamp("the last answer (the fetch workers' answers end)")

    fetch_worker.FetchWorkers.send = sent  # type: ignore[method-assign]
    fetch_worker.FetchWorkers.answers = answered  # type: ignore[method-assign]
    wrap(registry.RegistryService, "enrich_all", None, "the registry's facts are made")
    end = cli.end

    def ended(code: int) -> Any:
        stamp("the report is written (cli.end)")
        with LOCK:
            threads = {"the main thread (the fetch's)": time.thread_time(), **THREADS}
        with open(os.environ["DEPAUDIT_TIMELINE_OUT"], "w", encoding="utf-8") as out:
            json.dump({"stamps": STAMPS, "threads": threads}, out)
        return end(code)

    cli.end = ended  # type: ignore[assignment]
    sys.argv = ["depaudit", *sys.argv[1:]]
    cli.run()


if __name__ == "__main__":
    main()
