"""``metrics.behind`` counts releases with a cached order key instead of nodesemver objects (a
profile hot spot, see benchmarks/README.md); it must count exactly what nodesemver's own
comparison counts, loose versions, build metadata and prereleases included."""

from __future__ import annotations

from typing import Any

import nodesemver
from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.services.metrics import behind


def _parse(version: str) -> Any:
    try:
        parsed = nodesemver.make_semver(version, loose=True)
    except (ValueError, TypeError):
        return None
    # npm's semver rejects 1.2.3.4 (semver.valid('1.2.3.4', {loose: true}) is null);
    # Python's node-semver parses it with "micro versions" and ranks it above 1.2.3
    return None if parsed.micro_versions else parsed


def reference_count(installed: str, latest: str, published: list[str]) -> int | None:
    """The original loop: parse every version and compare with nodesemver."""
    mine, newest = _parse(installed), _parse(latest)
    if mine is None or newest is None:
        return None
    if mine.compare(newest) >= 0:
        return 0
    count = 0
    for version in published:
        parsed = _parse(version)
        if parsed is None or parsed.prerelease:
            continue
        if parsed.compare(mine) > 0 and parsed.compare(newest) <= 0:
            count += 1
    return count


num = st.sampled_from(["0", "1", "2", "3", "10", "01"])
pre = st.sampled_from(["", "-alpha", "-beta.1", "-rc.2", "-0"])
build = st.sampled_from(["", "+build.5", "+001"])
prefix = st.sampled_from(["", "", "", "v", "=", " "])
version = st.builds(
    lambda p, a, b, c, r, m: f"{p}{a}.{b}.{c}{r}{m}", prefix, num, num, num, pre, build
) | st.sampled_from(["latest", "1.2", "not-a-version", "1.2.3.4", ""])


@settings(max_examples=400, deadline=None)
@given(version, version, st.lists(version, max_size=25))
def test_behind_counts_what_nodesemver_counts(
    installed: str, latest: str, published: list[str]
) -> None:
    got = behind(installed, latest, published)
    expected = reference_count(installed, latest, published)
    assert (got[0] if got is not None else None) == expected


def test_prereleases_and_build_metadata() -> None:
    published = ["1.0.0", "1.0.1-beta.1", "1.0.1", "1.1.0+build.7", "2.0.0-rc.1", "2.0.0"]
    assert behind("1.0.0", "2.0.0", published) == (3, 1, 0, 0)
    assert behind("1.0.1-beta.1", "2.0.0-rc.1", published) == (2, 1, 0, 0)


def test_four_component_strings_are_not_releases() -> None:
    """Found by the property test above: 1.2.3.4 was counted as a release newer than 1.2.3."""
    assert behind("1.2.3", "2.0.0", ["1.2.3.4", "1.3.0", "2.0.0"]) == (2, 1, 0, 0)
    assert behind("1.2.3.4", "2.0.0", ["2.0.0"]) is None
