"""depaudit.tree (tree/__init__.py): find_problems combines the phases; a peer problem supersedes
the plain one, cycles terminate, and the problems of real lockfiles and npm ls output."""

from __future__ import annotations

import json

from small_trees import lock_problems, make_tree, pkg, problem_kinds

from conftest import ASSETS
from depaudit.models import (
    Dependency,
    DepType,
    Importer,
    Package,
    ProblemKind,
    TreeProblem,
)
from depaudit.sources.package_lock import PackageLockSource
from depaudit.tree import find_problems

PROJECTS = ASSETS / "projects"


def test_peer_problem_supersedes_the_plain_one_a_source_reported() -> None:
    lib = pkg("lib", "1.0.0", ("lib",), Dependency("react", "^18", DepType.PEER, None))
    root = Importer("root", "1.0.0", "", (Dependency("lib", "1", DepType.PROD, lib.location),))
    reported = (TreeProblem(ProblemKind.MISSING, "react", None, ("lib", "react"), wanted="^18"),)
    assert problem_kinds(make_tree([lib], [root], reported=reported)) == {
        (ProblemKind.PEER_MISSING, ("lib", "react"))
    }


def test_cycles_terminate() -> None:
    a = Package(
        "a",
        "1.0.0",
        "node_modules/a",
        ("a",),
        dependencies=(Dependency("b", "1", DepType.PROD, "node_modules/b"),),
    )
    b = Package(
        "b",
        "1.0.0",
        "node_modules/b",
        ("b",),
        dependencies=(Dependency("a", "1", DepType.PROD, "node_modules/a"),),
    )
    b2 = Package("b", "2.0.0", "node_modules/x/node_modules/b", ("x", "b"))
    root = Importer("root", "1.0.0", "", (Dependency("a", "1", DepType.PROD, a.location),))
    assert (ProblemKind.DUPLICATE_VERSIONS, ("b",)) in problem_kinds(make_tree([a, b, b2], [root]))


# -- lockfile-only mode, on the real projects ------------------------------------------------


def test_lockfile_only_peers() -> None:
    [missing] = lock_problems(PROJECTS / "peer-missing")
    assert (missing.kind, missing.path) == (
        ProblemKind.PEER_MISSING,
        ("use-sync-external-store", "react"),
    )
    [invalid] = [
        p for p in lock_problems(PROJECTS / "peer-invalid") if p.kind is ProblemKind.PEER_INVALID
    ]
    assert (invalid.found, invalid.wanted) == ("15.7.0", "^16.8.0 || ^17.0.0 || ^18.0.0")


def test_npm_ls_extraneous_is_listed_once() -> None:
    from depaudit.sources.npm_ls import NpmLsSource

    tree = NpmLsSource().load(ASSETS / "projects" / "broken" / "npm-ls-long.json")
    problems = find_problems(tree)
    names = [p.name for p in problems if p.kind.value == "extraneous"]
    assert names and len(names) == len(set(names))


def test_real_npm_shrinkwrap_extraneous_entries_agree_with_npm_ls() -> None:
    """issue 16.6 on a real file: npm 11's `npm shrinkwrap` of an install with a --no-save
    package writes `"extraneous": true`; every extraneous problem npm ls --package-lock-only
    reports from it is reported, at the same place."""
    project = PROJECTS / "extraneous-shrinkwrap"
    lock = project / "npm-shrinkwrap.json"
    saved = json.loads((project / "npm-ls-package-lock-only.json").read_text())
    expected = {line.split()[1] for line in saved["problems"] if line.startswith("extraneous: ")}
    problems = find_problems(PackageLockSource().load(lock))
    found = {f"{p.name}@{p.version}" for p in problems if p.kind.value == "extraneous"}
    assert found == expected == {"is-odd@3.0.1", "is-number@6.0.0"}
    paths = {p.name: p.path for p in problems if p.kind.value == "extraneous"}
    assert paths == {"is-odd": ("is-odd",), "is-number": ("is-odd", "is-number")}
