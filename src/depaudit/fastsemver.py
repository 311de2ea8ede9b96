"""npm ranges against plain release versions, decided without node-semver.

Almost every edge of a real tree asks for a plain release (``1.2.3``) to satisfy a range
written with ``^``, ``~``, ``x``, comparators, hyphens and ``||``. Those are decided here with
integer comparisons, with npm's semantics (node-semver's ``desugar``): every range becomes a
union of half-open intervals of plain releases, ``^0.2.3`` is ``[0.2.3, 0.3.0)``, ``~1.2`` is
``[1.2.0, 1.3.0)``, ``>1`` is ``[2.0.0, ∞)``, ``1.2.3 - 2`` is ``[1.2.3, 3.0.0)``, ``<=1.2`` is
``[0.0.0, 1.3.0)``. A prerelease in a bound only moves it for plain versions (``>=7.0.0-0`` is
``>=7.0.0``, ``<2.0.0-0`` is ``<2.0.0``, ``=1.2.3-rc.1`` holds none), since a plain version is
never compared with the prerelease rule. Anything else (prerelease or loose versions, build
metadata, ``~>``, operators on ``*``, odd spellings) gets ``None`` and goes to node-semver, so
the answers are node-semver's everywhere; ``tests/test_fastsemver.py`` checks the two agree
(and with npm's own semver when npm is installed).

Start-up: node-semver compiles some 40 regexes on import; with this module a scan of a tree
whose ranges all have these shapes never imports it.
"""

from __future__ import annotations

import re
from functools import lru_cache

_NUM = r"(0|[1-9]\d{0,14})"  # below 2**53, as npm requires
#: a plain release (no prerelease, no build), as npm's strict parser reads it
_PLAIN = re.compile(rf"v?{_NUM}\.{_NUM}\.{_NUM}")
_PART = r"(0|[1-9]\d{0,14}|[xX*])"
_IDENT = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"  # no leading zeros in numbers
#: one comparator: operator, then a partial version (a prerelease only on a full one)
_COMPARATOR = re.compile(
    rf"(<=|>=|<|>|=|\^|~)?v?{_PART}(?:\.{_PART}(?:\.{_PART}(-{_IDENT}(?:\.{_IDENT})*)?)?)?"
)
_OP_SPACE = re.compile(r"(<=|>=|<|>|=|\^|~)\s+")
_PRE_PART = rf"{_NUM}\.{_NUM}\.{_NUM}-({_IDENT}(?:\.{_IDENT})*)"
#: a release with a prerelease (``1.0.0-beta.2``) as npm's strict parser reads it, its triple
#: and its identifiers in groups
_PRE_VERSION = re.compile(rf"v?{_PRE_PART}")
#: a range of one comparator on a prerelease (``^1.0.0-beta.2``, ``2.0.0-rc.1``)
_PRE_COMPARATOR = re.compile(rf"(<=|>=|<|>|=|\^|~)?\s*v?{_PRE_PART}")
_HYPHEN = re.compile(r"(\S+)\s+-\s+(\S+)")
MAX_LENGTH = 1024  # longer ranges are left to node-semver (and are never cache keys here)

Release = tuple[int, int, int]
Interval = tuple[Release, Release]  # [low, high)
_ZERO: Release = (0, 0, 0)
_INF: Release = (1 << 64, 0, 0)
_EMPTY: Interval = (_ZERO, _ZERO)


def plain_release(version: str) -> Release | None:
    """``(major, minor, patch)`` of a plain release, ``None`` for anything else."""
    match = _PLAIN.fullmatch(version)
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3])


def release_of(version: str) -> Release | None:
    """``(major, minor, patch)`` of a plain release or of a prerelease (``1.0.0-rc.1``) as
    npm's strict parser reads them, ``None`` for anything else."""
    match = _PLAIN.fullmatch(version) or _PRE_VERSION.fullmatch(version)
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3])


def _partial(match: re.Match[str]) -> tuple[int | None, int | None, int | None] | None:
    """Major, minor, patch of a comparator's version (None where absent or ``x``); None for
    a wildcard followed by a number (``1.x.3``), which is left to node-semver."""
    parts: list[int | None] = []
    for text in (match[2], match[3], match[4]):
        if text is None or text in "xX*":
            parts.append(None)
        elif parts and parts[-1] is None:
            return None
        else:
            parts.append(int(text))
    return parts[0], parts[1], parts[2]


def _comparator(token: str) -> Interval | None:
    """The plain releases one comparator admits, as an interval; None for other shapes."""
    match = _COMPARATOR.fullmatch(token)
    if match is None:
        return None
    parts = _partial(match)
    if parts is None:
        return None
    op, pre = match[1], match[5] is not None
    major, minor, patch = parts
    if major is None:
        return (_ZERO, _INF) if op in (None, "=") else None  # `>*` and friends: node-semver
    if minor is None:
        low, next_up = (major, 0, 0), (major + 1, 0, 0)
    elif patch is None:
        low, next_up = (major, minor, 0), (major, minor + 1, 0)
    else:
        low = (major, minor, patch)
        next_up = low if pre else (major, minor, patch + 1)  # the next plain release above
    full = patch is not None
    if op in (None, "="):
        return _EMPTY if pre else (low, next_up)
    if op == ">=":
        return low, _INF
    if op == ">":
        return next_up, _INF
    if op == "<":
        return _ZERO, low
    if op == "<=":
        return _ZERO, next_up
    if op == "~":
        return low, (major, (minor or 0) + 1, 0) if minor is not None else (major + 1, 0, 0)
    # caret: up to the next change of the leftmost non-zero part that was given
    if major or minor is None:
        return low, (major + 1, 0, 0)
    if minor or not full:
        return low, (0, minor + 1, 0)
    return low, (0, 0, (patch or 0) + 1)


