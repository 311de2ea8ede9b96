"""npm's version rules where Python's node-semver differs (its "micro versions" extension)."""

from __future__ import annotations

import pytest

from depaudit.ranges import npm_satisfies
from depaudit.tree import satisfies
from depaudit.versions import parse_version, version_or_none


@pytest.mark.parametrize("text", ["1.2.3.4", "1.2.3.4-beta", "v1.2.3.4", "0.0.0.1"])
def test_four_component_versions_are_not_npm_versions(text: str) -> None:
    # npm: semver.valid(text, {loose: true}) === null for each of these
    assert version_or_none(text) is None
    with pytest.raises(ValueError):
        parse_version(text)
    assert npm_satisfies(text, ">=1.0.0") is None
    assert satisfies(text, "^1.0.0") is None


@pytest.mark.parametrize(
    ("text", "normal"),
    [("v1.2.3", "1.2.3"), ("=1.2.3", "1.2.3"), (" 1.2.3", "1.2.3"), ("01.2.3", "1.2.3")],
)
def test_loose_versions_npm_accepts(text: str, normal: str) -> None:
    parsed = version_or_none(text)
    assert parsed is not None
    assert f"{parsed.major}.{parsed.minor}.{parsed.patch}" == normal
    assert satisfies(text, "^1.2.0") is True
