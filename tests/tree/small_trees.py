"""Small trees built by hand for the tests of the tree stage (tests/tree/)."""

from __future__ import annotations

from pathlib import Path

from depaudit.models import (
    Dependency,
    DependencyTree,
    Importer,
    Package,
    ProblemKind,
    SkippedPackage,
    SourceInfo,
    TreeProblem,
)
from depaudit.sources.package_lock import PackageLockSource
from depaudit.tree import find_problems


def make_tree(
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


def pkg(name: str, version: str, path: tuple[str, ...], *deps: Dependency) -> Package:
    return Package(
        name, version, "node_modules/" + "/node_modules/".join(path), path, dependencies=deps
    )


def problem_kinds(tree: DependencyTree) -> set[tuple[ProblemKind, tuple[str, ...]]]:
    return {(p.kind, p.path) for p in find_problems(tree)}


def lock_problems(folder: Path) -> list[TreeProblem]:
    return find_problems(PackageLockSource().load(folder / "package-lock.json"))
