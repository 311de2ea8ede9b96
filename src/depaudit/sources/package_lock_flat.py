"""package-lock v2/v3: the flat ``packages`` map, read in phases.

1. Keys are sorted into the root (``""``), links (``link: true``), placements (inside
   ``node_modules``) and folders (everything else).
2. Folders inside the project are importers; folders outside are skipped unless a link
   stands for them.
3. Placements become packages (or skipped packages, with the reason).
4. Importers: the root first, then the folders by location; links that lead to neither an
   importer nor a placement are skipped.
5. Edges are resolved from every placement and importer, links followed to what they stand
   for; paths are assigned from the importers.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from depaudit.models import Importer, Package, SkippedPackage
from depaudit.sources.npm_common import (
    assign_paths,
    is_in_node_modules,
    is_valid_name,
    looks_like_version,
    manifest_edges,
    name_from_location,
    resolve_edges,
    spec_kind,
)
from depaudit.sources.package_lock_reader import Edges, LockReader, inside_project, with_deps

_FLAGS = ("dev", "optional", "devOptional", "peer", "extraneous", "inBundle")
#: an importer before its edges are resolved: (location, name, version, declared edges)
_ImporterMeta = tuple[str, str, str | None, Edges]


@dataclass
class _Keys:
    root: dict[str, Any] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # link -> target folder (from root)
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    placed: dict[str, dict[str, Any]] = field(default_factory=dict)


def read_flat(
    lock: LockReader, packages: dict[str, Any]
) -> tuple[list[Importer], dict[str, Package]]:
    keys = _sort_keys(lock, packages)
    if lock.root_name is None:
        lock.root_name = lock.string(keys.root, "name", "packages['']")
    if lock.root_version is None:
        lock.root_version = lock.string(keys.root, "version", "packages['']")
    importer_folders = _importer_folders(lock, keys)
    pkgs: dict[str, Package] = {}
    edges_of: dict[str, Edges] = {}
    skipped_locations: set[str] = set()
    for key, entry in keys.placed.items():
        placed = _placement(lock, key, entry)
        if placed is None:
            skipped_locations.add(key)
        else:
            pkgs[key], edges_of[key] = placed
    imp_meta = _importer_meta(lock, keys, importer_folders)
    importer_locs = {loc for loc, *_ in imp_meta}
    skipped_locations |= _skip_dangling_links(lock, keys.links, importer_locs, pkgs)

    present = set(pkgs) | skipped_locations | set(keys.links)

    def follow(loc: str) -> str:
        target = keys.links.get(loc)
        if target is not None and (target in importer_locs or target in pkgs):
            return target
        return loc

    for key, edges in edges_of.items():
        pkgs[key] = with_deps(pkgs[key], resolve_edges(edges, key, present, follow))

    importers: list[Importer] = []
    for loc, name, version, edges in imp_meta:
        deps = resolve_edges(edges, loc, present, follow)
        declared, manifest = lock.declared(loc, present, follow)
        importers.append(Importer(name, version, loc, deps, declared, manifest))
    return importers, assign_paths(importers, pkgs, lock.max_depth)


# --- 1. keys -------------------------------------------------------------------------------


def _sort_keys(lock: LockReader, packages: dict[str, Any]) -> _Keys:
    keys = _Keys()
    for key, entry in packages.items():
        where = f"packages[{key!r}]"
        entry = lock.obj(entry, where)
        if key == "":
            keys.root = entry
        elif lock.flag(entry, "link", where):
            target = lock.string(entry, "resolved", where)
            keys.links[key] = normalize_target(target) if target is not None else ""
        elif is_in_node_modules(key):
            keys.placed[key] = entry
        else:
            keys.folders[key] = entry
    return keys


def normalize_target(target: str) -> str:
    """A link's ``resolved`` as a folder relative to the root (``""`` for the root)."""
    t = target.removeprefix("file:").replace("\\", "/")
    norm = posixpath.normpath(t) if t else ""
    return "" if norm == "." else norm


# --- 2. folders ----------------------------------------------------------------------------


