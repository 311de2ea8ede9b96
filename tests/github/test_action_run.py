"""End to end: the composite action's own steps (the `run:` scripts in action.yml, with their
`env:` expressions evaluated) in a simulated GitHub Actions environment: a pull_request event
payload, GITHUB_STEP_SUMMARY and GITHUB_OUTPUT files, and a loopback GitHub API."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml
from fake_github import FakeGitHub
from pytest_httpserver import HTTPServer

from conftest import REPO
from depaudit.cli import build_parser
from depaudit.github.actions import SUMMARY_LIMIT_BYTES
from depaudit.github.comment import MARKER

TOKEN = "ghs_e2eT0kenNeverPrinted0123456789abcdef"
PR = 42
CORPUS_PROJECT = REPO / "tests" / "corpus" / "real" / "npm-lock-v2-socket.io"
_EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def action() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def step(step_id: str) -> dict[str, Any]:
    for entry in action()["runs"]["steps"]:
        if entry.get("id") == step_id:
            return dict(entry)
    raise AssertionError(f"action.yml has no step with id {step_id!r}")


def depaudit_bin() -> str:
    found = Path(sys.executable).parent / "depaudit"
    if found.is_file():
        return str(found)
    which = shutil.which("depaudit")
    assert which, "the depaudit console script is installed with the package"
    return which


def read_outputs(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT as GitHub reads it: name=value lines and name<<DELIM heredocs."""
    outputs: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            j = lines.index(delim, i + 1)
            outputs[name] = "\n".join(lines[i + 1 : j])
            i = j + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
        i += 1
    return outputs


class Runner:
    """Runs steps of action.yml the way the runner would: bash -eo pipefail, the step's env
    with `${{ }}` evaluated from inputs (defaults from action.yml), runner and step outputs."""

    def __init__(self, tmp: Path, github: FakeGitHub, event_name: str, event: dict[str, Any]):
        self.tmp = tmp
        self.github = github
        self.temp = tmp / "runner-temp"
        self.temp.mkdir()
        self.event_path = tmp / "event.json"
        self.event_path.write_text(json.dumps(event))
        self.summary = tmp / "step-summary.md"
        self.event_name = event_name
        self.inputs = {
            name: str(spec.get("default", "")) for name, spec in action()["inputs"].items()
        }
        self.steps: dict[str, dict[str, str]] = {}

    def evaluate(self, expression: str) -> str:
        scope, _, rest = expression.partition(".")
        if scope == "inputs":  # a default may itself be an expression (token)
            return _EXPR.sub(lambda m: self.evaluate(m[1]), self.inputs[rest])
        if expression == "runner.temp":
            return str(self.temp)
        if expression == "runner.os":
            return "Linux"
        if expression == "github.token":
            return TOKEN
        match = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
        if match:
            return self.steps.get(match[1], {}).get(match[2], "")
        raise AssertionError(f"the test runner cannot evaluate ${{{{ {expression} }}}}")

    def env(self, entry: dict[str, Any], output: Path) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "RUNNER_", "INPUT_")) and k != "GH_TOKEN"
        }
        env.update(
            {
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "GITHUB_REPOSITORY": "octo/app",
                "GITHUB_API_URL": self.github.api_url,
                "GITHUB_SERVER_URL": "https://github.invalid",
                "GITHUB_RUN_ID": "9001",
                "GITHUB_EVENT_NAME": self.event_name,
                "GITHUB_EVENT_PATH": str(self.event_path),
                "GITHUB_STEP_SUMMARY": str(self.summary),
                "GITHUB_OUTPUT": str(output),
                "GITHUB_WORKSPACE": str(self.tmp),
                "RUNNER_TEMP": str(self.temp),
                # hermetic: no registry but an unresolvable one, offline where supported
                "NPM_CONFIG_REGISTRY": "https://registry.invalid/",
                "npm_config_registry": "https://registry.invalid/",
                "DEPAUDIT_OFFLINE": "1",
            }
        )
        for name, value in (entry.get("env") or {}).items():
            env[name] = _EXPR.sub(lambda m: self.evaluate(m[1]), str(value))
        return env

    def run(self, step_id: str, **env_overrides: str) -> subprocess.CompletedProcess[str]:
        entry = step(step_id)
        assert entry.get("shell") == "bash"
        assert "${{" not in entry["run"], "run scripts take inputs through env only"
        output = self.tmp / f"output-{step_id}-{len(self.steps)}"
        output.touch()
        env = self.env(entry, output)
        env.update(env_overrides)
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", entry["run"]],
            cwd=self.tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        self.steps[step_id] = read_outputs(output)
        assert TOKEN not in result.stdout and TOKEN not in result.stderr
        return result

    def scan(self) -> subprocess.CompletedProcess[str]:
        return self.run("run", DEPAUDIT_BIN=depaudit_bin())


