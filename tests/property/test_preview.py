"""The lockfile's preview (``sources.preview``) names exactly the packages its tree has.

The registry's fetch begins on the preview before the tree is read (``app.scan``), so a name
in the preview and not in the tree would be a request the scan never needed, and possibly a
name sent where it was not meant to go. Held here against the reader itself: every real npm
lockfile with a ``packages`` map in the corpus, and generated ``packages`` maps with the
shapes that reader skips (links, folders, aliases, versions that are not versions, names
that are not names, nested placements).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depaudit.audit import package_refs
from depaudit.errors import InputError
from depaudit.sources.package_lock import PackageLockSource, read_lock
from depaudit.sources.preview import _NoPreview, placed_refs

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "real"


def tree_refs(path: Path, data: dict[str, Any]) -> list[tuple[str, str, bool]]:
    tree = read_lock(path, data)
    return [(r.name, r.version, r.dev) for r in package_refs(tree)]


FLAT = sorted(
    lock
    for folder in CORPUS.iterdir()
    for lock in folder.glob("*.json")
    if lock.name in ("package-lock.json", "npm-shrinkwrap.json")
    and json.loads(lock.read_text()).get("lockfileVersion") in (2, 3)
)


def test_the_corpus_has_flat_lockfiles() -> None:
    assert len(FLAT) >= 5  # (v2, v3 and their workspaces: the tests below are not empty)


@pytest.mark.parametrize("lock", FLAT, ids=lambda p: p.parent.name)
def test_every_real_lockfile_previews_its_tree(lock: Path) -> None:
    data = json.loads(lock.read_text())
    expected = [(r.name, r.version, r.dev) for r in package_refs(PackageLockSource().load(lock))]
    assert placed_refs(data["packages"]) == expected
    assert expected  # (a lockfile with packages)


NAMES = st.sampled_from(
    ["a", "b", "@s/c", "@s/d", "E", "..", ".", "x y", "@s", "a/b/c", "node_modules", "-x"]
)
VERSIONS = st.one_of(
    st.none(),
    st.sampled_from(["1.0.0", "2.1.3-rc.1", "0.0.0", "1.0", "^1.0.0", "file:../x", "1.0.0/x"]),
)


@st.composite
def entries(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A ``packages`` key and entry: a placement (maybe nested, maybe an alias), a link, or
    a folder."""
    kind = draw(st.sampled_from(["placed", "placed", "placed", "nested", "link", "folder"]))
    name = draw(NAMES)
    entry: dict[str, Any] = {}
    version = draw(VERSIONS)
    if version is not None:
        entry["version"] = version
    if draw(st.booleans()):
        entry["dev"] = True
    if draw(st.integers(0, 4)) == 0:
        entry["name"] = draw(NAMES)  # an alias's real name, or a folder's
    if kind == "placed":
        key = f"node_modules/{name}"
    elif kind == "nested":
        key = f"node_modules/{draw(NAMES)}/node_modules/{name}"
    elif kind == "link":
        key = f"node_modules/{name}"
        entry = {"link": True, "resolved": f"packages/{name}"}
    else:
        key = f"packages/{name}"
    return key, entry


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(entries(), max_size=12))
def test_generated_maps_preview_their_tree(
    tmp_path: Path, pairs: list[tuple[str, dict[str, Any]]]
) -> None:
    packages: dict[str, Any] = {"": {"name": "root", "version": "1.0.0"}}
    packages.update(pairs)
    data = {"name": "root", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}
    path = tmp_path / "package-lock.json"
    try:
        expected = tree_refs(path, data)
    except InputError:
        return  # the reader refuses it: the scan says so, whatever the preview is
    try:
        assert placed_refs(packages) == expected
    except _NoPreview:  # pragma: no cover - only for maps the reader refuses
        raise AssertionError("no preview of a lockfile the reader accepts") from None


@pytest.mark.parametrize(
    "entry",
    [
        {"version": 1},
        {"version": "1.0.0", "name": ["a"]},
        {"version": "1.0.0", "dev": "yes"},
        {"version": "1.0.0", "link": 1},
    ],
)
def test_a_field_of_the_wrong_type_gives_no_preview(tmp_path: Path, entry: dict[str, Any]) -> None:
    """The reader refuses these (exit 2): the preview begins nothing for them."""
    packages = {"": {"name": "root"}, "node_modules/a": entry}
    data = {"lockfileVersion": 3, "packages": packages}
    with pytest.raises(InputError):
        read_lock(tmp_path / "package-lock.json", data)
    with pytest.raises(_NoPreview):
        placed_refs(packages)
