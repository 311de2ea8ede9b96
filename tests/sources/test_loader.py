"""sources/loader.py: the hand-off of package.json <-> lockfile drift between the input and
the tree stage. Drift is reported exactly once: by the combined read (npm ls + lockfile),
which says so in ``DependencyTree.drift_reported``, or else by the tree stage."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import ASSETS
from depaudit.models import Dependency, DependencyTree, DepType, TreeProblem
from depaudit.sources import source_for
from depaudit.sources.loader import combine
from depaudit.sources.npm_ls import NpmLsSource
from depaudit.sources.package_lock import PackageLockSource
from depaudit.tree import drift, find_problems

PROJECTS = ASSETS / "projects"
DRIFT = ("declared-not-locked", "locked-not-declared", "locked-out-of-range")


def _drift_reports(tree: DependencyTree) -> Counter[tuple[str, str, tuple[str, ...]]]:
    """Every drift problem as reported by the source and by the tree stage, counted: a
    count of 2 is drift reported twice."""
    both: list[TreeProblem] = [*tree.reported_problems, *drift(tree)]
    return Counter((p.kind.value, p.name, p.path) for p in both if p.kind.value in DRIFT)


def _combined(folder: Path) -> tuple[DependencyTree, DependencyTree]:
    installed = NpmLsSource().load(folder / "npm-ls-long.json")
    locked = PackageLockSource().load(folder / "package-lock.json")
    return combine(installed, locked), locked


def test_combined_read_reports_the_lockfiles_drift_once_and_says_so() -> None:
    both, locked = _combined(PROJECTS / "broken")
    assert both.drift_reported is not None
    assert both.drift_reported.by == locked.source.path
    assert both.drift_reported.importers == ("",)
    reports = _drift_reports(both)
    assert reports == {("locked-not-declared", "picocolors", ("picocolors",)): 1}
    assert [p for p in find_problems(both) if p.kind.value in DRIFT] == drift(locked)


def test_combined_read_keeps_declared_and_the_tree_stage_does_not_compare_again() -> None:
    """The hand-off is the flag, not blanked data: an installed tree whose importers carry
    their own declared ranges keeps them, and the tree stage still adds no drift for the
    importers the lockfile compared (it would: ``left-pad`` is declared, not installed)."""
    folder = PROJECTS / "workspace"
    installed = NpmLsSource().load(folder / "npm-ls-long.json")
    extra = Dependency("left-pad", "^1.3.0", DepType.PROD)
    installed = replace(
        installed,
        importers=tuple(replace(i, declared=(*i.dependencies, extra)) for i in installed.importers),
    )
    assert drift(installed), "without the hand-off the tree stage would report drift"
    both = combine(installed, PackageLockSource().load(folder / "package-lock.json"))
    assert all(i.declared is not None and extra in i.declared for i in both.importers)
    assert both.drift_reported is not None
    assert set(both.drift_reported.importers) == {i.location for i in both.importers}
    assert drift(both) == []
    assert all(count == 1 for count in _drift_reports(both).values())


def test_an_importer_the_lockfile_did_not_compare_is_still_compared() -> None:
    both, _ = _combined(PROJECTS / "broken")
    extra = Dependency("left-pad", "^1.3.0", DepType.PROD)
    root = both.importers[0]
    other = replace(root, name="tool", location="tools/x", dependencies=(), declared=(extra,))
    tree = replace(both, importers=(*both.importers, other))
    assert [(p.kind.value, p.path) for p in drift(tree)] == [
        ("declared-not-locked", ("tool", "left-pad"))
    ]


@pytest.mark.parametrize("project", ["npm", "yarn1", "yarn4", "pnpm9", "pnpm11"])
def test_a_lockfile_leaves_drift_to_the_tree_stage_which_reports_it_once(
    tmp_path: Path, project: str
) -> None:
    folder = tmp_path / project
    shutil.copytree(ASSETS / "projects-pm" / project, folder)
    manifest = json.loads((folder / "package.json").read_text())
    manifest.setdefault("dependencies", {})["depaudit-not-locked"] = "^1.0.0"
    (folder / "package.json").write_text(json.dumps(manifest))
    (lockfile,) = (
        p
        for p in folder.iterdir()
        if p.name in ("package-lock.json", "yarn.lock", "pnpm-lock.yaml")
    )
    tree = source_for(lockfile).load(lockfile)
    assert tree.drift_reported is None
    reports = _drift_reports(tree)
    assert reports[("declared-not-locked", "depaudit-not-locked", ("depaudit-not-locked",))] == 1
    assert all(count == 1 for count in reports.values())
    assert not [p for p in tree.reported_problems if p.kind.value in DRIFT]
