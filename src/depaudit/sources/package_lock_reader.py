"""What both package-lock layouts (:mod:`~depaudit.sources.package_lock_flat` for v2/v3,
:mod:`~depaudit.sources.package_lock_nested` for v1) read through: typed access to entries
with one message per damaged field, the skipped packages, and the package.json of an
importer (only when its folder resolves inside the lockfile's folder)."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from depaudit.budget import PATH_DEPTH
from depaudit.errors import InputError
from depaudit.models import Dependency, DepType, Package, SkippedPackage
from depaudit.sources.manifest import read_manifest
from depaudit.sources.npm_common import (
    fill,
    is_in_node_modules,
    json_type,
    location_names,
    manifest_edges,
    resolve_edges,
)

_DAMAGED = (
    "the lockfile is damaged or hand-edited; regenerate it with `npm install --package-lock-only`"
)

#: declared edges of one entry: name -> (spec, type)
Edges = dict[str, tuple[str, DepType]]
#: a link location -> the location it stands for (identity where there are no links)
Follow = Callable[[str], str]


class LockReader:
    """One package-lock being read: its path, and what the reading collects on the way
    (warnings, skipped packages, the root's name, version and package.json)."""

    def __init__(self, path: Path, data: dict[str, Any], max_depth: int = PATH_DEPTH) -> None:
        self.path = path
        #: names kept in a reported path (the run's depth budget)
        self.max_depth = max_depth
        self.data = data
        self.project = path.parent
        self.warnings: list[str] = []
        self.skipped: list[SkippedPackage] = []
        self.root_manifest: dict[str, Any] | None = None
        self.root_name: str | None = None
        self.root_version: str | None = None
        self._real_project: Path | None = None

    # --- typed access; a wrong type is one InputError naming the field -----------------

    def fail(self, problem: str, hint: str = _DAMAGED) -> InputError:
        return InputError(self.path, problem, hint)

    def string(self, entry: Mapping[str, Any], field: str, where: str) -> str | None:
        value = entry.get(field)
        if value is None or isinstance(value, str):
            return value
        raise self.fail(f"{where}.{field} is a JSON {json_type(value)}, not a string")

    def flag(self, entry: Mapping[str, Any], field: str, where: str) -> bool:
        value = entry.get(field)
        if value is None or isinstance(value, bool):
            return value is True
        raise self.fail(f"{where}.{field} is a JSON {json_type(value)}, not true or false")

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        raise self.fail(f"{where} is a JSON {json_type(value)}, not an object")

    # --- what the reading collects -------------------------------------------------------

    def root_importer_name(self) -> str:
        return self.root_name or self.project.resolve().name

    def skip(self, name: str, spec: str, reason: str, location: str) -> None:
        path = location_names(location, lambda loc: None) if is_in_node_modules(location) else ()
        self.skipped.append(SkippedPackage(name, spec, reason, path, location))

    def declared(
        self, location: str, present: set[str], follow: Follow
    ) -> tuple[tuple[Dependency, ...] | None, str | None]:
        """Edges of the package.json of the importer at ``location`` (None when there is
        none, or when its folder is not safely inside the project)."""
        if location and not inside_project(location):
            return None, None
        folder = self.project / location if location else self.project
        try:
            if self._real_project is None:  # (resolved once, not once per workspace)
                self._real_project = self.project.resolve()
            if not folder.resolve().is_relative_to(self._real_project):
                return None, None
        except (OSError, RuntimeError, ValueError):  # ValueError: a NUL byte in the location
            return None, None
        manifest_path = folder / "package.json"
        manifest = read_manifest(manifest_path)
        if manifest is None:
            return None, None
        if not location:
            self.root_manifest = manifest  # its `overrides` apply to the whole tree
        edges = manifest_edges(manifest, "package.json", manifest_path, include_dev=True)
        return resolve_edges(edges, location, present, follow), str(manifest_path)


def with_deps(pkg: Package, deps: tuple[Dependency, ...]) -> Package:
    """``pkg``, just made by the reader and not yet shared, with its resolved edges set
    in place (:func:`~depaudit.sources.npm_common.fill`)."""
    return fill(pkg, {"dependencies": deps})


def inside_project(key: str) -> bool:
    """A lock key that names a folder inside the project: relative, normalized, no ``..``."""
    if not key or "\\" in key or "\x00" in key or key.startswith("/") or ":" in key:
        return False
    if posixpath.normpath(key) != key:
        return False
    return key != ".." and not key.startswith("../")
