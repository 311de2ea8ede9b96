"""Measure depaudit's runtime reachability against what a started server really loads.

    python -m benchmarks.reach_measure APP_DIR --start "packages/server/src/server.js" \
        [--save tests/reach/fixtures/NAME]

Starts ``node --import benchmarks/reach/record.mjs START`` in APP_DIR with ``EXIT_AFTER_START=1``
(the apps of the corpus exit once they listen) and ``REACH_RECORD`` set: the hook records every
file the process loads (CommonJS from ``require.cache``, ES modules through a loader hook). The
placements those files belong to are the *measured* set. Then depaudit's reachability runs on
the same folder, and the script prints:

* recall: measured placements depaudit calls ``loaded`` or ``lazy`` (must be 1.0);
* precision of ``loaded``: loaded placements that were measured;
* the ``not-loaded`` placements with their reasons (install-time and build subtrees);
* the time of a cold and a warm (fact cache filled) analysis.

``--save DIR`` writes a small hermetic fixture: the lockfile (registry host rewritten), every
``package.json`` of the project, a *skeleton* of node_modules (package manifests' resolution
fields, the symlinks, and for every file the analysis read its import facts, not its code) and
the measured locations. ``tests/reach/test_measured.py`` rebuilds a miniature node_modules
from it and checks the same figures without node or the network.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from depaudit.config import Settings
from depaudit.models import Runtime
from depaudit.reach.analysis import analyse, locations_of_files
from depaudit.reach.imports import FactCache
from depaudit.sources.loader import load_tree

HOOK = Path(__file__).resolve().parent / "reach" / "record.mjs"
LOCKFILES = ("package-lock.json", "yarn.lock", "pnpm-lock.yaml")
_MANIFEST_KEYS = ("name", "version", "main", "exports", "imports", "type")
_HOST = re.compile(r"https?://[A-Za-z0-9.-]+(:\d+)?/")


def record(app: Path, start: list[str], timeout: float = 60.0) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="reach-record-") as tmp:
        out = Path(tmp) / "loaded.txt"
        env = {**os.environ, "REACH_RECORD": str(out), "EXIT_AFTER_START": "1"}
        subprocess.run(
            ["node", "--import", HOOK.as_uri(), *start],
            cwd=app,
            env=env,
            timeout=timeout,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        lines = out.read_text().splitlines() if out.exists() else []
    return sorted({line.split(" ", 1)[1] for line in lines if " " in line})


def measure(app: Path, start: list[str], entries: list[str]) -> dict[str, Any]:
    tree = load_tree(Settings(directory=app, use_npm=False))
    files = record(app, start)
    measured = locations_of_files(tree, app, files)
    began = time.perf_counter()
    cache = FactCache()
    result = analyse(tree, app, entries, cache)
    cold = time.perf_counter() - began
    began = time.perf_counter()
    analyse(tree, app, entries, FactCache.load(cache.dump()))
    warm = time.perf_counter() - began
    return {
        "tree": tree,
        "result": result,
        "cache": cache,
        "measured": measured,
        "figures": figures(result.placements, measured),
        "seconds": {"cold": round(cold, 3), "warm": round(warm, 3)},
        "files": files,
    }


def figures(placements: Any, measured: set[str]) -> dict[str, Any]:
    status = {loc: p.status for loc, p in placements.items()}
    runs = {loc for loc, s in status.items() if s.runs}
    loaded = {loc for loc, s in status.items() if s is Runtime.LOADED}
    missed = sorted(measured - runs)
    return {
        "placements": len(status),
        "measured": len(measured),
        "loaded": len(loaded),
        "lazy": sum(1 for s in status.values() if s is Runtime.LAZY),
        "not-loaded": sum(1 for s in status.values() if s is Runtime.NOT_LOADED),
        "unknown": sum(1 for s in status.values() if s is Runtime.UNKNOWN),
        "recall": round(len(measured & runs) / len(measured), 3) if measured else None,
        "loaded precision": round(len(loaded & measured) / len(loaded), 3) if loaded else None,
        "missed": missed,
    }


def _rewrite_hosts(text: str) -> str:
    return _HOST.sub("https://registry.invalid/", text)


def save(app: Path, found: dict[str, Any], target: Path) -> None:
    """Write the hermetic fixture of one measured app into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    root = app.resolve()
    project: dict[str, str] = {}
    for name in LOCKFILES:
        if (root / name).is_file():
            project[name] = _rewrite_hosts((root / name).read_text())
    for manifest in root.rglob("package.json"):
        rel = manifest.relative_to(root)
        if "node_modules" in rel.parts:
            continue
        project[str(rel)] = manifest.read_text()
    for extra in ("tsconfig.json", "pnpm-workspace.yaml", ".yarnrc.yml"):
        if (root / extra).is_file():
            project[extra] = (root / extra).read_text()
    manifests: dict[str, dict[str, Any]] = {}
    links: dict[str, str] = {}
    node_modules = root / "node_modules"
    for dirpath, dirnames, filenames in os.walk(node_modules, followlinks=False):
        here = Path(dirpath)
        for name in list(dirnames):
            path = here / name
            if path.is_symlink():
                links[str(path.relative_to(root))] = os.readlink(path)
                dirnames.remove(name)
        if "package.json" in filenames:
            try:
                data = json.loads((here / "package.json").read_text())
            except (OSError, ValueError):
                data = None
            if isinstance(data, dict) and "name" in data:
                manifests[str(here.relative_to(root))] = {
                    k: data[k] for k in _MANIFEST_KEYS if k in data
                }
        for name in filenames:
            path = here / name
            if path.is_symlink():
                links[str(path.relative_to(root))] = os.readlink(path)
    cache: FactCache = found["cache"]
    files: dict[str, list[Any]] = {}
    for path, (_, _, facts) in cache._facts.items():
        rel = os.path.relpath(path, root)
        files[rel] = [f.to_json() for f in facts]
    # files the process loaded that depaudit does not parse (.json, .node) must exist too
    for path in found["files"]:
        rel = os.path.relpath(os.path.realpath(path), root)
        if not rel.startswith("..") and rel not in files:
            files[rel] = []
    skeleton = {"project": project, "manifests": manifests, "links": links, "files": files}
    with gzip.open(target / "skeleton.json.gz", "wt", encoding="utf-8") as handle:
        json.dump(skeleton, handle, separators=(",", ":"))  # key order is meaningful
    (target / "measured.txt").write_text("".join(f"{loc}\n" for loc in sorted(found["measured"])))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("app", type=Path)
    parser.add_argument("--start", required=True, help="node arguments that start the server")
    parser.add_argument("--entry", action="append", default=[], help="entries given to depaudit")
    parser.add_argument("--save", type=Path, help="write the hermetic fixture into this folder")
    args = parser.parse_args(argv)
    found = measure(args.app, args.start.split(), args.entry)
    result = found["result"]
    tree = found["tree"]
    report = {
        "app": args.app.name,
        "entries": list(result.entries),
        "notes": list(result.notes),
        **found["figures"],
        "seconds": found["seconds"],
        "not-loaded": sorted(
            f"{tree.at(loc).key if tree.at(loc) else loc}: {p.reason}"
            for loc, p in result.placements.items()
            if p.status is Runtime.NOT_LOADED and "dev only" not in p.reason
        ),
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    if args.save:
        save(args.app, found, args.save)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
