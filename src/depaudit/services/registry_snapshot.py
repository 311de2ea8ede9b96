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

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from depaudit import __version__
from depaudit.models import PackageFacts
from depaudit.services.interface import PackageRef

NAMESPACE = "registry-facts"
FORM = 1  # bump when the facts computed from an entry change meaning
KEEP_SECONDS = 14 * 86400.0
DAY = 86400.0

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


def question(packages: Sequence[PackageRef], urls: Mapping[str, str]) -> str:
    """The key of a tree's snapshot: what was asked of which registry, by which version."""
    asked = sorted((urls[ref.name], ref.name, ref.version) for ref in packages)
    return hashlib.sha256(orjson.dumps([FORM, __version__, asked])).hexdigest()


def stamp(stamps: Mapping[str, tuple[float, int]]) -> str:
    """A hash of every entry's stored time and size: changes when any entry does."""
    return hashlib.sha256(orjson.dumps(sorted(stamps.items()))).hexdigest()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def encode_one(fact: PackageFacts) -> list[Any]:
    """A fact's row: name, version, the plain fields, the dates as ISO text."""
    return [
        fact.name,
        fact.version,
        *(getattr(fact, f) for f in _PLAIN),
        *(_iso(getattr(fact, f)) for f in _DATES),
    ]


def encode(
    facts: Iterable[PackageFacts], made: Mapping[int, list[Any]] | None = None
) -> list[list[Any]]:
    """One row per fact (:func:`encode_one`); ``made`` holds rows already encoded, by the
    ``id`` of their fact (a cold scan encodes each fact as it is made, during the fetch)."""
    made = made or {}
    return [made.get(id(fact)) or encode_one(fact) for fact in facts]


def _date(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("not a date")
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _days(later: datetime, earlier: datetime) -> float:
    return round((later - earlier).total_seconds() / DAY, 2)


def decode(rows: object, now: datetime) -> dict[str, PackageFacts]:
    """:func:`encode`'s rows as facts by ``name@version``, ages counted from ``now``.
    Raises ValueError (or TypeError) on rows of another shape."""
    if not isinstance(rows, list):
        raise ValueError("not a list of rows")
    width = 2 + len(_PLAIN) + len(_DATES)
    out: dict[str, PackageFacts] = {}
    for row in rows:
        if not isinstance(row, list) or len(row) != width:
            raise ValueError("not a row")
        name, version = row[0], row[1]
        if not isinstance(name, str) or not isinstance(version, str):
            raise ValueError("not a name and version")
        values = dict(zip(_PLAIN, row[2 : 2 + len(_PLAIN)], strict=True))
        for field, value in values.items():
            if value is not None and not isinstance(value, _TYPES[field]):
                raise ValueError(f"{field} of another type")
        if not isinstance(values["deprecation_known"], bool):
            raise ValueError("deprecation_known of another type")
        installed, latest, last, created = (_date(v) for v in row[2 + len(_PLAIN) :])
        values.update(
            name=name,
            version=version,
            installed_published=installed,
            latest_published=latest,
            last_release=last,
            created=created,
            age_days=_days(now, installed) if installed else None,
            days_since_release=_days(now, last) if last else None,
        )
        out[f"{name}@{version}"] = PackageFacts.from_values(values)
    return out
