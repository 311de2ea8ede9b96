"""bun.lock, bun's text lockfile: JSON with trailing commas.

``workspaces`` maps a folder ("" for the root) to what it declares; ``packages`` maps an
install path (``chalk``, ``@babel/highlight/chalk`` for a copy nested under
``@babel/highlight``, ``my-workspace/chalk`` for one private to a workspace) to
``["name@version", registry, {dependencies...}, integrity]`` for registry packages, or a
shorter array for git, tarball, ``file:``, ``link:`` and ``workspace:`` entries. A dependency
resolves the way node does: the nearest enclosing install path first.
"""

from __future__ import annotations

import re
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
from depaudit.sources._io import parse_json, read_text
from depaudit.sources._lockgraph import (
    Node,
    build_tree,
    is_semver,
    split_ident,
    with_declared_targets,
)
from depaudit.sources.interface import DependencySource
from depaudit.sources.manifest import as_mapping, declared_edges, manifests_in

WHAT = "bun.lock"
SUPPORTED_VERSIONS = (0, 1)
#: a string (possessive, and an unterminated one runs to the end of the text: no later quote
#: starts a new attempt, so the substitution stays linear) or a trailing comma
_TRAILING = re.compile(r'("(?:[^"\\]|\\.)*+(?:"|\\?\Z))|,(?=\s*+[\]}])')
SECTIONS: tuple[tuple[str, DepType], ...] = (
    ("dependencies", DepType.PROD),
    ("devDependencies", DepType.DEV),
    ("optionalDependencies", DepType.OPTIONAL),
)
_PROTOCOL_REASONS = {
    "workspace": "",
    "root": "",
    "link": "link: to a folder, not a published package",
    "file": "file: folder or tarball, not a published package",
    "github": "git dependency; bun.lock records no registry version",
    "git+ssh": "git dependency; bun.lock records no registry version",
    "git+https": "git dependency; bun.lock records no registry version",
    "git": "git dependency; bun.lock records no registry version",
}


def parse_jsonc(text: str, path: object) -> Any:
    """JSON with trailing commas (bun's dialect)."""
    return parse_json(_TRAILING.sub(lambda m: m.group(1) or "", text), path, what=WHAT)


def key_segments(key: str) -> list[str]:
    """``@babel/highlight/chalk`` -> [``@babel/highlight``, ``chalk``]."""
    parts = key.split("/")
    out: list[str] = []
    i = 0
    while i < len(parts):
        if parts[i].startswith("@") and i + 1 < len(parts):
            out.append(f"{parts[i]}/{parts[i + 1]}")
            i += 2
        else:
            out.append(parts[i])
            i += 1
    return out


