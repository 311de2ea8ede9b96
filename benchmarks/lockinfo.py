"""The few facts the benchmark harness needs from an npm lockfile: which package names a registry
client will ask for. Deliberately independent of depaudit's own parser (that is what is measured).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NPM_LOCK_NAMES = ("npm-shrinkwrap.json", "package-lock.json")


def lockfile_in(folder: Path) -> Path | None:
    """The npm lockfile in ``folder``, shrinkwrap first (npm's own order), or None."""
    for name in NPM_LOCK_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def _v1_names(deps: dict[str, Any], names: set[str]) -> None:
    for key, entry in deps.items():
        version = str(entry.get("version", ""))
        if version.startswith("npm:") and "@" in version[5:]:
            names.add(version[4:].rsplit("@", 1)[0])
        else:
            names.add(key)
        nested = entry.get("dependencies")
        if isinstance(nested, dict):
            _v1_names(nested, names)


def registry_names(lockfile: Path) -> set[str]:
    """Every package name in the lockfile that a registry client may request: placed packages
    (the real name for aliases) and workspace packages (npm and libyear may look them up)."""
    data = json.loads(lockfile.read_text(encoding="utf-8"))
    names: set[str] = set()
    packages = data.get("packages")
    if isinstance(packages, dict):
        for key, entry in packages.items():
            if not key or not isinstance(entry, dict):
                continue
            if "node_modules/" in key:
                # the real name of an alias, and the alias itself (libyear asks for it)
                names.add(key.rsplit("node_modules/", 1)[1])
                if entry.get("name") and not entry.get("link"):
                    names.add(str(entry["name"]))
            elif entry.get("name"):
                names.add(str(entry["name"]))  # a workspace folder
    elif isinstance(data.get("dependencies"), dict):
        _v1_names(data["dependencies"], names)
    return names


def entry_count(lockfile: Path) -> int:
    """Entries in the lockfile: ``packages`` minus the root (v2/v3), or all nested
    ``dependencies`` (v1)."""
    data = json.loads(lockfile.read_text(encoding="utf-8"))
    packages = data.get("packages")
    if isinstance(packages, dict):
        return sum(1 for key in packages if key)

    def count(deps: dict[str, Any]) -> int:
        return sum(1 + count(e.get("dependencies") or {}) for e in deps.values())

    return count(data.get("dependencies") or {})
