"""Shared by the yarn, pnpm and bun readers: turn resolved lock entries and importers into a
:class:`DependencyTree` with shortest paths and dev / optional flags, and read the
package.json files that say what each importer declares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

from depaudit.errors import InputError
from depaudit.fastsemver import release_of
from depaudit.models import (
    Dependency,
    DependencyTree,
    DepType,
    Importer,
    Package,
    SkippedPackage,
    SourceInfo,
)
from depaudit.overrides import Override
from depaudit.sources._paths import MAX_PATH_DEPTH, shortest_paths

#: package.json sections, in the order npm reads them (a later section wins for a name)


@dataclass(slots=True)
class Node:
    """One resolved lock entry, before paths and flags are known."""

    location: str
    name: str
    version: str
    alias: str | None = None
    resolved: str | None = None
    integrity: str | None = None
    deprecated: str | None = None
    edges: list[Dependency] = field(default_factory=list)


def is_semver(version: str) -> bool:
    if release_of(version) is not None and not version.startswith("v"):
        return True  # the common cases (a release, a prerelease), without node-semver
    import nodesemver

    try:
        return nodesemver.valid(version, loose=False) is not None
    except Exception:  # node-semver raises on odd input; odd input is not a version
        return False


def split_ident(ident: str) -> tuple[str, str]:
    """``@scope/name@range`` -> (``@scope/name``, ``range``); no ``@`` -> (ident, "")."""
    at = ident.find("@", 1)
    if at < 0:
        return ident, ""
    return ident[:at], ident[at + 1 :]


def as_str(value: Any, path: object, where: str) -> str:
    """The one string check of the lockfile readers: missing, or the wrong type, is one
    InputError line naming the file and the field."""
    if value is None:
        raise InputError(path, f"{where} is missing, expected a string")
    if not isinstance(value, str):
        raise InputError(path, f"{where} is a {type(value).__name__}, expected a string")
    return value


def glob_workspaces(root: Path, patterns: Iterable[str]) -> list[str]:
    """Folders (relative, posix) matched by workspace globs that hold a package.json."""
    found: set[str] = set()
    for pattern in patterns:
        clean = pattern.strip().removeprefix("./").rstrip("/")
        if not clean or clean.startswith("!") or ".." in Path(clean).parts:
            continue
        if clean.startswith(("/", "\\")) or PureWindowsPath(clean).drive:
            continue  # a workspace is inside the project: "/etc/*" names nothing of it
        try:
            matches = list(root.glob(clean))
        except (ValueError, OSError, NotImplementedError):  # "Non-relative patterns..."
            continue
        for match in matches:
            if (match / "package.json").is_file():
                found.add(match.relative_to(root).as_posix())
    return sorted(found)


# --- the graph --------------------------------------------------------------------------


def build_tree(
    *,
    source: SourceInfo,
    importers: list[Importer],
    nodes: Mapping[str, Node],
    skipped: Iterable[SkippedPackage] = (),
    warnings: Iterable[str] = (),
    overrides: tuple[Override, ...] = (),
    max_depth: int = MAX_PATH_DEPTH,
) -> DependencyTree:
    """Paths by a shortest-first search from every importer (a workspace's packages start
    with the workspace's name), ``direct`` for targets of importer edges, ``dev`` for packages
    reached only through dev edges of an importer, ``optional`` for packages reached only
    through optional edges. Entries nothing reaches keep an empty path."""
    reached, direct = shortest_paths(
        importers, lambda loc: nodes[loc].edges, nodes, lambda dep: dep.name, max_depth
    )

    def reach(skip_importer: set[DepType], skip_package: set[DepType]) -> set[str]:
        seen: set[str] = set()
        todo = [
            e.target
            for imp in importers
            for e in imp.dependencies
            if e.type not in skip_importer and e.target is not None and e.target in nodes
        ]
        while todo:
            loc = todo.pop()
            if loc in seen:
                continue
            seen.add(loc)
            todo.extend(
                e.target
                for e in nodes[loc].edges
                if e.type not in skip_package and e.target is not None and e.target in nodes
            )
        return seen

    prod = reach({DepType.DEV}, {DepType.DEV})
    required = reach({DepType.OPTIONAL}, {DepType.OPTIONAL, DepType.PEER_OPTIONAL})
    packages = []
    for loc in sorted(nodes):
        node = nodes[loc]
        found = reached.get(loc)
        path = found.path if found else ()
        wanted = found.spec if found else None
        workspace = found.importer.name if found and not found.importer.is_root else ""
        packages.append(
            Package(
                name=node.name,
                version=node.version,
                location=loc,
                path=path,
                direct=loc in direct,
                dev=found is not None and loc not in prod,
                optional=found is not None and loc not in required,
                wanted=wanted,
                resolved=node.resolved,
                integrity=node.integrity,
                workspace=workspace or None,
                alias=node.alias,
                deprecated=node.deprecated,
                dependencies=tuple(node.edges),
            )
        )
    root = next((i for i in importers if i.is_root), None)
    return DependencyTree(
        source=source,
        root_name=root.name if root else None,
        root_version=root.version if root else None,
        packages=tuple(packages),
        importers=tuple(importers),
        skipped=tuple(skipped),
        warnings=tuple(warnings),
        overrides=overrides,
    )


def with_declared_targets(
    declared: tuple[Dependency, ...] | None, locked: Iterable[Dependency]
) -> tuple[Dependency, ...] | None:
    """Give declared edges the target the lock resolved the same name to."""
    if declared is None:
        return None
    targets = {e.name: e.target for e in locked}
    return tuple(Dependency(d.name, d.spec, d.type, targets.get(d.name)) for d in declared)
