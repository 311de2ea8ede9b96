"""yarn berry: real berry locks (workspaces, patches, links, catalogs), and the phases of
depaudit.sources.yarn_berry on their own (metadata, the descriptor index, resolving)."""

from __future__ import annotations

from pathlib import Path

import pytest

from depaudit.errors import InputError
from depaudit.models import DepType, ProblemKind
from depaudit.overrides import parse_yarn_resolutions
from depaudit.sources.yarn_berry import _Entries, _metadata_version, _Resolver, berry_edges
from depaudit.sources.yarn_lock import YarnLockSource
from depaudit.tree import find_problems

TESTS = Path(__file__).resolve().parent.parent
CORPUS = TESTS / "corpus"
PM = TESTS / "assets" / "projects-pm"


def test_berry_workspaces_patch_and_links() -> None:
    tree = YarnLockSource().load(CORPUS / "real/yarn-berry-babel-workspaces/yarn.lock")
    assert tree.source.kind == "yarn-berry" and tree.source.lockfile_version == "10"
    assert len(tree.importers) == 163
    assert {s.reason.split(":")[0] for s in tree.skipped} == {"link"}
    # an edge to a workspace resolves to the workspace's location, not to nothing
    core = next(i for i in tree.importers if i.name == "@babel/core")
    edge = next(d for d in core.dependencies if d.name == "@babel/helpers")
    assert edge.spec.startswith("workspace:") and edge.target == "packages/babel-helpers"


def test_berry_catalog_without_yarnrc_is_unknown_not_missing(tmp_path: Path) -> None:
    # babel's lock uses `catalog:` ranges kept in .yarnrc.yml, which the corpus does not have;
    # names locked at several versions cannot be matched, and that is no evidence of absence
    tree = YarnLockSource().load(CORPUS / "real/yarn-berry-babel-workspaces/yarn.lock")
    unknown = [
        d for i in tree.importers for d in i.dependencies if d.unresolved and d.target is None
    ]
    assert {d.name for d in unknown} >= {"typescript", "terser"}
    assert all(d.spec.startswith("catalog:") for d in unknown)
    assert any("catalog: dependencies could not be matched" in w for w in tree.warnings)
    kinds = {p.kind for p in find_problems(tree)}
    assert ProblemKind.MISSING not in kinds
    # a catalog name locked nowhere at all is still missing
    lock = tmp_path / "yarn.lock"
    lock.write_text(
        '__metadata:\n  version: 8\n\n"app@workspace:.":\n  version: 0.0.0-use.local\n'
        '  resolution: "app@workspace:."\n  dependencies:\n    left-pad: "catalog:"\n'
        "  languageName: unknown\n  linkType: soft\n"
    )
    (tmp_path / "package.json").write_text(
        '{"name": "app", "dependencies": {"left-pad": "catalog:"}}'
    )
    missing = [
        p for p in find_problems(YarnLockSource().load(lock)) if p.kind is ProblemKind.MISSING
    ]
    assert [p.name for p in missing] == ["left-pad"]


def test_berry_patch_resolves_to_the_patched_packages_version() -> None:
    lock = CORPUS / "fixtures/snyk/yarn-lock-v2/hand-rolled/patch-protocol/yarn.lock"
    tree = YarnLockSource().load(lock)
    (lodash,) = tree.packages
    assert (lodash.name, lodash.version) == ("lodash", "4.17.21")
    assert lodash.location.startswith("lodash@patch:") and lodash.direct


def test_berry_compat_patch_is_the_placement_that_is_reached() -> None:
    tree = YarnLockSource().load(CORPUS / "real/yarn-berry-prettier/yarn.lock")
    reached = [p for p in tree.placements("fsevents") if p.path]
    assert [p.location.split("@", 1)[1][:6] for p in reached] == ["patch:"]
    assert reached[0].optional


def test_berry_dev_flags_come_from_package_json(tmp_path: Path) -> None:
    tree = YarnLockSource().load(PM / "yarn4" / "yarn.lock")
    (semver,) = tree.placements("semver")
    assert semver.dev and semver.direct
    root = tree.importers[0]
    assert {d.name: d.type for d in root.dependencies}["semver"] is DepType.DEV
    assert root.declared is not None and root.manifest_path == "package.json"


