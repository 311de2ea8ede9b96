"""Tree problems, the same for every source: ``find_problems(tree)``.

What a source reports itself (npm ls does; lockfiles do not) is kept; the rest is computed from
the edges (:attr:`Package.dependencies`, :attr:`Importer.dependencies`) with npm's semantics:

* missing: a required edge that resolves to nothing (optional ones are not problems);
* invalid: the placement an edge resolves to does not satisfy its range;
* peer-missing / peer-invalid: the same for ``peerDependencies`` (an optional peer is a
  problem only when it is present at a wrong version);
* deduped: a placement that more than one dependent shares (npm's JSON has no marker);
* duplicate-versions: a name installed at several versions, with every path;
* drift between each importer's package.json and the lockfile (declared but not locked,
  locked but no longer declared, locked version outside the declared range).

Ranges are checked with node-semver in loose mode, as npm's arborist does; specs that are
not ranges (git, file:, link:, URLs, dist-tags such as ``latest``) are not checked.

The phases, one module each: ``satisfies`` (is a spec a range, does a version satisfy it),
``walk`` (the installed edges, how a dependent is named, ancestor chains), ``edges`` (missing,
invalid, peers, extraneous), ``sharing`` (deduped, duplicate versions, every path) and
``lock_drift`` (package.json against the lockfile); this module combines their problems.
"""

from __future__ import annotations

from depaudit.models import DependencyTree, ProblemKind, TreeProblem
from depaudit.tree.edges import edge_problems, extraneous
from depaudit.tree.lock_drift import drift, install_command
from depaudit.tree.satisfies import MAX_RANGE_LENGTH, range_of, satisfies
from depaudit.tree.sharing import (
    MAX_DEPENDENTS,
    MAX_PATHS,
    all_paths,
    deduped,
    duplicate_versions,
)

_SUPERSEDES = {
    ProblemKind.PEER_MISSING: ProblemKind.MISSING,
    ProblemKind.PEER_INVALID: ProblemKind.INVALID,
}


def find_problems(tree: DependencyTree) -> list[TreeProblem]:
    problems = list(tree.reported_problems)
    problems.extend(extraneous(tree))
    problems.extend(edge_problems(tree))
    problems.extend(deduped(tree))
    problems.extend(duplicate_versions(tree))
    problems.extend(drift(tree))
    unique: dict[tuple[ProblemKind, str, tuple[str, ...]], TreeProblem] = {}
    for p in problems:
        unique.setdefault((p.kind, p.name, p.path), p)
    for (kind, name, path), _ in list(unique.items()):
        weaker = _SUPERSEDES.get(kind)
        if weaker is not None:
            unique.pop((weaker, name, path), None)
    return sorted(unique.values(), key=TreeProblem.sort_key)


__all__ = [
    "MAX_DEPENDENTS",
    "MAX_PATHS",
    "MAX_RANGE_LENGTH",
    "all_paths",
    "deduped",
    "drift",
    "duplicate_versions",
    "edge_problems",
    "extraneous",
    "find_problems",
    "install_command",
    "range_of",
    "satisfies",
]