def _importer_folders(lock: LockReader, keys: _Keys) -> dict[str, dict[str, Any]]:
    """In-project folders are importers; outside ones are skipped unless a link already
    stands for them."""
    link_targets = set(keys.links.values())
    importer_folders: dict[str, dict[str, Any]] = {}
    for key, entry in keys.folders.items():
        if inside_project(key):
            importer_folders[key] = entry
        elif key not in link_targets:
            where = f"packages[{key!r}]"
            name = lock.string(entry, "name", where) or posixpath.basename(key) or key
            lock.skipped.append(
                SkippedPackage(name, key, "folder entry outside the project", location=key)
            )
    return importer_folders


# --- 3. placements -------------------------------------------------------------------------


def _placement(lock: LockReader, key: str, entry: dict[str, Any]) -> tuple[Package, Edges] | None:
    """The package at ``key`` and its declared edges, or None when it is skipped."""
    where = f"packages[{key!r}]"
    installed = name_from_location(key) or key
    real = lock.string(entry, "name", where) or installed
    version = lock.string(entry, "version", where)
    resolved = lock.string(entry, "resolved", where)
    integrity = lock.string(entry, "integrity", where)
    deprecated = lock.string(entry, "deprecated", where)
    flags = {f: lock.flag(entry, f, where) for f in _FLAGS}
    edges = manifest_edges(entry, where, lock.path, include_dev=False)
    if not is_valid_name(installed) or not is_valid_name(real):
        lock.skip(real, key, "lock key is not a package location", key)
        return None
    if version is None:
        spec = resolved or ""
        kind = spec_kind(spec) if spec else ""
        reason = "lock entry has no version" + (
            f" ({kind} dependency)" if kind not in ("", "registry") else ""
        )
        lock.skip(real, spec, reason, key)
        return None
    if not looks_like_version(version):
        lock.skip(real, version, f"version {version!r} is not a semver version", key)
        return None
    package = Package(
        name=real,
        version=version,
        location=key,
        dev=flags["dev"],
        optional=flags["optional"] or flags["devOptional"],
        peer=flags["peer"],
        bundled=flags["inBundle"],
        extraneous=flags["extraneous"],
        resolved=resolved,
        integrity=integrity,
        alias=installed if installed != real else None,
        deprecated=deprecated,
    )
    return package, edges


# --- 4. importers and links ----------------------------------------------------------------


def _importer_meta(
    lock: LockReader, keys: _Keys, importer_folders: dict[str, dict[str, Any]]
) -> list[_ImporterMeta]:
    """The root first, then the folders by location; a folder without a name is named
    after a link to it, else after its folder."""
    imp_names: dict[str, str] = {}
    for link, target in keys.links.items():
        if target in importer_folders:
            imp_names.setdefault(target, name_from_location(link) or target)
    imp_meta: list[_ImporterMeta] = [
        (
            "",
            lock.root_importer_name(),
            lock.root_version,
            manifest_edges(keys.root, "packages['']", lock.path, include_dev=True),
        )
    ]
    for key in sorted(importer_folders):
        entry = importer_folders[key]
        where = f"packages[{key!r}]"
        name = (
            lock.string(entry, "name", where)
            or imp_names.get(key)
            or posixpath.basename(key)
            or key
        )
        imp_meta.append(
            (
                key,
                name,
                lock.string(entry, "version", where),
                manifest_edges(entry, where, lock.path, include_dev=True),
            )
        )
    return imp_meta


def _skip_dangling_links(
    lock: LockReader, links: dict[str, str], importer_locs: set[str], pkgs: dict[str, Package]
) -> set[str]:
    """Links that lead to neither an importer nor a placement are skipped packages."""
    skipped: set[str] = set()
    for link, target in links.items():
        if target in importer_locs or target in pkgs:
            continue
        name = name_from_location(link) or link
        reason = (
            "link to a folder outside the project"
            if not inside_project(target)
            else "link to a folder the lockfile does not hold"
        )
        lock.skip(name, f"file:{target}", reason, link)
        skipped.add(link)
    return skipped
