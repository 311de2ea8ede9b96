"""The terminal table: problems by severity, duplicates summarised, lines within the width
(issue 16.13)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from depaudit.cli import main

ASSETS = Path(__file__).resolve().parent.parent / "assets"
EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "express-app"


def _scan(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    assert main(["scan", *argv, "--offline", "--no-npm"]) in (0, 1)
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("columns", [60, 80, 100, 132])
def test_every_line_fits_the_terminal(
    columns: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    for target in (EXAMPLE, ASSETS / "projects" / "broken", ASSETS / "projects" / "peer-invalid"):
        lines = _scan(capsys, str(target))
        # warnings and the summary line stay one line each, whatever their length
        tables = [line for line in lines if not line.startswith("warning: ") and line != lines[-1]]
        assert max(len(line) for line in tables) <= max(columns, 80), target
    assert any("…" in line for line in _scan(capsys, str(EXAMPLE)))


def test_real_problems_come_before_duplicates_which_are_summarised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real npm 11 lock of the broken project (invalid, missing, extraneous) next to the
    express example's duplicates: severity order, and one paragraph for the duplicates."""
    monkeypatch.setenv("COLUMNS", "100")
    project = tmp_path / "p"
    shutil.copytree(ASSETS / "projects" / "broken", project)
    lines = _scan(capsys, str(project))
    kinds = [
        line.split()[0]
        for line in lines
        if line.split()
        and line.split()[0]
        in (
            "missing",
            "invalid",
            "peer-invalid",
            "peer-missing",
            "extraneous",
            "locked-not-declared",
            "declared-not-locked",
            "locked-out-of-range",
        )
    ]
    order = [
        "missing",
        "peer-missing",
        "invalid",
        "peer-invalid",
        "locked-out-of-range",
        "declared-not-locked",
        "locked-not-declared",
        "extraneous",
    ]
    assert kinds and kinds == sorted(kinds, key=order.index)
    example = _scan(capsys, str(EXAMPLE))
    assert not any(line.startswith("duplicate-versions  ") for line in example)  # no rows
    start = next(i for i, line in enumerate(example) if line.startswith("duplicate-versions: "))
    paragraph = " ".join(example[start : start + 4])
    assert "9 names installed at several versions: debug (2.6.9, 3.1.0, 4.1.1)" in paragraph
