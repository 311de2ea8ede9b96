"""Fetch workers seeded at the scan's start (``services/fetch_seed.py``): one process forked
before the scan's own work, which forks the other workers and serves as the first. Each
worker sees its own input's end, the seed reaps the others before it ends, a kill ends
them all, and the scan seeds only where its fetch may run in them."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from depaudit.config import Settings
from depaudit.services import fetch_seed, fetch_worker

from .test_forked import _read

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="workers are seeded on Linux")


@pytest.fixture(autouse=True)
def _released() -> Iterator[None]:
    yield
    fetch_seed.release()


def _count_to_the_end(source: IO[bytes], sink: IO[bytes]) -> None:
    """Say who this worker is, then, at its input's end, how much came."""
    sink.write(f"{os.getpid()} {os.getpgrp()}\n".encode())
    sink.flush()
    sink.write(f"read {len(source.read())}".encode())


def _until_the_end(source: IO[bytes], sink: IO[bytes]) -> None:
    """Read to the input's end (a real worker's set-up that never comes), say nothing."""
    source.read()


def _gone(pid: int, seconds: float = 10) -> bool:
    """Whether process ``pid`` has ended (gone, or a zombie no one has reaped yet)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.01)
    return False


def _first_line(stream: IO[bytes]) -> tuple[int, int]:
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(stream.fileno(), 1)
        assert chunk, "the worker said nothing"
        line += chunk
    pid, group = map(int, line.split())
    return pid, group


def test_each_seeded_worker_sees_its_own_input_end_and_the_seed_reaps_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The seed serves the first pipe and forked the second worker holding none of the
    first's pipes: closing the first input ends the first output alone; the seed ends only
    once the other worker has ended (it reaps it), in a process group of its own."""
    monkeypatch.setattr(fetch_worker, "serve", _count_to_the_end)
    monkeypatch.setattr(fetch_worker, "import_worker_modules", lambda: None)
    assert fetch_seed.sow(2)
    first, second = fetch_seed.take(2)
    assert isinstance(first, fetch_seed.Seeded) and first.seed is second.seed
    seed_pid, first_group = _first_line(first.stdout)
    other_pid, other_group = _first_line(second.stdout)
    assert seed_pid == first.pid and other_pid != seed_pid
    assert first_group == other_group == seed_pid != os.getpgrp()
    first.stdin.write(b"abc")
    first.stdin.close()
    assert _read(first.stdout) == b"read 3"  # (the second holds no copy of its pipes)
    time.sleep(0.1)
    assert first.poll() is None and second.poll() is None  # (it waits for the other)
    second.stdin.close()
    assert _read(second.stdout) == b"read 0"
    assert second.wait(timeout=10) == 0 == first.wait(timeout=10)
    assert _gone(other_pid)  # (reaped by the seed: not a child of this process)
    for worker in (first, second):
        worker.stdout.close()


def test_a_kill_ends_every_seeded_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """``kill`` on any of them ends the seed's whole group: the other worker too, which
    this process could not reach by its own child's id."""
    monkeypatch.setattr(fetch_worker, "serve", _count_to_the_end)
    monkeypatch.setattr(fetch_worker, "import_worker_modules", lambda: None)
    assert fetch_seed.sow(2)
    first, second = fetch_seed.take(2)
    other_pid, _ = _first_line(second.stdout)
    _first_line(first.stdout)
    second.kill()
    assert first.wait(timeout=10) != 0
    assert _gone(other_pid)
    for worker in (first, second):
        worker.stdin.close()
        worker.stdout.close()


