"""The Actions helpers: event payloads, the 1 MiB job summary, step outputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_action_run import read_outputs

from depaudit.errors import ConfigError
from depaudit.github.actions import (
    ActionsEnv,
    annotation,
    append_summary,
    pull_request_base,
    pull_request_number,
    set_outputs,
    truncate_utf8,
)


def test_pull_request_number_from_the_payload_shapes() -> None:
    assert pull_request_number({"number": 42, "pull_request": {"number": 42}}) == 42
    assert pull_request_number({"pull_request": {"number": 7}}) == 7
    assert pull_request_number({"issue": {"number": 9, "pull_request": {"url": "x"}}}) == 9
    assert pull_request_number({"issue": {"number": 9}}) is None  # a plain issue
    assert pull_request_number({"schedule": "17 6 * * 1"}) is None
    assert pull_request_number({"number": True}) is None
    assert pull_request_number({"number": "42"}) is None


def test_pull_request_base() -> None:
    event = {"pull_request": {"base": {"sha": "a" * 40, "ref": "main"}}}
    assert pull_request_base(event) == ("a" * 40, "main")
    assert pull_request_base({}) == (None, None)


def test_env_from_environ_and_repository_check() -> None:
    env = ActionsEnv.from_environ(
        {
            "GITHUB_REPOSITORY": "octo/app",
            "GITHUB_EVENT_NAME": "pull_request_target",
            "GITHUB_RUN_ID": "5",
            "GITHUB_SERVER_URL": "https://github.invalid",
        }
    )
    assert env.is_pull_request
    assert env.require_repository() == ("octo", "app")
    assert env.run_url == "https://github.invalid/octo/app/actions/runs/5"
    assert env.api_url == "https://api.github.com"
    with pytest.raises(ConfigError, match="owner/repo"):
        ActionsEnv(repository="just-a-name").require_repository()


def test_truncate_utf8_never_splits_a_character() -> None:
    text = "é" * 50 + "\n" + "ü" * 100
    cut = truncate_utf8(text, 150, "!")
    assert len(cut.encode("utf-8")) <= 150
    assert cut.endswith("\n!")  # cut at the line end
    assert truncate_utf8("short", 150, "!") == "short"
    cut = truncate_utf8("€" * 100, 31, "")  # no line end: cut inside, on a boundary
    assert cut == "€" * 10


def test_summary_stays_within_the_limit_counting_what_is_there(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("x" * 600 + "\n")
    report = "".join(f"| row {i} | ✓ |\n" for i in range(200))
    append_summary(summary, report, limit=2000)
    data = summary.read_bytes()
    assert len(data) <= 2000
    assert data.startswith(b"x" * 600)
    assert b"| row 0 |" in data and b"| row 199 |" not in data
    assert b"1 MiB job summary" in data


def test_small_summary_is_written_whole(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    append_summary(summary, "## depaudit\n\nall good")
    assert summary.read_text() == "## depaudit\n\nall good\n"


def test_outputs_single_and_multiline(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("earlier=1\n")
    set_outputs(out, {"exit-code": "1", "paths": "a.md\nb.json", "empty": ""})
    assert read_outputs(out) == {
        "earlier": "1",
        "exit-code": "1",
        "paths": "a.md\nb.json",
        "empty": "",
    }


def test_annotation_escapes_newlines_and_percent() -> None:
    assert annotation("warning", "50% done\nnext") == "::warning::50%25 done%0Anext"
