"""A big npm lockfile read alone: the registry's fetch begins in fetch workers before the
tree is read (``app.begin_services``, ``RegistryService.begin(workers_only=True)``), and
the scan, a program of one thread, forks its workers (``services/forked.py``); so does
the scan of an installed project, before it starts reading ``npm ls``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from depaudit.services.registry import DECODE_PROCESS_FROM

from .conftest import FakeRegistry

MANY = DECODE_PROCESS_FROM + 6


def _lockfile(folder: Path, count: int) -> Path:
    """A lockfile v3 placing ``count`` packages, each a dependency of the root."""
    names = [f"pkg-{i}" for i in range(count)]
    packages: dict[str, Any] = {
        "": {"name": "app", "version": "1.0.0", "dependencies": dict.fromkeys(names, "^1.0.0")}
    }
    for name in names:
        packages[f"node_modules/{name}"] = {"version": "1.0.0"}
    lock = {"name": "app", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(json.dumps({"name": "app", "version": "1.0.0"}))
    path = folder / "package-lock.json"
    path.write_text(json.dumps(lock))
    return path


def _serve(registry: FakeRegistry, count: int) -> None:
    for i in range(count):
        name = f"pkg-{i}"
        registry.add(
            {
                "name": name,
                "dist-tags": {"latest": "1.1.0"},
                "versions": {v: {"name": name, "version": v} for v in ("1.0.0", "1.1.0")},
                "time": {"1.0.0": "2024-01-01T00:00:00.000Z", "1.1.0": "2025-01-01T00:00:00.000Z"},
            }
        )


def _argv(registry: FakeRegistry, lock: Path, cache: Path) -> list[str]:
    return [
        "scan",
        "--lockfile",
        str(lock),
        "--no-npm",
        "--no-advisories",
        "--registry",
        registry.url,
        "--cache-dir",
        str(cache),
        "--format",
        "json",
    ]


@pytest.mark.parametrize(
    ("count", "written_ago", "early"),
    [
        (MANY, None, True),  # no cache yet
        (MANY, 2 * 86400.0, True),  # a cache written last before its time to live
        (MANY, 60.0, False),  # a cache written a minute ago: a warm scan, likely
        (DECODE_PROCESS_FROM - 1, None, False),  # a fetch this small runs in the scan
    ],
)
def test_a_big_lockfile_alone_is_fetched_while_its_tree_is_read(
    fake_registry: FakeRegistry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    count: int,
    written_ago: float | None,
    early: bool,
) -> None:
    """64 names or more and a cold cache: the tree's reading waits here for the registry's
    first request (were the fetch started after it, it would wait 10 s for nothing and
    fail); otherwise the fetch runs after the tree, and nothing is asked before it (no
    preview either: a warm scan does not pay for it). Every name is fetched once either way."""
    import depaudit.app
    from depaudit.cache import Cache
    from depaudit.cli import main
    from depaudit.sources.loader import load_tree, lockfile_alone

    monkeypatch.delenv("DEPAUDIT_NO_REGISTRY")
    _serve(fake_registry, count)
    lock = _lockfile(tmp_path / "app", count)
    cache = tmp_path / "cache"
    if written_ago is not None:  # (another project's entry, the cache's last write)
        other = Cache(cache)
        other.set("registry", "elsewhere", {"v": 1})
        other.close()
        moment = time.time() - written_ago
        for path in (cache / "v2").iterdir():
            os.utime(path, (moment, moment))
    seen: list[int] = []

    def read_later(settings: Any, *ahead: Any) -> Any:
        deadline = time.monotonic() + (10 if early else 0.3)
        while not fake_registry.packument_requests() and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append(len(fake_registry.packument_requests()))
        return load_tree(settings, *ahead)

    previewed: list[object] = []

    def alone(settings: Any) -> Any:  # (the lockfile to preview: asked only to preview it)
        previewed.append(settings)
        return lockfile_alone(settings)

    monkeypatch.setattr(depaudit.app, "lockfile_alone", alone)
    monkeypatch.setattr(depaudit.app, "load_tree", read_later)
    out = tmp_path / "report.json"
    assert main([*_argv(fake_registry, lock, cache), "--output", str(out)]) == 0
    assert (seen[0] >= 1) is early
    assert bool(previewed) is (written_ago is None or written_ago > 86400)
    uris = [uri for uri, _, _ in fake_registry.packument_requests()]
    assert len(uris) == len(set(uris)) == count  # each name once, begun early or not
    consulted = json.loads(out.read_text())["consulted"]
    said = next(line for line in consulted if line.startswith("npm registry"))
    assert f"{count} names, 0 cached, {count} fetched" in said


#: the scan run as a program, recording the workers it forked (``forked.start``) in the file
#: named by its first argument; ``exec`` as its second: workers started as interpreters
_DRIVER = """
import sys
from datetime import UTC, datetime
from depaudit.services import fetch_worker, forked, registry

NOW = datetime(2026, 11, 25, tzinfo=UTC)  # (the packages' ages: the same in both runs)
made = registry.RegistryService.__init__

