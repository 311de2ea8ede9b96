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
