"""Garbage-collector settings for bulk work.

Reading a large lockfile allocates hundreds of thousands of small, acyclic objects; the
cyclic collector, triggered by allocation counts, rescans the growing heap again and again
while nothing can be freed (measured: the pnpm reader of a 20,000-entry lockfile spends
half its time there). :func:`paused` turns it off while a tree is built; :func:`frozen`
moves what exists (the tree) out of its reach for the rest of a run, so later collections
scan only new objects. Reference counting frees everything as usual in both.
``depaudit scan`` (``cli.run_scan``) keeps it paused from reading to rendering: one scan,
then the process ends (where it is the program, ``cli.run``, what the scan made is then
left out of collections and not freed at all: the process's end frees it).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: the process ends once the command in hand is done (set by ``cli.run``, the program): what
#: the command made need neither be collected (:func:`paused`'s ``keep_out``) nor freed
#: (:func:`keep`) before; a library caller (the tests) leaves it False
ending = False
_kept: list[object] = []


def keep(obj: object) -> None:
    """Where the process is :data:`ending`, ``obj`` is kept to its end and goes with it,
    not object by object on the way out (a 50,000-entry scan's tree and report: 80-90 ms)."""
    if ending:
        _kept.append(obj)


@contextmanager
def paused(keep_out: bool = False) -> Iterator[None]:
    """No cyclic collection inside the block (restored as it was after it). ``keep_out``:
    for a block the process ends after, everything alive when it ends is first moved out of
    the collector's reach for good (``gc.freeze``). Otherwise turning the collector back on
    would have its next collection scan every object the block made, all still in the
    youngest generation: 10-14 ms after a scan of theia, 60-80 ms after 50,000 entries."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if keep_out:
            gc.freeze()
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
