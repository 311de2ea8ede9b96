"""Building a :class:`DependencyTree` from one parsed ``npm ls --json`` document: the phase
after :mod:`depaudit.sources.npm_ls` has found the document and before the tree stage.

Why this module is longer than ~400 lines: it is one pass (:class:`_Builder`) over the
document, whose methods share the builder's state (placements by location, the deduped
copies waiting for their full node, the problems found on the way); split across modules
they would have to pass that state around. The JSON shapes it reads are described in
:mod:`depaudit.sources.npm_ls`.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from depaudit.budget import PATH_DEPTH
from depaudit.errors import InputError
from depaudit.models import (
    Dependency,
    DependencyTree,
    DepType,
    Importer,
    Package,
    ProblemKind,
    SkippedPackage,
    SourceInfo,
    TreeProblem,
)
from depaudit.overrides import parse_npm_overrides
from depaudit.sources._paths import shortest_paths
from depaudit.sources.npm_common import name_from_location
from depaudit.text import shown, split_name_spec

WHAT = "saved `npm ls --json` output"
HINT = "save it with `npm ls --all --long --json > npm-ls.json`"
STDIN_LABEL = "<stdin>"

#: keys a deduped copy may carry besides ``version`` (npm >= 7 prints nothing else)
_BARE_KEYS = frozenset({"version", "invalid", "problems", "missing", "required", "peerMissing"})
_TARBALL = re.compile(r"\.(tgz|tar\.gz|tar)$")
_MISSING_PROBLEM = re.compile(r"^missing: (?P<spec>.+?), required by (?P<by>.+)$")
_PEER_PROBLEM = re.compile(r"^peer dep missing: (?P<spec>.+?), required by (?P<by>.+)$")
_LOCATION_PREFIX = "npm-ls:"


def parse_invalid(value: object) -> list[tuple[str, str]]:
    """npm >= 7's ``invalid`` string -> [(spec, from-location)]; npm 6's ``true`` -> []."""
    if not isinstance(value, str):
        return []
    # one linear pass (a regular expression here was quadratic on many escaped quotes):
    # `"<spec>" from <location>` parts separated by `, `
    out: list[tuple[str, str]] = []
    pos = value.find('"')
    while pos >= 0:
        end = _closing_quote(value, pos + 1)
        if end < 0:
            break  # unterminated: no later quote can start a part either
        spec = value[pos + 1 : end]
        if not value.startswith(" from ", end + 1):
            pos = end  # the closing quote may open the next part (as a search would)
            continue
        start = end + 1 + len(" from ")
        stop = value.find(', "', start + 1)
        location = value[start:] if stop < 0 else value[start:stop]
        if location:
            out.append((spec.replace('\\"', '"'), location))
        if stop < 0:
            break  # the location runs to the end
        pos = stop + 2
    return out


def _closing_quote(text: str, start: int) -> int:
    """Index of the first ``"`` at or after ``start`` not escaped by a backslash, or -1."""
    quote = text.find('"', start)
    while quote >= 0:
        before = quote
        while before > start and text[before - 1] == "\\":
            before -= 1
        if (quote - before) % 2 == 0:
            return quote
        quote = text.find('"', quote + 1)
    return -1


@dataclass(slots=True)
class _Node:
    key: str
    data: Mapping[str, Any]
    jpath: tuple[str, ...]  # keys from the root, this node included
    parent: _Node | None
    workspace: str | None = None
    location: str | None = None  # set when this node is a placement (or an importer)
    children: list[_Node] = field(default_factory=list)

    @property
    def version(self) -> str | None:
        v = self.data.get("version")
        return v if isinstance(v, str) and v else None

    @property
    def is_missing(self) -> bool:
        return self.version is None and bool(
            self.data.get("missing") or self.data.get("peerMissing") or "required" in self.data
        )

    @property
    def is_bare(self) -> bool:
        return set(self.data) <= _BARE_KEYS

    @property
    def real_name(self) -> str:
        name = self.data.get("name")
        return name if isinstance(name, str) and name else self.key

    @property
    def long_path(self) -> str | None:
        p = self.data.get("path")
        return p if isinstance(p, str) and p else None

    def child_signature(self) -> frozenset[tuple[str, str | None]]:
        deps = self.data.get("dependencies")
        if not isinstance(deps, Mapping):
            return frozenset()
        return frozenset(
            (k, v.get("version") if isinstance(v, Mapping) else None) for k, v in deps.items()
        )


