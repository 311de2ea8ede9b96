"""The workflows and action.yml: actionlint on all of them, and the rules of issue 6 checked on
their structure (triggers, least permissions, injection-safe run scripts)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.y*ml"))
ACTION = REPO / "action.yml"
_EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def actionlint() -> str | None:
    beside = Path(sys.executable).parent / "actionlint"
    return str(beside) if beside.is_file() else shutil.which("actionlint")


def run_actionlint(cwd: Path) -> subprocess.CompletedProcess[str]:
    binary = actionlint()
    if binary is None:
        pytest.skip("actionlint is not installed (it comes with the test extra)")
    return subprocess.run(
        [binary, "-no-color", "-shellcheck=", "-pyflakes="],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_actionlint_passes_on_every_workflow_and_the_action() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "depaudit.yml"}
    result = run_actionlint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_actionlint_reads_action_yml_through_uses_dot(tmp_path: Path) -> None:
    """depaudit.yml calls the action as `uses: ./`, so actionlint checks it against action.yml's
    inputs: a misspelt input is reported (so the lint above really covers action.yml)."""
    shutil.copytree(REPO / ".github", tmp_path / ".github")
    shutil.copy(ACTION, tmp_path / "action.yml")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    workflow = tmp_path / ".github" / "workflows" / "depaudit.yml"
    text = workflow.read_text()
    assert "fail-on:" in text
    workflow.write_text(text.replace("fail-on:", "fail-onn:", 1))
    result = run_actionlint(tmp_path)
    assert result.returncode == 1
    assert 'input "fail-onn" is not defined in action "depaudit"' in result.stdout


# -- depaudit.yml: triggers and least permissions -------------------------------------------------


def depaudit_workflow() -> dict[str, Any]:
    return load(REPO / ".github" / "workflows" / "depaudit.yml")


def action_jobs(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Jobs that run the local action, with its `with:`."""
    found = {}
    for name, job in workflow["jobs"].items():
        for entry in job.get("steps", []):
            if entry.get("uses") == "./":
                found[name] = {**job, "with": entry.get("with", {})}
    return found


def test_dogfood_workflow_triggers() -> None:
    on = depaudit_workflow()["on"]
    assert set(on) == {"schedule", "pull_request", "workflow_dispatch"}
    [entry] = on["schedule"]
    fields = entry["cron"].split()
    assert len(fields) == 5
    minute, hour, dom, month, dow = fields
    assert (dom, month) == ("*", "*") and dow.isdigit()  # once a week
    assert minute.isdigit() and hour.isdigit()


def test_dogfood_workflow_has_least_permissions() -> None:
    workflow = depaudit_workflow()
    assert workflow["permissions"] == {"contents": "read"}
    jobs = action_jobs(workflow)
    assert jobs, "depaudit.yml runs the action from this repository (uses: ./)"
    for name, job in jobs.items():
        perms = job["permissions"]
        assert perms["contents"] == "read", name
        assert job["with"]["path"] == "examples/express-app"
        comments = str(job["with"].get("comment", "true")) != "false"
        sarif = str(job["with"].get("sarif", "false")) == "true"
        assert ("pull-requests" in perms) == comments, name
        if comments:
            assert perms["pull-requests"] == "write"
        assert ("security-events" in perms) == sarif, name
        writes = {k for k, v in perms.items() if v == "write"}
        assert writes <= {"pull-requests", "security-events"}, name
    assert any(str(j["with"].get("sarif")) == "true" for j in jobs.values())
    assert any(str(j["with"].get("comment", "true")) != "false" for j in jobs.values())


def test_ci_runs_actionlint() -> None:
    ci = load(REPO / ".github" / "workflows" / "ci.yml")
    steps = [s for job in ci["jobs"].values() for s in job.get("steps", [])]
    assert any("actionlint" in str(s.get("uses", "")) for s in steps)
    assert ci["permissions"] == {"contents": "read"}


# -- action.yml ---------------------------------------------------------------------------------


def test_action_metadata() -> None:
    action = load(ACTION)
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= {
        "path",
        "fail-on",
        "formats",
        "comment",
        "sarif",
        "token",
        "extra-args",
    }
    assert action["inputs"]["token"]["default"] == "${{ github.token }}"
    steps = action["runs"]["steps"]
    ids = {s.get("id") for s in steps}
    for name, output in action["outputs"].items():
        refs = re.findall(r"steps\.([\w-]+)\.outputs\.([\w-]+)", output["value"])
        assert refs, name
        assert all(step_id in ids for step_id, _ in refs), name
    used_inputs = {
        m[1].split(".", 1)[1]
        for text in (yaml.safe_dump(steps),)
        for m in _EXPR.finditer(text)
        if m[1].startswith("inputs.")
    }
    assert used_inputs <= set(action["inputs"])
    assert used_inputs >= {"path", "fail-on", "formats", "comment", "sarif", "token", "extra-args"}


def test_action_run_scripts_take_inputs_through_env_only() -> None:
    """No `${{ }}` inside a `run:` script: an input or a PR title can never become shell code."""
    for entry in load(ACTION)["runs"]["steps"]:
        if "run" in entry:
            assert "${{" not in entry["run"], entry.get("name")
            assert entry["shell"] == "bash"


def test_action_installs_itself_and_caches_weekly() -> None:
    every = load(ACTION)["runs"]["steps"]
    steps = {s["id"]: s for s in every if "id" in s}
    install = steps["install"]
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert '"$ACTION_PATH"' in install["run"] and "date -u +%G-%V" in install["run"]
    restore = steps["cache"]
    assert restore["uses"].startswith("actions/cache/restore@")
    assert "steps.install.outputs.week" in restore["with"]["key"]
    saves = [s for s in every if str(s.get("uses", "")).startswith("actions/cache/save@")]
    assert len(saves) == 1 and saves[0]["with"]["key"] == restore["with"]["key"]
    assert saves[0]["with"]["path"] == restore["with"]["path"]
    assert steps["run"]["env"]["DEPAUDIT_CACHE_DIR"] == restore["with"]["path"]
    uploads = [s for s in every if "upload-sarif" in str(s.get("uses", ""))]
    assert len(uploads) == 1 and "inputs.sarif == 'true'" in uploads[0]["if"]
