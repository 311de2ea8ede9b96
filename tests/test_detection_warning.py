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


@pytest.mark.parametrize(
    ("manifest", "command"),
    [
        (None, "npm install --package-lock-only"),
        ({"packageManager": "yarn@4.18.1"}, "yarn install"),
        ({"devEngines": {"packageManager": {"name": "bun"}}}, "bun install --lockfile-only"),
        ({"devEngines": {"packageManager": [{"name": "pnpm"}]}}, "pnpm install --lockfile-only"),
    ],
)
def test_no_lockfile_hint_names_the_projects_package_manager(
    manifest: dict[str, object] | None, command: str, tmp_path: Path
) -> None:
    """issue 16.5 (every hint names the project's own package manager)."""
    from depaudit.errors import InputError
    from depaudit.sources import detect

    if manifest is not None:
        (tmp_path / "package.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError) as info:
        detect(tmp_path)
    assert info.value.hint is not None and info.value.hint.endswith(f"`{command}`")


def test_real_pnpm11_package_json_without_its_lockfile(tmp_path: Path) -> None:
    """The real pnpm 11 project's package.json names pnpm only in devEngines."""
    from depaudit.errors import InputError
    from depaudit.sources import detect

    shutil.copy(PM / "pnpm11" / "package.json", tmp_path / "package.json")
    with pytest.raises(InputError, match="no lockfile found") as info:
        detect(tmp_path)
    assert "`pnpm install --lockfile-only`" in (info.value.hint or "")
