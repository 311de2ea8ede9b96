"""npm ``overrides``: an overridden edge is checked against the override, as npm does.

The fixture ``tests/assets/projects/overrides`` was made with npm 11 (``npm install`` and
``npm ls --all --long --json``): ``{"ms": "2.1.3", "express": {"qs": "$qs"}}`` with the root
depending on qs 6.11.0. ``npm ls --all`` prints ``ms@2.1.3 overridden`` and no problem.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ASSETS
from depaudit.models import ProblemKind
from depaudit.overrides import (
    Override,
    override_for,
    parse_npm_overrides,
    parse_pnpm_overrides,
    parse_yarn_resolutions,
)
from depaudit.sources.loader import combine
from depaudit.sources.npm_ls import NpmLsSource
from depaudit.sources.package_lock import PackageLockSource
from depaudit.sources.pnpm_lock import PnpmLockSource
from depaudit.sources.yarn_lock import YarnLockSource
from depaudit.tree import find_problems

PROJECT = ASSETS / "projects" / "overrides"


def _problems(tree):
    return {
        (p.kind, p.name, p.path) for p in find_problems(tree) if p.kind is not ProblemKind.DEDUPED
    }


def test_parse_rules_nested_keys_and_references() -> None:
    manifest = {
        "dependencies": {"qs": "6.11.0"},
        "overrides": {
            "ms": "2.1.3",
            "@scope/pkg@^1": "1.2.0",
            "express": {".": "4.21.2", "qs": "$qs", "send": {"ms": "2.0.0"}},
            "bad": 3,
            "missing-ref": "$nope",
        },
    }
    rules, problems = parse_npm_overrides(manifest)
    assert set(rules) == {
        Override((), "ms", "*", "2.1.3"),
        Override((), "@scope/pkg", "^1", "1.2.0"),
        Override((), "express", "*", "4.21.2"),
        Override((("express", "*"),), "qs", "*", "6.11.0"),
        Override((("express", "*"), ("send", "*")), "ms", "*", "2.0.0"),
    }
    assert len(problems) == 2 and any("$nope" in p for p in problems)


def test_the_deepest_matching_rule_wins_and_key_ranges_must_intersect() -> None:
    rules, _ = parse_npm_overrides(
        {"overrides": {"ms": "2.1.3", "send": {"ms": "2.0.0"}, "qs@^6.5.0": "6.11.0"}}
    )
    assert (
        override_for(rules, [("express", "4.17.1"), ("send", "0.17.1")], "ms", "2.1.1") == "2.0.0"
    )
    assert override_for(rules, [("debug", "2.6.9")], "ms", "2.0.0") == "2.1.3"
    assert override_for(rules, [("express", "4.17.1")], "qs", "6.7.0") == "6.11.0"
    assert override_for(rules, [("request", "2.88.2")], "qs", "~6.5.2") == "6.11.0"
    assert override_for(rules, [("old", "1.0.0")], "qs", "^2.0.0") is None  # no intersection
    assert override_for(rules, [], "debug", "2.6.9") is None
    assert override_for(rules, [("a", "1.0.0")], "qs", "npm:~6.5.2") == "6.11.0"  # yarn berry


@pytest.mark.parametrize("view", ["package-lock", "npm-ls-long", "combined"])
def test_overridden_packages_are_not_invalid(view: str) -> None:
    lock = PackageLockSource().load(PROJECT / "package-lock.json")
    long = NpmLsSource().load(PROJECT / "npm-ls-long.json")
    tree = {"package-lock": lock, "npm-ls-long": long, "combined": combine(long, lock)}[view]
    assert tree.overrides, "the rules come from package.json, or from npm ls --long's root"
    # without the rules, debug > ms (wants 2.0.0) and express > qs (wants 6.7.0) are invalid
    bare = {(p.kind, p.name) for p in find_problems(replace(tree, overrides=()))}
    assert (ProblemKind.INVALID, "ms") in bare and (ProblemKind.INVALID, "qs") in bare
    assert _problems(tree) == set()  # npm ls --all reports nothing either


def test_a_version_outside_the_override_is_still_invalid(tmp_path: Path) -> None:
    for name in ("package.json", "package-lock.json"):
        shutil.copy(PROJECT / name, tmp_path / name)
    manifest = json.loads((tmp_path / "package.json").read_text())
    manifest["overrides"]["ms"] = "2.1.2"  # the lockfile still has 2.1.3
    (tmp_path / "package.json").write_text(json.dumps(manifest))
    tree = PackageLockSource().load(tmp_path / "package-lock.json")
    invalid = [p for p in find_problems(tree) if p.kind is ProblemKind.INVALID and p.name == "ms"]
    assert invalid and all(p.wanted == "2.1.2" for p in invalid)
    assert 'overridden to "2.1.2"' in invalid[0].detail


names = st.sampled_from(["ms", "qs", "debug", "express", "@s/p"])
leaf = st.sampled_from(["2.1.3", "^6.0.0", "$qs", "", "npm:other@1", "*"])
tree_values = st.recursive(
    leaf | st.integers() | st.none(),
    lambda inner: st.dictionaries(names | st.sampled_from([".", "ms@^2", "x@"]), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(
    tree_values, st.lists(st.tuples(names, st.sampled_from(["1.0.0", "2.1.3", None])), max_size=4)
)
def test_any_overrides_value_parses_or_warns(value: object, ancestors: list) -> None:
    rules, problems = parse_npm_overrides({"dependencies": {"qs": "6.11.0"}, "overrides": value})
    assert all(isinstance(p, str) for p in problems)
    for name in ("ms", "qs", "@s/p"):
        result = override_for(rules, ancestors, name, "^2.0.0")
        assert result is None or isinstance(result, str)


def _npm_semver() -> Path | None:
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        return None
    semver = Path(npm).resolve().parent.parent / "node_modules" / "semver"
    return semver if (semver / "package.json").is_file() else None


@pytest.mark.npm
@pytest.mark.skipif(_npm_semver() is None, reason="npm's own semver is not installed")
def test_range_intersection_agrees_with_npms_semver_intersects() -> None:
    """Override keys match an edge when the ranges intersect, as npm's semver.intersects
    decides; Python's node-semver has no intersects, so depaudit compares bounds itself."""
    import random
    import subprocess

    from depaudit.overrides import _intersects

    rng = random.Random(20261127)
    versions = [f"{a}.{b}.{c}" for a in range(4) for b in range(3) for c in range(3)]

    def one() -> str:
        kind = rng.randrange(7)
        v = rng.choice(versions)
        if kind == 0:
            return v
        if kind == 1:
            return f"^{v}"
        if kind == 2:
            return f"~{v}"
        if kind == 3:
            return f"{rng.choice(['>', '>=', '<', '<='])}{v}"
        if kind == 4:
            w = rng.choice(versions)
            return f">={min(v, w)} <{max(v, w)}"
        if kind == 5:
            return f"{v.split('.')[0]}.x"
        return f"{one()} || {one()}"

    pairs = [(one(), one()) for _ in range(400)] + [("*", "^1.0.0"), (">1.2.2", "<1.2.3")]
    script = (
        f"const s = require({json.dumps(str(_npm_semver()))});"
        "const pairs = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(pairs.map(([a, b]) => s.intersects(a, b))));"
    )
    out = subprocess.run(
        ["node", "-e", script], input=json.dumps(pairs), capture_output=True, text=True, check=True
    ).stdout
    npm = json.loads(out)
    mismatches = [(a, b, n) for (a, b), n in zip(pairs, npm, strict=True) if _intersects(a, b) != n]
    assert mismatches == []