def pr_event(action_name: str = "opened") -> dict[str, Any]:
    return {
        "action": action_name,
        "number": PR,
        "pull_request": {
            "number": PR,
            "base": {"ref": "main", "sha": "a" * 40, "repo": {"full_name": "octo/app"}},
            "head": {"ref": "feature", "sha": "b" * 40, "repo": {"full_name": "octo/app"}},
        },
        "repository": {"full_name": "octo/app"},
        "sender": {"login": "octocat"},
    }


@pytest.fixture
def github(httpserver: HTTPServer) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(httpserver, TOKEN).install()
    yield fake
    httpserver.clear()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    for name in ("package.json", "package-lock.json"):
        shutil.copy(CORPUS_PROJECT / name, folder / name)
    return folder


def test_pull_request_run_writes_summary_outputs_and_one_sticky_comment(
    tmp_path: Path, github: FakeGitHub, project: Path
) -> None:
    runner = Runner(tmp_path, github, "pull_request", pr_event())
    runner.inputs["path"] = "app"
    result = runner.scan()
    assert result.returncode == 0, result.stderr

    outputs = runner.steps["run"]
    assert outputs["exit-code"] == "0"
    markdown = Path(outputs["markdown"])
    assert markdown.is_file() and markdown.parent == runner.temp / "depaudit-report"
    assert Path(outputs["json"]).is_file()
    report = json.loads(Path(outputs["json"]).read_text())
    assert report["tool"]["name"] == "depaudit"

    summary = runner.summary.read_text(encoding="utf-8")
    body = markdown.read_text(encoding="utf-8").replace(MARKER, "").strip()
    assert body and body in summary
    assert len(summary.encode()) <= SUMMARY_LIMIT_BYTES

    [comment] = github.comments[PR]
    assert comment["body"].startswith(MARKER + "\n")
    assert body.splitlines()[0] in comment["body"]
    assert outputs["comment-url"] == comment["html_url"]

    # the next push: the same comment is updated, never a second one
    runner.event_path.write_text(json.dumps(pr_event("synchronize")))
    result = runner.scan()
    assert result.returncode == 0, result.stderr
    assert len(github.comments[PR]) == 1
    assert [w.method for w in github.writes()] in (["POST", "PATCH"], ["POST"])


def test_scheduled_run_writes_the_summary_and_never_comments(
    tmp_path: Path, github: FakeGitHub, project: Path
) -> None:
    runner = Runner(tmp_path, github, "schedule", {"schedule": "17 6 * * 1"})
    runner.inputs["path"] = "app"
    result = runner.scan()
    assert result.returncode == 0, result.stderr
    assert runner.steps["run"]["comment-url"] == ""
    assert github.requests == []
    assert runner.summary.read_text().strip()


def test_fork_pull_request_keeps_the_summary_and_warns(
    tmp_path: Path, github: FakeGitHub, project: Path
) -> None:
    github.failures.append(
        ("POST", 403, {}, {"message": "Resource not accessible by integration", "status": "403"})
    )
    runner = Runner(tmp_path, github, "pull_request", pr_event())
    runner.inputs["path"] = "app"
    result = runner.scan()
    assert result.returncode == 0, result.stderr
    assert "::warning::the PR comment was not posted" in result.stderr
    assert "pull_request_target" in result.stderr
    assert runner.steps["run"]["exit-code"] == "0"
    assert runner.steps["run"]["comment-url"] == ""
    assert runner.summary.read_text().strip()


def test_comment_false_posts_nothing(tmp_path: Path, github: FakeGitHub, project: Path) -> None:
    runner = Runner(tmp_path, github, "pull_request", pr_event())
    runner.inputs.update(path="app", comment="false")
    assert runner.scan().returncode == 0
    assert github.requests == []


