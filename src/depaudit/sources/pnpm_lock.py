"""pnpm-lock.yaml, lockfileVersion 5.x, 6.x and 9.x (one document, or two as pnpm 11 writes).

Keys of ``packages`` (and of ``snapshots`` in 9.x) name one installed variant each:

- 5.x ``/name/1.0.0_peer@1+other@2`` (``registry.host/name/1.0.0`` for another registry),
- 6.x ``/name@1.0.0(peer@1)(other@2)``,
- 9.x ``name@1.0.0(peer@1)`` in ``snapshots``, metadata in ``packages`` under
  ``name@1.0.0``.

Entries that carry ``name`` / ``version`` (git, tarballs, ``file:``) use those, as pnpm's
``nameVerFromPkgSnapshot`` does. Local folders (``resolution.directory``) and ``link:``
references that are not workspaces are skipped with a reason, as are keys with no semver
version. Peer-suffixed variants are separate placements of the same ``name@version``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from depaudit.errors import InputError
from depaudit.models import (
    Dependency,
    DependencyTree,
    DepType,
    Importer,
    SkippedPackage,
    SourceInfo,
)
from depaudit.overrides import parse_pnpm_overrides
from depaudit.sources._io import read_text
from depaudit.sources._lockgraph import (
    Node,
    build_tree,
    is_semver,
    split_ident,
    with_declared_targets,
)
from depaudit.sources.interface import DependencySource
from depaudit.sources.manifest import as_mapping, declared_edges, manifests_in
from depaudit.sources.yaml_loader import load_yaml_documents

WHAT = "pnpm-lock.yaml"
SUPPORTED_MAJORS = (5, 6, 7, 9)
IMPORTER_SECTIONS: tuple[tuple[str, DepType], ...] = (
    ("dependencies", DepType.PROD),
    ("devDependencies", DepType.DEV),
    ("optionalDependencies", DepType.OPTIONAL),
)


def strip_peers(key: str, major: int) -> str:
    """Drop the peer suffix: ``(react@18)`` in 6.x / 9.x, ``_react@18`` in 5.x."""
    paren = key.find("(")
    if paren > 0:
        key = key[:paren]
    if major < 6:
        slash = key.rfind("/")
        underscore = key.find("_", slash + 1)
        if underscore > 0:
            key = key[:underscore]
    return key


def parse_key(key: str, major: int) -> tuple[str, str] | None:
    """(name, version) from a package key, or ``None`` when it holds no semver version.

    Before 9.x a key that does not start with ``/`` begins with a host
    (``registry.host/name/1.0.0``, ``github.com/owner/repo``), which pnpm drops."""
    bare = strip_peers(key, major)
    if bare.startswith("/"):
        bare = bare[1:]
    elif major < 9:
        if "/" not in bare:
            return None
        bare = bare.split("/", 1)[1]
    if major < 6:
        parts = bare.split("/")
        cut = 2 if bare.startswith("@") else 1
        if len(parts) <= cut:
            return None
        name, version = "/".join(parts[:cut]), "/".join(parts[cut:])
    else:
        name, version = split_ident(bare)
    if not name or not is_semver(version):
        return None
    return name, version


def _truthy(value: Any) -> bool:
    return value is True or value == "true"


class PnpmLockSource(DependencySource):
    kind = "pnpm"
    filenames = ("pnpm-lock.yaml",)

    def load(self, path: Path) -> DependencyTree:
        return self.load_text(path, read_text(path, what=WHAT, limit=self.budget.input_bytes))

    def load_text(self, path: Path, text: str, *, pure_yaml: bool = False) -> DependencyTree:
        documents = load_yaml_documents(text, path, what=WHAT, pure=pure_yaml)
        if len(documents) > 2:
            raise InputError(
                path,
                f"has {len(documents)} YAML documents (pnpm writes one or two)",
                f"expected a {WHAT}",
            )
        # pnpm 10.x / 11 with devEngines.packageManager (or configDependencies) write a first
        # document for the package manager's own install (the "env lockfile"); the project's
        # lockfile is the second one
        data = documents[-1] if documents else None
        if not isinstance(data, dict):
            raise InputError(path, "top level is not a mapping", f"expected a {WHAT}")
        raw_version = data.get("lockfileVersion")
        if not isinstance(raw_version, str):
            raise InputError(path, "has no lockfileVersion", f"expected a {WHAT}")
        try:
            major = int(float(raw_version.strip("'\"")))
        except (ValueError, OverflowError):  # OverflowError: "Inf", "1e999"
            raise InputError(
                path, f"lockfileVersion {raw_version!r} is not a number", f"expected a {WHAT}"
            ) from None
        if major not in SUPPORTED_MAJORS:
            raise InputError(
                path,
                f"lockfileVersion {raw_version} is not supported (5.x, 6.x and 9.x are)",
                "regenerate the lockfile with pnpm 7, 8, 9 or 10",
            )
        return _Reader(path, data, major, raw_version, self.budget.path_depth).read()


class _Reader:
    def __init__(
        self, path: Path, data: dict[str, Any], major: int, version: str, max_depth: int
    ) -> None:
        self.path = path
        #: the importers' package.json files, inside the project only
        self.read_manifest = manifests_in(path.parent)
        self.max_depth = max_depth
        self.data = data
        self.major = major
        self.version = version
        self.skipped: list[SkippedPackage] = []
        self.skipped_keys: set[str] = set()
        self.nodes: dict[str, Node] = {}
        packages = as_mapping(data.get("packages"), path, "packages")
        snapshots = as_mapping(data.get("snapshots"), path, "snapshots")
        self.packages = packages
        # 9.x: variants live in snapshots; packages holds the metadata per name@version
        self.keys: dict[str, Mapping[str, Any]] = {}
        for key, value in (snapshots or packages).items():
            self.keys[str(key)] = as_mapping(value, path, f"entry {key!r}")
        if snapshots:
            covered = {strip_peers(k, major) for k in self.keys}
            for key, value in packages.items():
                if str(key) not in covered:
                    self.keys[str(key)] = as_mapping(value, path, f"entry {key!r}")
        importers = as_mapping(data.get("importers"), path, "importers")
        self.importer_data: dict[str, Mapping[str, Any]] = (
            {str(k): as_mapping(v, path, f"importer {k!r}") for k, v in importers.items()}
            if importers
            else {".": data}
        )
        catalogs = as_mapping(data.get("catalogs"), path, "catalogs")
        self.catalogs = {str(k): as_mapping(v, path, "catalogs") for k, v in catalogs.items()}

    def meta(self, key: str) -> Mapping[str, Any]:
        """The metadata of a key: itself before 9.x, ``packages[name@version]`` in 9.x."""
        if self.packages is self.data.get("snapshots"):
            return self.keys[key]
        base = strip_peers(key, self.major)
        value = self.packages.get(base) if self.data.get("snapshots") else None
        return value if isinstance(value, Mapping) else self.keys[key]

    def read(self) -> DependencyTree:
        for key in self.keys:
            self.add_node(key)
        for key, node in self.nodes.items():
            snap = self.keys[key]
            edges: dict[str, Dependency] = {}
            for section, dep_type in (
                ("dependencies", DepType.PROD),
                ("optionalDependencies", DepType.OPTIONAL),
            ):
                for dep, ref in as_mapping(
                    snap.get(section), self.path, f"{key} {section}"
                ).items():
                    ref_text = self.ref_text(ref, f"{key} {section} {dep}")
                    target = self.resolve(dep, ref_text)
                    edges[dep] = Dependency(dep, self.spec_of(ref_text, target), dep_type, target)
            node.edges = [edges[k] for k in sorted(edges)]
        importers = [self.importer(place, imp) for place, imp in sorted(self.importer_data.items())]
        # the lockfile records pnpm's overrides: a direct dependency they replace is not drift
        overrides, problems = parse_pnpm_overrides(self.data.get("overrides"))
        return build_tree(
            source=SourceInfo("pnpm", str(self.path), self.version),
            importers=importers,
            nodes=self.nodes,
            skipped=self.skipped,
            warnings=problems,
            overrides=overrides,
            max_depth=self.max_depth,
        )

    def ref_text(self, ref: Any, where: str) -> str:
        if isinstance(ref, Mapping):  # importer entries in 6.x / 9.x: {specifier, version}
            ref = ref.get("version")
        if not isinstance(ref, str):
            raise InputError(self.path, f"{where} is not a version string", f"expected a {WHAT}")
        return ref

    def add_node(self, key: str) -> None:
        meta = self.meta(key)
        resolution = as_mapping(meta.get("resolution"), self.path, f"{key} resolution")
        name, version = meta.get("name"), meta.get("version")
        if "directory" in resolution:
            self.skipped.append(
                SkippedPackage(
                    str(name or key),
                    key,
                    f"local folder {resolution['directory']} (file:), not a published package",
                    location=key,
                )
            )
            self.skipped_keys.add(key)
            return
        if isinstance(name, str) and name and isinstance(version, str) and version:
            parsed: tuple[str, str] | None = (name, version)
        else:
            parsed = parse_key(key, self.major)
            if parsed is None and isinstance(version, str) and version and self.major >= 6:
                # git and tarball keys (`name@https://...`) carry the version in the entry
                key_name = split_ident(strip_peers(key, self.major).lstrip("/"))[0]
                parsed = (key_name, version) if key_name else None
        if parsed is None:
            self.skipped.append(
                SkippedPackage(
                    str(name or key),
                    key,
                    "no name and semver version in the key or the entry",
                    location=key,
                )
            )
            self.skipped_keys.add(key)
            return
        tarball = resolution.get("tarball")
        integrity = resolution.get("integrity")
        deprecated = meta.get("deprecated")
        self.nodes[key] = Node(
            key,
            parsed[0],
            parsed[1],
            resolved=tarball if isinstance(tarball, str) else None,
            integrity=integrity if isinstance(integrity, str) else None,
            deprecated=deprecated if isinstance(deprecated, str) else None,
        )

    def resolve(self, name: str, ref: str, location: str = "") -> str | None:
        """The key a dependency reference points at: a package key, a skipped key, the
        location of a workspace (``link:``), or ``None`` when nothing matches."""
        if ref.startswith("link:"):
            place = self.importer_place(location, ref)
            if place is not None:
                return place
            self.skipped.append(
                SkippedPackage(name, ref, "link: to a folder that is not a workspace", location=ref)
            )
            return ref
        for candidate in (f"/{name}/{ref}", f"/{name}@{ref}", f"{name}@{ref}", ref):
            if candidate in self.nodes or candidate in self.skipped_keys:
                return candidate
        return None

    def spec_of(self, ref: str, target: str | None) -> str:
        """What a package's dependency asks for: pnpm records the version it resolved."""
        node = self.nodes.get(target) if target else None
        if node is None:
            return ref
        bare = strip_peers(ref, self.major)
        return bare if is_semver(bare) else f"npm:{node.name}@{node.version}"

    def catalog_spec(self, name: str, spec: str) -> str:
        if not spec.startswith("catalog:"):
            return spec
        catalog = spec.removeprefix("catalog:") or "default"
        entry = self.catalogs.get(catalog, {}).get(name)
        if isinstance(entry, Mapping) and isinstance(entry.get("specifier"), str):
            return str(entry["specifier"])
        return spec

    def importer(self, place: str, data: Mapping[str, Any]) -> Importer:
        location = "" if place in (".", "") else place
        specifiers = as_mapping(data.get("specifiers"), self.path, f"importer {place} specifiers")
        edges: dict[str, Dependency] = {}
        for section, dep_type in IMPORTER_SECTIONS:
            deps = as_mapping(data.get(section), self.path, f"importer {place} {section}")
            for dep, value in deps.items():
                ref = self.ref_text(value, f"importer {place} {section} {dep}")
                spec = value.get("specifier") if isinstance(value, Mapping) else specifiers.get(dep)
                spec = self.catalog_spec(dep, spec) if isinstance(spec, str) else ref
                target = self.resolve(dep, ref, location)
                edges[dep] = Dependency(dep, spec, dep_type, target)
        locked = tuple(edges[k] for k in sorted(edges))
        folder = self.path.parent / location if location else self.path.parent
        mpath = folder / "package.json"
        manifest = self.read_manifest(mpath)
        declared = None
        if manifest is not None:
            declared = tuple(
                Dependency(d.name, self.catalog_spec(d.name, d.spec), d.type)
                for d in declared_edges(manifest, mpath, peers=True)
            )
        name = manifest.get("name") if manifest else None
        version = manifest.get("version") if manifest else None
        return Importer(
            name=str(name)
            if name
            else (Path(location).name if location else self.path.parent.name),
            version=str(version) if version else None,
            location=location,
            dependencies=locked,
            declared=with_declared_targets(declared, locked),
            manifest_path=mpath.relative_to(self.path.parent).as_posix() if manifest else None,
        )

    def importer_place(self, location: str, ref: str) -> str | None:
        """The workspace location a ``link:`` reference from ``location`` points at."""
        target = Path(location or ".") / ref.removeprefix("link:")
        parts: list[str] = []
        for part in target.parts:
            if part == "..":
                if not parts:
                    return None
                parts.pop()
            elif part != ".":
                parts.append(part)
        place = "/".join(parts) or "."
        return (place if place != "." else ".") if place in self.importer_data else None