class BunLockSource(DependencySource):
    kind = "bun"
    filenames = ("bun.lock",)

    def load(self, path: Path) -> DependencyTree:
        data = parse_jsonc(read_text(path, what=WHAT, limit=self.budget.input_bytes), path)
        if not isinstance(data, dict):
            raise InputError(path, "top level is not a JSON object", f"expected a {WHAT}")
        version = data.get("lockfileVersion")
        if not isinstance(version, int) or isinstance(version, bool):
            raise InputError(path, "has no numeric lockfileVersion", f"expected a {WHAT}")
        if version not in SUPPORTED_VERSIONS:
            raise InputError(
                path,
                f"lockfileVersion {version} is not supported (0 and 1 are)",
                "update depaudit, or regenerate the lockfile with a bun that writes version 1",
            )
        workspaces = as_mapping(data.get("workspaces"), path, "workspaces")
        packages = as_mapping(data.get("packages"), path, "packages")
        nodes: dict[str, Node] = {}
        skipped: list[SkippedPackage] = []
        meta_of: dict[str, Mapping[str, Any]] = {}
        elsewhere: dict[str, str] = {}  # key -> workspace location, or a skipped entry's key
        for key, value in packages.items():
            if not isinstance(value, list) or not value or not isinstance(value[0], str):
                raise InputError(
                    path,
                    f"packages[{key!r}] is not a [name@version, ...] array",
                    f"expected a {WHAT}",
                )
            name, ref = split_ident(value[0])
            protocol = ref.split(":", 1)[0] if ":" in ref else ""
            meta = next((v for v in value[1:] if isinstance(v, Mapping)), {})
            if protocol in _PROTOCOL_REASONS or not is_semver(ref):
                reason = _PROTOCOL_REASONS.get(protocol, "no semver version in the lock")
                if protocol == "workspace":
                    elsewhere[str(key)] = ref.split(":", 1)[1] or "."
                elif reason:
                    skipped.append(SkippedPackage(name, ref, reason, location=str(key)))
                    elsewhere[str(key)] = str(key)
                continue
            registry = value[1] if len(value) > 1 and isinstance(value[1], str) else ""
            integrity = value[3] if len(value) > 3 and isinstance(value[3], str) else None
            alias = key_segments(str(key))[-1]
            nodes[str(key)] = Node(
                str(key),
                name,
                ref,
                alias=alias if alias != name else None,
                resolved=registry or None,
                integrity=integrity,
            )
            meta_of[str(key)] = meta

        def resolve(scope: list[str], dep: str) -> str | None:
            for depth in range(len(scope), -1, -1):
                candidate = "/".join([*scope[:depth], dep])
                if candidate in nodes:
                    return candidate
                if candidate in elsewhere:
                    return elsewhere[candidate]
            return None

        for key, node in nodes.items():
            scope = key_segments(key)
            node.edges = self.edges(path, key, meta_of[key], scope, resolve, package=True)
        importers = []
        read_manifest = manifests_in(path.parent)
        for place, decl in sorted(workspaces.items()):
            decl = as_mapping(decl, path, f"workspaces[{place!r}]")
            wname = decl.get("name")
            scope = [str(wname)] if place and isinstance(wname, str) else []
            edges = self.edges(path, f"workspace {place!r}", decl, scope, resolve, package=False)
            folder = path.parent / place if place else path.parent
            mpath = folder / "package.json"
            manifest = read_manifest(mpath)
            declared = declared_edges(manifest, mpath) if manifest is not None else None
            mversion = (manifest or {}).get("version") or decl.get("version")
            importers.append(
                Importer(
                    name=str(wname) if wname else (Path(place).name or path.parent.name),
                    version=str(mversion) if mversion else None,
                    location=str(place),
                    dependencies=tuple(edges),
                    declared=with_declared_targets(declared, edges),
                    manifest_path=mpath.relative_to(path.parent).as_posix() if manifest else None,
                )
            )
        return build_tree(
            source=SourceInfo("bun", str(path), version),
            importers=importers,
            nodes=nodes,
            skipped=skipped,
            max_depth=self.budget.path_depth,
        )

    def edges(
        self,
        path: Path,
        where: str,
        meta: Mapping[str, Any],
        scope: list[str],
        resolve: Any,
        *,
        package: bool,
    ) -> list[Dependency]:
        edges: dict[str, Dependency] = {}
        sections = SECTIONS if not package else (SECTIONS[0], SECTIONS[2])
        for section, dep_type in sections:
            for dep, spec in as_mapping(meta.get(section), path, f"{where} {section}").items():
                if not isinstance(spec, str):
                    raise InputError(
                        path, f"{where} {section} {dep!r} is not a string", f"expected a {WHAT}"
                    )
                edges[dep] = Dependency(dep, spec, dep_type, resolve(scope, dep))
        if package:
            optional_peers = meta.get("optionalPeers")
            optional_peers = optional_peers if isinstance(optional_peers, list) else []
            peers = as_mapping(meta.get("peerDependencies"), path, f"{where} peerDependencies")
            for dep, spec in peers.items():
                if dep in edges or not isinstance(spec, str):
                    continue
                peer_type = DepType.PEER_OPTIONAL if dep in optional_peers else DepType.PEER
                edges[dep] = Dependency(dep, spec, peer_type, resolve(scope, dep))
        return [edges[k] for k in sorted(edges)]
