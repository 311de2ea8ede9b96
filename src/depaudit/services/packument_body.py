"""A packument body straight to the cached form: :func:`pack_body` is
``metrics.pack(metrics.extract_body(body))``, the same for every body, at about a third of
the CPU (``benchmarks/decode.py``).

A cold scan decodes every full packument it fetches (theia: 1,862 bodies, 215 MB, ~105k
versions). The old path decoded the few fields with msgspec (kept here: it skips the rest in
C), then spent more than as much again in Python per version: two ``datetime`` round trips,
an intermediate dict, a sort of tuples, a bisect and a formatted line each.

Here the per-version work is done over whole lists: the timestamps are kept as sent where
they are all of one kind the index keeps (:func:`metrics.kept_as_sent`: the registry's own
form, or ``isoformat``'s in UTC; one pass over their joined text decides it, and only the
latest is parsed), else checked and rewritten as one string when they all have the forms of
:data:`_FORMS` (any other value takes the old per-value conversion); the stable releases are
ranked by one sort of integers, and each version's line is one f-string. A body the msgspec
decoder rejects (a shape it does not expect, non-JSON...) goes through the old path itself,
so every result, error included, is the old path's; ``tests/property/test_pack_body.py``
holds the two together.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from depaudit.services import metrics

# The timestamp forms whose ``metrics._iso(metrics.parse_time(...))`` is a string rewrite, each
# digit shown as 9: the registry's own (``Z``, milliseconds) and Python's ``isoformat``
# (``+00:00``, 6 or no fraction digits), which some mirrors serve. Their lengths differ, and
# none is a part of another.
_FORMS = (
    "9999-99-99T99:99:99.999Z",
    "9999-99-99T99:99:99+99:99",
    "9999-99-99T99:99:99.999999+99:99",
)
_FORM_LENGTHS = frozenset(map(len, _FORMS))
_FORMS_BYTES = tuple(form.encode() for form in _FORMS)
_DIGITS_TO_9 = bytes.maketrans(b"012345678", b"999999999")


def _shapes(values: list[str], joined: str) -> list[int] | None:
    """How many of ``values`` (``joined``: them joined by newlines) have each of
    :data:`_FORMS`, when every one has one of them (each digit any ASCII digit); else None."""
    if not set(map(len, values)) <= _FORM_LENGTHS or not joined.isascii():
        return None
    shape = joined.encode().translate(_DIGITS_TO_9)
    counts = [shape.count(form) for form in _FORMS_BYTES]
    # n occurrences covering every character but the n-1 newlines: one form per line, as no
    # value is longer than one form and occurrences never overlap
    if (
        sum(counts) != len(values)
        or sum(count * len(form) for count, form in zip(counts, _FORMS, strict=True))
        != len(joined) - len(values) + 1
    ):
        return None
    return counts


def _rewritable(values: list[str], joined: str) -> bool:
    """True when every value (``joined``: them joined by newlines), each of one of
    :data:`_FORMS` (:func:`_shapes`), has offset ``+00:00`` and is a real date and time (hours
    below 24)."""
    if "T24" in joined:
        return False  # (24:00 is the next day where Python accepts it)
    if joined.count("+") != joined.count("+00:00"):
        return False
    try:
        deque(map(datetime.fromisoformat, values), maxlen=0)  # real dates, no :60
    except ValueError:
        return False
    return True


def _as_sent(counts: list[int], joined: str) -> bool:
    """:func:`metrics.kept_as_sent` of the values joined by newlines in ``joined``, whose
    forms :func:`_shapes` counted: all of the registry's (:data:`_FORMS`' first), or all of
    ``isoformat``'s (the other two) with offset ``+00:00``."""
    total = sum(counts)
    if counts[0] == total:
        return True
    return counts[0] == 0 and joined.count("+") == joined.count("+00:00") == total


