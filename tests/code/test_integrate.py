"""``depaudit scan`` runs the code rules too: findings in every format, --no-code, --fail-on."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from conftest import REPO
from depaudit.cli import main

LEAKY = REPO / "examples" / "leaky-app" / "src"
LOCK = REPO / "examples" / "express-app"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    for name in ("package.json", "package-lock.json"):
        shutil.copy(LOCK / name, folder / name)
    shutil.copytree(LEAKY, folder / "src")
    return folder


def _scan(project: Path, *extra: str) -> list[str]:
    return ["scan", str(project), "--offline", "--no-npm", "--no-cache", *extra]


def test_findings_in_json_and_sarif(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_scan(project, "--format", "json")) == 0
    data = json.loads(capsys.readouterr().out)
    assert {f["rule"] for f in data["findings"]} == {
        "unreleased-connection",
        "listener-leak",
        "growing-collection",
        "uncleared-timer",
        "unbounded-cache",
    }
    assert all(f["file"] == "src/server.js" for f in data["findings"])
    main(_scan(project, "--format", "sarif"))
    sarif = json.loads(capsys.readouterr().out)
    code = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "uncleared-timer"]
    [location] = code[0]["locations"]
    assert location["physicalLocation"]["artifactLocation"]["uri"].endswith("src/server.js")
    assert location["physicalLocation"]["region"]["startLine"] == 31
    rule_ids = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} <= rule_ids


def test_table_and_markdown(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(_scan(project))
    assert "src/server.js:31:3" in capsys.readouterr().out
    main(_scan(project, "--format", "markdown"))
    assert "Leak patterns in the app's code (5)" in capsys.readouterr().out


def test_no_code_and_fail_on(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(_scan(project, "--no-code", "--format", "json"))
    assert json.loads(capsys.readouterr().out)["findings"] == []
    # the lockfile's suspects alone trip high; at medium the code findings trip it too
    assert main(_scan(project, "--fail-on", "medium")) == 1
    err = capsys.readouterr().err
    assert "4 code findings at or above medium" in err


def test_the_code_scan_runs_in_its_thread_and_its_error_reaches_the_caller(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from depaudit.code import integrate
    from depaudit.code.integrate import CodeScan
    from depaudit.config import Settings
    from depaudit.errors import InputError

    settings = Settings(directory=project, use_cache=False)
    inline = CodeScan(settings).result()  # never started: runs in the caller's thread
    assert inline is not None and len(inline.findings) == 5

    threads: list[str] = []
    real = integrate.scan_app_code

    def scan(given: Settings, stop: threading.Event | None = None) -> object:
        threads.append(threading.current_thread().name)
        return real(given, stop)

    monkeypatch.setattr(integrate, "scan_app_code", scan)
    started = CodeScan(settings)
    started.start()
    started.start()  # once
    assert started.result() == inline
    assert threads == ["code-scan"]

    def fail(given: Settings, stop: threading.Event | None = None) -> object:
        raise InputError(project / "src", "cannot be read")

    monkeypatch.setattr(integrate, "scan_app_code", fail)
    failing = CodeScan(settings)
    failing.start()
    with pytest.raises(InputError, match="cannot be read"):
        failing.result()


def test_an_interrupted_scan_stops_the_code_scan_beside_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (or an error) while the services run: the code scan started beside them is
    told to stop and waited for, so no worker outlives the scan."""
    from depaudit import app
    from depaudit.code import integrate
    from depaudit.code.engine import Stopped
    from depaudit.config import Settings

    scans: list[integrate.CodeScan] = []
    started = threading.Event()

    def slow(settings: Settings, stop: threading.Event | None = None) -> object:
        started.set()
        assert stop is not None
        if stop.wait(10):
            raise Stopped
        return None

    real_init = integrate.CodeScan.__init__

    def keep(self: integrate.CodeScan, settings: Settings) -> None:
        real_init(self, settings)
        scans.append(self)

    def interrupted(*args: object) -> object:
        beside = args[4]
        assert callable(beside)
        beside()  # the services started, and the code scan with them
        assert started.wait(10)
        raise KeyboardInterrupt

    monkeypatch.setattr(integrate, "scan_app_code", slow)
    monkeypatch.setattr(integrate.CodeScan, "__init__", keep)
    monkeypatch.setattr(app, "build_report", interrupted)
    settings = Settings(directory=project, use_cache=False, use_code=True, offline=True)
    with pytest.raises(KeyboardInterrupt):
        app.scan(settings)
    [scan] = scans
    assert scan._thread is not None and not scan._thread.is_alive()
    with pytest.raises(Stopped):
        scan.result()
