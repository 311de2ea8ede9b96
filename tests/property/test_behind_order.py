"""``metrics.behind`` counts releases with a cached order key instead of nodesemver objects (a
profile hot spot, see benchmarks/README.md), and orders plain releases and strict prereleases
without nodesemver at all; it must give exactly what nodesemver's own comparison gives (the
count and the major/minor/patch step), loose versions, build metadata and prereleases
included, and so must ``_stable_key`` and ``_current_or_ahead``."""

from __future__ import annotations

from typing import Any

import nodesemver
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import modules_loaded
from depaudit.services.metrics import _current_or_ahead, _stable_key, behind


def _parse(version: str) -> Any:
    try:
        parsed = nodesemver.make_semver(version, loose=True)
    except (ValueError, TypeError):
        return None
    # npm's semver rejects 1.2.3.4 (semver.valid('1.2.3.4', {loose: true}) is null);
    # Python's node-semver parses it with "micro versions" and ranks it above 1.2.3
    return None if parsed.micro_versions else parsed


def reference_behind(
    installed: str, latest: str, published: list[str]
) -> tuple[int, int, int, int] | None:
    """The original loop: parse every version and compare with nodesemver."""
    mine, newest = _parse(installed), _parse(latest)
    if mine is None or newest is None:
        return None
    if mine.compare(newest) >= 0:
        return (0, 0, 0, 0)
    count = 0
    for version in published:
        parsed = _parse(version)
        if parsed is None or parsed.prerelease:
            continue
        if parsed.compare(mine) > 0 and parsed.compare(newest) <= 0:
            count += 1
    if newest.major != mine.major:
        return (count, newest.major - mine.major, 0, 0)
    if newest.minor != mine.minor:
        return (count, 0, newest.minor - mine.minor, 0)
    return (count, 0, 0, newest.patch - mine.patch)


def reference_stable_key(version: str) -> tuple[int, int, int, int] | None:
    parsed = _parse(version)
    if parsed is None or parsed.prerelease:
        return None
    return (parsed.major, parsed.minor, parsed.patch, 1)


num = st.sampled_from(["0", "1", "2", "3", "10", "01"])
pre = st.sampled_from(["", "-alpha", "-beta.1", "-rc.2", "-0", "beta2", "rc", "-x-y.01", "a.b"])
build = st.sampled_from(["", "+build.5", "+001"])
prefix = st.sampled_from(["", "", "", "v", "=", " "])
version = st.builds(
    lambda p, a, b, c, r, m: f"{p}{a}.{b}.{c}{r}{m}", prefix, num, num, num, pre, build
) | st.sampled_from(["latest", "1.2", "not-a-version", "1.2.3.4", ""])


@settings(max_examples=400, deadline=None)
@given(version, version, st.lists(version, max_size=25))
@example("1.0.0-rc.1", "1.2.0", ["1.0.0", "1.2.0"])  # the release of a prerelease's triple
@example("1.2.3", "1.2.3-beta", ["1.2.3"])
@example("2.0.0-rc.1", "2.0.0-rc.2", ["2.0.0", "2.0.0-rc.2"])
@example("1.0.0beta2", "1.0.0", ["1.0.0"])
def test_behind_counts_what_nodesemver_counts(
    installed: str, latest: str, published: list[str]
) -> None:
    assert behind(installed, latest, published) == reference_behind(installed, latest, published)


#: strings near versions: a triple, then anything of a version's characters and a few others
near = st.builds(
    lambda a, b, c, tail: f"{a}.{b}.{c}{tail}",
    num,
    num,
    num,
    st.text(alphabet="0123456789abzAZ.-+_ =v", max_size=8),
)


@settings(max_examples=600, deadline=None)
@given(st.one_of(version, near, st.text(alphabet="0123456789.-+abv ", max_size=12)))
@example("0.0.0+.")  # (found by the test: an empty build identifier is no version)
@example("1.0.0beta2")
@example("1.2.3a+b_")  # (node-semver's loose recovery reads this as 1.2.0)
def test_stable_key_is_nodesemvers(text: str) -> None:
    """Which strings are stable releases, and their order key, decided without node-semver for
    plain releases and every string it would read as a prerelease or reject."""
    assert _stable_key(text) == reference_stable_key(text)


@settings(max_examples=400, deadline=None)
@given(st.one_of(version, near), st.one_of(version, near))
def test_current_or_ahead_is_nodesemvers(installed: str, latest: str) -> None:
    mine, newest = _parse(installed), _parse(latest)
    expected = None if mine is None or newest is None else mine.compare(newest) >= 0
    assert _current_or_ahead(installed, latest) == expected


def test_strict_prereleases_need_no_nodesemver() -> None:
    """A prerelease installed (or a loose one published) is ordered without importing
    node-semver (~27 ms of CPU in each process of a cold scan that met one)."""
    assert behind("1.0.0-rc.1", "1.2.0", ["1.0.0", "1.1.0", "1.2.0+b", "1.3.0"]) == (3, 0, 2, 0)
    assert behind("2.0.0", "2.0.1-beta.3", ["2.0.1-beta.3"]) == (0, 0, 0, 1)
    assert _stable_key("1.0.0beta2") is None and _stable_key("3.0.0alpha1") is None
    assert _current_or_ahead("1.2.3-x.1", "1.2.3") is False
    code = (
        "from depaudit.services.metrics import _current_or_ahead, _stable_key, behind\n"
        "behind('1.0.0-rc.1', '1.2.0', ['1.0.0', '1.1.0', '1.2.0+b', '1.3.0'])\n"
        "behind('2.0.0', '2.0.1-beta.3', ['2.0.1-beta.3'])\n"
        "_stable_key('1.0.0beta2'), _stable_key('3.0.0alpha1')\n"
        "_current_or_ahead('1.2.3-x.1', '1.2.3')\n"
    )
    assert modules_loaded(code, ("nodesemver",)) == []
    # two prereleases of one triple: their identifiers decide, node-semver compares them
    both = code + "behind('1.2.3-a', '1.2.3-b', [])\n"
    assert modules_loaded(both, ("nodesemver",)) == ["nodesemver"]


def test_prereleases_and_build_metadata() -> None:
    published = ["1.0.0", "1.0.1-beta.1", "1.0.1", "1.1.0+build.7", "2.0.0-rc.1", "2.0.0"]
    assert behind("1.0.0", "2.0.0", published) == (3, 1, 0, 0)
    assert behind("1.0.1-beta.1", "2.0.0-rc.1", published) == (2, 1, 0, 0)


def test_four_component_strings_are_not_releases() -> None:
    """Found by the property test above: 1.2.3.4 was counted as a release newer than 1.2.3."""
    assert behind("1.2.3", "2.0.0", ["1.2.3.4", "1.3.0", "2.0.0"]) == (2, 1, 0, 0)
    assert behind("1.2.3.4", "2.0.0", ["2.0.0"]) is None
