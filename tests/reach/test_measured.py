"""The measured corpus: what real started servers loaded (recorded with a preload hook by
``benchmarks/reach_measure.py``) against depaudit's reachability, hermetically.

Each fixture holds the project's lockfile and package.json files, a skeleton of its real
node_modules (manifests' resolution fields, symlinks, and each file's import facts, not its
code) and the placements the running server loaded. The skeleton is rebuilt in tmp_path, every
file written back as stub loads at the lines the facts name.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest

from depaudit.config import Settings
from depaudit.models import Runtime
from depaudit.reach.analysis import analyse
from depaudit.sources.loader import load_tree

FIXTURES = Path(__file__).parent / "fixtures"
APPS = sorted(p.name for p in FIXTURES.iterdir() if (p / "skeleton.json.gz").is_file())


def _stub(facts: list[list[Any]]) -> str:
    lines: list[str] = []
    for spec, lazy, kind, line in facts:
        while len(lines) < line - 1:
            lines.append("")
        literal = json.dumps(spec) if spec is not None else "computed"
        if kind == "import":
            code = f"import {literal};"
        elif kind == "dynamic":
            code = f"import({literal});"
        else:
            code = f"require({literal});"
        lines.append(f"function lazy() {{ {code} }}" if lazy else code)
    return "\n".join(lines) + "\n"


def rebuild(root: Path, skeleton: dict[str, Any]) -> Path:
    for rel, text in skeleton["project"].items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for rel, manifest in skeleton["manifests"].items():
        folder = root / rel
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text(json.dumps(manifest))
    for rel, facts in skeleton["files"].items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.name != "package.json":
            path.write_text(_stub(facts))
    for rel, target in sorted(skeleton["links"].items()):
        link = root / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists() and not link.is_symlink():
            os.symlink(target, link)
    return root


@pytest.fixture(params=APPS)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, set[str]]:
    folder = FIXTURES / request.param
    with gzip.open(folder / "skeleton.json.gz", "rt", encoding="utf-8") as handle:
        skeleton = json.load(handle)
    measured = set((folder / "measured.txt").read_text().split())
    return rebuild(tmp_path / request.param, skeleton), measured


def test_measured_placements_are_loaded_or_lazy(app: tuple[Path, set[str]]) -> None:
    root, measured = app
    tree = load_tree(Settings(directory=root, use_npm=False))
    result = analyse(tree, root)
    status = {loc: p.status for loc, p in result.placements.items()}
    runs = {loc for loc, s in status.items() if s.runs}
    loaded = {loc for loc, s in status.items() if s is Runtime.LOADED}
    assert measured, "the fixture records what the server loaded"
    assert measured <= runs  # recall 1.0
    assert len(loaded & measured) >= 0.8 * len(loaded)  # loaded is at least 80 % precise
    for pkg in tree.packages:  # install-time and build subtrees never run
        if pkg.name in ("node-gyp", "typescript", "eslint", "webpack", "prebuild-install"):
            assert status[pkg.location] is Runtime.NOT_LOADED, pkg.location


def test_fixtures_exist() -> None:
    assert {"npm-workspaces", "old-chat", "yarn-typescript", "pnpm-esm"} <= set(APPS)
