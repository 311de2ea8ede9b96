"""The reason depaudit chose one of several lockfiles reaches the report as a warning."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ASSETS
from depaudit.cli import main

PM = ASSETS / "projects-pm"


def _project_with_two_lockfiles(tmp_path: Path) -> Path:
    project = tmp_path / "app"
    shutil.copytree(PM / "npm", project)
    shutil.copy(PM / "yarn1" / "yarn.lock", project / "yarn.lock")
    return project


def test_choice_among_several_lockfiles_is_a_report_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project_with_two_lockfiles(tmp_path)
    code = main(["scan", str(project), "--no-npm", "--no-registry", "--format", "json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["source"]["kind"] == "package-lock"
    chosen = [w for w in report["warnings"] if "found several lockfiles" in w]
    assert len(chosen) == 1
    assert "package-lock.json" in chosen[0] and "yarn.lock" in chosen[0]


def test_package_manager_field_picks_yarn_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project_with_two_lockfiles(tmp_path)
    manifest = json.loads((project / "package.json").read_text())
    manifest["packageManager"] = "yarn@1.22.22"
    (project / "package.json").write_text(json.dumps(manifest))
    code = main(["scan", str(project), "--no-npm", "--no-registry", "--format", "json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["source"]["kind"].startswith("yarn")
    assert any("packageManager is yarn" in w for w in report["warnings"])
