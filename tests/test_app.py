"""depaudit.app: the library entry points (scan as the CLI and the Action call it)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from conftest import ASSETS
from depaudit.app import scan
from depaudit.config import Settings

LOCK = ASSETS / "projects-pm" / "prod-path-yarn1" / "yarn.lock"


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        directory=LOCK.parent,
        lockfile=LOCK,
        use_registry=False,
        use_advisories=False,
        use_cache=False,
        cache_dir=tmp_path / "cache",
    )


def test_lockfile_lines_are_found_only_when_sarif_is_rendered(tmp_path: Path) -> None:
    """Only SARIF points at lines: the input stage finds them when SARIF is among the formats
    (the CLI's --format, the Action's list), and the report's tree carries them."""
    settings = _settings(tmp_path)
    assert scan(settings).report.tree.lines is None  # table
    assert scan(replace(settings, format="json")).report.tree.lines is None
    assert scan(replace(settings, format="sarif"), formats=["json"]).report.tree.lines is None
    for located in (
        scan(replace(settings, format="sarif")),
        scan(settings, formats=["markdown", "sarif"]),
    ):
        lines = located.report.tree.lines
        assert lines is not None
        text = LOCK.read_text(encoding="utf-8").splitlines()
        for pkg in located.report.tree.packages:
            number = lines.of(pkg.location).number
            assert number > 1 and text[number - 1].startswith((pkg.name, f'"{pkg.name}'))
