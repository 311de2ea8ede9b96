"""A small, versioned disk cache shared by the services (one SQLite table, JSON values).

Layout: ``<root>/v2/cache.db`` where ``<root>`` is ``--cache-dir`` / ``DEPAUDIT_CACHE_DIR``
or the user cache folder (platformdirs, ``.../depaudit``). Entries live in a *namespace*
(``registry``, ``advisories``...) under a key, with the time they were stored and the HTTP
validators (ETag / Last-Modified) needed to revalidate them once their TTL has passed.

One row per entry: ``(namespace, key, stored, etag, lm, value)``, the value as one JSON
document (orjson). :meth:`Cache.get_many` reads the entries of many keys in a few queries: a
warm scan of 2,000 packages made 3,900 diskcache lookups, each decoding zlib-compressed JSON
(``v1``, diskcache's ``JSONDisk``); a batch and plain JSON cost a fraction of that
(benchmarks/README.md, "Warm scan"). ``v1`` folders of older versions are never read;
``cache clear`` removes them too, and the bundled data's fast forms (``<root>/bundled``).

The cache is an optimisation, never a failure: any error (corrupt database, read-only or
missing folder, full disk) disables it for the run and leaves one warning in
:attr:`Cache.warnings`; one entry that cannot be decoded is removed (and counted) alone.
Concurrent runs share the database: WAL journal, a busy timeout, writes in one transaction.

Why this module is over ~400 lines: it is one store, one SQLite connection shared by
threads: reads, batched reads, writes, the size bound, clear, and the failure handling that
turns any error into one warning must see the same connection and lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson
import platformdirs

from depaudit.errors import ConfigError
from depaudit.slots import dataclass, slot_init

SCHEMA = "v2"
#: folders of older cache versions: never read, removed by ``cache clear``
OLD_SCHEMAS = ("v1",)
#: folders of what is built again on use, removed by ``cache clear`` too: the bundled data's
#: fast forms (``bundled.fast_form_dir``)
REBUILT = ("bundled",)
DATABASE = "cache.db"
APP = "depaudit"
DEFAULT_TTL = 24 * 3600.0
BUSY_TIMEOUT = 5.0  # seconds another run's write may hold the database
#: keys per query of get_many (below SQLite's oldest default limit of 999 variables)
BATCH = 500
#: the database's live bytes a run leaves behind at most (diskcache's default size limit);
#: past it the entries stored longest ago are removed when the run closes the cache
MAX_BYTES = 2**30

_CREATE = """
CREATE TABLE IF NOT EXISTS entries (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    stored REAL NOT NULL,
    etag TEXT,
    lm TEXT,
    value BLOB NOT NULL,
    PRIMARY KEY (namespace, key)
)
"""


def default_root() -> Path:
    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def last_write(root: Path | None) -> float | None:
    """When the cache under ``root`` (the user cache folder when None) was last written (its
    database's or its WAL journal's modification time, whichever is later), without opening
    it; None where it has no database."""
    directory = (Path(root) if root is not None else default_root()) / SCHEMA
    times = []
    for name in (DATABASE, f"{DATABASE}-wal"):  # (the journal holds the latest writes)
        with contextlib.suppress(OSError):
            times.append(os.stat(directory / name).st_mtime)
    return max(times, default=None)


@slot_init  # (a warm scan reads ~4,000 entries: 0.32 µs each where dataclass's own took 0.52)
@dataclass(frozen=True, slots=True)
class CacheEntry:
    value: Any
    stored_at: float
    etag: str | None = None
    last_modified: str | None = None

    def age(self, now: float) -> float:
        return now - self.stored_at

    def fresh(self, ttl: float, now: float) -> bool:
        return fresh(self.stored_at, ttl, now)


def fresh(stored_at: float, ttl: float, now: float) -> bool:
    """Whether an entry stored at ``stored_at`` is younger than ``ttl`` at ``now`` (one
    from the future, a clock set back, is not)."""
    return 0 <= now - stored_at < ttl


@dataclass(frozen=True, slots=True)
class CacheInfo:
    location: Path
    size_bytes: int
    entries: dict[str, int]


class _Damaged(Exception):
    """One stored value that is not JSON."""


def _encode(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:  # an integer beyond 64 bits: the standard library writes it
        return json.dumps(value, separators=(",", ":")).encode("utf-8")


def _decode(raw: object) -> Any:
    if not isinstance(raw, bytes):
        raise _Damaged
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            return json.loads(raw)  # what _encode's fallback wrote
        except (ValueError, RecursionError):
            raise _Damaged from None


def _prepare(db: sqlite3.Connection) -> None:
    """The database's settings and table. Two runs opening a new cache folder at once (two
    scans of a monorepo, parallel CI jobs) race to create it: the switch to WAL then fails
    with "database is locked" at once, whatever the busy timeout (one run in two, measured),
    so it is tried again for up to :data:`BUSY_TIMEOUT`."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            # (a new database's pages: a cold theia scan writes 1,766 entries, 5 MB, in 25-27
            # ms of CPU at 4 KB pages, 16 ms at 16 KB; an old one keeps its own)
            db.execute("PRAGMA page_size=16384")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_CREATE)
            return
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorcode", None) in (
                sqlite3.SQLITE_BUSY,
                sqlite3.SQLITE_LOCKED,
            )
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class Cache:
    """``get`` / ``get_many`` / ``set(namespace, key, value, etag=..., last_modified=...)``.

    ``enabled=False`` (``--no-cache``) makes every call a no-op. Values must be JSON-able."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.time,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.max_bytes = max_bytes
        self._wrote = False
        self.directory = self.root / SCHEMA
        self.enabled = enabled
        self.clock = clock
        self.warnings: list[str] = []
        self.damaged = 0  # unreadable entries removed in this run
        self._db: sqlite3.Connection | None = None
        self._opened = False
        self._in_batch = False
        self._lock = threading.RLock()  # one connection, used from any thread
        self._checkpoint: threading.Thread | None = None  # (checkpoint_behind's)

    # -- internals -------------------------------------------------------------------------
    def _fail(self, action: str, exc: BaseException) -> None:
        if not self.warnings or not any("continuing without" in w for w in self.warnings):
            self.warnings.append(
                f"cache {self.directory}: cannot {action} ({type(exc).__name__}: {exc}); "
                "continuing without the cache"
            )
        self.enabled = False
        self.close()

    def _open(self) -> sqlite3.Connection | None:
        """The connection, opened on first use; under the lock, so a thread that comes while
        another opens it waits for it instead of seeing no database (the services of a scan
        run in threads at once)."""
        with self._lock:
            return self._open_locked()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection | None]:
        """The connection (opened on first use; None when the cache is off or closed), held
        under the lock for the caller's statements: :meth:`close` waits for them, and no
        statement runs on a closed connection. A service's thread that a scan abandons
        (``EnrichmentService.begin``) may still use the cache while the scan closes it;
        closing a connection under a statement of another thread crashed the process."""
        with self._lock:
            yield self._open_locked()

    def _open_locked(self) -> sqlite3.Connection | None:
        if not self.enabled:
            return None
        if not self._opened:
            self._opened = True
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(
                    self.directory / DATABASE,
                    timeout=BUSY_TIMEOUT,
                    isolation_level=None,  # autocommit; batch() opens its own transaction
                    check_same_thread=False,
                )
                try:
                    _prepare(db)
                except BaseException:
                    db.close()
                    raise
                self._db = db
            except (sqlite3.Error, OSError) as exc:  # corrupt database, read-only folder...
                self._fail("open", exc)
                return None
        return self._db

    def _entry(self, namespace: str, key: str, row: tuple[Any, ...]) -> CacheEntry | None:
        stored, etag, lm, raw = row
        try:
            value = _decode(raw)
        except _Damaged:
            self._discard(namespace, [key])
            return None
        if not isinstance(stored, (int, float)):
            return None
        return CacheEntry(
            value,
            float(stored),
            etag if isinstance(etag, str) else None,
            lm if isinstance(lm, str) else None,
        )

    def _discard(self, namespace: str, keys: list[str]) -> None:
        """Remove unreadable entries, so the next run refetches them instead of failing on
        them again (and the cache stays on for every other entry)."""
        try:
            with self._lock:
                db = self._db
                if db is None:
                    return
                db.executemany(
                    "DELETE FROM entries WHERE namespace = ? AND key = ?",
                    [(namespace, key) for key in keys],
                )
        except sqlite3.Error as exc:
            self._fail("repair", exc)
            return
        self.damaged += len(keys)
        if self.damaged == len(keys):
            self.warnings.append(
                f"cache {self.directory}: removed a damaged {namespace} entry; it is fetched again"
            )

    # -- public API ------------------------------------------------------------------------
    def get(self, namespace: str, key: str) -> CacheEntry | None:
        return self.get_many(namespace, (key,)).get(key)

    def _select(
        self, columns: str, namespace: str, keys: Iterable[str], lead: tuple[Any, ...] = ()
    ) -> list[Any] | None:
        """``SELECT key, <columns>`` of the entries of ``keys``, one query per :data:`BATCH`
        keys (``lead``: the values of the ``?`` in ``columns``); None when the cache is off
        or the database is damaged."""
        wanted = list(dict.fromkeys(keys))
        rows: list[Any] = []
        try:
            with self._connection() as db:
                if db is None:
                    return None
                for start in range(0, len(wanted), BATCH):
                    chunk = wanted[start : start + BATCH]
                    marks = ",".join("?" * len(chunk))
                    rows.extend(
                        db.execute(
                            f"SELECT key, {columns} FROM entries "
                            f"WHERE namespace = ? AND key IN ({marks})",
                            (*lead, namespace, *chunk),
                        ).fetchall()
                    )
        except sqlite3.Error as exc:  # the database itself is damaged
            self._fail("read", exc)
            return None
        return rows

    def get_many(self, namespace: str, keys: Iterable[str]) -> dict[str, CacheEntry]:
        """The entries of ``keys`` that are in the cache, read in one query per
        :data:`BATCH` keys (a damaged one is removed and left out)."""
        rows = self._select("stored, etag, lm, value", namespace, keys)
        if rows is None:
            return {}
        found: dict[str, CacheEntry] = {}
        for key, *rest in rows:
            entry = self._entry(namespace, key, tuple(rest))
            if entry is not None:
                found[key] = entry
        return found

    def get_many_unless(
        self, namespace: str, keys: Iterable[str], common: Any
    ) -> tuple[dict[str, float], dict[str, CacheEntry]]:
        """:meth:`get_many`, except that an entry whose value is ``common`` (stored as its
        encoding, byte for byte) comes back as its stored time alone, neither decoded nor
        made an entry: (the stored times of those, the entries of the others). A warm scan
        reads 2,090 npm advisory answers, nearly all an empty list."""
        rows = self._select(
            "stored, etag, lm, CASE WHEN value = ? THEN NULL ELSE value END",
            namespace,
            keys,
            lead=(_encode(common),),
        )
        same: dict[str, float] = {}
        found: dict[str, CacheEntry] = {}
        for key, stored, etag, lm, raw in rows or ():
            if raw is None:  # (the column is NOT NULL: only the common value is)
                if isinstance(stored, (int, float)):
                    same[key] = float(stored)
                continue
            entry = self._entry(namespace, key, (stored, etag, lm, raw))
            if entry is not None:
                found[key] = entry
        return same, found

    def stamps(self, namespace: str, keys: Iterable[str]) -> dict[str, tuple[float, int]]:
        """(stored time, size of the value) of the entries of ``keys`` that are in the cache,
        without reading their values: enough to tell whether any of them changed."""
        rows = self._select("stored, length(value)", namespace, keys)
        return {
            key: (float(stored), int(size))
            for key, stored, size in rows or ()
            if isinstance(stored, (int, float)) and isinstance(size, int)
        }

    def prune(self, namespace: str, older_than: float) -> None:
        """Remove the entries of ``namespace`` stored before ``older_than``."""
        try:
            with self._connection() as db:
                if db is None:
                    return
                db.execute(
                    "DELETE FROM entries WHERE namespace = ? AND stored < ?",
                    (namespace, older_than),
                )
        except sqlite3.Error as exc:
            self._fail("write", exc)

    def set(
        self,
        namespace: str,
        key: str,
        value: Any,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        stored_at: float | None = None,
    ) -> None:
        stored = self.clock() if stored_at is None else stored_at
        self.set_many([(namespace, key, value, etag, last_modified, stored)])

    def set_many(self, rows: Iterable[tuple[str, str, Any, str | None, str | None, float]]) -> None:
        """:meth:`set` for each ``(namespace, key, value, etag, last_modified, stored_at)``,
        in one statement (``GroupedWrites``' groups: a cold scan of theia writes 1,766
        entries, which one statement each cost 25-41 ms of the settling thread's CPU against
        21-33 ms, benchmarks/README.md)."""
        if self._open() is None:
            return
        try:
            params = [
                (namespace, key, stored, etag or None, last_modified or None, _encode(value))
                for namespace, key, value, etag, last_modified, stored in rows
            ]
        except (TypeError, ValueError) as exc:  # not JSON-able (as diskcache's JSONDisk did)
            self._fail("write", exc)
            return
        try:
            with self._connection() as db:
                if db is None or not params:
                    return
                db.executemany(
                    "INSERT OR REPLACE INTO entries (namespace, key, stored, etag, lm, value) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    params,
                )
                self._wrote = True
        except sqlite3.Error as exc:
            self._fail("write", exc)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group the writes made inside into one SQLite transaction (one commit, not one per
        ``set``): a cold scan of 2,000 packages spent seconds committing entries one by one.
        Nested batches join the outer one, and so do those of other threads (the services
        of a scan run at once): the test of ``_in_batch`` and the BEGIN are one step under
        the lock, or two threads would both begin and the second would fail the cache."""
        began = False
        try:
            with self._connection() as db:
                if db is not None and not self._in_batch:
                    db.execute("BEGIN IMMEDIATE")
                    began = self._in_batch = True
        except sqlite3.Error as exc:
            self._fail("write", exc)
        try:
            yield
        finally:
            if began:
                try:
                    with self._lock:
                        self._in_batch = False
                        db = self._db
                        if db is not None:
                            db.execute("COMMIT")
                except sqlite3.Error as exc:
                    self._fail("write", exc)

    def touch(self, namespace: str, key: str, *, stored_at: float | None = None) -> None:
        """Mark an entry as just revalidated (a 304): same value, new timestamp (now, or
        ``stored_at``)."""
        self.touch_many([(namespace, key, self.clock() if stored_at is None else stored_at)])

    def touch_many(self, rows: Iterable[tuple[str, str, float]]) -> None:
        """:meth:`touch` for each ``(namespace, key, stored_at)``, in one statement."""
        try:
            with self._connection() as db:
                if db is None:
                    return
                db.executemany(
                    "UPDATE entries SET stored = ? WHERE namespace = ? AND key = ?",
                    [(stored, namespace, key) for namespace, key, stored in rows],
                )
        except sqlite3.Error as exc:
            self._fail("write", exc)

    def info(self) -> CacheInfo:
        entries: dict[str, int] = {}
        size = 0
        if self.directory.is_dir():
            size = sum(p.stat().st_size for p in self.directory.rglob("*") if p.is_file())
            try:
                with self._connection() as db:
                    rows = (
                        db.execute(
                            "SELECT namespace, COUNT(*) FROM entries GROUP BY namespace"
                        ).fetchall()
                        if db is not None
                        else []
                    )
                entries = {str(ns): int(count) for ns, count in rows}
            except sqlite3.Error as exc:
                self._fail("read", exc)
        return CacheInfo(self.directory, size, dict(sorted(entries.items())))

    def clear(self) -> int:
        """Remove every entry (of every namespace), the folders of older cache versions and
        the bundled data's fast forms (rebuilt on use); returns how many entries there were.

        A version folder may not be a folder: a file or a symbolic link there is removed
        itself (a link's target is never touched). What cannot be removed (an immutable file,
        a read-only parent) is a ConfigError naming the path, not a traceback."""
        count = sum(self.info().entries.values())
        self.close()
        self.warnings.clear()
        self.enabled = True
        self._opened = False
        others = (*OLD_SCHEMAS, *REBUILT)
        for path in (self.directory, *(self.root / other for other in others)):
            try:
                if path.is_symlink() or (path.exists() and not path.is_dir()):
                    path.unlink()
                elif path.exists():
                    shutil.rmtree(path)
            except OSError as exc:
                where = exc.filename or path
                raise ConfigError(
                    f"cache {path}: cannot clear it ({where}: {exc.strerror or exc})",
                    "check the permissions and attributes (chattr -i) of the cache folder",
                ) from None
        return count

    def _live_bytes(self, db: sqlite3.Connection) -> int:
        """Bytes of the database's pages in use (free pages are reused, not grown)."""
        (pages,) = db.execute("PRAGMA page_count").fetchone()
        (free,) = db.execute("PRAGMA freelist_count").fetchone()
        (size,) = db.execute("PRAGMA page_size").fetchone()
        return int(pages - free) * int(size)

    def _bound(self) -> None:
        """Keep the cache within :attr:`max_bytes`: when a run that wrote leaves it larger,
        the entries stored longest ago go, down to about nine tenths of the bound (their
        share of the entries is the share of the bytes to free; one ordered pass, only when
        over the bound)."""
        db = self._db
        if db is None:
            return
        try:
            with self._lock:
                target = self.max_bytes * 9 // 10
                live = self._live_bytes(db)
                if live <= self.max_bytes:
                    return
                for _ in range(8):  # pages do not free in proportion: a few passes at most
                    (count,) = db.execute("SELECT COUNT(*) FROM entries").fetchone()
                    if live <= target or not count:
                        break
                    drop = -(-int(count) * (live - target) // live)  # rounded up
                    db.execute(
                        "DELETE FROM entries WHERE rowid IN "
                        "(SELECT rowid FROM entries ORDER BY stored LIMIT ?)",
                        (drop,),
                    )
                    live = self._live_bytes(db)
        except sqlite3.Error as exc:
            self._fail("write", exc)

    def checkpoint_behind(self) -> None:
        """Copy what this run wrote into the database file now, in a thread of its own (a
        passive checkpoint of the WAL, on a connection of its own), while the run goes on:
        called when the services' writes are done (``audit.Auditor``'s ``settled``), so
        that the close, which checkpoints the WAL and syncs the file, finds nearly nothing
        left (theia's cold scan: the close ended 20-25 ms after its report was written, 0-6
        ms with this; benchmarks/README.md). Once per cache, for one that wrote; later
        writes go to the WAL as before. The close waits for it; a checkpoint that cannot run
        (the database busy, or gone) leaves it all to the close, as before."""
        with self._lock:
            if self._db is None or not self._wrote or self._checkpoint is not None:
                return
            path = (self.directory / DATABASE).resolve()
            thread = threading.Thread(target=_checkpoint, args=(path,), name="cache-checkpoint")
            self._checkpoint = thread
            thread.start()

    def close(self) -> None:
        """Close the connection, once the statements other threads are running end (under
        the lock: see :meth:`_connection`) and the checkpoint begun by
        :meth:`checkpoint_behind` has ended; later calls find the cache closed. Within
        :func:`closing_behind` the connection's own close (the WAL's checkpoint) is left to
        a thread."""
        with self._lock:
            if self._wrote:  # cleared first: a failing bound calls close again through _fail
                self._wrote = False
                self._bound()
            db, self._db = self._db, None
            self._opened = True  # never opened again, also when it was never opened
            self._in_batch = False
            if db is None:
                return
            checkpoint, self._checkpoint = self._checkpoint, None
            if _behind is not None:  # the caller goes on; the connection closes beside it
                closing = threading.Thread(target=_close, args=(db, checkpoint), name="cache-close")
                closing.start()
                _behind.append(closing)
            else:
                _close(db, checkpoint)

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _checkpoint(path: Path) -> None:
    """A passive checkpoint of the database at ``path`` on a connection of its own, which
    never creates the file (``mode=rw``); any failure leaves the work to the close."""
    with contextlib.suppress(Exception):
        db = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT)
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            db.close()


