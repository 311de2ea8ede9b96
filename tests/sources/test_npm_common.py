"""depaudit.sources.npm_common: node's resolution over lock locations and the fast Package
copy, checked against their plain definitions."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depaudit.models import Dependency, Package
from depaudit.sources.npm_common import fill, resolve_location, search_dirs

_SEGMENTS = st.sampled_from(["node_modules", "a", "@s/b", "packages", "node_modules_x", "c"])
_LOCATIONS = st.lists(_SEGMENTS, max_size=6).map("/".join)


def _reference(name: str, start: str, present: set[str]) -> str | None:
    for d in search_dirs(start):
        candidate = f"{d}/node_modules/{name}" if d else f"node_modules/{name}"
        if candidate in present:
            return candidate
    return None


@given(_LOCATIONS, st.lists(_LOCATIONS, max_size=12))
def test_resolve_location_is_the_search_over_search_dirs(start: str, holders: list[str]) -> None:
    present = {f"{h}/node_modules/q" if h else "node_modules/q" for h in holders}
    assert resolve_location("q", start, present) == _reference("q", start, present)


def test_resolve_location_prefers_the_nearest_and_skips_node_modules_folders() -> None:
    present = {"node_modules/q", "node_modules/a/node_modules/q"}
    assert resolve_location("q", "node_modules/a", present) == "node_modules/a/node_modules/q"
    assert resolve_location("q", "node_modules/b", present) == "node_modules/q"
    assert resolve_location("q", "", set()) is None


def test_fill_sets_fields_in_place_as_replace_would() -> None:
    def made() -> Package:
        return Package(
            "a", "1.0.0", "node_modules/a", resolved="r", dependencies=(Dependency("b", "^1"),)
        )

    changes = {"path": ("a",), "direct": True, "wanted": "^1.0.0", "workspace": None}
    pkg = made()
    filled = fill(pkg, changes)
    assert filled is pkg  # no copy: the reader's own, fresh package
    assert filled == replace(made(), **changes)
    assert filled.resolved == "r" and filled.dependencies == (Dependency("b", "^1"),)
    assert fill(made(), {}) == made()
    with pytest.raises(TypeError, match="nope"):
        fill(made(), {"nope": 1})
