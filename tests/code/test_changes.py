"""``depaudit diff --base-ref REF`` reports the code findings the change introduces."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO
from depaudit.cli import main

LOCK = REPO / "examples" / "express-app"
OLD = """const express = require('express');
const app = express();
const hits = [];
app.get('/a', (req, res) => { hits.push(req.ip); res.end(); });
module.exports = app;
"""
NEW_TIMER = """const io = require('socket.io')(3000);
io.on('connection', (socket) => {
  setInterval(() => socket.emit('tick'), 1000);
});
"""


def _git(folder: Path, *argv: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@invalid", *argv],
        cwd=folder,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    folder = tmp_path / "repo"
    folder.mkdir()
    for name in ("package.json", "package-lock.json"):
        shutil.copy(LOCK / name, folder / name)
    (folder / "src").mkdir()
    (folder / "src" / "old.js").write_text(OLD)
    _git(folder, "init", "-q")
    _git(folder, "add", "-A")
    _git(folder, "commit", "-q", "-m", "base")
    # the change: the old leak moves down two lines (not new), a new file adds a timer leak
    (folder / "src" / "old.js").write_text("// moved\n\n" + OLD)
    (folder / "src" / "socket.js").write_text(NEW_TIMER)
    return folder


def _diff(repo: Path, *extra: str) -> list[str]:
    lock = str(repo / "package-lock.json")
    return ["diff", "--base-ref", "HEAD", lock, "--offline", "--no-cache", *extra]


def test_only_the_new_finding_is_reported(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_diff(repo, "--format", "json")) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(f["rule"], f["file"], f["line"]) for f in data["new_findings"]] == [
        ("uncleared-timer", "src/socket.js", 3)
    ]
    main(_diff(repo))
    out = capsys.readouterr().out
    assert "**1 new leak patterns in the app's code**" in out
    assert "src/socket.js:3" in out and "old.js" not in out


def test_fail_on_counts_new_findings_and_no_code_skips_them(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_diff(repo, "--fail-on", "high")) == 1
    assert "1 code findings at or above high" in capsys.readouterr().err
    assert main(_diff(repo, "--fail-on", "high", "--no-code")) == 0
