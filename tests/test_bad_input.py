"""The bad-input catalogue: every case runs through ``main(argv)`` and must end the same way:
exit 2, exactly one line on stderr that names the file (or folder), nothing on stdout, and
the ``--output`` target neither created nor overwritten."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ASSETS
from depaudit.cli import main

REAL_LOCK = ASSETS / "projects" / "broken" / "package-lock.json"
REAL_NPM_LS = ASSETS / "projects" / "broken" / "npm-ls.json"


@dataclass(frozen=True)
class Case:
    """``setup(tmp, monkeypatch)`` prepares the input and returns (argv, name in message)."""

    id: str
    setup: Callable[[Path, pytest.MonkeyPatch], tuple[list[str], str]]


def _file(
    name: str, content: bytes | str, flag: str = "--lockfile"
) -> Callable[..., tuple[list[str], str]]:
    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[list[str], str]:
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return ["scan", flag, str(path)], str(path)

    return setup


def _missing_file(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[list[str], str]:
    path = tmp / "nope" / "package-lock.json"
    return ["scan", "--lockfile", str(path)], str(path)


def _directory_as_file(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[list[str], str]:
    folder = tmp / "a-folder"
    folder.mkdir()
    return ["scan", "--npm-ls", str(folder)], str(folder)


def _stdin(content: bytes) -> Callable[..., tuple[list[str], str]]:
    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[list[str], str]:
        mp.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(content)))
        return ["scan", "--npm-ls", "-"], "<stdin>"

    return setup


def _project(tmp: Path, *, lockfile: bool, node_modules: bool) -> Path:
    project = tmp / "project"
    project.mkdir()
    (project / "package.json").write_text(json.dumps({"name": "p", "version": "1.0.0"}))
    if lockfile:
        (project / "package-lock.json").write_text(REAL_LOCK.read_text())
    if node_modules:
        (project / "node_modules").mkdir()
    return project


def _fake_npm(tmp: Path, mp: pytest.MonkeyPatch, body: str) -> None:
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text("#!/bin/sh\n" + body)
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    mp.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")


def _npm_absent(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[list[str], str]:
    project = _project(tmp, lockfile=False, node_modules=True)
    empty = tmp / "empty-bin"
    empty.mkdir()
    mp.setenv("PATH", str(empty))
    return ["scan", str(project)], str(project)


def _npm_times_out(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[list[str], str]:
    project = _project(tmp, lockfile=True, node_modules=True)
    _fake_npm(tmp, mp, "exec sleep 60\n")
    return ["scan", str(project), "--npm-timeout", "0.5"], str(project)


def _npm_fails(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[list[str], str]:
    project = _project(tmp, lockfile=True, node_modules=True)
    _fake_npm(tmp, mp, 'echo "npm error code EUSAGE" >&2\nexit 1\n')
    return ["scan", str(project)], str(project)


def _npm_prints_garbage(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[list[str], str]:
    project = _project(tmp, lockfile=True, node_modules=True)
    _fake_npm(tmp, mp, 'echo \'{"name": "p", "dependencies": [\'\nexit 1\n')
    return ["scan", str(project)], str(project)


def _only(name: str, content: bytes) -> Callable[..., tuple[list[str], str]]:
    def setup(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[list[str], str]:
        project = tmp / "project"
        project.mkdir()
        (project / name).write_bytes(content)
        return ["scan", str(project)], name

    return setup


def _empty_folder(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[list[str], str]:
    folder = tmp / "empty"
    folder.mkdir()
    return ["scan", str(folder)], str(folder)


def _no_such_folder(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[list[str], str]:
    return ["scan", str(tmp / "not-here")], str(tmp / "not-here")


def _output_in_missing_folder(tmp: Path, mp: pytest.MonkeyPatch) -> tuple[list[str], str]:
    target = tmp / "no-such-dir" / "report.json"
    return ["scan", "--npm-ls", str(REAL_NPM_LS), "--output", str(target)], str(target)


_TRUNCATED = REAL_LOCK.read_text()[: len(REAL_LOCK.read_text()) // 2]

CASES = [
    Case("missing-file", _missing_file),
    Case("empty-file", _file("package-lock.json", "")),
    Case("whitespace-only", _file("package-lock.json", " \n\t\n")),
    Case("not-json", _file("package-lock.json", "lockfileVersion = 3\n")),
    Case("truncated-json", _file("package-lock.json", _TRUNCATED)),
    Case("json-array", _file("package-lock.json", "[1, 2, 3]")),
    Case("json-wrong-shape", _file("package-lock.json", '{"packages": [1, 2]}')),
    Case("unknown-lockfile-version", _file("package-lock.json", '{"lockfileVersion": 99}')),
    Case("binary-file", _file("package-lock.json", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")),
    Case("invalid-utf8", _file("package-lock.json", b'{"name": "\xff\xfe"}')),
    Case("directory-as-file", _directory_as_file),
    Case("npm-ls-wrong-shape", _file("ls.json", '{"hello": "world"}', "--npm-ls")),
    Case(
        "npm-ls-dependencies-list",
        _file("ls.json", '{"name": "x", "dependencies": []}', "--npm-ls"),
    ),
    Case("npm-ls-truncated", _file("ls.json", REAL_NPM_LS.read_text()[:300], "--npm-ls")),
    Case("npm-ls-string", _file("ls.json", '"npm ls"', "--npm-ls")),
    Case(
        "npm-ls-error-only",
        _file("ls.json", '{"error": {"code": "ENOENT", "summary": "x"}}', "--npm-ls"),
    ),
    Case(
        "npm-ls-human-output",
        _file("ls.txt", (REAL_NPM_LS.parent / "npm-ls.txt").read_text(), "--npm-ls"),
    ),
    Case("stdin-garbage", _stdin(b"this is not json at all\n")),
    Case("stdin-empty", _stdin(b"")),
    Case("stdin-binary", _stdin(b"\x00\x01\x02garbage")),
    Case("npm-absent", _npm_absent),
    Case("npm-times-out", _npm_times_out),
    Case("npm-fails", _npm_fails),
    Case("npm-prints-broken-json", _npm_prints_garbage),
    Case("yarn-lock-alone-broken", _only("yarn.lock", b"\x00\x00binary\x00")),
    Case("pnpm-lock-alone-broken", _only("pnpm-lock.yaml", b"\x00\x00binary\x00")),
    Case("empty-folder", _empty_folder),
    Case("no-such-folder", _no_such_folder),
    Case("output-in-missing-folder", _output_in_missing_folder),
]

# each malformed yarn / pnpm / bun lockfile of tests/assets/{yarn,pnpm,bun}/bad-*
_LOCK_NAMES = {"yarn": "yarn.lock", "pnpm": "pnpm-lock.yaml", "bun": "bun.lock"}
CASES += [
    Case(f"{fmt}-{bad.stem}", _file(f"{fmt}/{name}", bad.read_bytes()))
    for fmt, name in _LOCK_NAMES.items()
    for bad in sorted((ASSETS / fmt).glob("bad-*"))
]

# hostile inputs from the fuzzing work (tests/property/test_fuzz_parsers.py)
_DEEP = "[" * 100_000 + "]" * 100_000
CASES += [
    Case("lock-deep-nesting", _file("package-lock.json", '{"packages": ' + _DEEP + "}")),
    Case(
        "bun-deep-nesting", _file("bun.lock", '{"lockfileVersion": 1, "packages": ' + _DEEP + "}")
    ),
    Case(
        "pnpm-deep-nesting", _file("pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages: " + _DEEP)
    ),
    Case("pnpm-invalid-utf8", _file("pnpm-lock.yaml", b"lockfileVersion: '9.0'\n\xff\xfe: x\n")),
    Case("pnpm-control-char", _file("pnpm-lock.yaml", b"\x01lockfileVersion: '9.0'\n")),
    Case("yarn-classic-invalid-utf8", _file("yarn.lock", b"# yarn lockfile v1\n\n\xc3(@1:\n")),
    Case(
        "yarn-berry-hostile-key",
        _file("yarn.lock", '__metadata:\n  version: 8\n\n"a\x1b[2J\\nb":\n  version: 1.0.0\n'),
    ),
    Case(
        "yarn-berry-cut-after-resolution",
        _file(
            "yarn.lock", '__metadata:\n  version: 8\n\n"x@npm:1":\n  version: 1.0.0\n  resolution: '
        ),
    ),
]

NEEDS_POSIX = {"npm-times-out", "npm-fails", "npm-prints-broken-json"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.parametrize("existing_output", [False, True], ids=["new-output", "old-output"])
def test_bad_input(
    case: Case,
    existing_output: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if case.id in NEEDS_POSIX and os.name != "posix":
        pytest.skip("the fake npm is a shell script")
    argv, named = case.setup(tmp_path, monkeypatch)
    output = tmp_path / "out" / "report.json"
    if "--output" not in argv:
        output.parent.mkdir()
        if existing_output:
            output.write_text("previous report\n")
        argv = [*argv, "--output", str(output), "--format", "json"]
    else:
        output = Path(argv[argv.index("--output") + 1])

    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert named in lines[0]
    assert lines[0].startswith("depaudit: error: ")
    assert "Traceback" not in captured.err
    if existing_output and output.parent.is_dir():
        assert output.read_text() == "previous report\n"
    else:
        assert not output.exists()
    leftovers = list(output.parent.glob(".*.tmp")) if output.parent.is_dir() else []
    assert leftovers == []


def test_catalogue_is_big_enough() -> None:
    assert len(CASES) >= 15