def init(self, *args, **kwargs):
    made(self, *args, **kwargs)
    self.clock = lambda: NOW

registry.RegistryService.__init__ = init
record, mode = sys.argv[1], sys.argv[2]
real = forked.start

def start(count, serve, **kwargs):
    workers = real(count, serve, **kwargs)
    with open(record, "a") as out:  # (who forked them: fetch_worker._fork, at the fetch)
        out.write(f"{sys._getframe(1).f_code.co_name}:{len(workers)}\\n")
    return workers

forked.start = start
if mode == "exec":
    fetch_worker._alone = lambda: False
from depaudit.cli import main
sys.exit(main(sys.argv[3:], clock=lambda: NOW))
"""


def test_the_scan_forks_its_fetch_workers_and_reports_as_with_started_ones(
    fake_registry: FakeRegistry, tmp_path: Path
) -> None:
    """As a program (one thread), the scan forks its fetch workers at the fetch; its report,
    on its standard output and nothing else there, is the one of workers started as
    interpreters, every name fetched once by each run."""
    from depaudit.services.registry_decode import decode_workers

    _serve(fake_registry, MANY)
    lock = _lockfile(tmp_path / "app", MANY)
    env = {k: v for k, v in os.environ.items() if k != "DEPAUDIT_NO_REGISTRY"}
    reports = {}
    for mode in ("fork", "exec"):
        record = tmp_path / f"forked-{mode}.txt"
        argv = [sys.executable, "-c", _DRIVER, str(record), mode]
        argv += _argv(fake_registry, lock, tmp_path / f"cache-{mode}")
        done = subprocess.run(argv, capture_output=True, env=env, cwd=tmp_path, timeout=120)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        forked = record.read_text().split() if record.exists() else []
        assert forked == ([f"_fork:{decode_workers()}"] if mode == "fork" else []), mode
        reports[mode] = json.loads(done.stdout)  # (a worker wrote nothing of the scan's there)
    assert reports["fork"] == reports["exec"]
    assert any(f"{MANY} fetched" in line for line in reports["fork"]["consulted"])
    uris = [uri for uri, _, _ in fake_registry.packument_requests()]
    assert len(uris) == 2 * MANY and len(set(uris)) == MANY


def _npm_printing(folder: Path, count: int) -> dict[str, str]:
    """An ``npm`` on PATH (the environment returned) whose ``ls`` prints, after a moment,
    the tree of :func:`_lockfile`'s project installed in ``folder``, as npm 10's ``ls --all
    --long --json`` does."""
    deps = {
        f"pkg-{i}": {
            "version": "1.0.0",
            "name": f"pkg-{i}",
            "path": str(folder / "node_modules" / f"pkg-{i}"),
            "_dependencies": {},
        }
        for i in range(count)
    }
    tree = {
        "name": "app",
        "version": "1.0.0",
        "path": str(folder),
        "_dependencies": dict.fromkeys(deps, "^1.0.0"),
        "dependencies": deps,
    }
    printed = folder.parent / "npm-ls.json"
    printed.write_text(json.dumps(tree))
    bin_dir = folder.parent / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(f'#!/bin/sh\nsleep 0.3\ncat "{printed}"\n')
    npm.chmod(0o755)
    for name in deps:
        (folder / "node_modules" / name).mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k != "DEPAUDIT_NO_REGISTRY"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return env


@pytest.mark.skipif(os.name != "posix", reason="the fake npm is a shell script")
def test_an_installed_project_s_scan_forks_its_fetch_workers_before_reading_npm_ls(
    fake_registry: FakeRegistry, tmp_path: Path
) -> None:
    """npm ls runs from the scan's start, but the two threads that read what it prints start
    after the registry's fetch has begun: the scan is then still a process of one thread,
    and forks its fetch workers (started as interpreters, each would import their modules
    again); the tree is npm's, every name fetched once."""
    from depaudit.services.registry_decode import decode_workers

    _serve(fake_registry, MANY)
    folder = tmp_path / "app"
    _lockfile(folder, MANY)
    env = _npm_printing(folder, MANY)
    record = tmp_path / "forked.txt"
    argv = [sys.executable, "-c", _DRIVER, str(record), "fork", "scan", str(folder)]
    argv += ["--no-advisories", "--registry", fake_registry.url]
    argv += ["--cache-dir", str(tmp_path / "cache"), "--format", "json"]
    done = subprocess.run(argv, capture_output=True, env=env, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert record.read_text().split() == [f"_fork:{decode_workers()}"]
    report = json.loads(done.stdout)
    assert report["source"]["kind"].startswith("npm-ls")  # (npm's tree, read to its end)
    assert len(report["packages"]) == MANY
    assert any(f"{MANY} names, 0 cached, {MANY} fetched" in x for x in report["consulted"])
    uris = [uri for uri, _, _ in fake_registry.packument_requests()]
    assert len(uris) == len(set(uris)) == MANY