def _close(db: sqlite3.Connection, checkpoint: threading.Thread | None = None) -> None:
    if checkpoint is not None:  # (this connection open till it ends: its own is not the last)
        checkpoint.join()
    with contextlib.suppress(Exception):  # closing a broken database
        if db.in_transaction:
            db.execute("COMMIT")
    with contextlib.suppress(Exception):
        db.close()


#: the closes :func:`closing_behind` let run beside its caller; None outside it
_behind: list[threading.Thread] | None = None


@contextlib.contextmanager
def closing_behind() -> Iterator[None]:
    """Within it, :meth:`Cache.close` hands the connection's close to a thread and returns:
    the close of a cache a run wrote checkpoints its WAL into the database and syncs it
    (16-19 ms at the end of a cold theia scan, two thirds of it waiting on the disk, before
    :meth:`Cache.checkpoint_behind` did most of it earlier), which the CLI's report, rendered
    meanwhile, need not wait for. Every such close has ended when it exits (the process may
    then end at once), also on an error. Not re-entrant: the CLI's scan wraps its scan and
    its rendering in it, nothing else does."""
    global _behind
    if _behind is not None:
        raise RuntimeError("closing_behind is already in use")
    started: list[threading.Thread] = []
    _behind = started
    try:
        yield
    finally:
        _behind = None
        for closing in started:
            closing.join()


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}


