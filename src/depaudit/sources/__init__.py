"""Input formats. ``SOURCES`` maps a lockfile name to its reader; ``detect`` picks one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from depaudit.errors import InputError
from depaudit.sources.interface import DependencySource

#: lockfile names depaudit looks for in a project folder, in the order it prefers them
LOCKFILE_NAMES: tuple[str, ...] = (
    "npm-shrinkwrap.json",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
)


def source_for(path: Path) -> DependencySource:
    """The reader for a lockfile, chosen by its file name (npm's formats by default)."""
    name = path.name
    if name in ("yarn.lock", "pnpm-lock.yaml", "bun.lock"):
        raise InputError(
            path,
            f"reading {name} is not supported yet",
            "depaudit reads npm-shrinkwrap.json, package-lock.json and saved `npm ls --json` "
            "output; run `npm install --package-lock-only` to make a package-lock.json",
        )
    from depaudit.sources.package_lock import PackageLockSource

    return PackageLockSource()


@dataclass(frozen=True, slots=True)
class Detected:
    lockfile: Path
    reason: str


def detect(directory: Path) -> Detected:
    """Find the lockfile to read in ``directory`` or raise an InputError saying what was
    looked for."""
    if not directory.exists():
        raise InputError(directory, "no such directory", "pass the folder of a Node.js project")
    if not directory.is_dir():
        raise InputError(
            directory, "is not a directory", "use --lockfile FILE or --npm-ls FILE for a file"
        )
    found = [directory / n for n in LOCKFILE_NAMES if (directory / n).is_file()]
    if not found:
        raise InputError(
            directory,
            "no lockfile found (looked for " + ", ".join(LOCKFILE_NAMES) + ")",
            "run depaudit in the project root, or create a lockfile with "
            "`npm install --package-lock-only`",
        )
    first = found[0]
    if first.name in ("npm-shrinkwrap.json", "package-lock.json"):
        reason = f"found {first.name}"
        if first.name == "npm-shrinkwrap.json" and len(found) > 1:
            reason += " (npm-shrinkwrap.json wins over package-lock.json, as in npm)"
        return Detected(first, reason)
    # only non-npm lockfiles: source_for says clearly that the reader is not there yet
    source_for(first)
    return Detected(first, f"found {first.name}")
