"""yarn classic: real yarn 1 locks and the graph phases of depaudit.sources.yarn_classic."""

from __future__ import annotations

from pathlib import Path

import pytest

from depaudit.errors import InputError
from depaudit.sources.yarn_classic import _groups, _nodes
from depaudit.sources.yarn_lock import YarnLockSource

TESTS = Path(__file__).resolve().parent.parent
CORPUS = TESTS / "corpus"
PM = TESTS / "assets" / "projects-pm"


def test_alias_entry_is_the_real_package_installed_under_the_alias() -> None:
    lock = CORPUS / "fixtures/snyk/aliases/yarn-lock-v1-with-resolutions/yarn.lock"
    tree = YarnLockSource().load(lock)
    (pkg,) = tree.placements("dry-uninstall")
    assert pkg.alias == "ms" and pkg.path == ("debug", "ms")
    assert not tree.placements("ms")


def test_classic_paths_flags_and_workspaces_from_real_yarn1_output() -> None:
    tree = YarnLockSource().load(PM / "yarn1" / "yarn.lock")
    root, workspace = tree.importers
    assert root.is_root and root.name == "pm-demo" and workspace.location == "packages/a"
    (semver,) = tree.placements("semver")
    assert semver.dev and semver.direct and semver.path == ("semver",)
    (is_number,) = tree.placements("is-number")
    assert is_number.optional and not is_number.dev
    (sw,) = tree.placements("string-width")
    assert sw.alias == "string-width-cjs" and sw.path == ("string-width-cjs",)
    debug3 = tree.placements("debug", "3.2.7")[0]
    assert debug3.path == ("a", "debug") and debug3.workspace == "a"
    (ansi,) = tree.placements("ansi-regex")
    assert ansi.path == ("string-width-cjs", "strip-ansi", "ansi-regex")
    assert not ansi.dev and not ansi.direct


def test_classic_declared_but_not_locked_is_left_out_of_locked_edges(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(
        '{"name": "x", "dependencies": {"left-pad": "^1.3.0", "wrappy": "^1.0.2"}}'
    )
    (tmp_path / "yarn.lock").write_text('# yarn lockfile v1\n\nwrappy@^1.0.2:\n  version "1.0.2"\n')
    (root,) = YarnLockSource().load(tmp_path / "yarn.lock").importers
    assert [d.name for d in root.dependencies] == ["wrappy"]
    assert root.declared is not None and [d.name for d in root.declared] == ["left-pad", "wrappy"]


def test_descriptors_of_one_entry_share_one_node() -> None:
    entry = {"version": "2.1.3"}
    other = {"version": "1.0.0"}
    groups = _groups(Path("yarn.lock"), {"ms@^2": entry, "ms@2.1.3": entry, "x@npm:ms@1": other})
    assert [d for _, d in groups] == [["ms@^2", "ms@2.1.3"], ["x@npm:ms@1"]]
    nodes, by_descriptor, located = _nodes(Path("yarn.lock"), groups)
    assert by_descriptor == {"ms@^2": "ms@2.1.3", "ms@2.1.3": "ms@2.1.3", "x@npm:ms@1": "ms@1.0.0"}
    assert nodes["ms@2.1.3"].alias is None and nodes["ms@1.0.0"].alias == "x"
    assert [loc for loc, _ in located] == ["ms@2.1.3", "ms@1.0.0"]


def test_entry_without_fields_or_version_is_one_input_error() -> None:
    with pytest.raises(InputError, match="has no fields"):
        _groups(Path("yarn.lock"), {"a@^1": "1.0.0"})
    with pytest.raises(InputError, match="has no version"):
        _nodes(Path("yarn.lock"), [({"resolved": "x"}, ["a@^1"])])
