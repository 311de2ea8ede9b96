"""Scratch copies of corpus projects for the tools under test.

npm's tools need a project folder: the lockfile and every package.json (workspaces included).
``npm outdated`` and ``libyear`` also read the *installed* tree, so :func:`materialize` lays out
``node_modules`` from the lockfile the way ``npm ci`` would, with one ``package.json`` per
installed package (name, version and the dependency maps from the lock entry), a symlink per
workspace link and npm's hidden lockfile (``node_modules/.package-lock.json``, written last, as
``npm ci`` leaves it: npm trusts it when it is newer than every folder, and ``npm ls`` then
builds its tree from it instead of each package's ``package.json``), but without tarball
contents: the benchmark measures dependency analysis, not downloads.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks.lockinfo import NPM_LOCK_NAMES

DEP_FIELDS = ("dependencies", "optionalDependencies", "peerDependencies", "peerDependenciesMeta")


def copy_project(source: Path, target: Path) -> Path:
    """Copy the lockfile and every package.json under ``source`` into ``target``."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for path in source.rglob("*"):
        if not path.is_file() or "node_modules" in path.parts:
            continue
        if path.name == "package.json" or path.name in NPM_LOCK_NAMES:
            dest = target / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
    return target


def materialize(project: Path, lockfile: Path) -> int:
    """Lay out node_modules in ``project`` from a v2/v3 ``lockfile``; returns folders made."""
    data = json.loads(lockfile.read_text(encoding="utf-8"))
    packages = data.get("packages") or {}
    made = 0
    for key, entry in packages.items():
        if "node_modules/" not in key or not isinstance(entry, dict):
            continue
        folder = project / key
        if entry.get("link"):
            resolved = project / str(entry.get("resolved", ""))
            folder.parent.mkdir(parents=True, exist_ok=True)
            if not folder.exists() and not folder.is_symlink():
                os.symlink(os.path.relpath(resolved, folder.parent), folder)
            continue
        name = entry.get("name") or key.rsplit("node_modules/", 1)[1]
        manifest: dict[str, object] = {"name": name, "version": entry.get("version", "0.0.0")}
        for field in DEP_FIELDS:
            if field in entry:
                manifest[field] = entry[field]
        if "bin" in entry:
            manifest["bin"] = entry["bin"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text(json.dumps(manifest), encoding="utf-8")
        made += 1
    if made:
        write_hidden_lockfile(project, data)
    return made


def write_hidden_lockfile(project: Path, data: Mapping[str, Any]) -> Path:
    """npm's hidden lockfile for the tree laid out from the lockfile ``data``: every entry but
    the root's (npm keeps the workspaces' folders too), written after every folder, so npm
    finds none newer than it and trusts it (arborist's ``assertNoNewer``)."""
    entries = {key: value for key, value in (data.get("packages") or {}).items() if key}
    hidden = {
        "name": data.get("name"),
        "version": data.get("version"),
        "lockfileVersion": 3,
        "requires": True,
        "packages": entries,
    }
    path = project / "node_modules" / ".package-lock.json"
    path.write_text(json.dumps(hidden, indent=2) + "\n", encoding="utf-8")
    return path
