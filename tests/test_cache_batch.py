"""Cache.batch(): writes grouped in one transaction are all there afterwards, for this and a
new process's Cache; a disabled cache makes it a no-op; a failing body still commits."""

from __future__ import annotations

from pathlib import Path

import pytest

from depaudit.cache import SCHEMA, Cache


def test_batched_writes_are_read_back_by_a_new_cache(tmp_path: Path) -> None:
    cache = Cache(tmp_path, clock=lambda: 1000.0)
    with cache.batch():
        for i in range(200):
            cache.set("registry", f"pkg-{i}", {"latest": f"{i}.0.0"}, etag=f'"e{i}"')
        assert cache.get("registry", "pkg-7") is not None  # visible inside the transaction
    cache.close()
    again = Cache(tmp_path)
    entry = again.get("registry", "pkg-199")
    assert entry is not None
    assert (entry.value, entry.etag, entry.stored_at) == ({"latest": "199.0.0"}, '"e199"', 1000.0)
    assert again.warnings == []


def test_disabled_cache_batch_is_a_no_op(tmp_path: Path) -> None:
    cache = Cache(tmp_path, enabled=False)
    with cache.batch():
        cache.set("registry", "a", {"x": 1})
    assert cache.get("registry", "a") is None
    assert not (tmp_path / SCHEMA).exists()


def test_writes_before_an_error_in_the_body_are_kept(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    with pytest.raises(KeyboardInterrupt), cache.batch():
        cache.set("registry", "kept", [1])
        raise KeyboardInterrupt
    cache.close()
    entry = Cache(tmp_path).get("registry", "kept")
    assert entry is not None and entry.value == [1]


def test_batches_of_threads_at_once_join_and_keep_the_cache(tmp_path: Path) -> None:
    """The services of a scan write from several threads at once: their batches share one
    transaction at a time, and none makes the cache give up."""
    import threading

    cache = Cache(tmp_path / "c")
    start = threading.Barrier(8)

    def writer(n: int) -> None:
        start.wait()
        for i in range(40):
            with cache.batch():
                cache.set("ns", f"{n}-{i}", {"n": n, "i": i})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.enabled and cache.warnings == []
    cache.close()
    again = Cache(tmp_path / "c")
    found = again.get_many("ns", [f"{n}-{i}" for n in range(8) for i in range(40)])
    assert len(found) == 320
    again.close()


def _on_disk(root: Path) -> dict[str, float]:
    """The entries another connection sees: committed ones only."""
    import sqlite3

    with sqlite3.connect(root / SCHEMA / "cache.db") as conn:
        return dict(conn.execute("SELECT key, stored FROM entries").fetchall())


def test_grouped_writes_commit_a_group_at_a_time_and_keep_their_times(tmp_path: Path) -> None:
    """``GroupedWrites``: nothing is committed until a group is full, each write keeps the
    time it was asked for (not the time its group was committed), a touch too, and flush
    commits the rest."""
    from depaudit.cache import GroupedWrites

    now = [100.0]
    cache = Cache(tmp_path, clock=lambda: now[0])
    cache.set("registry", "old", {"v": 0})  # (opens the database; touched below)
    writes = GroupedWrites(cache, size=4)
    for i in range(10):
        now[0] = 200.0 + i
        writes.set("registry", f"pkg-{i}", {"v": i}, etag=f'"e{i}"')
        committed = _on_disk(tmp_path)
        assert len(committed) - 1 == 4 * ((i + 1) // 4)  # whole groups only
    now[0] = 300.0
    writes.touch("registry", "old")
    now[0] = 400.0
    assert _on_disk(tmp_path)["old"] == 100.0  # (waiting in the last group)
    writes.flush()
    committed = _on_disk(tmp_path)
    assert committed == {"old": 300.0, **{f"pkg-{i}": 200.0 + i for i in range(10)}}
    writes.flush()  # nothing left: no-op
    cache.close()
    entry = Cache(tmp_path).get("registry", "pkg-9")
    assert entry is not None and (entry.value, entry.etag) == ({"v": 9}, '"e9"')


def test_grouped_writes_of_many_threads_are_all_kept(tmp_path: Path) -> None:
    import threading

    from depaudit.cache import GroupedWrites

    cache = Cache(tmp_path)
    writes = GroupedWrites(cache, size=16)
    start = threading.Barrier(6)

    def writer(n: int) -> None:
        start.wait()
        for i in range(50):
            writes.set("ns", f"{n}-{i}", [n, i])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writes.flush()
    assert len(_on_disk(tmp_path)) == 300
    assert cache.warnings == []


def test_a_group_is_written_in_the_order_asked_and_a_value_it_cannot_store_writes_none(
    tmp_path: Path,
) -> None:
    """A group's sets and touches go in the order they were asked (a touch after a set of
    the same key keeps the touch's time); a value that is not JSON stops the cache (one
    warning) and none of its group is kept."""
    from depaudit.cache import GroupedWrites

    now = [1.0]
    cache = Cache(tmp_path, clock=lambda: now[0])
    writes = GroupedWrites(cache, size=4)
    for step, (kind, key) in enumerate(
        [("set", "a"), ("touch", "a"), ("set", "b"), ("set", "a")], start=1
    ):
        now[0] = float(step)
        writes.touch("ns", key) if kind == "touch" else writes.set("ns", key, [key, step])
    assert _on_disk(tmp_path) == {"a": 4.0, "b": 3.0}
    entry = cache.get("ns", "a")
    assert entry is not None and entry.value == ["a", 4]
    writes.set("ns", "c", ["c"])
    writes.set("ns", "d", {"not json": object()})
    writes.flush()
    assert _on_disk(tmp_path) == {"a": 4.0, "b": 3.0}
    assert len(cache.warnings) == 1 and "continuing without the cache" in cache.warnings[0]
