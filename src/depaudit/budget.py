"""The resource budget of one run (README "Resource budget"): what a hostile or broken input
or network may cost at most. The CLI turns ``--input-budget``, ``--depth-budget``,
``--network-budget`` and ``--response-budget`` (and their ``DEPAUDIT_*`` twins) into one
:class:`Budget` in :class:`depaudit.config.Settings`; the readers and services take it from
there (no module reads a global limit)."""

from __future__ import annotations

import argparse
import re

from depaudit.slots import dataclass

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

#: the defaults (a 2,600-entry monorepo lock is ~1.2 MB; the biggest packuments tens of MB)
INPUT_BYTES = 256 * MIB
PATH_DEPTH = 64
NETWORK_SECONDS = 300.0
#: ... or this long per registry document the run asks for, when that is more: a tree of
#: 36,000 names from a registry 200 ms away, 32 requests at a time, needs about 225 s of
#: round trips alone
NETWORK_SECONDS_PER_DOCUMENT = 0.025
RESPONSE_BYTES = 1 * GIB
#: ... or this much per registry document the run asks for, when that is more: a cold scan
#: of a tree of 10,000 names reads about 1.1 GB of packuments (theia's: 112 KB each)
RESPONSE_BYTES_PER_DOCUMENT = 512 * KIB

#: the range each may be set to
MIN_BYTES, MAX_BYTES = 1 * KIB, 64 * GIB
MIN_DEPTH, MAX_DEPTH = 16, 100_000


@dataclass(frozen=True, slots=True)
class Budget:
    #: bytes read of one input file or stdin (counted as read: a device reports no size)
    input_bytes: int = INPUT_BYTES
    #: names kept in one reported path (deeper ones are elided in the middle): the report
    #: grows with the tree, never with depth squared
    path_depth: int = PATH_DEPTH
    #: wall time of the run's registry and npm-advisory requests, over all of them; None: by
    #: the tree (:func:`network_allowance` of the documents the registry is asked for)
    network_seconds: float | None = None
    #: decoded bytes of the run's registry and npm-advisory responses, over all of them (and
    #: of its GitHub answers when lower than the GitHub client's own 256 MiB); None: by the
    #: tree (:func:`response_allowance` of the documents the registry is asked for)
    response_bytes: int | None = None


def network_allowance(documents: int) -> float:
    """The network time budget of a run that asks for ``documents`` registry documents and
    was given none: :data:`NETWORK_SECONDS`, or :data:`NETWORK_SECONDS_PER_DOCUMENT` for each
    when that is more (a registry trickling a byte a second still ends there)."""
    return max(NETWORK_SECONDS, documents * NETWORK_SECONDS_PER_DOCUMENT)


def response_allowance(documents: int) -> int:
    """The response budget of a run that asks for ``documents`` registry documents and was
    given none: :data:`RESPONSE_BYTES`, or :data:`RESPONSE_BYTES_PER_DOCUMENT` for each when
    that is more, so the largest trees are read whole while a hostile registry still costs
    at most a bounded amount per package."""
    return max(RESPONSE_BYTES, documents * RESPONSE_BYTES_PER_DOCUMENT)


_SIZE = re.compile(r"(?i)\s*(\d{1,12})\s*([kmg]?)(?:i?b)?\s*")
_UNIT = {"": 1, "k": KIB, "m": MIB, "g": GIB}


def byte_size(text: str) -> int:
    """An argparse type: bytes, or a number with K, M or G (binary: ``256M``, ``1GiB``),
    from 1 KiB to 64 GiB."""
    match = _SIZE.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (bytes, or 512K, 256M, 1G)")
    value = int(match[1]) * _UNIT[match[2].lower()]
    if not MIN_BYTES <= value <= MAX_BYTES:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 1K and 64G")
    return value


def path_depth(text: str) -> int:
    """An argparse type: names kept in a reported path, from 16 to 100,000."""
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not MIN_DEPTH <= value <= MAX_DEPTH:
        raise argparse.ArgumentTypeError(f"{text!r} is not between {MIN_DEPTH} and {MAX_DEPTH}")
    return value


def expire_budget(session: object) -> None:
    """Expire ``session``'s run budget (``http.RunBudget.expire``: the sockets it watches are
    shut down, and no connection is made after), where it has one."""
    expire = getattr(getattr(session, "budget", None), "expire", None)
    if expire is not None:
        expire()
