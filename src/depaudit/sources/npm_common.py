"""Pieces every npm tree reader shares (package-lock.json, npm-shrinkwrap.json, npm ls).

- names from ``node_modules/...`` locations, and ``npm:`` alias specs;
- what kind of spec a dependency uses (registry range, alias, git, file, link, URL);
- dependency edges from a manifest-shaped object (lock entry or package.json), validated;
- node's module resolution over a set of locations (walk up, look in ``node_modules``);
- install paths (BFS from the importers) for every placement.

Everything here is pure: no file is read except by :func:`read_manifest`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from depaudit.errors import InputError
from depaudit.models import Dependency, DepType, Importer, Package
from depaudit.sources._paths import MAX_PATH_DEPTH, shortest_paths

NODE_MODULES = "node_modules/"

#: dependency fields of a manifest and the edge type each gives, in the order npm loads them
#: (a later field overrides an earlier one for the same name, except devDependencies,
#: which never override a production edge)
DEP_FIELDS: tuple[tuple[str, DepType], ...] = (
    ("dependencies", DepType.PROD),
    ("optionalDependencies", DepType.OPTIONAL),
    ("peerDependencies", DepType.PEER),
    ("devDependencies", DepType.DEV),
)

# a package name as npm accepts it in a folder name: optional @scope/, no slashes otherwise,
# never "." / ".." and never empty
_NAME_RE = re.compile(r"^(?:@[^/@\s]+/)?[^/@\s][^/\s]*$")
_GIT_RE = re.compile(r"^(?:git\+[a-z]+:|git:|github:|gitlab:|bitbucket:|gist:)", re.IGNORECASE)
# "user/repo" and "user/repo#ref" shorthands (npm-package-arg treats them as GitHub)
_GITHUB_SHORT_RE = re.compile(r"^[^@/:\s.][^/:\s]*/[^/:\s]+(?:#.*)?$")
_URL_RE = re.compile(r"^https?://", re.IGNORECASE)
# a concrete version: digits first (npm's own lock tools use the same test)
_VERSION_RE = re.compile(r"^v?\d")


def is_valid_name(name: str) -> bool:
    """True when ``name`` can be an installed package's name (not a path trick)."""
    if not _NAME_RE.match(name):
        return False
    last = name.rsplit("/", 1)[-1]
    return last not in (".", "..") and "\\" not in name and "\x00" not in name


def name_from_location(location: str) -> str | None:
    """The installed-as name of the placement at ``location`` (the part after the last
    ``node_modules/``; scoped names keep their scope), or None when ``location`` is not
    inside a ``node_modules`` folder."""
    i = location.rfind("/" + NODE_MODULES)
    if i >= 0:
        return location[i + 1 + len(NODE_MODULES) :]
    if location.startswith(NODE_MODULES):
        return location[len(NODE_MODULES) :]
    return None


def is_in_node_modules(location: str) -> bool:
    return location.startswith(NODE_MODULES) or ("/" + NODE_MODULES) in location


def parse_alias(spec: str) -> tuple[str, str] | None:
    """``npm:real@range`` -> ``("real", "range")``; ``npm:@s/real`` -> ``("@s/real", "*")``.
    None when ``spec`` is not an npm alias."""
    if not spec.startswith("npm:"):
        return None
    body = spec[4:]
    at = body.find("@", 1)  # skip the scope's leading @
    if at < 0:
        name, rng = body, "*"
    else:
        name, rng = body[:at], body[at + 1 :] or "*"
    if not name or not is_valid_name(name):
        return None
    return name, rng


def spec_kind(spec: str) -> str:
    """What a dependency spec points at: ``alias``, ``git``, ``file``, ``link``, ``url``,
    ``workspace`` or ``registry`` (a range, a version or a dist-tag)."""
    s = spec.strip()
    if s.startswith("npm:"):
        return "alias"
    if s.startswith("file:"):
        return "file"
    if s.startswith("link:"):
        return "link"
    if s.startswith("workspace:"):
        return "workspace"
    if _GIT_RE.match(s) or (_URL_RE.match(s) and (".git" in s or "#" in s)):
        return "git"
    if _URL_RE.match(s):
        return "url"
    if s.startswith((".", "/", "~")):
        return "file"
    if _GITHUB_SHORT_RE.match(s):
        return "git"
    return "registry"


