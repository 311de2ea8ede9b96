"""`depaudit scan` end to end through main(argv): the shipped example, saved npm ls output,
stdin, the installed tree combined with the lockfile, --output, and the README's usage."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import sys
from pathlib import Path

import pytest

from conftest import ASSETS, REPO
from depaudit.cli import main

EXAMPLE = REPO / "examples" / "express-app"
PROJECTS = ASSETS / "projects"
TREE_ONLY = ["--no-registry"]  # no network in tests; tree checks only


def _scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["scan", *argv, *TREE_ONLY])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_example_scans_from_a_fresh_clone(capsys: pytest.CaptureFixture[str]) -> None:
    assert not (EXAMPLE / "node_modules").exists()  # so no npm run: the lockfile alone
    code, out, err = _scan(capsys, str(EXAMPLE), "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    lock = json.loads((EXAMPLE / "package-lock.json").read_text())
    expected = {
        (key.rpartition("node_modules/")[2], entry["version"])
        for key, entry in lock["packages"].items()
        if key
    }
    assert {(p["name"], p["version"]) for p in report["packages"]} == expected
    assert report["source"]["kind"] == "package-lock"
    kinds = report["summary"]["problems"]
    assert kinds["duplicate-versions"] == 9 and kinds["deduped"] > 0
    [debug] = [
        p for p in report["problems"] if p["kind"] == "duplicate-versions" and p["name"] == "debug"
    ]
    assert debug["found"] == "2.6.9, 3.1.0, 4.1.1"


def test_example_saved_npm_ls_agrees_with_the_lockfile(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _scan(capsys, "--npm-ls", str(EXAMPLE / "npm-ls.json"), "--format", "json")
    assert code == 0
    from_ls = json.loads(out)
    _, out, _ = _scan(capsys, str(EXAMPLE), "--format", "json")
    from_lock = json.loads(out)
    ls_keys = {(p["name"], p["version"]) for p in from_ls["packages"]}
    lock_keys = {(p["name"], p["version"]) for p in from_lock["packages"]}
    assert ls_keys == lock_keys
    dup = {p["name"] for p in from_ls["problems"] if p["kind"] == "duplicate-versions"}
    assert dup == {p["name"] for p in from_lock["problems"] if p["kind"] == "duplicate-versions"}


def test_table_names_the_source_and_counts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _scan(capsys, "--npm-ls", str(PROJECTS / "broken" / "npm-ls.json"))
    assert code == 0
    assert re.search(r"^missing\s+kleur\s+kleur\s+\^4\.1\.5", out, re.M)
    assert re.search(r"^invalid\s+is-number@5\.0\.0\s+is-number\s+\^7\.0\.0\s+5\.0\.0", out, re.M)
    assert re.search(r"^extraneous\s+picocolors@1\.1\.1", out, re.M)
    assert "1 extraneous, 1 invalid, 1 missing" in out


def test_npm_ls_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (PROJECTS / "peer-missing" / "npm-ls-long.json").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = _scan(capsys, "--npm-ls", "-", "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["source"]["path"] == "<stdin>"
    assert [(p["kind"], p["path"]) for p in report["problems"]] == [
        ("peer-missing", ["use-sync-external-store", "react"])
    ]


def test_output_file_written_and_stdout_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "report.json"
    code, out, _ = _scan(capsys, str(EXAMPLE), "--format", "json", "--output", str(target))
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["summary"]["packages"] == 170


def _fake_npm(tmp: Path, monkeypatch: pytest.MonkeyPatch, saved: Path) -> Path:
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(f'#!/bin/sh\npwd > "{tmp}/cwd"\ncat "{saved}"\nexit 1\n')
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return bin_dir


@pytest.mark.skipif(os.name != "posix", reason="fake npm is a shell script")
@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (
            "broken",
            {
                ("missing", ("kleur",)),
                ("invalid", ("is-number",)),
                ("extraneous", ("picocolors",)),
                ("locked-not-declared", ("picocolors",)),
            },
        ),
        ("peer-missing", {("peer-missing", ("use-sync-external-store", "react"))}),
        ("peer-invalid", {("peer-invalid", ("use-sync-external-store", "react"))}),
    ],
)
def test_scan_with_node_modules_combines_installed_tree_and_lockfile(
    case: str,
    expected: set[tuple[str, tuple[str, ...]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """npm's real output of the broken tree, replayed by a stand-in `npm` on PATH."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("package.json", "package-lock.json"):
        shutil.copy(PROJECTS / case / name, project / name)
    (project / "node_modules").mkdir()
    _fake_npm(tmp_path, monkeypatch, PROJECTS / case / "npm-ls.json")
    code, out, err = _scan(capsys, str(project), "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert (tmp_path / "cwd").read_text().strip() == str(project)
    assert report["source"] == {
        "kind": "npm-ls+package-lock",
        "path": str(project / "package-lock.json"),
        "lockfile_version": 3,
    }
    got = {
        (p["kind"], tuple(p["path"]))
        for p in report["problems"]
        if p["kind"] not in ("deduped", "duplicate-versions")
    }
    assert got == expected
    if case == "broken":
        [invalid] = [p for p in report["problems"] if p["kind"] == "invalid"]
        assert invalid["detail"].endswith("package-lock.json has 7.0.0")
        assert any("node_modules differs from" in w for w in report["warnings"])


@pytest.mark.skipif(os.name != "posix", reason="fake npm is a shell script")
def test_no_npm_reads_only_the_lockfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "broken", project)
    (project / "node_modules").mkdir()
    _fake_npm(tmp_path, monkeypatch, PROJECTS / "broken" / "npm-ls.json")
    code, out, _ = _scan(capsys, str(project), "--no-npm", "--format", "json")
    assert code == 0
    assert json.loads(out)["source"]["kind"] == "package-lock"
    assert not (tmp_path / "cwd").exists()  # npm never ran


