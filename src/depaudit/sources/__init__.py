"""Input formats. ``SOURCES`` is the one registry of lockfile formats (file name, package
manager, reader); ``source_for`` and ``detect`` derive from it."""

from __future__ import annotations

import importlib
from pathlib import Path

from depaudit.budget import Budget
from depaudit.errors import InputError
from depaudit.slots import dataclass
from depaudit.sources.interface import DependencySource


@dataclass(frozen=True, slots=True)
class LockfileKind:
    """One lockfile format: its file name, the package manager that writes it, and its
    reader (a module and a class, imported on first use)."""

    filename: str
    manager: str
    module: str
    reader: str

    def source(self, budget: Budget | None = None) -> DependencySource:
        found = getattr(importlib.import_module(self.module), self.reader)(budget)
        assert isinstance(found, DependencySource)
        return found


#: THE registry of lockfile formats, in the order depaudit prefers them in a project folder;
#: LOCKFILE_NAMES, MANAGER_OF, NPM_LOCKFILES and detect() all derive from it
SOURCES: tuple[LockfileKind, ...] = (
    LockfileKind(
        "npm-shrinkwrap.json", "npm", "depaudit.sources.package_lock", "PackageLockSource"
    ),
    LockfileKind("package-lock.json", "npm", "depaudit.sources.package_lock", "PackageLockSource"),
    LockfileKind("yarn.lock", "yarn", "depaudit.sources.yarn_lock", "YarnLockSource"),
    LockfileKind("pnpm-lock.yaml", "pnpm", "depaudit.sources.pnpm_lock", "PnpmLockSource"),
    LockfileKind("bun.lock", "bun", "depaudit.sources.bun_lock", "BunLockSource"),
)
_BY_NAME = {kind.filename: kind for kind in SOURCES}

#: lockfile names depaudit looks for in a project folder, in the order it prefers them
LOCKFILE_NAMES: tuple[str, ...] = tuple(kind.filename for kind in SOURCES)
#: the package manager that writes each lockfile
MANAGER_OF: dict[str, str] = {kind.filename: kind.manager for kind in SOURCES}
#: lockfiles whose node_modules `npm ls` can read
NPM_LOCKFILES: tuple[str, ...] = tuple(k.filename for k in SOURCES if k.manager == "npm")


def source_for(path: Path, budget: Budget | None = None) -> DependencySource:
    """The reader for a lockfile, chosen by its file name; a renamed file by its extension
    (``*.lock``: yarn, ``*.yaml``: pnpm), else npm's formats."""
    name = path.name
    kind = _BY_NAME.get(name)
    if kind is None:
        if name.endswith(".lock"):
            kind = _BY_NAME["yarn.lock"]
        elif name.endswith((".yaml", ".yml")):
            kind = _BY_NAME["pnpm-lock.yaml"]
        else:
            kind = _BY_NAME["package-lock.json"]
    return kind.source(budget)


#: what each package manager leaves in node_modules after an install
INSTALL_MARKERS: tuple[tuple[str, str], ...] = (
    (".package-lock.json", "npm"),
    (".yarn-state.yml", "yarn"),
    (".yarn-integrity", "yarn"),
    (".modules.yaml", "pnpm"),
)


@dataclass(frozen=True, slots=True)
class Detected:
    lockfile: Path
    reason: str
    #: set when the choice among several lockfiles deserves a warning in the report
    warning: str | None = None