class GroupedWrites:
    """Writes to ``cache`` from any thread, committed ``size`` at a time in one transaction
    (:meth:`Cache.batch`) instead of one commit each: a cold scan writes an entry per
    packument as it arrives, and theia's 1,766 cost 66-71 ms of CPU one by one against 33-35
    in groups of 64. Each write keeps the time it was asked for (its ``stored``); what is
    still waiting is written by :meth:`flush`, which the owner calls when the writes end
    (before anything reads them back)."""

    def __init__(self, cache: Cache, size: int = 64) -> None:
        self.cache = cache
        self.size = size
        self._lock = threading.Lock()
        self._waiting: list[tuple[str, str, Any, str | None, str | None, float, bool]] = []

    def set(
        self,
        namespace: str,
        key: str,
        value: Any,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        self._add((namespace, key, value, etag, last_modified, self.cache.clock(), False))

    def touch(self, namespace: str, key: str) -> None:
        self._add((namespace, key, None, None, None, self.cache.clock(), True))

    def _add(self, write: tuple[str, str, Any, str | None, str | None, float, bool]) -> None:
        with self._lock:
            self._waiting.append(write)
            if len(self._waiting) < self.size:
                return
            group, self._waiting = self._waiting, []
        self._write(group)

    def flush(self) -> None:
        with self._lock:
            group, self._waiting = self._waiting, []
        self._write(group)

    def _write(
        self, group: list[tuple[str, str, Any, str | None, str | None, float, bool]]
    ) -> None:
        if not group:
            return
        cache = self.cache
        with cache.batch():
            for touch, run in groupby(group, key=itemgetter(6)):  # (in the order asked)
                if touch:
                    cache.touch_many((w[0], w[1], w[5]) for w in run)
                else:
                    cache.set_many(w[:6] for w in run)


def parse_ttl(text: str) -> float:
    """``3600``, ``90s``, ``30m``, ``12h``, ``1d``, ``2w`` -> seconds. Raises ValueError."""
    value = text.strip().lower()
    unit = 1.0
    if value and value[-1] in _UNITS:
        unit = _UNITS[value[-1]]
        value = value[:-1].strip()
    seconds = float(value) * unit
    if not seconds >= 0 or seconds == float("inf"):
        raise ValueError(f"not a duration: {text!r}")
    return seconds
