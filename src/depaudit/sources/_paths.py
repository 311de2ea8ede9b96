"""The path every placement is reported with: one best-first search shared by all readers."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator

from depaudit.budget import PATH_DEPTH
from depaudit.models import Dependency, DepType, Importer
from depaudit.slots import dataclass

#: names kept in a path by default (--depth-budget); a deeper placement's path keeps the
#: first :data:`PATH_HEAD` names, one marker naming how many were left out, and the last
#: names (a 10,000-deep chain would otherwise hold 50 million names and write a report of
#: gigabytes)
MAX_PATH_DEPTH = PATH_DEPTH
PATH_HEAD = 8


def elided(count: int) -> str:
    """The marker that stands for ``count`` names left out of the middle of a deep path."""
    return f"... {count} more ..."


@dataclass(frozen=True, slots=True)
class Reached:
    """How the search first reached a placement."""

    path: tuple[str, ...]  # names from the root (a workspace's own name first)
    spec: str  # the range the parent on that path asks for
    importer: Importer  # where the path starts


@dataclass(slots=True)
class _Node:
    """One step of the search tree: parent pointers instead of a copied path per node."""

    parent: _Node | None
    name: str
    depth: int
    head: tuple[str, ...]  # the first PATH_HEAD names of the path
    location: str | None  # None for a workspace's own step
    spec: str
    importer: int

    def path(self, max_depth: int = MAX_PATH_DEPTH) -> tuple[str, ...]:
        if self.depth <= max_depth:
            names: list[str] = []
            node: _Node | None = self
            while node is not None:
                names.append(node.name)
                node = node.parent
            names.reverse()
            return tuple(names)
        tail_len = max_depth - PATH_HEAD - 1
        tail: list[str] = []
        node = self
        while node is not None and len(tail) < tail_len:
            tail.append(node.name)
            node = node.parent
        tail.reverse()
        return (*self.head, elided(self.depth - PATH_HEAD - tail_len), *tail)


def _child(parent: _Node | None, name: str, location: str | None, spec: str, index: int) -> _Node:
    if parent is None:
        return _Node(None, name, 1, (name,), location, spec, index)
    head = parent.head if len(parent.head) >= PATH_HEAD else (*parent.head, name)
    return _Node(parent, name, parent.depth + 1, head, location, spec, index)


def shortest_paths(
    importers: Iterable[Importer],
    edges_of: Callable[[str], Iterable[Dependency]],
    known: Container[str],
    label: Callable[[Dependency], str],
    max_depth: int = MAX_PATH_DEPTH,
) -> tuple[dict[str, Reached], set[str]]:
    """Best-first search from the importers over resolved edges.

    Every placement in ``known`` that an importer reaches gets its shortest production path
    when it has one (no dev edge on it: a package that is both a production and a dev
    dependency is shown where production pulls it in), else its shortest path; ties broken
    lexicographically by the names along it; the root's edges start at depth 1, a
    workspace's at depth 2. ``label`` names an edge's step in a path. Also returns the
    targets of importer edges (the direct dependencies).

    Level by level: the nodes of one depth are kept in path order, so the candidates of the
    next depth sort by (rank of the parent, name), which is the order of their whole paths,
    without comparing or copying paths (linear in the edges, up to the sorting of each level).
    Paths deeper than ``max_depth`` names (the run's depth budget) are elided in the middle.
    """
    starts = list(importers)
    direct: set[str] = set()
    for importer in starts:
        direct.update(
            d.target for d in importer.dependencies if d.target is not None and d.target in known
        )
    reached: dict[str, Reached] = {}
    seen: set[str] = set()
    # production first: a placement any production path reaches is shown on one; then the
    # importers' dev edges reach the rest (only importers' dev edges are followed at all)
    for dev in (False, True):

        def importer_edges(importer: Importer, dev: bool = dev) -> Iterator[Dependency]:
            for d in importer.dependencies:
                if d.target is not None and d.target in known and (d.type is DepType.DEV) == dev:
                    yield d

        def package_edges(location: str, dev: bool = dev) -> Iterable[Dependency]:
            edges = edges_of(location)
            return edges if dev else (d for d in edges if d.type is not DepType.DEV)

        _search(starts, importer_edges, package_edges, known, label, seen, reached, max_depth)
    return reached, direct


def _search(
    starts: list[Importer],
    importer_edges: Callable[[Importer], Iterable[Dependency]],
    edges_of: Callable[[str], Iterable[Dependency]],
    known: Container[str],
    label: Callable[[Dependency], str],
    seen: set[str],
    reached: dict[str, Reached],
    max_depth: int = MAX_PATH_DEPTH,
) -> None:
    """One level-by-level search from the importers' ``importer_edges``; placements in
    ``seen`` (reached by an earlier search) are neither reached again nor followed."""
    # depth 1: the root's edges, and each workspace's own step (its edges come at depth 2)
    level_one: list[tuple[str, str, str, int]] = []  # name, location ("" for a workspace)...
    for index, importer in enumerate(starts):
        if not importer.is_root:
            level_one.append((importer.name, "", "", index))
            continue
        for dep in importer_edges(importer):
            assert dep.target is not None
            level_one.append((label(dep), dep.target, dep.spec, index))
    level: list[_Node] = []
    for name, location, spec, index in sorted(level_one):
        if location:
            if location in seen:
                continue
            seen.add(location)
        level.append(_child(None, name, location or None, spec, index))
    while level:
        candidates: list[tuple[int, str, str, str, int]] = []
        for rank, node in enumerate(level):
            if node.location is None:  # a workspace: its own edges
                edges: Iterable[Dependency] = importer_edges(starts[node.importer])
            else:
                edges = edges_of(node.location)
            for dep in edges:
                target = dep.target
                if target is None or target in seen or target not in known:
                    continue
                candidates.append((rank, label(dep), target, dep.spec, node.importer))
        candidates.sort()
        following: list[_Node] = []
        for rank, name, target, spec, index in candidates:
            if target in seen:
                continue
            seen.add(target)
            following.append(_child(level[rank], name, target, spec, index))
        for node in level:
            if node.location is not None:
                reached[node.location] = Reached(
                    node.path(max_depth), node.spec, starts[node.importer]
                )
        level = following
