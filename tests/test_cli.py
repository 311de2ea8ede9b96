"""The command line shell: version, help, errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from depaudit import __version__
from depaudit.cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"depaudit {__version__}"


def test_python_dash_m_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "depaudit", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert __version__ in result.stdout


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "scan" in capsys.readouterr().err


def test_empty_folder_says_what_it_looked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert err.count("\n") == 0
    assert str(tmp_path) in err
    assert "package-lock.json" in err and "npm-shrinkwrap.json" in err


def test_bad_env_boolean_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEPAUDIT_NO_NPM", "maybe")
    assert main(["scan", "."]) == 2
    assert "DEPAUDIT_NO_NPM" in capsys.readouterr().err


def test_a_workspace_folder_points_at_the_root_lockfile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "mono"
    (root / "packages" / "api").mkdir(parents=True)
    (root / "package.json").write_text('{"name": "mono", "workspaces": ["packages/*"]}')
    (root / "package-lock.json").write_text(
        '{"name": "mono", "lockfileVersion": 3, "packages": {}}'
    )
    (root / "packages" / "api" / "package.json").write_text('{"name": "api"}')
    assert main(["scan", str(root / "packages" / "api")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"{root / 'package-lock.json'} is a lockfile above this folder" in err
    assert f"scan {root}" in err