def test_without_a_group_of_its_own_a_kill_still_ends_the_seed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the system refuses the seed a process group, ``kill`` ends the seed itself
    (this process's child), not this process's own group; the other worker ends at its
    input's end."""

    def refused(*_: object) -> None:
        raise PermissionError("no")

    monkeypatch.setattr(fetch_worker, "serve", _count_to_the_end)
    monkeypatch.setattr(fetch_worker, "import_worker_modules", lambda: None)
    monkeypatch.setattr(os, "setpgid", refused)
    assert fetch_seed.sow(2)
    first, second = fetch_seed.take(2)
    _, group = _first_line(first.stdout)
    other_pid, _ = _first_line(second.stdout)
    assert group == os.getpgrp()  # (the seed stayed in this process's group)
    first.kill()  # (no group has the seed's id: the seed alone is killed)
    assert first.wait(timeout=10) != 0
    second.stdin.close()
    assert _read(second.stdout) == b"read 0"
    assert _gone(other_pid)
    for worker in (first, second):
        worker.stdout.close()


def test_seeded_workers_are_taken_once_and_only_as_many_as_sown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fetch asking for another number of workers gets none (they are let go: the seed
    ends); none are left for a second fetch; a seed let go ends at its input's end."""
    monkeypatch.setattr(fetch_worker, "serve", _until_the_end)
    monkeypatch.setattr(fetch_worker, "import_worker_modules", lambda: None)
    assert fetch_seed.sow(2)
    seed = fetch_seed._seeded[0]
    assert fetch_seed.take(1) == []
    assert seed.wait(timeout=10) == 0
    assert fetch_seed.take(2) == []
    assert fetch_seed.sow(2)
    seed = fetch_seed._seeded[0]
    fetch_seed.release()
    assert seed.wait(timeout=10) == 0
    assert fetch_seed.take(2) == []


def test_a_seed_that_cannot_import_the_workers_modules_answers_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where pycurl or msgspec is missing, the seed ends without serving: every output ends,
    and the scan fetches what it gave them itself (as for a worker that died)."""

    def missing() -> None:
        raise ImportError("no pycurl")

    monkeypatch.setattr(fetch_worker, "import_worker_modules", missing)
    assert fetch_seed.sow(2)
    workers = list(fetch_seed._seeded)
    for worker in workers:
        assert _read(worker.stdout) == b""
    assert workers[0].wait(timeout=10) == 0
    assert fetch_seed.take(2) == []  # (ended: not taken)


def _settings(tmp_path: Path, **changes: object) -> Settings:
    return Settings(directory=tmp_path, cache_dir=tmp_path / "cache", **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "written_ago", "sown"),
    [
        ({}, None, True),  # no cache yet: a cold scan
        ({}, 2 * 86400.0, True),  # written before its time to live
        ({}, 60.0, False),  # written a minute ago: a warm scan, likely
        ({"use_cache": False}, 60.0, True),  # no cache: everything is fetched
        ({"offline": True}, None, False),
        ({"use_registry": False}, None, False),
    ],
)
def test_the_scan_seeds_where_its_fetch_may_run_in_workers(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    changes: dict[str, object],
    written_ago: float | None,
    sown: bool,
) -> None:
    from depaudit.cache import Cache

    monkeypatch.setattr(fetch_worker, "import_worker_modules", lambda: None)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr("depaudit.services.fetch_seed.decode_workers", lambda: 2)
    if written_ago is not None:
        cache = Cache(tmp_path / "cache", enabled=True)
        cache.set("registry", "elsewhere", {"v": 1})
        cache.close()
        for path in (tmp_path / "cache").rglob("*"):
            os.utime(path, (time.time() - written_ago,) * 2)
    assert fetch_seed.sow_for(_settings(tmp_path, **changes)) is sown
    assert (len(fetch_seed._seeded) == 2) is sown


def test_no_seed_from_a_process_with_other_threads_nor_on_one_core(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fork would copy another thread's half-done work; on one core the seed's imports
    would take the scan's own."""
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert fetch_seed.sow_for(_settings(tmp_path)) is False
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr("depaudit.services.fetch_seed.decode_workers", lambda: 1)
    assert fetch_seed.sow_for(_settings(tmp_path)) is False
    assert fetch_seed._seeded == []
