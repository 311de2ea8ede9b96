"""`depaudit diff BASE HEAD` and `--base-ref REF` through main(argv)."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from depaudit.cli import main

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "examples" / "express-app" / "package-lock.json"
CURRENT = ROOT / "tests" / "scoring" / "current-app" / "package-lock.json"
NOW = datetime(2026, 11, 25, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _inputs():
    if not APP.is_file():
        pytest.skip("examples/express-app is not there")


def diff(argv, capsys):
    code = main(["diff", *argv, "--offline"], clock=lambda: NOW)
    out, err = capsys.readouterr()
    return code, out, err


def test_moving_to_the_old_stack_adds_suspects(capsys):
    code, out, _ = diff([str(CURRENT), str(APP), "--format", "json", "--fail-on", "high"], capsys)
    result = json.loads(out)
    kinds = {c["name"]: c["kind"] for c in result["changes"]}
    assert kinds["socket.io-redis"] == "added" and kinds["fastify"] == "removed"
    assert kinds["socket.io"] == "downgraded"
    new = {s["name"]: s for s in result["suspects"] if s["kind"] == "new"}
    assert new["socket.io-redis"]["tier"] == "high" and "request" in new
    assert code == 1  # a new high suspect


def test_upgrading_removes_suspects_and_passes_fail_on(capsys):
    code, out, _ = diff([str(APP), str(CURRENT), "--fail-on", "high"], capsys)
    assert code == 0
    assert out.startswith("<!-- depaudit -->\n## depaudit diff")
    assert "No longer suspects:" in out and "`socket.io-redis@5.4.0`" in out
    assert "| upgraded | `socket.io` |" in out


def test_base_ref_reads_the_lockfile_from_git(tmp_path, capsys):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    lock = repo / "package-lock.json"
    shutil.copy(CURRENT, lock)

    def git(*args):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", "package-lock.json")
    git("commit", "-q", "-m", "current stack")
    shutil.copy(APP, lock)  # the working tree now has the old stack
    code, out, _ = diff(["--base-ref", "HEAD", str(lock), "--format", "json"], capsys)
    result = json.loads(out)
    assert code == 0
    assert result["base"] == "HEAD:package-lock.json"
    assert any(s["name"] == "socket.io-redis" for s in result["suspects"])
    code, _, err = diff(["--base-ref", "no-such-ref", str(lock)], capsys)
    assert code == 2 and "cannot be read with git show" in err


def test_diff_needs_two_lockfiles_or_a_ref(capsys):
    code, _, err = diff([str(APP)], capsys)
    assert code == 2 and "BASE and HEAD" in err


def test_markdown_why_names_the_rule_and_cuts_with_an_ellipsis(capsys):
    code, out, _ = diff([str(CURRENT), str(APP)], capsys)
    assert code == 0
    row = next(line for line in out.splitlines() if "`socket.io-redis@5.4.0`" in line)
    assert "**deprecated** (+52.5):" in row  # the rule and its points, as in the scan report
    assert "[ref](https://github.com/socketio/" in row
    # a long evidence text is cut at 300 characters with an ellipsis, never mid-word silently
    longest = max(len(part) for part in row.split("<br>"))
    assert "…" in row and longest < 600


def test_base_ref_reads_the_package_json_of_that_commit_too(tmp_path, capsys):
    """Overrides live in package.json: a base read without it reported every overridden
    package as invalid, and the diff called them suspects that went away."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    project = ROOT / "tests" / "assets" / "projects" / "overrides"
    for name in ("package.json", "package-lock.json"):
        shutil.copy(project / name, repo / name)
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "base"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
            cwd=repo,
            check=True,
            capture_output=True,
        )
    code, out, _ = diff(
        ["--base-ref", "HEAD", str(repo / "package-lock.json"), "--format", "json"], capsys
    )
    result = json.loads(out)
    assert code == 0
    assert result["changes"] == [] and result["suspects"] == [] and result["gone"] == []


BETTER = ROOT / "tests" / "assets" / "package_lock" / "diff-better"


def test_a_suspect_that_improved_is_better_and_a_dropped_version_is_removed(capsys):
    """issue 16.11: real npm 11 lockfiles; dropping express leaves debug@4.1.1 alone, so its
    duplicate-stateful signal goes (high -> medium), and debug 2.6.9 is removed beside 4.1.1."""
    base, head = BETTER / "base" / "package-lock.json", BETTER / "head" / "package-lock.json"
    code, out, _ = diff([str(base), str(head), "--format", "json", "--fail-on", "low"], capsys)
    result = json.loads(out)
    kinds = {c["name"]: (c["kind"], c["base"], c["head"]) for c in result["changes"]}
    assert kinds["debug"] == ("removed", "2.6.9, 4.1.1", "4.1.1")
    assert kinds["ms"] == ("removed", "2.0.0, 2.1.1, 2.1.3", "2.1.3")
    assert kinds["express"] == ("removed", "4.17.1", None)
    (better,) = result["suspects"]
    assert better["kind"] == "better" and better["name"] == "debug"
    assert better["before"]["tier"] == "high" and better["tier"] == "medium"
    assert code == 0  # an improvement does not trip --fail-on
    code, out, _ = diff([str(base), str(head)], capsys)
    assert "**0 new suspects** · **0 worse** · 1 better · " in out
    assert "| better | `debug@4.1.1` | 53 (was 63 high) | medium |" in out
    code, out, _ = diff([str(head), str(base), "--format", "json", "--fail-on", "high"], capsys)
    reverse = {f"{s['name']}@{s['version']}": s["kind"] for s in json.loads(out)["suspects"]}
    assert reverse["debug@4.1.1"] == "worse"
    assert code == 1
