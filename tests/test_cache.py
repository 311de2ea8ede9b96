"""The disk cache: namespaces, TTL, validators, info/clear, and errors that never fail."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO
from depaudit.cache import BATCH, SCHEMA, Cache, CacheEntry, default_root


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


def test_a_new_database_has_16k_pages_and_an_old_one_keeps_its_own(tmp_path: Path) -> None:
    """Fewer, bigger pages for packuments' entries (a cold scan's writes: half the CPU); a
    database made before keeps its 4 KB pages, and its entries read as before."""
    fresh = Cache(tmp_path / "fresh")
    fresh.set("registry", "k", {"v": 1})
    fresh.close()
    old_root = tmp_path / "old"
    (old_root / SCHEMA).mkdir(parents=True)
    with sqlite3.connect(old_root / SCHEMA / "cache.db") as db:
        db.execute("PRAGMA page_size=4096")
        db.execute("VACUUM")
    old = Cache(old_root)
    old.set("registry", "k", {"v": 2})
    assert old.get("registry", "k") is not None
    old.close()
    sizes = {}
    for name, root in (("fresh", tmp_path / "fresh"), ("old", old_root)):
        with sqlite3.connect(root / SCHEMA / "cache.db") as db:
            sizes[name] = db.execute("PRAGMA page_size").fetchone()[0]
    assert sizes == {"fresh": 16384, "old": 4096}


_OPEN_AT = """
import sys, time
from depaudit.cache import Cache
root, start = sys.argv[1], float(sys.argv[2])
while time.time() < start:
    pass
