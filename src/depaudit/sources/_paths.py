"""The path every placement is reported with: one best-first search shared by all readers."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass

from depaudit.models import Dependency, Importer


@dataclass(frozen=True, slots=True)
class Reached:
    """How the search first reached a placement."""

    path: tuple[str, ...]  # names from the root (a workspace's own name first)
    spec: str  # the range the parent on that path asks for
    importer: Importer  # where the path starts


def shortest_paths(
    importers: Iterable[Importer],
    edges_of: Callable[[str], Iterable[Dependency]],
    known: Container[str],
    label: Callable[[Dependency], str],
) -> tuple[dict[str, Reached], set[str]]:
    """Best-first search from the importers over resolved edges.

    Every placement in ``known`` that an importer reaches gets its shortest path, ties broken
    lexicographically by the names along it; the root's edges start at depth 1, a
    workspace's at depth 2. ``label`` names an edge's step in a path. Also returns the
    targets of importer edges (the direct dependencies).
    """
    heap: list[tuple[int, tuple[str, ...], str, str, int]] = []
    starts: list[Importer] = []
    direct: set[str] = set()
    for index, importer in enumerate(importers):
        starts.append(importer)
        base: tuple[str, ...] = () if importer.is_root else (importer.name,)
        for dep in importer.dependencies:
            if dep.target is None or dep.target not in known:
                continue
            direct.add(dep.target)
            path = (*base, label(dep))
            heapq.heappush(heap, (len(path), path, dep.target, dep.spec, index))
    reached: dict[str, Reached] = {}
    while heap:
        _, path, location, spec, index = heapq.heappop(heap)
        if location in reached:
            continue
        reached[location] = Reached(path, spec, starts[index])
        for dep in edges_of(location):
            target = dep.target
            if target is None or target in reached or target not in known:
                continue
            child = (*path, label(dep))
            heapq.heappush(heap, (len(child), child, target, dep.spec, index))
    return reached, direct
