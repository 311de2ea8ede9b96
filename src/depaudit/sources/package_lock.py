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

Why this module is longer than ~400 lines: v1's nested tree and v2/v3's flat map end in
the same placements, links and importers, under the choices stated below once for both;
splitting by lockfile version would state them twice.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from depaudit.errors import InputError
from depaudit.models import (
    Dependency,
    DependencyTree,
    DepType,
    Importer,
    Package,
    SkippedPackage,
    SourceInfo,
)
from depaudit.overrides import parse_npm_overrides
from depaudit.sources._io import read_json_object
from depaudit.sources.interface import DependencySource
from depaudit.sources.manifest import read_manifest
from depaudit.sources.npm_common import (
    assign_paths,
    is_in_node_modules,
    is_valid_name,
    json_type,
    location_names,
    looks_like_version,
    manifest_edges,
    name_from_location,
    parse_alias,
    registry_tarball_version,
    resolve_edges,
    resolve_location,
    spec_kind,
    string_map,
)

SUPPORTED_VERSIONS = (1, 2, 3)
_DAMAGED = (
    "the lockfile is damaged or hand-edited; regenerate it with `npm install --package-lock-only`"
)


class PackageLockSource(DependencySource):
    kind = "package-lock"
    filenames = ("npm-shrinkwrap.json", "package-lock.json")

    def load(self, path: Path) -> DependencyTree:
        what = "npm-shrinkwrap.json" if path.name == "npm-shrinkwrap.json" else "package-lock.json"
        try:
            data = read_json_object(path, what=what)
        except InputError as exc:
            if exc.hint is None:
                exc.hint = f"pass a {what} written by npm (`npm install --package-lock-only`)"
            raise
        return _LockReader(path, data).read()


def source_kind(path: Path) -> str:
    return "npm-shrinkwrap" if path.name == "npm-shrinkwrap.json" else "package-lock"


