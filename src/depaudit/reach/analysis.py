"""Which placements of a tree the production process loads, from its entry points.

With ``node_modules`` installed, the import graph is followed file by file from the entry
points (:mod:`.entries`) with Node's resolution (:mod:`.resolve`): a placement whose files are
reached through module-scope loads only is ``loaded``; through a load inside a function, a
guard or a ``try`` somewhere on every chain, ``lazy``. Without ``node_modules``, the app's own
files decide which direct dependencies load and the lockfile's edges carry that on.

A placement nothing loads is ``not-loaded`` only with a reason found in the evidence (dev only,
types only, not installed, only reached through a package that never requires it, not imported
by the app); a computed ``require()`` in the package that would load it, or no entry point at
all, makes it ``unknown``.

Why this module is over ~400 lines: it is the one phase that turns the import graph into a
status per placement; the walk, the lazy/loaded meet and the reasons for not-loaded read the
same state and would only be split by size.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field

from depaudit.js.specifiers import split_package
from depaudit.models import DependencyTree, DepType, Importer, Package, PlacementRuntime, Runtime
from depaudit.reach.entries import Discovery, discover
from depaudit.reach.imports import FactCache
from depaudit.reach.resolve import IMPORT_CONDITIONS, REQUIRE_CONDITIONS, Resolver
from depaudit.slots import dataclass

_NM = os.sep + "node_modules" + os.sep
_MAX_CHAIN = 12
_NO_PACKAGE = Package(name="", version="", location="")


@dataclass(frozen=True, slots=True)
class Reachability:
    """The runtime status of every placement (by location) and how it was found."""

    placements: Mapping[str, PlacementRuntime]
    entries: tuple[str, ...] = ()  # "server.js (package.json main)"
    notes: tuple[str, ...] = ()
    files: int = 0  # files reached
    parsed: int = 0  # files parsed (not in the fact cache)
    installed: bool = False
    loaded_files: tuple[str, ...] = field(default=(), repr=False)  # real paths, loaded|lazy

    def of(self, location: str) -> PlacementRuntime | None:
        return self.placements.get(location)


def _inside(location: str) -> bool:
    """Is a lockfile's relative folder inside the project (no ``..``, not absolute)?"""
    if not location or os.path.isabs(location) or location.startswith(("/", "\\")):
        return not location
    return ".." not in location.replace("\\", "/").split("/")


def _outer_node_modules(location: str) -> str | None:
    """The outermost ``node_modules`` folder of a lockfile location (``a/node_modules`` of
    ``a/node_modules/b/node_modules/c``), or None where no path segment is ``node_modules``."""
    if location.startswith("node_modules/"):
        return "node_modules"
    at = 0
    while True:
        at = location.find("node_modules", at)
        if at < 0:
            return None
        end = at + len("node_modules")
        if (at == 0 or location[at - 1] in "/\\") and location[end : end + 1] in ("/", "\\", ""):
            return location[:end]
        at = end


def package_dir(path: str) -> str | None:
    """The package folder of a file inside node_modules (``…/node_modules/@s/n``), else None."""
    index = path.rfind(_NM)
    if index < 0:
        return None
    start = index + len(_NM)
    parts = path[start:].split(os.sep)
    if not parts or not parts[0]:
        return None
    count = 2 if parts[0].startswith("@") else 1
    if len(parts) <= count:  # the path is the folder itself
        return path
    return path[:start] + os.sep.join(parts[:count])


@dataclass
class _Walk:
    status: dict[str, Runtime] = field(default_factory=dict)
    parent: dict[str, str | None] = field(default_factory=dict)
    #: computed requires: file -> first line
    computed: dict[str, int] = field(default_factory=dict)
    #: bare specifiers the app's own files could not resolve: (file, package name, status)
    unresolved: list[tuple[str, str, Runtime]] = field(default_factory=list)


