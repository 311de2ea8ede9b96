"""package-lock v1 (and a "v2" file whose body is only a ``dependencies`` tree): the nested
``dependencies`` tree, read in phases.

1. The tree is walked (a stack, not recursion), npm's locations synthesized
   (``node_modules/a/node_modules/b``); each entry becomes a package or a skipped package.
2. ``requires`` edges are resolved from every placement.
3. The root's direct dependencies: a v1 lock does not record the root's ranges, so
   package.json is the only record; without one they are guessed as the top-level entries
   nothing else requires (with a warning).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from depaudit.models import Dependency, DepType, Importer, Package
from depaudit.sources.npm_common import (
    assign_paths,
    is_valid_name,
    looks_like_version,
    parse_alias,
    registry_tarball_version,
    resolve_edges,
    spec_kind,
    string_map,
)
from depaudit.sources.package_lock_reader import Edges, LockReader, with_deps

_FLAGS = ("dev", "optional", "peer", "bundled", "extraneous")


@dataclass
class _Walk:
    """What walking the tree collects."""

    pkgs: dict[str, Package] = field(default_factory=dict)
    requires: dict[str, Edges] = field(default_factory=dict)
    skipped_locations: set[str] = field(default_factory=set)
    skipped_requires: dict[str, Edges] = field(default_factory=dict)
    top_level: dict[str, dict[str, Any]] = field(default_factory=dict)


def read_nested(
    lock: LockReader, dependencies: dict[str, Any]
) -> tuple[list[Importer], dict[str, Package]]:
    walk = _walk(lock, dependencies)
    pkgs = walk.pkgs
    present = set(pkgs) | walk.skipped_locations

    def follow(loc: str) -> str:
        return loc

    for loc, edges in walk.requires.items():
        pkgs[loc] = with_deps(pkgs[loc], resolve_edges(edges, loc, present, follow))

    declared, manifest = lock.declared("", present, follow)
    # a v1 lock does not record the root's ranges: package.json is the only record
    if declared is not None:
        root_deps = declared
    else:
        required = {d.target for p in pkgs.values() for d in p.dependencies if d.target}
        for loc, edges in walk.skipped_requires.items():
            required.update(
                d.target for d in resolve_edges(edges, loc, present, follow) if d.target
            )
        root_deps = _guess_roots(lock, walk.top_level, required)
    root = Importer(lock.root_importer_name(), lock.root_version, "", root_deps, declared, manifest)
    return [root], assign_paths([root], pkgs, lock.max_depth)


# --- 1. the walk ---------------------------------------------------------------------------


def _walk(lock: LockReader, dependencies: dict[str, Any]) -> _Walk:
    walk = _Walk()
    stack: list[tuple[str, dict[str, Any], str]] = [("", dependencies, "dependencies")]
    while stack:
        prefix, deps, where_deps = stack.pop()
        for name, entry in deps.items():
            where = f"{where_deps}[{name!r}]"
            entry = lock.obj(entry, where)
            loc = f"{prefix}/node_modules/{name}" if prefix else f"node_modules/{name}"
            if not prefix:
                walk.top_level[loc] = entry
            _entry(lock, walk, name, loc, entry, where)
            nested = entry.get("dependencies")
            # a skipped entry's own nested entries are still read
            if nested is not None:
                stack.append(
                    (loc, lock.obj(nested, f"{where}.dependencies"), f"{where}.dependencies")
                )
    return walk


def _entry(
    lock: LockReader, walk: _Walk, name: str, loc: str, entry: dict[str, Any], where: str
) -> None:
    """One entry of the tree: a package, or a skipped package with the reason."""
    version = lock.string(entry, "version", where)
    resolved = lock.string(entry, "resolved", where)
    integrity = lock.string(entry, "integrity", where)
    deprecated = lock.string(entry, "deprecated", where)
    lock.string(entry, "from", where)
    flags = {f: lock.flag(entry, f, where) for f in _FLAGS}
    reqs = entry.get("requires")
    edges: Edges = {}
    if reqs is not None:
        specs = string_map(reqs, f"{where}.requires", lock.path)
        edges = {n: (s, DepType.PROD) for n, s in specs.items()}
    real, real_version, resolved = _real(name, version, resolved)
    if not is_valid_name(name) or not is_valid_name(real):
        lock.skip(name, loc, "lock key is not a package name", loc)
        walk.skipped_locations.add(loc)
        return
    if real_version is None or not looks_like_version(real_version):
        lock.skip(name, version or resolved or "", _skip_reason(version), loc)
        walk.skipped_locations.add(loc)
        walk.skipped_requires[loc] = edges
        return
    walk.requires[loc] = edges
    walk.pkgs[loc] = Package(
        name=real,
        version=real_version,
        location=loc,
        dev=flags["dev"],
        optional=flags["optional"],
        peer=flags["peer"],
        bundled=flags["bundled"],
        extraneous=flags["extraneous"],
        resolved=resolved,
        integrity=integrity,
        alias=name if real != name else None,
        deprecated=deprecated,
    )


def _real(
    name: str, version: str | None, resolved: str | None
) -> tuple[str, str | None, str | None]:
    """(real name, real version, resolved) of an entry: an alias ``npm:real@1.2.3`` names
    the real package; npm 6 wrote a registry tarball URL as the version."""
    alias = parse_alias(version) if version is not None else None
    if alias is not None and looks_like_version(alias[1]):
        return alias[0], alias[1], resolved
    if version is not None and not looks_like_version(version):
        from_url = registry_tarball_version(name, version)
        if from_url is not None:  # npm 6: installed by its registry tarball URL
            return name, from_url, resolved or version
    return name, version, resolved


def _skip_reason(version: str | None) -> str:
    if version is None:
        return "lock entry has no version"
    kind = spec_kind(version)
    if kind == "git":
        return "git dependency: a v1 lockfile records no semver version for it"
    if kind in ("file", "link"):
        return "local file: dependency (folder or tarball), not a registry package"
    if kind == "url":
        return "remote tarball dependency with no semver version"
    if kind == "alias":
        return f"npm alias {version!r} without a concrete version"
    return f"version {version!r} is not a semver version"


# --- 3. the root ---------------------------------------------------------------------------


def _guess_roots(
    lock: LockReader, top_level: dict[str, dict[str, Any]], required: set[str]
) -> tuple[Dependency, ...]:
    """No package.json and a v1 lock: the root's direct dependencies are guessed as the
    top-level entries no other entry requires."""
    out: list[Dependency] = []
    for loc in sorted(top_level):
        if loc in required:
            continue
        entry = top_level[loc]
        name = loc[len("node_modules/") :]
        spec = entry.get("version")
        if not isinstance(spec, str):
            continue
        dep_type = (
            DepType.DEV
            if entry.get("dev") is True
            else DepType.OPTIONAL
            if entry.get("optional") is True
            else DepType.PROD
        )
        out.append(Dependency(name, spec, dep_type, loc))
    if top_level:
        lock.warnings.append(
            f"{lock.path}: a v1 lockfile without a package.json beside it; the root's "
            "direct dependencies are guessed as the top-level entries nothing else requires"
        )
    return tuple(out)
