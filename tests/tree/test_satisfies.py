"""tree.satisfies: which specs are ranges npm checks, and whether a version satisfies one."""

from __future__ import annotations

import pytest

from depaudit.tree.satisfies import MAX_RANGE_LENGTH, range_of, satisfies


@pytest.mark.parametrize(
    ("version", "spec", "expected"),
    [
        ("2.1.3", "^2.0.0", True),
        ("5.0.0", "^7.0.0", False),
        ("15.7.0", "^16.8.0 || ^17.0.0 || ^18.0.0", False),
        ("18.3.1", "^16.8.0 || ^17.0.0 || ^18.0.0", True),
        ("1.0.0-beta.1", "*", True),  # arborist: '*' takes anything
        ("1.0.0-beta.1", "^1.0.0", False),
        ("2.0.0", "npm:real-pkg@^2.0.0", True),
        ("3.0.0", "npm:@scope/real@^2.0.0", False),
        ("3.0.0", "npm:real-pkg", True),
        ("1.0.0", "latest", None),  # a dist-tag is not a range
        ("1.0.0", "file:../x", None),
        ("1.0.0", "link:../x", None),
        ("1.0.0", "git+https://example.invalid/x.git#v1", None),
        ("1.0.0", "github:user/repo", None),
        ("1.0.0", "user/repo", None),
        ("1.0.0", "https://example.invalid/x.tgz", None),
        ("1.0.0", "workspace:*", None),
        ("1.0.0", "", None),
        ("1.2.3", "1.2", True),
        ("1.2.3", ">= 1.2.0 < 2", True),
    ],
)
def test_satisfies_with_npm_semantics(version: str, spec: str, expected: bool | None) -> None:
    assert satisfies(version, spec) is expected


def test_range_of_alias() -> None:
    assert range_of("npm:@babel/code-frame@^7.0.0") == "^7.0.0"


def test_over_long_specs_are_not_checked() -> None:
    spec = "^1.0.0 || " * (MAX_RANGE_LENGTH // 10) + "^1.0.0"
    assert len(spec) > MAX_RANGE_LENGTH
    assert range_of(spec) is None and satisfies("1.0.0", spec) is None
    assert satisfies("1.0.0", "^1.0.0 || ^2.0.0") is True
