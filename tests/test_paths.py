"""Paths: lockfile keys and workspace globs with ``..`` or absolute paths are never followed
outside the project; a scan writes nothing into the scanned project; ``--output`` is atomic
(no partial file on failure, an existing file intact on error)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ASSETS
from depaudit.cli import main
from depaudit.formats import table as table_module

CANARY = "outside-canary"
#: only in the package.json files outside the project: seen in a report = read from outside
READ_CANARY = "outside-manifest-canary"
READ_DEP = "dependency-only-outside"
_TRACE: list[str] | None = None


def _audit(event: str, args: tuple[object, ...]) -> None:
    if (
        _TRACE is not None
        and event in ("open", "os.listdir", "os.scandir")
        and args
        and isinstance(args[0], (str, bytes, os.PathLike))
    ):
        _TRACE.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@pytest.fixture
def trace() -> Iterator[list[str]]:
    """Every file opened and folder listed while the fixture is active."""
    global _TRACE
    _TRACE = []
    yield _TRACE
    _TRACE = None


def _outside(tmp_path: Path) -> Path:
    """A folder beside the project that looks like a package (a tempting target)."""
    outside = tmp_path / "outside"
    for sub in ("", "pkg"):
        folder = outside / sub
        folder.mkdir(parents=True, exist_ok=True)
        manifest = {"name": READ_CANARY, "version": "6.6.6", "dependencies": {READ_DEP: "1.0.0"}}
        (folder / "package.json").write_text(json.dumps(manifest))
    return outside


def _npm_project(root: Path) -> None:
    manifest = {
        "name": "app",
        "version": "1.0.0",
        "workspaces": ["../outside", "../outside/*", "/etc", str(root.parent / "outside")],
        "dependencies": {"a": "1.0.0", "up": "file:../outside/pkg", "abs": "file:/etc"},
    }
    lock = {
        "name": "app",
        "lockfileVersion": 3,
        "packages": {
            "": manifest,
            "node_modules/a": {"version": "1.0.0"},
            "node_modules/up": {"resolved": "../outside/pkg", "link": True},
            "../outside/pkg": {"name": CANARY, "version": "6.6.6"},
            "node_modules/abs": {"resolved": "/etc", "link": True},
            "/etc": {"version": "1.0.0"},
            "node_modules/../../outside": {"version": "6.6.6"},
            "node_modules/a/node_modules/../../../outside/pkg": {"version": "6.6.6"},
        },
    }
    (root / "package.json").write_text(json.dumps(manifest))
    (root / "package-lock.json").write_text(json.dumps(lock))


def _pnpm_project(root: Path) -> None:
    (root / "package.json").write_text('{"name": "app", "version": "1.0.0"}')
    (root / "pnpm-workspace.yaml").write_text("packages:\n  - '../outside'\n  - '/etc'\n")
    (root / "pnpm-lock.yaml").write_text(
        "lockfileVersion: '9.0'\n"
        "importers:\n"
        "  .:\n    dependencies:\n      a:\n        specifier: 1.0.0\n        version: 1.0.0\n"
        "  ../outside:\n    dependencies:\n      leak:\n        specifier: 1.0.0\n"
        "        version: 1.0.0\n"
        "  /etc:\n    dependencies: {}\n"
        "packages:\n  a@1.0.0:\n    resolution: {integrity: sha512-x}\n"
        "  leak@1.0.0:\n    resolution: {integrity: sha512-y}\n"
        "snapshots:\n  a@1.0.0: {}\n  leak@1.0.0: {}\n"
    )


def _yarn_project(root: Path) -> None:
    manifest = {"name": "app", "version": "1.0.0", "workspaces": ["../outside", "/etc"]}
    (root / "package.json").write_text(json.dumps(manifest))
    (root / "yarn.lock").write_text(
        "__metadata:\n  version: 8\n\n"
        '"app@workspace:.":\n  version: 0.0.0-use.local\n  resolution: "app@workspace:."\n'
        "  dependencies:\n    a: ^1.0.0\n    outside-canary: ../outside\n"
        "  languageName: unknown\n  linkType: soft\n\n"
        '"a@npm:^1.0.0":\n  version: 1.0.0\n  resolution: "a@npm:1.0.0"\n'
        "  languageName: node\n  linkType: hard\n\n"
        f'"{CANARY}@workspace:../outside":\n  version: 6.6.6\n'
        f'  resolution: "{CANARY}@workspace:../outside"\n'
        "  languageName: unknown\n  linkType: soft\n"
    )


def _bun_project(root: Path) -> None:
    manifest = {"name": "app", "version": "1.0.0", "workspaces": ["../outside", "/etc"]}
    (root / "package.json").write_text(json.dumps(manifest))
    lock = {
        "lockfileVersion": 1,
        "workspaces": {
            "": {"name": "app", "dependencies": {"a": "1.0.0"}},
            "../outside": {"name": CANARY, "dependencies": {"leak": "1.0.0"}},
            "/etc": {"name": "etc"},
        },
        "packages": {
            "a": ["a@1.0.0", "", {}, "sha512-x"],
            CANARY: [f"{CANARY}@workspace:../outside"],
        },
    }
    (root / "bun.lock").write_text(json.dumps(lock))


PROJECTS = {"npm": _npm_project, "pnpm": _pnpm_project, "yarn": _yarn_project, "bun": _bun_project}


@pytest.mark.parametrize("kind", PROJECTS)
def test_hostile_paths_are_never_followed_outside_the_project(
    kind: str, tmp_path: Path, trace: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    outside = _outside(tmp_path)
    project = tmp_path / "app"
    project.mkdir()
    PROJECTS[kind](project)
    trace.clear()
    code = main(["scan", str(project), "--no-npm", "--format", "json"])
    out, err = capsys.readouterr()
    touched = [p for p in trace if Path(p).is_absolute() or p.startswith("..")]
    escaped = [
        p
        for p in touched
        if Path(p).resolve().is_relative_to(outside) or Path(p).resolve().is_relative_to("/etc")
    ]
    assert escaped == [], escaped
    assert code in (0, 1, 2), err
    if code == 2:  # refused as an input error: one line naming the project's file
        assert len(err.splitlines()) == 1 and str(project) in err
    else:
        json.loads(out)
    assert READ_CANARY not in out + err
    assert READ_DEP not in out + err
    assert "Traceback" not in err


def _snapshot(folder: Path) -> dict[str, tuple[int, int, str]]:
    out = {}
    for path in sorted(folder.rglob("*")):
        stat = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        out[str(path.relative_to(folder))] = (stat.st_mode, stat.st_mtime_ns, digest)
    return out


@pytest.mark.parametrize("kind", ["npm", "pnpm9", "yarn1", "yarn4"])
def test_a_scan_writes_nothing_into_the_project(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    shutil.copytree(ASSETS / "projects-pm" / kind, project)
    before = _snapshot(project)
    mtime = project.stat().st_mtime_ns
    for fmt in ("table", "json", "markdown", "sarif"):
        assert main(["scan", str(project), "--format", fmt]) in (0, 1)
    assert main(["explain", "--no-npm", "nothing-here", str(project)]) == 2
    capsys.readouterr()
    assert _snapshot(project) == before
    assert project.stat().st_mtime_ns == mtime  # nothing created and removed either


# -- --output is atomic --------------------------------------------------------------------------

LOCK = ASSETS / "projects" / "broken" / "package-lock.json"


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_output_written_whole(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old\n")
    assert main(["scan", "--lockfile", str(LOCK), "--format", "json", "--output", str(target)]) == 0
    assert json.loads(target.read_text())["schema_version"] == 1
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("failure", [RuntimeError("render bug"), KeyboardInterrupt()])
def test_failure_while_rendering_keeps_the_old_file(
    failure: BaseException,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "report.txt"
    target.write_text("old\n")

    def broken(self: object, report: object) -> str:
        raise failure

    monkeypatch.setattr(table_module.TableFormat, "render", broken)
    code = main(["scan", "--lockfile", str(LOCK), "--output", str(target)])
    assert code == (130 if isinstance(failure, KeyboardInterrupt) else 4)
    assert target.read_text() == "old\n"
    assert _leftovers(tmp_path) == []
    assert "Traceback" not in capsys.readouterr().err


def test_failure_while_writing_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The disk fills up half way: the temporary file goes, the old report stays."""
    target = tmp_path / "report.json"
    target.write_text("old\n")
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, handle: object) -> None:
            self.handle = handle

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()  # type: ignore[attr-defined]

        def write(self, text: str) -> int:
            self.handle.write(text[: len(text) // 2])  # type: ignore[attr-defined]
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda *a, **k: Full(real_fdopen(*a, **k)))
    code = main(["scan", "--lockfile", str(LOCK), "--format", "json", "--output", str(target)])
    err = capsys.readouterr().err
    assert code == 2
    assert "No space left" in err and str(target) in err
    assert target.read_text() == "old\n"
    assert _leftovers(tmp_path) == []


def test_output_into_a_read_only_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        code = main(["scan", "--lockfile", str(LOCK), "--output", str(folder / "r.txt")])
        assert code == 2
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


def test_output_that_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "dir").mkdir()
    assert main(["scan", "--lockfile", str(LOCK), "--output", str(tmp_path / "dir")]) == 2
    assert list((tmp_path / "dir").iterdir()) == []
    assert len(capsys.readouterr().err.splitlines()) == 1