def detect(directory: Path) -> Detected:
    """Find the lockfile to read in ``directory`` or raise an InputError saying what was
    looked for. With lockfiles of several package managers, follow package.json's
    ``packageManager``, else the one whose metadata is in node_modules, else the first in
    :data:`LOCKFILE_NAMES` order, and say why in ``reason`` (and ``warning``)."""
    if not directory.exists():
        raise InputError(directory, "no such directory", "pass the folder of a Node.js project")
    if not directory.is_dir():
        raise InputError(
            directory, "is not a directory", "use --lockfile FILE or --npm-ls FILE for a file"
        )
    found = [directory / n for n in LOCKFILE_NAMES if (directory / n).is_file()]
    if not found:
        above = _lockfile_above(directory)
        raise InputError(
            directory,
            "no lockfile found (looked for " + ", ".join(LOCKFILE_NAMES) + ")",
            f"{above} is a lockfile above this folder (a workspace root?): scan {above.parent}"
            if above is not None
            else "run depaudit in the project root, or create a lockfile with "
            f"`{LOCK_ONLY.get(_package_manager(directory) or '', LOCK_ONLY['npm'])}`",
        )
    # one lockfile per manager: npm-shrinkwrap.json wins over package-lock.json, as in npm
    by_manager: dict[str, Path] = {}
    for lockfile in found:
        by_manager.setdefault(MANAGER_OF[lockfile.name], lockfile)
    first = found[0]
    shrinkwrap_note = (
        " (npm-shrinkwrap.json wins over package-lock.json, as in npm)"
        if first.name == "npm-shrinkwrap.json" and (directory / "package-lock.json").is_file()
        else ""
    )
    if len(by_manager) == 1:
        return Detected(first, f"found {first.name}{shrinkwrap_note}")
    names = ", ".join(p.name for p in by_manager.values())
    declared = _package_manager(directory)
    if declared in by_manager:
        chosen = by_manager[declared]
        reason = (
            f"found several lockfiles ({names}); read {chosen.name} because package.json's "
            f"packageManager is {declared}"
        )
        return Detected(chosen, reason, reason)
    installed = {
        manager
        for marker, manager in INSTALL_MARKERS
        if (directory / "node_modules" / marker).is_file()
    } & set(by_manager)
    if len(installed) == 1:
        manager = installed.pop()
        chosen = by_manager[manager]
        reason = (
            f"found several lockfiles ({names}); read {chosen.name} because node_modules "
            f"was installed by {manager}"
        )
        return Detected(chosen, reason, reason)
    chosen = by_manager[MANAGER_OF[first.name]]
    reason = (
        f"found several lockfiles ({names}) and neither package.json's packageManager nor "
        f"node_modules says which is in use; read {chosen.name}, the first in depaudit's "
        "order (use --lockfile to choose)"
    )
    return Detected(chosen, reason, reason)


#: the command that writes a lockfile without installing, per package manager
LOCK_ONLY = {
    "npm": "npm install --package-lock-only",
    "pnpm": "pnpm install --lockfile-only",
    "yarn": "yarn install",
    "bun": "bun install --lockfile-only",
}


def _package_manager(directory: Path) -> str | None:
    """``pnpm`` from package.json's ``"packageManager": "pnpm@9.1.0+sha..."``, else from
    ``devEngines.packageManager`` (``{"name": "pnpm", ...}``, or a list of such)."""
    manifest = directory / "package.json"
    if not manifest.is_file():
        return None
    from depaudit.sources._io import read_json_object

    try:
        data = read_json_object(manifest, what="package.json")
    except InputError:
        return None  # the reader of the lockfile reports a broken package.json
    value = data.get("packageManager")
    if isinstance(value, str) and "@" in value[1:]:
        return value.split("@", 1)[0].strip().lower() or None
    engines = data.get("devEngines")
    wanted = engines.get("packageManager") if isinstance(engines, dict) else None
    first = wanted[0] if isinstance(wanted, list) and wanted else wanted
    name = first.get("name") if isinstance(first, dict) else None
    return name.strip().lower() or None if isinstance(name, str) else None


def _lockfile_above(directory: Path) -> Path | None:
    """The nearest lockfile in a folder above ``directory`` (a workspace's root), if any."""
    try:
        here = directory.resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    for folder in list(here.parents)[:16]:
        for name in LOCKFILE_NAMES:
            candidate = folder / name
            try:
                if candidate.is_file():
                    return candidate
            except OSError:
                return None
    return None