def registry_tarball_version(name: str, url: str) -> str | None:
    """The version in a registry tarball URL of ``name``
    (``<registry>/@scope/name/-/name-1.2.3.tgz``), as npm 6 wrote it in a v1 lock's
    ``version`` when a dependency was installed by that URL; npm 7+ reads it as that
    registry version. ``None`` for any other URL."""
    if spec_kind(url) != "url":
        return None
    path = unquote(urlsplit(url).path)
    unscoped = name.rsplit("/", 1)[-1]
    marker = f"/{name}/-/{unscoped}-"
    at = path.rfind(marker)
    if at < 0 or not path.endswith(".tgz"):
        return None
    version = path[at + len(marker) : -len(".tgz")]
    return version if looks_like_version(version) else None


def looks_like_version(value: str) -> bool:
    """A concrete version such as ``1.2.3`` or ``0.0.0-rc.1`` (not a spec, URL or path)."""
    return bool(_VERSION_RE.match(value)) and ":" not in value and "/" not in value


def wanted_range(spec: str) -> str:
    """The range part of a spec: ``npm:real@^2`` -> ``^2``; anything else unchanged."""
    alias = parse_alias(spec)
    return alias[1] if alias else spec


# --- node's module resolution over lockfile locations -------------------------------------


def search_dirs(location: str) -> Iterator[str]:
    """Folders whose ``node_modules`` node searches from ``location``, nearest first:
    the folder itself, then each parent, skipping folders named ``node_modules``."""
    d = location
    while True:
        if d.rsplit("/", 1)[-1] != "node_modules":
            yield d
        if not d:
            return
        i = d.rfind("/")
        d = d[:i] if i >= 0 else ""


def resolve_location(name: str, start: str, present: Container[str]) -> str | None:
    """Where ``require(name)`` from ``start`` lands among ``present`` locations (the folders
    of :func:`search_dirs`, walked inline: this runs once per edge of the tree)."""
    d = start
    while True:
        if d != "node_modules" and not d.endswith("/node_modules"):
            candidate = f"{d}/node_modules/{name}" if d else f"node_modules/{name}"
            if candidate in present:
                return candidate
        if not d:
            return None
        i = d.rfind("/")
        d = d[:i] if i >= 0 else ""


def parent_location(location: str) -> str | None:
    """The folder holding the ``node_modules`` that contains ``location``
    (``node_modules/a/node_modules/b`` -> ``node_modules/a``; ``node_modules/a`` -> ``""``)."""
    if location.startswith(NODE_MODULES) and "/" + NODE_MODULES not in location:
        return ""
    i = location.rfind("/" + NODE_MODULES)
    if i < 0:
        return None
    return location[:i]


# --- edges from manifests --------------------------------------------------------------------