def _edge_types(data: Mapping[str, Any], *, top: bool) -> dict[str, tuple[DepType, str]]:
    """Declared edges of a ``--long`` node (empty without ``--long``). devDependencies count
    only for a ``top`` node (the root, a workspace), as in npm: a dependency's own
    devDependencies are never installed, so they neither add nor replace an edge (redux-thunk
    lists redux as a peer and as a dev dependency: it is a peer)."""
    out: dict[str, tuple[DepType, str]] = {}
    meta = data.get("peerDependenciesMeta")
    meta = meta if isinstance(meta, Mapping) else {}
    sections: tuple[tuple[str, DepType], ...] = (
        ("peerDependencies", DepType.PEER),
        ("devDependencies", DepType.DEV),
        ("_dependencies", DepType.PROD),
        ("optionalDependencies", DepType.OPTIONAL),
    )
    for section, dep_type in sections:
        if dep_type is DepType.DEV and not top:
            continue
        values = data.get(section)
        if not isinstance(values, Mapping):
            continue
        for name, spec in values.items():
            if not isinstance(spec, str):
                continue
            kind = dep_type
            if dep_type is DepType.PEER:
                m = meta.get(name)
                if isinstance(m, Mapping) and m.get("optional"):
                    kind = DepType.PEER_OPTIONAL
            out[name] = (kind, spec)
    return out


