"""``npm ls`` started before anything else where the installed tree is read
(``loader.npm_ls_ahead``, ``app.scan``): exactly where ``load_tree`` would run it, used by
it, ended when the scan does not use it, and timed from its start."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

from depaudit.config import Settings
from depaudit.errors import InputError
from depaudit.sources import loader
from depaudit.sources.npm_ls_run import NpmLs, finish_npm_ls, start_npm_ls

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the fake npm is a shell script")

TESTS = Path(__file__).resolve().parent.parent
SAVED = TESTS.parent / "examples" / "express-app"


def fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    """An ``npm`` on PATH running ``body`` (sh); each run appends a line to the log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "npm-runs"
    npm = bin_dir / "npm"
    npm.write_text(f'#!/bin/sh\necho run >> "{log}"\n{body}')
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def project(tmp_path: Path, lockfile: str | None, node_modules: bool = True) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "package.json").write_text((SAVED / "package.json").read_text())
    if lockfile == "package-lock.json":
        (folder / lockfile).write_text((SAVED / "package-lock.json").read_text())
    elif lockfile is not None:
        (folder / lockfile).write_text("# yarn lockfile v1\n")
    if node_modules:
        (folder / "node_modules").mkdir()
    return folder


@pytest.mark.parametrize(
    ("lockfile", "node_modules", "flags", "runs"),
    [
        ("package-lock.json", True, {}, True),
        (None, True, {}, True),  # package.json alone: npm ls is the only view
        ("package-lock.json", False, {}, False),
        ("package-lock.json", True, {"use_npm": False}, False),
        ("package-lock.json", True, {"lockfile": "package-lock.json"}, False),
        ("yarn.lock", True, {}, False),
    ],
)
def test_started_exactly_where_load_tree_runs_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lockfile: str | None,
    node_modules: bool,
    flags: dict[str, object],
    runs: bool,
) -> None:
    log = fake_npm(tmp_path, monkeypatch, f'cat "{SAVED / "npm-ls.json"}"\n')
    folder = project(tmp_path, lockfile, node_modules)
    if "lockfile" in flags:
        flags = {**flags, "lockfile": folder / str(flags["lockfile"])}
    settings = Settings(directory=folder, **flags)  # type: ignore[arg-type]
    ahead = loader.npm_ls_ahead(settings)
    assert (ahead is not None) is runs
    try:
        tree = loader.load_tree(settings, ahead)
    except InputError:  # (the one-line yarn.lock above is not a lockfile: read, not npm's)
        assert lockfile == "yarn.lock"
        tree = None
    ran = log.read_text().count("run") if log.exists() else 0
    assert ran == (1 if runs else 0)  # started once, and the tree read it: not run again
    if runs:
        assert tree is not None and tree.source.kind.startswith("npm-ls")


def started_runs(monkeypatch: pytest.MonkeyPatch) -> list[NpmLs]:
    """Every npm ls the scan starts, as it starts it."""
    from depaudit.sources import npm_ls_run

    runs: list[NpmLs] = []
    start = npm_ls_run.start_npm_ls

    def recording(directory: Path) -> NpmLs:
        runs.append(start(directory))
        return runs[-1]

    monkeypatch.setattr(npm_ls_run, "start_npm_ls", recording)
    return runs


def test_a_lockfile_that_cannot_be_read_ends_npm_started_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through depaudit scan: the lockfile's error is said (exit 2) at once, and npm ls,
    started before it was read, does not outlive the scan."""
    from depaudit.cli import main

    fake_npm(tmp_path, monkeypatch, "exec sleep 30\n")
    runs = started_runs(monkeypatch)
    folder = project(tmp_path, "package-lock.json")
    (folder / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": 7}')
    started = time.monotonic()
    assert main(["scan", str(folder), "--no-registry", "--format", "json"]) == 2
    assert time.monotonic() - started < 10  # not the fake npm's 30 s
    assert "package-lock.json" in capsys.readouterr().err
    assert len(runs) == 1 and runs[0].proc.poll() is not None  # ended (and reaped)


def test_the_time_limit_counts_from_npms_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_npm(tmp_path, monkeypatch, "exec sleep 30\n")
    run = start_npm_ls(project(tmp_path, "package-lock.json"))
    time.sleep(1.0)  # (the lockfile and the services were read meanwhile)
    started = time.monotonic()
    with pytest.raises(InputError, match="did not finish within 1.5 seconds"):
        finish_npm_ls(run, timeout=1.5)
    assert time.monotonic() - started < 1.2  # half a second left, not 1.5 s more
    assert run.proc.poll() is not None


def test_the_scan_reads_npm_ls_started_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """npm ls starts before the lockfile is read, and its tree is the one reported."""
    import depaudit.sources.package_lock
    from depaudit.cli import main

    order: list[str] = []
    log = fake_npm(tmp_path, monkeypatch, f'cat "{SAVED / "npm-ls.json"}"\n')
    runs = started_runs(monkeypatch)
    load = depaudit.sources.package_lock.PackageLockSource.load

    def reading(self: object, path: Path) -> object:
        order.append(f"lockfile read after {len(runs)} npm ls")
        return load(self, path)  # type: ignore[arg-type]

    monkeypatch.setattr(depaudit.sources.package_lock.PackageLockSource, "load", reading)
    folder = project(tmp_path, "package-lock.json")
    out = tmp_path / "report.json"
    code = main(["scan", str(folder), "--no-registry", "--format", "json", "--output", str(out)])
    assert code == 0
    assert order == ["lockfile read after 1 npm ls"]
    report = json.loads(out.read_text())
    assert report["source"]["kind"] == "npm-ls+package-lock"
    assert log.read_text().count("run") == 1 and len(runs) == 1


def test_npm_that_ended_in_time_is_read_however_late(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From ``read()`` on (``app.scan`` calls it once its fetch workers are forked), what
    it prints is read as it prints it (more than a pipe holds, here), so npm ends in its
    own time; read after its time limit has passed, it is still a tree. A second ``read()``
    starts no other readers."""
    ended = tmp_path / "ended"
    big = json.loads((SAVED / "npm-ls.json").read_text())
    big["description"] = "x" * 200_000  # (over a pipe's 64 KB)
    (tmp_path / "big.json").write_text(json.dumps(big))
    fake_npm(tmp_path, monkeypatch, f'cat "{tmp_path / "big.json"}"\ntouch "{ended}"\n')
    run = start_npm_ls(project(tmp_path, "package-lock.json"))
    run.read()
    run.read()
    assert len(run.readers) == 2  # (its output and its errors)
    deadline = time.monotonic() + 10
    while not ended.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ended.exists()  # npm did not wait for the scan to read its output
    time.sleep(1.2)  # (the lockfile was read meanwhile, longer than the limit below)
    tree = finish_npm_ls(run, timeout=1.0)
    assert tree.packages


def test_stop_ends_what_npm_left_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """npm (or a wrapper) that started a child and ended: stop() ends the child too."""
    pid_file = tmp_path / "child"
    fake_npm(tmp_path, monkeypatch, f'sleep 30 &\necho $! > "{pid_file}"\nexit 1\n')
    run = start_npm_ls(project(tmp_path, "package-lock.json"))
    deadline = time.monotonic() + 10
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    child = int(pid_file.read_text())
    run.stop()
    deadline = time.monotonic() + 5
    while running(child):
        assert time.monotonic() < deadline, "the child npm left still runs"
        time.sleep(0.02)
    run.stop()  # (again: nothing, once reaped)


def running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, ended and not reaped yet, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())
