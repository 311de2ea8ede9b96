"""A scan that wrote registry documents to its cache copies them from the WAL into the
database file while it ranks (``Cache.checkpoint_behind``, the ``Auditor``'s ``settled``),
and its close waits for that copy before it closes the connection."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from depaudit.cache import DATABASE, SCHEMA

from .conftest import FakeRegistry
from .test_lockfile_early import _argv, _lockfile, _serve


def test_a_cold_scan_checkpoints_its_cache_beside_the_ranking_then_closes_it(
    fake_registry: FakeRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from depaudit import cache as cache_module
    from depaudit.cli import main
    from depaudit.scoring import LeakScorer

    monkeypatch.delenv("DEPAUDIT_NO_REGISTRY")
    _serve(fake_registry, 3)
    lock = _lockfile(tmp_path / "app", 3)
    cache = tmp_path / "cache"
    moments: list[tuple[str, str]] = []
    checkpoint, close, score = cache_module._checkpoint, cache_module._close, LeakScorer.__call__

    def checkpointed(path: Path) -> None:
        moments.append(("checkpoint begins", str(path)))
        checkpoint(path)
        moments.append(("checkpoint", str(path)))

    def closed(db: object, waits_for: threading.Thread | None = None) -> None:
        close(db, waits_for)  # type: ignore[arg-type]
        if waits_for is not None:  # (the scan's cache; the code scan's closed before)
            moments.append(("close", threading.current_thread().name))

    def scored(self: LeakScorer, *args: object) -> object:
        moments.append(("score", ""))
        return score(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(cache_module, "_checkpoint", checkpointed)
    monkeypatch.setattr(cache_module, "_close", closed)
    monkeypatch.setattr(LeakScorer, "__call__", scored)
    out = tmp_path / "report.json"
    assert main([*_argv(fake_registry, lock, cache), "--output", str(out)]) == 0
    database = str((cache / SCHEMA / DATABASE).resolve())
    assert ("checkpoint", database) in moments
    # begun before the ranking (it runs beside it); the scan's close, in its thread while
    # the report is written, waited for it
    assert moments.index(("checkpoint begins", database)) < moments.index(("score", ""))
    assert moments.index(("checkpoint", database)) < moments.index(("close", "cache-close"))
    assert not (cache / SCHEMA / f"{DATABASE}-wal").exists()
    assert len(fake_registry.packument_requests()) == 3