class _Builder:
    def __init__(self, root: Mapping[str, Any], label: str, max_depth: int = PATH_DEPTH) -> None:
        self.root = root
        self.max_depth = max_depth
        self.label = label
        self.packages: dict[str, Package] = {}
        self.skipped: list[SkippedPackage] = []
        self.taken: set[str] = set()  # every location handed out so far
        self.problems: list[TreeProblem] = []
        self.warnings: list[str] = []
        self.edges: dict[str, list[Dependency]] = {}  # location -> edges ("" root)
        self.workspaces: dict[str, Importer] = {}  # name -> importer (edges filled later)
        self.ws_nodes: dict[str, _Node] = {}

    # -- walking -------------------------------------------------------------------------
    def children_of(self, node_data: Mapping[str, Any], where: str) -> list[tuple[str, Any]]:
        deps = node_data.get("dependencies")
        if deps is None:
            return []
        if not isinstance(deps, Mapping):
            raise InputError(
                self.label,
                f"{where}: `dependencies` is a {type(deps).__name__}, not an object",
                f"expected {WHAT}; {HINT}",
            )
        return list(deps.items())

    def walk(self) -> list[_Node]:
        """Breadth-first, as npm prints: the shallowest copy of a node is the full one."""
        root = _Node(key="", data=self.root, jpath=(), parent=None, location="")
        order: list[_Node] = []
        queue: deque[_Node] = deque([root])
        while queue:
            node = queue.popleft()
            where = " > ".join(node.jpath) or "root"
            for key, data in self.children_of(node.data, where):
                if not key.strip():  # `"": {...}` names no package (found by fuzzing)
                    self.skipped.append(
                        SkippedPackage(key, "", "npm ls entry has no name", (*node.jpath, key))
                    )
                    continue
                if not isinstance(data, Mapping):
                    self.skipped.append(
                        SkippedPackage(key, "", "npm ls entry is not an object", (*node.jpath, key))
                    )
                    continue
                child = _Node(key, data, (*node.jpath, key), node, node.workspace)
                if node is root and self._is_workspace(child):
                    child.workspace = key
                node.children.append(child)
                order.append(child)
                if len(order) > 2_000_000:
                    raise InputError(self.label, "npm ls tree is too large")
                queue.append(child)
        self.root_node = root
        return order

    @staticmethod
    def _is_workspace(node: _Node) -> bool:
        resolved = node.data.get("resolved")
        if not (isinstance(resolved, str) and resolved.startswith("file:")):
            return False
        return not _TARBALL.search(resolved)

    # -- placements ----------------------------------------------------------------------
    def place(self, order: list[_Node]) -> None:
        full: dict[tuple[str, str], list[_Node]] = {}
        by_long_path: dict[str, _Node] = {}
        for node in order:
            if node.workspace and node.parent is self.root_node:
                self.ws_nodes[node.key] = node
                node.location = self._workspace_location(node)
                if node.long_path is not None:
                    by_long_path[node.long_path] = node
                continue
            version = node.version
            if version is None:
                continue
            ident = (node.real_name, version)
            long_path = node.long_path
            if long_path is not None and long_path in by_long_path:
                node.location = by_long_path[long_path].location
                continue
            if long_path is None and node.is_bare:
                continue  # resolved below, once every full node is known
            earlier = full.get(ident, [])
            if long_path is None and node.data.get("dependencies"):
                same = [e for e in earlier if e.child_signature() == node.child_signature()]
                if same:  # npm 6 repeats deduped nodes in full
                    node.location = same[0].location
                    continue
            self._new_placement(node)
            full.setdefault(ident, []).append(node)
            if long_path is not None:
                by_long_path[long_path] = node
        for node in order:
            if node.location is not None or node.version is None:
                continue
            ident = (node.real_name, node.version)
            if node.key in self.ws_nodes and self.ws_nodes[node.key].version == node.version:
                node.location = self.ws_nodes[node.key].location
                continue
            candidates = full.get(ident)
            if candidates:
                node.location = _closest(candidates, node.jpath).location
            else:  # the first bare copy of something printed nowhere in full is the node
                self._new_placement(node)
                full.setdefault(ident, []).append(node)

    def _workspace_location(self, node: _Node) -> str:
        resolved = str(node.data.get("resolved"))[len("file:") :].replace("\\", "/")
        while resolved.startswith("../"):
            resolved = resolved[3:]
        return resolved.removeprefix("./").rstrip("/") or node.key

    def _folder(self, node: _Node) -> str | None:
        """The node's folder relative to the root (``node_modules/a/node_modules/b``, the key
        package-lock uses), from ``--long``'s absolute ``path`` fields; None without them, for
        a folder outside the root, or when another placement already has it."""
        root, own = self.root.get("path"), node.long_path
        if not isinstance(root, str) or not root or own is None:
            return None
        base = root.replace("\\", "/").rstrip("/") + "/"
        folder = own.replace("\\", "/")
        if not folder.startswith(base):
            return None
        relative = folder[len(base) :].strip("/")
        parts = relative.split("/")
        if not relative or any(part in ("", ".", "..") for part in parts):
            return None
        if relative in self.taken:
            return None
        return relative

    def _new_placement(self, node: _Node) -> None:
        version = node.version
        assert version is not None
        location = self._folder(node) or _LOCATION_PREFIX + "/".join(node.jpath)
        node.location = location
        self.taken.add(location)  # taken whether it ends as a package or a skip
        resolved = node.data.get("resolved")
        resolved = resolved if isinstance(resolved, str) else None
        name = node.real_name
        if resolved and resolved.startswith("file:") and _TARBALL.search(resolved):
            self.skipped.append(
                SkippedPackage(name, resolved, "local tarball (file:)", node.jpath, location)
            )
            return
        if resolved and resolved.startswith("file:"):
            self.skipped.append(
                SkippedPackage(
                    name, resolved, "link to a local folder (file:)", node.jpath, location
                )
            )
            return
        if resolved and resolved.startswith(("git+", "git:", "github:")):
            self.skipped.append(
                SkippedPackage(name, resolved, "git dependency", node.jpath, location)
            )
            return
        parent = node.parent
        integrity = node.data.get("integrity")
        deprecated = node.data.get("deprecated")
        self.packages[location] = Package(
            name=name,
            version=version,
            location=location,
            path=node.jpath,
            direct=parent is self.root_node
            or (
                parent is not None
                and parent.key in self.ws_nodes
                and parent.parent is self.root_node
            ),
            extraneous=node.data.get("extraneous") is True,
            resolved=resolved,
            integrity=integrity if isinstance(integrity, str) else None,
            workspace=node.workspace,
            alias=node.key if name != node.key else None,
            deprecated=deprecated if isinstance(deprecated, str) else None,
        )

    # -- edges and problems ----------------------------------------------------------------
    def link(self, order: list[_Node]) -> None:
        nodes = [self.root_node, *order]
        for parent in nodes:
            if parent.location is None or (parent is not self.root_node and parent.version is None):
                continue
            if parent.is_bare and parent is not self.root_node and not parent.children:
                continue
            top = parent is self.root_node or (
                parent.workspace is not None and parent.parent is self.root_node
            )
            declared = _edge_types(parent.data, top=top)
            edges: list[Dependency] = []
            seen: set[str] = set()
            for child in parent.children:
                seen.add(child.key)
                if child.data.get("extraneous") is True:
                    self._extraneous(child)
                    continue
                if child.data.get("peerMissing") is True and parent is self.root_node:
                    self._problems_of(child, parent, DepType.PEER)  # npm 6 lists them here
                    continue
                if not child.data:  # npm >= 7: `{}` is an UNMET OPTIONAL DEPENDENCY
                    dep_type, spec = declared.get(child.key, (DepType.OPTIONAL, ""))
                    edges.append(Dependency(child.key, spec, dep_type, None))
                    continue
                dep_type, spec = declared.get(child.key, (DepType.PROD, ""))
                problem_spec = self._problems_of(child, parent, dep_type)
                spec = spec or problem_spec or ""
                if child.is_missing or child.version is None:
                    target = None
                    if not child.is_missing:
                        self.skipped.append(
                            SkippedPackage(
                                child.key, "", "npm ls entry has no version", child.jpath
                            )
                        )
                else:
                    target = child.location
                edges.append(Dependency(child.key, spec, dep_type, target))
            for name, (dep_type, spec) in declared.items():
                if name in seen:
                    continue
                if dep_type is DepType.DEV and parent is not self.root_node:
                    continue
                if dep_type is DepType.PEER_OPTIONAL:
                    edges.append(Dependency(name, spec, dep_type, None))
            if parent.location in self.edges:
                continue  # a deduped copy repeats the edges of its placement
            self.edges[parent.location] = edges

    def _extraneous(self, node: _Node) -> None:
        self.problems.append(
            TreeProblem(
                ProblemKind.EXTRANEOUS,
                node.real_name,
                node.version,
                node.jpath,
                found=node.version,
                detail="installed in node_modules but no package.json asks for it",
            )
        )

    def _problems_of(self, node: _Node, parent: _Node, dep_type: DepType) -> str | None:
        """Reported problems of ``node`` as seen under ``parent``; returns the wanted range
        when the node says it."""
        data = node.data
        parent_label = _label(parent, self.root)
        if node.is_missing:
            wanted, by = self._missing_evidence(node, parent_label)
            peer = data.get("peerMissing") is True or dep_type is DepType.PEER
            path = node.jpath
            found = None
            if data.get("peerMissing") is True:
                path = self._npm6_peer_path(node)
                found = self._npm6_installed_peer(node)
            detail = f"{'peer dependency ' if peer else ''}required by {shown(by)}, " + (
                f"{found} is installed (npm 6 calls it missing)" if found else "not installed"
            )
            self.problems.append(
                TreeProblem(
                    ProblemKind.PEER_INVALID
                    if found
                    else ProblemKind.PEER_MISSING
                    if peer
                    else ProblemKind.MISSING,
                    node.key,
                    found,
                    path,
                    wanted=wanted,
                    found=found,
                    detail=detail,
                )
            )
            return wanted
        invalid = data.get("invalid")
        if invalid not in (None, False):
            parts = parse_invalid(invalid)
            if parts:
                # npm >= 7 marks every appearance of the node, naming the dependent whose
                # edge it breaks: the problem is that dependent's edge, not this one
                parts = [(spec, who) for spec, who in parts if self._is_dependent(parent, who)]
                if not parts:
                    return None
            wanted = parts[0][0] if parts else None
            peer = dep_type in (DepType.PEER, DepType.PEER_OPTIONAL)
            if parts:
                detail = "; ".join(f'{who} wants "{spec}"' for spec, who in parts)
            else:
                detail = f"npm marks it invalid for {parent_label}"
            self.problems.append(
                TreeProblem(
                    ProblemKind.PEER_INVALID if peer else ProblemKind.INVALID,
                    node.real_name,
                    node.version,
                    node.jpath,
                    wanted=wanted,
                    found=node.version,
                    detail=detail,
                )
            )
            return wanted
        return None

    def _is_dependent(self, parent: _Node, who: str) -> bool:
        """``who`` (npm's ``from node_modules/a`` / ``from the root project``) is ``parent``."""
        if parent is self.root_node:
            return who == "the root project"
        if parent.location == who:
            return True
        if parent.location is not None and parent.location.startswith(_LOCATION_PREFIX):
            # without --long the folder is not known: the name after the last node_modules/
            return name_from_location(who) in (parent.key, parent.real_name)
        return False

    def _missing_evidence(self, node: _Node, parent_label: str) -> tuple[str | None, str]:
        data = node.data
        required = data.get("required")
        wanted: str | None = None
        by = parent_label
        if isinstance(required, str):
            wanted = required
        elif isinstance(required, Mapping):  # npm 6 peerMissing
            missing = required.get("peerMissing")
            if isinstance(missing, list) and missing and isinstance(missing[0], Mapping):
                who = missing[0].get("requiredBy")
                by = who if isinstance(who, str) else by
                requires = missing[0].get("requires")
                if isinstance(requires, str):
                    wanted = split_name_spec(requires)[1]
            if wanted is None:
                wanted = self._npm6_peer_range(node.key)
        problems = data.get("problems")
        for text in problems if isinstance(problems, list) else []:
            m = _MISSING_PROBLEM.match(text) if isinstance(text, str) else None
            if m and split_name_spec(m.group("spec"))[0] == node.key:
                wanted = wanted or split_name_spec(m.group("spec"))[1]
                by = m.group("by")
                break
        return wanted, by

    def _npm6_peer_range(self, name: str) -> str | None:
        texts = self.root.get("problems")
        for text in texts if isinstance(texts, list) else []:
            m = _PEER_PROBLEM.match(text) if isinstance(text, str) else None
            if m and split_name_spec(m.group("spec"))[0] == name:
                return split_name_spec(m.group("spec"))[1]
        return None

    @staticmethod
    def _npm6_installed_peer(node: _Node) -> str | None:
        """npm 6 lists a peer installed at a wrong version as peerMissing, with the
        installed package's own data as ``required``."""
        import nodesemver  # imported on use: start-up time

        required = node.data.get("required")
        if not isinstance(required, Mapping):
            return None
        version = required.get("version")
        if isinstance(version, str) and nodesemver.valid(version, loose=True):
            return version
        return None

    def _npm6_peer_path(self, node: _Node) -> tuple[str, ...]:
        """npm 6 lists a missing peer at the top level; the path goes through its wanter."""
        required = node.data.get("required")
        who: object = None
        if isinstance(required, Mapping):
            missing = required.get("peerMissing")
            if isinstance(missing, list) and missing and isinstance(missing[0], Mapping):
                who = missing[0].get("requiredBy")
        if who is None:
            for text in self.root.get("problems") or []:
                m = _PEER_PROBLEM.match(text) if isinstance(text, str) else None
                if m and split_name_spec(m.group("spec"))[0] == node.key:
                    who = m.group("by")
                    break
        if isinstance(who, str):
            name, version = split_name_spec(who)
            for pkg in self.packages.values():
                if pkg.name == name and pkg.version == version:
                    return (*pkg.path, node.key)
        return node.jpath

    def root_problems(self) -> None:
        """npm 6 keeps peer-dep-missing only in the root ``problems`` list sometimes."""
        texts = self.root.get("problems")
        if not isinstance(texts, list):
            return
        have = {(p.kind, p.name) for p in self.problems}
        for text in texts:
            m = _PEER_PROBLEM.match(text) if isinstance(text, str) else None
            if not m:
                continue
            name, spec = split_name_spec(m.group("spec"))
            if (ProblemKind.PEER_MISSING, name) in have or (ProblemKind.PEER_INVALID, name) in have:
                continue
            by_name, by_version = split_name_spec(m.group("by"))
            path: tuple[str, ...] = (name,)
            for pkg in self.packages.values():
                if pkg.name == by_name and pkg.version == by_version:
                    path = (*pkg.path, name)
                    break
            found = [p.version for p in self.packages.values() if p.name == name]
            self.problems.append(
                TreeProblem(
                    ProblemKind.PEER_INVALID if found else ProblemKind.PEER_MISSING,
                    name,
                    found[0] if found else None,
                    path,
                    wanted=spec,
                    found=found[0] if found else None,
                    detail=f"peer dependency required by {shown(m.group('by'))}"
                    + (", installed version does not satisfy it" if found else ", not installed"),
                )
            )

    def error_warning(self, error: object) -> None:
        if not isinstance(error, Mapping):
            return
        code = error.get("code")
        if code == "ELSPROBLEMS":
            return
        summary = str(error.get("summary") or "").strip().splitlines()
        self.warnings.append(
            f"npm ls reported {code or 'an error'}" + (f": {summary[0]}" if summary else "")
        )

    # -- result --------------------------------------------------------------------------
    def build(self, source: SourceInfo, extra_error: object = None) -> DependencyTree:
        order = self.walk()
        self.place(order)
        self.link(order)
        self.root_problems()
        self.error_warning(self.root.get("error"))
        self.error_warning(extra_error)
        root_name = self.root.get("name")
        root_version = self.root.get("version")
        importers = [
            Importer(
                name=root_name if isinstance(root_name, str) else "",
                version=root_version if isinstance(root_version, str) else None,
                location="",
                dependencies=tuple(self.edges.get("", ())),
            )
        ]
        for name, node in sorted(self.ws_nodes.items()):
            assert node.location is not None
            importers.append(
                Importer(
                    name=name,
                    version=node.version,
                    location=node.location,
                    dependencies=tuple(self.edges.get(node.location, ())),
                )
            )
        packages = []
        for pkg in self.packages.values():
            edges = tuple(self.edges.get(pkg.location, ()))
            packages.append(_with_edges(pkg, edges))
        packages = _flag_dev(_shortest(packages, importers, self.max_depth), importers)
        overrides, override_problems = parse_npm_overrides(self.root)  # --long repeats them
        self.warnings.extend(override_problems)
        if packages and not isinstance(self.root.get("path"), str):
            self.warnings.append(
                "npm ls output without --long: dev and optional dependencies cannot be told "
                "apart, so every package is weighed as a production dependency (save it "
                "with `npm ls --all --long --json`)"
            )
        return DependencyTree(
            source=source,
            root_name=root_name if isinstance(root_name, str) else None,
            root_version=root_version if isinstance(root_version, str) else None,
            packages=tuple(packages),
            importers=tuple(importers),
            skipped=tuple(self.skipped),
            reported_problems=tuple(_unique(self.problems)),
            warnings=tuple(self.warnings),
            overrides=overrides,
        )