class _LockReader:
    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data
        self.project = path.parent
        self.warnings: list[str] = []
        self.skipped: list[SkippedPackage] = []
        self.root_manifest: dict[str, Any] | None = None

    # --- validation helpers ------------------------------------------------------------

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

    # --- entry point ---------------------------------------------------------------------

    def read(self) -> DependencyTree:
        data = self.data
        if "lockfileVersion" not in data:
            version: int | None = None
            self.warnings.append(
                f"{self.path}: no lockfileVersion (a pre-npm-5 shrinkwrap?); "
                "read as lockfileVersion 1"
            )
        else:
            raw = data["lockfileVersion"]
            if isinstance(raw, bool) or not isinstance(raw, int) or raw not in SUPPORTED_VERSIONS:
                raise self.fail(
                    f"lockfileVersion {raw!r} is not one depaudit reads (1, 2 or 3)",
                    "regenerate the lockfile with npm 7 or later (`npm install "
                    "--package-lock-only`), or use a newer depaudit",
                )
            version = raw
        self.root_name = self.string(data, "name", "lockfile")
        self.root_version = self.string(data, "version", "lockfile")
        packages = data.get("packages")
        dependencies = data.get("dependencies")
        if version is not None and version >= 2 and packages is not None:
            importers, pkgs = self.read_packages(self.obj(packages, "packages"))
        elif dependencies is not None:
            if version is not None and version >= 2:
                self.warnings.append(
                    f"{self.path}: lockfileVersion {version} but no `packages` map; "
                    "read the v1 `dependencies` tree"
                )
            importers, pkgs = self.read_v1(self.obj(dependencies, "dependencies"))
        else:
            if packages is not None:
                self.obj(packages, "packages")
            importers, pkgs = self.read_v1({})
        manifest = self.root_manifest  # read once, by declared("")
        overrides, problems = parse_npm_overrides(manifest) if manifest is not None else ((), [])
        self.warnings.extend(problems)
        return DependencyTree(
            source=SourceInfo(source_kind(self.path), str(self.path), version),
            root_name=self.root_name,
            root_version=self.root_version,
            packages=tuple(pkgs[k] for k in sorted(pkgs)),
            importers=tuple(importers),
            skipped=tuple(sorted(self.skipped, key=lambda s: (s.location or "", s.name))),
            warnings=tuple(self.warnings),
            overrides=overrides,
        )

    # --- v2 / v3 -------------------------------------------------------------------------

    def read_packages(self, packages: dict[str, Any]) -> tuple[list[Importer], dict[str, Package]]:
        root_entry: dict[str, Any] = {}
        links: dict[str, str] = {}  # link location -> target folder (relative to the root)
        folders: dict[str, dict[str, Any]] = {}
        placed: dict[str, dict[str, Any]] = {}
        for key, entry in packages.items():
            where = f"packages[{key!r}]"
            entry = self.obj(entry, where)
            if key == "":
                root_entry = entry
            elif self.flag(entry, "link", where):
                target = self.string(entry, "resolved", where)
                links[key] = _normalize_target(target) if target is not None else ""
            elif is_in_node_modules(key):
                placed[key] = entry
            else:
                folders[key] = entry

        if self.root_name is None:
            self.root_name = self.string(root_entry, "name", "packages['']")
        if self.root_version is None:
            self.root_version = self.string(root_entry, "version", "packages['']")

        # folders: in-project ones are importers; outside ones are skipped unless a link
        # already stands for them
        link_targets = set(links.values())
        importer_folders: dict[str, dict[str, Any]] = {}
        for key, entry in folders.items():
            where = f"packages[{key!r}]"
            if _inside_project(key):
                importer_folders[key] = entry
            elif key not in link_targets:
                name = self.string(entry, "name", where) or posixpath.basename(key) or key
                self.skipped.append(
                    SkippedPackage(name, key, "folder entry outside the project", location=key)
                )

        pkgs: dict[str, Package] = {}
        edges_of: dict[str, dict[str, tuple[str, DepType]]] = {}
        skipped_locations: set[str] = set()
        for key, entry in placed.items():
            where = f"packages[{key!r}]"
            installed = name_from_location(key) or key
            real = self.string(entry, "name", where) or installed
            version = self.string(entry, "version", where)
            resolved = self.string(entry, "resolved", where)
            integrity = self.string(entry, "integrity", where)
            deprecated = self.string(entry, "deprecated", where)
            flags = {
                f: self.flag(entry, f, where)
                for f in ("dev", "optional", "devOptional", "peer", "extraneous", "inBundle")
            }
            edges = manifest_edges(entry, where, self.path, include_dev=False)
            if not is_valid_name(installed) or not is_valid_name(real):
                self.skip(real, key, "lock key is not a package location", key)
                skipped_locations.add(key)
                continue
            if version is None:
                spec = resolved or ""
                kind = spec_kind(spec) if spec else ""
                reason = "lock entry has no version" + (
                    f" ({kind} dependency)" if kind not in ("", "registry") else ""
                )
                self.skip(real, spec, reason, key)
                skipped_locations.add(key)
                continue
            if not looks_like_version(version):
                self.skip(real, version, f"version {version!r} is not a semver version", key)
                skipped_locations.add(key)
                continue
            edges_of[key] = edges
            pkgs[key] = Package(
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

        # importers (root first, then folders by location)
        imp_names: dict[str, str] = {}
        for link, target in links.items():
            if target in importer_folders:
                imp_names.setdefault(target, name_from_location(link) or target)
        imp_meta: list[tuple[str, str, str | None, dict[str, tuple[str, DepType]]]] = [
            (
                "",
                self.root_name or self.project.resolve().name,
                self.root_version,
                manifest_edges(root_entry, "packages['']", self.path, include_dev=True),
            )
        ]
        for key in sorted(importer_folders):
            entry = importer_folders[key]
            where = f"packages[{key!r}]"
            name = (
                self.string(entry, "name", where)
                or imp_names.get(key)
                or posixpath.basename(key)
                or key
            )
            imp_meta.append(
                (
                    key,
                    name,
                    self.string(entry, "version", where),
                    manifest_edges(entry, where, self.path, include_dev=True),
                )
            )
        importer_locs = {loc for loc, *_ in imp_meta}

        # links that do not lead to an importer or a placement are skipped packages
        for link, target in links.items():
            if target in importer_locs or target in pkgs:
                continue
            name = name_from_location(link) or link
            reason = (
                "link to a folder outside the project"
                if not _inside_project(target)
                else "link to a folder the lockfile does not hold"
            )
            self.skip(name, f"file:{target}", reason, link)
            skipped_locations.add(link)

        present = set(pkgs) | skipped_locations | set(links)

        def follow(loc: str) -> str:
            target = links.get(loc)
            if target is not None and (target in importer_locs or target in pkgs):
                return target
            return loc

        for key, edges in edges_of.items():
            pkgs[key] = _with_deps(pkgs[key], resolve_edges(edges, key, present, follow))

        importers: list[Importer] = []
        for loc, name, version, edges in imp_meta:
            deps = resolve_edges(edges, loc, present, follow)
            declared, manifest = self.declared(loc, present, follow)
            importers.append(Importer(name, version, loc, deps, declared, manifest))
        return importers, assign_paths(importers, pkgs)

    # --- v1 ------------------------------------------------------------------------------

    def read_v1(self, dependencies: dict[str, Any]) -> tuple[list[Importer], dict[str, Package]]:
        pkgs: dict[str, Package] = {}
        requires: dict[str, dict[str, tuple[str, DepType]]] = {}
        skipped_locations: set[str] = set()
        skipped_requires: dict[str, dict[str, tuple[str, DepType]]] = {}
        top_level: dict[str, dict[str, Any]] = {}
        stack: list[tuple[str, dict[str, Any], str]] = [("", dependencies, "dependencies")]
        while stack:
            prefix, deps, where_deps = stack.pop()
            for name, entry in deps.items():
                where = f"{where_deps}[{name!r}]"
                entry = self.obj(entry, where)
                loc = f"{prefix}/node_modules/{name}" if prefix else f"node_modules/{name}"
                if not prefix:
                    top_level[loc] = entry
                version = self.string(entry, "version", where)
                resolved = self.string(entry, "resolved", where)
                integrity = self.string(entry, "integrity", where)
                deprecated = self.string(entry, "deprecated", where)
                self.string(entry, "from", where)
                flags = {
                    f: self.flag(entry, f, where)
                    for f in ("dev", "optional", "peer", "bundled", "extraneous")
                }
                reqs = entry.get("requires")
                edges: dict[str, tuple[str, DepType]] = {}
                if reqs is not None:
                    specs = string_map(reqs, f"{where}.requires", self.path)
                    edges = {n: (s, DepType.PROD) for n, s in specs.items()}
                nested = entry.get("dependencies")
                if nested is not None:
                    stack.append(
                        (loc, self.obj(nested, f"{where}.dependencies"), f"{where}.dependencies")
                    )
                real, real_version = name, version
                alias = parse_alias(version) if version is not None else None
                if alias is not None and looks_like_version(alias[1]):
                    real, real_version = alias
                elif version is not None and not looks_like_version(version):
                    from_url = registry_tarball_version(name, version)
                    if from_url is not None:  # npm 6: installed by its registry tarball URL
                        real_version, resolved = from_url, resolved or version
                if not is_valid_name(name) or not is_valid_name(real):
                    self.skip(name, loc, "lock key is not a package name", loc)
                    skipped_locations.add(loc)
                    continue
                if real_version is None or not looks_like_version(real_version):
                    self.skip(name, version or resolved or "", _v1_reason(version), loc)
                    skipped_locations.add(loc)
                    skipped_requires[loc] = edges
                    continue
                requires[loc] = edges
                pkgs[loc] = Package(
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

        present = set(pkgs) | skipped_locations

        def follow(loc: str) -> str:
            return loc

        for loc, edges in requires.items():
            pkgs[loc] = _with_deps(pkgs[loc], resolve_edges(edges, loc, present, follow))

        declared, manifest = self.declared("", present, follow)
        # a v1 lock does not record the root's ranges: package.json is the only record
        if declared is not None:
            root_deps = declared
        else:
            required = {d.target for p in pkgs.values() for d in p.dependencies if d.target}
            for loc, edges in skipped_requires.items():
                required.update(
                    d.target for d in resolve_edges(edges, loc, present, follow) if d.target
                )
            root_deps = self.guess_v1_roots(top_level, required)
        root = Importer(
            self.root_name or self.project.resolve().name,
            self.root_version,
            "",
            root_deps,
            declared,
            manifest,
        )
        return [root], assign_paths([root], pkgs)

    def guess_v1_roots(
        self, top_level: dict[str, dict[str, Any]], required: set[str]
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
            self.warnings.append(
                f"{self.path}: a v1 lockfile without a package.json beside it; the root's "
                "direct dependencies are guessed as the top-level entries nothing else requires"
            )
        return tuple(out)

    # --- shared --------------------------------------------------------------------------

    def skip(self, name: str, spec: str, reason: str, location: str) -> None:
        path = location_names(location, lambda loc: None) if is_in_node_modules(location) else ()
        self.skipped.append(SkippedPackage(name, spec, reason, path, location))

    def declared(
        self, location: str, present: set[str], follow: Any
    ) -> tuple[tuple[Dependency, ...] | None, str | None]:
        """Edges of the package.json of the importer at ``location`` (None when there is
        none, or when its folder is not safely inside the project)."""
        if location and not _inside_project(location):
            return None, None
        folder = self.project / location if location else self.project
        try:
            root = self.project.resolve()
            if not folder.resolve().is_relative_to(root):
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


def _with_deps(pkg: Package, deps: tuple[Dependency, ...]) -> Package:
    from dataclasses import replace

    return replace(pkg, dependencies=deps)


def _v1_reason(version: str | None) -> str:
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


def _normalize_target(target: str) -> str:
    t = target.removeprefix("file:").replace("\\", "/")
    norm = posixpath.normpath(t) if t else ""
    return "" if norm == "." else norm


def _inside_project(key: str) -> bool:
    """A lock key that names a folder inside the project: relative, normalized, no ``..``."""
    if not key or "\\" in key or "\x00" in key or key.startswith("/") or ":" in key:
        return False
    if posixpath.normpath(key) != key:
        return False
    return key != ".." and not key.startswith("../")


__all__ = ["PackageLockSource", "resolve_location"]
