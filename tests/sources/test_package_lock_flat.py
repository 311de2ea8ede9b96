"""package-lock v2/v3: the flat ``packages`` map (depaudit.sources.package_lock_flat), on real
and hand-written locks and phase by phase."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ASSETS, REPO
from depaudit.models import Dependency, DependencyTree, DepType
from depaudit.sources.package_lock import PackageLockSource
from depaudit.sources.package_lock_flat import _placement, _sort_keys, normalize_target, read_flat
from depaudit.sources.package_lock_reader import LockReader

CORPUS = REPO / "tests" / "corpus"
LOCKS = ASSETS / "package_lock"
DEMO = LOCKS / "demo"


def load(path: Path) -> DependencyTree:
    return PackageLockSource().load(path)


def keys(tree: DependencyTree) -> set[str]:
    return {p.key for p in tree.packages}


def reader(tmp_path: Path) -> LockReader:
    return LockReader(tmp_path / "package-lock.json", {})


def test_file_folder_dependency_is_an_importer_not_a_package() -> None:
    """`deps/etag` is a `file:` folder (outside node_modules): arborist's inventory counts
    it as etag@1.8.0, but it is the project's own code, not something installed from a
    registry, so depaudit makes it an Importer; its nested node_modules are packages."""
    lock = CORPUS / "fixtures/osv-scanner/npm/files.v2.json"
    expected = json.loads(lock.with_name("files.v2.expected.json").read_text())
    tree = load(lock)
    assert keys(tree) == set(expected["lock_inventory_packages"]) - {"etag@1.8.0"}
    etag = next(i for i in tree.importers if i.location == "deps/etag")
    assert (etag.name, etag.version) == ("etag", "1.8.0")
    assert {d.name for d in etag.dependencies} >= {"mocha", "eslint"}  # its devDependencies
    nested = tree.at("deps/etag/node_modules/abbrev")
    assert nested is not None and nested.version == "2.3.4"


def test_stale_workspace_folder_is_an_importer() -> None:
    """socket.io's lock keeps `packages/socket.io-clustered-engine` (folder gone, no link to
    it). arborist's inventory counts it as a package, `npm ls` does not: depaudit agrees
    with npm ls, holding it as an Importer without a package.json to compare with."""
    lock = CORPUS / "real/npm-lock-v3-socket.io-workspaces/package-lock.json"
    expected = json.loads(lock.with_name("package-lock.expected.json").read_text())
    assert expected["lock_inventory_only"] == ["@socket.io/clustered-engine@0.0.1"]
    tree = load(lock)
    assert keys(tree) == set(expected["packages"])
    stale = next(i for i in tree.importers if i.location == "packages/socket.io-clustered-engine")
    assert stale.name == "@socket.io/clustered-engine"
    assert stale.declared is None and stale.manifest_path is None


def test_skipped_git_file_link_v3() -> None:
    tree = load(LOCKS / "skipped-git-file.v3.json")
    skipped = {s.name: s for s in tree.skipped}
    assert set(skipped) == {"gitdep", "outside", "nowhere"}
    assert "git" in skipped["gitdep"].reason and skipped["gitdep"].spec.startswith("git+ssh://")
    assert skipped["outside"].reason == "link to a folder outside the project"
    assert skipped["outside"].spec == "file:../outside"
    assert "does not hold" in skipped["nowhere"].reason
    # git with a version, and a local tarball with a version, are packages (npm lists them)
    gitver = tree.at("node_modules/gitver")
    assert gitver is not None and gitver.version == "2.0.0"
    assert gitver.resolved is not None and gitver.resolved.startswith("git+ssh://")
    assert keys(tree) == {"gitver@2.0.0", "tarball@1.0.0"}
    # the root's edges to skipped entries point at their locations
    root = {d.name: d.target for d in tree.importers[0].dependencies}
    assert root["gitdep"] == "node_modules/gitdep" and root["outside"] == "node_modules/outside"
    assert {s.location for s in tree.skipped} >= {"node_modules/gitdep", "node_modules/outside"}


def test_link_to_a_placement_resolves_to_that_placement() -> None:
    """A link whose target is another placement (not a folder) is followed: edges land on
    the placement, and the link itself is neither a package nor skipped."""
    tree = load(LOCKS / "link-to-placement.v3.json")
    assert keys(tree) == {"@scoped/shared@1.2.0", "user@1.0.0"}
    assert tree.skipped == ()
    user = tree.at("node_modules/user")
    assert user is not None
    assert user.dependencies == (
        Dependency("shared", "^1.0.0", DepType.PROD, "node_modules/@scoped/shared"),
    )
    shared = tree.at("node_modules/@scoped/shared")
    assert shared is not None and shared.direct and shared.path == ("@scoped/shared",)


@pytest.mark.parametrize(
    ("resolved", "target"),
    [("packages/a", "packages/a"), ("file:./packages/a/", "packages/a"), (".", ""), ("", "")],
)
def test_normalize_target(resolved: str, target: str) -> None:
    assert normalize_target(resolved) == target


def test_keys_are_sorted_into_root_links_placements_and_folders(tmp_path: Path) -> None:
    keys_ = _sort_keys(
        reader(tmp_path),
        {
            "": {"name": "app"},
            "node_modules/a": {"link": True, "resolved": "packages/a"},
            "node_modules/ms": {"version": "2.1.3"},
            "packages/a": {"name": "a"},
        },
    )
    assert keys_.root == {"name": "app"}
    assert keys_.links == {"node_modules/a": "packages/a"}
    assert list(keys_.placed) == ["node_modules/ms"]
    assert list(keys_.folders) == ["packages/a"]


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({}, "lock entry has no version"),
        ({"resolved": "git+ssh://git@example.invalid/a.git"}, "(git dependency)"),
        ({"version": "latest"}, "is not a semver version"),
    ],
)
def test_placement_without_a_version_is_skipped_with_the_reason(
    tmp_path: Path, entry: dict[str, object], reason: str
) -> None:
    lock = reader(tmp_path)
    assert _placement(lock, "node_modules/a", entry) is None
    (skipped,) = lock.skipped
    assert reason in skipped.reason and skipped.location == "node_modules/a"


def test_dev_optional_placement_is_optional_not_dev(tmp_path: Path) -> None:
    placed = _placement(
        reader(tmp_path), "node_modules/a", {"version": "1.0.0", "devOptional": True}
    )
    assert placed is not None
    assert not placed[0].dev and placed[0].optional


def test_outside_folders_and_dangling_links_are_skipped(tmp_path: Path) -> None:
    lock = reader(tmp_path)
    importers, pkgs = read_flat(
        lock,
        {
            "": {"dependencies": {"a": "*", "gone": "*"}},
            "../elsewhere": {"name": "elsewhere"},
            "node_modules/a": {"link": True, "resolved": "packages/a"},
            "node_modules/gone": {"link": True, "resolved": "packages/gone"},
            "packages/a": {"name": "a", "version": "1.0.0"},
        },
    )
    assert [(i.name, i.location) for i in importers] == [(tmp_path.name, ""), ("a", "packages/a")]
    assert {s.name: s.reason for s in lock.skipped} == {
        "elsewhere": "folder entry outside the project",
        "gone": "link to a folder the lockfile does not hold",
    }
    assert importers[0].dependencies == (
        Dependency("a", "*", DepType.PROD, "packages/a"),
        Dependency("gone", "*", DepType.PROD, "node_modules/gone"),
    )
    assert pkgs == {}
