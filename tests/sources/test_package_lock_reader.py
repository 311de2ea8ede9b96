"""What both package-lock layouts read through (depaudit.sources.package_lock_reader)."""

from __future__ import annotations

from pathlib import Path

import pytest

from depaudit.errors import InputError
from depaudit.sources.package_lock_reader import LockReader, inside_project


def reader(tmp_path: Path) -> LockReader:
    return LockReader(tmp_path / "package-lock.json", {})


def test_a_wrong_type_is_one_error_naming_the_field(tmp_path: Path) -> None:
    lock = reader(tmp_path)
    assert lock.string({"version": "1"}, "version", "x") == "1"
    assert lock.string({}, "version", "x") is None
    assert lock.flag({"dev": True}, "dev", "x") and not lock.flag({}, "dev", "x")
    with pytest.raises(InputError, match=r"x\.version is a JSON number, not a string"):
        lock.string({"version": 1}, "version", "x")
    with pytest.raises(InputError, match=r"x\.dev is a JSON string, not true or false"):
        lock.flag({"dev": "yes"}, "dev", "x")
    with pytest.raises(InputError, match="packages is a JSON array, not an object") as info:
        lock.obj([], "packages")
    assert "package-lock.json" in str(info.value) and "regenerate" in str(info.value)


@pytest.mark.parametrize(
    ("key", "inside"),
    [
        ("packages/a", True),
        ("", False),
        ("../a", False),
        ("..", False),
        ("/abs", False),
        ("a/../b", False),
        ("a\\b", False),
        ("c:/x", False),
        ("a\x00", False),
    ],
)
def test_inside_project(key: str, inside: bool) -> None:
    assert inside_project(key) is inside


def test_declared_reads_package_json_only_inside_the_project(tmp_path: Path) -> None:
    project = tmp_path / "app"
    (project / "packages" / "a").mkdir(parents=True)
    (project / "package.json").write_text('{"dependencies": {"ms": "^2"}, "overrides": {}}')
    (project / "packages" / "a" / "package.json").write_text('{"devDependencies": {"x": "1"}}')
    (tmp_path / "package.json").write_text('{"dependencies": {"secret": "1"}}')
    lock = LockReader(project / "package-lock.json", {})
    present = {"node_modules/ms"}
    declared, manifest = lock.declared("", present, lambda loc: loc)
    assert declared is not None and [(d.name, d.target) for d in declared] == [
        ("ms", "node_modules/ms")
    ]
    assert manifest == str(project / "package.json") and lock.root_manifest is not None
    ws, _ = lock.declared("packages/a", present, lambda loc: loc)
    assert ws is not None and [(d.name, d.target) for d in ws] == [("x", None)]
    assert lock.declared("..", present, lambda loc: loc) == (None, None)
    assert lock.declared("missing", present, lambda loc: loc) == (None, None)