def string_map(value: Any, what: str, source: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InputError(
            source,
            f"{what} is a JSON {json_type(value)}, not an object",
            "the file is damaged; regenerate it",
        )
    for k, v in value.items():
        if not isinstance(v, str):
            raise InputError(
                source,
                f"{what}[{k!r}] is a JSON {json_type(v)}, not a string",
                "the file is damaged; regenerate it",
            )
    return value


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def manifest_edges(
    data: Mapping[str, Any],
    where: str,
    source: object,
    *,
    include_dev: bool,
    fields: Iterable[tuple[str, DepType]] = DEP_FIELDS,
) -> dict[str, tuple[str, DepType]]:
    """Declared edges of a manifest-shaped object: name -> (spec, type), validated.

    npm's rules: ``optionalDependencies`` override ``dependencies``; a peer dependency
    marked optional in ``peerDependenciesMeta`` is ``peerOptional``; devDependencies only
    count for importers (``include_dev``) and never override a production edge.
    """
    edges: dict[str, tuple[str, DepType]] = {}
    meta_raw = data.get("peerDependenciesMeta")
    optional_peers: set[str] = set()
    if meta_raw is not None:
        if not isinstance(meta_raw, dict):
            raise InputError(
                source,
                f"{where}.peerDependenciesMeta is a JSON {json_type(meta_raw)}, not an object",
                "the file is damaged; regenerate it",
            )
        optional_peers = {
            k for k, v in meta_raw.items() if isinstance(v, dict) and v.get("optional") is True
        }
    for field_name, dep_type in fields:
        raw = data.get(field_name)
        if raw is None:
            continue
        if dep_type is DepType.DEV and not include_dev:
            continue
        specs = string_map(raw, f"{where}.{field_name}", source)
        for name, spec in specs.items():
            if dep_type is DepType.DEV and name in edges:
                continue
            kind = dep_type
            if dep_type is DepType.PEER and name in optional_peers:
                kind = DepType.PEER_OPTIONAL
            edges[name] = (spec, kind)
    return edges


# --- install paths ---------------------------------------------------------------------------


def location_names(location: str, name_at: Callable[[str], str | None]) -> tuple[str, ...]:
    """Names along a location's ``node_modules`` chain (a fallback path for placements no
    importer reaches): ``node_modules/a/node_modules/b`` -> ``("a", "b")``, each name as
    ``name_at(prefix)`` gives it (the real name of an aliased placement) or the folder name."""
    names: list[str] = []
    loc: str | None = location
    while loc:
        here = name_at(loc) or name_from_location(loc) or loc
        names.append(here)
        loc = parent_location(loc)
    names.reverse()
    return tuple(names)


def assign_paths(
    importers: Iterable[Importer],
    packages: Mapping[str, Package],
    max_depth: int = MAX_PATH_DEPTH,
) -> dict[str, Package]:
    """Fill ``path``, ``direct``, ``wanted`` and ``workspace`` of every placement, in place
    (:func:`fill`: the readers call this on the packages they have just made).

        A best-first search from the importers over resolved edges gives every placement its
        shortest path, ties broken lexicographically by the names along it; the root's edges
        start at depth 1, a workspace's at depth 2 (the workspace's own name comes first).
        ``direct``: an importer depends on it. ``wanted``: the range asked for by the parent on
        that path. ``workspace``: the workspace that path starts from (None for the root).
        Placements no importer reaches keep the names along their location as their path.
    """
    reached, direct = shortest_paths(
        importers,
        lambda loc: packages[loc].dependencies,
        packages,
        # a step is the name the package is installed under (an alias keeps its alias, as in
        # node_modules and npm ls; the real name is Package.name)
        lambda dep: packages[dep.target].installed_as if dep.target else dep.name,
        max_depth,
    )

    def name_at(loc: str) -> str | None:
        pkg = packages.get(loc)
        return pkg.name if pkg else None

    out: dict[str, Package] = {}
    for loc, pkg in packages.items():
        found = reached.get(loc)
        if found is None:
            out[loc] = fill(pkg, {"path": location_names(loc, name_at), "direct": False})
            continue
        origin = None if found.importer.is_root else found.importer.name
        out[loc] = fill(
            pkg,
            {
                "path": found.path,
                "direct": loc in direct,
                "wanted": wanted_range(found.spec),
                "workspace": origin,
            },
        )
    return out


#: each slot of a Package and what sets it on a package (bypassing the frozen ``__setattr__``)
_PACKAGE_SETTERS: dict[str, Any] = {
    name: Package.__dict__[name].__set__ for name in Package.__slots__
}


def fill(pkg: Package, changes: Mapping[str, object]) -> Package:
    """Set ``changes`` on ``pkg`` itself, which a reader has just made and shares with no
    one yet, and return it: a package-lock's placements get their edges, then their paths,
    after they are made, and copying them each time (``dataclasses.replace``, or slot by
    slot) cost ~0.4 s at 50,000 placements. Never for a package anything else may hold."""
    for name, value in changes.items():
        setter = _PACKAGE_SETTERS.get(name)
        if setter is None:
            raise TypeError(f"Package has no field {name!r}")
        setter(pkg, value)
    return pkg


def resolve_edges(
    edges: Mapping[str, tuple[str, DepType]],
    start: str,
    present: Container[str],
    follow: Callable[[str], str],
) -> tuple[Dependency, ...]:
    """Turn declared edges into :class:`Dependency` s resolved from ``start``; ``follow``
    maps a found location to the final target (a link's target folder)."""
    out = []
    for name in sorted(edges):
        spec, dep_type = edges[name]
        found = resolve_location(name, start, present)
        out.append(Dependency(name, spec, dep_type, follow(found) if found is not None else None))
    return tuple(out)
