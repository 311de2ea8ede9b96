"""What yarn classic and berry share: descriptors and package.json resolutions."""

from __future__ import annotations

from pathlib import Path

import pytest

from depaudit.models import Dependency, DepType
from depaudit.sources._yarn_shared import descriptor_name, resolutions, types_from


@pytest.mark.parametrize(
    ("descriptor", "expected"),
    [
        ("ms@^2", ("ms", "^2", None)),
        ("@s/a@npm:^1", ("@s/a", "npm:^1", None)),
        ("old@npm:ms@2.1.3", ("ms", "2.1.3", "old")),
        ("@s/x@npm:@s/y@^1", ("@s/y", "^1", "@s/x")),
        ("ms@npm:ms@2", ("ms", "npm:ms@2", None)),  # the same name: no alias
        ("ms", ("ms", "", None)),
    ],
)
def test_descriptor_name(descriptor: str, expected: tuple[str, str, str | None]) -> None:
    assert descriptor_name(descriptor) == expected


def test_resolutions_come_from_the_package_json_beside_the_lock(tmp_path: Path) -> None:
    assert resolutions(tmp_path / "yarn.lock") == ((), [])
    (tmp_path / "package.json").write_text('{"resolutions": {"express/qs": "6.11.0"}}')
    rules, problems = resolutions(tmp_path / "yarn.lock")
    assert not problems and [(r.name, r.within) for r in rules] == [("qs", (("express", "*"),))]


def test_types_from_declared() -> None:
    assert types_from(None) == {}
    assert types_from((Dependency("a", "^1", DepType.DEV),)) == {"a": DepType.DEV}