@pytest.mark.parametrize("version", [True, "11", "0", 4])
def test_unsupported_metadata_version_is_refused(version: object) -> None:
    with pytest.raises(InputError, match="is not supported"):
        _metadata_version(Path("yarn.lock"), {"__metadata": {"version": version}})


def test_metadata_without_version_is_read() -> None:
    assert _metadata_version(Path("yarn.lock"), {"__metadata": {}}) is None
    assert _metadata_version(Path("yarn.lock"), {"__metadata": {"version": "8"}}) == "8"


def _entries(data: dict[str, object]) -> _Entries:
    lock = _Entries(Path("yarn.lock"))
    lock.read(data)
    return lock


def test_entries_index_every_descriptor_and_tell_aliases_apart() -> None:
    lock = _entries(
        {
            "__metadata": {"version": "8"},
            "ms@npm:^2, ms@npm:2.1.3": {"version": "2.1.3", "resolution": "ms@npm:2.1.3"},
            "old@npm:ms@2.1.3": {"version": "2.1.3", "resolution": "ms@npm:2.1.3"},
            "only@npm:left-pad@^1": {"version": "1.3.0", "resolution": "left-pad@npm:1.3.0"},
            "app@workspace:.": {"version": "0.0.0", "resolution": "app@workspace:."},
            "lib@link:../lib::locator=app%40workspace%3A.": {
                "version": "0.0.0",
                "resolution": "lib@link:../lib::locator=app%40workspace%3A.",
            },
        }
    )
    assert lock.by_descriptor["ms@npm:^2"] == lock.by_descriptor["ms@npm:2.1.3"] == "ms@npm:2.1.3"
    # named directly once: not an alias, whatever order the keys come in
    assert lock.nodes["ms@npm:2.1.3"].alias is None
    assert lock.nodes["left-pad@npm:1.3.0"].alias == "only"
    assert lock.by_descriptor["app@workspace:."] == "." and "" in lock.workspaces
    # a descriptor with `::` is also found without its locator
    assert lock.by_descriptor["lib@link:../lib"].startswith("lib@link:")
    assert [s.reason.split(":")[0] for s in lock.skipped] == ["link"]
    assert [loc for loc, _ in lock.entries] == [
        "ms@npm:2.1.3",
        "ms@npm:2.1.3",
        "left-pad@npm:1.3.0",
    ]


def test_entry_without_resolution_or_version_is_one_input_error() -> None:
    with pytest.raises(InputError, match="has no resolution"):
        _entries({"a@npm:^1": {"resolution": ""}})
    with pytest.raises(InputError, match="has no version"):
        _entries({"a@npm:^1": {"resolution": "a@npm:1.0.0"}})
    with pytest.raises(InputError, match="is not a mapping"):
        _entries({"a@npm:^1": "a@npm:1.0.0"})


def test_resolver_applies_resolutions_and_scoped_ones_per_parent() -> None:
    lock = _entries(
        {
            "qs@npm:6.7.0": {"version": "6.7.0", "resolution": "qs@npm:6.7.0"},
            "qs@npm:6.11.0": {"version": "6.11.0", "resolution": "qs@npm:6.11.0"},
            "express@npm:4.0.0": {"version": "4.0.0", "resolution": "express@npm:4.0.0"},
        }
    )
    rules, problems = parse_yarn_resolutions({"resolutions": {"express/qs": "6.11.0"}})
    assert not problems
    resolver = _Resolver(Path("/nonexistent/yarn.lock"), lock, rules)
    assert resolver.lookup("qs", "6.7.0") == "qs@npm:6.7.0"
    assert resolver.lookup("qs", "^9") is None
    under_express = resolver.lookup_from(lock.nodes["express@npm:4.0.0"])
    assert under_express("qs", "6.7.0") == "qs@npm:6.11.0"


def test_berry_edges_take_optional_from_meta_and_types_from_package_json() -> None:
    entry = {
        "dependencies": {"a": "npm:^1", "b": "npm:^1"},
        "optionalDependencies": {"c": "npm:^1"},
        "dependenciesMeta": {"a": {"optional": "true"}},
    }
    edges = berry_edges(Path("yarn.lock"), "x", entry, lambda d, s: None, {"b": DepType.DEV})
    assert [(e.name, e.type) for e in edges] == [
        ("a", DepType.OPTIONAL),
        ("b", DepType.DEV),
        ("c", DepType.OPTIONAL),
    ]
