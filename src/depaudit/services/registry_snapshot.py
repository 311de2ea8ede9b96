"""The registry facts of one whole tree, kept beside the entries they were computed from.

A warm scan of a 2,000-package tree used to read every name's cached entry and compute
every ``name@version``'s facts again (~0.13 s of CPU, the largest part of a warm scan after
the lockfile). The answer only changes when the question (the tree's ``name@version`` list
and registry URLs) or an entry (its stored time or size) changes, so the scan that computes it
keeps it: one cache entry in :data:`NAMESPACE`, keyed by a hash of the question, holding the
entries' *stamp* (a hash of every entry's stored time and size) and the facts. The next scan of
the same tree reads the stamps alone (no value is decoded), and when every entry is there,
fresh and unchanged, decodes the facts in one piece (age fields are counted again from the
scan's time). Anything else (an entry missing, stale, rewritten or damaged, another depaudit
version, a damaged snapshot) takes the full path, which writes a new snapshot. Snapshots not
rewritten for :data:`KEEP_SECONDS` are removed when another is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from operator import attrgetter, itemgetter
from typing import Any

import orjson

from depaudit import __version__, digests
from depaudit.models import PackageFacts
from depaudit.services.interface import PackageRef
from depaudit.services.metrics import days_between

NAMESPACE = "registry-facts"
FORM = 1  # bump when the facts computed from an entry change meaning
KEEP_SECONDS = 14 * 86400.0

_PLAIN = (
    "in_registry",
    "unpublished",
    "latest",
    "versions_behind",
    "majors_behind",
    "minors_behind",
    "patches_behind",
    "libyears",
    "deprecated",
    "deprecation_known",
    "package_deprecated",
    "repository",
)
_DATES = ("installed_published", "latest_published", "last_release", "created")
_TYPES: dict[str, tuple[type, ...]] = {
    "in_registry": (bool,),
    "unpublished": (bool,),
    "latest": (str,),
    "versions_behind": (int,),
    "majors_behind": (int,),
    "minors_behind": (int,),
    "patches_behind": (int,),
    "libyears": (float, int),
    "deprecated": (str,),
    "deprecation_known": (bool,),
    "package_deprecated": (bool,),
    "repository": (str,),
}
_NONE = type(None)
#: the exact types each column of a row may hold, in the row's order (``deprecation_known``
#: is never unknown; a bool is not taken for a count)
_COLUMNS: tuple[frozenset[type], ...] = (
    frozenset({str}),
    frozenset({str}),
    *(
        frozenset(_TYPES[f]) if f == "deprecation_known" else frozenset({*_TYPES[f], _NONE})
        for f in _PLAIN
    ),
    *(frozenset[type]((str, _NONE)) for _ in _DATES),
)
#: a decoded row's values (the ages counted at decoding after them) in the order of
#: PackageFacts' first fields, so that they are passed by position
_DECODED = ("name", "version", *_PLAIN, *_DATES, "age_days", "days_since_release")
_FIELD_ORDER = tuple(f.name for f in fields(PackageFacts))[: len(_DECODED)]
if set(_FIELD_ORDER) != set(_DECODED):  # (a field added in between: decode must learn it)
    raise AssertionError("registry_snapshot: PackageFacts' fields changed")
_IN_FIELD_ORDER = itemgetter(*(_DECODED.index(name) for name in _FIELD_ORDER))


def question(packages: Sequence[PackageRef], urls: Mapping[str, str]) -> str:
    """The key of a tree's snapshot: what was asked of which registry, by which version."""
    asked = sorted((urls[ref.name], ref.name, ref.version) for ref in packages)
    return digests.sha256(orjson.dumps([FORM, __version__, asked])).hexdigest()


def stamp(stamps: Mapping[str, tuple[float, int]]) -> str:
    """A hash of every entry's stored time and size: changes when any entry does."""
    return digests.sha256(orjson.dumps(sorted(stamps.items()))).hexdigest()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


#: a fact's plain fields, and its dates, each as one tuple (one C call, not a getattr each)
_PLAIN_OF = attrgetter("name", "version", *_PLAIN)
_DATES_OF = attrgetter(*_DATES)


def encode_one(fact: PackageFacts) -> list[Any]:
    """A fact's row: name, version, the plain fields, the dates as ISO text."""
    return [*_PLAIN_OF(fact), *map(_iso, _DATES_OF(fact))]


def encode(
    facts: Iterable[PackageFacts], made: Mapping[int, list[Any]] | None = None
) -> list[list[Any]]:
    """One row per fact (:func:`encode_one`); ``made`` holds rows already encoded, by the
    ``id`` of their fact (a cold scan encodes each fact as it is made, during the fetch)."""
    made = made or {}
    return [made.get(id(fact)) or encode_one(fact) for fact in facts]


def _dates(column: Sequence[str | None]) -> list[datetime | None]:
    """ISO text as datetimes; one without an offset is taken as UTC."""
    parse = datetime.fromisoformat
    out = [None if value is None else parse(value) for value in column]
    if any(d is not None and d.tzinfo is None for d in out):
        return [d if d is None or d.tzinfo is not None else d.replace(tzinfo=UTC) for d in out]
    return out


def _ages(now: datetime, column: Sequence[datetime | None]) -> list[float | None]:
    """Days from each date to ``now``, as :func:`depaudit.services.metrics.facts_for`
    counts them (with the same function)."""
    return [None if d is None else days_between(now, d) for d in column]


def decode(rows: object, now: datetime) -> dict[str, PackageFacts]:
    """:func:`encode`'s rows as facts by ``name@version``, ages counted from ``now``.
    Raises ValueError on rows of another shape or with a value of another type.

    Column by column (a warm scan of 2,090 facts: 8 ms where a row at a time took 18): the
    types checked with one set per column, the dates parsed in one pass per column, each
    fact made by position."""
    if not isinstance(rows, list):
        raise ValueError("not a list of rows")
    width = len(_COLUMNS)
    for row in rows:
        if type(row) is not list or len(row) != width:
            raise ValueError("not a row")
    if not rows:
        return {}
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for column, allowed in zip(columns, _COLUMNS, strict=True):
        if not allowed.issuperset(map(type, column)):
            raise ValueError("a value of another type")
    dated = [_dates(column) for column in columns[-len(_DATES) :]]
    installed, last = (
        dated[_DATES.index("installed_published")],
        dated[_DATES.index("last_release")],
    )
    columns[-len(_DATES) :] = dated
    columns += [_ages(now, installed), _ages(now, last)]
    keys = [f"{name}@{version}" for name, version in zip(columns[0], columns[1], strict=True)]
    made = [PackageFacts(*_IN_FIELD_ORDER(values)) for values in zip(*columns, strict=True)]
    return dict(zip(keys, made, strict=True))