def _shortest(
    packages: list[Package], importers: list[Importer], max_depth: int = PATH_DEPTH
) -> list[Package]:
    """Each placement's path as the lockfile readers give it (the shortest, ties broken by
    name: ``sources/_paths.py``), instead of where npm's JSON happens to nest its full copy,
    so a scan names the same path with or without node_modules. Placements no importer
    reaches (extraneous ones) keep npm's nesting."""
    from dataclasses import replace

    by_location = {p.location: p for p in packages}
    reached, _ = shortest_paths(
        importers,
        lambda loc: by_location[loc].dependencies,
        by_location,
        lambda dep: dep.name,
        max_depth,
    )
    out = []
    for pkg in packages:
        hit = reached.get(pkg.location)
        if hit is None or hit.path == pkg.path:
            out.append(pkg)
            continue
        workspace = None if hit.importer.is_root else hit.importer.name
        out.append(replace(pkg, path=hit.path, workspace=workspace))
    return out


def _with_edges(pkg: Package, edges: tuple[Dependency, ...]) -> Package:
    from dataclasses import replace

    return replace(pkg, dependencies=edges)


def _flag_dev(packages: list[Package], importers: list[Importer]) -> list[Package]:
    """Dev / optional from edge types, when the input says them (``--long``)."""
    from dataclasses import replace

    by_location = {p.location: p for p in packages}
    kinds = {DepType.DEV, DepType.OPTIONAL}
    if not any(e.type in kinds for i in importers for e in i.dependencies):
        return packages

    def reach(start_types: set[DepType], follow_optional: bool) -> set[str]:
        seen: set[str] = set()
        queue = [
            e.target
            for i in importers
            for e in i.dependencies
            if e.type in start_types and e.target
        ]
        while queue:
            loc = queue.pop()
            if loc in seen or loc not in by_location:
                continue
            seen.add(loc)
            queue.extend(
                e.target
                for e in by_location[loc].dependencies
                if e.target
                and (follow_optional or e.type is not DepType.OPTIONAL)
                and e.type is not DepType.DEV
            )
        return seen

    prod = reach({DepType.PROD, DepType.PEER}, follow_optional=False)
    prod_or_optional = reach({DepType.PROD, DepType.PEER, DepType.OPTIONAL}, True)
    out = []
    for pkg in packages:
        dev = pkg.location not in prod_or_optional
        optional = pkg.location not in prod and pkg.location in prod_or_optional
        out.append(replace(pkg, dev=dev and not pkg.extraneous, optional=optional))
    return out


def _closest(candidates: list[_Node], jpath: tuple[str, ...]) -> _Node:
    def shared(node: _Node) -> int:
        n = 0
        for a, b in zip(node.jpath, jpath, strict=False):
            if a != b:
                break
            n += 1
        return n

    return max(candidates, key=lambda c: (shared(c), -len(c.jpath)))


def _label(node: _Node, root: Mapping[str, Any]) -> str:
    if node.parent is None:
        return "the root project"
    return f"{node.real_name}@{node.version}" if node.version else node.key


def _unique(problems: list[TreeProblem]) -> list[TreeProblem]:
    seen: dict[tuple[ProblemKind, str, tuple[str, ...]], TreeProblem] = {}
    for p in problems:
        seen.setdefault((p.kind, p.name, p.path), p)
    return list(seen.values())
