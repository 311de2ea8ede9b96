"""package-lock.json (lockfileVersion 1, 2, 3) and npm-shrinkwrap.json (same format).

v2/v3 are read from the ``packages`` map (the legacy ``dependencies`` half of a v2 file is
ignored, as npm 7+ does); v1, and a "v2" file whose body is only a ``dependencies`` tree, from
the nested ``dependencies`` tree, with npm's locations synthesized
(``node_modules/a/node_modules/b``).

Choices, stated once:

- ``link: true`` entries are not packages. A link into a folder the lockfile holds (a
  workspace, or a ``file:`` folder inside the project) makes that folder an :class:`Importer`,
  as does every other folder entry outside ``node_modules`` (the root ``""`` is the root
  importer). A link to a folder outside the project, or to nothing the lock holds, becomes a
  :class:`SkippedPackage`.
- An entry without a concrete version (a v1 git or ``file:`` dependency, a v2/v3 entry with no
  ``version``) becomes a :class:`SkippedPackage` with the reason. git dependencies that *do*
  carry a version (v2/v3) are packages, as npm lists them; their ``resolved`` says git.
- ``devOptional`` (a dev dependency that is also an optional dependency of a production
  package) gives ``dev=False, optional=True``: it can run in production, so it must not be
  weighed down as dev-only, and production only needs it optionally.
- Aliases (``npm:real@range``): ``Package.name`` is the real name, ``Package.alias`` the name
  it is installed under; install paths use real names.
- Only package.json files of importers whose folder resolves inside the lockfile's folder
  are read (for ``Importer.declared``); no lock key can make depaudit read outside it.

The choices above hold for both layouts and are stated here once. This module reads the
header (``lockfileVersion``, the root's name and version) and hands the body to the reader of
its layout: :mod:`~depaudit.sources.package_lock_flat` (v2/v3 ``packages``) or
:mod:`~depaudit.sources.package_lock_nested` (v1 ``dependencies``), both reading through
:mod:`~depaudit.sources.package_lock_reader`; the root package.json's ``overrides`` become
the tree's override rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from depaudit.budget import PATH_DEPTH
from depaudit.errors import InputError
from depaudit.models import DependencyTree, Importer, Package, SourceInfo
from depaudit.overrides import parse_npm_overrides
from depaudit.sources._io import read_json_object
from depaudit.sources.interface import DependencySource
from depaudit.sources.npm_common import resolve_location
from depaudit.sources.package_lock_flat import read_flat
from depaudit.sources.package_lock_nested import read_nested
from depaudit.sources.package_lock_reader import LockReader

SUPPORTED_VERSIONS = (1, 2, 3)


class PackageLockSource(DependencySource):
    kind = "package-lock"
    filenames = ("npm-shrinkwrap.json", "package-lock.json")

    def load(self, path: Path) -> DependencyTree:
        what = "npm-shrinkwrap.json" if path.name == "npm-shrinkwrap.json" else "package-lock.json"
        try:
            data = read_json_object(path, what=what, limit=self.budget.input_bytes)
        except InputError as exc:
            if exc.hint is None:
                exc.hint = f"pass a {what} written by npm (`npm install --package-lock-only`)"
            raise
        return read_lock(path, data, self.budget.path_depth)


def source_kind(path: Path) -> str:
    return "npm-shrinkwrap" if path.name == "npm-shrinkwrap.json" else "package-lock"


def read_lock(path: Path, data: dict[str, Any], max_depth: int = PATH_DEPTH) -> DependencyTree:
    """A parsed package-lock (``path`` for messages and the package.json files beside it),
    its paths at most ``max_depth`` names."""
    lock = LockReader(path, data, max_depth)
    version = _lockfile_version(lock)
    lock.root_name = lock.string(data, "name", "lockfile")
    lock.root_version = lock.string(data, "version", "lockfile")
    importers, pkgs = _read_body(lock, version)
    manifest = lock.root_manifest  # read once, by LockReader.declared("")
    overrides, problems = parse_npm_overrides(manifest) if manifest is not None else ((), [])
    lock.warnings.extend(problems)
    return DependencyTree(
        source=SourceInfo(source_kind(path), str(path), version),
        root_name=lock.root_name,
        root_version=lock.root_version,
        packages=tuple(pkgs[k] for k in sorted(pkgs)),
        importers=tuple(importers),
        skipped=tuple(sorted(lock.skipped, key=lambda s: (s.location or "", s.name))),
        warnings=tuple(lock.warnings),
        overrides=overrides,
    )


def _lockfile_version(lock: LockReader) -> int | None:
    if "lockfileVersion" not in lock.data:
        lock.warnings.append(
            f"{lock.path}: no lockfileVersion (a pre-npm-5 shrinkwrap?); read as lockfileVersion 1"
        )
        return None
    raw = lock.data["lockfileVersion"]
    if isinstance(raw, bool) or not isinstance(raw, int) or raw not in SUPPORTED_VERSIONS:
        raise lock.fail(
            f"lockfileVersion {raw!r} is not one depaudit reads (1, 2 or 3)",
            "regenerate the lockfile with npm 7 or later (`npm install "
            "--package-lock-only`), or use a newer depaudit",
        )
    return raw


def _read_body(lock: LockReader, version: int | None) -> tuple[list[Importer], dict[str, Package]]:
    """The flat ``packages`` map when the version has one, else the nested tree."""
    packages = lock.data.get("packages")
    dependencies = lock.data.get("dependencies")
    if version is not None and version >= 2 and packages is not None:
        return read_flat(lock, lock.obj(packages, "packages"))
    if dependencies is not None:
        if version is not None and version >= 2:
            lock.warnings.append(
                f"{lock.path}: lockfileVersion {version} but no `packages` map; "
                "read the v1 `dependencies` tree"
            )
        return read_nested(lock, lock.obj(dependencies, "dependencies"))
    if packages is not None:
        lock.obj(packages, "packages")
    return read_nested(lock, {})


__all__ = ["PackageLockSource", "read_lock", "resolve_location"]
