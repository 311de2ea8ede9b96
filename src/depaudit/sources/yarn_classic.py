"""yarn classic (v1): the parsed lock (:func:`depaudit.sources.yarn_syntax.parse_classic`) to a
tree, in phases: entries grouped by the object their descriptors share, one node per
``name@version``, edges through the descriptor index, then the importers.

Classic entries are keyed by one or more descriptors (``a@^1, a@^1.2``) and hold no
importers: the root and its workspaces come from package.json on disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from depaudit.budget import PATH_DEPTH
from depaudit.errors import InputError
from depaudit.models import Dependency, DependencyTree, DepType, Importer, SourceInfo
from depaudit.sources._lockgraph import Node, build_tree, glob_workspaces
from depaudit.sources._yarn_shared import WHAT, Lookup, descriptor_name, resolutions
from depaudit.sources.manifest import (
    as_mapping,
    declared_edges,
    manifests_in,
    read_manifest,
    workspace_patterns,
)
from depaudit.sources.yarn_syntax import parse_classic

#: an entry (the object its descriptors share) and its descriptors, in the file's order
_Group = tuple[dict[str, Any], list[str]]


def read_classic(path: Path, text: str, max_depth: int = PATH_DEPTH) -> DependencyTree:
    """A classic yarn.lock's text (``path`` for messages and the package.json beside it),
    its paths at most ``max_depth`` names."""
    data = parse_classic(text, path)
    if not data:
        raise InputError(path, "holds no entries", f"expected a {WHAT}")
    nodes, by_descriptor, located = _nodes(path, _groups(path, data))
    for loc, entry in located:
        _add_edges(path, nodes[loc], entry, by_descriptor)

    def lookup(name: str, spec: str) -> str | None:
        return by_descriptor.get(f"{name}@{spec}")

    importers = _importers(path, nodes, lookup)
    overrides, problems = resolutions(path)
    return build_tree(
        source=SourceInfo("yarn-classic", str(path), 1),
        importers=importers,
        nodes=nodes,
        warnings=problems,
        overrides=overrides,
        max_depth=max_depth,
    )


def _groups(path: Path, data: Mapping[str, Any]) -> list[_Group]:
    """A key with several descriptors is stored once per descriptor (the same object)."""
    groups: dict[int, _Group] = {}
    for descriptor, entry in data.items():
        if not isinstance(entry, dict):
            raise InputError(path, f"entry {descriptor!r} has no fields", f"expected a {WHAT}")
        groups.setdefault(id(entry), (entry, []))[1].append(descriptor)
    return list(groups.values())


def _nodes(
    path: Path, groups: list[_Group]
) -> tuple[dict[str, Node], dict[str, str], list[tuple[str, dict[str, Any]]]]:
    """(nodes by location, descriptor -> location, (location, entry) per group)."""
    nodes: dict[str, Node] = {}
    by_descriptor: dict[str, str] = {}
    located: list[tuple[str, dict[str, Any]]] = []
    installed_as_real: set[str] = set()
    for entry, descriptors in groups:
        version = entry.get("version")
        if not isinstance(version, str) or not version:
            raise InputError(path, f"entry {descriptors[0]!r} has no version", f"expected a {WHAT}")
        parsed = [descriptor_name(d) for d in descriptors]
        # an `npm:` descriptor names the real package (resolutions can point `ms@2` at
        # `npm:other@1`: the entry installs `other` under the name `ms`)
        name = next((real for real, _, alias in parsed if alias), parsed[0][0])
        if not name:
            raise InputError(path, f"entry {descriptors[0]!r} has no name", f"expected a {WHAT}")
        loc = f"{name}@{version}"
        installed = [alias or real for real, _, alias in parsed]
        if name in installed:
            installed_as_real.add(loc)
        for descriptor in descriptors:
            by_descriptor[descriptor] = loc
        located.append((loc, entry))
        if loc not in nodes:
            nodes[loc] = _node(loc, name, version, installed, entry)
    for loc in installed_as_real:
        nodes[loc].alias = None
    return nodes, by_descriptor, located


def _node(
    loc: str, name: str, version: str, installed: list[str], entry: Mapping[str, Any]
) -> Node:
    resolved, integrity = entry.get("resolved"), entry.get("integrity")
    return Node(
        loc,
        name,
        version,
        alias=next(n for n in installed if n != name) if name not in installed else None,
        resolved=resolved if isinstance(resolved, str) else None,
        integrity=integrity if isinstance(integrity, str) else None,
    )


def _add_edges(
    path: Path, node: Node, entry: Mapping[str, Any], by_descriptor: Mapping[str, str]
) -> None:
    """The entry's dependencies onto its node; a name already there (an earlier group of
    the same ``name@version``, or the production section) is kept."""
    seen = {e.name for e in node.edges}
    for section, dep_type in (
        ("dependencies", DepType.PROD),
        ("optionalDependencies", DepType.OPTIONAL),
    ):
        deps = as_mapping(entry.get(section), path, f"{node.location} {section}")
        for dep, spec in deps.items():
            if dep in seen or not isinstance(spec, str):
                continue
            seen.add(dep)
            node.edges.append(Dependency(dep, spec, dep_type, by_descriptor.get(f"{dep}@{spec}")))


def _importers(path: Path, nodes: Mapping[str, Node], lookup: Lookup) -> list[Importer]:
    """The root and its workspaces from package.json on disk; without one, the entries no
    other entry depends on are the root's dependencies."""
    folder = path.parent
    manifest = read_manifest(folder / "package.json")
    if manifest is None:
        referenced = {e.target for n in nodes.values() for e in n.edges}
        roots = sorted(loc for loc in nodes if loc not in referenced)
        edges = tuple(
            Dependency(nodes[loc].alias or nodes[loc].name, nodes[loc].version, target=loc)
            for loc in roots
        )
        return [Importer(folder.name or "root", None, "", edges)]
    places = ["", *glob_workspaces(folder, workspace_patterns(manifest))]
    found: list[tuple[str, Path, dict[str, Any]]] = []
    read = manifests_in(folder)
    for place in places:
        mpath = folder / place / "package.json" if place else folder / "package.json"
        data = manifest if not place else read(mpath)
        if data is not None:
            found.append((place, mpath, data))
    # classic locks hold no entries for workspaces: a dependency on one is linked
    workspace_at = {str(d.get("name")): place or "." for place, _, d in found if d.get("name")}
    importers = []
    for place, mpath, data in found:
        declared = tuple(
            Dependency(d.name, d.spec, d.type, lookup(d.name, d.spec) or workspace_at.get(d.name))
            for d in declared_edges(data, mpath)
        )
        importers.append(
            Importer(
                name=str(data.get("name") or (Path(place).name if place else folder.name)),
                version=str(data["version"]) if data.get("version") else None,
                location=place,
                dependencies=tuple(d for d in declared if d.target is not None),
                declared=declared,
                manifest_path=mpath.relative_to(folder).as_posix(),
            )
        )
    return importers
