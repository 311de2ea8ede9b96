"""The README's quick start is what CI runs, and its example project scans."""

from __future__ import annotations

import re

import pytest

from conftest import REPO
from depaudit.cli import main


def _quick_start() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the Quick start section has a sh code block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_is_exactly_two_commands_and_ci_runs_the_test_command() -> None:
    commands = _quick_start()
    assert len(commands) == 2
    test_command, scan_command = commands
    assert "pytest" in test_command
    assert "python -m pytest" in test_command and "-n auto" in test_command  # in parallel
    ci_lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci_lines, ".ci/run must run the README's test command verbatim"
    assert scan_command.startswith("depaudit scan examples/")


def test_quick_start_scan_works_offline_on_the_shipped_example(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scan_command = _quick_start()[1]
    argv = scan_command.split()[1:]
    argv[1] = str(REPO / argv[1])
    # the example has no node_modules: the lockfile is read; --offline keeps the test hermetic
    assert main([*argv, "--offline", "--no-npm"]) == 0
    out = capsys.readouterr().out
    assert "socket.io-redis@" in out
    assert "package-lock.json" in out