def test_sarif_input_writes_sarif_when_the_format_exists(
    tmp_path: Path, github: FakeGitHub, project: Path
) -> None:
    runner = Runner(tmp_path, github, "schedule", {})
    runner.inputs.update(path="app", sarif="true")
    result = runner.scan()
    assert result.returncode == 0, result.stderr
    outputs = runner.steps["run"]
    if "sarif" not in scan_formats():
        assert "cannot write --format sarif" in result.stderr
        return
    sarif = json.loads(Path(outputs["sarif"]).read_text())
    assert sarif["version"] == "2.1.0"


def test_scan_error_fails_the_step_with_its_exit_code(tmp_path: Path, github: FakeGitHub) -> None:
    (tmp_path / "empty").mkdir()
    runner = Runner(tmp_path, github, "pull_request", pr_event())
    runner.inputs["path"] = "empty"
    result = runner.scan()
    assert result.returncode == 2
    assert "depaudit: error:" in result.stderr
    assert runner.steps["run"]["exit-code"] == "2"
    assert "failed (exit 2)" in runner.summary.read_text()
    assert github.requests == []


def fail_step_runs(exit_code: str) -> bool:
    """The `if:` of the fail step, evaluated (its text is pinned so this stays in sync)."""
    condition = step("fail")["if"]
    assert condition == ("steps.run.outputs.exit-code != '' && steps.run.outputs.exit-code != '0'")
    return exit_code not in ("", "0")


def test_fail_step_passes_the_exit_code_through(tmp_path: Path, github: FakeGitHub) -> None:
    runner = Runner(tmp_path, github, "schedule", {})
    assert not fail_step_runs("0") and not fail_step_runs("")
    for code in ("1", "3"):
        assert fail_step_runs(code)
        runner.steps["run"] = {"exit-code": code}
        result = runner.run("fail")
        assert result.returncode == int(code)
        assert "::error::" in result.stdout


def scan_formats() -> set[str]:
    for action_ in build_parser()._actions:
        choices = getattr(action_, "choices", None)
        if isinstance(choices, dict) and "scan" in choices:
            fmt = choices["scan"]._option_string_actions["--format"]
            return set(fmt.choices or ())
    return set()


def scan_has_fail_on() -> bool:
    for action_ in build_parser()._actions:
        choices = getattr(action_, "choices", None)
        if isinstance(choices, dict) and "scan" in choices:
            return "--fail-on" in choices["scan"]._option_string_actions
    return False


@pytest.mark.skipif(not scan_has_fail_on(), reason="depaudit scan has no --fail-on yet")
def test_fail_on_sets_the_exit_code_and_the_fail_step_fails(
    tmp_path: Path, github: FakeGitHub, project: Path
) -> None:
    runner = Runner(tmp_path, github, "pull_request", pr_event())
    runner.inputs.update(path="app", **{"fail-on": "never"})
    assert runner.scan().returncode == 0
    assert runner.steps["run"]["exit-code"] == "0"
    assert not fail_step_runs(runner.steps["run"]["exit-code"])

    report = json.loads((runner.temp / "depaudit-report" / "depaudit.json").read_text())
    tiers = {s["tier"] for s in report["suspects"]}
    # the corpus socket.io app has offline suspects (bundled data), so some level fails
    assert tiers, "expected suspects in the corpus socket.io app"
    order = ["low", "medium", "high"]
    for level in order:
        expected = "1" if any(order.index(t) >= order.index(level) for t in tiers) else "0"
        runner.inputs["fail-on"] = level
        result = runner.scan()
        assert result.returncode == 0, result.stderr  # --no-fail: the later steps still run
        assert runner.steps["run"]["exit-code"] == expected, level
        assert fail_step_runs(expected) == (expected == "1")
        if expected == "1":
            fail = runner.run("fail")
            assert fail.returncode == 1
            assert "::error::depaudit found suspects at or above fail-on" in fail.stdout
    assert len(github.comments[PR]) == 1  # one sticky comment through every run


