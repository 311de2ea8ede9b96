"""The fetch workers of a big cold fetch, forked at the scan's very start
(``cli.run_scan``), where such a fetch is likely: a worker then imports what it needs on the
core the scan leaves idle until its first request (``fetch_worker.serve`` imports first, then
waits for its set-up), and ``fetch_worker.spawn`` takes it when the fetch comes. Forked at
the fetch instead, the scan itself imported all that first (theia's first requests went out
~60 ms later; paired runs against the registry: 1.13 s against 1.25 s)."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from depaudit.services import fetch_worker

if TYPE_CHECKING:
    from depaudit.config import Settings

#: a lockfile at least this big makes a big fetch likely enough (an npm lockfile v3 of ~100
#: packages) for :func:`forked_ahead` to fork the workers at the scan's start
AHEAD_FROM_BYTES = 64 * 1024


@contextlib.contextmanager
def forked_ahead(settings: Settings) -> Iterator[None]:
    """Fork the fetch workers now, where the scan's fetch is likely to run in them
    (:func:`likely`), on Linux, from a process of one thread (``fetch_worker.spawn`` forks
    there too); those the fetch does not take are ended with the block."""
    if sys.platform == "linux" and fetch_worker._alone() and likely(settings):
        from depaudit.services.forked import start
        from depaudit.services.registry_decode import decode_workers

        fetch_worker._forked[:] = start(decode_workers(), fetch_worker.serve)
    try:
        yield
    finally:
        left, fetch_worker._forked[:] = list(fetch_worker._forked), []
        fetch_worker.end(left)


def likely(settings: Settings) -> bool:
    """Whether the scan will likely fetch many documents: online, with the registry, its
    lockfile (``--lockfile``, or the folder's) :data:`AHEAD_FROM_BYTES` or bigger, and its
    cache off or cold: no database, or none written within the cache's time to live (every
    entry in it is then stale, asked again)."""
    if not settings.use_registry or settings.offline or settings.npm_ls is not None:
        return False
    from depaudit.errors import DepauditError
    from depaudit.sources import detect

    try:
        lockfile = settings.lockfile or detect(Path(settings.directory)).lockfile
        if os.stat(lockfile).st_size < AHEAD_FROM_BYTES:
            return False
    except (DepauditError, OSError, ValueError):
        return False
    if not settings.use_cache:
        return True
    from depaudit.cache import DATABASE, SCHEMA, default_root

    folder = Path(settings.cache_dir or default_root()) / SCHEMA
    written = []
    for name in (DATABASE, f"{DATABASE}-wal"):  # (a WAL journal holds the latest writes)
        with contextlib.suppress(OSError):
            written.append(os.stat(folder / name).st_mtime)
    return not written or time.time() - max(written) >= settings.cache_ttl
