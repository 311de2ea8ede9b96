"""Miniature projects for the reachability tests: a description (JSON-able) becomes a project
folder with package.json, the app's files, a node_modules tree and a package-lock.json v3.

Description::

    {"package": {...root package.json...},
     "files": {"server.js": "require('a')"},
     "workspaces": {"packages/w": {"package": {...}, "files": {...}}},
     "packages": {"node_modules/a": {"version": "1.0.0", "dependencies": {"b": "^1"},
                                      "dev": false, "main": "lib/a.js", "exports": ...,
                                      "files": {"lib/a.js": "..."}}}}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from depaudit.models import DependencyTree
from depaudit.sources.package_lock import PackageLockSource


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def build(root: Path, spec: dict[str, Any], *, install: bool = True) -> Path:
    """Write the project of ``spec`` under ``root`` (node_modules only when ``install``)."""
    root.mkdir(parents=True, exist_ok=True)
    manifest = dict(spec.get("package", {}))
    manifest.setdefault("name", "app")
    manifest.setdefault("version", "1.0.0")
    workspaces = spec.get("workspaces", {})
    if workspaces:
        manifest["workspaces"] = sorted(workspaces)
    _write(root / "package.json", json.dumps(manifest, indent=2))
    for rel, text in spec.get("files", {}).items():
        _write(root / rel, text)
    lock_packages: dict[str, Any] = {
        "": {
            "name": manifest["name"],
            "version": manifest["version"],
            **{
                k: manifest[k]
                for k in ("dependencies", "devDependencies", "optionalDependencies", "workspaces")
                if k in manifest
            },
        }
    }
    for location, ws in workspaces.items():
        ws_manifest = dict(ws.get("package", {}))
        ws_manifest.setdefault("version", "1.0.0")
        _write(root / location / "package.json", json.dumps(ws_manifest, indent=2))
        for rel, text in ws.get("files", {}).items():
            _write(root / location / rel, text)
        lock_packages[location] = {
            "name": ws_manifest["name"],
            "version": ws_manifest["version"],
            **{k: ws_manifest[k] for k in ("dependencies",) if k in ws_manifest},
        }
        link = f"node_modules/{ws_manifest['name']}"
        lock_packages[link] = {"resolved": location, "link": True}
        if install:
            target = root / link
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(Path("../" * link.count("/")) / location)
    for location, pkg in spec.get("packages", {}).items():
        name = location.rsplit("node_modules/", 1)[1]
        entry: dict[str, Any] = {
            "version": pkg["version"],
            "resolved": f"https://registry.invalid/{name}/-/{name.split('/')[-1]}-{pkg['version']}.tgz",
        }
        for key in ("dependencies", "optionalDependencies", "peerDependencies"):
            if key in pkg:
                entry[key] = pkg[key]
        for flag in ("dev", "optional"):
            if pkg.get(flag):
                entry[flag] = True
        lock_packages[location] = entry
        if not install:
            continue
        folder = root / location
        pkg_manifest: dict[str, Any] = {"name": name, "version": pkg["version"]}
        for key in ("main", "exports", "imports", "type", "dependencies"):
            if key in pkg:
                pkg_manifest[key] = pkg[key]
        _write(folder / "package.json", json.dumps(pkg_manifest, indent=2))
        files = pkg.get("files", {"index.js": "module.exports = {};\n"})
        for rel, text in files.items():
            _write(folder / rel, text)
    lock = {
        "name": manifest["name"],
        "version": manifest["version"],
        "lockfileVersion": 3,
        "requires": True,
        "packages": lock_packages,
    }
    _write(root / "package-lock.json", json.dumps(lock, indent=2))
    return root


def load(root: Path) -> DependencyTree:
    return PackageLockSource().load(root / "package-lock.json")