class Analyser:
    def __init__(
        self,
        tree: DependencyTree,
        root: str,
        entries: Sequence[str] = (),
        cache: FactCache | None = None,
    ) -> None:
        self.tree = tree
        self.root = os.path.realpath(root)
        self.given = tuple(entries)
        self.cache = cache if cache is not None else FactCache()
        self.resolver = Resolver(typescript_under=(self.root,))
        self.installed = os.path.isdir(os.path.join(self.root, "node_modules"))
        # a lockfile names folders: only those inside the project are ever read
        self.importers = sorted(
            (i for i in tree.importers if not i.is_root and _inside(i.location)),
            key=lambda i: -len(i.location),
        )
        self.root_importer = next((i for i in tree.importers if i.is_root), None)

    # -- the walk -----------------------------------------------------------------------------

    def _walk(self, discovery: Discovery) -> _Walk:
        walk = _Walk()
        loaded: deque[str] = deque()
        later: list[tuple[str, str]] = []  # (file, from) reached through a lazy load
        for entry in discovery.entries:
            path = entry.path
            if path is None and entry.specifier is not None and entry.folder is not None:
                found = self.resolver.resolve(entry.specifier, entry.folder, REQUIRE_CONDITIONS)
                path = found.path if found is not None else None
            if path is not None and path not in walk.status:
                walk.status[path] = Runtime.LOADED
                walk.parent[path] = None
                loaded.append(path)

        def visit(
            path: str, status: Runtime, queue: deque[str], lazy_out: list[tuple[str, str]]
        ) -> None:
            folder = os.path.dirname(path)
            app = _NM not in path
            for fact in self.cache.facts(path):
                if fact.specifier is None:
                    walk.computed.setdefault(path, fact.line)
                    continue
                conditions = REQUIRE_CONDITIONS if fact.kind == "require" else IMPORT_CONDITIONS
                found = self.resolver.resolve(fact.specifier, folder, conditions)
                edge = Runtime.LAZY if fact.lazy or status is Runtime.LAZY else Runtime.LOADED
                if found is None:
                    if app and split_package(fact.specifier) is not None:
                        name = split_package(fact.specifier)
                        assert name is not None
                        walk.unresolved.append((path, name[0], edge))
                    continue
                if found.builtin or found.path is None:
                    continue
                target = found.path
                if edge is Runtime.LAZY and status is Runtime.LOADED:
                    lazy_out.append((target, path))
                    continue
                if target not in walk.status:
                    walk.status[target] = edge
                    walk.parent[target] = path
                    queue.append(target)

        lazy_queue: deque[str] = deque()
        while loaded:
            visit(loaded.popleft(), Runtime.LOADED, loaded, later)
        for target, source in later:
            if target not in walk.status:
                walk.status[target] = Runtime.LAZY
                walk.parent[target] = source
                lazy_queue.append(target)
        while lazy_queue:
            visit(lazy_queue.popleft(), Runtime.LAZY, lazy_queue, later)
        return walk

    # -- files -> placements ------------------------------------------------------------------

    def _dir_index(self) -> dict[str, list[str]]:
        """Real package folder -> placement locations, for node_modules-shaped locations."""
        index: dict[str, list[str]] = {}
        isdir = self.resolver.isdir
        # no folder inside a node_modules folder that is not there (a lockfile scan of a
        # project never installed: one stat per node_modules folder, not one per placement)
        there: dict[str, bool] = {}
        for pkg in self.tree.packages:
            location = pkg.location
            if "node_modules" not in location:
                continue
            outer = _outer_node_modules(location)
            if outer is not None:
                ok = there.get(outer)
                if ok is None:
                    ok = there[outer] = _inside(outer) and isdir(os.path.join(self.root, outer))
                if not ok:
                    continue
            if not _inside(location):
                continue
            folder = os.path.join(self.root, location)
            if isdir(folder):
                index.setdefault(self.resolver.realpath(folder), []).append(pkg.location)
        return index

    def _locations_of(self, folder: str, index: dict[str, list[str]]) -> list[str]:
        known = index.get(folder)
        if known is not None:
            return known
        manifest = self.resolver.manifest(folder) or {}
        name, version = manifest.get("name"), manifest.get("version")
        if not isinstance(name, str) or not isinstance(version, str):
            return []
        found = [p.location for p in self.tree.placements(name, version)]
        index[folder] = found
        return found

    def _importer_of(self, path: str) -> Importer | None:
        rel = os.path.relpath(path, self.root)
        for importer in self.importers:
            if rel == importer.location or rel.startswith(importer.location + os.sep):
                return importer
        return self.root_importer

    def _display(self, path: str) -> str:
        folder = package_dir(path)
        if folder is None:
            return os.path.relpath(path, self.root)
        manifest = self.resolver.manifest(folder) or {}
        name = manifest.get("name")
        base = name if isinstance(name, str) else os.path.basename(folder)
        return f"{base}/{os.path.relpath(path, folder)}"

    def _chain(self, path: str, walk: _Walk) -> tuple[str, ...]:
        files: list[str] = []
        node: str | None = path
        while node is not None and len(files) < 200:
            files.append(node)
            node = walk.parent.get(node)
        files.reverse()
        shown: list[str] = []
        last_pkg: str | None = None
        for file in files:
            folder = package_dir(file)
            if folder is not None and folder == last_pkg:
                continue
            last_pkg = folder
            shown.append(self._display(file))
        if len(shown) > _MAX_CHAIN:
            shown = [*shown[:2], "…", *shown[-(_MAX_CHAIN - 3) :]]
        return tuple(shown)

    # -- the whole analysis -------------------------------------------------------------------

    def run(self) -> Reachability:
        discovery = discover(
            self.root, [i.location for i in self.importers], self.given, self.resolver
        )
        walk = self._walk(discovery)
        result: dict[str, PlacementRuntime] = {}
        chains: dict[str, tuple[str, ...]] = {}
        # reached package folders: best status and the first file reached
        first: dict[str, str] = {}
        best: dict[str, Runtime] = {}
        app_files: list[str] = []
        for path, status in walk.status.items():
            folder = package_dir(path)
            if folder is None:
                app_files.append(path)
                continue
            if folder not in best or (best[folder] is Runtime.LAZY and status is Runtime.LOADED):
                best[folder] = status
                first[folder] = path
        index = self._dir_index()
        for folder, status in best.items():
            for location in self._locations_of(folder, index):
                old = result.get(location)
                if old is None or (old.status is Runtime.LAZY and status is Runtime.LOADED):
                    chain = chains.get(first[folder]) or self._chain(first[folder], walk)
                    chains[first[folder]] = chain
                    how = "module-scope loads" if status is Runtime.LOADED else "a lazy load"
                    result[location] = PlacementRuntime(status, f"reached through {how}", chain)
        # computed requires: by package folder (None: the app's own files)
        computed: dict[str | None, str] = {}
        for path, line in walk.computed.items():
            folder = package_dir(path)
            computed.setdefault(folder, f"{self._display(path)}:{line}")
        computed_by_location: dict[str, str] = {}
        for folder, where in computed.items():
            if folder is not None:
                for location in self._locations_of(folder, index):
                    computed_by_location.setdefault(location, where)
        if not self.installed:
            self._carry_lockfile(walk, result)
        reached_importers = {i.location for i in self._reached_importers(app_files)}
        if discovery.entries:
            reached_importers.add("")  # the root is the project the entries start
        on_disk = {loc for locs in index.values() for loc in locs} if self.installed else None
        self._unreached(
            result,
            bool(discovery.entries),
            computed_by_location,
            computed.get(None),
            reached_importers,
            on_disk,
            index,
        )
        entries = tuple(
            f"{os.path.relpath(e.path, self.root) if e.path else e.specifier} ({e.why})"
            for e in discovery.entries
        )
        return Reachability(
            placements=result,
            entries=entries,
            notes=discovery.notes,
            files=len(walk.status),
            parsed=self.cache.parsed,
            installed=self.installed,
            loaded_files=tuple(sorted(walk.status)),
        )

    def _reached_importers(self, app_files: Iterable[str]) -> list[Importer]:
        found: dict[str, Importer] = {}
        for path in app_files:
            importer = self._importer_of(path)
            if importer is not None:
                found[importer.location] = importer
        return list(found.values())

    def _carry_lockfile(self, walk: _Walk, result: dict[str, PlacementRuntime]) -> None:
        """No node_modules: the app's bare imports pick direct dependencies (by the importer's
        edges); the lockfile's edges carry their status on."""
        queue: deque[str] = deque()
        for path, name, status in sorted(walk.unresolved, key=lambda u: u[2] is not Runtime.LOADED):
            importer = self._importer_of(path)
            if importer is None:
                continue
            edges = {d.name: d for d in (importer.declared or ()) + importer.dependencies}
            edge = edges.get(name)
            if edge is None or edge.target is None:
                continue
            old = result.get(edge.target)
            if old is not None and (old.status is Runtime.LOADED or status is Runtime.LAZY):
                continue
            chain = (*self._chain(path, walk), name)
            how = "module-scope import" if status is Runtime.LOADED else "a lazy import"
            result[edge.target] = PlacementRuntime(
                status, f"imported by the app ({how}); node_modules not installed", chain
            )
            queue.append(edge.target)
        for loaded_first in (True, False):
            pending = deque(
                loc for loc in queue if (result[loc].status is Runtime.LOADED) == loaded_first
            )
            while pending:
                location = pending.popleft()
                here = result[location]
                pkg = self.tree.at(location)
                if pkg is None:
                    continue
                for dep in pkg.dependencies:
                    if dep.target is None or dep.type is DepType.DEV:
                        continue
                    old = result.get(dep.target)
                    if old is not None and (
                        old.status is Runtime.LOADED or here.status is Runtime.LAZY
                    ):
                        continue
                    result[dep.target] = PlacementRuntime(
                        here.status,
                        "carried by the lockfile's edges (node_modules not installed)",
                        (*here.chain, dep.name)[-_MAX_CHAIN:],
                    )
                    pending.append(dep.target)

    def _unreached(
        self,
        result: dict[str, PlacementRuntime],
        have_entries: bool,
        computed: Mapping[str, str],
        app_computed: str | None,
        reached_importers: set[str],
        on_disk: set[str] | None,
        index: dict[str, list[str]],
    ) -> None:
        # the first unreached step from something reached, over the lockfile's edges: from
        # loaded packages first (breadth first), then from the importers, their dev edges last
        gate: dict[str, tuple[str, str]] = {}  # location -> (gate location, via)

        def spread(seeds: Iterable[tuple[str | None, str]]) -> None:
            ordered: deque[str] = deque()
            for location, via in seeds:
                if location is None or location in result or location in gate:
                    continue
                gate[location] = (location, via)
                ordered.append(location)
            while ordered:
                location = ordered.popleft()
                pkg = self.tree.at(location)
                for dep in pkg.dependencies if pkg is not None else ():
                    if dep.target is None or dep.target in result or dep.target in gate:
                        continue
                    gate[dep.target] = gate[location]
                    ordered.append(dep.target)

        if have_entries:  # (without entries, no reason below reads the gates)
            spread(
                (dep.target, location)
                for location, status in list(result.items())
                if status.status.runs
                for dep in (self.tree.at(location) or _NO_PACKAGE).dependencies
            )
            importer_edges = [
                (importer, dep)
                for importer in self.tree.importers
                for dep in importer.dependencies + (importer.declared or ())
            ]
            for dev in (False, True):
                spread(
                    (dep.target, f"importer:{importer.location}")
                    for importer, dep in importer_edges
                    if (dep.type is DepType.DEV) == dev
                )
        for pkg in self.tree.packages:
            if pkg.location in result:
                continue
            result[pkg.location] = self._reason(
                pkg, have_entries, computed, app_computed, reached_importers, on_disk, gate
            )

    def _reason(
        self,
        pkg: Package,
        have_entries: bool,
        computed: Mapping[str, str],
        app_computed: str | None,
        reached_importers: set[str],
        on_disk: set[str] | None,
        gate: Mapping[str, tuple[str, str]],
    ) -> PlacementRuntime:
        if pkg.name.startswith("@types/"):
            return PlacementRuntime(Runtime.NOT_LOADED, "types only (no runtime code)")
        if pkg.dev:
            return PlacementRuntime(Runtime.NOT_LOADED, "dev only (not installed in production)")
        if on_disk is not None and "node_modules" in pkg.location and pkg.location not in on_disk:
            return PlacementRuntime(Runtime.NOT_LOADED, "not installed in node_modules")
        if not have_entries:
            return PlacementRuntime(
                Runtime.UNKNOWN, "no entry point found (give --entry FILE or entry = [...])"
            )
        found = gate.get(pkg.location)
        if found is None:
            return PlacementRuntime(
                Runtime.NOT_LOADED,
                "not reached from the app's dependencies (nothing depends on it)",
            )
        gate_location, via = found
        gate_pkg = self.tree.at(gate_location)
        gate_name = gate_pkg.name if gate_pkg is not None else gate_location
        through = "" if gate_location == pkg.location else f"only reached through {gate_name}: "
        if via.startswith("importer:"):
            importer = via.removeprefix("importer:")
            label = f"workspace {importer}" if importer else "the app"
            if importer not in reached_importers:
                return PlacementRuntime(Runtime.UNKNOWN, f"{through}no entry point reaches {label}")
            if app_computed is not None:
                return PlacementRuntime(
                    Runtime.UNKNOWN,
                    f"{through}{label} requires a computed path ({app_computed})",
                )
            return PlacementRuntime(Runtime.NOT_LOADED, f"{through}not imported by {label}")
        parent = self.tree.at(via)
        parent_name = parent.name if parent is not None else "its parent"
        if via in computed:
            return PlacementRuntime(
                Runtime.UNKNOWN,
                f"{through}{parent_name} requires a computed path ({computed[via]})",
            )
        if gate_location == pkg.location:
            return PlacementRuntime(
                Runtime.NOT_LOADED, f"{parent_name} never requires it (install-time or unused)"
            )
        return PlacementRuntime(
            Runtime.NOT_LOADED,
            f"only reached through {gate_name}, which {parent_name} never requires",
        )


def locations_of_files(
    tree: DependencyTree, root: str | os.PathLike[str], files: Iterable[str]
) -> set[str]:
    """The placements (locations) the given files belong to (files inside node_modules only;
    real paths or not): what a recording of a running process says was loaded."""
    analyser = Analyser(tree, os.fspath(root))
    index = analyser._dir_index()
    found: set[str] = set()
    for path in files:
        folder = package_dir(analyser.resolver.realpath(path))
        if folder is not None:
            found.update(analyser._locations_of(folder, index))
    return found


def analyse(
    tree: DependencyTree,
    root: str | os.PathLike[str],
    entries: Sequence[str] = (),
    cache: FactCache | None = None,
) -> Reachability:
    """The runtime status of every placement of ``tree``, whose project folder is ``root``."""
    return Analyser(tree, os.fspath(root), entries, cache).run()
