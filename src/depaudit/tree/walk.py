"""Walking a tree's edges: every edge npm installs (importers' all, packages' except dev
ones), how a dependent is named in a problem, and the ancestor chain of each placement (what
npm's override sets follow)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from depaudit.models import Dependency, DependencyTree, DepType, Importer, Package


def parent_info(parent: Importer | Package) -> tuple[str, tuple[str, ...]]:
    if isinstance(parent, Importer):
        if parent.is_root:
            return "the root project", ()
        return f"workspace {parent.name}", (parent.name,)
    return f"{parent.name}@{parent.version}", parent.path


def installed_edges(tree: DependencyTree) -> Iterable[tuple[Importer | Package, Dependency]]:
    """Every edge that npm installs: importers' all, packages' except dev ones."""
    for importer in tree.importers:
        for dep in importer.dependencies:
            yield importer, dep
    for pkg in tree.packages:
        for dep in pkg.dependencies:
            if dep.type is not DepType.DEV:
                yield pkg, dep


class Ancestors:
    """For every placement, the (name, version) chain from the root to it along the first
    path a breadth-first walk from the importers finds (what npm's override sets follow).

    Kept as parent pointers (linear in the tree); a chain is spelled out only when asked for,
    which the override check does only for edges to a name some override rule names."""

    def __init__(self, tree: DependencyTree) -> None:
        # location -> (parent location or None, the importer's base chain when it is a start)
        self._up: dict[str, tuple[str | None, tuple[tuple[str, str | None], ...]]] = {}
        self._tree = tree
        queue: deque[tuple[str, str | None, tuple[tuple[str, str | None], ...]]] = deque()
        for importer in sorted(tree.importers, key=lambda i: not i.is_root):
            base: tuple[tuple[str, str | None], ...] = (
                () if importer.is_root else ((importer.name, importer.version),)
            )
            for dep in importer.dependencies:
                if dep.target is not None:
                    queue.append((dep.target, None, base))
        while queue:
            location, parent, base = queue.popleft()
            if location in self._up:
                continue
            pkg = tree.at(location)
            if pkg is None:
                continue
            self._up[location] = (parent, base)
            for dep in pkg.dependencies:
                target = dep.target
                if target is not None and target not in self._up and dep.type is not DepType.DEV:
                    queue.append((target, location, ()))

    def chain(self, location: str) -> tuple[tuple[str, str | None], ...] | None:
        """The chain ending at ``location``; ``None`` when no importer reaches it."""
        if location not in self._up:
            return None
        steps: list[tuple[str, str | None]] = []
        here: str | None = location
        base: tuple[tuple[str, str | None], ...] = ()
        while here is not None:
            pkg = self._tree.at(here)
            assert pkg is not None
            steps.append((pkg.name, pkg.version))
            here, base = self._up[here]
        steps.reverse()
        return (*base, *steps)