def _hyphen(lower: str, upper: str) -> Interval | None:
    """``A - B``: from A (missing parts 0) up to B inclusive (missing parts: all of them)."""
    low = _comparator(">=" + lower) if lower not in ("*", "x", "X") else (_ZERO, _INF)
    high = _comparator("<=" + upper) if upper not in ("*", "x", "X") else (_ZERO, _INF)
    if low is None or high is None:
        return None
    return low[0], high[1]


class _Parsed(tuple[Interval, ...]):
    """The intervals of a range, and whether a comparator of it names a prerelease."""

    prerelease: bool


@lru_cache(maxsize=16384)
def _intervals(spec: str) -> _Parsed | None:
    """The union of intervals of plain releases ``spec`` admits; None for other shapes."""
    if len(spec) > MAX_LENGTH:
        return None
    out: list[Interval] = []
    for part in spec.split("||"):
        part = part.strip()
        if not part:
            return None  # npm reads an empty alternative as `*`; rare: node-semver decides
        hyphen = _HYPHEN.fullmatch(part)
        if hyphen is not None:
            interval = _hyphen(hyphen[1], hyphen[2])
            if interval is None:
                return None
            out.append(interval)
            continue
        low, high = _ZERO, _INF
        for token in _OP_SPACE.sub(r"\1", part).split():
            bounds = _comparator(token)
            if bounds is None:
                return None
            low, high = max(low, bounds[0]), min(high, bounds[1])
        out.append((low, high))
    parsed = _Parsed(out)
    parsed.prerelease = "-" in spec.replace(" - ", " ")
    return parsed


def is_fast_range(spec: str) -> bool:
    """Is ``spec`` a valid npm range of a shape :func:`fast_satisfies` decides?"""
    return _intervals(spec.strip()) is not None


def fast_satisfies(version: str, spec: str) -> bool | None:
    """npm's answer for a plain release against a range of a shape decided here; ``None``
    when either is of another shape (the caller asks node-semver)."""
    release = plain_release(version)
    intervals = _intervals(spec.strip())
    if intervals is None:
        return None
    if release is None:
        # npm admits a prerelease version only through a comparator naming a prerelease of
        # the same release; a range without any admits none (`1.0.0-beta.2` is not in `^1`)
        mine = _PRE_VERSION.fullmatch(version)
        if mine is None:
            return None  # (loose spellings, build metadata: node-semver decides)
        if not intervals.prerelease:
            return False
        return _prerelease_satisfies(mine, spec.strip())
    return any(low <= release < high for low, high in intervals)


def _prerelease_satisfies(mine: re.Match[str], spec: str) -> bool | None:
    """npm's answer for a prerelease version (``mine``: its :data:`_PRE_VERSION` match)
    against a range of one comparator on a
    prerelease (what trees pin most: ``1.0.0-rc.1``, ``^2.0.0-next.5``); None otherwise.

    npm admits a prerelease only through a comparator naming a prerelease of the same
    major.minor.patch; ``^`` and ``~`` desugar to that comparator's ``>=`` and an upper bound
    below the next release (``<2.0.0-0``) that no prerelease of the same triple reaches, so
    they answer as ``>=`` does: the same triple, and not below it."""
    theirs = _PRE_COMPARATOR.fullmatch(spec)
    if theirs is None:
        return None
    ids, bound = mine[4].split("."), theirs[5].split(".")
    if any(len(part) > 15 and part.isdigit() for part in (*ids, *bound)):
        return None  # (npm compares such numbers as doubles)
    if mine.group(1, 2, 3) != theirs.group(2, 3, 4):  # (no leading zeros: text is number)
        return False
    order = _compare_identifiers(ids, bound)
    op = theirs[1] or "="
    if op == "=":
        return order == 0
    if op == ">":
        return order > 0
    if op == "<":
        return order < 0
    if op == "<=":
        return order <= 0
    return order >= 0  # >=, ^, ~


def _compare_identifiers(mine: list[str], theirs: list[str]) -> int:
    """node-semver's order of two prereleases' identifiers: numbers by value and below
    words, words by their characters, and a prefix below the longer list."""
    for a, b in zip(mine, theirs, strict=False):  # (then the shorter is below)
        if a == b:
            continue
        a_number, b_number = a.isdigit(), b.isdigit()
        if a_number and b_number:
            return -1 if int(a) < int(b) else 1
        if a_number != b_number:
            return -1 if a_number else 1
        return -1 if a < b else 1
    return (len(mine) > len(theirs)) - (len(mine) < len(theirs))
