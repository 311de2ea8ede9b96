"""Tree problems, the same for every source: ``find_problems(tree)``."""

from __future__ import annotations

from depaudit.models import DependencyTree, ProblemKind, TreeProblem


def duplicate_versions(tree: DependencyTree) -> list[TreeProblem]:
    """One problem per name installed at several versions, naming every version."""
    problems = []
    for name in sorted(tree.names()):
        placements = tree.placements(name)
        versions = sorted({p.version for p in placements})
        if len(versions) < 2:
            continue
        first = min(placements, key=lambda p: (len(p.path), p.path))
        where = "; ".join(
            f"{v} at " + ", ".join(" > ".join(path) for path in tree.paths(name, v))
            for v in versions
        )
        problems.append(
            TreeProblem(
                kind=ProblemKind.DUPLICATE_VERSIONS,
                name=name,
                version=None,
                path=first.path,
                found=", ".join(versions),
                detail=f"{len(versions)} versions: {where}",
            )
        )
    return problems


def find_problems(tree: DependencyTree) -> list[TreeProblem]:
    problems = list(tree.reported_problems)
    problems.extend(duplicate_versions(tree))
    unique = {(p.kind, p.name, p.version, p.path): p for p in problems}
    return sorted(unique.values(), key=TreeProblem.sort_key)
