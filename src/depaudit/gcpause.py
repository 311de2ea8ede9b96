"""Garbage-collector settings for bulk work.

Reading a large lockfile allocates hundreds of thousands of small, acyclic objects; the
cyclic collector, triggered by allocation counts, rescans the growing heap again and again
while nothing can be freed (measured: the pnpm reader of a 20,000-entry lockfile spends
half its time there). :func:`paused` turns it off while a tree is built; :func:`frozen`
moves what exists (the tree) out of its reach for the rest of a run, so later collections
scan only new objects. Reference counting frees everything as usual in both.
``depaudit scan`` (``cli.run_scan``) keeps it paused from reading to rendering: one scan,
then the process ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block (restored as it was after it)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def frozen() -> Iterator[None]:
    """Everything alive on entry is left out of collections inside the block."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
