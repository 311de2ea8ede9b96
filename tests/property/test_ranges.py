"""Range matching: GitHub's comma spelling and the npm spelling of one range agree, and the
npm matcher decides prereleases the way npm audit does (checked against npm's own semver)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.ranges import (
    RangeError,
    github_satisfies,
    github_to_npm,
    npm_satisfies,
    validate_npm_range,
)

OPS = ["<", "<=", ">", ">=", "="]

prerelease = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(["alpha", "beta", "rc", "0"]), st.integers(0, 12)),
)
versions = st.builds(
    lambda major, minor, patch, pre: (
        f"{major}.{minor}.{patch}" + (f"-{pre[0]}.{pre[1]}" if pre else "")
    ),
    st.integers(0, 4),
    st.integers(0, 4),
    st.integers(0, 4),
    prerelease,
)
comparators = st.tuples(st.sampled_from(OPS), versions)
github_ranges = st.lists(comparators, min_size=1, max_size=3)


def _key(version: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """An independent semver 2.0 ordering key (release > its prereleases)."""
    main, _, pre = version.partition("-")
    major, minor, patch = (int(x) for x in main.split("."))
    idents = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split(".")) if pre else ()
    return (major, minor, patch, 0 if pre else 1, idents)  # type: ignore[return-value]


def _reference(version: str, parts: list[tuple[str, str]]) -> bool:
    """What GitHub's range means: every comparator holds (prereleases included)."""
    v = _key(version)
    checks = {
        "<": lambda b: v < b,
        "<=": lambda b: v <= b,
        ">": lambda b: v > b,
        ">=": lambda b: v >= b,
        "=": lambda b: v == b,
    }
    return all(checks[op](_key(ver)) for op, ver in parts)


def _github_text(parts: list[tuple[str, str]]) -> str:
    return ", ".join(f"{op} {ver}" for op, ver in parts)


@given(github_ranges, versions)
@settings(max_examples=400, deadline=None)
def test_github_and_npm_spellings_agree(parts: list[tuple[str, str]], version: str) -> None:
    gh = _github_text(parts)
    npm = github_to_npm(gh)
    assert "," not in npm
    expected = _reference(version, parts)
    assert github_satisfies(version, gh) is expected
    assert npm_satisfies(version, npm) is expected


@given(st.lists(github_ranges, min_size=1, max_size=3), versions)
@settings(max_examples=200, deadline=None)
def test_or_of_ranges_is_any(alternatives: list[list[tuple[str, str]]], version: str) -> None:
    npm = " || ".join(github_to_npm(_github_text(p)) for p in alternatives)
    assert npm_satisfies(version, npm) is any(_reference(version, p) for p in alternatives)


def test_github_examples_from_the_graphql_reference() -> None:
    # forms listed for vulnerableVersionRange in GitHub's GraphQL reference
    assert github_to_npm("= 0.2.0") == "0.2.0"
    assert github_to_npm("<= 1.0.8") == "<=1.0.8"
    assert github_to_npm("< 0.1.11") == "<0.1.11"
    assert github_to_npm(">= 4.3.0, < 4.3.5") == ">=4.3.0 <4.3.5"
    assert github_to_npm(">= 0.0.1") == ">=0.0.1"
    assert github_satisfies("4.3.5", ">= 4.3.0, < 4.3.5") is False
    assert github_satisfies("4.3.5-rc.1", ">= 4.3.0, < 4.3.5") is True


@pytest.mark.parametrize("bad", ["", ">= 1.0.0,", "~> 1.2", ">= one"])
def test_bad_github_ranges_raise(bad: str) -> None:
    with pytest.raises(RangeError):
        github_to_npm(bad)
    assert github_satisfies("1.0.0", bad) is None


def test_unknown_and_unparseable_are_unknown_not_false() -> None:
    assert npm_satisfies("1.0.0", "unknown") is None
    assert npm_satisfies("1.0.0", "not a range %%") is None
    assert npm_satisfies("github:user/repo#abc", "<2.0.0") is None
    assert npm_satisfies("1.0.0", "*") is True
    assert npm_satisfies("1.0.0-rc.1", "*") is True  # npm audit: includePrerelease
    with pytest.raises(RangeError):
        validate_npm_range("not a range %%")


