"""yarn berry (2+): a YAML lockfile with ``__metadata``, read in phases.

1. ``__metadata``: the lockfile format version (yarn 2 wrote 4, yarn 3 up to 6, yarn 4 8 and
   10).
2. Entries (:class:`_Entries`): each entry carries a ``resolution`` (``name@npm:1.2.3``,
   ``name@workspace:path``, ``name@patch:...``, ``name@link:...``, ``name@portal:...``) and
   becomes a lock node, a workspace, or a skipped folder; its key's descriptors (``a@npm:^1,
   a@npm:^1.2``) are indexed to it, with yarn's implicit compat patches and aliases.
3. Resolving (:class:`_Resolver`): a dependency's ``name@spec`` to an entry, through the
   descriptor index, package.json ``resolutions`` (as override rules) and yarn 4 catalogs
   (``.yarnrc.yml``).
4. Edges of every entry, then the workspaces as importers: workspaces are lock entries
   themselves, and dev dependencies are told apart through the workspace's package.json when
   it is there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from depaudit.budget import PATH_DEPTH
from depaudit.errors import InputError
from depaudit.models import (
    Dependency,
    DependencyTree,
    DepType,
    Importer,
    SkippedPackage,
    SourceInfo,
)
from depaudit.overrides import Override, override_for
from depaudit.sources._io import read_text
from depaudit.sources._lockgraph import (
    Node,
    as_str,
    build_tree,
    split_ident,
    with_declared_targets,
)
from depaudit.sources._yarn_shared import (
    WHAT,
    Lookup,
    descriptor_name,
    resolutions,
    types_from,
)
from depaudit.sources.manifest import as_mapping, declared_edges, manifests_in
from depaudit.sources.yaml_loader import load_yaml

#: berry lockfile format versions (yarn 2 wrote 4, yarn 3 up to 6, yarn 4 8 and 10)
SUPPORTED_BERRY_VERSIONS = frozenset(str(v) for v in range(1, 11))


def read_berry(path: Path, text: str, max_depth: int = PATH_DEPTH) -> DependencyTree:
    """A berry yarn.lock's text (``path`` for messages and the files beside it) as a tree,
    its paths at most ``max_depth`` names."""
    data = load_yaml(text, path, what=WHAT)
    if not isinstance(data, dict):
        raise InputError(path, "top level is not a mapping", f"expected a {WHAT}")
    version = _metadata_version(path, data)
    lock = _Entries(path)
    lock.read(data)
    rules, problems = resolutions(path)
    resolver = _Resolver(path, lock, rules)
    for loc, entry in lock.entries:
        node = lock.nodes[loc]
        lookup = resolver.lookup_from(node) if resolver.scoped else resolver.lookup
        node.edges = resolver.unknown_catalogs(berry_edges(path, loc, entry, lookup, {}))
    importers = _workspace_importers(path, lock.workspaces, resolver)
    return build_tree(
        source=SourceInfo("yarn-berry", str(path), version),
        importers=importers,
        nodes=lock.nodes,
        skipped=lock.skipped,
        warnings=[*resolver.warnings(path), *problems],
        overrides=rules,
        max_depth=max_depth,
    )


# --- 1. __metadata -----------------------------------------------------------------------


def _metadata_version(path: Path, data: Mapping[str, Any]) -> str | None:
    meta = as_mapping(data.get("__metadata"), path, "__metadata")
    version = meta.get("version")
    if version is None:
        return None
    if not isinstance(version, str) or version not in SUPPORTED_BERRY_VERSIONS:
        shown = version if isinstance(version, str) else type(version).__name__
        raise InputError(
            path,
            f"__metadata.version {shown[:40]} is not supported (1 to 10 are)",
            "update depaudit, or regenerate the lockfile with yarn 2, 3 or 4",
        )
    return version


# --- 2. entries and the descriptor index -------------------------------------------------


class _Entries:
    """The lock's entries, normalised: nodes (published packages), workspaces, skipped
    link/portal folders, and every descriptor of a key indexed to its entry's target."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.nodes: dict[str, Node] = {}
        self.by_descriptor: dict[str, str] = {}
        self.workspaces: dict[str, tuple[str, Mapping[str, Any]]] = {}  # location -> entry
        self.skipped: list[SkippedPackage] = []
        self.compat: dict[str, str] = {}
        self.elsewhere: set[str] = set()  # workspace locations and skipped link/portal entries
        self.entries: list[tuple[str, Mapping[str, Any]]] = []  # (node location, entry)
        self._non_alias: set[str] = set()

    def read(self, data: Mapping[Any, Any]) -> None:
        for key, entry in data.items():
            if key == "__metadata":
                continue
            if not isinstance(entry, dict):
                raise InputError(self.path, f"entry {key!r} is not a mapping", f"expected a {WHAT}")
            target = self._normalise(key, entry)
            self._index(str(key), target)
        for loc in self._non_alias:
            self.nodes[loc].alias = None

    def _normalise(self, key: Any, entry: Mapping[str, Any]) -> str:
        """The entry as a workspace, a skipped folder or a node; returns its target."""
        resolution = as_str(entry.get("resolution"), self.path, f"{key} resolution")
        name, ref = split_ident(resolution)
        if not name:  # e.g. a file cut off after `resolution:`
            raise InputError(self.path, f"entry {key!r} has no resolution", f"expected a {WHAT}")
        protocol = ref.split(":", 1)[0] if ":" in ref else ""
        if protocol == "workspace":
            place = ref.split(":", 1)[1]
            loc = "" if place in (".", "") else place
            self.workspaces[loc] = (name, entry)
            self.elsewhere.add(loc or ".")
            return loc or "."
        if protocol in ("link", "portal"):
            self.elsewhere.add(resolution)
            self.skipped.append(
                SkippedPackage(
                    name,
                    ref,
                    f"{protocol}: points at a folder, not a published package",
                    location=resolution,
                )
            )
            return resolution
        ver = entry.get("version")
        if not isinstance(ver, str) or not ver:
            raise InputError(self.path, f"entry {key!r} has no version", f"expected a {WHAT}")
        if resolution not in self.nodes:
            checksum = entry.get("checksum")
            self.nodes[resolution] = Node(
                resolution,
                name,
                ver,
                resolved=resolution,
                integrity=checksum if isinstance(checksum, str) else None,
            )
        self.entries.append((resolution, entry))
        return resolution

    def _index(self, key: str, target: str) -> None:
        for descriptor in (d.strip() for d in key.split(",")):
            if not descriptor:
                continue
            self.by_descriptor[descriptor] = target
            if "::" in descriptor:
                self.by_descriptor.setdefault(descriptor.split("::", 1)[0], target)
            dref = split_ident(descriptor)[1]
            if dref.startswith("patch:") and "builtin<compat/" in dref:
                # yarn applies its compat patches implicitly: `fsevents@npm:^2` installs
                # the entry `fsevents@patch:fsevents@npm%3A^2#optional!builtin<...>`
                self.compat[unquote(dref.removeprefix("patch:").split("#", 1)[0])] = target
            if target in self.nodes:
                self._alias(descriptor, target)

    def _alias(self, descriptor: str, target: str) -> None:
        """A node is installed under an alias only when no descriptor names it directly."""
        if descriptor_name(descriptor)[2] is None:
            self._non_alias.add(target)
        elif target not in self._non_alias:
            self.nodes[target].alias = split_ident(descriptor)[0]


