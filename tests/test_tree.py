"""tree.find_problems: the same problems for every source, computed from the edges."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ASSETS
from depaudit.models import (
    Dependency,
    DependencyTree,
    DepType,
    Importer,
    Package,
    ProblemKind,
    SkippedPackage,
    SourceInfo,
    TreeProblem,
)
from depaudit.sources.package_lock import PackageLockSource
from depaudit.tree import MAX_DEPENDENTS, MAX_PATHS, find_problems, range_of, satisfies

PROJECTS = ASSETS / "projects"


@pytest.mark.parametrize(
    ("version", "spec", "expected"),
    [
        ("2.1.3", "^2.0.0", True),
        ("5.0.0", "^7.0.0", False),
        ("15.7.0", "^16.8.0 || ^17.0.0 || ^18.0.0", False),
        ("18.3.1", "^16.8.0 || ^17.0.0 || ^18.0.0", True),
        ("1.0.0-beta.1", "*", True),  # arborist: '*' takes anything
        ("1.0.0-beta.1", "^1.0.0", False),
        ("2.0.0", "npm:real-pkg@^2.0.0", True),
        ("3.0.0", "npm:@scope/real@^2.0.0", False),
        ("3.0.0", "npm:real-pkg", True),
        ("1.0.0", "latest", None),  # a dist-tag is not a range
        ("1.0.0", "file:../x", None),
        ("1.0.0", "link:../x", None),
        ("1.0.0", "git+https://example.invalid/x.git#v1", None),
        ("1.0.0", "github:user/repo", None),
        ("1.0.0", "user/repo", None),
        ("1.0.0", "https://example.invalid/x.tgz", None),
        ("1.0.0", "workspace:*", None),
        ("1.0.0", "", None),
        ("1.2.3", "1.2", True),
        ("1.2.3", ">= 1.2.0 < 2", True),
    ],
)
def test_satisfies_with_npm_semantics(version: str, spec: str, expected: bool | None) -> None:
    assert satisfies(version, spec) is expected


def test_range_of_alias() -> None:
    assert range_of("npm:@babel/code-frame@^7.0.0") == "^7.0.0"


def _tree(
    packages: list[Package],
    importers: list[Importer],
    skipped: tuple[SkippedPackage, ...] = (),
    reported: tuple[TreeProblem, ...] = (),
) -> DependencyTree:
    return DependencyTree(
        source=SourceInfo("test", "t"),
        root_name="root",
        root_version="1.0.0",
        packages=tuple(packages),
        importers=tuple(importers),
        skipped=skipped,
        reported_problems=reported,
    )


def _pkg(name: str, version: str, path: tuple[str, ...], *deps: Dependency) -> Package:
    return Package(
        name, version, "node_modules/" + "/node_modules/".join(path), path, dependencies=deps
    )


def _kinds(tree: DependencyTree) -> set[tuple[ProblemKind, tuple[str, ...]]]:
    return {(p.kind, p.path) for p in find_problems(tree)}


def test_missing_invalid_and_what_is_not_a_problem() -> None:
    a = _pkg(
        "a",
        "1.0.0",
        ("a",),
        Dependency("b", "^2.0.0", DepType.PROD, "node_modules/b"),
        Dependency("opt", "^1", DepType.OPTIONAL, None),  # optional and absent: fine
        Dependency("devonly", "^1", DepType.DEV, None),  # a package's dev deps: not installed
        Dependency("gone", "^1", DepType.PROD, None),
        Dependency("local", "file:../x", DepType.PROD, "node_modules/local"),
    )
    b = _pkg("b", "1.5.0", ("b",))
    root = Importer("root", "1.0.0", "", (Dependency("a", "^1.0.0", DepType.PROD, a.location),))
    skipped = (SkippedPackage("local", "file:../x", "file:", location="node_modules/local"),)
    problems = {(p.kind, p.path): p for p in find_problems(_tree([a, b], [root], skipped))}
    assert set(problems) == {
        (ProblemKind.INVALID, ("a", "b")),
        (ProblemKind.MISSING, ("a", "gone")),
    }
    invalid = problems[(ProblemKind.INVALID, ("a", "b"))]
    assert (invalid.wanted, invalid.found) == ("^2.0.0", "1.5.0")
    assert "a@1.0.0" in invalid.detail


def test_peers_missing_invalid_and_optional() -> None:
    lib = _pkg(
        "lib",
        "1.0.0",
        ("lib",),
        Dependency("react", "^18", DepType.PEER, None),
        Dependency("vue", "^3", DepType.PEER_OPTIONAL, None),  # absent optional peer: fine
        Dependency("svelte", "^4", DepType.PEER_OPTIONAL, "node_modules/svelte"),
        Dependency("preact", "^10", DepType.PEER, "node_modules/preact"),
    )
    svelte = _pkg("svelte", "3.0.0", ("svelte",))
    preact = _pkg("preact", "10.1.0", ("preact",))
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
    kinds = _kinds(_tree([lib, svelte, preact], [root]))
    assert (ProblemKind.PEER_MISSING, ("lib", "react")) in kinds
    assert (ProblemKind.PEER_INVALID, ("lib", "svelte")) in kinds
    assert not {
        k for k in kinds if k[1][-1] in ("vue", "preact") and k[0] is not ProblemKind.DEDUPED
    }


def test_peer_problem_supersedes_the_plain_one_a_source_reported() -> None:
    lib = _pkg("lib", "1.0.0", ("lib",), Dependency("react", "^18", DepType.PEER, None))
    root = Importer("root", "1.0.0", "", (Dependency("lib", "1", DepType.PROD, lib.location),))
    reported = (TreeProblem(ProblemKind.MISSING, "react", None, ("lib", "react"), wanted="^18"),)
    assert _kinds(_tree([lib], [root], reported=reported)) == {
        (ProblemKind.PEER_MISSING, ("lib", "react"))
    }


def test_deduped_names_every_other_dependent_and_is_capped() -> None:
    ms = _pkg("ms", "2.1.3", ("ms",))
    users = [
        _pkg(f"u{i:02}", "1.0.0", (f"u{i:02}",), Dependency("ms", "^2", DepType.PROD, ms.location))
        for i in range(MAX_DEPENDENTS + 3)
    ]
    root = Importer(
        "root",
        "1.0.0",
        "",
        (
            Dependency("ms", "^2.1.0", DepType.PROD, ms.location),
            *(Dependency(u.name, "1", DepType.PROD, u.location) for u in users),
        ),
    )
    [dedup] = [
        p for p in find_problems(_tree([ms, *users], [root])) if p.kind is ProblemKind.DEDUPED
    ]
    assert dedup.path == ("ms",)
    assert f"shared by {MAX_DEPENDENTS + 4} dependents" in dedup.detail
    assert "u00 > ms (^2)" in dedup.detail
    assert "and 3 more" in dedup.detail


def test_duplicate_versions_lists_every_path() -> None:
    old = _pkg("debug", "2.6.9", ("express", "debug"))
    express = _pkg(
        "express", "4.0.0", ("express",), Dependency("debug", "2", DepType.PROD, old.location)
    )
    send = _pkg("send", "1.0.0", ("send",), Dependency("debug", "2", DepType.PROD, old.location))
    new = _pkg("debug", "4.4.3", ("debug",))
    root = Importer(
        "root",
        "1.0.0",
        "",
        tuple(Dependency(p.name, "*", DepType.PROD, p.location) for p in (express, send, new)),
    )
    [dup] = [
        p
        for p in find_problems(_tree([old, express, send, new], [root]))
        if p.kind is ProblemKind.DUPLICATE_VERSIONS
    ]
    assert dup.found == "2.6.9, 4.4.3"
    assert dup.detail == "2 versions: 2.6.9 at express > debug, send > debug; 4.4.3 at debug"


def test_duplicate_versions_shows_one_path_per_dependent_up_to_the_cap() -> None:
    old = _pkg("debug", "2.6.9", ("u00", "debug"))
    users = [
        _pkg(
            f"u{i:02}", "1.0.0", (f"u{i:02}",), Dependency("debug", "2", DepType.PROD, old.location)
        )
        for i in range(MAX_PATHS + 5)
    ]
    new = _pkg("debug", "4.4.3", ("debug",))
    root = Importer(
        "root",
        "1.0.0",
        "",
        tuple(Dependency(p.name, "*", DepType.PROD, p.location) for p in (*users, new)),
    )
    [dup] = [
        p
        for p in find_problems(_tree([old, *users, new], [root]))
        if p.kind is ProblemKind.DUPLICATE_VERSIONS
    ]
    shown = dup.detail.split("; ")[0]
    assert shown.startswith("2 versions: 2.6.9 at u00 > debug, u01 > debug")
    assert f"u{MAX_PATHS - 1:02} > debug and 5 more" in shown
    assert f"u{MAX_PATHS:02} > debug" not in shown


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
    assert (ProblemKind.DUPLICATE_VERSIONS, ("b",)) in _kinds(_tree([a, b, b2], [root]))


# -- lockfile-only mode, on the real projects ------------------------------------------------


def _lock_problems(folder: Path) -> list[TreeProblem]:
    return find_problems(PackageLockSource().load(folder / "package-lock.json"))


def test_lockfile_only_broken_project_shows_drift() -> None:
    problems = _lock_problems(PROJECTS / "broken")
    drift = [p for p in problems if p.kind is ProblemKind.LOCKED_NOT_DECLARED]
    assert [(p.name, p.version, p.path) for p in drift] == [
        ("picocolors", "1.1.1", ("picocolors",))
    ]


def test_lockfile_only_peers() -> None:
    [missing] = _lock_problems(PROJECTS / "peer-missing")
    assert (missing.kind, missing.path) == (
        ProblemKind.PEER_MISSING,
        ("use-sync-external-store", "react"),
    )
    [invalid] = [
        p for p in _lock_problems(PROJECTS / "peer-invalid") if p.kind is ProblemKind.PEER_INVALID
    ]
    assert (invalid.found, invalid.wanted) == ("15.7.0", "^16.8.0 || ^17.0.0 || ^18.0.0")


def test_drift_per_workspace(tmp_path: Path) -> None:
    project = tmp_path / "ws"
    shutil.copytree(PROJECTS / "workspace", project)
    manifest = project / "packages" / "ws-a" / "package.json"
    data = json.loads(manifest.read_text())
    data["dependencies"] = {"ms": "^3.0.0", "left-pad": "^1.3.0"}  # picocolors dropped
    manifest.write_text(json.dumps(data))
    root = json.loads((project / "package.json").read_text())
    root["dependencies"]["kleur"] = "^4.0.0"
    (project / "package.json").write_text(json.dumps(root))
    problems = {
        (p.kind, p.path, p.wanted, p.found)
        for p in _lock_problems(project)
        if p.kind.value.startswith(("declared", "locked"))
    }
    assert problems == {
        (ProblemKind.DECLARED_NOT_LOCKED, ("kleur",), "^4.0.0", None),
        (ProblemKind.DECLARED_NOT_LOCKED, ("ws-a", "left-pad"), "^1.3.0", None),
        (ProblemKind.LOCKED_NOT_DECLARED, ("ws-a", "picocolors"), None, "1.1.1"),
        (ProblemKind.LOCKED_OUT_OF_RANGE, ("ws-a", "ms"), "^3.0.0", "2.1.3"),
    }


def test_pnpm_auto_installed_peers_are_not_drift(tmp_path: Path) -> None:
    """Real pnpm 11 (autoInstallPeers): ws-a's peer ms is locked as a dependency of ws-a."""
    from depaudit.sources import source_for

    project = tmp_path / "p"
    shutil.copytree(ASSETS / "projects-pm" / "pnpm11", project)
    lock = project / "pnpm-lock.yaml"
    assert find_problems(source_for(lock).load(lock)) == [
        p for p in find_problems(source_for(lock).load(lock)) if p.kind.value == "deduped"
    ]
    # a real drift: the hint names pnpm, not npm
    manifest = project / "packages" / "ws-a" / "package.json"
    data = json.loads(manifest.read_text())
    del data["dependencies"]
    manifest.write_text(json.dumps(data))
    drifts = [p for p in find_problems(source_for(lock).load(lock)) if p.kind.value != "deduped"]
    assert [(p.kind.value, p.name) for p in drifts] == [("locked-not-declared", "debug")]
    assert drifts[0].detail.endswith("(run pnpm install)")


def test_an_extraneous_lockfile_entry_is_an_extraneous_problem() -> None:
    """issue 16.6: `"extraneous": true` in package-lock is listed, as npm ls
    --package-lock-only lists it, not only scored."""
    lock = ASSETS / "package_lock" / "flags.v3.json"
    problems = find_problems(PackageLockSource().load(lock))
    assert [(p.name, p.version, p.path) for p in problems if p.kind.value == "extraneous"] == [
        ("stray", "0.1.0", ("stray",))
    ]


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
