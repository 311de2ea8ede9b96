"""Fetch workers forked at the scan's start (``services/fetch_ahead.py``): only where a big
cold fetch is likely, taken by the fetch, and ended when it does not take them."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from depaudit.cache import DATABASE, SCHEMA
from depaudit.config import Settings
from depaudit.services import fetch_ahead, fetch_worker
from depaudit.services.fetch_ahead import AHEAD_FROM_BYTES, forked_ahead, likely


@pytest.fixture
def big(tmp_path: Path) -> Settings:
    """A folder whose lockfile is just big enough, and a cache folder never written."""
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "package-lock.json").write_text(" " * AHEAD_FROM_BYTES)
    return Settings(directory=folder, cache_dir=tmp_path / "cache")


def _written(settings: Settings, name: str, age: float) -> None:
    assert settings.cache_dir is not None
    path = settings.cache_dir / SCHEMA / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    moment = time.time() - age
    os.utime(path, (moment, moment))


def test_a_big_lockfile_and_a_cold_cache_make_a_fetch_likely(big: Settings) -> None:
    assert likely(big)
    assert likely(replace(big, lockfile=big.directory / "package-lock.json"))
    assert likely(replace(big, use_cache=False))  # (every run is cold)


@pytest.mark.parametrize(
    "change",
    [
        {"offline": True},
        {"use_registry": False},
        {"npm_ls": "-"},
    ],
)
def test_nothing_is_likely_offline_without_the_registry_or_from_npm_ls(
    big: Settings, change: dict[str, object]
) -> None:
    assert not likely(replace(big, **change))  # type: ignore[arg-type]


def test_a_small_or_missing_lockfile_makes_nothing_likely(big: Settings) -> None:
    lock = Path(big.directory) / "package-lock.json"
    lock.write_text(" " * (AHEAD_FROM_BYTES - 1))
    assert not likely(big)
    lock.unlink()
    assert not likely(big)  # (no lockfile: the scan says so)
    assert not likely(replace(big, lockfile=lock))


def test_a_cache_written_within_its_time_to_live_makes_nothing_likely(big: Settings) -> None:
    _written(big, DATABASE, big.cache_ttl + 60)  # every entry stale
    assert likely(big)
    _written(big, f"{DATABASE}-wal", 60)  # the latest writes, in the journal
    assert not likely(big)
    _written(big, f"{DATABASE}-wal", big.cache_ttl + 60)
    _written(big, DATABASE, 60)
    assert not likely(big)


def test_workers_forked_ahead_are_taken_by_the_fetch_and_the_rest_ended(
    big: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_worker, "_alone", lambda: True)  # (as the scan, a program)
    with forked_ahead(big):
        ahead = list(fetch_worker._forked)
        assert len(ahead) >= 1
        taken = fetch_worker.spawn(1)  # the fetch's
        assert taken == ahead[:1] and fetch_worker._forked == ahead[1:]
        assert all(worker.poll() is None for worker in ahead)  # (waiting for a set-up)
    assert fetch_worker._forked == []
    assert all(worker.poll() is not None for worker in ahead[1:])  # ended with the block
    fetch_worker.end(taken)


@pytest.mark.parametrize(("offline", "alone"), [(True, True), (False, False)])
def test_nothing_is_forked_where_nothing_is_likely_or_threads_run(
    big: Settings, monkeypatch: pytest.MonkeyPatch, offline: bool, alone: bool
) -> None:
    """Offline, nothing is likely; a process running other threads (a library's caller)
    forks nothing at its start (the fetch starts its workers as interpreters then)."""
    forks: list[int] = []

    def start(count: int, serve: object) -> list[object]:
        forks.append(count)
        return []

    monkeypatch.setattr("depaudit.services.forked.start", start)
    monkeypatch.setattr(fetch_worker, "_alone", lambda: alone)
    with forked_ahead(replace(big, offline=offline)):
        pass
    assert forks == [] and fetch_ahead.fetch_worker._forked == []
    monkeypatch.setattr(fetch_worker, "_alone", lambda: True)
    with forked_ahead(big):  # (the mutation check: where both hold, it forks)
        pass
    assert len(forks) == 1
