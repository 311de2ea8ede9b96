"""The fetch workers claim their jobs through one pipe they share (``services/fetch_claims.py``,
``FetchWorkers``): every job is claimed once, by whichever worker has room first, so a
slower worker takes fewer; a claim that does not read whole and matching ends the reader's
claiming (what it left is the scan's to fetch)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import IO, Any

import pytest

from depaudit.services import fetch_worker, forked
from depaudit.services.fetch_claims import CLAIM, Claims, Crew, claimed
from depaudit.services.fetch_worker import FetchWorkers, read_jobs
from depaudit.services.frames import read_frame, write_frame

_JOBS = [(f"tag-{i}", f"http://registry.invalid/pkg-{i}", {}) for i in range(5)]


def _claims(*indexes: int) -> bytes:
    return b"".join(CLAIM.pack(i, i ^ 0xFFFFFFFF) for i in indexes)


def _read_end(data: bytes) -> int:
    """A pipe holding ``data``, its write end closed: its read end."""
    read_end, write_end = os.pipe()
    os.write(write_end, data)
    os.close(write_end)
    return read_end


def _tags(data: bytes) -> list[str]:
    fd = _read_end(data)
    try:
        return [job.tag for job in claimed(_JOBS, fd)]
    finally:
        os.close(fd)


def test_a_worker_takes_the_jobs_whose_claims_it_reads_in_their_order() -> None:
    assert _tags(_claims(3, 0, 4)) == ["tag-3", "tag-0", "tag-4"]
    fd = _read_end(_claims(1))
    try:
        (job,) = claimed(_JOBS, fd)
    finally:
        os.close(fd)
    assert (job.tag, job.url, dict(job.headers)) == _JOBS[1]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (_claims(2) + CLAIM.pack(1, 1) + _claims(0), ["tag-2"]),
        (_claims(2) + _claims(1)[:5], ["tag-2"]),
        (_claims(1, 5, 0), ["tag-1"]),
        (_claims(1)[3:] + _claims(2), []),
        (b"", []),
    ],
    ids=["halves that do not match", "cut short", "past the jobs", "from the middle", "none"],
)
def test_a_claim_that_does_not_read_whole_and_matching_ends_the_claiming(
    data: bytes, expected: list[str]
) -> None:
    assert _tags(data) == expected


linux_only = pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux")


def _claiming(delay: float, mark: Path, first: bool) -> Any:
    """What a forked stand-in for a fetch worker runs: its set-up and jobs read as a worker
    reads them, then each job it claims answered with its own pid, ``delay`` seconds each.
    The ``first`` one touches ``mark`` once it has claimed a job; the other waits for it
    (at most 10 s) before it claims any, so both claim, whichever the system runs first."""

    def serve(source: IO[bytes], sink: IO[bytes]) -> None:
        setup = read_frame(source)
        jobs, _ = read_jobs(source)
        for _ in range(1000):
            if first or mark.exists():
                break
            time.sleep(0.01)
        for job in claimed(jobs, setup[1]["claims"]):
            write_frame(sink, ("answer", job.tag, os.getpid()))
            sink.flush()
            if first:
                mark.touch()
            time.sleep(delay)

    return serve


def _crew(slow: float, mark: Path) -> Crew:
    """Two workers forked with a claims pipe (as ``fetch_worker.spawn`` makes them): one
    taking ``slow`` seconds a job, which claims first, then one taking none."""
    read_end, write_end = os.pipe()
    crew = Crew()
    for delay, first in ((slow, True), (0.0, False)):  # (one at a time: each its own pace)
        crew += forked.start(1, _claiming(delay, mark, first), close=(write_end,))
    os.close(read_end)
    crew.claims, crew.read_end = Claims(write_end), read_end
    return crew


@linux_only
def test_every_job_is_claimed_once_and_the_slower_worker_takes_fewer(tmp_path: Path) -> None:
    """20,000 jobs, more claims than the pipe holds at once (narrowed to one page, 512
    claims: the rest are written as it has room, while the answers are read), two workers
    reading the one pipe: each job answered once, and the worker that takes 2 ms a job
    answers fewer of them than the one that takes none."""
    import fcntl

    count = 20_000
    jobs = [(i, f"http://registry.invalid/pkg-{i}", {}) for i in range(count)]
    crew = _crew(0.002, tmp_path / "claimed")
    assert crew.claims is not None and crew.claims.fd is not None
    assert fcntl.fcntl(crew.claims.fd, fcntl.F_SETPIPE_SZ, 4096) == 4096
    slow, fast = (process.pid for process in crew)
    deadline = time.monotonic() + 30  # (a claiming that never ends fails, it does not hang)
    with FetchWorkers.start({"recipe": None}, 2, crew) as workers:
        assert workers is not None
        workers.send(jobs)
        answered = list(workers.answers(stop=lambda: time.monotonic() > deadline))
    tags = sorted(tag for tag, _ in answered)
    assert tags == list(range(count))
    by = {pid: sum(1 for _, who in answered if who == pid) for pid in (slow, fast)}
    assert 0 < by[slow] < by[fast]
    assert crew.claims is not None and crew.claims.fd is None  # (closed: all written)
    assert workers.reaper is not None
    workers.reaper.join(10)
    assert [process.returncode for process in crew] == [0, 0]  # (each ended well)


def test_spawn_gives_its_workers_one_claims_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forked or started as interpreters, the workers of one spawn share a claims pipe whose
    write end is this process's alone: closing it ends every worker's claiming."""
    for alone in (True, False):
        if alone and sys.platform != "linux":
            continue
        monkeypatch.setattr(fetch_worker, "_alone", lambda alone=alone: alone)
        crew = fetch_worker.spawn(2)
        assert len(crew) == 2 and crew.claims is not None and crew.read_end >= 0
        assert crew.claims.fd is not None and not os.get_blocking(crew.claims.fd)
        fetch_worker.end(crew)
        assert crew.claims.fd is None
        assert all(process.poll() is not None for process in crew)
