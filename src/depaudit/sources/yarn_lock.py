"""yarn.lock: yarn classic (v1, yarn's own format) and yarn berry (2+, YAML with __metadata).

Classic entries are keyed by one or more descriptors (``a@^1, a@^1.2``) and hold no
importers: the root and its workspaces come from package.json on disk. Berry entries carry a
``resolution`` (``name@npm:1.2.3``, ``name@workspace:path``, ``name@patch:...``,
``name@link:...``, ``name@portal:...``); workspaces are lock entries themselves, and dev
dependencies are told apart through the workspace's package.json when it is there.

Why this module is longer than ~400 lines: classic and berry end in the same graph building
(descriptors to placements, importers from package.json, resolutions as overrides), which
they share here. Splitting the two parsers into their own modules (``_berry`` alone has a
cyclomatic complexity of 36) is the next step of the renovation (issue 14), not done yet.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from depaudit.errors import InputError
from depaudit.models import (
    Dependency,
    DependencyTree,
    DepType,
    Importer,
    SkippedPackage,
    SourceInfo,
)
from depaudit.overrides import Override, override_for, parse_yarn_resolutions
from depaudit.sources._io import read_text, without_lone_surrogates
from depaudit.sources._lockgraph import (
    Node,
    as_str,
    build_tree,
    glob_workspaces,
    split_ident,
    with_declared_targets,
)
from depaudit.sources.interface import DependencySource
from depaudit.sources.manifest import as_mapping, declared_edges, read_manifest, workspace_patterns
from depaudit.sources.yaml_loader import load_yaml

WHAT = "yarn.lock"
_BARE = re.compile(r"[^ \t,]*")  # a bare word: one C-speed match, not a loop per character
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*+"')  # possessive: no backtracking
#: berry lockfile format versions (yarn 2 wrote 4, yarn 3 up to 6, yarn 4 8 and 10)
SUPPORTED_BERRY_VERSIONS = frozenset(str(v) for v in range(1, 11))
_BERRY_MARK = re.compile(r"^__metadata:", re.MULTILINE)


# --- yarn classic's own format ----------------------------------------------------------


def _token(text: str, pos: int, path: object, lineno: int) -> tuple[str, int]:
    """One key or value at ``pos``: a JSON-quoted string or a bare word."""
    if pos < len(text) and text[pos] == '"':
        match = _QUOTED.match(text, pos)
        if match is None:
            raise InputError(path, f"line {lineno}: unterminated string", f"expected a {WHAT}")
        try:
            value = without_lone_surrogates(json.loads(match.group(0)), match.group(0))
        except ValueError:
            raise InputError(
                path, f"line {lineno}: bad string escape", f"expected a {WHAT}"
            ) from None
        return str(value), match.end()
    end = _BARE.match(text, pos).end()  # type: ignore[union-attr]  # matches "" at least
    return text[pos:end], end


def _header_keys(text: str, path: object, lineno: int) -> list[str]:
    """``"a@^1", a@^2`` -> ["a@^1", "a@^2"]."""
    keys, pos = [], 0
    while pos < len(text):
        while pos < len(text) and text[pos] in " \t,":  # a tab too: _token stops at it
            pos += 1
        if pos >= len(text):
            break
        key, pos = _token(text, pos, path, lineno)
        if key:
            keys.append(key)
    if not keys:
        raise InputError(path, f"line {lineno}: empty key", f"expected a {WHAT}")
    return keys


def parse_classic(text: str, path: object) -> dict[str, Any]:
    """Parse yarn classic's format into nested dicts; a top-level key with several
    descriptors is stored once per descriptor (same object), as @yarnpkg/lockfile does."""
    root: dict[str, Any] = {}
    stack: list[tuple[int, dict[str, Any]]] = [(-2, root)]
    for lineno, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        body = raw.lstrip(" ")
        if body.startswith("\t"):
            raise InputError(path, f"line {lineno}: tab indentation", f"expected a {WHAT}")
        indent = len(raw) - len(body)
        body = body.rstrip()
        while indent <= stack[-1][0]:
            stack.pop()
        if indent != stack[-1][0] + 2:
            raise InputError(path, f"line {lineno}: bad indentation", f"expected a {WHAT}")
        parent = stack[-1][1]
        if body.endswith(":") and not _ends_inside_string(body):
            child: dict[str, Any] = {}
            for key in _header_keys(body[:-1], path, lineno):
                parent[key] = child
            stack.append((indent, child))
            continue
        key, pos = _token(body, 0, path, lineno)
        if key.endswith(":"):  # "key: value" is accepted too
            key = key[:-1]
        rest = body[pos:].strip()
        if not key or not rest:
            raise InputError(path, f"line {lineno}: expected `key value`", f"expected a {WHAT}")
        if rest.startswith('"'):
            value, end = _token(rest, 0, path, lineno)
            if rest[end:].strip():
                raise InputError(path, f"line {lineno}: text after a string", f"expected a {WHAT}")
            parent[key] = value
        else:
            parent[key] = rest
    return root


def _ends_inside_string(body: str) -> bool:
    """True when the final ``:`` belongs to a quoted string (``a "b:"``): one pass, linear
    (a regular expression substitution was quadratic on many escaped quotes)."""
    inside = escaped = False
    for char in body:
        if escaped:
            escaped = False
        elif inside and char == "\\":
            escaped = True
        elif char == '"':
            inside = not inside
    return inside


# --- shared -----------------------------------------------------------------------------


def _descriptor_name(descriptor: str) -> tuple[str, str, str | None]:
    """(real name, range, alias name or None) of ``alias@npm:real@range`` / ``a@range``."""
    name, rng = split_ident(descriptor)
    if rng.startswith("npm:") and "@" in rng[5:]:
        real, real_range = split_ident(rng[4:])
        if real and real != name:
            return real, real_range, name
    return name, rng, None


def _importer_edges(
    deps: Mapping[str, str],
    types: Mapping[str, DepType],
    lookup: Any,
) -> tuple[Dependency, ...]:
    return tuple(
        Dependency(name, spec, types.get(name, DepType.PROD), lookup(name, spec))
        for name, spec in sorted(deps.items())
    )


def _types_from(declared: tuple[Dependency, ...] | None) -> dict[str, DepType]:
    return {d.name: d.type for d in declared or ()}


# --- the source -------------------------------------------------------------------------


class YarnLockSource(DependencySource):
    kind = "yarn"
    filenames = ("yarn.lock",)

    def load(self, path: Path) -> DependencyTree:
        text = read_text(path, what=WHAT)
        if _BERRY_MARK.search(text):
            return self._berry(path, text)
        return self._classic(path, text)

    # classic -------------------------------------------------------------------------

    def _classic(self, path: Path, text: str) -> DependencyTree:
        data = parse_classic(text, path)
        if not data:
            raise InputError(path, "holds no entries", f"expected a {WHAT}")
        nodes: dict[str, Node] = {}
        by_descriptor: dict[str, str] = {}
        groups: dict[int, tuple[dict[str, Any], list[str]]] = {}
        for descriptor, entry in data.items():
            if not isinstance(entry, dict):
                raise InputError(path, f"entry {descriptor!r} has no fields", f"expected a {WHAT}")
            groups.setdefault(id(entry), (entry, []))[1].append(descriptor)
        entry_location: list[tuple[str, dict[str, Any]]] = []
        installed_as_real: set[str] = set()
        for entry, descriptors in groups.values():
            version = entry.get("version")
            if not isinstance(version, str) or not version:
                raise InputError(
                    path, f"entry {descriptors[0]!r} has no version", f"expected a {WHAT}"
                )
            parsed = [_descriptor_name(d) for d in descriptors]
            # an `npm:` descriptor names the real package (resolutions can point `ms@2` at
            # `npm:other@1`: the entry installs `other` under the name `ms`)
            name = next((real for real, _, alias in parsed if alias), parsed[0][0])
            if not name:
                raise InputError(
                    path, f"entry {descriptors[0]!r} has no name", f"expected a {WHAT}"
                )
            loc = f"{name}@{version}"
            installed = [alias or real for real, _, alias in parsed]
            if name in installed:
                installed_as_real.add(loc)
            for descriptor in descriptors:
                by_descriptor[descriptor] = loc
            entry_location.append((loc, entry))
            if loc not in nodes:
                resolved, integrity = entry.get("resolved"), entry.get("integrity")
                nodes[loc] = Node(
                    loc,
                    name,
                    version,
                    alias=next(n for n in installed if n != name)
                    if name not in installed
                    else None,
                    resolved=resolved if isinstance(resolved, str) else None,
                    integrity=integrity if isinstance(integrity, str) else None,
                )
        for loc in installed_as_real:
            nodes[loc].alias = None
        for loc, entry in entry_location:
            node = nodes[loc]
            seen = {e.name for e in node.edges}
            for section, dep_type in (
                ("dependencies", DepType.PROD),
                ("optionalDependencies", DepType.OPTIONAL),
            ):
                deps = as_mapping(entry.get(section), path, f"{loc} {section}")
                for dep, spec in deps.items():
                    if dep in seen or not isinstance(spec, str):
                        continue
                    seen.add(dep)
                    node.edges.append(
                        Dependency(dep, spec, dep_type, by_descriptor.get(f"{dep}@{spec}"))
                    )

        def lookup(name: str, spec: str) -> str | None:
            return by_descriptor.get(f"{name}@{spec}")

        importers = self._classic_importers(path, nodes, lookup)
        overrides, problems = _resolutions(path)
        return build_tree(
            source=SourceInfo("yarn-classic", str(path), 1),
            importers=importers,
            nodes=nodes,
            warnings=problems,
            overrides=overrides,
        )

    def _classic_importers(
        self, path: Path, nodes: Mapping[str, Node], lookup: Any
    ) -> list[Importer]:
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
        for place in places:
            mpath = folder / place / "package.json" if place else folder / "package.json"
            data = manifest if not place else read_manifest(mpath, root=folder)
            if data is not None:
                found.append((place, mpath, data))
        # classic locks hold no entries for workspaces: a dependency on one is linked
        workspace_at = {str(d.get("name")): place or "." for place, _, d in found if d.get("name")}
        importers = []
        for place, mpath, data in found:
            declared = tuple(
                Dependency(
                    d.name,
                    d.spec,
                    d.type,
                    lookup(d.name, d.spec) or workspace_at.get(d.name),
                )
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

    # berry ---------------------------------------------------------------------------

    def _berry(self, path: Path, text: str) -> DependencyTree:
        data = load_yaml(text, path, what=WHAT)
        if not isinstance(data, dict):
            raise InputError(path, "top level is not a mapping", f"expected a {WHAT}")
        meta = as_mapping(data.get("__metadata"), path, "__metadata")
        version = meta.get("version")
        if version is not None and (
            not isinstance(version, str) or version not in SUPPORTED_BERRY_VERSIONS
        ):
            shown = version if isinstance(version, str) else type(version).__name__
            raise InputError(
                path,
                f"__metadata.version {shown[:40]} is not supported (1 to 10 are)",
                "update depaudit, or regenerate the lockfile with yarn 2, 3 or 4",
            )
        nodes: dict[str, Node] = {}
        by_descriptor: dict[str, str] = {}
        workspaces: dict[str, tuple[str, Mapping[str, Any]]] = {}  # location -> (name, entry)
        skipped: list[SkippedPackage] = []
        non_alias: set[str] = set()
        compat: dict[str, str] = {}
        elsewhere: set[str] = set()  # workspace locations and skipped link/portal entries
        entries: list[tuple[str, Mapping[str, Any]]] = []
        for key, entry in data.items():
            if key == "__metadata":
                continue
            if not isinstance(entry, dict):
                raise InputError(path, f"entry {key!r} is not a mapping", f"expected a {WHAT}")
            resolution = as_str(entry.get("resolution"), path, f"{key} resolution")
            name, ref = split_ident(resolution)
            if not name:  # e.g. a file cut off after `resolution:`
                raise InputError(path, f"entry {key!r} has no resolution", f"expected a {WHAT}")
            protocol = ref.split(":", 1)[0] if ":" in ref else ""
            if protocol == "workspace":
                place = ref.split(":", 1)[1]
                loc = "" if place in (".", "") else place
                workspaces[loc] = (name, entry)
                target = loc or "."
                elsewhere.add(target)
            elif protocol in ("link", "portal"):
                target = resolution
                elsewhere.add(target)
                skipped.append(
                    SkippedPackage(
                        name,
                        ref,
                        f"{protocol}: points at a folder, not a published package",
                        location=resolution,
                    )
                )
            else:
                ver = entry.get("version")
                if not isinstance(ver, str) or not ver:
                    raise InputError(path, f"entry {key!r} has no version", f"expected a {WHAT}")
                target = resolution
                if resolution not in nodes:
                    checksum = entry.get("checksum")
                    nodes[resolution] = Node(
                        resolution,
                        name,
                        ver,
                        resolved=resolution,
                        integrity=checksum if isinstance(checksum, str) else None,
                    )
                entries.append((resolution, entry))
            for descriptor in (d.strip() for d in str(key).split(",")):
                if not descriptor:
                    continue
                by_descriptor[descriptor] = target
                if "::" in descriptor:
                    by_descriptor.setdefault(descriptor.split("::", 1)[0], target)
                dname, dref = split_ident(descriptor)
                if dref.startswith("patch:") and "builtin<compat/" in dref:
                    # yarn applies its compat patches implicitly: `fsevents@npm:^2` installs
                    # the entry `fsevents@patch:fsevents@npm%3A^2#optional!builtin<...>`
                    compat[unquote(dref.removeprefix("patch:").split("#", 1)[0])] = target
                dname, _, alias = _descriptor_name(descriptor)
                if target in nodes:
                    if alias is None:
                        non_alias.add(target)
                    elif target not in non_alias:
                        nodes[target].alias = split_ident(descriptor)[0]
        for loc in non_alias:
            nodes[loc].alias = None

        rules, problems = _resolutions(path)
        # a resolution without a parent applies where the lock has no entry for the
        # dependent's own descriptor (yarn rewrote it); `parent/child` ones are applied per
        # dependent below, because berry keeps the dependent's descriptor in the lock
        anywhere = [r for r in rules if not r.within]
        scoped = [r for r in rules if r.within and len(r.within) == 1]

        def find(dep: str, spec: str) -> str | None:
            descriptor = f"{dep}@{spec}"
            if ":" not in spec.split("@", 1)[0]:
                descriptor = f"{dep}@npm:{spec}" if descriptor not in by_descriptor else descriptor
            return compat.get(descriptor) or by_descriptor.get(descriptor)

        def lookup(dep: str, spec: str) -> str | None:
            target = find(dep, spec)
            if target is None and anywhere:  # package.json `resolutions` replaced the range
                override = override_for(anywhere, (), dep, spec.removeprefix("npm:"))
                if override is not None:
                    target = find(dep, override)
            if target is None and spec.startswith("catalog:"):
                target = catalog_target(dep, spec)
            return target if target in nodes or target in elsewhere else None

        catalogs = self._yarnrc_catalogs(path.parent / ".yarnrc.yml")
        by_name: dict[str, list[str]] = {}
        for loc, node in nodes.items():
            by_name.setdefault(node.name, []).append(loc)
        unresolved_catalog: set[str] = set()

        def catalog_target(dep: str, spec: str) -> str | None:
            """yarn 4 catalogs live in .yarnrc.yml; without it, a name locked once is it."""
            rng = catalogs.get(spec.removeprefix("catalog:") or "default", {}).get(dep)
            if rng is not None:
                return find(dep, rng)
            candidates = by_name.get(dep, [])
            if len(candidates) == 1:
                return candidates[0]
            unresolved_catalog.add(dep)
            return None

        def unknown_catalogs(edges: list[Dependency]) -> list[Dependency]:
            """A ``catalog:`` edge that could not be matched is unknown, not missing."""
            return [
                replace(e, unresolved="catalog: range not known without .yarnrc.yml")
                if e.target is None and e.spec.startswith("catalog:") and e.name in by_name
                else e
                for e in edges
            ]

        def lookup_from(parent: Node) -> Any:
            """``express/qs``: express's own `qs: npm:6.7.0` stays in the lock, and yarn
            installs the resolution's version under express."""
            chain = [(parent.name, parent.version)]

            def resolved(dep: str, spec: str) -> str | None:
                override = override_for(scoped, chain, dep, spec.removeprefix("npm:"))
                if override is not None:
                    target = find(dep, override)
                    if target in nodes or target in elsewhere:
                        return target
                return lookup(dep, spec)

            return resolved

        for loc, entry in entries:
            parent_lookup = lookup_from(nodes[loc]) if scoped else lookup
            nodes[loc].edges = unknown_catalogs(
                self._berry_edges(path, loc, entry, parent_lookup, {})
            )
        importers = []
        folder = path.parent
        for place, (name, entry) in sorted(workspaces.items()):
            mpath = folder / place / "package.json" if place else folder / "package.json"
            manifest = read_manifest(mpath, root=folder)
            declared = declared_edges(manifest, mpath) if manifest is not None else None
            edges = tuple(
                unknown_catalogs(
                    self._berry_edges(path, name, entry, lookup, _types_from(declared))
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
        warnings = []
        if unresolved_catalog:
            shown = ", ".join(sorted(unresolved_catalog)[:5])
            warnings.append(
                f"{path}: {len(unresolved_catalog)} catalog: dependencies could not be matched "
                f"to one lock entry without .yarnrc.yml ({shown})"
            )
        overrides = rules
        return build_tree(
            source=SourceInfo(
                "yarn-berry", str(path), version if isinstance(version, str) else None
            ),
            importers=importers,
            nodes=nodes,
            skipped=skipped,
            warnings=[*warnings, *problems],
            overrides=overrides,
        )

    def _yarnrc_catalogs(self, rc: Path) -> dict[str, dict[str, str]]:
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

    def _berry_edges(
        self,
        path: Path,
        where: str,
        entry: Mapping[str, Any],
        lookup: Any,
        types: Mapping[str, DepType],
    ) -> list[Dependency]:
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


def _resolutions(path: Path) -> tuple[tuple[Override, ...], list[str]]:
    """The root package.json's ``resolutions`` beside the lockfile, as override rules."""
    manifest = read_manifest(path.parent / "package.json")
    return parse_yarn_resolutions(manifest) if manifest is not None else ((), [])
