"""tree.edges: missing, invalid, peers (overrides applied) and extraneous placements."""

from __future__ import annotations

from dataclasses import replace

from small_trees import make_tree, pkg, problem_kinds

from conftest import ASSETS
from depaudit.models import Dependency, DepType, Importer, ProblemKind, SkippedPackage
from depaudit.overrides import parse_npm_overrides
from depaudit.sources.package_lock import PackageLockSource
from depaudit.tree import find_problems
from depaudit.tree.edges import edge_problems


def test_missing_invalid_and_what_is_not_a_problem() -> None:
    a = pkg(
        "a",
        "1.0.0",
        ("a",),
        Dependency("b", "^2.0.0", DepType.PROD, "node_modules/b"),
        Dependency("opt", "^1", DepType.OPTIONAL, None),  # optional and absent: fine
        Dependency("devonly", "^1", DepType.DEV, None),  # a package's dev deps: not installed
        Dependency("gone", "^1", DepType.PROD, None),
        Dependency("local", "file:../x", DepType.PROD, "node_modules/local"),
    )
    b = pkg("b", "1.5.0", ("b",))
    root = Importer("root", "1.0.0", "", (Dependency("a", "^1.0.0", DepType.PROD, a.location),))
    skipped = (SkippedPackage("local", "file:../x", "file:", location="node_modules/local"),)
    problems = {(p.kind, p.path): p for p in find_problems(make_tree([a, b], [root], skipped))}
    assert set(problems) == {
        (ProblemKind.INVALID, ("a", "b")),
        (ProblemKind.MISSING, ("a", "gone")),
    }
    invalid = problems[(ProblemKind.INVALID, ("a", "b"))]
    assert (invalid.wanted, invalid.found) == ("^2.0.0", "1.5.0")
    assert "a@1.0.0" in invalid.detail


def test_peers_missing_invalid_and_optional() -> None:
    lib = pkg(
        "lib",
        "1.0.0",
        ("lib",),
        Dependency("react", "^18", DepType.PEER, None),
        Dependency("vue", "^3", DepType.PEER_OPTIONAL, None),  # absent optional peer: fine
        Dependency("svelte", "^4", DepType.PEER_OPTIONAL, "node_modules/svelte"),
        Dependency("preact", "^10", DepType.PEER, "node_modules/preact"),
    )
    svelte = pkg("svelte", "3.0.0", ("svelte",))
    preact = pkg("preact", "10.1.0", ("preact",))
    root = Importer(
        "root",
        "1.0.0",
        "",
        (
            Dependency("lib", "1.0.0", DepType.PROD, lib.location),
            Dependency("svelte", "3", DepType.PROD, svelte.location),
            Dependency("preact", "10", DepType.PROD, preact.location),
        ),
    )
    kinds = problem_kinds(make_tree([lib, svelte, preact], [root]))
    assert (ProblemKind.PEER_MISSING, ("lib", "react")) in kinds
    assert (ProblemKind.PEER_INVALID, ("lib", "svelte")) in kinds
    assert not {
        k for k in kinds if k[1][-1] in ("vue", "preact") and k[0] is not ProblemKind.DEDUPED
    }


def test_an_extraneous_lockfile_entry_is_an_extraneous_problem() -> None:
    """issue 16.6: `"extraneous": true` in package-lock is listed, as npm ls
    --package-lock-only lists it, not only scored."""
    lock = ASSETS / "package_lock" / "flags.v3.json"
    problems = find_problems(PackageLockSource().load(lock))
    assert [(p.name, p.version, p.path) for p in problems if p.kind.value == "extraneous"] == [
        ("stray", "0.1.0", ("stray",))
    ]


def test_an_override_changes_the_range_an_edge_must_satisfy() -> None:
    ms = pkg("ms", "2.1.3", ("debug", "ms"))
    debug = pkg("debug", "2.6.9", ("debug",), Dependency("ms", "2.0.0", DepType.PROD, ms.location))
    root = Importer("root", "1.0.0", "", (Dependency("debug", "2", DepType.PROD, debug.location),))
    bare = make_tree([ms, debug], [root])
    [invalid] = edge_problems(bare)
    assert (invalid.kind, invalid.path, invalid.wanted) == (
        ProblemKind.INVALID,
        ("debug", "ms"),
        "2.0.0",
    )
    rules, problems = parse_npm_overrides({"overrides": {"debug": {"ms": "2.1.3"}}})
    assert not problems
    assert edge_problems(replace(bare, overrides=rules)) == []
    wrong, _ = parse_npm_overrides({"overrides": {"ms": "2.1.2"}})
    [still] = edge_problems(replace(bare, overrides=wrong))
    assert still.wanted == "2.1.2" and '(overridden to "2.1.2")' in still.detail


def test_an_edge_to_a_skipped_entry_or_a_workspace_is_no_problem() -> None:
    root = Importer(
        "root",
        "1.0.0",
        "",
        (
            Dependency("local", "^9", DepType.PROD, "node_modules/local"),
            Dependency("ws", "^9", DepType.PROD, "packages/ws"),
        ),
    )
    ws = Importer("ws", "1.0.0", "packages/ws")
    skipped = (SkippedPackage("local", "file:../x", "file:", location="node_modules/local"),)
    assert edge_problems(make_tree([], [root, ws], skipped)) == []
