"""The fast paths for common range shapes give node-semver's answers (and npm's own semver's,
when node and npm are here); other shapes are left to node-semver."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import nodesemver
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depaudit.fastsemver import fast_satisfies, is_fast_range, plain_release
from depaudit.tree import satisfies

numbers = st.one_of(st.integers(0, 3), st.integers(0, 10**14))
releases = st.builds(lambda a, b, c: f"{a}.{b}.{c}", numbers, numbers, numbers)
any_versions = st.one_of(
    releases,
    st.builds(lambda v: f"v{v}", releases),
    st.builds(lambda v, p: f"{v}-{p}", releases, st.sampled_from(["rc.1", "0", "beta"])),
    st.builds(lambda v: f"{v}+build.5", releases),
    st.sampled_from(
        ["1.2", "01.2.3", "1.2.3.4", "", "x", " 1.2.3", "1.2.3 ", "1000000000000000.0.0"]
    ),
)
x = st.sampled_from(["x", "X", "*"])
pre = st.sampled_from(["-0", "-rc.1", "-beta", "-alpha.2.x-y", "-1"])
partials = st.one_of(
    st.builds(lambda v: v, releases),
    st.builds(lambda v, p: v + p, releases, pre),
    st.builds(lambda v: f"v{v}", releases),
    st.builds(lambda a: str(a), numbers),
    st.builds(lambda a, x: f"{a}.{x}", numbers, x),
    st.builds(lambda a, b: f"{a}.{b}", numbers, numbers),
    st.builds(lambda a, b, x: f"{a}.{b}.{x}", numbers, numbers, x),
    st.builds(lambda a, x, y: f"{a}.{x}.{y}", numbers, x, x),
)
operators = st.sampled_from(["", "=", "^", "~", ">", ">=", "<", "<=", ">= ", "< ", "^ ", "~ "])
comparators = st.one_of(st.builds(lambda op, v: op + v, operators, partials), x)
hyphens = st.builds(lambda a, b: f"{a} - {b}", st.one_of(partials, x), st.one_of(partials, x))
comparator_sets = st.one_of(hyphens, st.lists(comparators, min_size=1, max_size=3).map(" ".join))
fast_specs = st.one_of(
    comparators,
    comparator_sets,
    st.lists(comparator_sets, min_size=2, max_size=3).map(" || ".join),
    st.lists(comparator_sets, min_size=2, max_size=3).map("||".join),
)
other_specs = st.one_of(
    st.builds(lambda v: f"^{v}+build.5", releases),
    st.builds(lambda v: f"~>{v}", releases),
    st.builds(lambda a: f"{a}.x.3", numbers),
    st.builds(lambda op: op + "*", st.sampled_from([">", "<", ">=", "^", "~"])),
    st.builds(lambda v: f"{v} || ", releases),
    st.sampled_from(["01.2.3", "1.2.3.4", "^1.2.3-01", "latest", "1.2.3 - ", "~> 1.2", "=="]),
)


def _node_semver(version: str, spec: str) -> bool | None:
    try:
        if nodesemver.valid_range(spec, loose=True) is None:
            return None
        return bool(nodesemver.satisfies(version, spec, loose=True))
    except Exception:
        return None


@given(any_versions, fast_specs)
@settings(max_examples=600, deadline=None)
def test_fast_shapes_agree_with_node_semver(version: str, spec: str) -> None:
    assert is_fast_range(spec)
    fast = fast_satisfies(version, spec)
    if plain_release(version) is None:
        # builds and loose spellings go to node-semver; a prerelease is decided here only
        # when the range names no prerelease (then npm admits it nowhere)
        assert fast is None or fast is _node_semver(version, spec), (version, spec)
        return
    assert fast is _node_semver(version, spec), (version, spec)


@given(any_versions, other_specs)
@settings(max_examples=300, deadline=None)
def test_other_shapes_are_left_to_node_semver(version: str, spec: str) -> None:
    assert fast_satisfies(version, spec) is None


def test_examples_of_npm_desugaring() -> None:
    assert fast_satisfies("0.2.9", "^0.2.3") is True
    assert fast_satisfies("0.3.0", "^0.2.3") is False
    assert fast_satisfies("0.0.4", "^0.0.3") is False
    assert fast_satisfies("1.2.9", "~1.2.3") is True
    assert fast_satisfies("1.3.0", "~1.2.3") is False
    assert fast_satisfies("1.9.9", "1.x") is True
    assert fast_satisfies("2.0.0", "1") is False
    assert fast_satisfies("1.2.3", "=v1.2.3") is True
    assert fast_satisfies("1.2.4", "1.2.3") is False
    # what the tree check answers does not depend on which path decides
    assert satisfies("2.0.0-rc.1", "^1.2.3") is False
    assert satisfies("1.5.0", ">=1.2.3 <2") is True
    # shapes beyond the sugar: comparators, partials, hyphens, unions, prerelease bounds
    assert fast_satisfies("7.5.0", "^7.0.0-0") is True
    assert fast_satisfies("8.0.0", "^7.4.0 || ^8.0.0-0 <8.0.0") is False
    assert fast_satisfies("2.9.9", ">= 2.1.2 < 3.0.0") is True
    assert fast_satisfies("3.9.0", "1 - 3") is True
    assert fast_satisfies("4.0.0", "1 - 3") is False
    assert fast_satisfies("0.28.5", ">=0.14.0 <=0.28.x") is True
    assert fast_satisfies("0.29.0", ">=0.14.0 <=0.28.x") is False
    assert fast_satisfies("0.0.9", "^0.0") is True
    assert fast_satisfies("0.1.0", "^0.0") is False
    assert fast_satisfies("2.0.0", ">1") is True
    assert fast_satisfies("1.9.9", ">1") is False
    assert fast_satisfies("1.2.3", "=1.2.3-rc.1") is False
    assert fast_satisfies("1.2.3", ">1.2.3-rc.1") is True
    assert fast_satisfies("1.2.3", "<=1.2.3-rc.1") is False
    assert fast_satisfies("1.0.0-beta.2", "^1") is False  # npm: no comparator names a prerelease
    # a prerelease against one comparator on a prerelease (what trees pin): the same triple
    assert fast_satisfies("1.0.0-beta.2", "^1.0.0-beta.1") is True
    assert fast_satisfies("1.0.1-beta.2", "^1.0.0-beta.1") is False
    assert fast_satisfies("2.0.0-next.7", "^2.0.0-next.10") is False  # numbers by value
    assert fast_satisfies("1.2.0-beta.12", "1.2.0-beta.12") is True
    assert fast_satisfies("1.0.0-beta.2", "^1.0.0-beta.1 || ^2") is None  # node-semver decides
    assert fast_satisfies("1.0.0-beta.2+b", "^1.0.0-beta.1") is None


pre_identifiers = st.lists(
    st.sampled_from(["0", "1", "2", "10", "alpha", "beta", "rc", "x-y", "a1", "1a", "-"]),
    min_size=1,
    max_size=3,
).map(".".join)
pre_triples = st.sampled_from(["1.0.0", "1.0.1", "0.0.1", "0.2.0", "2.3.4"])
pre_operators = st.sampled_from(["", "=", "^", "~", ">=", ">", "<", "<=", "^ ", ">= ", "v", "~v"])


@given(
    st.sampled_from(["", "", "v"]),
    pre_triples,
    pre_identifiers,
    pre_operators,
    pre_triples,
    pre_identifiers,
)
@settings(max_examples=600, deadline=None)
def test_prereleases_against_one_prerelease_comparator(
    v: str, triple: str, ids: str, op: str, their_triple: str, their_ids: str
) -> None:
    """Decided here, without node-semver, and as node-semver decides."""
    version, spec = f"{v}{triple}-{ids}", f"{op}{their_triple}-{their_ids}"
    got = fast_satisfies(version, spec)
    assert got is not None, (version, spec)
    assert got is _node_semver(version, spec), (version, spec)


def _npm_semver() -> Path | None:
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        return None
    root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, timeout=60)
    path = Path(root.stdout.strip()) / "npm" / "node_modules" / "semver"
    return path if path.is_dir() else None


prereleases = st.builds(lambda v, p: v + p, releases, pre)


@pytest.mark.npm
@given(st.lists(st.tuples(st.one_of(releases, prereleases), fast_specs), min_size=60, max_size=60))
@settings(max_examples=10, deadline=None)
def test_fast_shapes_agree_with_npms_own_semver(cases: list[tuple[str, str]]) -> None:
    _agree_with_npm(cases)


one_prerelease_comparator = st.builds(
    lambda t, i, op, u, j: (f"{t}-{i}", f"{op}{u}-{j}"),
    pre_triples,
    pre_identifiers,
    pre_operators,
    pre_triples,
    pre_identifiers,
)


@pytest.mark.npm
@given(st.lists(one_prerelease_comparator, min_size=60, max_size=60))
@settings(max_examples=10, deadline=None)
def test_prerelease_comparators_agree_with_npms_own_semver(cases: list[tuple[str, str]]) -> None:
    _agree_with_npm(cases)


def _agree_with_npm(cases: list[tuple[str, str]]) -> None:
    """What is decided here (not None) is what npm's own semver answers."""
    semver = _npm_semver()
    if semver is None:
        pytest.skip("node and npm's bundled semver are needed")
    script = (
        "const s=require(process.argv[1]);"
        "const c=JSON.parse(require('fs').readFileSync(0,'utf8'));"
        "console.log(JSON.stringify(c.map(([v,r])=>s.satisfies(v,r,{loose:true}))))"
    )
    node = shutil.which("node")
    assert node
    out = subprocess.run(
        [node, "-e", script, str(semver)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    expected = json.loads(out.stdout)
    got = [fast_satisfies(v, r) for v, r in cases]
    expected = [e if g is not None else None for g, e in zip(got, expected, strict=True)]
    assert got == expected, [c for c, g, e in zip(cases, got, expected, strict=True) if g != e]