PM = ASSETS / "projects-pm"


def test_yarn_resolutions_parse_with_parents_and_globstars() -> None:
    rules, problems = parse_yarn_resolutions(
        {
            "resolutions": {
                "ms": "2.1.3",
                "**/debug": "npm:4.3.4",
                "express/qs": "6.11.0",
                "a/**/@s/b": "1.0.0",
                "c@^1": "1.2.0",
                "bad": 1,
            }
        }
    )
    assert set(rules) == {
        Override((), "ms", "*", "2.1.3"),
        Override((), "debug", "*", "4.3.4"),
        Override((("express", "*"),), "qs", "*", "6.11.0", child_of=True),
        Override((("a", "*"),), "@s/b", "*", "1.0.0"),
        Override((), "c", "^1", "1.2.0"),
    }
    assert len(problems) == 1
    express_qs = [r for r in rules if r.child_of]
    # express/qs: express's own edge, not one of a package below it
    assert override_for(express_qs, [("express", "4.17.1")], "qs", "6.7.0") == "6.11.0"
    assert (
        override_for(express_qs, [("express", "4.17.1"), ("body-parser", "1.19.0")], "qs", "6.7.0")
        is None
    )


def test_yarn_classic_resolutions_real_lockfile() -> None:
    """yarn 1 applied `ms` (one entry for ms@2.0.0, ms@2.1.1, ms@2.1.3) but not
    `express/qs`: express still gets qs 6.7.0 (node_modules/qs was 6.7.0 after the install),
    so that edge, and only that one, breaks its resolution."""
    tree = YarnLockSource().load(PM / "resolutions-yarn" / "yarn.lock")
    problems = {
        (p.kind, p.path, p.wanted)
        for p in find_problems(tree)
        if p.kind is not ProblemKind.DEDUPED and p.kind is not ProblemKind.DUPLICATE_VERSIONS
    }
    assert problems == {(ProblemKind.INVALID, ("express", "qs"), "6.11.0")}