def test_prereleases_as_npm_audit_sees_them() -> None:
    # npm audit tests with {includePrerelease: true, loose: true}
    # (@npmcli/metavuln-calculator lib/advisory.js)
    assert npm_satisfies("1.2.3-beta.1", "<1.2.3") is True
    assert npm_satisfies("2.0.0-rc.1", "^1.2.3") is False  # desugared to <2.0.0-0
    assert npm_satisfies("1.0.0-beta", "1.x") is True
    assert npm_satisfies("4.1.0-rc.1", "<=4.0.13 || >=4.1.0 <4.1.2") is False
    assert npm_satisfies("4.1.1", "<=4.0.13 || >=4.1.0 <4.1.2") is True


def _npm_semver() -> Path | None:
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        return None
    root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, timeout=60)
    path = Path(root.stdout.strip()) / "npm" / "node_modules" / "semver"
    return path if path.is_dir() else None


NPM_SEMVER = _npm_semver()
SUGAR = ["^", "~", "", ">=", "<", "<=", ">"]
npm_tokens = st.builds(
    lambda op, v, cut: op + ".".join(v.split("-")[0].split(".")[: 3 - cut]) if cut else op + v,
    st.sampled_from(SUGAR),
    versions,
    st.integers(0, 2),
)
npm_ranges = st.builds(
    lambda sets: " || ".join(" ".join(tokens) for tokens in sets),
    st.lists(st.lists(npm_tokens, min_size=1, max_size=2), min_size=1, max_size=2),
)


@pytest.mark.npm
@pytest.mark.skipif(NPM_SEMVER is None, reason="node and npm's bundled semver are needed")
@given(st.lists(st.tuples(versions, npm_ranges), min_size=40, max_size=40))
@settings(max_examples=15, deadline=None)
def test_npm_ranges_match_npms_own_semver(cases: list[tuple[str, str]]) -> None:
    script = (
        "const s=require(process.argv[1]);"
        "const c=JSON.parse(require('fs').readFileSync(0,'utf8'));"
        "console.log(JSON.stringify(c.map(([v,r])=>"
        "s.satisfies(v,r,{includePrerelease:true,loose:true}))))"
    )
    node = shutil.which("node")
    assert node
    out = subprocess.run(
        [node, "-e", script, str(NPM_SEMVER)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    expected = json.loads(out.stdout)
    got = [npm_satisfies(v, r) for v, r in cases]
    assert got == expected, [c for c, g, e in zip(cases, got, expected, strict=True) if g != e]


plain_versions = st.builds(
    lambda major, minor, patch: f"{major}.{minor}.{patch}",
    st.integers(0, 4),
    st.integers(0, 4),
    st.integers(0, 4),
)


@given(plain_versions, npm_ranges)
@settings(max_examples=400, deadline=None)
def test_a_plain_release_is_decided_as_node_semver_decides_it(version: str, spec: str) -> None:
    """The fast path for plain releases (fastsemver, no node-semver) gives node-semver's
    include-prerelease answer for every range, prerelease bounds included."""
    from depaudit.ranges import _semver_satisfies

    assert npm_satisfies(version, spec) == _semver_satisfies(version, spec)


def test_matching_plain_releases_against_common_ranges_needs_no_node_semver() -> None:
    """The knowledge base's and the advisories' ranges of the usual shapes against the
    tree's plain releases: node-semver (~40 regexes compiled on import) is not imported;
    a prerelease version still is decided by it."""
    from conftest import modules_loaded

    fast = (
        "from depaudit.ranges import npm_satisfies\n"
        "assert npm_satisfies('1.2.3', '<1.2.4 || >=2.0.0-0 <2.1.0') is True\n"
        "assert npm_satisfies('4.17.21', '>=4.0.0 <4.17.12') is False\n"
    )
    assert modules_loaded(fast, ["nodesemver"]) == []
    slow = "from depaudit.ranges import npm_satisfies\nnpm_satisfies('1.2.3-rc.1', '<1.2.3')\n"
    assert modules_loaded(slow, ["nodesemver"]) == ["nodesemver"]
