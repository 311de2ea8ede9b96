"""sources/__init__.py: the one registry of lockfile formats, and what derives from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from depaudit.errors import InputError
from depaudit.sources import (
    LOCKFILE_NAMES,
    MANAGER_OF,
    NPM_LOCKFILES,
    SOURCES,
    detect,
    source_for,
)


def test_every_registered_reader_claims_its_file_name() -> None:
    for kind in SOURCES:
        reader = kind.source()
        assert kind.filename in type(reader).filenames, kind
        assert type(source_for(Path("x") / kind.filename)) is type(reader)


def test_the_tables_derive_from_the_registry() -> None:
    assert tuple(k.filename for k in SOURCES) == LOCKFILE_NAMES
    assert set(MANAGER_OF) == set(LOCKFILE_NAMES)
    assert NPM_LOCKFILES == ("npm-shrinkwrap.json", "package-lock.json")


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("old.lock", "YarnLockSource"),
        ("lock.yml", "PnpmLockSource"),
        ("saved.json", "PackageLockSource"),
    ],
)
def test_renamed_lockfiles_are_read_by_their_extension(name: str, reader: str) -> None:
    assert type(source_for(Path(name))).__name__ == reader


def test_detection_looks_for_every_registered_name(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no lockfile found") as caught:
        detect(tmp_path)
    for name in LOCKFILE_NAMES:
        assert name in str(caught.value)
    (tmp_path / "bun.lock").write_text("{}")
    assert detect(tmp_path).lockfile.name == "bun.lock"