# --- 3. resolving a dependency to an entry -----------------------------------------------


class _Resolver:
    def __init__(self, path: Path, lock: _Entries, rules: tuple[Override, ...]) -> None:
        self.lock = lock
        # a resolution without a parent applies where the lock has no entry for the
        # dependent's own descriptor (yarn rewrote it); `parent/child` ones are applied per
        # dependent (lookup_from), because berry keeps the dependent's descriptor in the lock
        self.anywhere = [r for r in rules if not r.within]
        self.scoped = [r for r in rules if r.within and len(r.within) == 1]
        self.catalogs = yarnrc_catalogs(path.parent / ".yarnrc.yml")
        self.by_name: dict[str, list[str]] = {}
        for loc, node in lock.nodes.items():
            self.by_name.setdefault(node.name, []).append(loc)
        self.unresolved_catalog: set[str] = set()

    def _known(self, target: str | None) -> bool:
        return target in self.lock.nodes or target in self.lock.elsewhere

    def find(self, dep: str, spec: str) -> str | None:
        descriptor = f"{dep}@{spec}"
        if ":" not in spec.split("@", 1)[0] and descriptor not in self.lock.by_descriptor:
            descriptor = f"{dep}@npm:{spec}"
        return self.lock.compat.get(descriptor) or self.lock.by_descriptor.get(descriptor)

    def lookup(self, dep: str, spec: str) -> str | None:
        target = self.find(dep, spec)
        if target is None and self.anywhere:  # package.json `resolutions` replaced the range
            override = override_for(self.anywhere, (), dep, spec.removeprefix("npm:"))
            if override is not None:
                target = self.find(dep, override)
        if target is None and spec.startswith("catalog:"):
            target = self._catalog_target(dep, spec)
        return target if self._known(target) else None

    def lookup_from(self, parent: Node) -> Lookup:
        """``express/qs``: express's own `qs: npm:6.7.0` stays in the lock, and yarn
        installs the resolution's version under express."""
        chain = [(parent.name, parent.version)]

        def resolved(dep: str, spec: str) -> str | None:
            override = override_for(self.scoped, chain, dep, spec.removeprefix("npm:"))
            if override is not None:
                target = self.find(dep, override)
                if self._known(target):
                    return target
            return self.lookup(dep, spec)

        return resolved

    def _catalog_target(self, dep: str, spec: str) -> str | None:
        """yarn 4 catalogs live in .yarnrc.yml; without it, a name locked once is it."""
        rng = self.catalogs.get(spec.removeprefix("catalog:") or "default", {}).get(dep)
        if rng is not None:
            return self.find(dep, rng)
        candidates = self.by_name.get(dep, [])
        if len(candidates) == 1:
            return candidates[0]
        self.unresolved_catalog.add(dep)
        return None

    def unknown_catalogs(self, edges: list[Dependency]) -> list[Dependency]:
        """A ``catalog:`` edge that could not be matched is unknown, not missing."""
        return [
            replace(e, unresolved="catalog: range not known without .yarnrc.yml")
            if e.target is None and e.spec.startswith("catalog:") and e.name in self.by_name
            else e
            for e in edges
        ]

    def warnings(self, path: Path) -> list[str]:
        if not self.unresolved_catalog:
            return []
        shown = ", ".join(sorted(self.unresolved_catalog)[:5])
        return [
            f"{path}: {len(self.unresolved_catalog)} catalog: dependencies could not be "
            f"matched to one lock entry without .yarnrc.yml ({shown})"
        ]


