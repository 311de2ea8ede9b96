"""``sources._io.read_json_object``'s kept read: a lockfile previewed before its tree is read
(``sources.preview``) is parsed once, and only a read of the very same file takes it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from depaudit.errors import InputError
from depaudit.sources import _io
from depaudit.sources._io import read_json_object


@pytest.fixture(autouse=True)
def _nothing_kept() -> None:
    _io._kept.clear()


def _write(path: Path, data: dict[str, object]) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_a_kept_read_is_taken_once_by_the_next_read(tmp_path: Path) -> None:
    lock = _write(tmp_path / "package-lock.json", {"lockfileVersion": 3, "packages": {}})
    first = read_json_object(lock, what="package-lock.json", keep=True)
    assert read_json_object(lock, what="package-lock.json") is first  # (not parsed again)
    again = read_json_object(lock, what="package-lock.json")
    assert again == first and again is not first  # taken: the next read parses it


def test_a_changed_or_other_file_is_read_afresh(tmp_path: Path) -> None:
    lock = _write(tmp_path / "package-lock.json", {"lockfileVersion": 3})
    other = _write(tmp_path / "other.json", {"lockfileVersion": 3, "name": "other"})
    kept = read_json_object(lock, what="package-lock.json", keep=True)
    assert read_json_object(other, what="package-lock.json")["name"] == "other"
    _write(lock, {"lockfileVersion": 2, "name": "changed"})
    os.utime(lock, ns=(1, 1))  # (another modification time whatever the clock's grain)
    changed = read_json_object(lock, what="package-lock.json")
    assert changed == {"lockfileVersion": 2, "name": "changed"} and changed is not kept


def test_a_kept_read_is_not_taken_past_the_readers_budget(tmp_path: Path) -> None:
    lock = _write(tmp_path / "package-lock.json", {"packages": {"x": "y" * 200}})
    read_json_object(lock, what="package-lock.json", keep=True)
    with pytest.raises(InputError, match="input budget"):
        read_json_object(lock, what="package-lock.json", limit=100)
