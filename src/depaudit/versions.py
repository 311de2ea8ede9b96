"""npm's notion of a version, on top of node-semver.

Python's node-semver accepts ``1.2.3.4`` (its "micro versions" extension) and compares it above
``1.2.3``; npm's semver does not: ``semver.valid('1.2.3.4', {loose: true})`` is null, so such a
string is not a release, does not satisfy any range and is never counted as newer.
"""

from __future__ import annotations

from typing import Any


def parse_version(text: str) -> Any:
    """The loose npm version ``text`` as a ``nodesemver.SemVer``; ValueError when npm would
    not accept it (node-semver's extra dotted components included)."""
    import nodesemver  # imported on use: start-up time (a plain scan may never need it)

    parsed = nodesemver.make_semver(text, loose=True)
    if getattr(parsed, "micro_versions", None):
        raise ValueError(f"Invalid Version: {text}")
    return parsed


def version_or_none(text: str | None) -> Any:
    """:func:`parse_version`, or None for anything npm would not accept as a version."""
    if not text:
        return None
    try:
        return parse_version(text)
    except (ValueError, TypeError):
        return None


def order_key(version: str) -> tuple[int, tuple[int, int, int], str]:
    """How several versions of one name are listed: by major.minor.patch as npm reads them,
    then by their text; what npm does not read as a version last. A plain release or a
    prerelease of npm's strict form is read without node-semver (not imported for them)."""
    from depaudit.fastsemver import release_of

    release = release_of(version)
    if release is None:
        parsed = version_or_none(version)
        if parsed is None:
            return (1, (0, 0, 0), version)
        release = (int(parsed.major), int(parsed.minor), int(parsed.patch))
    return (0, release, version)