cache = Cache(root)
cache.set("registry", sys.argv[3], {"v": 1})
print(repr(cache.warnings))
cache.close()
"""


def test_two_runs_opening_a_new_cache_at_once_both_keep_it(tmp_path: Path) -> None:
    """Two processes create the same cache folder's database at the same moment (parallel
    CI jobs): neither goes on without the cache ("database is locked" on the switch to WAL,
    which the busy timeout does not cover, hit one round in two before the retry)."""
    import time

    for round_ in range(6):
        root = tmp_path / f"cache-{round_}"
        start = time.time() + 0.4
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _OPEN_AT, str(root), repr(start), f"k{i}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(2)
        ]
        said = [p.communicate(timeout=60) for p in procs]
        assert [out.strip() for out, _ in said] == ["[]", "[]"], said
        cache = Cache(root)
        assert cache.get("registry", "k0") is not None and cache.get("registry", "k1") is not None
        cache.close()


def test_last_write_is_the_database_or_its_journal_whichever_is_later(tmp_path: Path) -> None:
    import os

    from depaudit.cache import last_write

    assert last_write(tmp_path / "none") is None
    cache = Cache(tmp_path / "c")
    cache.set("registry", "k", {"v": 1})
    cache.close()
    folder = tmp_path / "c" / SCHEMA
    os.utime(folder / "cache.db", (1000.0, 1000.0))
    journal = folder / "cache.db-wal"
    journal.write_bytes(b"")
    os.utime(journal, (2000.0, 2000.0))
    assert last_write(tmp_path / "c") == 2000.0
    journal.unlink()
    assert last_write(tmp_path / "c") == 1000.0


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
    Cache(tmp_path).set("registry", "k", 1)
    with sqlite3.connect(tmp_path / SCHEMA / "cache.db") as conn:
        conn.execute("UPDATE entries SET stored = 'yesterday'")
    assert Cache(tmp_path).get("registry", "k") is None


def test_get_many_reads_every_key_in_batches(tmp_path: Path) -> None:
    clock = Clock()
    cache = Cache(tmp_path, clock=clock)
    with cache.batch():
        for i in range(BATCH * 2 + 7):
            cache.set("registry", f"p{i}", {"i": i}, etag=f'"{i}"' if i % 2 else None)
    cache.set("other", "p3", "not this namespace")
    cache.close()
    wanted = [f"p{i}" for i in range(BATCH * 2 + 20)]  # 13 of them are not there
    found = Cache(tmp_path).get_many("registry", [*wanted, "p3"])  # a repeated key is fine
    assert sorted(found) == sorted(wanted[: BATCH * 2 + 7])
    assert found["p3"] == CacheEntry({"i": 3}, clock.now, '"3"', None)
    assert found["p4"].etag is None


def test_a_damaged_value_is_removed_alone(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    for key in ("a", "b", "c"):
        cache.set("registry", key, [key])
    with sqlite3.connect(tmp_path / SCHEMA / "cache.db") as conn:
        conn.execute("UPDATE entries SET value = x'789c00ff' WHERE key = 'b'")
    again = Cache(tmp_path)
    assert {k: e.value for k, e in again.get_many("registry", ["a", "b", "c"]).items()} == {
        "a": ["a"],
        "c": ["c"],
    }
    assert again.damaged == 1 and len(again.warnings) == 1
    assert "removed a damaged registry entry" in again.warnings[0]
    assert again.enabled
    assert again.info().entries == {"registry": 2}  # gone from the database too


_VALUES = st.sampled_from([[], {}, "[]", [[]], None, 0, "", ["x"], {"a": []}])


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text("abc", min_size=1, max_size=3), _VALUES, max_size=8))
def test_get_many_unless_is_get_many_with_the_common_value_left_undecoded(
    tmp_path_factory: pytest.TempPathFactory, values: dict[str, object]
) -> None:
    """Every entry get_many reads is there once: the empty lists as their stored time, the
    others as their entries; a key not stored is in neither."""
    root = tmp_path_factory.mktemp("cache")
    clock = Clock()
    cache = Cache(root, clock=clock)
    for key, value in values.items():
        clock.now += 1
        cache.set("ns", key, value, etag="e" if value == "" else None)
    keys = [*values, "missing"]
    same, found = cache.get_many_unless("ns", keys, [])
    whole = cache.get_many("ns", keys)
    assert set(same) | set(found) == set(whole) and not set(same) & set(found)
    for key, stored in same.items():
        assert whole[key].value == [] and whole[key].stored_at == stored
    assert found == {k: e for k, e in whole.items() if k not in same}
    assert all(e.value != [] for e in found.values())


def test_get_many_unless_removes_a_damaged_value_as_get_many_does(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    for key in ("a", "b", "c"):
        cache.set("ns", key, [] if key != "c" else ["c"])
    with sqlite3.connect(tmp_path / SCHEMA / "cache.db") as conn:
        conn.execute("UPDATE entries SET value = '[]' WHERE key = 'b'")  # text, not a blob
        conn.execute("UPDATE entries SET stored = 'then' WHERE key = 'a'")
    again = Cache(tmp_path)
    same, found = again.get_many_unless("ns", ["a", "b", "c"], [])
    assert same == {} and {k: e.value for k, e in found.items()} == {"c": ["c"]}
    assert again.damaged == 1 and again.info().entries == {"ns": 2}


def test_values_round_trip_as_json(tmp_path: Path) -> None:
    value = {"s": "é\t\n", "n": None, "f": 1.5, "big": 2**70, "l": [1, {"x": True}], "k": {}}
    Cache(tmp_path).set("ns", "k", value)
    entry = Cache(tmp_path).get("ns", "k")
    assert entry is not None and entry.value == value


def test_an_older_cache_version_is_ignored_and_cleared(tmp_path: Path) -> None:
    old = tmp_path / "v1"
    old.mkdir()
    (old / "cache.db").write_bytes(b"an older layout")
    cache = Cache(tmp_path)
    assert cache.get("registry", "k") is None and cache.warnings == []
    cache.set("registry", "k", 1)
    assert cache.clear() == 1
    assert not old.exists() and not (tmp_path / SCHEMA).exists()


def test_default_root_follows_the_user_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_root() == tmp_path / "xdg" / "depaudit"


def test_a_run_leaves_the_cache_within_its_size_bound(tmp_path: Path) -> None:
    """Entries stored longest ago go when a run that wrote leaves the database over its bound
    (diskcache had a 1 GB size limit; cache v2 keeps one)."""
    bound = 256 * 1024
    now = [1_000.0]
    cache = Cache(tmp_path, clock=lambda: now[0], max_bytes=bound)
    value = "x" * 2_000
    for n in range(400):  # ~800 KB of values, over three times the bound
        now[0] += 1
        cache.set("registry", f"pkg-{n}", {"v": value, "n": n})
    cache.close()
    reopened = Cache(tmp_path, max_bytes=bound)
    kept = reopened.get_many("registry", [f"pkg-{n}" for n in range(400)])
    db = reopened._open()
    assert db is not None
    assert reopened._live_bytes(db) <= bound
    assert 0 < len(kept) < 400
    assert "pkg-399" in kept and "pkg-0" not in kept  # the newest stay, the oldest went
    assert min(int(k.split("-")[1]) for k in kept) == 400 - len(kept)
    reopened.close()


def test_a_run_that_only_reads_never_removes_entries(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    for n in range(50):
        cache.set("registry", f"pkg-{n}", {"n": n})
    cache.close()
    small = Cache(tmp_path, max_bytes=1)  # far over this bound, but it writes nothing
    assert len(small.get_many("registry", [f"pkg-{n}" for n in range(50)])) == 50
    small.close()
    assert len(Cache(tmp_path).get_many("registry", [f"pkg-{n}" for n in range(50)])) == 50


def test_clear_removes_the_bundled_fast_forms_which_are_built_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cache clear` empties the whole cache folder: the bundled data's fast forms live there
    too (``<root>/bundled``), and the next run builds them again."""
    from depaudit import bundled
    from depaudit.cli import main

    root = tmp_path / "cache"
    project = REPO / "examples" / "express-app"
    scan = ["scan", str(project), "--offline", "--no-npm", "--no-code", "--format", "json"]
    assert main([*scan, "--cache-dir", str(root)]) in (0, 1)
    capsys.readouterr()
    forms = root / "bundled"
    assert bundled.fast_form_dir() == forms and any(forms.iterdir())
    assert main(["cache", "clear", "--cache-dir", str(root)]) == 0
    capsys.readouterr()
    assert not forms.exists() and not (root / SCHEMA).exists()
    assert main([*scan, "--cache-dir", str(root)]) in (0, 1)
    assert any(forms.iterdir())


