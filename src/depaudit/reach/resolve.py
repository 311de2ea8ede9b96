"""Node's module resolution algorithm, in Python, over the files on disk.

It follows https://nodejs.org/api/modules.html#all-together and the ESM resolver's package
``exports``/``imports`` maps (https://nodejs.org/api/packages.html): relative and absolute
paths, extensions, directory ``index``, ``main``, ``node_modules`` lookup up the folders,
``exports`` with conditions and ``*`` patterns, ``#imports``, package self-reference; files
are real paths (``realpath``), as Node keeps them, so symlinked workspaces and pnpm's
``node_modules/.pnpm`` layout resolve as Node resolves them.

For the app's own TypeScript sources it also finds ``x.ts`` for ``./x`` or ``./x.js``
(what ``tsc``/``tsx``/``ts-node`` do). Every stat and ``package.json`` is read once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

from depaudit.js.specifiers import split_package
from depaudit.slots import dataclass

#: Node's built-in modules (``node:`` prefix optional); subpaths like ``fs/promises`` too.
#: ``node:test``, ``node:sqlite`` and ``node:sea`` exist only with the prefix.
BUILTINS = frozenset(
    """assert async_hooks buffer child_process cluster console constants crypto dgram
    diagnostics_channel dns domain events fs http http2 https inspector module net os path
    perf_hooks process punycode querystring readline repl stream string_decoder sys timers
    tls trace_events tty url util v8 vm wasi worker_threads zlib""".split()  # noqa: SIM905
)

REQUIRE_CONDITIONS: tuple[str, ...] = ("node", "require", "node-addons", "default")
IMPORT_CONDITIONS: tuple[str, ...] = ("node", "import", "node-addons", "default")

_JS_EXTENSIONS = (".js", ".json", ".node", ".mjs", ".cjs")
_TS_EXTENSIONS = (".ts", ".tsx", ".mts", ".cts")
_TS_FOR_JS = {".js": (".ts", ".tsx"), ".mjs": (".mts",), ".cjs": (".cts",), ".jsx": (".tsx",)}


def is_builtin(specifier: str) -> bool:
    if specifier.startswith("node:"):
        return True
    return specifier.split("/", 1)[0] in BUILTINS


@dataclass(frozen=True, slots=True)
class Resolved:
    """A resolution: the real path of the file, or a built-in module."""

    path: str | None
    builtin: bool = False


BUILTIN = Resolved(None, builtin=True)


class Resolver:
    """Resolve specifiers the way Node does; remembers what it stat-ed and read."""

    def __init__(self, typescript_under: Sequence[str] = ()) -> None:
        self._isfile: dict[str, bool] = {}
        self._isdir: dict[str, bool] = {}
        self._real: dict[str, str] = {}
        self._manifests: dict[str, dict[str, Any] | None] = {}
        self._scope: dict[str, str | None] = {}
        #: folders whose files are the app's own sources (TypeScript extensions tried there)
        self.typescript_under = tuple(os.path.join(p, "") for p in typescript_under)

    # -- the file system, memoised ------------------------------------------------------------

    def isfile(self, path: str) -> bool:
        known = self._isfile.get(path)
        if known is None:
            known = os.path.isfile(path)
            self._isfile[path] = known
        return known

    def isdir(self, path: str) -> bool:
        known = self._isdir.get(path)
        if known is None:
            known = os.path.isdir(path)
            self._isdir[path] = known
        return known

    def realpath(self, path: str) -> str:
        """``os.path.realpath(path)``, one name at a time from the nearest folder already
        resolved: one ``lstat`` for each name not seen before, where ``os.path.realpath``
        makes one for every name of the path each time (the files of one package share
        their folders; 2,400 placements of an installed theia cost ~12,000 ``lstat``s), and
        a ``stat`` for a link. Past a link whose target is not there (a loop, or dangling),
        and for a path with ``.`` or ``..`` in it, the whole path is ``os.path.realpath``'s,
        which then keeps the rest of the path as it is."""
        known = self._real.get(path)
        if known is not None:
            return known
        names: list[str] = []
        head = path
        while True:
            base = self._real.get(head)
            if base is not None:
                break
            parent, name = os.path.split(head)
            if not name or not parent or parent == head:
                base = os.path.realpath(head)  # the root or a relative start
                self._real[head] = base
                break
            if name in (".", ".."):  # (the resolver's paths are normal): read as a whole
                return os.path.realpath(path)
            names.append(name)
            head = parent
        for name in reversed(names):
            head = os.path.join(head, name)
            joined = os.path.join(base, name)
            if os.path.islink(joined):
                base = os.path.realpath(joined)
                if not os.path.exists(base):
                    # a dangling link, or a loop, where os.path.realpath stops resolving
                    # and keeps the rest of the path as it is: so does this, by asking it
                    return os.path.realpath(path)
            else:
                base = joined
            self._real[head] = base
        return base

    def manifest(self, folder: str) -> dict[str, Any] | None:
        """The parsed ``package.json`` of ``folder`` (``None``: none, or not a JSON object)."""
        if folder in self._manifests:
            return self._manifests[folder]
        data: dict[str, Any] | None = None
        path = os.path.join(folder, "package.json")
        if self.isfile(path):
            try:
                with open(path, "rb") as handle:
                    raw = json.loads(handle.read())
                data = raw if isinstance(raw, dict) else None
            except (OSError, ValueError):
                data = None
        self._manifests[folder] = data
        return data

    def package_scope(self, folder: str) -> str | None:
        """The nearest folder at or above ``folder`` with a package.json (Node's scope)."""
        if folder in self._scope:
            return self._scope[folder]
        found: str | None
        if self.manifest(folder) is not None:
            found = folder
        elif os.path.basename(folder) == "node_modules":
            found = None
        else:
            parent = os.path.dirname(folder)
            found = None if parent == folder else self.package_scope(parent)
        self._scope[folder] = found
        return found

    # -- resolution ---------------------------------------------------------------------------

    def resolve(self, specifier: str, from_dir: str, conditions: Sequence[str]) -> Resolved | None:
        """The file ``specifier`` loads from a module in ``from_dir``; ``None`` when Node
        would throw MODULE_NOT_FOUND."""
        if is_builtin(specifier):
            return BUILTIN
        if specifier.startswith("file://"):
            specifier = specifier[len("file://") :]
        found: str | Resolved | None
        if specifier in (".", "..") or specifier.startswith(("./", "../", "/")):
            found = self._file_or_directory(os.path.normpath(os.path.join(from_dir, specifier)))
        elif specifier.startswith("#"):
            found = self._imports(specifier, from_dir, conditions)
        else:
            found = self._package(specifier, from_dir, conditions)
        if isinstance(found, Resolved):
            return found
        return Resolved(self.realpath(found)) if found is not None else None

    def _typescript(self, path: str) -> bool:
        return (
            bool(self.typescript_under)
            and path.startswith(self.typescript_under)
            and "node_modules" not in path
        )

    def _file(self, path: str) -> str | None:
        if self.isfile(path):
            return path
        ts = self._typescript(path)
        if ts:
            stem, ext = os.path.splitext(path)
            for alt in _TS_FOR_JS.get(ext, ()):
                if self.isfile(stem + alt):
                    return stem + alt
        for ext in _JS_EXTENSIONS + (_TS_EXTENSIONS if ts else ()):
            if self.isfile(path + ext):
                return path + ext
        return None

    def _index(self, folder: str) -> str | None:
        return self._file(os.path.join(folder, "index"))

    def _directory(self, folder: str) -> str | None:
        if not self.isdir(folder):
            return None
        manifest = self.manifest(folder)
        main = manifest.get("main") if manifest else None
        if isinstance(main, str) and main:
            target = os.path.normpath(os.path.join(folder, main))
            found = self._file(target) or self._index(target)
            if found is not None:
                return found
        return self._index(folder)

    def _file_or_directory(self, path: str) -> str | None:
        return self._file(path) or self._directory(path)

    def _package(
        self, specifier: str, from_dir: str, conditions: Sequence[str]
    ) -> str | Resolved | None:
        split = split_package(specifier)
        if split is None:
            return None
        name, subpath = split
        scope = self.package_scope(from_dir)
        if scope is not None:  # self-reference through the package's own exports
            own = self.manifest(scope) or {}
            if own.get("name") == name and "exports" in own:
                return self._exports(scope, own["exports"], subpath, conditions)
        folder = from_dir
        while True:
            if os.path.basename(folder) != "node_modules":
                candidate = os.path.join(folder, "node_modules", name)
                if self.isdir(candidate):
                    manifest = self.manifest(candidate)
                    if manifest is not None and "exports" in manifest:
                        return self._exports(candidate, manifest["exports"], subpath, conditions)
                    return self._file_or_directory(
                        os.path.normpath(os.path.join(candidate, subpath))
                    )
            parent = os.path.dirname(folder)
            if parent == folder:
                return None
            folder = parent

    def _exports(
        self, folder: str, exports: Any, subpath: str, conditions: Sequence[str]
    ) -> str | None:
        if not isinstance(exports, dict) or not any(str(k).startswith(".") for k in exports):
            exports = {".": exports}
        target = match_subpath(exports, subpath)
        if target is None:
            return None
        value, star = target
        found = resolve_target(value, star, conditions)
        if found is None:
            return None
        path = os.path.normpath(os.path.join(folder, found))
        return path if self.isfile(path) else None

    def _imports(
        self, specifier: str, from_dir: str, conditions: Sequence[str]
    ) -> str | Resolved | None:
        scope = self.package_scope(from_dir)
        manifest = self.manifest(scope) if scope else None
        imports = manifest.get("imports") if manifest else None
        if scope is None or not isinstance(imports, dict):
            return None
        target = match_subpath(imports, specifier)
        if target is None:
            return None
        value, star = target
        found = resolve_target(value, star, conditions, allow_bare=True)
        if found is None:
            return None
        if found.startswith("./"):
            path = os.path.normpath(os.path.join(scope, found))
            return path if self.isfile(path) else None
        return self.resolve(found, scope, conditions)


def match_subpath(mapping: dict[str, Any], subpath: str) -> tuple[Any, str | None] | None:
    """The target of ``subpath`` in an exports/imports map and what ``*`` matched."""
    if subpath in mapping and "*" not in subpath:
        return mapping[subpath], None
    best: tuple[str, str] | None = None
    for key in mapping:
        star = key.find("*")
        if star < 0 or key.find("*", star + 1) >= 0:
            continue
        prefix, suffix = key[:star], key[star + 1 :]
        if (
            subpath.startswith(prefix)
            and subpath != prefix
            and (not suffix or (subpath.endswith(suffix) and len(subpath) >= len(key)))
        ):
            matched = subpath[len(prefix) : len(subpath) - len(suffix)]
            # Node's pattern key order: the longest prefix wins
            if best is None or len(prefix) > len(best[0].split("*", 1)[0]):
                best = (key, matched)
    if best is not None:
        return mapping[best[0]], best[1]
    for key in sorted(mapping, key=len, reverse=True):  # legacy folder mappings: "./x/"
        if key.endswith("/") and subpath.startswith(key):
            return _append(mapping[key], subpath[len(key) :]), None
    return None


def _append(target: Any, rest: str) -> Any:
    if isinstance(target, str):
        return target + rest
    return None


def resolve_target(
    target: Any, star: str | None, conditions: Sequence[str], allow_bare: bool = False
) -> str | None:
    """A target of an exports/imports map under ``conditions`` (in map order, as Node)."""
    if isinstance(target, str):
        if not target.startswith("./") and not allow_bare:
            return None
        return target.replace("*", star) if star is not None else target
    if isinstance(target, list):
        for item in target:
            found = resolve_target(item, star, conditions, allow_bare)
            if found is not None:
                return found
        return None
    if isinstance(target, dict):
        for key, value in target.items():
            if key in conditions:
                found = resolve_target(value, star, conditions, allow_bare)
                if found is not None:
                    return found
        return None
    return None


def all_targets(target: Any, conditions: Iterable[str]) -> list[str]:
    """Every string target reachable under any of ``conditions`` (entry points of a package:
    ``exports`` may send ``require`` and ``import`` to different files)."""
    wanted = set(conditions)
    found: list[str] = []
    stack = [target]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(v for k, v in reversed(list(item.items())) if k in wanted)
    return found