def _published_all(values: list[Any]) -> tuple[list[str], str | None]:
    """Each version's time as the index keeps it, and the latest of them: ``values`` as they
    are where :func:`metrics.kept_as_sent` says so (no rewrite, and no date parsed but the
    latest's), else ``[metrics._iso(metrics.parse_time(v)) or "" for v in values]`` (in bulk
    when every value has one of :data:`_FORMS`) and :func:`_last_release` of them."""
    try:
        joined = "\n".join(values)
    except TypeError:  # a value that is not a string
        joined = None
    counts = _shapes(values, joined) if joined is not None and values else None
    if joined is not None and counts is not None:
        if _as_sent(counts, joined):
            return values, _latest_as_sent(values)
        if _rewritable(values, joined):
            # .sssZ -> .sss000Z, +00:00 -> Z, then no fraction when it is all zeros: what
            # isoformat prints for the same time in UTC
            out = joined.replace("Z", "000Z").replace("+00:00", "Z").replace(".000000Z", "Z")
            published = out.split("\n")
            return published, _last_release(published, out)
    converted = [metrics._iso(metrics.parse_time(v)) for v in values]
    release = [t for t in converted if t]
    return [t or "" for t in converted], _last_release(release, "\n".join(release))


def _latest_as_sent(values: list[str]) -> str | None:
    """The latest time of ``values``, all of one kind of :data:`metrics.AS_SENT_KINDS`, whose
    text order is their time order: the greatest text, unless it is no real date and time
    (then the greatest of those that are)."""
    best = max(values)
    if metrics.parse_time(best) is not None:
        return best
    return max((v for v in values if metrics.parse_time(v) is not None), default=None)


def _last_release(release: list[str], joined: str) -> str | None:
    """``max(release, key=metrics._sort_time)`` (``joined``: them joined by newlines) without
    parsing them back: each is ``metrics._iso`` output, ``YYYY-MM-DDTHH:MM:SSZ`` or
    ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, fixed width), so the string order is the time order
    except that ``...SSZ`` sorts above the later ``...SS.ffffffZ`` of the same second."""
    if not release:
        return None
    best = max(release)
    if len(best) == 20 and best[:19] + "." in joined:
        return max(t for t in release if len(t) == 27 and t.startswith(best[:19]))
    return best


_BIG = -1  # a stable release with a minor or patch too large for :func:`_stable_int`


@lru_cache(maxsize=131072)
def _stable_int(version: str) -> int | None:
    """``metrics._stable_key(version)`` as one positive integer of the same order (ints sort
    and hash much faster than tuples), :data:`_BIG` when it does not fit, None when the
    version is not a stable release."""
    plain = metrics._PLAIN_RELEASE.fullmatch(version)
    if plain is not None:
        major, minor, patch = int(plain[1]), int(plain[2]), int(plain[3])
    elif metrics._PRERELEASE.match(version):
        # what _stable_key decides next for a string that is not a plain release, without
        # the call and its second match (12,868 of theia's 27,863 distinct versions)
        return None
    else:
        key = metrics._stable_key(version)
        if key is None:
            return None
        major, minor, patch, _ = key  # the last part is 1 for every stable release
    if minor >> 64 or patch >> 64:
        return _BIG
    return ((major << 128) | (minor << 64) | patch) + 1


def _ranks(names: list[str]) -> list[int | str]:
    """Per version, ``bisect_right(stable, key)`` as :func:`metrics.pack` computes it: how
    many stable releases are at or below it; "" for the others."""
    keys: list[Any] = list(map(_stable_int, names))
    if _BIG in keys:
        keys = list(map(metrics._stable_key, names))
    stable = sorted(filter(None, keys))  # every key is a positive int or a tuple: true
    # a later equal key overwrites an earlier one: the last index, bisect_right's answer
    rank_of: dict[Any, int | str] = dict(zip(stable, range(1, len(stable) + 1), strict=True))
    rank_of[None] = ""
    return list(map(rank_of.__getitem__, keys))