@pytest.mark.skipif(not scan_has_fail_on(), reason="depaudit scan has no --fail-on yet")
def test_action_run_without_no_fail_exits_1_on_suspects(
    tmp_path: Path, github: FakeGitHub, project: Path
) -> None:
    """The command itself (outside the composite action) fails the step directly."""
    runner = Runner(tmp_path, github, "schedule", {})
    env = runner.env(step("run"), tmp_path / "out")
    (tmp_path / "out").touch()
    result = subprocess.run(
        [depaudit_bin(), "github", "action-run", "--path", "app", "--fail-on", "low"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1, result.stderr
    assert read_outputs(tmp_path / "out")["exit-code"] == "1"


def scan_has_diff_base_ref() -> bool:
    for action_ in build_parser()._actions:
        choices = getattr(action_, "choices", None)
        if isinstance(choices, dict) and "diff" in choices:
            return "--base-ref" in choices["diff"]._option_string_actions
    return False


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.mark.skipif(not scan_has_diff_base_ref(), reason="depaudit has no diff --base-ref yet")
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_pull_request_comment_leads_with_the_diff_against_the_base(
    tmp_path: Path, github: FakeGitHub, project: Path
) -> None:
    lockfile = project / "package-lock.json"
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "app")
    git(tmp_path, "commit", "-q", "-m", "base")
    base_sha = git(tmp_path, "rev-parse", "HEAD")
    data = json.loads(lockfile.read_text())
    entry = data["packages"]["node_modules/debug"]
    old_version = entry["version"]
    entry["version"] = "99.0.0"  # the pull request "upgrades" debug
    lockfile.write_text(json.dumps(data, indent=2))

    event = pr_event()
    event["pull_request"]["base"]["sha"] = base_sha
    runner = Runner(tmp_path, github, "pull_request", event)
    runner.inputs["path"] = "app"
    result = runner.scan()
    assert result.returncode == 0, result.stderr
    assert "diff against the base" not in result.stderr  # no warning: the diff ran

    outputs = runner.steps["run"]
    diff = Path(outputs["diff"]).read_text(encoding="utf-8").replace("\\", "")  # md escapes
    assert "debug" in diff and old_version in diff and "99.0.0" in diff
    [comment] = github.comments[PR]
    body = comment["body"].replace("\\", "")
    assert body.startswith(MARKER + "\n")
    assert body.count(MARKER) == 1
    assert body.index("99.0.0") < body.index("<details><summary>Full report</summary>")
    summary = runner.summary.read_text(encoding="utf-8").replace("\\", "")
    assert "99.0.0" in summary
    report = Path(outputs["markdown"]).read_text(encoding="utf-8").replace("\\", "")
    report_head = report.replace(MARKER, "").strip().splitlines()[0]
    assert summary.index("99.0.0") < summary.index(report_head)  # the diff comes first


def _asked_for(github: FakeGitHub, key: str) -> int:
    """GitHub advisory requests that asked about ``key`` (name@version): one per scoring of a
    tree that holds it (each name@version is in exactly one batch of a scan)."""
    return sum(
        1
        for r in github.requests
        if r.path == "/advisories"
        and key in unquote(r.query).split("affects=")[-1].split("&")[0].split(",")
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_pull_request_run_scans_once(tmp_path: Path, github: FakeGitHub, project: Path) -> None:
    """Every format, the summary, the comment and the diff come from ONE scan of the head
    (the base lockfile adds its own scoring); before, each format re-ran the whole CLI."""
    lockfile = project / "package-lock.json"
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "app")
    git(tmp_path, "commit", "-q", "-m", "base")
    base_sha = git(tmp_path, "rev-parse", "HEAD")
    data = json.loads(lockfile.read_text())
    old_version = data["packages"]["node_modules/debug"]["version"]
    data["packages"]["node_modules/debug"]["version"] = "99.0.0"
    lockfile.write_text(json.dumps(data, indent=2))
    stable = "@babel/core@" + data["packages"]["node_modules/@babel/core"]["version"]

    event = pr_event()
    event["pull_request"]["base"]["sha"] = base_sha
    runner = Runner(tmp_path, github, "pull_request", event)
    runner.inputs.update(path="app", formats="markdown,json,table", sarif="true")
    # online, without cache or registry: every scoring of a tree asks GitHub's advisories
    result = runner.run(
        "run",
        DEPAUDIT_BIN=depaudit_bin(),
        DEPAUDIT_OFFLINE="0",
        DEPAUDIT_NO_CACHE="1",
        DEPAUDIT_NO_REGISTRY="1",
    )
    assert result.returncode == 0, result.stderr
    outputs = runner.steps["run"]
    assert {"markdown", "json", "table", "sarif", "diff"} <= set(outputs)
    assert _asked_for(github, "debug@99.0.0") == 1  # the head: one scan for four formats
    assert _asked_for(github, f"debug@{old_version}") == 1  # the base, for the diff
    assert _asked_for(github, stable) == 2
    [comment] = github.comments[PR]
    assert "99.0.0" in comment["body"].replace("\\", "")
