"""The one path shown per placement (depaudit.sources._paths): production first (issue 16.9).

Real lockfiles of npm 11, yarn 1.22, yarn 4.18 and pnpm 9.15 for one package.json: debug
4.3.4 in dependencies, ms 2.1.2 in devDependencies (debug needs ms 2.1.2 too), and a
workspace ws-a needing debug ^4. ms@2.1.2 is a production package; its shortest path is the
dev edge `ms`, its production one `debug > ms`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from depaudit.cli import main
from depaudit.sources import detect, source_for
from depaudit.tree import find_problems

PM = Path(__file__).resolve().parent.parent / "assets" / "projects-pm"


@pytest.mark.parametrize("kind", ["npm", "yarn1", "yarn4", "pnpm9"])
def test_a_production_package_is_shown_on_its_production_path(kind: str) -> None:
    folder = PM / f"prod-path-{kind}"
    lock = detect(folder).lockfile
    tree = source_for(lock).load(lock)
    (ms,) = tree.placements("ms", "2.1.2")
    assert not ms.dev
    assert ms.path == ("debug", "ms")
    assert tree.paths("ms", "2.1.2")[0] == ("debug", "ms")
    for problem in find_problems(tree):
        if problem.kind.value == "duplicate-versions" and problem.name == "ms":
            assert problem.path == ("debug", "ms")


def test_the_report_shows_the_production_path(capsys: pytest.CaptureFixture[str]) -> None:
    folder = PM / "pnpm11"  # real pnpm 11: ms 2.1.2 is dev at the root, production via debug
    assert main(["scan", str(folder), "--offline", "--no-npm", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (ms,) = [p for p in report["packages"] if p["name"] == "ms"]
    assert ms["dev"] is False and ms["paths"][0] == ["debug", "ms"]