def _pack_doc(
    times_value: Any,
    versions: Mapping[str, Any],
    deprecated: Mapping[str, Any],
    latest: str | None,
    repository: str | None,
) -> dict[str, Any]:
    """``metrics.pack(metrics.extract(doc))`` for a document with these fields: ``versions``
    has its version keys (once each, in order), ``deprecated`` maps a version to its
    manifest's ``deprecated`` where not null (in version order), ``latest`` and
    ``repository`` are what ``extract`` makes of ``dist-tags`` and the repositories."""
    times: Mapping[str, Any] = times_value if isinstance(times_value, Mapping) else {}
    unpublished = times.get("unpublished")
    created = metrics._iso(metrics.parse_time(times.get("created")))
    if not versions and isinstance(unpublished, Mapping):
        return metrics.pack(
            {
                "state": metrics.STATE_UNPUBLISHED,
                "created": created,
                "unpublished_at": metrics._iso(metrics.parse_time(unpublished.get("time"))),
                "versions": {},
                "deprecated": {},
            }
        )
    names = list(versions)
    stamps = list(map(times.get, names))
    published, last_release = _published_all(stamps)
    ranks = _ranks(names)
    messages: dict[str, int] = {}
    message_of: dict[str, int] = {}
    for version, text in deprecated.items():
        if isinstance(text, str) and text.strip():
            message_of[version] = messages.setdefault(text, len(messages))
    odd: dict[str, list[Any]] = {}
    rows: Any = zip(names, published, ranks, strict=True)
    joined = "".join(names)
    if "\t" in joined or "\n" in joined:
        plain = []
        for version, when, rank in rows:
            if "\t" in version or "\n" in version:
                odd[version] = [when or None, rank or None, message_of.get(version)]
            else:
                plain.append((version, when, rank))
        rows = plain
    if message_of:
        lines = [f"{v}\t{w}\t{r}\t{message_of.get(v, '')}\n" for v, w, r in rows]
    else:
        lines = [f"{v}\t{w}\t{r}\t\n" for v, w, r in rows]
    return {
        "state": metrics.STATE_OK,
        "latest": latest,
        "created": created,
        "modified": metrics._iso(metrics.parse_time(times.get("modified"))),
        "last_release": last_release,
        "repository": repository,
        "gone": _gone(times, versions, stamps),
        "index": "\n" + "".join(lines),
        "messages": list(messages),
        "odd": odd,
    }


def _gone(times: Mapping[str, Any], versions: Mapping[str, Any], stamps: list[Any]) -> list[str]:
    """The versions ``times`` names and ``versions`` does not (unpublished ones), sorted:
    none, without a set of every version, where every version has a time (``stamps``, each
    version's, has no None), none of them is named as a meta key, and ``times`` holds no more
    keys than the versions and the meta keys it has."""
    if None not in stamps and not any(meta in versions for meta in metrics._TIME_META):
        meta = sum(1 for key in metrics._TIME_META if key in times)
        if len(times) == len(versions) + meta:
            return []
    return sorted(times.keys() - versions.keys() - metrics._TIME_META)


def pack_body(body: bytes) -> dict[str, Any]:
    """``metrics.pack(metrics.extract_body(body))``, the same for every body (ValueError for
    one that is not a JSON packument)."""
    decoder, decode_error = metrics._slim_decoder()
    try:
        slim = decoder.decode(body)
    except decode_error:
        return metrics.pack(metrics.extract_body(body))  # the old path decides
    manifests: Mapping[str, Any] = slim.versions or {}
    tags = slim.dist_tags
    raw_latest = tags.get("latest") if isinstance(tags, Mapping) else None
    latest = raw_latest if isinstance(raw_latest, str) else None
    repository = metrics.normalize_repository(slim.repository)
    if repository is None and latest is not None and latest in manifests:
        repository = metrics.normalize_repository(metrics.raw_value(manifests[latest].repository))
    deprecated = {v: m.deprecated for v, m in manifests.items() if m.deprecated is not None}
    return _pack_doc(slim.time, manifests, deprecated, latest, repository)
