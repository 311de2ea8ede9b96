"""The disk cache: namespaces, TTL, validators, info/clear, and errors that never fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from depaudit.cache import SCHEMA, Cache, default_root


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_roundtrip_with_validators(tmp_path: Path) -> None:
    clock = Clock()
    with Cache(tmp_path, clock=clock) as cache:
        cache.set("registry", "express", {"latest": "5.1.0"}, etag='"abc"', last_modified="x")
        entry = cache.get("registry", "express")
    assert entry is not None
    assert entry.value == {"latest": "5.1.0"}
    assert (entry.etag, entry.last_modified, entry.stored_at) == ('"abc"', "x", clock.now)
    assert (tmp_path / SCHEMA).is_dir()  # versioned namespace on disk
    # a new instance (a new run) sees it
    assert Cache(tmp_path).get("registry", "express") is not None


def test_namespaces_are_separate(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.set("registry", "k", 1)
    cache.set("advisories", "k", 2)
    assert cache.get("registry", "k").value == 1  # type: ignore[union-attr]
    assert cache.get("advisories", "k").value == 2  # type: ignore[union-attr]
    assert cache.get("other", "k") is None


def test_ttl_and_touch(tmp_path: Path) -> None:
    clock = Clock()
    cache = Cache(tmp_path, clock=clock)
    cache.set("registry", "k", [1], etag='"e"')
    clock.now += 100
    entry = cache.get("registry", "k")
    assert entry is not None and entry.fresh(ttl=101, now=clock.now)
    assert not entry.fresh(ttl=100, now=clock.now)
    cache.touch("registry", "k")  # a 304: same value and validators, new timestamp
    touched = cache.get("registry", "k")
    assert touched is not None
    assert (touched.value, touched.etag, touched.stored_at) == ([1], '"e"', clock.now)


def test_info_and_clear(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    for i in range(3):
        cache.set("registry", f"p{i}", {"i": i})
    cache.set("advisories", "x", [])
    info = cache.info()
    assert info.location == tmp_path / SCHEMA
    assert info.entries == {"advisories": 1, "registry": 3}
    assert info.size_bytes > 0
    assert cache.clear() == 4
    assert not (tmp_path / SCHEMA).exists()
    assert Cache(tmp_path).info().entries == {}


def test_disabled_cache_is_a_no_op(tmp_path: Path) -> None:
    cache = Cache(tmp_path, enabled=False)
    cache.set("registry", "k", 1)
    assert cache.get("registry", "k") is None
    assert not (tmp_path / SCHEMA).exists()
    assert cache.warnings == []


def test_corrupt_database_is_one_warning(tmp_path: Path) -> None:
    (tmp_path / SCHEMA).mkdir()
    (tmp_path / SCHEMA / "cache.db").write_bytes(b"garbage" * 100)
    cache = Cache(tmp_path)
    assert cache.get("registry", "k") is None
    cache.set("registry", "k", 1)
    assert cache.get("registry", "k") is None
    assert len(cache.warnings) == 1
    assert "cannot open" in cache.warnings[0]
    # `depaudit cache clear` repairs it
    cache.clear()
    fresh = Cache(tmp_path)
    fresh.set("registry", "k", 1)
    assert fresh.get("registry", "k") is not None


def test_unusable_folder_is_one_warning(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = Cache(blocker)
    cache.set("registry", "k", 1)
    assert cache.get("registry", "k") is None
    assert len(cache.warnings) == 1


def test_entries_of_an_unexpected_shape_are_misses(tmp_path: Path) -> None:
    import diskcache

    (tmp_path / SCHEMA).mkdir()
    with diskcache.Cache(str(tmp_path / SCHEMA), disk=diskcache.JSONDisk) as raw:
        raw.set("registry\x00k", ["not", "a", "record"])
    assert Cache(tmp_path).get("registry", "k") is None


def test_default_root_follows_the_user_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_root() == tmp_path / "xdg" / "depaudit"
