"""The common shapes of npm ranges and versions, decided without node-semver.

Almost every edge of a real tree is ``^1.2.3``, ``~1.2.3``, ``1.2.3``, ``1.x`` or ``1.2.x``
against a plain ``1.2.3`` version. Those are decided here with integer comparisons, with
npm's semantics (node-semver's ``desugar``: ``^0.2.3`` is ``>=0.2.3 <0.3.0-0``, ``^0.0.3`` is
``>=0.0.3 <0.0.4-0``, ``~1.2.3`` is ``>=1.2.3 <1.3.0-0``, ``1.x`` is ``>=1.0.0 <2.0.0-0``).
Anything else (prereleases, build metadata, comparators, unions, hyphens, partial carets,
loose spellings) gets ``None`` and goes to node-semver, so the answers are node-semver's
everywhere; ``tests/property/test_fastsemver.py`` checks the two agree.
"""

from __future__ import annotations

import re

_NUM = r"(0|[1-9]\d{0,14})"  # below 2**53, as npm requires
#: a plain release (no prerelease, no build), as npm's strict parser reads it
_PLAIN = re.compile(rf"v?{_NUM}\.{_NUM}\.{_NUM}")
#: ``^1.2.3``, ``~1.2.3``, ``=1.2.3``, ``1.2.3`` (plain releases only)
_SUGAR = re.compile(rf"([\^~=]?)v?{_NUM}\.{_NUM}\.{_NUM}")
#: ``1``, ``1.x``, ``1.2``, ``1.2.x`` (``x``, ``X`` or ``*``)
_XRANGE = re.compile(rf"{_NUM}(?:\.(?:[xX*]|{_NUM}(?:\.[xX*])?))?")

Release = tuple[int, int, int]


def plain_release(version: str) -> Release | None:
    """``(major, minor, patch)`` of a plain release, ``None`` for anything else."""
    match = _PLAIN.fullmatch(version)
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3])


def _bounds(spec: str) -> tuple[Release, Release] | None:
    """``[lower, upper)`` of a fast-shaped range over plain releases, or ``None``."""
    match = _SUGAR.fullmatch(spec)
    if match is not None:
        op = match[1]
        major, minor, patch = int(match[2]), int(match[3]), int(match[4])
        low = (major, minor, patch)
        if op == "^":
            if major:
                return low, (major + 1, 0, 0)
            if minor:
                return low, (0, minor + 1, 0)
            return low, (0, 0, patch + 1)
        if op == "~":
            return low, (major, minor + 1, 0)
        return low, (major, minor, patch + 1)  # exact
    match = _XRANGE.fullmatch(spec)
    if match is not None:
        major = int(match[1])
        if match[2] is None:
            return (major, 0, 0), (major + 1, 0, 0)
        minor = int(match[2])
        return (major, minor, 0), (major, minor + 1, 0)
    return None


def is_fast_range(spec: str) -> bool:
    """Is ``spec`` one of the shapes :func:`fast_satisfies` decides (a valid npm range)?"""
    return _bounds(spec) is not None


def fast_satisfies(version: str, spec: str) -> bool | None:
    """npm's answer for a plain release against a fast-shaped range; ``None`` when either is
    of another shape (the caller asks node-semver)."""
    bounds = _bounds(spec)
    if bounds is None:
        return None
    release = plain_release(version)
    if release is None:
        return None
    low, high = bounds
    return low <= release < high