def test_lockfile_and_no_npm_on_path_warns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECTS / "clean", project)
    (project / "node_modules").mkdir()
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, out, _ = _scan(capsys, str(project), "--format", "json")
    assert code == 0
    assert "npm is not on PATH" in " ".join(json.loads(out)["warnings"])


def _readme_usage() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Usage\n", 1)[1]
    match = re.search(r"```text\n(.*?)```", section, re.S)
    assert match, "the README's Usage section has a ```text block"
    return match.group(1)


def test_readme_usage_matches_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    for name in list(os.environ):  # the help shows defaults as the environment sets them
        if name.startswith("DEPAUDIT_"):
            monkeypatch.delenv(name)
    assert main(["scan", "--help"]) == 0
    assert capsys.readouterr().out == _readme_usage(), (
        "refresh the README's Usage block with `COLUMNS=100 depaudit scan --help`"
    )


@pytest.mark.parametrize("folder", [str(EXAMPLE), "/does/not/exist"])
def test_npm_ls_file_with_a_folder_is_refused(
    capsys: pytest.CaptureFixture[str], folder: str
) -> None:
    """issue 16.7: DIR was silently ignored next to --npm-ls FILE, even one that does not
    exist."""
    saved = PROJECTS / "peer-dev-same-name" / "npm-ls-long.json"
    code, out, err = _scan(capsys, "--npm-ls", str(saved), folder)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--npm-ls reads a saved tree" in err and folder in err
    code, out, _ = _scan(capsys, "--npm-ls", str(saved), "--format", "json")
    assert code == 0 and json.loads(out)["summary"]["problems"] == {"peer-missing": 1}


def test_the_scan_closes_its_cache_while_its_report_is_written(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The CLI's scan hands its cache's close to a thread (``cache.closing_behind``), which
    has ended when ``main`` returns."""
    import threading

    from depaudit import cache as cache_module

    real = cache_module._close
    where: list[str] = []

    def recorded(db: object, checkpoint: object = None) -> None:
        real(db, checkpoint)  # type: ignore[arg-type]
        where.append(threading.current_thread().name)

    monkeypatch.setattr(cache_module, "_close", recorded)
    argv = [str(EXAMPLE), "--offline", "--cache-dir", str(tmp_path), "--format", "json"]
    code = main(["scan", *argv])
    assert code in (0, 1), capsys.readouterr().err
    assert where and set(where) == {"cache-close"}
    assert cache_module._behind is None