def test_yarn_berry_resolutions_follow_what_yarn_installs() -> None:
    """yarn 4 keeps express's own `qs: npm:6.7.0` in the lock and installs 6.11.0 under
    express (node_modules/express/node_modules/qs was 6.11.0): the edge must lead there."""
    tree = YarnLockSource().load(PM / "resolutions-berry" / "yarn.lock")
    qs = {p.version: p.path for p in tree.packages if p.name == "qs"}
    assert qs == {"6.11.0": ("express", "qs"), "6.7.0": ("express", "body-parser", "qs")}
    assert [
        p for p in find_problems(tree) if p.kind in (ProblemKind.INVALID, ProblemKind.MISSING)
    ] == []


def test_pnpm_overrides_of_a_direct_dependency_are_not_drift() -> None:
    """pnpm 9 with `"pnpm": {"overrides": {"debug": "4.3.4"}}` and the root asking for debug
    2.6.9: the lockfile records the override and locks 4.3.4, which pnpm considers up to
    date; it was reported as locked-out-of-range."""
    tree = PnpmLockSource().load(PM / "overrides-pnpm" / "pnpm-lock.yaml")
    assert tree.overrides == (Override((), "debug", "*", "4.3.4"),)
    assert [p for p in find_problems(tree) if p.kind is ProblemKind.LOCKED_OUT_OF_RANGE] == []
    bare = replace(tree, overrides=())
    drift = [p for p in find_problems(bare) if p.kind is ProblemKind.LOCKED_OUT_OF_RANGE]
    assert [(p.name, p.wanted, p.found) for p in drift] == [("debug", "2.6.9", "4.3.4")]


def test_pnpm_override_keys() -> None:
    rules, problems = parse_pnpm_overrides(
        {
            "foo": "1.0.0",
            "foo@^1": "1.2.0",
            "bar@1>foo": "2.0.0",
            "baz>qux@<2": "2.0.0",
            "gone": "-",
            "x": 3,
        }
    )
    assert set(rules) == {
        Override((), "foo", "*", "1.0.0"),
        Override((), "foo", "^1", "1.2.0"),
        Override((("bar", "1"),), "foo", "*", "2.0.0", child_of=True),
        Override((("baz", "*"),), "qux", "<2", "2.0.0", child_of=True),
    }
    assert len(problems) == 1


def test_yarn_resolution_of_a_direct_dependency_is_not_drift() -> None:
    """yarn 1 with `"resolutions": {"debug": "4.3.4"}` and the root asking for debug 2.6.9
    locks `debug@2.6.9, debug@4.3.4: version "4.3.4"`: no invalid edge, no drift."""
    tree = YarnLockSource().load(PM / "resolutions-yarn-direct" / "yarn.lock")
    kinds = (ProblemKind.INVALID, ProblemKind.LOCKED_OUT_OF_RANGE)
    assert [p for p in find_problems(tree) if p.kind in kinds] == []
    bare = replace(tree, overrides=())
    assert {p.kind for p in find_problems(bare) if p.kind in kinds} == set(kinds)
