"""The shortest-path search shared by the readers: shortest first, ties by the names along
the path, workspaces one step deeper; a deep chain costs linear time and memory and its
paths are elided in the middle (issue 19, item 13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from depaudit.cli import main
from depaudit.models import Dependency, DepType, Importer
from depaudit.sources._paths import MAX_PATH_DEPTH, PATH_HEAD, elided, shortest_paths


def _npm_chain(folder: Path, depth: int) -> Path:
    packages: dict[str, object] = {"": {"name": "r", "dependencies": {"c0": "^1.0.0"}}}
    for i in range(depth):
        entry: dict[str, object] = {"version": "1.0.0"}
        if i + 1 < depth:
            entry["dependencies"] = {f"c{i + 1}": "^1.0.0"}
        packages[f"node_modules/c{i}"] = entry
    lock = {"name": "r", "lockfileVersion": 3, "packages": packages}
    (folder / "package-lock.json").write_text(json.dumps(lock))
    return folder / "package-lock.json"


def _yarn_chain(folder: Path, depth: int) -> Path:
    blocks = ["# yarn lockfile v1\n"]
    for i in range(depth):
        block = f'"c{i}@^1.0.0":\n  version "1.0.0"\n'
        if i + 1 < depth:
            block += f'  dependencies:\n    "c{i + 1}" "^1.0.0"\n'
        blocks.append(block)
    (folder / "package.json").write_text(
        json.dumps({"name": "r", "dependencies": {"c0": "^1.0.0"}})
    )
    (folder / "yarn.lock").write_text("\n".join(blocks))
    return folder / "yarn.lock"


def _pnpm_chain(folder: Path, depth: int) -> Path:
    lines = ["lockfileVersion: '9.0'", "importers:", "  .:", "    dependencies:"]
    lines += ["      c0:", "        specifier: ^1.0.0", "        version: 1.0.0", "packages:"]
    lines += [f"  c{i}@1.0.0:\n    resolution: {{integrity: sha512-x}}" for i in range(depth)]
    lines.append("snapshots:")
    for i in range(depth):
        lines.append(f"  c{i}@1.0.0:" + ("" if i + 1 < depth else " {}"))
        if i + 1 < depth:
            lines += ["    dependencies:", f"      c{i + 1}: 1.0.0"]
    (folder / "pnpm-lock.yaml").write_text("\n".join(lines) + "\n")
    return folder / "pnpm-lock.yaml"


def _search(importers: list[Importer], edges: dict[str, list[Dependency]]):  # type: ignore[no-untyped-def]
    return shortest_paths(importers, lambda loc: edges.get(loc, []), edges, lambda d: d.name)


def _dep(name: str, target: str) -> Dependency:
    return Dependency(name, "*", DepType.PROD, target)


def test_shortest_then_lexicographic_and_workspaces_one_step_deeper() -> None:
    edges = {
        "a": [_dep("z", "z1"), _dep("c", "c1")],
        "b": [_dep("c", "c2")],
        "c1": [_dep("d", "d1")],
        "c2": [_dep("d", "d1")],
        "z1": [],
        "d1": [],
        "w1": [],
    }
    root = Importer("root", "1.0.0", "", (_dep("b", "b"), _dep("a", "a")))
    space = Importer("ws", "1.0.0", "packages/ws", (_dep("w", "w1"), _dep("d", "d1")))
    reached, direct = _search([root, space], edges)
    assert reached["c1"].path == ("a", "c")
    assert reached["c2"].path == ("b", "c")
    # depth 2 from the workspace beats depth 3 through a > c > d
    assert reached["d1"].path == ("ws", "d")
    assert reached["w1"].path == ("ws", "w") and reached["w1"].importer is space
    assert direct == {"a", "b", "w1", "d1"}


def test_a_deep_chain_is_elided_in_the_middle() -> None:
    depth = 5000
    edges = {f"n{i}": [_dep(f"p{i + 1}", f"n{i + 1}")] for i in range(depth - 1)}
    edges[f"n{depth - 1}"] = []
    root = Importer("root", "1.0.0", "", (_dep("p0", "n0"),))
    reached, _ = _search([root], edges)
    shallow = reached[f"n{MAX_PATH_DEPTH - 1}"].path
    assert shallow == tuple(f"p{i}" for i in range(MAX_PATH_DEPTH))
    deep = reached[f"n{depth - 1}"].path
    assert len(deep) == MAX_PATH_DEPTH
    tail = MAX_PATH_DEPTH - PATH_HEAD - 1
    assert deep[:PATH_HEAD] == tuple(f"p{i}" for i in range(PATH_HEAD))
    assert deep[PATH_HEAD] == elided(depth - PATH_HEAD - tail)
    assert deep[-tail:] == tuple(f"p{i}" for i in range(depth - tail, depth))
    assert all(len(r.path) <= MAX_PATH_DEPTH for r in reached.values())


@pytest.mark.parametrize("writer", [_npm_chain, _yarn_chain, _pnpm_chain])
def test_deep_chain_report_grows_linearly(
    tmp_path: Path,
    writer,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    sizes = {}
    for depth in (300, 1200):
        folder = tmp_path / f"chain-{depth}"
        folder.mkdir()
        lock = writer(folder, depth)
        argv = ["scan", "--lockfile", str(lock), "--format", "json", "--offline"]
        argv += ["--no-registry", "--no-npm", "--cache-dir", str(tmp_path / "cache")]
        assert main(argv) == 0
        out = capsys.readouterr().out
        report = json.loads(out)
        assert len(report["packages"]) == depth
        longest = max(len(p) for pkg in report["packages"] for p in pkg["paths"])
        assert longest == MAX_PATH_DEPTH
        sizes[depth] = len(out)
    # four times the packages, at most about four times the bytes (quadratic would be 16x)
    assert sizes[1200] < 5 * sizes[300]