def yarnrc_catalogs(rc: Path) -> dict[str, dict[str, str]]:
    """``catalog:`` (the default one) and ``catalogs:`` (named) from .yarnrc.yml."""
    if not rc.is_file():
        return {}
    data = load_yaml(read_text(rc, what=".yarnrc.yml"), rc, what=".yarnrc.yml")
    if not isinstance(data, dict):
        return {}
    out: dict[str, dict[str, str]] = {}
    default = data.get("catalog")
    if isinstance(default, dict):
        out["default"] = {str(k): str(v) for k, v in default.items()}
    named = data.get("catalogs")
    if isinstance(named, dict):
        for name, entries in named.items():
            if isinstance(entries, dict):
                out[str(name)] = {str(k): str(v) for k, v in entries.items()}
    return out


# --- 4. edges and workspaces -------------------------------------------------------------


def berry_edges(
    path: Path,
    where: str,
    entry: Mapping[str, Any],
    lookup: Lookup,
    types: Mapping[str, DepType],
) -> list[Dependency]:
    """The entry's dependencies, sorted by name; ``dependenciesMeta.optional`` and the
    declared ``types`` (a workspace's package.json) refine the section's type."""
    meta = as_mapping(entry.get("dependenciesMeta"), path, f"{where} dependenciesMeta")
    edges: dict[str, Dependency] = {}
    for section, section_type in (
        ("dependencies", DepType.PROD),
        ("optionalDependencies", DepType.OPTIONAL),
    ):
        for dep, spec in as_mapping(entry.get(section), path, f"{where} {section}").items():
            spec_text = as_str(spec, path, f"{where} {section} {dep}")
            dep_meta = meta.get(dep)
            optional = isinstance(dep_meta, dict) and dep_meta.get("optional") == "true"
            dep_type = types.get(dep, section_type)
            if optional and dep_type is DepType.PROD:
                dep_type = DepType.OPTIONAL
            edges[dep] = Dependency(dep, spec_text, dep_type, lookup(dep, spec_text))
    return [edges[k] for k in sorted(edges)]


def _workspace_importers(
    path: Path, workspaces: Mapping[str, tuple[str, Mapping[str, Any]]], resolver: _Resolver
) -> list[Importer]:
    importers = []
    folder = path.parent
    read_manifest = manifests_in(folder)
    for place, (name, entry) in sorted(workspaces.items()):
        mpath = folder / place / "package.json" if place else folder / "package.json"
        manifest = read_manifest(mpath)
        declared = declared_edges(manifest, mpath) if manifest is not None else None
        edges = tuple(
            resolver.unknown_catalogs(
                berry_edges(path, name, entry, resolver.lookup, types_from(declared))
            )
        )
        importers.append(
            Importer(
                name=name,
                version=str(manifest["version"])
                if manifest is not None and manifest.get("version")
                else None,
                location=place,
                dependencies=edges,
                declared=with_declared_targets(declared, edges),
                manifest_path=mpath.relative_to(folder).as_posix() if manifest else None,
            )
        )
    return importers
