"""Problems of shared and repeated placements: deduped (one copy several dependents share)
and duplicate-versions (a name installed at several versions, with every path to each)."""

from __future__ import annotations

from collections.abc import Iterable

from depaudit.models import Dependency, DependencyTree, Importer, Package, ProblemKind, TreeProblem
from depaudit.tree.walk import installed_edges, parent_info
from depaudit.versions import order_key

#: paths kept per placement when listing every path that pulls a package in
MAX_PATHS = 20
#: dependents named in the detail of a deduped problem
MAX_DEPENDENTS = 10


def deduped(tree: DependencyTree) -> list[TreeProblem]:
    """One problem per placement that several dependents share, naming the others."""
    dependents: dict[str, list[tuple[Importer | Package, Dependency]]] = {}
    at = tree.at
    for parent, dep in installed_edges(tree):
        target = dep.target
        if target is None:
            continue
        users = dependents.get(target)
        if users is not None:
            users.append((parent, dep))
        elif at(target) is not None:  # a placement (not a workspace or a link)
            dependents[target] = [(parent, dep)]
    problems = []
    for location, users in dependents.items():
        # one entry per dependent (the last edge of each wins); paths are spelled out only
        # for the placements that are shared, so a deep chain costs no path per edge
        if len(users) < 2:
            continue
        # keyed as the label names the dependent (name@version, or the importer)
        distinct: dict[tuple[str, str | None], tuple[Importer | Package, Dependency]] = {}
        for parent, dep in users:
            who = (
                (parent.name, parent.version)
                if isinstance(parent, Package)
                else ("", parent.location)
            )
            distinct[who] = (parent, dep)
        if len(distinct) < 2:
            continue
        pkg = tree.at(location)
        assert pkg is not None
        entries = []
        for parent, dep in distinct.values():
            label, prefix = parent_info(parent)
            entries.append(((*prefix, dep.name), label, dep.spec))
        others = sorted(e for e in entries if e[0] != pkg.path)
        if len(others) == len(distinct):
            others = others[1:]
        shown = [
            f"{' > '.join(path)}" + (f" ({spec})" if spec else "")
            for path, _, spec in others[:MAX_DEPENDENTS]
        ]
        if len(others) > MAX_DEPENDENTS:
            shown.append(f"and {len(others) - MAX_DEPENDENTS} more")
        problems.append(
            TreeProblem(
                ProblemKind.DEDUPED,
                pkg.name,
                pkg.version,
                pkg.path,
                found=pkg.version,
                detail=f"one copy shared by {len(distinct)} dependents; also required as "
                + ", ".join(shown),
            )
        )
    return problems


def all_paths(
    tree: DependencyTree, locations: Iterable[str] | None = None
) -> dict[str, tuple[list[tuple[str, ...]], int]]:
    """Paths from the root (or a workspace) to each placement in ``locations`` (every
    placement when ``None``): one per installed edge into it, the dependent's own shortest
    path (:attr:`Package.path`) followed by the edge, shortest first; the first
    :data:`MAX_PATHS` of them and the count of the rest. An edge from a dependent that the
    placement is itself on the way to (a cycle) is not a path; placements no edge from a
    reached dependent enters keep their own :attr:`Package.path`.

    Linear in the edges: no path is extended step by step, each is one dependent's path plus
    one name (npm ls shows a shared placement the same way: once under each dependent)."""
    wanted = set(locations) if locations is not None else {p.location for p in tree.packages}
    found: dict[str, set[tuple[str, ...]]] = {}
    for parent, dep in installed_edges(tree):
        target = dep.target
        if target is None or target not in wanted:
            continue
        pkg = tree.at(target)
        if pkg is None:
            continue
        if isinstance(parent, Package):
            if not parent.path:
                continue  # the dependent itself is not reached from an importer
            if pkg.path and parent.path[: len(pkg.path)] == pkg.path:
                continue  # the placement is on the dependent's own path: a cycle
        found.setdefault(target, set()).add((*parent_info(parent)[1], dep.name))
    out: dict[str, tuple[list[tuple[str, ...]], int]] = {}
    for location in wanted:
        pkg = tree.at(location)
        if pkg is None:
            continue
        paths = found.get(location)
        if not paths:
            if pkg.path:
                out[location] = ([pkg.path], 0)
            continue
        ordered = sorted(paths, key=lambda x: (len(x), x))
        out[location] = (ordered[:MAX_PATHS], max(0, len(ordered) - MAX_PATHS))
    return out


def duplicate_versions(tree: DependencyTree) -> list[TreeProblem]:
    """One problem per name installed at several versions, naming every version and up to
    :data:`MAX_PATHS` paths to each (with the count of the rest)."""
    names = [n for n in sorted(tree.names()) if len({p.version for p in tree.placements(n)}) > 1]
    if not names:
        return []
    paths = all_paths(tree, (p.location for n in names for p in tree.placements(n)))
    problems = []
    for name in names:
        placements = tree.placements(name)
        versions = sorted({p.version for p in placements}, key=order_key)
        first = min(placements, key=lambda p: (p.dev, len(p.path), p.path))
        parts = []
        for v in versions:
            where: set[tuple[str, ...]] = set()
            more = 0
            for p in tree.placements(name, v):
                kept, rest = paths.get(p.location, ([p.path], 0))
                where.update(kept)
                more += rest
            ordered = sorted(where, key=lambda x: (len(x), x))
            more += max(0, len(ordered) - MAX_PATHS)
            text = ", ".join(" > ".join(path) for path in ordered[:MAX_PATHS])
            if more:
                text += f" and {more} more"
            parts.append(f"{v} at {text}")
        problems.append(
            TreeProblem(
                kind=ProblemKind.DUPLICATE_VERSIONS,
                name=name,
                version=None,
                path=first.path,
                found=", ".join(versions),
                detail=f"{len(versions)} versions: " + "; ".join(parts),
            )
        )
    return problems
