"""A small, versioned disk cache shared by the services (diskcache, JSON on disk).

Layout: ``<root>/v1`` where ``<root>`` is ``--cache-dir`` / ``DEPAUDIT_CACHE_DIR`` or the user
cache folder (platformdirs, ``.../depaudit``). Entries live in a *namespace* (``registry``,
``advisories``...) under a key, with the time they were stored and the HTTP validators
(ETag / Last-Modified) needed to revalidate them once their TTL has passed.

The cache is an optimisation, never a failure: any error (corrupt database, read-only or
missing folder, full disk) disables it for the run and leaves one warning in
:attr:`Cache.warnings`.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from depaudit.errors import ConfigError

SCHEMA = "v1"
APP = "depaudit"
DEFAULT_TTL = 24 * 3600.0


def default_root() -> Path:
    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


@dataclass(frozen=True, slots=True)
class CacheEntry:
    value: Any
    stored_at: float
    etag: str | None = None
    last_modified: str | None = None

    def age(self, now: float) -> float:
        return now - self.stored_at

    def fresh(self, ttl: float, now: float) -> bool:
        return 0 <= self.age(now) < ttl


@dataclass(frozen=True, slots=True)
class CacheInfo:
    location: Path
    size_bytes: int
    entries: dict[str, int]


class Cache:
    """``get(namespace, key)`` / ``set(namespace, key, value, etag=..., last_modified=...)``.

    ``enabled=False`` (``--no-cache``) makes every call a no-op. Values must be JSON-able."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.directory = self.root / SCHEMA
        self.enabled = enabled
        self.clock = clock
        self.warnings: list[str] = []
        self.damaged = 0  # unreadable entries removed in this run
        self._store: Any = None
        self._opened = False

    # -- internals -------------------------------------------------------------------------
    def _fail(self, action: str, exc: BaseException) -> None:
        if not self.warnings:
            self.warnings.append(
                f"cache {self.directory}: cannot {action} ({type(exc).__name__}: {exc}); "
                "continuing without the cache"
            )
        self.enabled = False
        self.close()

    def _open(self) -> Any:
        if not self.enabled:
            return None
        if not self._opened:
            self._opened = True
            try:
                import diskcache

                self.directory.mkdir(parents=True, exist_ok=True)
                self._store = diskcache.Cache(
                    str(self.directory), disk=diskcache.JSONDisk, timeout=5
                )
            except Exception as exc:  # corrupt database, read-only folder, ...
                self._fail("open", exc)
                return None
        return self._store

    @staticmethod
    def _key(namespace: str, key: str) -> str:
        return f"{namespace}\x00{key}"

    # -- public API ------------------------------------------------------------------------
    def get(self, namespace: str, key: str) -> CacheEntry | None:
        store = self._open()
        if store is None:
            return None
        try:
            raw = store.get(self._key(namespace, key))
        except sqlite3.DatabaseError as exc:  # the database itself is damaged
            self._fail("read", exc)
            return None
        except Exception:  # one damaged entry (bad JSON, a lost value file): drop it alone
            self._discard(store, namespace, key)
            return None
        if not isinstance(raw, dict) or "t" not in raw or "v" not in raw:
            return None
        try:
            return CacheEntry(raw["v"], float(raw["t"]), raw.get("etag"), raw.get("lm"))
        except (TypeError, ValueError):
            return None

    def _discard(self, store: Any, namespace: str, key: str) -> None:
        """Remove one unreadable entry, so the next run refetches it instead of failing on it
        again (and the cache stays on for every other entry)."""
        try:
            store.delete(self._key(namespace, key))
        except Exception as exc:
            self._fail("repair", exc)
            return
        self.damaged += 1
        if self.damaged == 1:
            self.warnings.append(
                f"cache {self.directory}: removed a damaged {namespace} entry; it is fetched again"
            )

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
        store = self._open()
        if store is None:
            return
        record: dict[str, Any] = {
            "v": value,
            "t": self.clock() if stored_at is None else stored_at,
        }
        if etag:
            record["etag"] = etag
        if last_modified:
            record["lm"] = last_modified
        try:
            store.set(self._key(namespace, key), record, tag=namespace)
        except Exception as exc:
            self._fail("write", exc)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group the writes made inside into one SQLite transaction (one commit, not one per
        ``set``): a cold scan of 2,000 packages spent seconds committing entries one by one."""
        store = self._open()
        transaction: Any = None
        if store is not None:
            try:
                transaction = store.transact()
                transaction.__enter__()
            except Exception as exc:
                transaction = None
                self._fail("write", exc)
        try:
            yield
        finally:
            if transaction is not None:
                try:
                    transaction.__exit__(None, None, None)
                except Exception as exc:
                    self._fail("write", exc)

    def touch(self, namespace: str, key: str) -> None:
        """Mark an entry as just revalidated (a 304): same value, new timestamp."""
        entry = self.get(namespace, key)
        if entry is not None:
            self.set(
                namespace,
                key,
                entry.value,
                etag=entry.etag,
                last_modified=entry.last_modified,
            )

    def info(self) -> CacheInfo:
        entries: dict[str, int] = {}
        size = 0
        if self.directory.is_dir():
            size = sum(p.stat().st_size for p in self.directory.rglob("*") if p.is_file())
            store = self._open()
            if store is not None:
                try:
                    for key in store.iterkeys():
                        namespace = str(key).split("\x00", 1)[0]
                        entries[namespace] = entries.get(namespace, 0) + 1
                except Exception as exc:
                    self._fail("read", exc)
        return CacheInfo(self.directory, size, dict(sorted(entries.items())))

    def clear(self) -> int:
        """Remove every entry (of every namespace); returns how many there were.

        The version folder may not be a folder: a file or a symbolic link there is removed
        itself (a link's target is never touched). What cannot be removed (an immutable file,
        a read-only parent) is a ConfigError naming the path, not a traceback."""
        count = sum(self.info().entries.values())
        self.close()
        self.warnings.clear()
        self.enabled = True
        self._opened = False
        path = self.directory
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

    def close(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            with contextlib.suppress(Exception):  # closing a broken store
                store.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}


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