CLOSE_RACE = r"""
import sys, threading, time
from depaudit.cache import Cache

root, seconds = sys.argv[1], float(sys.argv[2])
keys = [f"k{i}" for i in range(600)]
seed = Cache(root)
with seed.batch():
    for key in keys[:100]:
        seed.set("ns", key, {"v": key})
seed.close()
end, rounds = time.monotonic() + seconds, 0
while time.monotonic() < end:
    rounds += 1
    cache = Cache(root)
    assert cache.get("ns", "k0") is not None
    stop = threading.Event()

    def use(n: int) -> None:
        while not stop.is_set():
            cache.get_many("ns", keys)
            cache.set("ns", f"w{n}", {"n": n})

    threads = [threading.Thread(target=use, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.002)
    cache.close()  # while the threads read and write
    stop.set()
    for thread in threads:
        thread.join()
    assert cache.get_many("ns", keys) == {} and cache.get("ns", "k0") is None
print(rounds)
"""


def test_closing_while_other_threads_use_the_cache_waits_for_them(tmp_path: Path) -> None:
    """A service's thread the scan abandoned (``EnrichmentService.begin``: the tree could
    not be read, Ctrl-C) may still read and write the cache while the scan closes it. The
    close waits for the statement under way, and later calls find the cache closed: closing
    the connection under another thread's statement crashed the process (SIGSEGV in SQLite,
    within a second of this loop). In a process of its own, so a crash fails only this."""
    result = subprocess.run(
        [sys.executable, "-c", CLOSE_RACE, str(tmp_path), "1.5"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout) > 10


def test_a_cache_closed_before_it_was_opened_stays_closed(tmp_path: Path) -> None:
    """A service's thread the scan abandoned may use the cache after the scan closed it;
    a cache that was never opened must not open a database then (one nobody closes)."""
    cache = Cache(tmp_path / "c")
    cache.close()
    cache.set("ns", "k", {"v": 1})
    assert cache.get("ns", "k") is None
    assert not (tmp_path / "c").exists()
    opened = Cache(tmp_path / "d")
    opened.set("ns", "k", {"v": 1})
    opened.close()
    assert opened.get("ns", "k") is None  # as before: closed is closed
    assert Cache(tmp_path / "d").get("ns", "k") is not None


def test_within_closing_behind_a_close_runs_beside_and_has_ended_at_its_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's scan closes its cache while its report is written (``closing_behind``):
    ``close`` returns at once, the connection closes in a thread, and the block's exit waits
    for it (the process may end right after). Outside the block a close is done on return."""
    import threading

    from depaudit import cache as cache_module

    real = cache_module._close
    closed: list[object] = []
    release = threading.Event()

    def slow(db: sqlite3.Connection, checkpoint: object = None) -> None:
        release.wait(10)
        real(db, checkpoint)  # type: ignore[arg-type]
        closed.append(db)

    monkeypatch.setattr(cache_module, "_close", slow)
    cache = Cache(tmp_path)
    cache.set("registry", "express", {"latest": "5.1.0"})
    with cache_module.closing_behind():
        cache.close()
        assert closed == []  # (the close waits on the event: it is not this thread's)
        assert cache.get("registry", "express") is None  # closed for its users at once
        threading.Timer(0.2, release.set).start()
    assert len(closed) == 1  # the exit waited for it
    assert not (tmp_path / SCHEMA / "cache.db-wal").exists()  # checkpointed, gone
    assert Cache(tmp_path).get("registry", "express") is not None

    release.clear()
    threading.Timer(0.2, release.set).start()
    other = Cache(tmp_path / "other")
    other.set("registry", "express", {"latest": "5.1.0"})
    other.close()  # outside the block: closed before it returns
    assert len(closed) == 2
    with (
        cache_module.closing_behind(),
        pytest.raises(RuntimeError, match="already in use"),
        cache_module.closing_behind(),
    ):
        pass


def _in_the_file(directory: Path) -> set[str]:
    """The keys the database file itself holds, its WAL left unread (``immutable``)."""
    uri = f"{(directory / SCHEMA / 'cache.db').resolve().as_uri()}?immutable=1"
    db = sqlite3.connect(uri, uri=True)
    try:
        return {key for (key,) in db.execute("SELECT key FROM entries")}
    except sqlite3.OperationalError:  # no table in the file yet: it is all in the WAL
        return set()
    finally:
        db.close()


def test_checkpoint_behind_copies_the_writes_into_the_file_and_the_close_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the services' writes are done, ``checkpoint_behind`` copies them from the WAL
    into the database file in a thread, on a connection of its own: the close then has
    nearly nothing left to copy and sync. The close waits for that thread first."""
    import threading

    from depaudit import cache as cache_module

    cache = Cache(tmp_path)
    cache.checkpoint_behind()  # nothing written: nothing to do
    assert cache._checkpoint is None
    for index in range(50):
        cache.set("registry", f"pkg-{index}", {"latest": "1.0.0"})
    assert _in_the_file(tmp_path) == set()  # all in the WAL so far
    real = cache_module._checkpoint
    order: list[str] = []
    release = threading.Event()

    def slow(path: Path) -> None:
        release.wait(10)
        real(path)
        order.append("checkpointed")

    monkeypatch.setattr(cache_module, "_checkpoint", slow)
    cache.checkpoint_behind()
    cache.checkpoint_behind()  # once per cache
    thread = cache._checkpoint
    assert thread is not None and thread.is_alive()
    cache.set("registry", "later", {"latest": "2.0.0"})  # a write meanwhile: to the WAL
    release.set()
    thread.join(10)
    assert order == ["checkpointed"]
    assert {f"pkg-{index}" for index in range(50)} <= _in_the_file(tmp_path)
    assert cache.get("registry", "later") is not None
    cache.close()

    release.clear()
    again = Cache(tmp_path / "again")
    again.set("registry", "express", {"latest": "5.1.0"})
    again.checkpoint_behind()
    real_close = cache_module._close

    def close(db: sqlite3.Connection, checkpoint: threading.Thread | None = None) -> None:
        real_close(db, checkpoint)
        order.append("closed")

    monkeypatch.setattr(cache_module, "_close", close)
    threading.Timer(0.2, release.set).start()
    again.close()
    assert order == ["checkpointed", "checkpointed", "closed"]
    assert not (tmp_path / "again" / SCHEMA / "cache.db-wal").exists()
    assert Cache(tmp_path / "again").get("registry", "express") is not None


def test_a_checkpoint_that_cannot_run_creates_nothing_and_raises_nothing(tmp_path: Path) -> None:
    """The checkpoint is an optimisation: a database gone from under it (a ``cache clear``
    in another shell) is not created again, and nothing is raised; the close does the rest."""
    from depaudit import cache as cache_module

    missing = tmp_path / "gone" / "cache.db"
    cache_module._checkpoint(missing)
    assert not missing.parent.exists()
    cache = Cache(tmp_path / "c")
    cache.set("registry", "express", {"latest": "5.1.0"})
    cache.checkpoint_behind()
    cache.close()
    assert Cache(tmp_path / "c").get("registry", "express") is not None
